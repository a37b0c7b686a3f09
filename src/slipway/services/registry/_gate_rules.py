"""The rules of a promotion policy, each checked against the evidence the registry holds.

Pure functions: no database, no clock. A rule that cannot be checked (no evaluation, no
lineage) fails and says what to do; one with nothing to compare against (no alias holder
yet) passes and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from slipway.refs import parse_dataset_ref

if TYPE_CHECKING:
    from slipway.services.registry.gates import ApprovalRule, DataChecks, GatePolicy

# The metrics `slipway model evaluate` records, by direction: an error metric regresses
# upwards, every other metric downwards.
HIGHER_IS_BETTER = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "r2",
)
LOWER_IS_BETTER = ("log_loss", "rmse", "mae")
METRICS = HIGHER_IS_BETTER + LOWER_IS_BETTER
_EPSILON = 1e-12  # a metric exactly at its threshold passes despite float rounding


class GateResult(BaseModel):
    """One rule of the policy, checked: what was observed against what the rule allows."""

    rule: str = Field(description="e.g. min_metrics.f1_macro, approvals.required")
    passed: bool
    observed: int | float | str | None = None
    threshold: int | float | str | None = None
    message: str


@dataclass(frozen=True)
class EvaluationFacts:
    model: str  # NAME@vN that was measured
    data: str
    metrics: Mapping[str, float | None]
    latency: Mapping[str, float]
    at: int  # ms


@dataclass(frozen=True)
class TrainingData:
    ref: str  # NAME@vN of the dataset version
    pii: tuple[tuple[str, str, str], ...]  # (table, column, kind)
    schema: Mapping[str, Mapping[str, str]] | None  # table -> column -> type; None: no tables


@dataclass(frozen=True)
class Evidence:
    candidate: str  # NAME@vN
    author: str
    alias: str
    current: str | None  # NAME@vN the alias points at, if any
    candidate_evaluation: EvaluationFacts | None
    current_evaluation: EvaluationFacts | None
    candidate_data: tuple[TrainingData, ...]
    current_data: tuple[TrainingData, ...]
    approvals: tuple[str, ...]  # principals, oldest approval first


def same_data(wanted: str, recorded: str) -> bool:
    """Whether an evaluation recorded on `recorded` was scored on the policy's `wanted` data:
    the same dataset version (however its number was written), or the same file name
    (an evaluation of a file records its name)."""
    if wanted == recorded:
        return True
    if "@" in wanted and "@" in recorded:
        try:
            return parse_dataset_ref(wanted) == parse_dataset_ref(recorded)
        except ValueError:
            return False
    return "/" in wanted and wanted.rstrip("/").rsplit("/", 1)[-1] == recorded


# -- evaluation, metrics, regression, latency ---------------------------------------------


def metric_rules(policy: GatePolicy, e: Evidence) -> list[GateResult]:
    data = policy.evaluation_data
    scored = policy.min_metrics or policy.max_metrics or policy.max_regression
    if data is None or not (scored or policy.max_latency_us):
        return []
    found = e.candidate_evaluation
    results = [_evaluation_rule(e.candidate, data, found)]
    for name, least in policy.min_metrics.items():
        results.append(_bound(f"min_metrics.{name}", name, found, least, minimum=True))
    for name, most in policy.max_metrics.items():
        results.append(_bound(f"max_metrics.{name}", name, found, most, minimum=False))
    for name, limit in policy.max_regression.items():
        results.append(_regression(name, limit, e, data))
    for key, most in policy.max_latency_us.items():
        results.append(_latency(key, most, found))
    return results


def _evaluate_hint(model: str, data: str) -> str:
    return f"run `slipway model evaluate {model} --data {data} --target LABEL`"


def _evaluation_rule(model: str, data: str, found: EvaluationFacts | None) -> GateResult:
    if found is None:
        return GateResult(
            rule="evaluation",
            passed=False,
            threshold=data,
            message=f"{model} has no evaluation on {data}; {_evaluate_hint(model, data)}",
        )
    return GateResult(
        rule="evaluation",
        passed=True,
        observed=found.data,
        threshold=data,
        message=f"{model} was evaluated on {found.data} at {_stamp(found.at)}",
    )


def _value(name: str, found: EvaluationFacts | None) -> tuple[float | None, str]:
    """The metric's value, or None and why it is missing."""
    if found is None:
        return None, "no evaluation to read it from"
    if name not in found.metrics:
        return None, (
            f"the evaluation of {found.model} on {found.data} has no {name} "
            f"(it has {', '.join(sorted(found.metrics)) or 'no metrics'})"
        )
    value = found.metrics[name]
    if value is None:
        return None, (
            f"{name} is undefined on {found.data} for {found.model} "
            "(one class only, or the model gives no probabilities)"
        )
    return value, ""


