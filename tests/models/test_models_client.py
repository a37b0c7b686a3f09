"""The registry as a user drives it: `sw.models` in a run, `load` in a fresh process, the CLI.

Embedded (SQLite) and remote (a live `slipway server`, the package travelling through the
blob operations): the same calls, the same results.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import slipway as sw
from slipway.client import Client
from slipway.config import load_settings
from slipway.errors import Conflict, InvalidInput
from slipway.models import Models
from tests.conftest import clean_env
from tests.data.conftest import Cli


def churn_data(rows: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(1, 72, rows).astype("int64"),
            "monthly": rng.normal(60.0, 15.0, rows),
            "support_calls": rng.integers(0, 9, rows).astype("int64"),
        }
    )
    label = ((frame["support_calls"] > 4) | (frame["tenure"] < 6)).to_numpy().astype(int)
    return frame, label


def train(rows: int = 400, depth: int = 3):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import RandomForestClassifier

    frame, label = churn_data(rows)
    return RandomForestClassifier(n_estimators=20, max_depth=depth, random_state=0).fit(
        frame, label
    ), frame


def test_a_model_logged_in_a_run_loads_back_with_its_lineage(
    client: Client, workspace: Path
) -> None:
    model, frame = train()
    (workspace / "churn.csv").write_text(frame.to_csv(index=False))
    with sw.using(client):
        dataset = sw.data.add("churn.csv")
        with sw.start_run(project="default", capture=False) as run:
            version = sw.models.log_model(
                model, "churn", input_example=frame.head(5), datasets=[dataset.ref]
            )
        assert (version.ref, version.flavor, version.run_id) == ("churn@v1", "sklearn", run.id)
        assert [c["name"] for c in (version.signature or {})["inputs"]] == list(frame.columns)
        loaded = sw.models.load("churn@v1")
        np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
        records = frame.head(3).to_dict(orient="records")
        np.testing.assert_array_equal(loaded.predict(records), model.predict(frame.head(3)))
        with pytest.raises(InvalidInput, match="support_calls"):
            loaded.predict(frame.drop(columns=["support_calls"]))
        lineage = client.models.lineage("churn@v1")
    assert lineage.run is not None and lineage.run["id"] == run.id
    assert [d["ref"] for d in lineage.datasets] == ["churn.csv@v1"]


def test_aliases_move_and_guard_the_versions_they_point_at(client: Client) -> None:
    first, frame = train(depth=2)
    second, _ = train(depth=4)
    models = client.models
    Models(client).log_model(first, "churn", input_example=frame.head(2))
    Models(client).log_model(second, "churn", input_example=frame.head(2))
    assert models.set_alias("churn", 1, "champion", reason="first one").version == 1
    assert models.set_alias("churn", 2, "champion", reason="better F1").version == 2
    assert models.get_version("churn@champion").version == 2
    history = models.alias_history("churn")
    assert [(c.previous_version, c.version, c.reason) for c in history] == [
        (None, 1, "first one"),
        (1, 2, "better F1"),
    ]
    with pytest.raises(Conflict, match="champion"):
        models.archive("churn", 2)
    with pytest.raises(Conflict, match="champion"):
        models.delete_version("churn", 2)
    assert models.archive("churn", 1).status == "archived"
    assert [v.version for v in models.list_versions("churn")] == [2, 1]


def test_load_in_a_fresh_process_predicts_the_same(workspace: Path) -> None:
    model, frame = train()
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    with sw.using(client):
        sw.models.log_model(model, "churn", input_example=frame.head(5))
        sw.models.set_alias("churn", 1, "champion")
    client.close()
    frame.to_csv(workspace / "rows.csv", index=False)
    script = (
        "import json, pandas as pd, slipway as sw\n"
        "frame = pd.read_csv('rows.csv')\n"
        "print(json.dumps(sw.models.load('churn@champion').predict(frame).tolist()))\n"
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
    assert json.loads(done.stdout) == model.predict(frame).tolist()


def test_the_cli_lists_shows_moves_and_refuses(workspace: Path, cli: Cli) -> None:
    model, frame = train()
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    Models(client).log_model(model, "churn", input_example=frame.head(2), description="rf")
    Models(client).log_model(model, "churn", input_example=frame.head(2))
    client.close()
    out, _ = cli("model", "alias", "churn", "champion", "1", "--reason", "baseline")
    assert "churn@champion -> churn@v1" in out
    out, _ = cli("model", "list")
    assert "churn" in out and "champion=v1" in out
    out, _ = cli("model", "versions", "churn")
    assert "churn@v2" in out and "churn@v1" in out
    out, _ = cli("model", "show", "churn@champion")
    assert "churn@v1" in out and "tenure: integer" in out
    shown = json.loads(cli("model", "show", "churn@v2", "--json")[0])
    assert shown["version"] == 2 and shown["flavor"] == "sklearn"
    out, _ = cli("model", "history", "churn")
    assert "baseline" in out
    _, err = cli("model", "archive", "churn", "1", code=4)  # Conflict
    assert "champion" in err
    _, err = cli("model", "show", "churn@v9", code=3)  # NotFound
    assert "churn" in err
    out, _ = cli("model", "delete", "churn", "2", "--yes")
    assert "deleted churn@v2" in out
    out, _ = cli("model", "lineage", "churn@v1")
    assert "churn@v1" in out and "run:      -" in out


def test_an_evaluation_is_scored_here_and_kept_with_the_version(
    client: Client, workspace: Path
) -> None:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    model, frame = train(rows=600)
    test, label = churn_data(300)
    test = test.assign(label=label, region=np.where(test["tenure"] > 36, "old", "new"))
    test.to_csv(workspace / "holdout.csv", index=False)
    with sw.using(client):
        sw.models.log_model(model, "churn", input_example=frame.head(3))
        dataset = sw.data.add("holdout.csv")
        found = sw.models.evaluate(
            "churn@latest", dataset.ref, target="label", task="classification", slices=["region"]
        )
    features = test.drop(columns=["label", "region"])
    predicted = model.predict(features)
    assert found.model == "churn@v1" and found.data == "holdout.csv@v1" and found.rows == 300
    assert found.metrics["accuracy"] == pytest.approx(accuracy_score(label, predicted))
    assert found.metrics["f1_macro"] == pytest.approx(f1_score(label, predicted, average="macro"))
    proba = model.predict_proba(features)[:, 1]
    assert found.metrics["roc_auc"] == pytest.approx(roc_auc_score(label, proba))
    assert {s["value"] for s in found.slices} == {"old", "new"}
    assert sum(s["rows"] for s in found.slices) == 300
    assert found.latency["batch_us_per_row"] > 0
    kept = client.models.evaluations("churn@v1")
    assert [e.id for e in kept] == [found.id] and kept[0].metrics == found.metrics
    with pytest.raises(InvalidInput, match="no column 'churned'"):
        Models(client).evaluate("churn@v1", test, target="churned")


def test_the_cli_evaluates_and_lists_evaluations(workspace: Path, cli: Cli) -> None:
    model, frame = train()
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    Models(client).log_model(model, "churn", input_example=frame.head(2))
    client.close()
    test, label = churn_data(100)
    test.assign(label=label).to_parquet(workspace / "holdout.parquet")
    out, _ = cli("model", "evaluations", "churn@v1")
    assert "no evaluations yet" in out
    out, _ = cli("model", "evaluate", "churn@v1", "--data", "holdout.parquet", "--target", "label")
    assert "churn@v1 on holdout.parquet: 100 rows, classification" in out
    assert "accuracy" in out and "f1_macro" in out
    out, _ = cli("model", "evaluations", "churn")
    assert "holdout.parquet" in out


class _Boom:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_a_tampered_package_cache_is_replaced_not_loaded(workspace: Path) -> None:
    import pickle

    model, frame = train()
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    version = Models(client).log_model(model, "churn", input_example=frame.head(2))
    Models(client).load("churn@v1")  # materializes the package into the cache
    cached = Models(client).package_path(version)
    marker = workspace / "pwned"
    (cached / "model" / "model.skops").write_bytes(pickle.dumps(_Boom(marker)))
    again = Models(client).load("churn@v1")
    np.testing.assert_array_equal(again.predict(frame), model.predict(frame))
    assert not marker.exists()
    client.close()


def test_the_sdk_approves_and_promotes_through_the_gates_file(workspace: Path) -> None:
    model, frame = train()
    test, label = churn_data(200)
    test.assign(label=label).to_csv(workspace / "holdout.csv", index=False)
    (workspace / "slipway.gates.yaml").write_text(
        "models:\n  churn:\n    evaluation_data: holdout.csv\n"
        "    min_metrics: {accuracy: 0.5}\n    approvals: {required: 1}\n"
    )
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    with sw.using(client):
        sw.models.log_model(model, "churn", input_example=frame.head(2))
        sw.models.evaluate("churn@v1", "holdout.csv", target="label")
        refused = sw.models.promote("churn", 1)
        assert not refused.promoted
        assert [r.rule for r in refused.results if not r.passed] == ["approvals.required"]
        sw.models.approve("churn", 1, note="looked at the slices")
        assert sw.models.promote("churn", 1).promoted
        assert sw.models.get_version("churn@champion").version == 1
    client.close()


def test_lineage_comes_from_the_run_when_the_call_names_none(workspace: Path) -> None:
    """The datasets a run read and the commit it captured become the version's lineage."""
    import os

    git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t"}
    git |= {"GIT_COMMITTER_EMAIL": "t@x"}
    env = {**os.environ, **git}
    (workspace / "train.py").write_text("# the training code\n")
    for args in (["init", "-q"], ["add", "train.py"], ["commit", "-q", "-m", "train"]):
        subprocess.run(["git", *args], cwd=workspace, env=env, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True, check=True
    ).stdout.strip()
    model, frame = train()
    frame.to_csv(workspace / "train.csv", index=False)
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    with sw.using(client):
        sw.data.add("train.csv")
        with sw.start_run(project="default"):
            sw.data.load_table("train.csv@v1")
            version = sw.models.log_model(model, "churn", input_example=frame.head(2))
        lineage = client.models.lineage(version.ref)
    client.close()
    assert version.datasets == ["train.csv@v1"]
    assert [d["ref"] for d in lineage.datasets] == ["train.csv@v1"]
    assert lineage.code_commit == version.code_commit == commit


def test_a_version_description_and_tags_change_from_the_cli(workspace: Path, cli: Cli) -> None:
    model, frame = train()
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    Models(client).log_model(model, "churn", input_example=frame.head(2), tags={"team": "risk"})
    client.close()
    out, _ = cli("model", "update", "churn", "1", "-d", "calibrated", "--tag", "stage=dev")
    assert "about:    calibrated" in out and "tag:      stage=dev" in out
    shown = json.loads(cli("model", "show", "churn@v1", "--json")[0])
    assert shown["tags"] == {"stage": "dev", "team": "risk"}
    cli("model", "update", "churn", "1", "--untag", "team")
    assert json.loads(cli("model", "show", "churn@v1", "--json")[0])["tags"] == {"stage": "dev"}
    _, err = cli("model", "update", "churn", "1", "--tag", "oops", code=2)
    assert "KEY=VALUE" in err
