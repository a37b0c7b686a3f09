"""Loading a scikit-learn package imports skops without scikit-learn's torch adapter, and skops
trusts and refuses exactly what it would have trusted and refused with it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import clean_env

SCRIPT = """
import json, sys
from pathlib import Path
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from slipway.errors import InvalidInput
from slipway.models import load_package, save_package

folder = Path(sys.argv[1])
rows = np.random.default_rng(0).normal(size=(60, 3))
model = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=3, random_state=0))
if not folder.exists():
    save_package(model.fit(rows, rows[:, 0] > 0), folder, input_example=rows[:5])
try:
    load_package(folder)
    refused = []
except InvalidInput as exc:
    refused = sorted(t for t in json.loads(str(exc).rsplit("trusted_types=", 1)[1]))
loaded = load_package(folder, trusted_types=refused)
from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES  # skops's default trust
print(json.dumps({
    "torch": "torch" in sys.modules,
    "trusted": sorted(SKLEARN_ESTIMATOR_TYPE_NAMES),
    "refused": refused,
    "predicted": loaded.predict(rows[:5]).tolist(),
}))
"""


def load_in_fresh_process(folder: Path, **env: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder)],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch installed")
def test_a_scikit_learn_package_loads_without_torch_and_with_the_same_trust(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "package"
    light = load_in_fresh_process(folder)
    full = load_in_fresh_process(folder, SLIPWAY_SKOPS_FULL_IMPORT="1")
    assert not light["torch"]
    assert full["torch"]  # the setting turns the light import off
    assert light["trusted"] == full["trusted"]
    assert light["refused"] == full["refused"] == ["sklearn.tree._tree.Tree"]
    assert light["predicted"] == full["predicted"]
