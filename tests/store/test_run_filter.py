"""The run search language, run against SQLite and PostgreSQL with the same fixed runs."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack

import pytest
from sqlalchemy import create_engine, func, insert, select

from slipway.errors import InvalidInput
from slipway.store import MetadataStore, schema
from slipway.store import runs as runs_store
from slipway.store.run_search import (
    And,
    Comparison,
    Identifier,
    Number,
    Or,
    String,
    compile_search,
    parse_filter,
    search_runs_query,
    validate,
)
from tests.conftest import temporary_pg_database

VISION, NLP = "a" * 32, "b" * 32
NAMES = ("alpha", "beta", "gamma", "delta", "Epsilon", "zeta", "eta", "theta")
IDS = {name: f"{number:032d}" for number, name in enumerate(NAMES, start=1)}
LIVE = set(NAMES) - {"theta"}  # theta is deleted

# name: (project, status, created_by, start_time, end_time, parent, deleted_at)
RUNS = {
    "alpha": (VISION, "FINISHED", "alice", 1000, 2000, None, None),
    "beta": (VISION, "FINISHED", "bob", 2000, 3000, None, None),
    "gamma": (VISION, "RUNNING", "alice", 3000, None, None, None),
    "delta": (VISION, "FAILED", "carol", 4000, 4500, "alpha", None),
    "Epsilon": (NLP, "FINISHED", "bob", 5000, 6000, None, None),
    "zeta": (NLP, "FINISHED", "alice", 6000, 7000, None, None),
    "eta": (NLP, "RUNNING", "dave", 7000, None, "zeta", None),
    "theta": (VISION, "FINISHED", "alice", 8000, 9000, None, 9500),
}
METRICS = {
    "acc": {"alpha": 0.9, "beta": 0.8, "gamma": 0.95, "delta": 0.5, "Epsilon": 0.7, "zeta": 0.9}
    | {"theta": 0.99},
    "loss": {"alpha": 0.1, "beta": 0.3, "zeta": 0.2, "eta": -1.5, "delta": math.nan},
    "val.loss": {"alpha": 0.05, "beta": 0.15},
}
PARAMS = {
    "lr": {"alpha": "0.1", "beta": "0.01", "gamma": "0.1", "delta": "0.001", "Epsilon": "0.1"}
    | {"zeta": "0.01", "theta": "0.1"},
    "depth": {"alpha": "6", "beta": "10", "gamma": "6", "Epsilon": "6.0"},
    "model": {"alpha": "xgb", "beta": "XGB", "gamma": "lgbm", "delta": "xgb-large", "zeta": "rf"},
    "my key": {"eta": "v 1"},
}
TAGS = {
    "team": {"alpha": "vision-core", "beta": "vision-core", "gamma": "Vision"}
    | {"Epsilon": "nlp", "zeta": "nlp", "eta": "nlp"},
    "team name": {"delta": "Core ML"},
    "git/commit:short": {"beta": "abc123"},
    "note": {"gamma": "it's fine", "zeta": 'say "hi"'},
    "pattern": {"Epsilon": "50%_off", "delta": "50xoff"},
    # A tag Slipway records itself: not in SQLite's tags search index, never a starting set.
    "slipway.git.commit": {"alpha": "c1", "gamma": "c1", "beta": "c2"},
}


def _seed(store: MetadataStore) -> None:
    with store.write() as conn:
        conn.execute(
            insert(schema.projects),
            [
                {"id": pid, "name": name, "created_by": "t", "created_at": 1, "updated_at": 1}
                for pid, name in ((VISION, "vision"), (NLP, "nlp"))
            ],
        )
        for name, (project, status, user, start, end, parent, deleted) in RUNS.items():
            conn.execute(
                insert(schema.runs).values(
                    id=IDS[name],
                    project_id=project,
                    parent_run_id=IDS[parent] if parent else None,
                    name=name,
                    status=status,
                    created_by=user,
                    start_time=start,
                    end_time=end,
                    deleted_at=deleted,
                )
            )
        for key, values in METRICS.items():
            # A NaN is stored as 0.0 with is_nan set (SQLite would turn NaN into NULL).
            rows = [
                {"run_id": IDS[n], "key": key, "value": 0.0 if math.isnan(v) else v}
                | {"is_nan": math.isnan(v), "step": 0, "timestamp": 1}
                for n, v in values.items()
            ]
            conn.execute(insert(schema.latest_metrics), rows)
        for table, entries in ((schema.params, PARAMS), (schema.tags, TAGS)):
            for key, texts in entries.items():
                rows = [{"run_id": IDS[n], "key": key, "value": v} for n, v in texts.items()]
                conn.execute(insert(table), rows)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataStore]:
    """One seeded database per backend for the whole module: these tests only read."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('filter') / 'runs.db'}"
        else:
            url = stack.enter_context(temporary_pg_database(request.getfixturevalue("pg_server")))
        opened = MetadataStore.open(url)
        stack.callback(opened.close)
        _seed(opened)
        yield opened


