"""What `evaluate` feeds the metrics: the data as a DataFrame, and the model as a Scorer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from slipway.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]
    import pyarrow

    from slipway.models._evaluate import Scorer
    from slipway.models._package import PackagedModel


class Tables(Protocol):
    """Reads a dataset version's table (`slipway.data.Data` does)."""

    def load_table(
        self, ref: str, *, table: str | None = None, project: str | None = None
    ) -> pyarrow.Table: ...


def frame_of(data: Any, tables: Tables | None, project: str) -> tuple[pd.DataFrame, str]:
    """(the data as a DataFrame, what to call it in the record)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data, "a DataFrame"
    if hasattr(data, "to_pandas") and hasattr(data, "schema"):
        return data.to_pandas(), "an Arrow table"
    if isinstance(data, str | Path) and Path(data).is_file():
        path = Path(data)
        if path.name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path), path.name
        return pd.read_csv(path, sep="\t" if path.name.endswith(".tsv") else ","), path.name
    if isinstance(data, str) and tables is not None:
        table = tables.load_table(data, project=project)
        return table.to_pandas(), data
    raise InvalidInput(
        "evaluation data must be a pandas DataFrame, a pyarrow Table, a CSV or Parquet "
        f"file, or a dataset version NAME@vN; got {type(data).__name__}"
    )


def scorer_of(loaded: PackagedModel) -> Scorer:
    """Predictions through the package (input checked by its signature); class probabilities
    too when the model is a classifier that gives them."""
    from slipway.models._evaluate import Scorer

    raw, signature = loaded.model, loaded.signature
    inputs = [c.name for c in signature.inputs] if signature is not None else None
    # Only where predict_proba is the estimator API's: a pyfunc's method could mean anything.
    api = loaded.flavor in ("sklearn", "xgboost", "lightgbm")
    proba = getattr(raw, "predict_proba", None) if api else None
    classes = getattr(raw, "classes_", None)
    if proba is None or classes is None:
        return Scorer(loaded.predict, inputs=inputs)

    def probabilities(data: Any) -> Any:
        return proba(signature.validate(data) if signature is not None else data)

    return Scorer(loaded.predict, probabilities, list(classes), inputs)
