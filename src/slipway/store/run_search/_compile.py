"""The run search language, compiled to SQLAlchemy Core SELECTs over `runs`.

    filter:   metrics.acc > 0.9 AND (params.model = 'xgb' OR tags.team ILIKE 'ml%')
    order_by: ["metrics.acc DESC", "attributes.start_time"]

metrics.KEY compare numbers with the run's latest value; params.KEY and tags.KEY compare text;
attributes.NAME are columns of `runs`. A comparison never matches a run that lacks the key
(not even != or NOT IN); `IS NULL` matches exactly those runs. Every value is a bound parameter.

The filter's conditions are built in `_conditions` (and shaped for the databases' planners,
see there); this module adds the scope (projects, deleted runs) and the order.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Integer, Select, and_, bindparam, case, select

from slipway.errors import InvalidInput
from slipway.store.run_search._conditions import (
    KEYED_TABLES,
    Column,
    Compiler,
    conjuncts,
)
from slipway.store.run_search._parser import OrderItem, parse_filter, parse_order_by
from slipway.store.schema import runs

__all__ = [
    "MAX_ORDER_BY",
    "PAGE_LIMIT",
    "PAGE_OFFSET",
    "RunQuery",
    "compile_search",
    "search_runs_query",
    "validate",
]

MAX_ORDER_BY = 5
# A page of a search: `RunQuery.page` binds these two.
PAGE_LIMIT, PAGE_OFFSET = "page_limit", "page_offset"


@dataclass(frozen=True)
class RunQuery:
    """A compiled search: `statement` selects the matching runs in result order, `page` the
    same with LIMIT :page_limit OFFSET :page_offset.

    Both are built once per search (see `compile_search`), so a search repeated for a
    dashboard or page after page reuses SQLAlchemy's cached compilation.
    """

    statement: Select[Any]
    page: Select[Any]


def compile_search(
    filter: str | None,
    order_by: Sequence[str] = (),
    *,
    project_ids: Sequence[str] | None = None,
    include_deleted: bool = False,
) -> RunQuery:
    """Compile a search: runs matching `filter`, sorted by `order_by`, then start_time DESC, id.

    `project_ids=None` searches every project; an empty sequence matches nothing. A bare
    string for `order_by` or `project_ids` is one item, not a sequence of characters.
    Raises InvalidInput on any malformed input, the filter's first. Compiled queries are
    immutable and cached: dashboards and paging repeat the same search.
    """
    orders = (order_by,) if isinstance(order_by, str) else tuple(order_by)
    ids = (
        None
        if project_ids is None
        else ((project_ids,) if isinstance(project_ids, str) else tuple(project_ids))
    )
    return _compile(filter or "", orders, ids, include_deleted)


@functools.lru_cache(maxsize=256)
def _compile(
    text: str,
    order_by: tuple[str, ...],
    project_ids: tuple[str, ...] | None,
    include_deleted: bool,
) -> RunQuery:
    compiler = Compiler(text, "filter")
    conditions = [compiler.node(conjunct, top=True) for conjunct in conjuncts(parse_filter(text))]
    sources = order_by
    items = _parse_order_by(sources)
    if project_ids is not None and len(project_ids) == 1:
        conditions.append(runs.c.project_id == project_ids[0])
    elif project_ids is not None:
        conditions.append(runs.c.project_id.in_(list(project_ids)))
    if not include_deleted:
        conditions.append(runs.c.deleted_at.is_(None))
    source, ordering = _order_by(items, sources, runs)
    statement = select(runs).select_from(source).where(*conditions).order_by(*ordering)
    limit = bindparam(PAGE_LIMIT, type_=Integer)
    offset = bindparam(PAGE_OFFSET, type_=Integer)
    return RunQuery(statement, statement.limit(limit).offset(offset))


def search_runs_query(
    filter: str | None,
    order_by: Sequence[str] = (),
    *,
    project_ids: Sequence[str] | None = None,
    include_deleted: bool = False,
) -> Select[Any]:
    """SELECT runs.* matching `filter`, sorted by `order_by`: `compile_search(...).statement`."""
    return compile_search(
        filter, order_by, project_ids=project_ids, include_deleted=include_deleted
    ).statement


def validate(filter: str | None, order_by: Sequence[str] = ()) -> None:
    """Raise InvalidInput if the filter or an order_by item is malformed; touches no database."""
    compile_search(filter, order_by)


def _parse_order_by(sources: Sequence[str]) -> tuple[OrderItem, ...]:
    if len(sources) > MAX_ORDER_BY:
        raise InvalidInput(f"order_by: {len(sources)} items given; the limit is {MAX_ORDER_BY}")
    items = []
    for number, text in enumerate(sources, start=1):
        item = parse_order_by(text, f"order_by item {number}")
        if item.target.entity == "attributes":
            Compiler(text, f"order_by item {number}").attribute(item.target)  # known name?
        items.append(item)
    return tuple(items)


def _order_by(
    items: Sequence[OrderItem], sources: Sequence[str], base: FromClause
) -> tuple[FromClause, list[ColumnElement[Any]]]:
    """The FROM clause (`base` plus one outer join per keyed item) and the ORDER BY terms."""
    source = base
    ordering: list[ColumnElement[Any]] = []
    for number, (item, text) in enumerate(zip(items, sources, strict=True), start=1):
        compiler = Compiler(text, f"order_by item {number}")
        column, rank, source = _order_column(item, number, source, compiler)
        if rank is not None:
            ordering.append(rank)
        ordering.append(column.desc() if item.descending else column.asc())
    # Stable tie-breakers, so paging by offset neither repeats nor skips runs.
    ordering += [runs.c.start_time.desc(), runs.c.id.asc()]
    return source, ordering


def _order_column(
    item: OrderItem, number: int, source: FromClause, compiler: Compiler
) -> tuple[Column, ColumnElement[int] | None, FromClause]:
    """The column to sort on, a rank sorted first (None if every run has a value), the FROM.

    The rank puts real values first, then NaN metrics, then runs lacking a value, in both
    directions: a CASE instead of NULLS LAST, which SQLite only has since 3.30.
    """
    target = item.target
    if target.entity == "attributes":
        column = compiler.attribute(target)
        return column, case((column.is_(None), 2), else_=0) if column.nullable else None, source
    # The key sits in the ON clause, so runs lacking it stay with a NULL value; the
    # (run_id, key) primary key guarantees at most one joined row, hence no duplicate runs.
    joined = KEYED_TABLES[target.entity].alias(f"order_{number}")
    on = and_(joined.c.run_id == runs.c.id, joined.c.key == target.key)
    value: Column = joined.c.value
    if target.entity == "metrics":
        rank = case((value.is_(None), 2), (joined.c.is_nan.is_(True), 1), else_=0)
    else:
        rank = case((value.is_(None), 2), else_=0)
    return value, rank, source.outerjoin(joined, on)
