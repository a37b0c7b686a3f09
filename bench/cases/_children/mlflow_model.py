"""MLflow's side of the `model_serve` case, one step per fresh process; prints JSON.

    .venv-anchors/bin/python mlflow_model.py prepare              (cwd: an empty folder)
    .venv-anchors/bin/python mlflow_model.py measure URI --calls N

`prepare` trains the same model as slipway_model.py and logs it with `mlflow.sklearn.log_model`
(skops format, MLflow's default when skops is installed) to a SQLite tracking store; `measure`
times `import mlflow.pyfunc` + `mlflow.pyfunc.load_model(URI)` in this fresh process, checks
the predictions, then times single-row `predict` calls.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from _model_data import train
from _model_timing import EXPECTED, SAMPLE, measure_loaded


def tracking_uri() -> str:
    return f"sqlite:///{os.path.abspath('mlflow.db')}"


def prepare() -> dict[str, Any]:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    model, frame = train()
    with mlflow.start_run():
        # MLflow's default format here is skops, like Slipway's; the forest's tree type must
        # be declared trusted when logging, and MLflow trusts it again when loading.
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=frame.head(5),
            skops_trusted_types=["sklearn.tree._tree.Tree"],
        )
    EXPECTED.write_text(json.dumps(model.predict(frame.head(SAMPLE)).tolist()))
    return {"sklearn": info.model_uri}


def measure(uri: str, calls: int) -> dict[str, Any]:
    def load() -> Any:
        import mlflow.pyfunc

        mlflow.set_tracking_uri(tracking_uri())
        return mlflow.pyfunc.load_model(uri)

    return measure_loaded(load, f"mlflow {uri}", calls)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["prepare", "measure"])
    parser.add_argument("uri", nargs="?")
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args(argv)
    result = prepare() if args.step == "prepare" else measure(args.uri, args.calls)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