def _bound(
    rule: str, name: str, found: EvaluationFacts | None, limit: float, *, minimum: bool
) -> GateResult:
    value, missing = _value(name, found)
    if value is None:
        return GateResult(rule=rule, passed=False, threshold=limit, message=missing)
    passed = value >= limit - _EPSILON if minimum else value <= limit + _EPSILON
    if passed:
        relation = ">=" if minimum else "<="
        message = f"{name} {_num(value)} {relation} {_num(limit)}"
    else:
        side = "below the minimum" if minimum else "above the maximum"
        message = f"{name} {_num(value)} is {side} {_num(limit)}"
    return GateResult(rule=rule, passed=passed, observed=value, threshold=limit, message=message)


def _regression(name: str, limit: float | str, e: Evidence, data: str) -> GateResult:
    rule = f"max_regression.{name}"
    if e.current is None:
        return GateResult(
            rule=rule,
            passed=True,
            threshold=limit,
            message=f"no version holds {e.alias!r} yet: nothing to regress from",
        )
    if e.current == e.candidate:
        return GateResult(
            rule=rule,
            passed=True,
            observed=0.0,
            threshold=limit,
            message=f"{e.candidate} already holds {e.alias!r}: compared with itself",
        )
    value, missing = _value(name, e.candidate_evaluation)
    if value is None:
        return GateResult(rule=rule, passed=False, threshold=limit, message=missing)
    if e.current_evaluation is None:
        return GateResult(
            rule=rule,
            passed=False,
            threshold=limit,
            message=f"{e.alias} {e.current} has no evaluation on {data} to compare with; "
            f"{_evaluate_hint(e.current, data)}",
        )
    held, missing = _value(name, e.current_evaluation)
    if held is None:
        return GateResult(rule=rule, passed=False, threshold=limit, message=missing)
    lower = name in LOWER_IS_BETTER
    drop = value - held if lower else held - value
    allowed = abs(held) * float(limit[:-1]) / 100 if isinstance(limit, str) else limit
    shown = f"{limit} of {_num(held)} = {_num(allowed)}" if isinstance(limit, str) else _num(limit)
    passed = drop <= allowed + _EPSILON
    if drop <= 0:
        change = f"no worse than {e.alias} {e.current} ({_num(held)})"
    else:
        change = f"worse than {e.alias} {e.current} ({_num(held)}) by {_num(drop)}"
    verdict = "within" if passed else "more than"
    message = f"{name} {_num(value)} is {change}"
    message += f", {verdict} the allowed {shown}" if drop > 0 else ""
    # The threshold is the bound the candidate's value must stay within: at least (or, for
    # an error metric, at most) the holder's value give or take the allowed regression.
    bound = held + allowed if lower else held - allowed
    return GateResult(rule=rule, passed=passed, observed=value, threshold=bound, message=message)


def _latency(key: str, most: float, found: EvaluationFacts | None) -> GateResult:
    rule = f"max_latency_us.{key}"
    if found is None:
        return GateResult(rule=rule, passed=False, threshold=most, message="no evaluation")
    value = found.latency.get(key)
    if value is None:
        return GateResult(
            rule=rule,
            passed=False,
            threshold=most,
            message=f"the evaluation of {found.model} measured no {key}; evaluate it again",
        )
    passed = value <= most + _EPSILON
    relation = "<=" if passed else "is above the maximum"
    message = f"{key} {_num(value)} us {relation} {_num(most)} us (measured where it was evaluated)"
    return GateResult(rule=rule, passed=passed, observed=value, threshold=most, message=message)


# -- data checks --------------------------------------------------------------------------


def data_rules(checks: DataChecks, e: Evidence) -> list[GateResult]:
    results = []
    if checks.no_pii:
        results.append(_no_pii(checks.allowed_pii_columns, e))
    if checks.schema_unchanged:
        results.append(_schema_unchanged(e))
    return results


def _no_lineage(rule: str, e: Evidence) -> GateResult:
    return GateResult(
        rule=rule,
        passed=False,
        message=f"{e.candidate} records no training dataset versions, so its data cannot be "
        "checked; register it with datasets=[NAME@vN, ...] (log_model) or in a run that "
        "read them",
    )