@pytest.fixture
def fresh_store(metadata_url: str) -> Iterator[MetadataStore]:
    """A seeded database of the test's own, for tests that add rows."""
    opened = MetadataStore.open(metadata_url)
    _seed(opened)
    yield opened
    opened.close()


def names(
    store: MetadataStore,
    filter: str | None,
    order_by: Sequence[str] = (),
    *,
    project_ids: Sequence[str] | None = None,
    include_deleted: bool = False,
) -> list[str]:
    """Run names in result order; fails if any run comes back twice, or if a search's first
    page (as `slipway.store.runs.search` runs it) disagrees with the whole answer."""
    query = compile_search(
        filter, order_by, project_ids=project_ids, include_deleted=include_deleted
    )
    with store.read() as conn:
        found = [row.name for row in conn.execute(query.statement)]
        searched = [run.name for run in runs_store.search(conn, query, limit=100, offset=0)]
        assert searched == found
    assert len(found) == len(set(found)), f"a run came back twice: {found}"
    return found


def row_counts(store: MetadataStore) -> dict[str, int]:
    with store.read() as conn:
        return {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in schema.metadata.sorted_tables
        }


# -- matching ----------------------------------------------------------------------------------

MATCHES: list[tuple[str, set[str]]] = [
    ("", LIVE),
    ("   \n ", LIVE),
    # metrics: numbers, EXISTS over the latest value
    ("metrics.acc > 0.85", {"alpha", "gamma", "zeta"}),
    ("metrics.acc >= 0.9", {"alpha", "gamma", "zeta"}),
    ("metrics.acc < 0.75", {"delta", "Epsilon"}),
    ("metrics.acc <= 0.7", {"delta", "Epsilon"}),
    ("metrics.acc = 0.9", {"alpha", "zeta"}),
    ("metrics.acc == 0.9", {"alpha", "zeta"}),
    ("metrics.acc != 0.9", {"beta", "gamma", "delta", "Epsilon"}),
    ("metrics.acc <> 0.9", {"beta", "gamma", "delta", "Epsilon"}),
    ("metrics.loss < 0", {"eta"}),
    ("metrics.loss > -2", {"alpha", "beta", "zeta", "eta"}),
    ("metrics.loss = 1e-1", {"alpha"}),
    ("metrics.loss <= .2", {"alpha", "zeta", "eta"}),
    ("metrics.acc IN (0.5, 0.7)", {"delta", "Epsilon"}),
    ("metrics.acc NOT IN (0.9, 0.8)", {"gamma", "delta", "Epsilon"}),
    ("metrics.acc IS NULL", {"eta"}),
    ("metrics.loss IS NOT NULL", {"alpha", "beta", "zeta", "eta", "delta"}),
    # a NaN (delta's loss, stored as 0.0) satisfies no comparison, but the key exists
    ("metrics.loss < 0.15", {"alpha", "eta"}),
    ("metrics.loss = 0", set()),
    ("metrics.loss != 0.3", {"alpha", "zeta", "eta"}),
    ("metrics.loss NOT IN (0.3)", {"alpha", "zeta", "eta"}),
    ("metrics.loss IS NULL", {"gamma", "Epsilon"}),
    ("metrics.acc > 0.85 AND metrics.acc < 0.92", {"alpha", "zeta"}),
    # keys with dots, slashes, colons, spaces
    ("metrics.val.loss < 0.1", {"alpha"}),
    ("metrics.`val.loss` > 0.1", {"beta"}),
    ('metrics."val.loss" IS NOT NULL', {"alpha", "beta"}),
    ("params.`my key` = 'v 1'", {"eta"}),
    ("tags.\"team name\" = 'Core ML'", {"delta"}),
    ("tags.`team name` LIKE 'core%'", set()),
    ("tags.`team name` ILIKE 'core%'", {"delta"}),
    ("tags.git/commit:short = 'abc123'", {"beta"}),
    ("tags.slipway.git.commit = 'c1'", {"alpha", "gamma"}),
    ("tags.slipway.git.commit = 'c1' and tags.team = 'vision-core'", {"alpha"}),
    ("tags.slipway.git.commit != 'c1' and params.lr = '0.01'", {"beta"}),
    # params and tags: text, a bare number compares as written
    ("params.lr = '0.1'", {"alpha", "gamma", "Epsilon"}),
    ("params.lr = 0.1", {"alpha", "gamma", "Epsilon"}),
    ("params.lr = 0.10", set()),
    ("params.depth = 6", {"alpha", "gamma"}),
    ("params.depth = 6.0", {"Epsilon"}),
    ("params.depth IN (6, 10)", {"alpha", "beta", "gamma"}),
    ("params.depth != '6'", {"beta", "Epsilon"}),
    ("params.model = 'xgb'", {"alpha"}),
    ('params.model = "XGB"', {"beta"}),
    ("params.model IN ('xgb', 'rf')", {"alpha", "zeta"}),
    ("params.model NOT IN ('xgb', 'rf')", {"beta", "gamma", "delta"}),
    ("params.model IS NULL", {"Epsilon", "eta"}),
    ("params.model IS NOT NULL", {"alpha", "beta", "gamma", "delta", "zeta"}),
    ("tags.team = 'nlp'", {"Epsilon", "zeta", "eta"}),
    # LIKE is case-sensitive on both backends, ILIKE is not
    ("params.model LIKE 'xgb%'", {"alpha", "delta"}),
    ("params.model LIKE 'XGB'", {"beta"}),
    ("params.model ILIKE 'xgb%'", {"alpha", "beta", "delta"}),
    ("params.model NOT LIKE 'xgb%'", {"beta", "gamma", "zeta"}),
    ("params.model NOT ILIKE 'xgb%'", {"gamma", "zeta"}),
    ("params.model LIKE '_gbm'", {"gamma"}),
    ("tags.team LIKE 'vision%'", {"alpha", "beta"}),
    ("tags.team ILIKE 'VISION%'", {"alpha", "beta", "gamma"}),
    # backslash escapes % and _ in LIKE patterns
    ("tags.pattern LIKE '50%'", {"Epsilon", "delta"}),
    ("tags.pattern LIKE '50\\%%'", {"Epsilon"}),
    ("tags.pattern LIKE '50_\\_off'", {"Epsilon"}),
    # quotes inside strings
    ("tags.note = 'it''s fine'", {"gamma"}),
    ("tags.note = 'it\\'s fine'", {"gamma"}),
    ("tags.note = 'say \"hi\"'", {"zeta"}),
    ('tags.note = "say ""hi"""', {"zeta"}),
    ('tags.note = "say \\"hi\\""', {"zeta"}),
    # missing keys never match a comparison, not even != or NOT IN
    ("metrics.nothing != 1", set()),
    ("params.nothing NOT IN ('a')", set()),
    ("tags.nothing NOT LIKE 'a%'", set()),
    ("params.nothing IS NULL", LIVE),
    # precedence: AND binds tighter than OR; parentheses override
    (
        "params.lr = '0.1' OR params.lr = '0.01' AND tags.team = 'nlp'",
        {"alpha", "gamma", "Epsilon", "zeta"},
    ),
    ("(params.lr = '0.1' OR params.lr = '0.01') AND tags.team = 'nlp'", {"Epsilon", "zeta"}),
    ("((metrics.acc > 0.85))", {"alpha", "gamma", "zeta"}),
    (
        "attributes.status = 'FINISHED' AND (metrics.acc > 0.85 OR params.model IS NULL)",
        {"alpha", "Epsilon", "zeta"},
    ),
    # keywords are case-insensitive; singular prefixes work
    ("metrics.acc > 0.85 and tags.team = 'nlp'", {"zeta"}),
    ("params.model like 'xgb%' Or params.model is null", {"alpha", "delta", "Epsilon", "eta"}),
    (
        "params.model not in ('xgb') and params.model Is Not Null",
        {"beta", "gamma", "delta", "zeta"},
    ),
    ("metric.acc > 0.85 AND param.lr = '0.1' AND tag.team ILIKE 'vision%'", {"alpha", "gamma"}),
    # attributes
    ("attributes.status = 'FINISHED'", {"alpha", "beta", "Epsilon", "zeta"}),
    ("attributes.status != 'FINISHED'", {"gamma", "delta", "eta"}),
    ("attr.status = 'RUNNING'", {"gamma", "eta"}),
    ("run.name = 'alpha'", {"alpha"}),
    ("attributes.name LIKE '%eta'", {"beta", "zeta", "eta"}),
    ("attributes.name LIKE 'e%'", {"eta"}),
    ("attributes.run_name ILIKE 'e%'", {"Epsilon", "eta"}),
    ("attributes.start_time >= 2000 AND attributes.start_time < 5000", {"beta", "gamma", "delta"}),
    ("attributes.start_time > 4500.5", {"Epsilon", "zeta", "eta"}),
    ("attributes.start_time IN (1000, 7000)", {"alpha", "eta"}),
    ("attributes.end_time IS NULL", {"gamma", "eta"}),
    ("attributes.end_time > 0", {"alpha", "beta", "delta", "Epsilon", "zeta"}),
    ("attributes.end_time != 3000", {"alpha", "delta", "Epsilon", "zeta"}),
    ("attributes.created_by = 'alice'", {"alpha", "gamma", "zeta"}),
    ("attribute.user IN ('bob', 'dave')", {"beta", "Epsilon", "eta"}),
    ("attributes.parent_run_id IS NOT NULL", {"delta", "eta"}),
    (f"attributes.parent_run_id = '{IDS['alpha']}'", {"delta"}),
    (f"attributes.run_id = '{IDS['beta']}'", {"beta"}),
    (f"attributes.id IN ('{IDS['beta']}', '{IDS['theta']}')", {"beta"}),
    (f"attributes.project_id = '{NLP}'", {"Epsilon", "zeta", "eta"}),
    ("ATTRIBUTES.Status = 'FAILED'", {"delta"}),
]


