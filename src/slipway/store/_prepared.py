"""Hot statements compiled once per dialect and run on the driver's cursor.

Creating and ending a run takes about ten small statements. Through `Connection.execute`,
SQLAlchemy's per-call work (cache key, execution context, result wrapping, events) cost more
than SQLite's own insert, so the statements on that path are built with SQLAlchemy (one SQL
text per dialect, every value bound) and then handed to the DBAPI cursor of the connection's
own transaction. Driver errors still come out as SQLAlchemy's exception types, and a lost
connection is invalidated as `Connection.execute` would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    order: tuple[int, ...] | None  # positional binds: index into `params` of each; None = same


class Prepared:
    """One statement with named `params`; values are passed as tuples in `params` order.

    `statement` is the statement, or a function building it for a dialect (upserts are
    dialect-specific). An INSERT binds exactly the columns named in `params`.
    """

    def __init__(
        self, statement: ClauseElement | Callable[[Dialect], ClauseElement], params: Sequence[str]
    ) -> None:
        self._statement = statement
        self.params = tuple(params)
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, values: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run it once; the rows it returns (none for a write)."""
        compiled = self._compile(conn.dialect)
        cursor = conn.connection.cursor()
        try:
            bound = self._bind(compiled, values)
            try:
                cursor.execute(compiled.sql, bound)
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _wrapped(conn, cursor, compiled.sql, bound, exc, many=False) from exc
            return list(cursor.fetchall()) if cursor.description is not None else []
        finally:
            cursor.close()

    def many(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Run it once per row of values (the driver's executemany)."""
        if not rows:
            return
        compiled = self._compile(conn.dialect)
        cursor = conn.connection.cursor()
        try:
            bound = [self._bind(compiled, row) for row in rows]
            try:
                cursor.executemany(compiled.sql, bound)
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _wrapped(conn, cursor, compiled.sql, bound, exc, many=True) from exc
        finally:
            cursor.close()

    def _bind(self, compiled: _Compiled, values: Sequence[Any]) -> Any:
        if len(values) != len(self.params):
            raise TypeError(f"{len(values)} values for params {self.params}")
        if not compiled.positional:
            return dict(zip(self.params, values, strict=True))
        if compiled.order is None:
            return tuple(values)
        return tuple(values[i] for i in compiled.order)

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._build(dialect)
        return found

    def _build(self, dialect: Dialect) -> _Compiled:
        statement = self._statement
        if not isinstance(statement, ClauseElement):
            statement = statement(dialect)
        keys = list(self.params) if isinstance(statement, Insert) else None
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=keys))
        names = list(compiled.binds)
        if unknown := set(names) - set(self.params):
            # A literal SQLAlchemy turned into a bind: it would go unbound here.
            raise TypeError(f"statement binds {sorted(unknown)}, not among {self.params}")
        positiontup = compiled.positiontup
        if positiontup is None:
            return _Compiled(compiled.string, positional=False, order=None)
        order = tuple(self.params.index(name) for name in positiontup)
        identity = order == tuple(range(len(self.params)))
        return _Compiled(compiled.string, positional=True, order=None if identity else order)


def _wrapped(
    conn: Connection, cursor: Any, sql: str, params: Any, exc: Exception, *, many: bool
) -> BaseException:
    """The driver's error as SQLAlchemy's type; a dropped connection is not reused."""
    invalidated = conn.dialect.is_disconnect(
        cast(Any, exc), conn.connection.dbapi_connection, cursor
    )
    if invalidated:
        conn.invalidate(exc)
    return DBAPIError.instance(
        sql,
        params,
        exc,
        conn.dialect.loaded_dbapi.Error,
        hide_parameters=True,  # values may be user data; the SQL says what failed
        connection_invalidated=invalidated,
        dialect=conn.dialect,
        ismulti=many,
    )


class Bound:
    """A SELECT compiled once together with the values it binds (a search: its filter's
    values, each still a bound parameter), run on the driver's cursor with the `given`
    values (a page's limit and offset) supplied per call.

    A search repeated for a dashboard or page after page skips SQLAlchemy's per-execute
    work (cache key, execution context, result rows), about 1 ms of a 10 ms search.
    """

    def __init__(self, statement: ClauseElement, dialect: Dialect, given: Sequence[str]) -> None:
        compiled = cast(
            SQLCompiler,
            statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True}),
        )
        values = dict(compiled.construct_params())
        for name, value in values.items():
            # An IN list's values are named after its parameter (value_1 -> value_1_1, ...).
            bind = compiled.binds.get(name)
            if bind is None:
                bind = compiled.binds.get(name.rpartition("_")[0])
            if name in given or bind is None:
                continue
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                values[name] = process(value)
        self.sql = compiled.string
        self.names = None if compiled.positiontup is None else tuple(compiled.positiontup)
        self.values = values
        self.given = tuple(given)

    def rows(self, conn: Connection, **given: Any) -> list[tuple[Any, ...]]:
        if set(given) != set(self.given):
            raise TypeError(f"give exactly {self.given}, not {sorted(given)}")
        values = {**self.values, **given}
        bound: Any = values if self.names is None else tuple(values[n] for n in self.names)
        cursor = conn.connection.cursor()
        try:
            try:
                cursor.execute(self.sql, bound)
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _wrapped(conn, cursor, self.sql, bound, exc, many=False) from exc
            return list(cursor.fetchall())
        finally:
            cursor.close()
