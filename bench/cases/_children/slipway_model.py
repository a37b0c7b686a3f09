"""Slipway's side of the `model_serve` case, one step per fresh process; prints JSON.

    .venv/bin/python slipway_model.py prepare            (cwd: a `slipway init` workspace)
    .venv/bin/python slipway_model.py measure REF --calls N [--full-skops-import]
    .venv/bin/python slipway_model.py bare [--with-skops]

`prepare` trains the bench model, registers it (and its ONNX conversion) and writes the
expected predictions; `measure` times `import slipway` + `sw.models.load(REF)` in this fresh
process, checks the predictions, then times single-row `predict` calls; `--full-skops-import`
sets $SLIPWAY_SKOPS_FULL_IMPORT=1 first (skops imported with scikit-learn's torch adapter, the
trick off). `bare` times `import sklearn.ensemble, sklearn.pipeline` alone, the same way: the
floor a scikit-learn load cannot go under; `--with-skops` adds `skops.io`, imported as
Slipway's scikit-learn flavor imports it: the floor for a model stored in skops's format.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from _model_data import train
from _model_timing import EXPECTED, SAMPLE, measure_loaded


def prepare() -> dict[str, Any]:
    import slipway as sw

    model, frame = train()
    version = sw.models.log_model(model, "bench", input_example=frame.head(5))
    refs = {"sklearn": version.ref}
    if hasattr(sw.models, "to_onnx"):
        refs["onnx"] = sw.models.to_onnx(version.ref).ref
    sample = frame.head(SAMPLE)
    EXPECTED.write_text(json.dumps(model.predict(sample).tolist()))
    return refs


def measure(ref: str, calls: int) -> dict[str, Any]:
    def load() -> Any:
        import slipway as sw

        return sw.models.load(ref)

    return measure_loaded(load, f"slipway {ref}", calls)


def bare(with_skops: bool) -> dict[str, Any]:
    start = time.perf_counter()
    import sklearn.ensemble
    import sklearn.pipeline  # noqa: F401

    if with_skops:
        # The flavor's own import (the module that holds the trick), so this floor is what
        # reading a skops file costs Slipway before any of its work.
        from slipway.models.flavors._skops import import_skops_io

        import_skops_io()
    return {"load_s": time.perf_counter() - start}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["prepare", "measure", "bare"])
    parser.add_argument("ref", nargs="?")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--full-skops-import", action="store_true")
    parser.add_argument("--with-skops", action="store_true")
    args = parser.parse_args(argv)
    if args.full_skops_import:
        os.environ["SLIPWAY_SKOPS_FULL_IMPORT"] = "1"
    if args.step == "bare":
        result = bare(args.with_skops)
    else:
        result = prepare() if args.step == "prepare" else measure(args.ref, args.calls)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
