"""Searches over a few thousand runs, on SQLite and PostgreSQL, with and without the statistics
SQLite's planner reads: the runs found, their order and every page are what the runs say,
whether matches are rare or common, keys missing or NaN, start times tied."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from sqlalchemy import insert, text

from slipway.store import MetadataStore
from slipway.store import runs as run_rows
from slipway.store.run_search import compile_search
from slipway.store.schema import latest_metrics, params, projects, runs, tags
from tests.conftest import temporary_pg_database

N = 2_000
MINE, OTHER = "a" * 32, "b" * 32


@dataclass(frozen=True)
class Fact:
    """What one run holds; the expected answers are computed from these."""

    id: str
    project: str
    start: int
    deleted: bool
    m: float | None  # metric m: uniform in [0, 1), NaN or missing
    d: str  # param d: a digit
    rare: bool  # param rare = 'yes' on a handful of runs
    team: str | None  # tag team
    commit: str  # tag slipway.git.commit (a system tag)


def _facts() -> list[Fact]:
    rng = random.Random(15)
    facts = []
    for i in range(N):
        roll = rng.random()
        m = None if roll < 0.05 else math.nan if roll < 0.08 else rng.random()
        facts.append(
            Fact(
                id=f"{rng.getrandbits(128):032x}",
                project=OTHER if i % 10 == 9 else MINE,
                start=1_000 + i // 3,  # three runs per start time: ties everywhere
                deleted=i % 97 == 0,
                m=m,
                d=str(rng.randrange(10)),
                rare=i in (5, 700, 1_401),
                team=None if i % 4 == 0 else rng.choice(["vision", "nlp"]),
                commit=f"c{i % 7}",
            )
        )
    return facts


FACTS = _facts()


def _seed(store: MetadataStore) -> None:
    with store.write() as conn:
        conn.execute(
            insert(projects),
            [
                {"id": pid, "name": pid[:4], "created_by": "t", "created_at": 1, "updated_at": 1}
                for pid in (MINE, OTHER)
            ],
        )
        conn.execute(
            insert(runs),
            [
                {"id": f.id, "project_id": f.project, "parent_run_id": None, "name": f.id,
                 "status": "FINISHED", "created_by": "t", "start_time": f.start,
                 "end_time": None, "deleted_at": 5 if f.deleted else None}
                for f in FACTS
            ],
        )  # fmt: skip
        conn.execute(
            insert(latest_metrics),
            [
                {"run_id": f.id, "key": "m", "value": 0.0 if math.isnan(f.m) else f.m,
                 "is_nan": math.isnan(f.m), "step": 0, "timestamp": 0}
                for f in FACTS
                if f.m is not None
            ],
        )  # fmt: skip
        conn.execute(
            insert(params),
            [{"run_id": f.id, "key": "d", "value": f.d} for f in FACTS]
            + [{"run_id": f.id, "key": "rare", "value": "yes"} for f in FACTS if f.rare],
        )
        conn.execute(
            insert(tags),
            [{"run_id": f.id, "key": "team", "value": f.team} for f in FACTS if f.team]
            + [{"run_id": f.id, "key": "slipway.git.commit", "value": f.commit} for f in FACTS],
        )


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        "sqlite-analyzed",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataStore]:
    """One seeded database per backend, only read by the tests; on SQLite once as first
    written (no statistics) and once after ANALYZE, which changes the plans SQLite picks."""
    with ExitStack() as stack:
        if request.param.startswith("sqlite"):
            url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'runs.db'}"
        else:
            url = stack.enter_context(temporary_pg_database(request.getfixturevalue("pg_server")))
        opened = MetadataStore.open(url)
        stack.callback(opened.close)
        _seed(opened)
        if request.param == "sqlite-analyzed":
            with opened.write() as conn:
                conn.execute(text("ANALYZE"))
        yield opened


def newest_first(found: list[Fact]) -> list[str]:
    """The default order: start time, newest first, then id."""
    return [f.id for f in sorted(found, key=lambda f: (-f.start, f.id))]


def live(fact: Fact, project: str | None = MINE) -> bool:
    return not fact.deleted and (project is None or fact.project == project)


def has_m(fact: Fact, test: Callable[[float], bool]) -> bool:
    return fact.m is not None and not math.isnan(fact.m) and test(fact.m)


def search(
    store: MetadataStore, filter: str, order_by: tuple[str, ...] = (), project: str | None = MINE
) -> list[str]:
    query = compile_search(filter, order_by, project_ids=None if project is None else [project])
    with store.read() as conn:
        return [run.id for run in run_rows.search(conn, query, limit=10 * N, offset=0)]


FILTERS: list[tuple[str, Callable[[Fact], bool]]] = [
    ("", lambda f: True),
    ("params.rare = 'yes'", lambda f: f.rare),
    ("params.d = '3'", lambda f: f.d == "3"),
    ("params.d IN ('1', '2')", lambda f: f.d in ("1", "2")),
    ("params.d != '3'", lambda f: f.d != "3"),
    ("metrics.m > 0.5", lambda f: has_m(f, lambda m: m > 0.5)),
    ("metrics.m > 0.999", lambda f: has_m(f, lambda m: m > 0.999)),
    ("metrics.m <= 0.5 and params.d = '3'", lambda f: has_m(f, lambda m: m <= 0.5) and f.d == "3"),
    ("params.d = '3' and metrics.m > 0.5", lambda f: has_m(f, lambda m: m > 0.5) and f.d == "3"),
    ("metrics.m >= 0 and params.rare = 'yes'", lambda f: has_m(f, lambda m: m >= 0) and f.rare),
    ("metrics.m != 0.5", lambda f: has_m(f, lambda m: m != 0.5)),  # NaN and missing: no
    ("metrics.m IS NULL", lambda f: f.m is None),  # NaN is a value
    ("tags.team = 'nlp' and params.d = '7'", lambda f: f.team == "nlp" and f.d == "7"),
    ("tags.team IS NULL and params.d = '7'", lambda f: f.team is None and f.d == "7"),
    ("tags.team != 'nlp'", lambda f: f.team == "vision"),  # a missing tag never matches !=
    (
        "tags.slipway.git.commit = 'c3' and params.d = '1'",
        lambda f: f.commit == "c3" and f.d == "1",
    ),
    (
        "metrics.m > 0.9 or params.rare = 'yes'",
        lambda f: has_m(f, lambda m: m > 0.9) or f.rare,
    ),
    (
        "params.d = '3' and (metrics.m < 0.1 or tags.team = 'vision')",
        lambda f: f.d == "3" and (has_m(f, lambda m: m < 0.1) or f.team == "vision"),
    ),
]


@pytest.mark.parametrize(("filter", "meets"), FILTERS, ids=[f or "(none)" for f, _ in FILTERS])
def test_a_search_finds_exactly_the_matching_runs_newest_first(
    store: MetadataStore, filter: str, meets: Callable[[Fact], bool]
) -> None:
    expected = newest_first([f for f in FACTS if live(f) and meets(f)])
    assert search(store, filter) == expected


def test_every_project_is_searched_when_none_is_named(store: MetadataStore) -> None:
    expected = newest_first([f for f in FACTS if live(f, None) and f.d == "3"])
    assert search(store, "params.d = '3'", project=None) == expected
    assert {f.project for f in FACTS if f.id in expected} == {MINE, OTHER}


@pytest.mark.parametrize("descending", [True, False])
def test_sorting_by_a_metric_puts_nan_then_missing_last(
    store: MetadataStore, descending: bool
) -> None:
    found = [f for f in FACTS if live(f) and f.d in ("1", "2", "3")]

    def rank(f: Fact) -> tuple[int, float, int, str]:
        if f.m is None:
            return (2, 0.0, -f.start, f.id)
        if math.isnan(f.m):
            return (1, 0.0, -f.start, f.id)
        return (0, -f.m if descending else f.m, -f.start, f.id)

    expected = [f.id for f in sorted(found, key=rank)]
    order = "metrics.m DESC" if descending else "metrics.m ASC"
    assert search(store, "params.d IN ('1', '2', '3')", (order,)) == expected


@pytest.mark.parametrize(
    ("filter", "order_by"),
    [
        ("", ()),
        ("metrics.m > 0.3 and params.d != '0'", ()),
        ("params.d = '4'", ("metrics.m DESC",)),
        ("", ("params.d", "tags.team DESC")),
    ],
)
def test_pages_join_up_to_the_whole_answer_without_repeats_or_gaps(
    store: MetadataStore, filter: str, order_by: tuple[str, ...]
) -> None:
    whole = search(store, filter, order_by)
    query = compile_search(filter, order_by, project_ids=[MINE])
    pages: list[str] = []
    with store.read() as conn:
        for offset in range(0, len(whole) + 100, 100):
            pages += [r.id for r in run_rows.search(conn, query, limit=100, offset=offset)]
    assert pages == whole
    assert len(whole) == len(set(whole))
