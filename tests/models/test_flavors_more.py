"""xgboost, lightgbm, onnx and torch models: packaged here, loaded in a fresh process, predicting
the same; nothing pickled runs; scikit-learn models convert to ONNX through the registry.

Every library is a real dependency of the test extra: none of these tests is skipped.
"""

from __future__ import annotations

import importlib
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import slipway as sw
from slipway.client import Client
from slipway.config import load_settings
from slipway.errors import IntegrityError, InvalidInput
from slipway.models import Models, load_package, read_package_meta, save_package
from slipway.models.flavors import detect_flavor
from tests.conftest import clean_env, settings_for
from tests.data.conftest import Cli, cli_runner
from tests.models.test_package import customers, predict_in_fresh_process, write_module


def features(rows: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 4)), columns=["age", "income", "visits", "score"])
    label = (frame["age"] + frame["visits"] > 0).to_numpy().astype(int) + (frame["score"] > 1)
    return frame, label


# -- xgboost ---------------------------------------------------------------------------------


def test_an_xgboost_classifier_is_saved_natively_and_predicts_the_same_in_a_fresh_process(
    tmp_path: Path,
) -> None:
    import xgboost as xgb

    frame, label = features()
    model = xgb.XGBClassifier(n_estimators=25, max_depth=3, random_state=0).fit(frame, label)
    folder = tmp_path / "package"
    meta = save_package(model, folder, input_example=frame.head(5))
    assert meta.flavor == "xgboost"  # not sklearn, though it is a scikit-learn estimator too
    assert meta.flavor_data["estimator"] == "XGBClassifier"
    assert (folder / "model" / "model.ubj").read_bytes()[:1] == b"{"  # UBJSON, not a pickle
    assert any(r.startswith("xgboost") for r in meta.requirements)
    fresh = predict_in_fresh_process(folder, frame, tmp_path)
    np.testing.assert_array_equal(fresh, model.predict(frame))
    loaded = load_package(folder)
    np.testing.assert_array_equal(loaded.model.predict_proba(frame), model.predict_proba(frame))


def test_an_xgboost_booster_predicts_the_same_in_a_fresh_process(tmp_path: Path) -> None:
    import xgboost as xgb

    frame, _ = features(seed=1)
    values = frame.to_numpy()
    target = values[:, 0] * 3 - values[:, 1]
    booster = xgb.train({"max_depth": 3, "seed": 0}, xgb.DMatrix(values, label=target), 20)
    folder = tmp_path / "package"
    assert save_package(booster, folder, input_example=values[:5]).flavor == "xgboost"
    fresh = predict_in_fresh_process(folder, values, tmp_path)
    np.testing.assert_array_equal(fresh, booster.predict(xgb.DMatrix(values)))


# -- lightgbm --------------------------------------------------------------------------------


def test_a_lightgbm_classifier_keeps_its_labels_and_predicts_the_same_in_a_fresh_process(
    tmp_path: Path,
) -> None:
    import lightgbm as lgb

    frame, label = features(seed=2)
    names = np.array(["low", "mid", "high"])[label]
    model = lgb.LGBMClassifier(n_estimators=30, random_state=0, verbose=-1).fit(frame, names)
    folder = tmp_path / "package"
    meta = save_package(model, folder, input_example=frame.head(5))
    assert meta.flavor == "lightgbm"
    assert meta.flavor_data["classes"] == ["high", "low", "mid"]
    assert (folder / "model" / "model.txt").read_text().startswith("tree")  # text, not pickle
    fresh = predict_in_fresh_process(folder, frame, tmp_path)
    np.testing.assert_array_equal(fresh, model.predict(frame))
    loaded = load_package(folder)
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_array_equal(loaded.model.predict_proba(frame), model.predict_proba(frame))


def test_a_lightgbm_regressor_and_a_binary_classifier_predict_the_same(tmp_path: Path) -> None:
    import lightgbm as lgb

    frame, label = features(seed=3)
    values = frame.to_numpy()
    regressor = lgb.LGBMRegressor(n_estimators=20, verbose=-1).fit(values, values[:, 0] * 2)
    binary = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(values, label > 0)
    for name, model in (("regressor", regressor), ("binary", binary)):
        folder = tmp_path / name
        assert save_package(model, folder, input_example=values[:5]).flavor == "lightgbm"
        fresh = predict_in_fresh_process(folder, values, tmp_path)
        np.testing.assert_array_equal(fresh, model.predict(values))
        assert fresh.dtype == model.predict(values).dtype


# -- onnx ------------------------------------------------------------------------------------


