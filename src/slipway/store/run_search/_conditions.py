"""Filter conditions of the run search language as SQLAlchemy Core expressions over `runs`.

An `=` or `IN` on a metric, param or tag picks its runs out of the table's (key, value)
index: a set the database can start from (SQLite does once `ANALYZE` has given it
statistics) or check each run against. The other comparisons of the filter's top-level AND
are correlated EXISTS on the (run_id, key) primary key: walking the runs in result order
along an index of `runs`, SQLite probes each and stops once a page is full, which is quick
when matches are common. PostgreSQL turns both shapes into semi-joins planned from its own
statistics.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Literal, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from slipway.errors import InvalidInput
from slipway.store.run_search._parser import (
    BARE_KEY,
    And,
    Comparison,
    Entity,
    Identifier,
    Node,
    Number,
    Or,
    String,
    Value,
    source_error,
)
from slipway.store.schema import SYSTEM_TAG_PREFIX, latest_metrics, params, runs, tags

# schema.USER_TAGS_ONLY for `tags`, with literals (SQLite matches a partial index's condition
# by its expression: a bound parameter would not match).
_USER_TAGS: ColumnElement[bool] = func.substr(
    tags.c.key, literal_column("1"), literal_column(str(len(SYSTEM_TAG_PREFIX)))
) != literal_column(f"'{SYSTEM_TAG_PREFIX}'")
KEYED_TABLES: dict[Entity, Table] = {"metrics": latest_metrics, "params": params, "tags": tags}
# Attribute names (case-insensitive) and their aliases -> columns of `runs`.
_ATTRIBUTES = {
    "status": "status", "name": "name", "run_name": "name", "run_id": "id", "id": "id",
    "created_by": "created_by", "user": "created_by", "parent_run_id": "parent_run_id",
    "project_id": "project_id", "start_time": "start_time", "end_time": "end_time",
}  # fmt: skip
_KNOWN_ATTRIBUTES = (
    "status, name (or run_name), run_id (or id), created_by (or user), parent_run_id, "
    "project_id, start_time, end_time"
)
_NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time"})
_NUMBER_OPS = "=, !=, <, <=, >, >=, IN, NOT IN, IS NULL or IS NOT NULL"
_TEXT_OPS = "=, !=, LIKE, ILIKE, NOT LIKE, NOT ILIKE, IN, NOT IN, IS NULL or IS NOT NULL"
_ORDERED = frozenset({"<", "<=", ">", ">="})
_PATTERNS = frozenset({"LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"})
# One escape character on both backends: PostgreSQL defaults to backslash, SQLite to none.
_LIKE_ESCAPE = "\\"

Column: TypeAlias = KeyedColumnElement[Any]
# What a comparison's values are bound as: float, the number as written, or text.
_Kind: TypeAlias = Literal["metric", "number", "text"]
_COMPARE: dict[str, Callable[[Column, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def conjuncts(node: Node) -> list[Node]:
    """The operands of the top-level AND (flattening nested ANDs); the node itself otherwise."""
    if isinstance(node, And):
        return [part for operand in node.operands for part in conjuncts(operand)]
    return [node]


class Compiler:
    """Turns AST nodes into SQL conditions; knows its source text to point errors at it."""

    def __init__(self, source: str, label: str) -> None:
        self.source = source
        self.label = label

    def error(self, position: int, message: str, hint: str = "") -> InvalidInput:
        return source_error(self.label, self.source, position, message, hint=hint)

    def node(self, node: Node, *, top: bool = False) -> ColumnElement[bool]:
        """`top`: a condition of the filter's top-level AND, which every result meets."""
        if isinstance(node, Comparison):
            return self.comparison(node, top=top)
        parts = [self.node(operand) for operand in node.operands]
        if isinstance(node, Or):
            return or_(*parts) if parts else false()
        return and_(*parts) if parts else true()

    def comparison(self, comparison: Comparison, *, top: bool = False) -> ColumnElement[bool]:
        target = comparison.target
        if target.entity == "attributes":
            column = self.attribute(target)
            kind: _Kind = "number" if column.key in _NUMERIC_ATTRIBUTES else "text"
            self.check(comparison, kind)
            if comparison.op == "IS NULL":
                return column.is_(None)
            if comparison.op == "IS NOT NULL":
                return column.is_not(None)
            return self.predicate(column, comparison, kind)
        return self.keyed(comparison, top=top)

    def keyed(self, comparison: Comparison, *, top: bool) -> ColumnElement[bool]:
        """A metric/param/tag test: semi-joins only, so a run can never come back twice.

        `=` and `IN` pick a set of runs out of the table's (key, value) index, which the
        database can start from; other tests probe each run's own row (see `probe`), but
        inside an OR a metric's set is still read from its index: a walk cannot stop early
        on it, and SQLite runs a correlated EXISTS once per run (`metrics.acc > 0.99 or ...`
        over 10^5 runs took ~380 ms that way against ~15 ms with IN).
        """
        target, op = comparison.target, comparison.op
        self.check(comparison, kind_of(target))
        if op in ("IS NULL", "IS NOT NULL"):
            return self.probe(comparison)
        if target.entity == "tags" and target.key.startswith(SYSTEM_TAG_PREFIX):
            return self.probe(comparison)  # not in the tags index (schema.SQLITE_ONLY_INDEXES)
        if op in ("=", "IN") or (target.entity == "metrics" and not top):
            return runs.c.id.in_(self.matching(comparison))
        return self.probe(comparison)

    def probe(self, comparison: Comparison) -> ColumnElement[bool]:
        """The test as a correlated EXISTS on the (run_id, key) primary key: one index probe
        per run, and false for runs lacking the key whatever the operator (so != never
        matches them)."""
        target, op = comparison.target, comparison.op
        table = KEYED_TABLES[target.entity]
        found = [table.c.run_id == runs.c.id, table.c.key == target.key]
        if op not in ("IS NULL", "IS NOT NULL"):
            found.append(self.predicate(table.c.value, comparison, kind_of(target)))
            if target.entity == "metrics":
                found.append(table.c.is_nan.is_(False))
        exists = select(table.c.run_id).where(*found).correlate(runs).exists()
        return ~exists if op == "IS NULL" else exists

    def matching(self, comparison: Comparison) -> Select[Any]:
        """SELECT run_id of the runs meeting a metric/param/tag comparison (not IS [NOT]
        NULL), read from the table's (key, value) index."""
        target = comparison.target
        table = KEYED_TABLES[target.entity]
        kind = kind_of(target)
        found = [table.c.key == target.key, self.predicate(table.c.value, comparison, kind)]
        if kind == "metric":
            # A NaN is stored as 0.0 with is_nan set; like IEEE NaN it satisfies no comparison.
            found.append(table.c.is_nan.is_(False))
        if target.entity == "tags":
            # SQLite reads a partial index only for a query that repeats its condition (for
            # a user tag it always holds).
            found.append(_USER_TAGS)
        return select(table.c.run_id).where(*found)

    def attribute(self, target: Identifier) -> Column:
        name = _ATTRIBUTES.get(target.key.lower())
        if name is None:
            raise self.error(
                target.position,
                f"unknown attribute {target.key!r}",
                hint=f"known attributes: {_KNOWN_ATTRIBUTES}",
            )
        return runs.c[name]

    def check(self, comparison: Comparison, kind: _Kind) -> None:
        """Refuse operators and values the target's type cannot answer, before any SQL."""
        name, op = _display(comparison.target), comparison.op
        nature = _nature(comparison.target, kind)
        if kind != "text" and op in _PATTERNS:
            raise self.error(
                comparison.position,
                f"{op} does not apply to {name}",
                hint=f"{nature}: use {_NUMBER_OPS}",
            )
        if kind == "text" and op in _ORDERED:
            raise self.error(
                comparison.position,
                f"'{op}' does not apply to {name}",
                hint=f"{nature}: use {_TEXT_OPS}",
            )
        for value in comparison.values:
            if kind != "text" and isinstance(value, String):
                raise self.error(
                    value.position,
                    f"{name} is compared with the string {value.value!r}",
                    hint=nature,
                )

    def predicate(self, column: Column, comparison: Comparison, kind: _Kind) -> ColumnElement[bool]:
        op = comparison.op
        values = [_operand(value, kind) for value in comparison.values]
        if op == "IN":
            return column.in_(values)
        if op == "NOT IN":
            return column.not_in(values)
        if op in _PATTERNS:
            pattern = str(values[0])
            self.check_pattern(pattern, comparison.values[0])
            return _pattern(column, op, pattern)
        return _COMPARE[op](column, values[0])

    def check_pattern(self, pattern: str, value: Value) -> None:
        trailing = len(pattern) - len(pattern.rstrip(_LIKE_ESCAPE))
        if trailing % 2:
            # PostgreSQL errors on it and SQLite silently matches nothing: refuse on both.
            raise self.error(
                value.position,
                "LIKE pattern ends with a lone backslash",
                hint="in LIKE a backslash escapes %, _ or a second backslash",
            )


