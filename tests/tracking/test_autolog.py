"""scikit-learn autologging, identical embedded (SQLite, PostgreSQL) and remote."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import sklearn
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import slipway as sw
from slipway.client import Client
from slipway.errors import InvalidInput
from slipway.models import load_package
from slipway.tracking import ActiveRun, Run


@pytest.fixture
def client(any_client: Client) -> Iterator[Client]:
    # Autologged runs go to the configured project: one of this test's own to count them in.
    settings = any_client.settings.with_overrides(project=f"autolog-{uuid.uuid4().hex[:8]}")
    scoped = Client(any_client.backend, settings)
    try:
        with sw.using(scoped):
            yield scoped
    finally:
        sw.autolog(disable=True)
        scoped.batcher.close()


def project_runs() -> list[Run]:
    return sw.search_runs(project=sw.current_client().settings.project).runs


def passthrough(X: Any, source: Any = None) -> Any:
    return X


def test_a_classifier_fit_becomes_a_finished_run(client: Client, tmp_path: Path) -> None:
    sw.autolog()
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(C=0.5, max_iter=500)
    assert model.fit(X, y) is model
    assert sw.active_run() is None

    [run] = project_runs()
    assert (run.name, run.status) == ("LogisticRegression", "finished")
    assert run.params["C"] == "0.5" and run.params["max_iter"] == "500"
    predicted, proba = model.predict(X), model.predict_proba(X)
    weighted = {"average": "weighted", "zero_division": 0}
    assert run.metrics == pytest.approx(
        {
            "training_accuracy_score": metrics.accuracy_score(y, predicted),
            "training_precision_score": metrics.precision_score(y, predicted, **weighted),
            "training_recall_score": metrics.recall_score(y, predicted, **weighted),
            "training_f1_score": metrics.f1_score(y, predicted, **weighted),
            "training_log_loss": metrics.log_loss(y, proba),
            "training_roc_auc": metrics.roc_auc_score(y, proba, multi_class="ovr"),
            "training_score": model.score(X, y),
        }
    )
    assert run.tags["estimator_name"] == "LogisticRegression"
    assert run.tags["estimator_class"] == f"{LogisticRegression.__module__}.LogisticRegression"

    folder = sw.download_artifacts(run.id, "model", tmp_path / "model")
    loaded = load_package(folder)  # a package of the sklearn flavor: skops, never a pickle
    assert loaded.flavor == "sklearn"
    assert loaded.meta.flavor_data["estimator"] == run.tags["estimator_class"]
    assert loaded.meta.flavor_data["serialization"] == "skops"
    assert loaded.meta.flavor_data["sklearn_version"] == sklearn.__version__
    assert loaded.meta.python_version == ".".join(map(str, sys.version_info[:3]))
    assert loaded.model.n_features_in_ == 4 and not hasattr(loaded.model, "feature_names_in_")
    np.testing.assert_array_equal(loaded.predict(X), predicted)


def test_without_skops_no_model_is_logged_and_a_warning_says_why(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "skops", None)  # as if skops were not installed
    monkeypatch.setitem(sys.modules, "skops.io", None)
    sw.autolog()
    X, y = load_breast_cancer(return_X_y=True)
    with caplog.at_level(logging.WARNING, logger="slipway.tracking"):
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)

    [run] = project_runs()
    assert run.status == "finished"
    assert "model" not in [a.path for a in sw.list_artifacts(run.id)]  # and never a pickle
    [warning] = [r for r in caplog.records if r.name == "slipway.tracking"]
    assert "could not record the model" in warning.getMessage()
    assert "pip install 'slipway[sklearn]'" in warning.getMessage()
    proba = model.predict_proba(X)[:, 1]
    assert run.metrics["training_roc_auc"] == pytest.approx(metrics.roc_auc_score(y, proba))


def test_a_model_skops_cannot_save_is_left_out_with_a_warning(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    sw.autolog()
    X, y = load_iris(return_X_y=True)
    never_saved = FunctionTransformer(passthrough, kw_args={"source": (row for row in X)})
    with caplog.at_level(logging.WARNING, logger="slipway.tracking"):
        model = make_pipeline(never_saved, LogisticRegression(max_iter=500)).fit(X, y)

    assert model.predict(X[:3]).shape == (3,)
    [run] = project_runs()
    assert run.status == "finished" and "training_accuracy_score" in run.metrics
    assert [a.path for a in sw.list_artifacts(run.id)] == ["_slipway/requirements.txt"]
    [warning] = [r for r in caplog.records if r.name == "slipway.tracking"]
    assert "skops cannot save this Pipeline" in warning.getMessage()
    assert "never falls back to pickle" in warning.getMessage()


def test_the_model_keeps_the_feature_names_it_was_fitted_with(
    client: Client, tmp_path: Path
) -> None:
    pd = pytest.importorskip("pandas")
    sw.autolog()
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    LogisticRegression(max_iter=500).fit(frame, y)

    [run] = project_runs()
    loaded = load_package(sw.download_artifacts(run.id, "model", tmp_path / "model"))
    assert list(loaded.model.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    assert loaded.model.n_features_in_ == 4


def test_regressors_and_clusterers_log_their_metrics(client: Client) -> None:
    sw.autolog(log_models=False)
    X, y = load_diabetes(return_X_y=True)
    weight = np.linspace(0.5, 2.0, len(y))
    ridge = Ridge(alpha=0.3).fit(X, y, sample_weight=weight)
    kmeans = KMeans(n_clusters=3, n_init=2, random_state=0).fit(X)

    runs = {run.name: run for run in project_runs()}
    assert set(runs) == {"Ridge", "KMeans"}
    predicted = ridge.predict(X)
    assert runs["Ridge"].metrics == pytest.approx(
        {
            "training_mean_squared_error": metrics.mean_squared_error(
                y, predicted, sample_weight=weight
            ),
            "training_root_mean_squared_error": metrics.root_mean_squared_error(
                y, predicted, sample_weight=weight
            ),
            "training_mean_absolute_error": metrics.mean_absolute_error(
                y, predicted, sample_weight=weight
            ),
            "training_r2_score": metrics.r2_score(y, predicted, sample_weight=weight),
            "training_score": ridge.score(X, y, sample_weight=weight),
        }
    )
    assert runs["Ridge"].params["alpha"] == "0.3"
    assert runs["KMeans"].metrics == pytest.approx({"training_score": kmeans.score(X)})
    assert [a.path for a in sw.list_artifacts(runs["Ridge"].id)] == ["_slipway/requirements.txt"]


def test_a_fit_inside_an_active_run_logs_there_and_leaves_it_open(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    sw.autolog(log_models=False)
    X, y = load_iris(return_X_y=True)
    with sw.start_run(name="mine", capture=False) as run:
        LogisticRegression(C=0.5, max_iter=500).fit(X, y)
        assert sw.active_run() is run
        assert sw.get_run(run.id).status == "running"
        with caplog.at_level(logging.WARNING, logger="slipway.tracking"):
            LogisticRegression(C=2.0, max_iter=500).fit(X, y)  # params are immutable in a run
    assert "already has other values for C" in caplog.text

    [got] = project_runs()
    assert (got.id, got.name, got.status) == (run.id, "mine", "finished")
    assert got.params["C"] == "0.5"
    assert "training_accuracy_score" in got.metrics


def test_a_pipeline_is_one_run(client: Client) -> None:
    sw.autolog(log_models=False)
    X, y = load_iris(return_X_y=True)
    make_pipeline(StandardScaler(), LogisticRegression(C=3.0)).fit(X, y)

    [run] = project_runs()
    assert run.name == "Pipeline" and run.tags["estimator_name"] == "Pipeline"
    assert run.params["logisticregression__C"] == "3.0"
    assert run.params["standardscaler__with_mean"] == "True"
    assert run.metrics["training_accuracy_score"] > 0.9


def test_a_grid_search_logs_best_params_and_the_top_candidates(client: Client) -> None:
    sw.autolog(max_tuning_runs=2)
    X, y = load_iris(return_X_y=True)
    grid = {"C": [0.001, 0.01, 1.0, 10.0]}
    search = GridSearchCV(LogisticRegression(max_iter=500), grid, cv=3).fit(X, y)

    runs = project_runs()
    [parent] = [run for run in runs if run.parent_run_id is None]
    children = [run for run in runs if run.parent_run_id == parent.id]
    assert len(runs) == 3 and len(children) == 2  # the search's inner fits made no runs
    assert parent.name == "GridSearchCV" and parent.status == "finished"
    assert parent.params["best_C"] == str(search.best_params_["C"])
    assert parent.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert parent.metrics["training_accuracy_score"] == pytest.approx(search.score(X, y))
    assert [a.path for a in sw.list_artifacts(parent.id) if a.path == "model"] == ["model"]

    results = search.cv_results_
    top = np.argsort(results["rank_test_score"], kind="stable")[:2]
    by_c = {child.params["C"]: child for child in children}
    assert set(by_c) == {str(results["params"][i]["C"]) for i in top}
    for i in top:
        child = by_c[str(results["params"][i]["C"])]
        assert child.status == "finished"
        assert child.metrics == pytest.approx(
            {
                "mean_test_score": results["mean_test_score"][i],
                "std_test_score": results["std_test_score"][i],
                "rank_test_score": results["rank_test_score"][i],
            }
        )


def test_fits_in_joblib_worker_threads_count_as_nested(client: Client) -> None:
    sw.autolog(log_models=False)
    X, y = load_iris(return_X_y=True)
    search = RandomizedSearchCV(
        LogisticRegression(max_iter=500), {"C": [0.1, 1.0, 10.0]}, n_iter=3, cv=2, random_state=0
    )
    with joblib.parallel_backend("threading", n_jobs=2):
        search.fit(X, y)

    runs = project_runs()
    assert sorted(run.name for run in runs if run.parent_run_id is None) == ["RandomizedSearchCV"]
    assert len(runs) == 1 + 3


def test_a_failing_fit_fails_its_run_and_raises_the_original_error(client: Client) -> None:
    sw.autolog()
    X, _ = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression(C=0.7).fit(X, np.zeros(len(X)))
    assert sw.active_run() is None

    [run] = project_runs()
    assert run.status == "failed"
    assert run.params["C"] == "0.7"  # logged before the fit, to show what was tried
    assert run.metrics == {}


def test_enabling_twice_wraps_once_and_disable_restores_fit(client: Client) -> None:
    original, inherited = vars(LogisticRegression)["fit"], GridSearchCV.fit
    sw.autolog(log_models=False)
    wrapped = LogisticRegression.fit
    sw.autolog(log_models=False)
    assert LogisticRegression.fit is wrapped and wrapped is not original
    assert wrapped.__wrapped__ is original
    X, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=500).fit(X, y)
    assert len(project_runs()) == 1

    sw.autolog(disable=True)
    assert LogisticRegression.fit is original and GridSearchCV.fit is inherited
    LogisticRegression(max_iter=500).fit(X, y)
    assert len(project_runs()) == 1


def test_logging_failures_do_not_break_the_fit(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def store_down(self: ActiveRun, values: object, step: int | None = None) -> None:
        raise RuntimeError("metric store down")

    monkeypatch.setattr(ActiveRun, "log_metrics", store_down)
    X, y = load_iris(return_X_y=True)
    sw.autolog(log_models=False)
    with caplog.at_level(logging.WARNING, logger="slipway.tracking"):
        model = LogisticRegression(max_iter=500).fit(X, y)
    assert model.predict(X[:3]).shape == (3,)
    [warning] = [r for r in caplog.records if r.name == "slipway.tracking"]
    assert "metrics (RuntimeError: metric store down)" in warning.getMessage()
    [run] = project_runs()
    assert run.status == "finished" and run.params["max_iter"] == "500"

    caplog.clear()
    sw.autolog(log_models=False, silent=True)
    with caplog.at_level(logging.WARNING, logger="slipway.tracking"):
        assert LogisticRegression(max_iter=500).fit(X, y).predict(X[:3]).shape == (3,)
    assert not [r for r in caplog.records if r.name == "slipway.tracking"]


def test_bad_options_are_refused() -> None:
    with pytest.raises(InvalidInput, match="max_tuning_runs must be 0 or more"):
        sw.autolog(max_tuning_runs=-1)
    assert not hasattr(LogisticRegression.fit, "__slipway_autolog__")  # refused before patching


def test_importing_slipway_does_not_import_sklearn() -> None:
    code = (
        "import sys, slipway as sw; "
        "sw.autolog, sw.tracking.ActiveRun; print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
