"""Signatures: inferred from examples, stored as JSON, the gate every prediction input passes."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from slipway.errors import InvalidInput
from slipway.models import ColumnSpec, Signature, infer_signature


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([34, 51, 27], dtype="int64"),
            "income": [52000.5, 61000.0, 38000.25],
            "active": [True, False, True],
            "plan": ["basic", "pro", "basic"],
            "joined": pd.to_datetime(["2021-03-01", "2019-11-15", "2023-06-30"]),
            "referrals": pd.array([1, None, 3], dtype="Int64"),
        }
    )


SIGNATURE = Signature(
    [
        ColumnSpec("age", "integer"),
        ColumnSpec("income", "float"),
        ColumnSpec("active", "boolean"),
        ColumnSpec("plan", "string"),
        ColumnSpec("joined", "datetime"),
        ColumnSpec("referrals", "integer", nullable=True),
    ]
)


def test_a_dataframe_example_gives_typed_columns_with_nullability() -> None:
    signature = infer_signature(customers())
    assert signature == SIGNATURE
    assert signature.input_format == "dataframe"


def test_records_and_arrow_tables_infer_the_same_as_a_dataframe() -> None:
    frame = customers()
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    assert infer_signature(records) == SIGNATURE
    assert infer_signature(pa.Table.from_pandas(frame, preserve_index=False)) == SIGNATURE


def test_an_array_example_gives_numbered_columns_and_the_outputs_their_own() -> None:
    features = np.arange(6, dtype=np.float64).reshape(3, 2)
    signature = infer_signature(features, output=np.array([0, 1, 1]))
    assert signature.input_format == "ndarray"
    assert signature.inputs == (ColumnSpec("0", "float"), ColumnSpec("1", "float"))
    assert signature.outputs == (ColumnSpec("0", "integer"),)


def test_the_dict_form_is_json_and_reads_back_equal() -> None:
    signature = infer_signature(customers(), output=pd.Series([0.5, 0.1, 0.9], name="score"))
    text = json.dumps(signature.to_dict())
    assert Signature.from_dict(json.loads(text)) == signature
    assert json.loads(text)["inputs"][5] == {
        "name": "referrals",
        "type": "integer",
        "nullable": True,
    }
    assert json.loads(text)["outputs"] == [{"name": "score", "type": "float", "nullable": False}]


def test_malformed_signatures_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown type 'decimal'"):
        Signature.from_dict({"inputs": [{"name": "x", "type": "decimal"}]})
    with pytest.raises(InvalidInput, match="repeat: 'x'"):
        Signature([ColumnSpec("x", "float"), ColumnSpec("x", "integer")])
    with pytest.raises(InvalidInput, match='"0", "1"'):
        Signature([ColumnSpec("a", "float")], input_format="ndarray")
    with pytest.raises(InvalidInput, match="only nulls"):
        infer_signature(pd.DataFrame({"x": [None, None]}, dtype=object))


def test_every_input_kind_gives_the_model_the_same_frame() -> None:
    frame = customers()
    expected = SIGNATURE.validate(frame)
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    for given in (
        pa.Table.from_pandas(frame, preserve_index=False),
        records,
        frame[list(reversed(frame.columns))],  # columns in another order
    ):
        pd.testing.assert_frame_equal(SIGNATURE.validate(given), expected)
    one = SIGNATURE.validate(records[0])
    pd.testing.assert_frame_equal(one, expected.head(1))
    assert str(expected["referrals"].dtype) == "Int64"  # nulls kept, the column stays integer


def test_ints_widen_to_floats_and_whole_floats_narrow_to_ints() -> None:
    signature = Signature([ColumnSpec("count", "integer"), ColumnSpec("price", "float")])
    given = signature.validate([{"count": 3.0, "price": 2}, {"count": 4, "price": 2.5}])
    assert given["count"].tolist() == [3, 4] and given["count"].dtype == np.int64
    assert given["price"].tolist() == [2.0, 2.5] and given["price"].dtype == np.float64


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("age", 34.5, "column 'age' expects integer, got a float with a fraction (34.5 at row 1)"),
        ("income", "a lot", "column 'income' expects float, got a string ('a lot' at row 1)"),
        ("age", True, "column 'age' expects integer, got a boolean (True at row 1)"),
        ("plan", 3, "column 'plan' expects string, got a integer (3 at row 1)"),
        ("active", "yes", "column 'active' expects boolean, got a string ('yes' at row 1)"),
        ("joined", "last week", "column 'joined' expects datetime, got a string that is not"),
        ("income", [1.0], "column 'income' expects float, got a value of type list"),
    ],
)
def test_a_value_of_the_wrong_type_names_column_type_and_value(
    column: str, value: object, message: str
) -> None:
    records = customers().astype(object).to_dict(orient="records")
    records[1][column] = value
    with pytest.raises(InvalidInput) as caught:
        SIGNATURE.validate(records)
    assert message in caught.value.detail


def test_typed_columns_of_the_wrong_type_are_refused_too() -> None:
    frame = customers()
    frame["age"] = frame["age"] + 0.5
    frame["plan"] = [1, 2, 3]
    with pytest.raises(InvalidInput) as caught:
        SIGNATURE.validate(frame)
    detail = caught.value.detail
    assert "column 'age' expects integer, got a float with a fraction (34.5 at row 0)" in detail
    assert "column 'plan' expects string, got a integer (1 at row 0)" in detail


def test_missing_and_extra_columns_are_named_with_what_the_model_takes() -> None:
    frame = customers().drop(columns=["income", "plan"]).assign(churned=[0, 1, 0])
    with pytest.raises(InvalidInput) as caught:
        SIGNATURE.validate(frame)
    detail = caught.value.detail
    assert "missing column(s) 'income', 'plan'" in detail
    assert "unexpected column(s) 'churned'; drop them" in detail
    assert "The model takes: age (integer), income (float)" in detail
    assert "referrals (integer, nullable)" in detail


def test_nulls_pass_only_where_the_signature_allows_them() -> None:
    records = customers().astype(object).where(customers().notna(), None).to_dict("records")
    del records[2]["income"]  # a record without the key is a null too
    records[0]["plan"] = None
    with pytest.raises(InvalidInput) as caught:
        SIGNATURE.validate(records)
    assert "column 'income' (float) is not nullable but row 2 is null" in caught.value.detail
    assert "column 'plan' (string) is not nullable but row 0 is null" in caught.value.detail
    nullable = Signature([ColumnSpec("plan", "string", nullable=True)])
    assert nullable.validate([{"plan": "pro"}, {"plan": None}])["plan"].isna().tolist() == [
        False,
        True,
    ]


def test_datetimes_take_iso_strings_from_json() -> None:
    signature = Signature([ColumnSpec("at", "datetime")])
    given = signature.validate([{"at": "2024-05-01T10:30:00"}, {"at": dt.datetime(2024, 5, 2)}])
    assert given["at"].tolist() == [pd.Timestamp("2024-05-01 10:30"), pd.Timestamp("2024-05-02")]


def test_an_array_signature_gives_the_model_an_array_from_any_input() -> None:
    signature = infer_signature(np.array([[1.0, 2.0], [3.0, 4.0]]))
    rows = np.array([[5, 6], [7, 8]])  # integers widen
    for given in (rows, [[5, 6], [7, 8]], [{"0": 5, "1": 6}, {"0": 7, "1": 8}], pd.DataFrame(rows)):
        result = signature.validate(given)
        assert isinstance(result, np.ndarray) and result.dtype == np.float64
        np.testing.assert_array_equal(result, rows.astype(float))


def test_an_array_with_a_null_or_the_wrong_width_is_refused() -> None:
    signature = infer_signature(np.array([[1.0, 2.0]]))
    with pytest.raises(InvalidInput, match=r"column '1' \(float\) is not nullable but row 1"):
        signature.validate(np.array([[1.0, 2.0], [3.0, np.nan]]))
    with pytest.raises(InvalidInput, match=r"unexpected column.*'2'"):
        signature.validate(np.ones((2, 3)))
    with pytest.raises(InvalidInput, match="1-D array is ambiguous"):
        signature.validate(np.ones(2))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ([], "no rows"),
        (pd.DataFrame({"0": []}), "no rows"),
        ("1,2", "cannot read input of type str"),
        ([{"0": 1}, [1]], "not a mix"),
    ],
)
def test_unreadable_input_is_refused_clearly(given: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Signature([ColumnSpec("0", "float")]).validate(given)


def test_a_frame_that_already_fits_gives_what_the_long_way_gives() -> None:
    frame = pd.DataFrame(
        {
            "b": np.array([1.5, 2.5]),
            "a": np.array([3, 4], dtype="int64"),
            "c": pd.array([1, None], dtype="Int64"),
            "d": np.array([True, False]),
        }
    )
    signature = infer_signature(frame[["a", "b", "c", "d"]])
    fast = signature.validate(frame)  # dtypes fit: passed on, columns put in order
    slow = signature.validate(frame.to_dict(orient="records"))  # converted value by value
    assert list(fast.columns) == ["a", "b", "c", "d"]
    pd.testing.assert_frame_equal(fast, slow)


def test_a_null_in_a_fitting_float_column_is_still_refused_by_name() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [0.5, 1.5]})
    signature = infer_signature(frame)
    with pytest.raises(InvalidInput, match="'y' \\(float\\) is not nullable but row 1 is null"):
        signature.validate(frame.assign(y=[0.5, np.nan]))
