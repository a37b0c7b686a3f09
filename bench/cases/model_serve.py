"""`model_serve`: load a registered model in a fresh process and predict one row at a time,
Slipway's scikit-learn package and its ONNX conversion next to MLflow's pyfunc of the same model.

Both children train the same pipeline (StandardScaler + a 100-tree random forest, 20 features,
5,000 rows; `_children/_model_data.py`), register it (Slipway: `sw.models.log_model`, then
`sw.models.to_onnx`; MLflow: `mlflow.sklearn.log_model` in its default skops format) untimed,
and check every loaded model's predictions against the trained one's.

Target (issue 15): the scikit-learn load within 0.5 s of a bare `import sklearn.ensemble,
sklearn.pipeline` timed the same way (the floor: the model's own library), and at least 3x
faster than MLflow's pyfunc load. The same import followed by skops.io's, as Slipway imports
it, is listed too: the floor for any load of a skops file (skops lists every scikit-learn
estimator as it is imported). A last row loads with $SLIPWAY_SKOPS_FULL_IMPORT=1, skops
imported with scikit-learn's torch adapter (`slipway.models.flavors._skops`): what that trick buys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cases._common import (
    SLIPWAY_BIN,
    Anchor,
    Case,
    Options,
    Row,
    Target,
    check_output,
    median,
    spread,
)
from cases._tracking import (
    MLFLOW,
    SLIPWAY,
    Tool,
    child_env,
    collect,
    require_mlflow,
    sig3,
    spawn,
)

SLIPWAY_MODEL = Tool("slipway", SLIPWAY.python, "slipway_model.py")
MLFLOW_MODEL = Tool("mlflow", MLFLOW.python, "mlflow_model.py")
WHAT = "a scaler + 100-tree random forest pipeline (20 features)"
BARE = "bare sklearn import"
BARE_SKOPS = "bare sklearn + skops.io import"
FULL = "slipway sklearn, full skops import"
WITHIN_S = 0.5  # of the bare scikit-learn import
FACTOR = 3.0  # times faster than MLflow's pyfunc load


def run(options: Options) -> list[Row]:
    require_mlflow()
    rounds, calls = (1, 200) if options.quick else (3, 1000)
    slipway_ws, mlflow_dir = options.work / "slipway", options.work / "mlflow"
    slipway_ws.mkdir(parents=True)
    mlflow_dir.mkdir(parents=True)
    check_output([SLIPWAY_BIN / "slipway", "init"], cwd=slipway_ws, env=child_env())
    refs = _prepare(SLIPWAY_MODEL, slipway_ws)
    uri = _prepare(MLFLOW_MODEL, mlflow_dir)["sklearn"]
    subjects: dict[str, tuple[Tool, str, Path]] = {
        "slipway sklearn": (SLIPWAY_MODEL, refs["sklearn"], slipway_ws),
        "mlflow pyfunc": (MLFLOW_MODEL, uri, mlflow_dir),
    }
    if "onnx" in refs:
        subjects["slipway onnx"] = (SLIPWAY_MODEL, refs["onnx"], slipway_ws)
    subjects[FULL] = (SLIPWAY_MODEL, refs["sklearn"], slipway_ws)
    subjects[BARE] = (SLIPWAY_MODEL, "", slipway_ws)
    subjects[BARE_SKOPS] = (SLIPWAY_MODEL, "", slipway_ws)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in subjects}
    for round_ in range(rounds):  # a fresh process each; the order turns every round
        order = list(subjects)[round_ % len(subjects) :] + list(subjects)[: round_ % len(subjects)]
        for name in order:
            tool, target, cwd = subjects[name]
            if name == BARE:
                args: tuple[str, ...] = ("bare",)
            elif name == BARE_SKOPS:
                args = ("bare", "--with-skops")
            elif name == FULL:  # the load alone matters here
                args = ("measure", target, "--calls", "1", "--full-skops-import")
            else:
                args = ("measure", target, "--calls", str(calls))
            results[name].append(collect(spawn(tool, *args, cwd=cwd)))
    rows = []
    for subject in ("slipway sklearn", "slipway onnx"):
        if subject in subjects:
            rows.append(_row(results, subject, "load", rounds, refs, uri))
            rows.append(_row(results, subject, "predict", rounds, refs, uri, calls))
    rows.append(_row(results, FULL, "load", rounds, refs, uri))
    return rows


def _prepare(tool: Tool, cwd: Path) -> dict[str, str]:
    child = spawn(tool, "prepare", cwd=cwd)
    return {str(k): str(v) for k, v in collect(child).items()}


def _row(
    results: dict[str, list[dict[str, Any]]],
    subject: str,
    kind: str,
    rounds: int,
    refs: dict[str, str],
    uri: str,
    calls: int = 0,
) -> Row:
    key, scale, unit = ("load_s", 1.0, "s") if kind == "load" else ("median_s", 1e3, "ms")
    values = {
        name: [sig3(r[key] * scale) for r in found]
        for name, found in results.items()
        if kind == "load" or name not in (BARE, BARE_SKOPS)
    }
    flavor = "sklearn" if subject == FULL else subject.removeprefix("slipway ")
    target = None
    if kind == "load":
        metric = f"load {WHAT}, {flavor} package, in a fresh process, imports included"
        how = {
            subject: f"`import slipway; sw.models.load('{refs[flavor]}')`",
            "mlflow pyfunc": f"`import mlflow.pyfunc; mlflow.pyfunc.load_model('{uri}')`",
            BARE: "`import sklearn.ensemble, sklearn.pipeline`, timed in the same way",
            BARE_SKOPS: "the same imports, then `skops.io` as Slipway's scikit-learn flavor "
            "imports it (`slipway.models.flavors._skops.import_skops_io()`): the floor for a "
            "model stored in skops's format, timed in the same way",
        }
        if subject == FULL:
            metric += ", skops imported whole ($SLIPWAY_SKOPS_FULL_IMPORT=1: the trick off)"
            how[subject] += " with $SLIPWAY_SKOPS_FULL_IMPORT=1"
        elif subject == "slipway sklearn":
            target = _target(median(values[BARE]), median(values["mlflow pyfunc"]))
        metric += f" (median of {rounds})"
    else:
        metric = (
            f"single-row `predict`, {flavor} package: median of {calls:,} calls on 1-row "
            f"DataFrames after 20 warm-up, median over {rounds} processes"
        )
        runtime = "onnxruntime" if flavor == "onnx" else "scikit-learn"
        how = {
            subject: f"`model.predict(df.iloc[i:i+1])` ({runtime}, input checked by the signature)",
            "mlflow pyfunc": "`model.predict(df.iloc[i:i+1])` (input checked by its schema)",
        }

    def source(name: str) -> str:
        return f"{how[name]}: {spread(values[name], unit)}"

    return Row(
        case="model_serve",
        metric=metric,
        unit=unit,
        slipway=median(values[subject]),
        source=source(subject),
        anchors=(
            Anchor("mlflow pyfunc", median(values["mlflow pyfunc"]), source("mlflow pyfunc")),
            *(
                [Anchor(name, median(values[name]), source(name)) for name in (BARE, BARE_SKOPS)]
                if kind == "load"
                else []
            ),
        ),
        target=target,
        notes=_floor_note(values) if target is not None else (),
    )


def _floor_note(values: dict[str, list[float]]) -> tuple[str, ...]:
    bare, skops = median(values[BARE]), median(values[BARE_SKOPS])
    return (
        f"the bare scikit-learn import + {WITHIN_S:g} s is {bare + WITHIN_S:.3f} s; importing "
        f"skops.io on top of it, as any load of a skops file must, takes {skops:.3f} s here "
        f"({skops - bare:+.3f} s), before the file is read",
    )


def _target(bare: float, mlflow: float) -> Target:
    """Within WITHIN_S of the bare scikit-learn import and FACTOR times faster than MLflow."""
    return Target(
        min(bare + WITHIN_S, mlflow / FACTOR),
        "s",
        inclusive=True,
        label=f"<= {BARE} + {WITHIN_S:g} s and >= {FACTOR:g}x mlflow pyfunc",
    )


CASE = Case(
    name="model_serve",
    summary=f"load and single-row predict of {WHAT}: Slipway's package (and its ONNX "
    "conversion) vs MLflow's pyfunc",
    run=run,
)