@pytest.mark.parametrize(("text", "expected"), MATCHES, ids=[case[0] for case in MATCHES])
def test_filter_matches_exactly(store: MetadataStore, text: str, expected: set[str]) -> None:
    assert set(names(store, text)) == expected


def test_none_filter_matches_every_live_run(store: MetadataStore) -> None:
    assert set(names(store, None)) == LIVE


# -- order_by ----------------------------------------------------------------------------------

ORDERS: list[tuple[str, list[str], list[str]]] = [
    ("", [], ["eta", "zeta", "Epsilon", "delta", "gamma", "beta", "alpha"]),
    # missing metric last; the tie (alpha, zeta at 0.9) breaks by start_time DESC
    ("", ["metrics.acc DESC"], ["gamma", "zeta", "alpha", "beta", "Epsilon", "delta", "eta"]),
    ("", ["metrics.acc ASC"], ["delta", "Epsilon", "beta", "zeta", "alpha", "gamma", "eta"]),
    ("", ["metrics.acc"], ["delta", "Epsilon", "beta", "zeta", "alpha", "gamma", "eta"]),
    ("", ["metric.acc desc"], ["gamma", "zeta", "alpha", "beta", "Epsilon", "delta", "eta"]),
    # NaN after real values, missing after NaN, in both directions
    ("", ["metrics.loss"], ["eta", "alpha", "zeta", "beta", "delta", "Epsilon", "gamma"]),
    ("", ["metrics.loss DESC"], ["beta", "zeta", "alpha", "eta", "delta", "Epsilon", "gamma"]),
    ("", ["params.lr ASC"], ["delta", "zeta", "beta", "Epsilon", "gamma", "alpha", "eta"]),
    (
        "",
        ["params.lr DESC", "metrics.acc DESC"],
        ["gamma", "alpha", "Epsilon", "zeta", "beta", "delta", "eta"],
    ),
    (
        "",
        ["metrics.`val.loss` DESC"],
        ["beta", "alpha", "eta", "zeta", "Epsilon", "delta", "gamma"],
    ),
    (
        "",
        ["attributes.end_time DESC"],
        ["zeta", "Epsilon", "delta", "beta", "alpha", "eta", "gamma"],
    ),
    ("", ["attributes.end_time"], ["alpha", "beta", "delta", "Epsilon", "zeta", "eta", "gamma"]),
    (
        "",
        ["attributes.status DESC", "attributes.user ASC"],
        ["gamma", "eta", "zeta", "alpha", "Epsilon", "beta", "delta"],
    ),
    ("", ["attributes.start_time"], ["alpha", "beta", "gamma", "delta", "Epsilon", "zeta", "eta"]),
    ("tags.team = 'nlp'", ["metrics.loss ASC"], ["eta", "zeta", "Epsilon"]),
    ("tags.team = 'nlp'", ["metrics.loss DESC"], ["zeta", "eta", "Epsilon"]),
    (
        "attributes.name != 'gamma'",
        ["tags.team DESC"],
        ["beta", "alpha", "eta", "zeta", "Epsilon", "delta"],
    ),
    (
        "",
        ["metrics.acc DESC", "metrics.acc ASC", "params.lr", "tags.team", "attributes.name"],
        ["gamma", "zeta", "alpha", "beta", "Epsilon", "delta", "eta"],
    ),
]


