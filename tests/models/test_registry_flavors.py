"""Every flavor through the registry: `sw.models.log_model` here, `sw.models.load` in a fresh
process (as a serving job would), identical predictions."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import slipway as sw
from slipway.client import Client
from slipway.config import load_settings
from tests.conftest import clean_env
from tests.models.test_flavors_more import NET, features, linear_graph
from tests.models.test_package import write_module

PYFUNC = """
from slipway.models.flavors import PythonModel


class Scaled(PythonModel):
    def __init__(self, factor: float) -> None:
        self.factor = factor

    def init_args(self):
        return {"factor": self.factor}

    def predict(self, data):
        return data.to_numpy().sum(axis=1) * self.factor
"""


def xgboost_model(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[Any, list[Path]]:
    import xgboost as xgb

    frame, label = features()
    return xgb.XGBClassifier(n_estimators=20, max_depth=3, random_state=0).fit(frame, label), []


def lightgbm_model(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[Any, list[Path]]:
    import lightgbm as lgb

    frame, label = features()
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=7, random_state=0, verbose=-1)
    return model.fit(frame, label), []


def onnx_model(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[Any, list[Path]]:
    rng = np.random.default_rng(3)
    return linear_graph(rng.normal(size=(4, 1)), rng.normal(size=(1,))), []


def torch_model(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[Any, list[Path]]:
    import torch

    module, path = write_module(tmp, NET, mp)
    torch.manual_seed(0)
    return importlib.import_module(module).Net(4, hidden=5), [path]


def pyfunc_model(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[Any, list[Path]]:
    module, path = write_module(tmp, PYFUNC, mp)
    return importlib.import_module(module).Scaled(0.5), [path]


MAKERS: dict[str, Callable[[Path, pytest.MonkeyPatch], tuple[Any, list[Path]]]] = {
    "xgboost": xgboost_model,
    "lightgbm": lightgbm_model,
    "onnx": onnx_model,
    "torch": torch_model,
    "pyfunc": pyfunc_model,
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("flavor", sorted(MAKERS))
def test_each_flavor_logs_and_loads_in_a_fresh_process(
    flavor: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = workspace.parent / "code"  # outside the workspace: only the package carries it
    source.mkdir()
    model, code = MAKERS[flavor](source, monkeypatch)
    frame, _ = features(rows=60, seed=9)
    example: Any = frame.to_numpy(dtype=np.float32) if flavor in ("onnx", "torch") else frame
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    with sw.using(client):
        version = sw.models.log_model(model, "m", input_example=example[:5], code_paths=code)
        here = np.asarray(sw.models.load("m@v1").predict(example))
    client.close()
    assert version.flavor == flavor
    np.save(workspace / "rows.npy", np.asarray(example))
    script = (
        "import json, numpy as np, pandas as pd, slipway as sw\n"
        "rows = np.load('rows.npy')\n"
        f"data = rows if {flavor in ('onnx', 'torch')} else pd.DataFrame(rows, columns={list(frame.columns)!r})\n"  # noqa: E501
        "print(json.dumps(np.asarray(sw.models.load('m@v1').predict(data)).tolist()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=workspace,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    fresh = np.asarray(json.loads(done.stdout))
    np.testing.assert_allclose(fresh, here, rtol=1e-6, atol=1e-6)
    assert isinstance(frame, pd.DataFrame)
