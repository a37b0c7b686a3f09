"""Table profiles against pandas/numpy reference values, and how bad input is reported."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slipway.data._profile import ColumnProfile, TableProfile, profile_table
from slipway.errors import InvalidInput, NotFound

ROWS = 1_000_000
LEVELS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
ODD_NAME = 'amount "net" €'

# Profiles the file in a fresh interpreter, so the check that pandas stayed out is not
# fooled by this test module having imported it.
PROFILE_IN_SUBPROCESS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from slipway.data._profile import profile_table
    profile = profile_table(Path(sys.argv[1]))
    print(json.dumps({"profile": profile.model_dump_json(),
                      "pandas": "pandas" in sys.modules}))
    """
)


def _million_row_table(path: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240611)
    normal = rng.normal(50.0, 10.0, ROWS)
    normal[rng.random(ROWS) < 0.02] = np.nan
    normal_null = rng.random(ROWS) < 0.03
    counts = rng.integers(-1000, 1000, ROWS)
    counts_null = rng.random(ROWS) < 0.1
    weights = 1.0 / np.arange(1, 31)  # Zipf-like: a few categories hold most rows
    categories = np.array([f"cat_{i:02d}" for i in range(30)])
    category = categories[rng.choice(30, ROWS, p=weights / weights.sum())]
    flag = rng.random(ROWS) < 0.7
    start = np.datetime64("2024-01-01T00:00:00", "us")
    seen = start + rng.integers(0, 365 * 86_400 * 10**6, ROWS).astype("timedelta64[us]")
    table = pa.table(
        {
            "normal": pa.array(normal, mask=normal_null),
            "count": pa.array(counts, mask=counts_null),
            "category": pa.array(category),
            "flag": pa.array(flag),
            "seen": pa.array(seen),
            ODD_NAME: pa.array(rng.exponential(3.0, ROWS)),
        }
    )
    pq.write_table(table, path, row_group_size=128 * 1024)
    return {"normal": normal, "normal_null": normal_null, "counts_null": counts_null}