@pytest.mark.parametrize(("text", "order_by", "expected"), ORDERS, ids=[str(o[1]) for o in ORDERS])
def test_order_by(
    store: MetadataStore, text: str, order_by: list[str], expected: list[str]
) -> None:
    assert names(store, text, order_by) == expected


def test_equal_start_times_tie_break_by_id_and_pages_are_stable(
    fresh_store: MetadataStore,
) -> None:
    store = fresh_store
    with store.write() as conn:
        for suffix in ("c", "a", "b"):
            conn.execute(
                insert(schema.runs).values(
                    id=suffix * 32, project_id=NLP, name=f"tie-{suffix}", status="FINISHED",
                    created_by="t", start_time=7000,
                )
            )  # fmt: skip
    ordered = names(store, "attributes.name LIKE 'tie-%'")
    assert ordered == ["tie-a", "tie-b", "tie-c"]
    full = names(store, None, ["metrics.acc DESC"])
    query = search_runs_query(None, ["metrics.acc DESC"])
    paged: list[str] = []
    with store.read() as conn:
        for offset in range(0, len(full), 3):
            paged += [row.name for row in conn.execute(query.limit(3).offset(offset))]
    assert paged == full


def test_a_single_string_order_by_is_one_item(store: MetadataStore) -> None:
    assert names(store, "", "metrics.acc DESC")[:2] == ["gamma", "zeta"]


