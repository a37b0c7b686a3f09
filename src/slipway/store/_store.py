"""The metadata store: an engine, its schema check, and read/write transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from slipway.config import mask_url
from slipway.errors import Unavailable
from slipway.store._engine import make_engine
from slipway.store._schema_check import current_revision, ensure_schema
from slipway.store.audit import take_pending, write_pending


class MetadataStore:
    """Holds one engine. Repositories (`slipway.store.projects`, ...) work on its connections."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> MetadataStore:
        """Connect, create a new database at the current schema, refuse an outdated one."""
        engine = make_engine(url)
        store = cls(engine, url)
        try:
            ensure_schema(engine, create=create)
        except (OperationalError, DBAPIError) as exc:
            engine.dispose()
            raise Unavailable(
                f"cannot reach the metadata database {mask_url(url)}: {_reason(exc)}"
            ) from None
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits on success; SQLite takes its write lock up front."""
        event = take_pending()
        connection = self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        with connection as conn, conn.begin():
            yield conn
            if event is not None:
                # The operation's audit event commits (or rolls back) with its change.
                write_pending(conn, event)
        if event is not None:
            event.written = True

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return current_revision(conn)

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (OperationalError, DBAPIError) as exc:
            raise Unavailable(
                f"cannot reach the metadata database {mask_url(self.url)}: {_reason(exc)}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()


def revision_of(url: str) -> str | None:
    """The schema revision of the database at `url` (None if empty); Unavailable if down."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    except (OperationalError, DBAPIError) as exc:
        raise Unavailable(
            f"cannot reach the metadata database {mask_url(url)}: {_reason(exc)}"
        ) from None
    finally:
        engine.dispose()


def _reason(exc: DBAPIError) -> str:
    # The driver's first line says what failed (refused, unknown host, no such database).
    message = str(exc.orig) if exc.orig is not None else str(exc)
    return message.strip().splitlines()[0] if message.strip() else type(exc).__name__
