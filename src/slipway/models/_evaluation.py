"""`evaluate`: score a registered version on labelled data here, keep the scores in the registry.

The data becomes a DataFrame (`frame_of`), the loaded package a Scorer (`scorer_of`), and
`_scoring.score_frame` measures; the registry only keeps the result (`record_evaluation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

    from slipway.client import Client
    from slipway.models._package import PackagedModel
    from slipway.models._scoring import Scorer
    from slipway.services.registry.schemas import Evaluation, ModelVersion


def evaluate_loaded(
    client: Client,
    version: ModelVersion,
    loaded: PackagedModel,
    data: Any,
    *,
    target: str,
    task: str,
    slices: Sequence[str],
) -> Evaluation:
    """Score `loaded` (version `version`'s model) on `data` and record the scores with it."""
    from slipway.models._scoring import score_frame

    frame, label = frame_of(data, client, version.project)
    scores = score_frame(scorer_of(loaded), frame, target=target, task=task, slices=slices)
    return client.models.record_evaluation(
        version,
        task=scores.task,
        data=label,
        rows=scores.rows,
        metrics=scores.metrics,
        confusion_matrix=scores.confusion_matrix,
        slices=scores.slices,
        latency=scores.latency,
    )


def frame_of(data: Any, client: Client | None, project: str) -> tuple[pd.DataFrame, str]:
    """(the data as a DataFrame, what to call it in the record); a string that is not a file
    is a dataset version, read through `client`."""
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
    if isinstance(data, str) and client is not None:
        from slipway.data import Data

        table = Data(client).load_table(data, project=project)
        return table.to_pandas(), data
    raise InvalidInput(
        "evaluation data must be a pandas DataFrame, a pyarrow Table, a CSV or Parquet "
        f"file, or a dataset version NAME@vN; got {type(data).__name__}"
    )


def scorer_of(loaded: PackagedModel) -> Scorer:
    """Predictions through the package (input checked by its signature); class probabilities
    too when the model is a classifier that gives them."""
    from slipway.models._scoring import Scorer

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