def _operand(value: Value, kind: _Kind) -> object:
    """The Python value to bind: floats for metrics, numbers for times, text for the rest."""
    if kind == "metric" and isinstance(value, Number):
        return float(value.value)
    if kind == "number" and isinstance(value, Number):
        return value.value
    # A bare number against text compares as written, so params.depth = 6 matches '6'.
    return value.text if isinstance(value, Number) else value.value


def _pattern(column: Column, op: str, pattern: str) -> ColumnElement[bool]:
    # LIKE is case-sensitive on both backends (the SQLite engine sets case_sensitive_like).
    if op == "LIKE":
        return column.like(pattern, escape=_LIKE_ESCAPE)
    if op == "NOT LIKE":
        return column.not_like(pattern, escape=_LIKE_ESCAPE)
    if op == "ILIKE":
        return column.ilike(pattern, escape=_LIKE_ESCAPE)
    return column.not_ilike(pattern, escape=_LIKE_ESCAPE)


def kind_of(target: Identifier) -> _Kind:
    return "metric" if target.entity == "metrics" else "text"


def _display(target: Identifier) -> str:
    key = target.key
    if not BARE_KEY.fullmatch(key):
        key = "`" + key.replace("`", "``") + "`"
    return f"{target.entity}.{key}"


def _nature(target: Identifier, kind: _Kind) -> str:
    if kind == "metric":
        return "metrics compare with numbers"
    if target.entity != "attributes":
        return f"{target.entity} hold text"
    if kind == "number":
        return f"attributes.{target.key} is a number (milliseconds since the epoch)"
    return f"attributes.{target.key} is text"
