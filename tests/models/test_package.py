"""Model packages: saved here, loaded in a fresh process, predicting the same; nothing unsafe runs.

A package loads in a new Python process (as a server or batch job would) and must give the
predictions of the model that was saved, from every input kind. The safety tests plant what an
attacker would: a pickle in place of the skops file, a type nobody trusted, a class to import.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from slipway._version import __version__
from slipway.errors import AlreadyExists, ConfigError, IntegrityError, InvalidInput, NotFound
from slipway.models import load_package, read_package_meta, save_package
from slipway.models.flavors import PythonModel

TREE = "sklearn.tree._tree.Tree"
FRESH_PROCESS = """
import json, sys
from pathlib import Path
import numpy as np, pandas as pd
from slipway.models import load_package

folder, data, out, trusted = sys.argv[1:5]
model = load_package(Path(folder), trusted_types=json.loads(trusted))
rows = np.load(data) if data.endswith(".npy") else pd.read_parquet(data)
np.save(out, np.asarray(model.predict(rows)))
"""


def predict_in_fresh_process(
    folder: Path, rows: pd.DataFrame | np.ndarray, tmp_path: Path, trusted: tuple[str, ...] = ()
) -> np.ndarray:
    """Load the package in a new interpreter started elsewhere; its predictions for `rows`."""
    data = tmp_path / (
        f"rows-{uuid.uuid4().hex}" + (".npy" if isinstance(rows, np.ndarray) else ".parquet")
    )
    if isinstance(rows, np.ndarray):
        np.save(data, rows)
    else:
        rows.to_parquet(data)
    out = tmp_path / f"out-{uuid.uuid4().hex}.npy"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            FRESH_PROCESS,
            str(folder),
            str(data),
            str(out),
            json.dumps(list(trusted)),
        ],
        cwd=elsewhere,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return np.load(out, allow_pickle=False)


def customers(rows: int = 300, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(1, 72, rows).astype("int64"),
            "monthly": rng.normal(60.0, 15.0, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows),
            "paperless": rng.random(rows) < 0.5,
        }
    )
    spend = frame["monthly"] * 12 + frame["tenure"] * 3 + rng.normal(0, 5, rows)
    return frame, spend.to_numpy()


def write_module(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A uniquely named module in a folder of its own, importable here (not in a fresh process)."""
    name = f"usermodel_{uuid.uuid4().hex[:10]}"
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(folder))
    return name, path


# -- scikit-learn ----------------------------------------------------------------------------


def test_a_logistic_regression_on_arrays_predicts_the_same_in_a_fresh_process(
    tmp_path: Path,
) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 4))
    model = LogisticRegression().fit(features, features[:, 0] + features[:, 2] > 0)
    folder = tmp_path / "package"
    meta = save_package(model, folder, input_example=features[:5])
    assert meta.flavor == "sklearn" and meta.signature is not None
    assert meta.signature.input_format == "ndarray"
    assert [c.type for c in meta.signature.outputs] == ["boolean"]
    fresh = predict_in_fresh_process(folder, features, tmp_path)
    np.testing.assert_array_equal(fresh, model.predict(features))
    loaded = load_package(folder)
    expected = model.predict(features[:3])
    for given in (features[:3], features[:3].tolist(), pd.DataFrame(features[:3])):
        np.testing.assert_array_equal(loaded.predict(given), expected)
    np.testing.assert_array_equal(loaded.input_example(), features[:5])


def test_a_forest_pipeline_needs_the_tree_type_trusted_then_predicts_the_same(
    tmp_path: Path,
) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame, spend = customers()
    numbers = frame[["tenure", "monthly"]]
    model = Pipeline(
        [("scale", StandardScaler()), ("forest", RandomForestClassifier(20, random_state=0))]
    ).fit(numbers, spend > np.median(spend))
    folder = tmp_path / "package"
    meta = save_package(model, folder, input_example=numbers.head(10))
    assert meta.flavor_data["untrusted_types"] == [TREE]
    with pytest.raises(InvalidInput) as refused:
        load_package(folder)
    assert TREE in refused.value.detail
    assert f'trusted_types=["{TREE}"]' in refused.value.detail
    assert "crash the process" in refused.value.detail
    fresh = predict_in_fresh_process(folder, numbers, tmp_path, trusted=(TREE,))
    np.testing.assert_array_equal(fresh, model.predict(numbers))
    loaded = load_package(folder, trusted_types=[TREE])
    expected = model.predict(numbers.head(4))
    table = pa.Table.from_pandas(numbers.head(4), preserve_index=False)
    for given in (numbers.head(4), table, numbers.head(4).to_dict("records")):
        np.testing.assert_array_equal(loaded.predict(given), expected)