def _profile_in_subprocess(path: Path) -> TableProfile:
    out = subprocess.run(
        [sys.executable, "-c", PROFILE_IN_SUBPROCESS, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["pandas"] is False, "profiling imported pandas"
    return TableProfile.model_validate_json(result["profile"])


def _assert_numeric(col: ColumnProfile, values: pd.Series) -> None:
    """`values` are the column's non-null, non-NaN values."""
    data = values.to_numpy(dtype=np.float64)
    assert col.kind == "numeric"
    assert col.min == data.min() and col.max == data.max()
    assert col.mean == pytest.approx(values.mean(), rel=1e-9)
    assert col.std == pytest.approx(values.std(), rel=1e-9)  # pandas: ddof=1
    assert col.distinct_count == values.nunique()
    assert col.quantiles is not None and list(col.quantiles) == [str(q) for q in LEVELS]
    for level, expected in zip(LEVELS, np.quantile(data, LEVELS), strict=True):
        assert col.quantiles[str(level)] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    counts, edges = np.histogram(data, bins=20, range=(data.min(), data.max()))
    assert col.histogram is not None
    assert col.histogram.edges == pytest.approx(edges.tolist(), rel=1e-12)
    assert col.histogram.counts == counts.tolist()


def _top(values: pd.Series, n: int = 10) -> list[tuple[str, int]]:
    counts = [(str(value), int(count)) for value, count in values.value_counts().items()]
    return sorted(counts, key=lambda vc: (-vc[1], vc[0]))[:n]


def test_million_row_parquet_matches_pandas_and_numpy_without_pandas(tmp_path):
    path = tmp_path / "big.parquet"
    truth = _million_row_table(path)
    profile = _profile_in_subprocess(path)
    frame = pd.read_parquet(path)

    assert profile.format == "parquet" and profile.row_count == ROWS
    by_name = {col.name: col for col in profile.columns}
    assert list(by_name) == list(frame.columns)
    assert {name: col.type for name, col in by_name.items()} == {
        "normal": "double",
        "count": "int64",
        "category": "string",
        "flag": "bool",
        "seen": "timestamp[us]",
        ODD_NAME: "double",
    }

    normal = by_name["normal"]
    nan_count = int(np.isnan(truth["normal"][~truth["normal_null"]]).sum())
    assert normal.null_count == int(truth["normal_null"].sum())
    assert normal.nan_count == nan_count > 0 and normal.inf_count == 0
    assert normal.null_rate == pytest.approx(normal.null_count / ROWS, rel=1e-12)
    _assert_numeric(normal, frame["normal"].dropna())  # pandas: null and NaN both NaN

    count = by_name["count"]
    assert count.null_count == int(truth["counts_null"].sum())
    _assert_numeric(count, frame["count"].dropna())
    assert isinstance(count.min, int) and isinstance(count.max, int)

    _assert_numeric(by_name[ODD_NAME], frame[ODD_NAME])

    category = by_name["category"]
    assert category.kind == "categorical" and category.null_count == 0
    assert category.distinct_count == frame["category"].nunique() == 30
    assert category.top == _top(frame["category"])
    assert category.mean is None and category.histogram is None

    flag = by_name["flag"]
    assert flag.kind == "boolean" and flag.distinct_count == 2
    assert flag.top == _top(frame["flag"].map({True: "true", False: "false"}))

    seen = by_name["seen"]
    assert seen.kind == "temporal" and seen.null_count == 0
    assert seen.min == frame["seen"].min().to_pydatetime().isoformat()
    assert seen.max == frame["seen"].max().to_pydatetime().isoformat()
    assert seen.distinct_count == frame["seen"].nunique()
    assert profile.pii == []


# -- CSV ------------------------------------------------------------------------------------

CSV = (
    'id,name,"unit price",joined,active\n'
    '1,"Smith, Anna",2.5,2024-01-02,true\n'
    '2,"Say ""hi""",,2024-03-04,false\n'
    "3,,4.25,,true\n"
    "4,Bob,1.0,2023-12-31,\n"
)


def _check_small_csv(profile: TableProfile) -> None:
    assert profile.format == "csv" and profile.row_count == 4
    assert [(c.name, c.type, c.kind) for c in profile.columns] == [
        ("id", "int64", "numeric"),
        ("name", "string", "categorical"),
        ("unit price", "double", "numeric"),
        ("joined", "date32[day]", "temporal"),
        ("active", "bool", "boolean"),
    ]
    name = profile.column("name")
    assert name.null_count == 1 and name.null_rate == 0.25
    assert name.top == [("Bob", 1), ('Say "hi"', 1), ("Smith, Anna", 1)]
    price = profile.column("unit price")
    assert (price.null_count, price.min, price.max) == (1, 1.0, 4.25)
    assert price.mean == pytest.approx(np.mean([2.5, 4.25, 1.0]), rel=1e-12)
    assert price.std == pytest.approx(np.std([2.5, 4.25, 1.0], ddof=1), rel=1e-12)
    joined = profile.column("joined")
    assert (joined.min, joined.max, joined.null_count) == ("2023-12-31", "2024-03-04", 1)
    assert profile.column("active").top == [("true", 2), ("false", 1)]
    assert profile.column("id").quantiles == {
        str(q): pytest.approx(float(np.quantile([1, 2, 3, 4], q)), rel=1e-12) for q in LEVELS
    }


def test_csv_with_quoted_fields_and_empty_values(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    _check_small_csv(profile_table(path))


def test_gzip_csv_and_tsv(tmp_path):
    gz = tmp_path / "people.csv.gz"
    gz.write_bytes(gzip.compress(CSV.encode()))
    _check_small_csv(profile_table(gz))
    tsv = tmp_path / "people.tsv"
    tsv.write_text(pd.read_csv(tmp_path / "people.csv.gz").to_csv(sep="\t", index=False))
    assert profile_table(tsv).column("unit price").max == 4.25


def test_csv_types_come_from_the_whole_file(tmp_path):
    # A sniffer that sampled the first rows would call this an integer column, then fail.
    path = tmp_path / "late.csv"
    path.write_text("code\n" + "1\n" * 30_000 + "n/a\n")
    code = profile_table(path).column("code")
    assert code.kind == "categorical" and code.top == [("1", 30_000), ("n/a", 1)]


def test_path_with_quotes_and_glob_characters(tmp_path):
    # DuckDB reads file arguments as globs: "v[1]" would otherwise mean "v1".
    (tmp_path / "it's v1*.csv").write_text("x\n99\n")
    path = tmp_path / "it's v[1]*.csv"
    path.write_text("x\n1\n2\n")
    profile = profile_table(path)
    assert profile.row_count == 2 and profile.column("x").max == 2


def test_explicit_format_overrides_the_name(tmp_path):
    path = tmp_path / "table.txt"
    path.write_text("a\n1\n")
    assert profile_table(path, format="csv").row_count == 1


# -- bad input ------------------------------------------------------------------------------


def test_unknown_suffix_is_invalid_input(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(InvalidInput, match=r"table\.xlsx.*\.parquet"):
        profile_table(path)


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        profile_table(tmp_path / "gone.parquet")


def test_error_names_the_reason_without_quoting_the_data(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name\nJosé Secret\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not utf-8 encoded") as caught:
        profile_table(path)
    assert "Secret" not in str(caught.value)


def test_rows_of_a_ragged_csv_are_not_skipped(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    # DuckDB's sniffer alone would skip to the consistent "3,4,5" and report no rows.
    assert profile_table(path).row_count == 2


@pytest.mark.parametrize("name", ["garbled.parquet", "garbled.csv"])
def test_garbled_file_is_invalid_input_naming_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8)))
    with pytest.raises(InvalidInput) as caught:
        profile_table(path)
    message = str(caught.value)
    assert str(path) in message and "cannot read it as" in message
    assert "Traceback" not in message and "\n" not in message


# -- edge cases -----------------------------------------------------------------------------


def test_empty_tables(tmp_path):
    parquet = tmp_path / "empty.parquet"
    schema = pa.schema([("x", pa.float64()), ("s", pa.string()), ("t", pa.timestamp("ms"))])
    pq.write_table(schema.empty_table(), parquet)
    profile = profile_table(parquet)
    assert profile.row_count == 0 and [c.type for c in profile.columns] == [
        "double",
        "string",
        "timestamp[ms]",
    ]
    x = profile.column("x")
    assert (x.null_count, x.null_rate, x.min, x.mean, x.quantiles, x.histogram) == (
        0,
        0.0,
        None,
        None,
        None,
        None,
    )
    assert profile.column("s").top == []

    csv = tmp_path / "empty.csv"
    csv.write_text("a,b\n")
    profile = profile_table(csv)
    assert profile.row_count == 0 and [c.name for c in profile.columns] == ["a", "b"]
    csv.write_bytes(b"")
    assert profile_table(csv) == TableProfile(format="csv", row_count=0, columns=[])


def test_all_null_and_constant_columns(tmp_path):
    path = tmp_path / "nulls.parquet"
    table = pa.table(
        {
            "none": pa.array([None] * 5, pa.float64()),
            "untyped": pa.nulls(5),
            "same": [7, 7, 7, 7, 7],
        }
    )
    pq.write_table(table, path)
    profile = profile_table(path)
    none = profile.column("none")
    assert (none.null_count, none.null_rate, none.distinct_count) == (5, 1.0, 0)
    assert none.mean is None and none.std is None and none.histogram is None
    assert profile.column("untyped").null_rate == 1.0
    same = profile.column("same")
    assert same.std == 0.0 and same.histogram is not None
    assert (same.histogram.edges, same.histogram.counts) == ([7.0, 7.0], [5])

    csv = tmp_path / "nulls.csv"
    csv.write_text("a,b\n1,\n2,\n")
    assert profile_table(csv).column("b").null_rate == 1.0


def test_infinities_are_counted_apart_and_json_stays_standard(tmp_path):
    path = tmp_path / "inf.parquet"
    values = [1.0, float("inf"), -float("inf"), float("nan"), None, 3.0]
    pq.write_table(pa.table({"x": pa.array(values, pa.float64())}), path)
    profile = profile_table(path)
    x = profile.column("x")
    assert (x.null_count, x.nan_count, x.inf_count) == (1, 1, 2)
    assert (x.min, x.max, x.mean) == (1.0, 3.0, 2.0)
    text = profile.model_dump_json()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)  # strict JSON
    assert TableProfile.model_validate_json(text) == profile


def test_large_integers_stay_exact_and_ties_sort_by_value(tmp_path):
    path = tmp_path / "ids.parquet"
    big = 2**62 + 1
    pq.write_table(pa.table({"id": [big, big - 7], "s": ["b", "a"]}), path)
    profile = profile_table(path, top=1)
    assert (profile.column("id").min, profile.column("id").max) == (big - 7, big)
    assert profile.column("s").top == [("a", 1)]
    again = TableProfile.model_validate_json(profile.model_dump_json())
    assert again.column("id").max == big


def test_bins_and_top_are_parameters(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"x": np.arange(100.0), "s": [str(i % 7) for i in range(100)]}), path)
    profile = profile_table(path, bins=5, top=3)
    histogram = profile.column("x").histogram
    assert histogram is not None and histogram.counts == [20, 20, 20, 20, 20]
    top = profile.column("s").top
    assert top is not None and len(top) == 3
    with pytest.raises(InvalidInput):
        profile_table(path, bins=0)


