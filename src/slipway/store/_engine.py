"""Engines for SQLite (WAL, busy timeout, foreign keys) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from slipway.config import mask_url
from slipway.errors import ConfigError

SQLITE_BUSY_TIMEOUT_S = 30
SQLITE_MMAP_BYTES = 1 << 30
# Rows ANALYZE reads per index: approximate statistics, in milliseconds on any size of
# database (SQLite's advice for PRAGMA optimize).
SQLITE_ANALYSIS_LIMIT = 400


def make_engine(url: str) -> Engine:
    """Create an engine for a metadata URL, or say clearly why it cannot be used."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"metadata.url {mask_url(url)!r} is not a database URL; "
            "use sqlite:///path/to.db or postgresql+psycopg://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed.database or ":memory:")
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=10,
                connect_args={"connect_timeout": 5},
            )
        except (NoSuchModuleError, ModuleNotFoundError):
            raise ConfigError(
                "PostgreSQL support is not installed: pip install 'slipway[postgres]'"
            ) from None
    raise ConfigError(
        f"unknown metadata backend {backend!r} in {mask_url(url)!r}; supported: sqlite, postgresql"
    )


def _sqlite_engine(database: str) -> Engine:
    if database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{database}",
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # LIKE is case-sensitive on PostgreSQL; make SQLite agree (ILIKE is the insensitive one).
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        # Reads through a memory map instead of a read() call per page: run search probes
        # indexes at random and took half as long on 10^5 runs this way. Address space only.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "close")
    def _on_close(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # SQLite's advice for connections that come and go: PRAGMA optimize as one closes
        # runs ANALYZE on the tables its queries used whose statistics are missing or
        # stale (the table grew 25-fold), so that its planner chooses from real numbers.
        try:
            dbapi_conn.execute("PRAGMA busy_timeout=100")  # never hold up a process's exit
            dbapi_conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass  # busy or read-only: a later connection does it

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: a deferred transaction that later upgrades to a
        # write lock fails with SQLITE_BUSY at once instead of waiting on busy_timeout.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch to WAL once per database. The switch needs an exclusive lock and SQLite does not
    wait on busy_timeout for it, so processes opening a new database together retry here."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