def test_a_regressor_on_mixed_columns_predicts_the_same_from_every_input_kind(
    tmp_path: Path,
) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame, spend = customers()
    encode = ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough")
    model = Pipeline([("encode", encode), ("ridge", Ridge())]).fit(frame, spend)
    folder = tmp_path / "package"
    meta = save_package(model, folder, input_example=frame.head(5))
    assert meta.signature is not None
    assert [(c.name, c.type) for c in meta.signature.inputs] == [
        ("tenure", "integer"),
        ("monthly", "float"),
        ("plan", "string"),
        ("paperless", "boolean"),
    ]
    assert meta.signature.outputs[0].type == "float"
    fresh = predict_in_fresh_process(folder, frame, tmp_path)
    np.testing.assert_array_equal(fresh, model.predict(frame))
    loaded = load_package(folder)
    head = frame.head(5)
    expected = model.predict(head)
    records = head.to_dict("records")
    for given in (head, pa.Table.from_pandas(head, preserve_index=False), records):
        np.testing.assert_array_equal(loaded.predict(given), expected)
    # Against the model on the same single row: BLAS may round a one-row product
    # differently (by an ulp) from the same row inside a batch.
    np.testing.assert_array_equal(loaded.predict(records[2]), model.predict(head.iloc[2:3]))
    with pytest.raises(InvalidInput, match="column 'tenure' expects integer, got a string"):
        loaded.predict([{**records[0], "tenure": "12"}])


def test_the_package_describes_itself_in_yaml(tmp_path: Path) -> None:
    from sklearn.linear_model import Ridge

    frame, spend = customers()
    numbers = frame[["tenure", "monthly"]]
    folder = tmp_path / "package"
    save_package(Ridge().fit(numbers, spend), folder, input_example=numbers.head(3))
    described = yaml.safe_load((folder / "slipway-model.yaml").read_text())
    assert described["format_version"] == 1 and described["flavor"] == "sklearn"
    assert described["flavor_data"]["serialization"] == "skops"
    assert described["flavor_data"]["estimator"] == "sklearn.linear_model._ridge.Ridge"
    assert described["slipway_version"] == __version__
    assert described["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert described["created_at"].endswith("Z")
    assert [r.split("==")[0] for r in described["requirements"]] == [
        "scikit-learn",
        "skops",
        "numpy",
        "scipy",
        "pandas",
    ]
    assert (folder / "requirements.txt").read_text().splitlines() == described["requirements"]
    assert {f["path"]: f["role"] for f in described["files"]} == {
        "input_example.json": "input_example",
        "model/model.skops": "model",
        "requirements.txt": "requirements",
    }
    assert described["signature"]["inputs"][0] == {
        "name": "tenure",
        "type": "integer",
        "nullable": False,
    }
    assert json.loads((folder / "input_example.json").read_text())["columns"] == [
        "tenure",
        "monthly",
    ]
    assert read_package_meta(folder).requirements == tuple(described["requirements"])


def test_requirements_given_are_written_as_given(tmp_path: Path) -> None:
    from sklearn.linear_model import Ridge

    folder = tmp_path / "package"
    meta = save_package(
        Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), folder, requirements=["scikit-learn>=1.4"]
    )
    assert meta.requirements == ("scikit-learn>=1.4",) and meta.signature is None
    assert (folder / "requirements.txt").read_text() == "scikit-learn>=1.4\n"


# -- safety: nothing unsafe runs -------------------------------------------------------------


class Planted:
    """Unpickling this creates `marker`: the proof that a loader ran code from a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def saved_ridge(folder: Path) -> Path:
    from sklearn.linear_model import Ridge

    save_package(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), folder)
    return folder / "model" / "model.skops"


def test_a_pickle_planted_as_the_model_is_refused_and_never_runs(tmp_path: Path) -> None:
    proof = tmp_path / "the-payload-works"
    pickle.loads(pickle.dumps(Planted(proof)))  # shows the payload is live
    assert proof.exists()
    folder = tmp_path / "package"
    model_file = saved_ridge(folder)
    marker = tmp_path / "pwned"
    model_file.write_bytes(pickle.dumps(Planted(marker)))
    with pytest.raises(IntegrityError, match=r"model\.skops has changed"):
        load_package(folder)  # the file list catches a careless swap
    # an attacker rewrites the file list too: the flavor still refuses, by content
    described = yaml.safe_load((folder / "slipway-model.yaml").read_text())
    for entry in described["files"]:
        if entry["path"] == "model/model.skops":
            entry["size"] = model_file.stat().st_size
    (folder / "slipway-model.yaml").write_text(yaml.safe_dump(described))
    with pytest.raises(IntegrityError, match=r"is a pickle, not a skops file\. Slipway never"):
        load_package(folder, trusted_types=["builtins.open"])
    assert not marker.exists()


CUSTOM_TRANSFORMER = """
from sklearn.base import BaseEstimator, TransformerMixin

