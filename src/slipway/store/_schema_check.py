"""Create a new database at the current schema; refuse one at another revision."""

from __future__ import annotations

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, inspect, select, text

from slipway.errors import SchemaOutdated
from slipway.store.schema import metadata

# Alembic revisions in order; the last is the schema this code expects.
# A test checks this matches the scripts in migrations/versions/.
REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")

version_table = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), primary_key=True),
)


def head() -> str:
    return REVISIONS[-1]


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(select(version_table.c.version_num)).scalar()


def ensure_schema(engine: Engine, *, create: bool = True) -> None:
    """Create an empty database at head, or raise `SchemaOutdated` if it is not at head."""
    with engine.connect() as conn:
        revision = current_revision(conn)
    if revision is None:
        if not create:
            raise SchemaOutdated(
                "the metadata database is empty; run `slipway init` or `slipway db upgrade`"
            )
        _create_at_head(engine)
        return
    check_revision(revision)


def check_revision(revision: str | None) -> None:
    if revision == head():
        return
    if revision in REVISIONS:
        raise SchemaOutdated(
            f"the metadata database schema is at revision {revision}, this Slipway needs "
            f"{head()}; back it up, then run `slipway db upgrade`"
        )
    raise SchemaOutdated(
        f"the metadata database schema is at revision {revision!r}, unknown to this Slipway "
        f"(which knows up to {head()}); it was probably written by a newer Slipway: upgrade Slipway"
    )


def _create_at_head(engine: Engine) -> None:
    # Two processes may open the same new database at once: serialize creation on a lock
    # and re-check inside it. Both backends run DDL inside the transaction.
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7215036)"))
        revision = current_revision(conn)
        if revision is not None:
            check_revision(revision)
            return
        if inspect(conn).has_table("projects"):
            raise SchemaOutdated(
                "the metadata database has Slipway tables but no schema revision; "
                "it was not created by Slipway or was damaged: restore a backup"
            )
        metadata.create_all(conn)
        version_table.create(conn)
        conn.execute(version_table.insert().values(version_num=head()))