def _no_pii(allowed: list[str], e: Evidence) -> GateResult:
    rule = "data_checks.no_pii"
    if not e.candidate_data:
        return _no_lineage(rule, e)
    found = [(d.ref, t, c, k) for d in e.candidate_data for t, c, k in d.pii]
    blocked = [f"{c} ({k}) in {ref}:{t}" for ref, t, c, k in found if c not in allowed]
    excused = sorted({c for _, _, c, _ in found if c in allowed})
    threshold = ", ".join(allowed) if allowed else "none allowed"
    note = f" (allowed: {', '.join(excused)})" if excused else ""
    refs = ", ".join(d.ref for d in e.candidate_data)
    if blocked:
        return GateResult(
            rule=rule,
            passed=False,
            observed="; ".join(blocked),
            threshold=threshold,
            message=f"personal data in the training data: {'; '.join(blocked)}{note}; drop "
            "the columns or list them under allowed_pii_columns",
        )
    return GateResult(
        rule=rule,
        passed=True,
        observed="none" if not excused else f"allowed only: {', '.join(excused)}",
        threshold=threshold,
        message=f"no PII flagged in {refs}{note}",
    )


def _schema_unchanged(e: Evidence) -> GateResult:
    rule = "data_checks.schema_unchanged"
    if not e.candidate_data:
        return _no_lineage(rule, e)
    if e.current is None or e.current == e.candidate or not e.current_data:
        why = (
            f"no version holds {e.alias!r} yet"
            if e.current is None
            else f"{e.current} is the candidate itself"
            if e.current == e.candidate
            else f"{e.alias} {e.current} records no training datasets"
        )
        return GateResult(rule=rule, passed=True, message=f"{why}: nothing to compare")
    changes = _schema_changes(_schemas(e.current_data), _schemas(e.candidate_data))
    against = f"{e.alias} {e.current}'s training data"
    if changes:
        return GateResult(
            rule=rule,
            passed=False,
            observed=f"{len(changes)} change(s)",
            threshold="no change",
            message=f"the training data's schema differs from {against}: {'; '.join(changes)}",
        )
    return GateResult(
        rule=rule,
        passed=True,
        observed="unchanged",
        threshold="no change",
        message=f"same tables and column types as {against}",
    )


def _schemas(data: tuple[TrainingData, ...]) -> dict[str, Mapping[str, str]]:
    """'DATASET/TABLE' -> column -> type, over every dataset version that holds tables; the
    dataset's name, not its version, keys it: train@v3 is compared with train@v2."""
    found: dict[str, Mapping[str, str]] = {}
    for d in data:
        name = d.ref.rsplit("@", 1)[0]
        for table, columns in (d.schema or {}).items():
            found[f"{name}/{table}"] = columns
    return found


def _schema_changes(
    before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]
) -> list[str]:
    changes = [f"table {t} is new" for t in sorted(set(after) - set(before))]
    changes += [f"table {t} is gone" for t in sorted(set(before) - set(after))]
    for table in sorted(set(before) & set(after)):
        old, new = before[table], after[table]
        changes += [f"{table}: column {c!r} added" for c in sorted(set(new) - set(old))]
        changes += [f"{table}: column {c!r} removed" for c in sorted(set(old) - set(new))]
        changes += [
            f"{table}: column {c!r} {old[c]} -> {new[c]}"
            for c in sorted(set(old) & set(new))
            if old[c] != new[c]
        ]
    return changes


# -- approvals ----------------------------------------------------------------------------


def approval_rule(rule: ApprovalRule, e: Evidence) -> GateResult:
    counted: list[str] = []
    ignored: list[str] = []
    for who in dict.fromkeys(e.approvals):  # one per principal (the table guarantees it too)
        if rule.approvers and who not in rule.approvers:
            ignored.append(f"{who} (not among the approvers)")
        elif rule.exclude_author and who == e.author:
            ignored.append(f"{who} (the version's author)")
        else:
            counted.append(who)
    passed = len(counted) >= rule.required
    by = f": {', '.join(counted)}" if counted else ""
    message = f"{len(counted)} of {rule.required} required approval(s){by}"
    if ignored:
        message += f"; not counted: {', '.join(ignored)}"
    if not passed:
        message += f"; approve with `slipway model approve {_name_version(e.candidate)}`"
    return GateResult(
        rule="approvals.required",
        passed=passed,
        observed=len(counted),
        threshold=rule.required,
        message=message,
    )


def _name_version(ref: str) -> str:
    name, _, version = ref.rpartition("@v")
    return f"{name} {version}"


def _num(value: float) -> str:
    return f"{value:.6g}"


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