class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return X * 2
"""


def test_a_custom_type_loads_only_when_the_caller_trusts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    module, _ = write_module(tmp_path, CUSTOM_TRANSFORMER, monkeypatch)
    doubler = __import__(module).Doubler
    features = np.arange(20, dtype=float).reshape(10, 2)
    model = make_pipeline(doubler(), LinearRegression()).fit(features, features.sum(axis=1))
    folder = tmp_path / "package"
    save_package(model, folder, input_example=features[:2])
    with pytest.raises(InvalidInput) as refused:
        load_package(folder)
    assert f"{module}.Doubler" in refused.value.detail
    assert f'trusted_types=["{module}.Doubler"]' in refused.value.detail
    loaded = load_package(folder, trusted_types=[f"{module}.Doubler"])
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))


def test_a_pyfunc_class_runs_only_when_the_caller_trusts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, path = write_module(tmp_path, PYFUNC_MODEL, monkeypatch)
    folder = save_scorer(module, path, tmp_path)
    with pytest.raises(InvalidInput, match=rf"trusted_types=\['{module}.Scorer'\]"):
        load_package(folder)


# -- pyfunc ----------------------------------------------------------------------------------

PYFUNC_MODEL = """
import json
from pathlib import Path

import numpy as np

from slipway.models.flavors import PythonModel


class Scorer(PythonModel):
    '''Weighted sum of the columns, times `scale`; the weights live in a JSON artifact.'''

    def __init__(self, scale=1.0, weights_path=None):
        self.scale = scale
        self.weights_path = weights_path
        self.weights = None

    def init_args(self):
        return {"scale": self.scale}

    def artifact_files(self):
        return {"weights": Path(self.weights_path)}

    def load_context(self, artifacts):
        self.weights = json.loads(artifacts["weights"].read_text())

    def predict(self, data):
        weights = np.array([self.weights[c] for c in data.columns])
        return data.to_numpy(dtype=float) @ weights * self.scale
