"""The metadata store contract, run against SQLite and PostgreSQL with the same functions."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from slipway.errors import AlreadyExists, ConfigError, SchemaOutdated, Unavailable
from slipway.store import REVISIONS, MetadataStore, ProjectEntity, head
from slipway.store import _schema_check as schema_check
from slipway.store import projects as project_rows
from slipway.store import runs as run_rows
from slipway.store._engine import make_engine
from slipway.store.migrate import upgrade
from slipway.store.run_search import compile_search
from slipway.store.schema import (
    SQLITE_ONLY_INDEXES,
    USER_TAGS_ONLY,
    metadata,
    params,
    runs,
    tags,
)

TABLES = {
    "projects",
    "runs",
    "params",
    "metrics",
    "latest_metrics",
    "tags",
    "artifacts",
    "datasets",
    "dataset_versions",
    "lineage_edges",
    "registered_models",
    "model_versions",
    "model_version_datasets",
    "model_aliases",
    "model_alias_history",
    "model_approvals",
    "model_promotions",
    "audit_events",
    "alembic_version",
}


def project(name: str) -> ProjectEntity:
    return ProjectEntity(uuid.uuid4().hex, name, "", "tester", 1_000, 1_000)


def test_new_database_is_created_at_the_current_schema(metadata_url: str) -> None:
    store = MetadataStore.open(metadata_url)
    try:
        assert store.revision() == head()
        with store.read() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
    finally:
        store.close()


def test_reopening_keeps_data(metadata_url: str) -> None:
    store = MetadataStore.open(metadata_url)
    with store.write() as conn:
        project_rows.insert_project(conn, project("kept"))
    store.close()
    store = MetadataStore.open(metadata_url)
    with store.read() as conn:
        assert project_rows.get_project(conn, "kept") is not None
    store.close()


def test_concurrent_first_opens_create_the_schema_once(metadata_url: str) -> None:
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            MetadataStore.open(metadata_url).close()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = MetadataStore.open(metadata_url)
    with store.read() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    store.close()
    assert [v[0] for v in versions] == [head()]


def test_migrations_build_exactly_the_declared_schema(metadata_url: str) -> None:
    """`slipway db upgrade` on an empty database yields what create-on-first-use yields."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    before, after = upgrade(metadata_url)
    assert (before, after) == (None, head())
    store = MetadataStore.open(metadata_url, create=False)
    with store.read() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _declared})
        diff = compare_metadata(context, metadata)
    store.close()
    assert diff == []


@pytest.mark.parametrize("made_by", ["migrations", "first use"])
def test_sqlite_gets_its_search_layout_either_way(sqlite_url: str, made_by: str) -> None:
    """The search indexes and the tables clustered by run exist after upgrade and first use."""
    if made_by == "migrations":
        upgrade(sqlite_url)
    store = MetadataStore.open(sqlite_url)
    with store.read() as conn:
        found = {
            ix["name"] for table in ("params", "tags") for ix in inspect(conn).get_indexes(table)
        }
        ddl = dict(conn.execute(text("SELECT name, sql FROM sqlite_master")).all())
    store.close()
    assert set(SQLITE_ONLY_INDEXES) <= found
    # The tags index leaves out the tags Slipway records itself, either way it was made.
    assert ddl["ix_tags_key_value_run_id"].endswith(f"WHERE {USER_TAGS_ONLY}")
    assert "WHERE" not in ddl["ix_params_key_value_run_id"]
    for table in ("params", "tags", "latest_metrics"):
        assert ddl[table].rstrip().endswith("WITHOUT ROWID"), ddl[table]


def _declared(name: str | None, type_: str, _parents: object) -> bool:
    """What compare_metadata checks: all but the indexes schema.py adds by DDL on SQLite."""
    return not (type_ == "index" and name in SQLITE_ONLY_INDEXES)


def test_revision_list_matches_the_migration_scripts() -> None:
    from alembic.script import ScriptDirectory

    from slipway.store.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    chain = [rev.revision for rev in reversed(list(scripts.walk_revisions()))]
    assert tuple(chain) == REVISIONS


def test_outdated_schema_is_refused_until_upgraded_keeping_data(metadata_url: str) -> None:
    """A database made by an older Slipway (revision 0001) is refused, then upgraded in place."""
    upgrade(metadata_url, target="0001")
    old = MetadataStore(make_engine(metadata_url), metadata_url)
    survivor = project("survivor")
    run_id = uuid.uuid4().hex
    with old.write() as conn:
        project_rows.insert_project(conn, survivor)
        conn.execute(
            insert(runs).values(
                id=run_id, project_id=survivor.id, name="r", status="finished",
                created_by="t", start_time=1,
            )
        )  # fmt: skip
        conn.execute(insert(params).values(run_id=run_id, key="lr", value="0.1"))
        conn.execute(insert(tags).values(run_id=run_id, key="team", value="risk"))
        conn.execute(  # a 0001 row: no is_nan column yet
            text(
                "INSERT INTO latest_metrics (run_id, key, value, step, timestamp) "
                "VALUES (:run_id, 'acc', 0.9, 3, 5)"
            ),
            {"run_id": run_id},
        )
    old.close()
    with pytest.raises(
        SchemaOutdated, match=r"at revision 0001, this Slipway needs .*slipway db upgrade"
    ):
        MetadataStore.open(metadata_url)
    assert upgrade(metadata_url) == ("0001", head())
    store = MetadataStore.open(metadata_url)
    with store.read() as conn:
        assert project_rows.get_project(conn, "survivor") is not None
        assert run_rows.key_values(conn, "params", [run_id]) == {run_id: {"lr": "0.1"}}
        assert run_rows.key_values(conn, "tags", [run_id]) == {run_id: {"team": "risk"}}
        assert run_rows.latest_values(conn, [run_id]) == {run_id: {"acc": 0.9}}
        query = compile_search("metrics.acc > 0.5 and params.lr = '0.1' and tags.team = 'risk'")
        assert [row.id for row in conn.execute(query.statement)] == [run_id]
    store.close()