# -- scope: projects and deleted runs -----------------------------------------------------------


def test_project_ids_and_deleted_runs(store: MetadataStore) -> None:
    assert set(names(store, None, project_ids=[NLP])) == {"Epsilon", "zeta", "eta"}
    assert set(names(store, None, project_ids=[VISION, NLP])) == LIVE
    assert names(store, None, project_ids=[]) == []
    assert set(names(store, None, project_ids=NLP)) == {"Epsilon", "zeta", "eta"}
    assert set(names(store, None, include_deleted=True)) == set(NAMES)
    assert names(store, "metrics.acc > 0.95", include_deleted=True) == ["theta"]
    assert names(store, "metrics.acc > 0.95") == []
    got = names(store, "params.lr = '0.1'", project_ids=[VISION], include_deleted=True)
    assert set(got) == {"alpha", "gamma", "theta"}


# -- errors ------------------------------------------------------------------------------------

ERRORS: list[tuple[str, str]] = [
    (
        "metrics.acc > and params.x = 'a'",
        "filter: expected a value after '>' at position 15 (found 'and') "
        "in \"metrics.acc > and params.x = 'a'\"",
    ),
    ("metrics.acc > ", "expected a value after '>' at position 15 (found the end)"),
    ("metrics.acc = 'high'", "metrics.acc is compared with the string 'high' at position 15"),
    ("metrics.acc IN (1, 'x')", "at position 20"),
    ("metrics.acc LIKE '9%'", "LIKE does not apply to metrics.acc at position 13"),
    ("metrics.acc NOT ILIKE '9%'", "metrics compare with numbers"),
    ("params.lr < 0.1", "'<' does not apply to params.lr at position 11"),
    ("tags.`a b` >= 'x'", "'>=' does not apply to tags.`a b` at position 12"),
    ("params.lr > 1", "params hold text: use =, !=, LIKE, ILIKE"),
    ("attributes.name > 'a'", "attributes.name is text"),
    ("attributes.start_time LIKE '1%'", "attributes.start_time is a number"),
    ("attributes.end_time = 'yesterday'", "compared with the string 'yesterday' at position 23"),
    ("attributes.colour = 'red'", "unknown attribute 'colour' at position 1"),
    ("attributes.colour = 'red'", "known attributes: status, name (or run_name), run_id"),
    ("foo.bar = 1", "unknown entity 'foo' at position 1"),
    ("metrics.a = 1 AND foo.bar = 1", "unknown entity 'foo' at position 19"),
    ("metrics = 1", "identifier 'metrics' has no key at position 1"),
    ("params. = 1", "expected a key after 'params.' at position 8"),
    ("tags.`` = 'a'", "empty key after 'tags.' at position 6"),
    ("tags.`abc = 'a'", "unterminated key starting at position 6"),
    ("params.a = 'abc", "unterminated string starting at position 12"),
    ('params.a = "abc\\"', "unterminated string starting at position 12"),
    ("(metrics.a = 1 OR metrics.b = 2", "unbalanced parentheses: unclosed '(' at position 1"),
    ("metrics.a = 1)", "unbalanced parentheses: unmatched ')' at position 14"),
    ("(metrics.a = 1 params.b = 'x')", "expected AND, OR or ')'"),
    ("()", "expected an identifier such as metrics.acc"),
    ("metrics.a = 1 metrics.b = 2", "expected AND, OR or the end of the filter at position 15"),
    ("metrics.a = 1 AND", "expected an identifier such as metrics.acc"),
    ("metrics.a IN ()", "empty IN list: give at least one value at position 15"),
    ("metrics.a NOT IN ()", "empty NOT IN list"),
    ("metrics.a IN 1", "expected '(' after IN at position 14"),
    ("metrics.a IN (1,)", "expected a value after ',' at position 17"),
    ("metrics.a IN (1 2)", "expected ',' or ')' in the IN list at position 17"),
    ("metrics.a 1", "expected an operator (=, !=, <, <=, >, >=, LIKE"),
    ("metrics.a NOT = 1", "expected LIKE, ILIKE or IN after NOT at position 15"),
    ("metrics.a IS 1", "expected NULL after IS at position 14"),
    ("params.a = NULL", "to test for a missing key use IS NULL"),
    ("params.a = other", "expected a value after '=' at position 12 (found 'other')"),
    ("metrics.a = 12abc", "malformed number '12abc' at position 13"),
    ("metrics.a = 1e999", "number 1e999 is out of range"),
    ("metrics.a = 1 ; DROP TABLE runs", "unexpected character ';' at position 15"),
    ("params.a LIKE 'x\\\\'", "LIKE pattern ends with a lone backslash at position 15"),
    ("x" * 10_001, "filter: 10001 characters is too long; the limit is 10000"),
    ("(" * 60 + "metrics.a = 1" + ")" * 60, "parentheses nest deeper than 50 levels"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[e[0][:40] for e in ERRORS])
def test_bad_filters_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        search_runs_query(text)
    assert message in info.value.detail
    assert "\n" not in info.value.detail
    with pytest.raises(InvalidInput):
        validate(text)


ORDER_ERRORS: list[tuple[list[str], str]] = [
    (["metrics.acc DOWN"], "order_by item 1: expected ASC, DESC or the end after metrics.acc"),
    (["metrics.acc", "acc"], "order_by item 2: expected an identifier such as metrics.acc"),
    (["  "], "order_by item 1: empty item"),
    (["attributes.colour"], "unknown attribute 'colour'"),
    (["foo.bar DESC"], "unknown entity 'foo'"),
    (["metrics.acc DESC, params.lr"], "position 17"),
    (["metrics.acc; DROP TABLE runs"], "unexpected character ';' at position 12"),
    (["metrics.a"] * 6, "order_by: 6 items given; the limit is 5"),
]


@pytest.mark.parametrize(("order_by", "message"), ORDER_ERRORS, ids=[e[1] for e in ORDER_ERRORS])
def test_bad_order_by_items_say_which_and_where(order_by: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=r"^order_by") as info:
        validate(None, order_by)
    assert message in info.value.detail


def test_filter_of_the_maximum_length_runs(store: MetadataStore) -> None:
    clause = "params.lr = '0.1' OR "
    text = clause * ((10_000 - 20) // len(clause)) + "metrics.acc < 0.6"
    assert len(text) <= 10_000
    assert set(names(store, text)) == {"alpha", "gamma", "Epsilon", "delta"}


# -- the AST -----------------------------------------------------------------------------------


def test_and_binds_tighter_than_or_in_the_ast() -> None:
    text = "metrics.a > 1 OR params.`b c` = 'x' and tags.t IN (2, 'y')"
    node = parse_filter(text)
    assert isinstance(node, Or) and isinstance(node.operands[1], And)
    assert node.operands[0] == Comparison(
        Identifier("metrics", "a", 1), ">", (Number(1, "1", 13),), 11
    )
    second, third = node.operands[1].operands
    assert isinstance(second, Comparison) and second.target.key == "b c"
    assert isinstance(third, Comparison) and third.op == "IN"
    two, y = text.index("2") + 1, text.index("'y'") + 1
    assert third.values == (Number(2, "2", two), String("y", y))


def test_empty_filter_parses_to_match_all() -> None:
    assert parse_filter("  ") == And(())


# -- injection ---------------------------------------------------------------------------------

INJECTIONS = [
    "params.lr = '0.1'' OR 1=1 --'",
    "params.lr = '0.1\\' OR 1=1 --'",
    "tags.\"x; DROP TABLE runs; --\" = 'a'",
    "attributes.name = 'a''); DELETE FROM runs; --'",
    "params.lr LIKE '%'' OR ''1''=''1'",
    "attributes.status IN ('x''); DROP TABLE params; --', 'y')",
    "metrics.`acc'; DELETE FROM latest_metrics; --` > 0",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_in_values_and_keys_is_only_data(store: MetadataStore, text: str) -> None:
    before = row_counts(store)
    assert names(store, text) == []
    assert row_counts(store) == before


def test_sql_in_order_by_keys_is_only_data(store: MetadataStore) -> None:
    before = row_counts(store)
    keys = ['params."x; DROP TABLE runs; --" DESC', "tags.`t'); DELETE FROM tags; --`"]
    assert set(names(store, None, keys)) == LIVE
    assert row_counts(store) == before


@pytest.mark.parametrize(
    "text",
    [
        "attributes.name = 'a'); DELETE FROM runs; --'",
        "metrics.acc > 0 OR 1=1",
        "params.lr = '0.1' OR '1'='1'",
    ],
)
def test_sql_outside_strings_is_a_syntax_error(store: MetadataStore, text: str) -> None:
    before = row_counts(store)
    with pytest.raises(InvalidInput, match="at position"):
        names(store, text)
    assert row_counts(store) == before


def test_values_and_keys_are_bound_never_inlined() -> None:
    query = search_runs_query(
        "params.`k'; DROP TABLE runs` = 'v''; DELETE FROM runs' AND metrics.m IN (1, 2)",
        ["tags.`t'; DROP TABLE tags` DESC"],
        project_ids=["p'; DROP"],
    )
    for url in ("sqlite://", "postgresql+psycopg://"):
        sql = str(query.compile(create_engine(url)))
        assert "DROP" not in sql and "DELETE" not in sql