"""


def scorer_rows() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({"visits": rng.integers(0, 30, 50), "spend": rng.normal(80, 20, 50)})


def save_scorer(module: str, source: Path, tmp_path: Path) -> Path:
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"visits": 0.5, "spend": 0.25}))
    scorer = __import__(module).Scorer(scale=2.0, weights_path=str(weights))
    scorer.load_context({"weights": weights})
    folder = tmp_path / "package"
    save_package(scorer, folder, input_example=scorer_rows().head(3), code_paths=[source])
    return folder


def test_a_pyfunc_model_predicts_the_same_in_a_fresh_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, path = write_module(tmp_path, PYFUNC_MODEL, monkeypatch)
    folder = save_scorer(module, path, tmp_path)
    meta = read_package_meta(folder)
    assert meta.flavor == "pyfunc"
    assert meta.flavor_data == {
        "class": f"{module}:Scorer",
        "init_args": {"scale": 2.0},
        "artifacts": {"weights": "artifacts/weights/weights.json"},
    }
    assert {f.path: f.role for f in meta.files}[f"code/{module}.py"] == "code"
    assert {f.path: f.role for f in meta.files}[
        "model/artifacts/weights/weights.json"
    ] == "artifact"
    rows = scorer_rows()
    expected = (rows["visits"] * 0.5 + rows["spend"] * 0.25).to_numpy() * 2.0
    fresh = predict_in_fresh_process(folder, rows, tmp_path, trusted=(f"{module}.Scorer",))
    np.testing.assert_allclose(fresh, expected, rtol=0, atol=1e-12)
    loaded = load_package(folder, trusted_types=[f"{module}.Scorer"])
    in_process = loaded.predict(rows)
    np.testing.assert_array_equal(fresh, in_process)
    for given in (pa.Table.from_pandas(rows), rows.to_dict("records"), rows.to_numpy()):
        if isinstance(given, np.ndarray):
            with pytest.raises(InvalidInput, match=r"missing column.*'visits'"):
                loaded.predict(given)  # a dataframe model's columns have names
        else:
            np.testing.assert_array_equal(loaded.predict(given), in_process)


def test_a_plain_class_with_predict_is_pyfunc_unless_it_holds_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = "class Echo:\n    def predict(self, data):\n        return data['x'].to_numpy()\n"
    module, path = write_module(tmp_path, source, monkeypatch)
    echo = __import__(module).Echo()
    folder = tmp_path / "package"
    meta = save_package(echo, folder, input_example=[{"x": 1.5}], code_paths=[path])
    assert meta.flavor == "pyfunc"
    loaded = load_package(folder, trusted_types=[f"{module}.Echo"])
    np.testing.assert_array_equal(loaded.predict({"x": 2}), [2.0])
    echo.weights = [1, 2]
    with pytest.raises(InvalidInput, match="holds state"):
        save_package(echo, tmp_path / "again")


def test_a_pyfunc_class_another_process_cannot_import_is_refused(tmp_path: Path) -> None:
    class Local(PythonModel):
        def predict(self, data: object) -> object:
            return data

    with pytest.raises(InvalidInput, match="defined inside a function"):
        save_package(Local(), tmp_path / "package")


def test_init_args_must_survive_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = PYFUNC_MODEL.replace('{"scale": self.scale}', '{"scale": (1, 2)}')
    module, path = write_module(tmp_path, source, monkeypatch)
    with pytest.raises(InvalidInput, match=r"init_args\(\)\['scale'\] is a tuple"):
        save_scorer(module, path, tmp_path)


# -- what cannot be packaged or loaded -------------------------------------------------------


def test_models_no_flavor_takes_and_unknown_flavors_are_refused(tmp_path: Path) -> None:
    from sklearn.linear_model import Ridge

    with pytest.raises(InvalidInput, match=r"no flavor can package a builtins\.dict") as caught:
        save_package({"weights": [1, 2]}, tmp_path / "a")
    assert "sklearn: a fitted scikit-learn estimator" in caught.value.detail
    assert "pyfunc: a slipway.models.flavors.PythonModel subclass" in caught.value.detail
    with pytest.raises(
        InvalidInput,
        match="unknown flavor 'caffe'; flavors are lightgbm, onnx, pyfunc, sklearn, torch, xgboost",
    ):
        save_package(Ridge(), tmp_path / "b", flavor="caffe")
    with pytest.raises(InvalidInput, match="not fitted"):
        save_package(Ridge(), tmp_path / "c")
    with pytest.raises(InvalidInput, match="the pyfunc flavor cannot package a Ridge"):
        save_package(Ridge().fit([[0.0]], [0.0]), tmp_path / "d", flavor="pyfunc")
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_a_package_is_written_only_into_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "package").mkdir()
    (tmp_path / "package" / "notes.txt").write_text("keep me")
    with pytest.raises(AlreadyExists, match="is not empty"):
        saved_ridge(tmp_path / "package")
    assert (tmp_path / "package" / "notes.txt").read_text() == "keep me"


def test_an_example_that_contradicts_the_signature_is_refused(tmp_path: Path) -> None:
    from sklearn.linear_model import Ridge

    from slipway.models import ColumnSpec, Signature

    signature = Signature([ColumnSpec("x", "integer")])
    with pytest.raises(InvalidInput, match="column 'x' expects integer, got a float with a"):
        save_package(
            Ridge().fit([[0.0], [1.0]], [0.0, 1.0]),
            tmp_path / "package",
            signature=signature,
            input_example=[{"x": 0.5}],
        )


def test_a_folder_without_a_readable_description_is_not_a_package(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such folder"):
        load_package(tmp_path / "nowhere")
    folder = tmp_path / "package"
    saved_ridge(folder)
    described = folder / "slipway-model.yaml"
    text = described.read_text()
    described.write_text(text[: len(text) // 2] + "\n  - [unclosed")
    with pytest.raises(InvalidInput, match=r"slipway-model\.yaml is corrupted"):
        load_package(folder)
    described.write_text("just a string\n")
    with pytest.raises(InvalidInput, match="not a valid package description: it is not a mapping"):
        load_package(folder)
    described.write_text(text.replace("format_version: 1", "format_version: 2"))
    with pytest.raises(InvalidInput, match="format 2, newer than this Slipway reads"):
        load_package(folder)
    described.write_text(text.replace("flavor: sklearn", "flavor: caffe"))
    with pytest.raises(InvalidInput, match="unknown flavor 'caffe'"):
        load_package(folder)
    described.unlink()
    with pytest.raises(InvalidInput, match="is not a Slipway model package: it has no slipway"):
        load_package(folder)


def test_a_package_missing_its_model_file_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "package"
    saved_ridge(folder).unlink()
    with pytest.raises(IntegrityError, match=r"incomplete: model/model\.skops is missing"):
        load_package(folder)


def test_a_flavor_whose_library_is_missing_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from slipway.models.flavors import get_flavor

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "skops" else real(name, *a)
    )
    with pytest.raises(ConfigError, match=r"needs skops: pip install 'slipway\[sklearn\]'"):
        get_flavor("sklearn")
