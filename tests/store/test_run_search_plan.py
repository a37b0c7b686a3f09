"""The search planner on SQLite: it starts from a rare comparison's runs, walks runs in order
when matches are common, and both ways return the same pages."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Select, insert, text

from slipway.store import MetadataStore
from slipway.store import runs as rows
from slipway.store.run_search._compile import RunQuery, compile_search
from slipway.store.schema import latest_metrics, params, projects, runs

PROJECT = "p" * 32
N = 2_000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetadataStore]:
    """N runs: metric m uniform in [0, 1), param d a digit, param rare set on runs 7 and 8."""
    path = tmp_path_factory.mktemp("plan") / "slipway.db"
    opened = MetadataStore.open(f"sqlite:///{path}")
    rng = random.Random(7)
    ids = [f"{i:032x}" for i in range(N)]
    with opened.write() as conn:
        conn.execute(
            insert(projects).values(
                id=PROJECT, name="plan", description="", created_by="t", created_at=0, updated_at=0
            )
        )
        conn.execute(
            insert(runs),
            [
                dict(id=run_id, project_id=PROJECT, parent_run_id=None, name=f"run-{i}",
                     status="finished", created_by="t", start_time=i, end_time=None,
                     deleted_at=None)
                for i, run_id in enumerate(ids)
            ],
        )  # fmt: skip
        conn.execute(
            insert(latest_metrics),
            [
                dict(run_id=run_id, key="m", value=rng.random(), is_nan=False, step=0, timestamp=0)
                for run_id in ids
            ],
        )
        conn.execute(
            insert(params),
            [dict(run_id=run_id, key="d", value=str(rng.randrange(10))) for run_id in ids]
            + [dict(run_id=ids[i], key="rare", value="yes") for i in (7, 8)],
        )
    yield opened
    opened.close()


def chosen(store: MetadataStore, query: RunQuery, needed: int) -> str:
    """'scan', or the driver's table, by comparing the chosen SQL with each candidate's."""
    with store.read() as conn:
        plan = str(rows._plan(conn, query, needed=needed))
    if plan == str(query.scan()):
        return "scan"
    for driver in query.drivers:
        if plan == str(query.driven_by(driver)):
            return str(driver.matching.get_final_froms()[0].name)  # type: ignore[attr-defined]
    raise AssertionError(plan)


def plan_steps(store: MetadataStore, query: Select[object]) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN of `query`, a step per line."""
    with store.read() as conn:
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        return [row[3] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]


def names(store: MetadataStore, query: Select[object]) -> list[str]:
    with store.read() as conn:
        return [row.name for row in conn.execute(query)]


def test_a_rare_comparison_is_where_the_search_starts(store: MetadataStore) -> None:
    query = compile_search("metrics.m >= 0 and params.rare = 'yes'", project_ids=[PROJECT])
    assert chosen(store, query, needed=101) == "params"
    with store.read() as conn:
        found = rows.search(conn, query, limit=101, offset=0)
    assert [run.name for run in found] == ["run-8", "run-7"]


def test_common_matches_are_found_by_walking_runs_in_order(store: MetadataStore) -> None:
    query = compile_search("metrics.m > 0.5 and params.d != '3'", project_ids=[PROJECT])
    assert chosen(store, query, needed=11) == "scan"


def test_without_an_order_to_walk_the_smallest_set_starts(store: MetadataStore) -> None:
    """Sorted by a metric, a scan would read every run: start from the fewer matches."""
    query = compile_search(
        "metrics.m > 0.5 and params.d = '3'", ["metrics.m DESC"], project_ids=[PROJECT]
    )
    assert chosen(store, query, needed=11) == "params"


@pytest.mark.parametrize(
    "filter",
    ["metrics.m > 0.5 and params.d = '3'", "metrics.m < 0.05 and params.d IN ('1', '2')"],
)
def test_every_plan_pages_through_the_same_runs(store: MetadataStore, filter: str) -> None:
    query = compile_search(filter, project_ids=[PROJECT])
    expected = names(store, query.scan())
    assert expected  # the filters match something
    for plan in (query.scan(), *map(query.driven_by, query.drivers)):
        assert names(store, plan) == expected
    paged: list[str] = []
    with store.read() as conn:
        for offset in range(0, len(expected) + 10, 10):
            paged += [run.name for run in rows.search(conn, query, limit=10, offset=offset)]
    assert paged == expected


def test_sqlite_reads_the_starting_set_from_its_covering_index(store: MetadataStore) -> None:
    """The driven plan relies on SQLite starting from the derived table; check it does."""
    query = compile_search("params.rare = 'yes' and metrics.m >= 0", project_ids=[PROJECT])
    steps = plan_steps(store, query.driven_by(query.drivers[0]))
    assert "COVERING INDEX ix_params_key_value_run_id" in steps[0], steps


def test_user_tags_start_from_their_partial_index_and_system_tags_never_start(
    store: MetadataStore,
) -> None:
    """The tags index leaves out slipway.* tags (cheaper run starts): a user tag's set is read
    from it, and a system tag's comparison is only ever a probe of each run's own tags."""
    query = compile_search("tags.team = 'a' and metrics.m >= 0", project_ids=[PROJECT])
    steps = plan_steps(store, query.driven_by(query.drivers[0]))
    assert "COVERING INDEX ix_tags_key_value_run_id" in steps[0], steps
    system = compile_search("tags.slipway.git.commit = 'c' and metrics.m >= 0")
    assert [d.matching.get_final_froms() for d in system.drivers] == [[latest_metrics]]


def test_a_choice_is_reused_until_the_runs_change(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slipway.store.run_search._compile import Driver

    query = compile_search("metrics.m >= 0 and params.rare = 'yes'", project_ids=[PROJECT])
    first = chosen(store, query, needed=7)

    def no_counting(self: Driver, cap: int) -> None:
        raise AssertionError("counted again")

    monkeypatch.setattr(Driver, "count", no_counting)
    assert chosen(store, query, needed=7) == first  # the same search: no counting
    monkeypatch.undo()
    with store.write() as conn:  # a fifth more runs: the choice is made again
        conn.execute(
            insert(runs),
            [
                dict(id=f"{N + i:032x}", project_id=PROJECT, parent_run_id=None, name="new",
                     status="finished", created_by="t", start_time=N + i, end_time=None,
                     deleted_at=None)
                for i in range(N // 5)
            ],
        )  # fmt: skip
    monkeypatch.setattr(Driver, "count", no_counting)
    with pytest.raises(AssertionError, match="counted again"):
        chosen(store, query, needed=7)
