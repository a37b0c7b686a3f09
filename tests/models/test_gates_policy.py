"""slipway.gates.yaml read strictly, and the rules judged without a registry."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from slipway.errors import InvalidInput
from slipway.models._gates_file import find_gates_file, load_gates_file, parse_gates
from slipway.services.registry.gates import (
    EvaluationFacts,
    Evidence,
    GatePolicy,
    TrainingData,
    check_policy,
    same_data,
)

FULL = """\
version: 1
defaults:
  approvals: {required: 1}
models:
  churn:
    alias: production
    evaluation_data: holdout@2
    min_metrics: {f1_macro: 0.80, roc_auc: 0.85}
    max_metrics: {log_loss: 0.4}
    max_regression: {f1_macro: 0.01, roc_auc: 2%}
    max_latency_us: {single_row_p50_us: 5000}
    data_checks: {no_pii: true, allowed_pii_columns: [zip], schema_unchanged: true}
  fraud:
    evaluation_data: data/fraud-holdout.parquet
    max_metrics: {rmse: 3}
    approvals: {required: 2, approvers: [alice, bob], exclude_author: true}
"""


def test_a_full_file_parses_with_defaults_merged() -> None:
    policies = parse_gates(FULL)
    churn, fraud = policies["churn"], policies["fraud"]
    assert (churn.alias, churn.evaluation_data) == ("production", "holdout@v2")
    assert churn.max_regression == {"f1_macro": 0.01, "roc_auc": "2%"}
    assert churn.approvals is not None and churn.approvals.required == 1  # from defaults
    assert churn.data_checks is not None and churn.data_checks.allowed_pii_columns == ["zip"]
    assert fraud.alias == "champion" and fraud.approvals is not None
    assert (fraud.approvals.required, fraud.approvals.approvers) == (2, ["alice", "bob"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "models:\n  churn:\n    evaluation_data: h@v1\n    min_metrics: {f1_marco: 0.8}\n",
            ":4: models.churn.min_metrics.f1_marco: unknown metric 'f1_marco' (did you mean",
        ),
        (
            "models:\n  churn:\n    evaluation_data: h@v1\n    min_metrics: {rmse: 1}\n",
            ":4: models.churn.min_metrics.rmse: rmse is lower-is-better: it belongs under "
            "max_metrics",
        ),
        (
            "models:\n  churn:\n    approvals: {required: 1}\n    max_regresion: {}\n",
            ":4: models.churn.max_regresion: unknown key 'max_regresion' (did you mean "
            "'max_regression'?)",
        ),
        (
            "models:\n  churn:\n    approvals: {required: '2'}\n",
            ":3: models.churn.approvals.required: Input should be a valid integer (got '2')",
        ),
        (
            "models:\n  churn:\n    min_metrics: {accuracy: 0.5}\n",
            ":2: models.churn: min_metrics read an evaluation: set evaluation_data",
        ),
        (
            "models:\n  churn:\n    evaluation_data: h@latest\n    min_metrics: {accuracy: 0.5}\n",
            ":3: models.churn.evaluation_data: 'h@latest' floats: pin a version",
        ),
        (
            "models:\n  churn:\n    evaluation_data: h@v1\n    max_regression: {r2: -0.1}\n",
            ":4: models.churn.max_regression.r2: -0.1 is not a regression limit",
        ),
        ("models:\n  churn: {}\n", ":2: models.churn: no rules"),
        (
            "models:\n  churn:\n    data_checks: {allowed_pii_columns: [email]}\n",
            "allowed_pii_columns only applies with no_pii: true",
        ),
        (
            "models:\n  churn:\n    approvals: {required: 1}\n  churn:\n    approvals: {}\n",
            ":4: models.churn appears twice (first on line 2)",
        ),
        ("model:\n  churn: {}\n", ":1: unknown key 'model'; the top level takes"),
        ("version: 2\nmodels: {}\n", ":1: unknown format version 2"),
        ("models: [churn]\n", ":1: `models:` must map model names to gates"),
        ("models:\n  churn: [\n", "not valid YAML"),
        (
            "defaults:\n  approvals:\n    requried: 1\nmodels:\n  a: {}\n  b: {}\n",
            ":3: defaults.approvals.requried: unknown key 'requried'",
        ),
        ("models:\n  'bad name':\n    approvals: {required: 1}\n", ":2: model: invalid name"),
        (
            "models:\n  churn:\n    evaluation_data: h@v1\n    min_metrics: {accuracy: .nan}\n",
            "models.churn.min_metrics.accuracy: Input should be a finite number",
        ),
    ],
)
def test_a_bad_gates_file_names_the_line_and_the_key(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_gates(text, "gates.yaml")
    assert expected in caught.value.detail
    assert "gates.yaml" in caught.value.detail


def test_each_bad_default_is_reported_once() -> None:
    text = "defaults:\n  approvals: {required: -1}\nmodels:\n  a: {}\n  b: {}\n"
    with pytest.raises(InvalidInput) as caught:
        parse_gates(text)
    assert caught.value.detail.count("defaults.approvals.required") == 1


def test_the_gates_file_is_found_upwards_then_in_the_workspace(tmp_path: Path) -> None:
    repo, deep, elsewhere = tmp_path / "repo", tmp_path / "repo" / "src" / "pkg", tmp_path / "x"
    deep.mkdir(parents=True)
    elsewhere.mkdir()
    with pytest.raises(InvalidInput, match=r"no slipway\.gates\.yaml"):
        find_gates_file(deep)
    (repo / "slipway.gates.yaml").write_text("models:\n  churn:\n    approvals: {required: 1}\n")
    assert find_gates_file(deep) == repo / "slipway.gates.yaml"
    assert find_gates_file(elsewhere, repo) == repo / "slipway.gates.yaml"
    loaded = load_gates_file(repo / "slipway.gates.yaml")
    assert loaded.source.startswith("slipway.gates.yaml sha256:")
    with pytest.raises(InvalidInput, match="no section for model 'fraud' \\(it has: churn\\)"):
        loaded.policy("fraud")


def test_recorded_data_matches_however_the_version_was_written() -> None:
    assert same_data("holdout@v2", "holdout@2")
    assert not same_data("holdout@v2", "holdout@v3")
    assert same_data("data/holdout.csv", "holdout.csv")
    assert not same_data("holdout.csv", "other.csv")


def facts(model: str, **metrics: float | None) -> EvaluationFacts:
    return EvaluationFacts(model, "h@v1", metrics, {"single_row_p50_us": 900.0}, 0)


def evidence(candidate: EvaluationFacts, current: EvaluationFacts | None = None) -> Evidence:
    return Evidence(
        candidate="m@v2",
        author="me",
        alias="champion",
        current="m@v1" if current else None,
        candidate_evaluation=candidate,
        current_evaluation=current,
        candidate_data=(),
        current_data=(),
        approvals=(),
    )


def test_regressions_follow_each_metric_direction_and_may_be_relative() -> None:
    policy = GatePolicy(
        evaluation_data="h@v1",
        max_regression={"rmse": 0.5, "r2": "2%"},
        max_latency_us={"single_row_p50_us": 800},
    )
    better = check_policy(
        policy, evidence(facts("m@v2", rmse=3.4, r2=0.785), facts("m@v1", rmse=3.0, r2=0.8))
    )
    by_rule = {r.rule: r for r in better}
    assert by_rule["max_regression.rmse"].passed  # 0.4 more error, 0.5 allowed
    assert by_rule["max_regression.rmse"].threshold == pytest.approx(3.5)
    assert by_rule["max_regression.r2"].passed  # 2% of 0.8 = 0.016 allowed, 0.015 lost
    assert by_rule["max_regression.r2"].threshold == pytest.approx(0.784)
    assert not by_rule["max_latency_us.single_row_p50_us"].passed
    worse = check_policy(
        policy, evidence(facts("m@v2", rmse=3.6, r2=None), facts("m@v1", rmse=3.0, r2=0.8))
    )
    rmse, r2 = worse[1], worse[2]
    assert not rmse.passed and "worse than champion m@v1 (3) by 0.6" in rmse.message
    assert not r2.passed and "r2 is undefined" in r2.message


def test_a_holder_without_an_evaluation_on_the_data_fails_the_regression_rule() -> None:
    policy = GatePolicy(evaluation_data="h@v1", max_regression={"accuracy": 0.0})
    e = evidence(facts("m@v2", accuracy=0.9))
    held = Evidence(**{**e.__dict__, "current": "m@v1"})
    (_, rule) = check_policy(policy, held)
    assert not rule.passed
    assert "slipway model evaluate m@v1 --data h@v1" in rule.message


def test_schema_comparison_keys_tables_by_dataset_name() -> None:
    policy = GatePolicy.model_validate({"data_checks": {"schema_unchanged": True}})
    old = TrainingData("train@v1", (), {"t.csv": {"a": "int64", "b": "double"}})
    new = TrainingData("train@v2", (), {"t.csv": {"a": "double", "c": "string"}})
    e = Evidence("m@v2", "me", "champion", "m@v1", None, None, (new,), (old,), ())
    (rule,) = check_policy(policy, e)
    assert not rule.passed
    assert "column 'c' added" in rule.message and "column 'b' removed" in rule.message
    assert "column 'a' int64 -> double" in rule.message
    same = Evidence("m@v2", "me", "champion", "m@v1", None, None, (old,), (old,), ())
    assert check_policy(policy, same)[0].passed


def test_the_known_metrics_are_those_evaluate_records() -> None:
    """A metric `slipway model evaluate` adds must be known to the gates, with a direction."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from slipway.models._scoring import Scorer, score_frame
    from slipway.services.registry.gates import METRICS, LatencyKey

    x = pd.DataFrame({"a": np.arange(40.0)})
    label = (x["a"] > 20).astype(int)
    classifier = LogisticRegression().fit(x, label)
    scorer = Scorer(classifier.predict, classifier.predict_proba, list(classifier.classes_))
    classified = score_frame(scorer, x.assign(y=label), target="y", task="classification")
    regressor = LinearRegression().fit(x, x["a"] * 2)
    regressed = score_frame(
        Scorer(regressor.predict), x.assign(y=x["a"] * 2), target="y", task="regression"
    )
    assert set(classified.metrics) | set(regressed.metrics) == set(METRICS)
    assert set(classified.latency) == set(typing.get_args(LatencyKey))