def linear_graph(weights: np.ndarray, bias: np.ndarray):  # type: ignore[no-untyped-def]
    """Y = X @ weights + bias, in float32: an ONNX graph built by hand."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["X", "W"], ["XW"]),
            helper.make_node("Add", ["XW", "B"], ["Y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, weights.shape[0]])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, weights.shape[1]])],
        [
            numpy_helper.from_array(weights.astype(np.float32), "W"),
            numpy_helper.from_array(bias.astype(np.float32), "B"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_an_onnx_graph_round_trips_and_runs_in_a_fresh_process(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    weights, bias = rng.normal(size=(3, 2)), rng.normal(size=2)
    rows = rng.normal(size=(50, 3))
    folder = tmp_path / "package"
    meta = save_package(linear_graph(weights, bias), folder, input_example=rows[:5])
    assert meta.flavor == "onnx" and meta.flavor_data["inputs"] == ["X"]
    expected = rows.astype(np.float32) @ weights.astype(np.float32) + bias.astype(np.float32)
    fresh = predict_in_fresh_process(folder, rows, tmp_path)
    np.testing.assert_allclose(fresh, expected, rtol=1e-6)
    np.testing.assert_array_equal(load_package(folder).predict(rows.tolist()), fresh)


def test_an_onnx_graph_with_one_input_per_column_takes_a_dataframe(tmp_path: Path) -> None:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame, spend = customers()
    frame = frame.drop(columns=["paperless"])
    label = (spend > np.median(spend)).astype(int)
    columns = ColumnTransformer(
        [("num", StandardScaler(), ["tenure", "monthly"]), ("cat", OneHotEncoder(), ["plan"])]
    )
    model = Pipeline([("columns", columns), ("fit", LogisticRegression())]).fit(frame, label)
    graph = convert_sklearn(
        model,
        initial_types=[
            ("tenure", Int64TensorType([None, 1])),
            ("monthly", FloatTensorType([None, 1])),
            ("plan", StringTensorType([None, 1])),
        ],
        options={"zipmap": False},
    )
    folder = tmp_path / "package"
    save_package(graph, folder, input_example=frame.head(5))
    fresh = predict_in_fresh_process(folder, frame, tmp_path)
    np.testing.assert_array_equal(fresh, load_package(folder).predict(frame))
    assert (fresh == model.predict(frame)).mean() > 0.98  # float32 inputs: near-ties may flip
    with pytest.raises(InvalidInput, match="no column 'plan'"):
        load_package(folder).model.predict(frame.drop(columns=["plan"]))


def test_an_invalid_onnx_graph_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    graph = linear_graph(np.ones((3, 2)), np.ones(2))
    graph.graph.node[1].input[0] = "nowhere"
    with pytest.raises(InvalidInput, match="the ONNX model is not valid"):
        save_package(graph, tmp_path / "package")
    assert not (tmp_path / "package").exists()


# -- torch -----------------------------------------------------------------------------------

NET = """
import torch


class Net(torch.nn.Module):
    def __init__(self, features: int, hidden: int = 8) -> None:
        super().__init__()
        self.features, self.hidden = features, hidden
        self.body = torch.nn.Sequential(
            torch.nn.Linear(features, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2)
        )

    def init_args(self):
        return {"features": self.features, "hidden": self.hidden}

    def forward(self, x):
        return self.body(x)