def test_schema_from_a_newer_slipway_is_refused(metadata_url: str) -> None:
    store = MetadataStore.open(metadata_url)
    with store.write() as conn:
        conn.execute(update(schema_check.version_table).values(version_num="future1"))
    store.close()
    with pytest.raises(SchemaOutdated, match="newer Slipway"):
        MetadataStore.open(metadata_url)


def test_empty_database_without_create_says_what_to_run(metadata_url: str) -> None:
    with pytest.raises(SchemaOutdated, match="slipway db upgrade"):
        MetadataStore.open(metadata_url, create=False)


def test_duplicate_project_name_is_refused_and_changes_nothing(metadata_url: str) -> None:
    store = MetadataStore.open(metadata_url)
    first = project("churn")
    with store.write() as conn:
        project_rows.insert_project(conn, first)
    with pytest.raises(AlreadyExists, match="churn"), store.write() as conn:
        project_rows.insert_project(conn, project("churn"))
    with store.read() as conn:
        assert project_rows.get_project(conn, "churn") == first
        assert project_rows.count_projects(conn) == 1
    store.close()


def test_listing_pages_by_name(metadata_url: str) -> None:
    store = MetadataStore.open(metadata_url)
    names = [f"p{i:03d}" for i in range(25)]
    with store.write() as conn:
        for name in reversed(names):
            project_rows.insert_project(conn, project(name))
    seen: list[str] = []
    after = None
    with store.read() as conn:
        while page := project_rows.list_projects(conn, limit=10, after=after):
            seen += [p.name for p in page]
            after = page[-1].name
    store.close()
    assert seen == names


def test_failed_transaction_rolls_back(metadata_url: str) -> None:
    store = MetadataStore.open(metadata_url)
    with pytest.raises(RuntimeError), store.write() as conn:
        project_rows.insert_project(conn, project("ghost"))
        raise RuntimeError("crash mid-transaction")
    with store.read() as conn:
        assert project_rows.get_project(conn, "ghost") is None
    store.close()


def test_foreign_keys_are_enforced_and_cascade(metadata_url: str) -> None:
    store = MetadataStore.open(metadata_url)
    owner = project("owner")
    run = {
        "id": uuid.uuid4().hex,
        "project_id": owner.id,
        "name": "r",
        "status": "running",
        "created_by": "t",
        "start_time": 1,
    }
    with store.write() as conn:
        project_rows.insert_project(conn, owner)
        conn.execute(insert(runs).values(**run))
    with pytest.raises(DBIntegrityError, match=r"(?i)foreign key"), store.write() as conn:
        conn.execute(insert(runs).values(**{**run, "id": uuid.uuid4().hex, "project_id": "0" * 32}))
    with store.write() as conn:
        assert project_rows.project_usage(conn, owner.id) == {"runs": 1, "datasets": 0, "models": 0}
        project_rows.delete_project(conn, owner.id)
    with store.read() as conn:
        assert conn.execute(select(runs)).all() == []
    store.close()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    store = MetadataStore.open(sqlite_url)
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
    store.close()


def test_sqlite_gathers_statistics_for_its_planner_as_the_store_closes(sqlite_url: str) -> None:
    """SQLite plans from statistics only once ANALYZE has run: closing a store runs it on the
    tables the searches used (PRAGMA optimize), so the next process plans from real numbers."""
    store = MetadataStore.open(sqlite_url)
    owner = project("stats")
    run_ids = [uuid.uuid4().hex for _ in range(30)]
    with store.write() as conn:
        project_rows.insert_project(conn, owner)
        for number, run_id in enumerate(run_ids):
            conn.execute(
                insert(runs).values(
                    id=run_id, project_id=owner.id, name="r", status="finished",
                    created_by="t", start_time=number,
                )
            )  # fmt: skip
            conn.execute(insert(params).values(run_id=run_id, key="lr", value=str(number % 3)))
    with store.read() as conn:
        query = compile_search("params.lr = '1'", project_ids=[owner.id])
        assert len(conn.execute(query.statement).all()) == 10
        assert (
            conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).all()
            == []
        )
    store.close()
    store = MetadataStore.open(sqlite_url)
    with store.read() as conn:
        analyzed = {row[0] for row in conn.execute(text("SELECT tbl FROM sqlite_stat1"))}
    store.close()
    assert {"runs", "params"} <= analyzed


def test_unreachable_database_gives_one_clear_line() -> None:
    with pytest.raises(Unavailable) as info:
        MetadataStore.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    message = info.value.detail
    assert "cannot reach the metadata database" in message
    assert "secret" not in message and "***" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@127.0.0.1/x", "unknown metadata backend 'mysql'"),
        ("not a url", "is not a database URL"),
    ],
)
def test_bad_database_urls_are_config_errors(url: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        MetadataStore.open(url)