def test_clashing_names_keep_the_files_spelling(tmp_path):
    path = tmp_path / "case.parquet"
    pq.write_table(pa.table({"Email": ["a@example.com"] * 3, "email": ["x"] * 3}), path)
    profile = profile_table(path)
    assert [c.name for c in profile.columns] == ["Email", "email"]
    assert [(f.column, f.kind) for f in profile.pii] == [("Email", "email")]


def test_profile_is_reproducible(tmp_path):
    path = tmp_path / "r.parquet"
    rng = np.random.default_rng(3)
    pq.write_table(pa.table({"x": rng.normal(size=50_000)}), path)
    first = profile_table(path)
    assert profile_table(path) == first


def test_estimates_when_exact_statistics_do_not_fit_in_memory(tmp_path, monkeypatch):
    # Exact quantiles hold every value; 2M doubles do not fit in 32MB, their t-digest does.
    monkeypatch.setattr("slipway.data._profile.MEMORY_LIMIT", 32 * 2**20)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    path = tmp_path / "wide.parquet"
    values = np.random.default_rng(11).normal(size=2_000_000)
    pq.write_table(pa.table({"x": values}), path)
    profile = profile_table(path)
    x = profile.column("x")
    assert profile.exact is False
    assert x.mean == pytest.approx(values.mean(), rel=1e-9)  # moments stay exact
    assert x.quantiles is not None
    for level in ("0.05", "0.5", "0.95"):
        assert x.quantiles[level] == pytest.approx(np.quantile(values, float(level)), abs=0.02)
    assert x.distinct_count == pytest.approx(len(values), rel=0.1)  # HyperLogLog
    assert x.histogram is not None and sum(x.histogram.counts) == len(values)


def test_wide_tables_are_aggregated_in_groups_with_the_same_result(tmp_path, monkeypatch):
    path = tmp_path / "wide.parquet"
    rng = np.random.default_rng(5)
    columns = {f"c{i}": rng.normal(size=10_000) for i in range(6)}
    columns["s"] = [str(v) for v in rng.integers(0, 50, 10_000)]
    pq.write_table(pa.table(columns), path)
    in_one_pass = profile_table(path)
    # Make a column's values weigh half the budget: two columns per query, four queries.
    monkeypatch.setattr("slipway.data._profile._EXACT_BYTES_PER_VALUE", 2**28 // 10_000)
    in_groups = profile_table(path)
    assert in_groups.exact and in_groups == in_one_pass
