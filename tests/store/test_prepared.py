"""Statements run on the driver's cursor behave as SQLAlchemy's: same errors, same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from slipway.store import MetadataStore
from slipway.store._prepared import Prepared
from slipway.store.schema import projects

INSERT = Prepared(
    insert(projects),
    ("id", "name", "description", "created_by", "created_at", "updated_at"),
)
BY_NAME = Prepared(select(projects.c.id).where(projects.c.name == bindparam("name")), ("name",))


def row(project_id: str, name: str) -> tuple[object, ...]:
    return (project_id, name, "", "tester", 1, 1)


def test_a_driver_error_is_sqlalchemys_and_rolls_the_transaction_back(metadata_url: str) -> None:
    store = MetadataStore.open(metadata_url)
    with store.write() as conn:
        INSERT.rows(conn, row("a" * 32, "first"))
    with pytest.raises(IntegrityError), store.write() as conn:
        INSERT.many(conn, [row("b" * 32, "second"), row("c" * 32, "first")])  # name is unique
    with store.read() as conn:
        assert BY_NAME.rows(conn, ("first",)) == [("a" * 32,)]
        assert BY_NAME.rows(conn, ("second",)) == []  # the batch's first row went too
    store.close()


def test_values_bind_by_name_whatever_order_the_sql_wants(metadata_url: str) -> None:
    reordered = Prepared(
        select(projects.c.name).where(
            projects.c.created_by == bindparam("who"), projects.c.id == bindparam("project_id")
        ),
        ("project_id", "who"),
    )
    store = MetadataStore.open(metadata_url)
    with store.write() as conn:
        INSERT.rows(conn, row("d" * 32, "mine"))
        assert reordered.rows(conn, ("d" * 32, "tester")) == [("mine",)]
        assert reordered.rows(conn, ("d" * 32, "someone else")) == []
    store.close()


def test_a_statement_with_a_bind_it_was_not_told_about_is_refused(sqlite_url: str) -> None:
    sneaky = Prepared(select(projects.c.id).where(projects.c.name == "literal"), ())
    store = MetadataStore.open(sqlite_url)
    with pytest.raises(TypeError, match="binds"), store.read() as conn:
        sneaky.rows(conn)
    store.close()