"""


def torch_net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import torch

    module, path = write_module(tmp_path, NET, monkeypatch)
    torch.manual_seed(0)
    return importlib.import_module(module).Net(4, hidden=6), module, path


def forward(net, rows: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        return net(torch.from_numpy(rows.astype(np.float32))).numpy()


def test_a_torch_state_dict_rebuilds_its_module_in_a_fresh_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net, module, path = torch_net(tmp_path, monkeypatch)
    rows = np.random.default_rng(5).normal(size=(40, 4))
    folder = tmp_path / "package"
    meta = save_package(net, folder, input_example=rows[:5], code_paths=[path])
    assert meta.flavor == "torch" and meta.flavor_data["format"] == "state_dict"
    assert meta.flavor_data["init_args"] == {"features": 4, "hidden": 6}
    with pytest.raises(InvalidInput, match=rf"trusted_types=\['{module}.Net'\]"):
        load_package(folder)
    fresh = predict_in_fresh_process(folder, rows, tmp_path, trusted=(f"{module}.Net",))
    assert fresh.dtype == np.float32
    np.testing.assert_allclose(fresh, forward(net, rows), rtol=1e-6, atol=1e-6)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_a_torchscript_module_loads_without_its_source_in_a_fresh_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    net, _, _ = torch_net(tmp_path, monkeypatch)
    scripted = torch.jit.script(net)
    rows = np.random.default_rng(6).normal(size=(40, 4))
    folder = tmp_path / "package"
    meta = save_package(scripted, folder, input_example=rows[:5])  # no code_paths: not needed
    assert meta.flavor == "torch" and meta.flavor_data["format"] == "torchscript"
    fresh = predict_in_fresh_process(folder, rows, tmp_path)
    np.testing.assert_allclose(fresh, forward(net, rows), rtol=1e-6, atol=1e-6)


class _Boom:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def plant(folder: Path, relative: str, payload: bytes) -> None:
    """Replace a package file, and its recorded size too, as a thorough attacker would."""
    (folder / relative).write_bytes(payload)
    described = folder / "slipway-model.yaml"
    meta = yaml.safe_load(described.read_text())
    for entry in meta["files"]:
        if entry["path"] == relative:
            entry["size"] = len(payload)
    described.write_text(yaml.safe_dump(meta, sort_keys=False))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_a_state_dict_replaced_by_a_malicious_pickle_is_refused_unrun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import torch

    net, module, path = torch_net(tmp_path, monkeypatch)
    folder = tmp_path / "package"
    save_package(net, folder, code_paths=[path])
    marker = tmp_path / "pwned"
    in_torch_format = io.BytesIO()
    torch.save({"body.0.weight": _Boom(marker)}, in_torch_format)
    for payload in (pickle.dumps(_Boom(marker)), in_torch_format.getvalue()):
        plant(folder, "model/state_dict.pt", payload)
        with pytest.raises(IntegrityError, match="weights_only=True") as refused:
            load_package(folder, trusted_types=[f"{module}.Net"])
        assert "refused unread" in refused.value.detail
        assert not marker.exists()


def test_a_module_that_init_args_cannot_rebuild_is_refused_when_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = NET.replace('"hidden": self.hidden', '"hidden": 3')
    module, path = write_module(tmp_path, source, monkeypatch)
    net = importlib.import_module(module).Net(4, hidden=6)
    with pytest.raises(InvalidInput, match="does not take back this module's state dict"):
        save_package(net, tmp_path / "package", code_paths=[path])
    assert not (tmp_path / "package").exists()


# -- detection -------------------------------------------------------------------------------


def test_each_model_is_detected_as_its_own_flavor() -> None:
    import lightgbm as lgb
    import torch
    import xgboost as xgb
    from sklearn.linear_model import Ridge

    assert detect_flavor(xgb.XGBRegressor()) == "xgboost"
    assert detect_flavor(lgb.LGBMClassifier()) == "lightgbm"
    assert detect_flavor(linear_graph(np.ones((2, 1)), np.ones(1))) == "onnx"
    assert detect_flavor(torch.nn.Linear(2, 1)) == "torch"
    assert detect_flavor(Ridge()) == "sklearn"


def test_detecting_and_packaging_a_scikit_learn_model_imports_no_other_flavor_library(
    tmp_path: Path,
) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from sklearn.linear_model import Ridge\n"
        "from slipway.models.flavors import detect_flavor\n"
        "from slipway.models import load_package, save_package\n"
        "heavy = ('torch', 'xgboost', 'lightgbm', 'onnx', 'onnxruntime', 'skl2onnx')\n"
        "assert detect_flavor(Ridge()) == 'sklearn'\n"
        "print([name for name in heavy if name in sys.modules])\n"
        "save_package(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), Path(sys.argv[1]))\n"
        "load_package(Path(sys.argv[1])).predict([[2.0]])\n"
        # Nor does loading: skops lists scikit-learn's modules without its torch adapter.
        "print([name for name in heavy if name in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "package")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "[]"]


# -- to_onnx through the registry ------------------------------------------------------------


@pytest.fixture
def client(workspace: Path, sqlite_url: str) -> Client:
    made = Client.from_settings(settings_for(workspace, sqlite_url))
    yield made  # type: ignore[misc]
    made.close()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return cli_runner(capsys)


def test_a_logistic_regression_converts_to_onnx_as_a_new_version(client: Client) -> None:
    from sklearn.linear_model import LogisticRegression

    frame, label = features(seed=7)
    values = frame.to_numpy()
    model = LogisticRegression().fit(values, label > 0)
    source = Models(client).log_model(model, "churn", input_example=values[:10])
    with sw.using(client):
        converted = sw.models.to_onnx("churn@v1")
    assert (converted.ref, converted.flavor) == ("churn@v2", "onnx")
    assert converted.tags == {"converted_from": "churn@v1"}
    assert converted.signature == source.signature
    loaded = Models(client).load("churn@v2")
    assert loaded.flavor == "onnx"
    fresh, _ = features(rows=500, seed=8)
    np.testing.assert_array_equal(loaded.predict(fresh.to_numpy()), model.predict(fresh.to_numpy()))
    assert [v.version for v in client.models.list_versions("churn")] == [2, 1]


def test_a_random_forest_pipeline_converts_to_onnx_and_predicts_the_same(
    client: Client, workspace: Path, sqlite_url: str
) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame, spend = customers(rows=400, seed=9)
    numbers = frame[["tenure", "monthly"]]
    model = Pipeline(
        [("scale", StandardScaler()), ("forest", RandomForestClassifier(20, random_state=0))]
    ).fit(numbers, spend > np.median(spend))
    Models(client).log_model(model, "spend", input_example=numbers.head(20))
    converted = Models(client).to_onnx("spend@v1", name="spend-onnx")
    assert (converted.ref, converted.tags) == ("spend-onnx@v1", {"converted_from": "spend@v1"})
    assert converted.flavor == "onnx"
    numbers.to_csv(workspace / "rows.csv", index=False)
    script = (
        "import json, pandas as pd, slipway as sw\n"
        "print(json.dumps(sw.models.load('spend-onnx@v1').predict(pd.read_csv('rows.csv'))"
        ".tolist()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=workspace,
        env=clean_env(SLIPWAY_METADATA_URL=sqlite_url),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == model.predict(numbers).tolist()
    package = Models(client).package_path(converted)
    assert read_package_meta(package).flavor_data["inputs"] == ["X"]
    unseen, _ = customers(rows=1000, seed=12)
    unseen = unseen[["tenure", "monthly"]]
    loaded = Models(client).load("spend-onnx@v1")
    np.testing.assert_array_equal(loaded.predict(unseen), model.predict(unseen))


def test_a_regressor_converts_to_onnx_with_its_output_shape_and_within_tolerance(
    client: Client,
) -> None:
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame, spend = customers(rows=400, seed=13)
    numbers = frame[["tenure", "monthly"]]
    model = Pipeline(
        [("scale", StandardScaler()), ("boost", GradientBoostingRegressor(random_state=0))]
    ).fit(numbers, spend)
    Models(client).log_model(model, "spend", input_example=numbers.head(20))
    converted = Models(client).to_onnx("spend")
    assert "float32 into the trees" in converted.description
    unseen, _ = customers(rows=1000, seed=14)
    got = Models(client).load(converted.ref).predict(unseen[["tenure", "monthly"]])
    expected = model.predict(unseen[["tenure", "monthly"]])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_the_cli_converts_a_version_to_onnx(workspace: Path, cli: Cli) -> None:
    from sklearn.linear_model import LogisticRegression

    frame, label = features(seed=10)
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    Models(client).log_model(LogisticRegression().fit(frame, label), "churn", input_example=frame)
    client.close()
    out, _ = cli("model", "to-onnx", "churn@v1")
    assert "churn@v2  (onnx, converted from churn@v1)" in out
    _, err = cli("model", "to-onnx", "churn@v2", code=2)  # InvalidInput: not scikit-learn
    assert "churn@v2 is an onnx model; only scikit-learn models convert" in err


DOUBLER = """
from slipway.models.flavors import PythonModel


class Doubler(PythonModel):
    def predict(self, data):
        return data.to_numpy() * 2
"""


def test_only_scikit_learn_models_that_convert_faithfully_become_onnx(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.linear_model import Ridge

    module, path = write_module(tmp_path, DOUBLER, monkeypatch)
    scorer = importlib.import_module(module).Doubler()
    Models(client).log_model(scorer, "scorer", code_paths=[path])
    with pytest.raises(InvalidInput, match="scorer@v1 is a pyfunc model; only scikit-learn"):
        Models(client).to_onnx("scorer@v1")
    rows = np.random.default_rng(11).normal(size=(30, 2))
    Models(client).log_model(KernelRidge().fit(rows, rows[:, 0]), "kernel", input_example=rows)
    with pytest.raises(InvalidInput, match=r"skl2onnx has no converter.*KernelRidge"):
        Models(client).to_onnx("kernel@v1")
    Models(client).log_model(Ridge().fit(rows, rows[:, 0]), "ridge")  # no input example
    with pytest.raises(InvalidInput, match="logged without an input example"):
        Models(client).to_onnx("ridge")
    for name in ("scorer", "kernel", "ridge"):
        assert [v.version for v in client.models.list_versions(name)] == [1]
