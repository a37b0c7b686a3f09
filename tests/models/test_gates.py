"""Promotion gates as a user drives them: evaluate, approve, promote, refuse, force.

Small scikit-learn models on generated data; embedded (SQLite) everywhere, and the promote
path against a live `slipway server` too. The race runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import slipway as sw
from slipway.client import Client, EmbeddedBackend
from slipway.client._models import ModelsClient
from slipway.context import Context, Principal
from slipway.data import Data
from slipway.errors import InvalidInput, PermissionDenied
from slipway.services.registry.gates import ApprovalRule, DataChecks, GatePolicy, PromotionRequest
from slipway.services.registry.schemas import EvaluationCreate
from slipway.store import audit
from tests.conftest import settings_for
from tests.models.test_models_client import churn_data
from tests.models.test_registry import P, Registry, race

GATES = """\
models:
  churn:
    evaluation_data: holdout.csv@v1
    min_metrics: {f1_macro: 0.6}
    max_regression: {f1_macro: 0.01}
"""


@pytest.fixture
def local(workspace: Path, sqlite_url: str) -> Iterator[Client]:
    made = Client.from_settings(settings_for(workspace, sqlite_url))
    yield made
    made.close()


def forest(depth: int, *, shuffled: bool = False) -> Any:
    """A small forest; `shuffled` trains it on permuted labels (a useless model)."""
    from sklearn.ensemble import RandomForestClassifier

    frame, label = churn_data(400)
    if shuffled:
        label = np.random.default_rng(1).permutation(label)
    return RandomForestClassifier(n_estimators=10, max_depth=depth, random_state=0).fit(
        frame, label
    )


def example() -> pd.DataFrame:
    return churn_data(4)[0]


def write_holdout(folder: Path) -> None:
    test, label = churn_data(300)
    test.assign(label=label).to_csv(folder / "holdout.csv", index=False)


def ctx_of(client: Client) -> Context:
    backend = client.backend
    assert isinstance(backend, EmbeddedBackend)
    return backend.ctx


def test_a_better_challenger_is_promoted_and_a_worse_one_refused(
    client: Client, workspace: Path
) -> None:
    (workspace / "slipway.gates.yaml").write_text(GATES)
    write_holdout(workspace)
    models = client.models
    tables = Data(client)  # reads the dataset version evaluated on
    with sw.using(client):
        holdout = sw.data.add("holdout.csv").ref
    for model in (forest(2), forest(5), forest(5, shuffled=True)):
        models.log_model(model, "churn", input_example=example())

    refused = models.promote("churn", 1)
    assert (refused.promoted, refused.passed, refused.current) == (False, False, None)
    (missing,) = [r for r in refused.failures if r.rule == "evaluation"]
    assert "slipway model evaluate churn@v1 --data holdout.csv@v1" in missing.message
    assert models.alias_history("churn") == []

    models.evaluate("churn@v1", holdout, target="label", tables=tables)
    first = models.promote("churn", 1)
    assert (first.promoted, first.forced, first.current) == (True, False, None)
    regression = next(r for r in first.results if r.rule == "max_regression.f1_macro")
    assert regression.passed and "nothing to regress from" in regression.message

    models.evaluate("churn@v2", holdout, target="label", tables=tables)
    second = models.promote("churn", 2)
    assert (second.promoted, second.current) == (True, "churn@v1"), second.text()
    assert models.get_version("churn@champion").version == 2

    models.evaluate("churn@v3", holdout, target="label", tables=tables)
    worse = models.promote("churn", 3)
    assert not worse.promoted and not worse.forced
    assert {r.rule for r in worse.failures} == {"min_metrics.f1_macro", "max_regression.f1_macro"}
    assert "max_regression.f1_macro" in worse.text() and "REFUSED" in worse.summary()
    # Nothing changed: the alias, its history, the promotion records.
    assert models.get_version("churn@champion").version == 2
    history = models.alias_history("churn")
    assert [(c.previous_version, c.version) for c in history] == [(None, 1), (1, 2)]
    assert all(c.reason.startswith("promoted through gates") for c in history)
    assert models.promotions("churn@v3") == []

    dry = models.check_gates("churn")  # the latest version, v3: checked, nothing moves
    assert (dry.model, dry.dry_run, dry.passed, dry.promoted) == ("churn@v3", True, False, False)
    assert len(models.alias_history("churn")) == 2
    (record,) = models.promotions("churn@v2")
    assert (record.alias, record.previous_version, record.forced) == ("champion", 1, False)
    assert record.report.passed and record.report.source.startswith("slipway.gates.yaml sha256:")


def test_forced_promotion_needs_a_reason_and_is_on_record(local: Client) -> None:
    models = local.models
    models.log_model(forest(2), "churn", input_example=example())
    policy = GatePolicy(approvals=ApprovalRule(required=1))
    with pytest.raises(InvalidInput, match="force needs a reason"):
        models.promote("churn", 1, force=True, reason="  ", policy=policy)
    refused = models.promote("churn", 1, policy=policy)
    assert not refused.promoted and [r.rule for r in refused.failures] == ["approvals.required"]

    forced = models.promote("churn", 1, force=True, reason="hotfix INC-42", policy=policy)
    assert (forced.promoted, forced.forced, forced.passed) == (True, True, False)
    assert models.get_version("churn@champion").version == 1
    (move,) = models.alias_history("churn")
    assert "hotfix INC-42" in move.reason and "approvals.required" in move.reason
    (record,) = models.promotions("churn@v1")
    assert record.forced and record.reason == "hotfix INC-42"
    with ctx_of(local).store.read() as conn:
        events = audit.list_events(conn, action="model.promote")
    assert [e.outcome for e in events] == ["ok", "refused"]  # newest first
    detail = json.loads(events[0].detail)
    assert detail["reason"] == "hotfix INC-42" and detail["forced"] is True
    assert detail["failed"][0].startswith("approvals.required: 0 of 1")


def test_approvals_count_once_per_principal(local: Client) -> None:
    ctx = ctx_of(local)
    models = local.models
    author = ctx.principal.name

    def as_(name: str, *permissions: str) -> ModelsClient:
        principal = Principal(name, frozenset(permissions) if permissions else None)
        return ModelsClient(ctx.settings, EmbeddedBackend(ctx.acting_as(principal)))

    models.log_model(forest(2), "churn", input_example=example())
    policy = GatePolicy(approvals=ApprovalRule(required=2, exclude_author=True))
    assert models.approve("churn", 1, note="mine").created
    alice = as_("alice")
    first = alice.approve("churn", 1, note="looked at the slices")
    again = alice.approve("churn", 1, note="twice")
    assert (first.created, again.created, again.note) == (True, False, "looked at the slices")
    with pytest.raises(PermissionDenied, match="model:approve"):
        as_("viewer", "model:read").approve("churn", 1)
    assert [a.approved_by for a in models.approvals("churn@v1")] == [author, "alice"]

    short = models.check_gates("churn@v1", policy=policy)
    (rule,) = short.results
    assert (rule.passed, rule.observed, rule.threshold) == (False, 1, 2)
    assert f"{author} (the version's author)" in rule.message
    as_("bob").approve("churn", 1)
    report = models.promote("churn", 1, policy=policy)
    assert report.promoted and report.results[0].observed == 2
    only = GatePolicy(approvals=ApprovalRule(required=2, approvers=["bob", "carol"]))
    assert not models.check_gates("churn@v1", policy=only).passed


def test_pii_and_schema_changes_in_the_training_data_block(local: Client, workspace: Path) -> None:
    frame, label = churn_data(60)
    train = workspace / "train.csv"
    frame.assign(label=label).to_csv(train, index=False)
    models = local.models
    with sw.using(local):
        first = sw.data.add("train.csv").ref
        emails = [f"user{i}@example.com" for i in range(len(frame))]
        frame.assign(label=label, email=emails).to_csv(train, index=False)
        second = sw.data.add("train.csv").ref
    models.log_model(forest(2), "churn", input_example=example(), datasets=[first])
    models.log_model(forest(3), "churn", input_example=example(), datasets=[second])
    models.log_model(forest(4), "churn", input_example=example())  # no lineage
    strict = GatePolicy(data_checks=DataChecks(no_pii=True, schema_unchanged=True))
    assert models.promote("churn", 1, policy=strict).promoted

    report = models.check_gates("churn@v2", policy=strict)
    pii, schema = report.results
    assert not pii.passed and "email (email) in train.csv@v2:train.csv" in pii.message
    assert not schema.passed and "column 'email' added" in schema.message
    allowed = GatePolicy(data_checks=DataChecks(no_pii=True, allowed_pii_columns=["email"]))
    (excused,) = models.check_gates("churn@v2", policy=allowed).results
    assert excused.passed and "allowed: email" in excused.message
    blind = models.check_gates("churn@v3", policy=strict)
    assert all("records no training dataset versions" in r.message for r in blind.results)
    assert not blind.passed


def test_racing_promotions_leave_one_consistent_alias(metadata_url: str, workspace: Path) -> None:
    """v2 beats v3; whichever promotion runs first, the second is judged against it, so the
    alias ends on v2 and the history is one chain."""
    setup = Registry(EmbeddedBackend(Context.open(settings_for(workspace, metadata_url))))
    policy = GatePolicy(evaluation_data="holdout@v1", max_regression={"accuracy": 0.0})
    for number, accuracy in ((1, 0.7), (2, 0.9), (3, 0.8)):
        setup.register(package_hash=setup.package(str(number).encode()))
        body = EvaluationCreate(
            task="classification", data="holdout@1", rows=100, metrics={"accuracy": accuracy}
        )
        setup("record_model_evaluation", project=P, name="churn", version=number, body=body)

    def promote(registry: Registry, n: int) -> None:
        body = PromotionRequest(policy=policy)
        registry("promote_model_version", project=P, name="churn", version=n + 2, body=body)

    for _ in range(3):
        setup.alias("champion", 1, reason="reset")
        race(2, promote, metadata_url, workspace)
        (listed,) = setup("list_registered_models", project=P).models
        assert listed.aliases == {"champion": 2}
    changes = setup("list_alias_history", project=P, name="churn").changes
    for before, after in itertools.pairwise(changes):
        assert after.previous_version == before.version
    gated = [c for c in changes if c.reason.startswith("promoted through gates")]
    kept = setup("list_promotions", project=P, ref="churn@v2").promotions
    kept += setup("list_promotions", project=P, ref="churn@v3").promotions
    assert len(kept) == len(gated) and len(gated) in range(3, 7)
    setup.backend.close()
