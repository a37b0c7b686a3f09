"""Promotion gates: the policy a model version must pass before an alias moves to it, and the
pure check of that policy against what the registry holds (`check_policy`).

The policy lives in the user's repository, in `slipway.gates.yaml` (read by
`slipway.models`), one section per registered model::

    version: 1                          # optional; the only format so far
    defaults:                           # optional; every model's section starts from these
      approvals: {required: 1}
    models:
      churn:
        alias: champion                 # the alias these gates guard (default: champion)
        evaluation_data: holdout@v2     # a dataset version NAME@vN, or a file (its name)
        min_metrics: {f1_macro: 0.80, roc_auc: 0.85}   # higher-is-better metrics
        max_metrics: {log_loss: 0.35}                  # lower-is-better metrics
        max_regression: {f1_macro: 0.01, roc_auc: 2%}  # vs the alias holder, same data
        max_latency_us: {single_row_p50_us: 5000}
        data_checks: {no_pii: true, allowed_pii_columns: [], schema_unchanged: true}
        approvals: {required: 1, approvers: [alice, bob], exclude_author: false}

Metric names are those `slipway model evaluate` records; a name in the wrong section (rmse
under min_metrics) is refused, since "at least this much error" is never what is meant. A
regression limit is absolute (0.01) or relative to the holder's value ("2%"). Every rule
reads an evaluation on exactly `evaluation_data`: the candidate's newest one, and for
max_regression the alias holder's newest one too; one that is missing fails the rule.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from slipway.refs import check_alias, check_name, parse_dataset_ref
from slipway.services.projects.schemas import ms_to_datetime
from slipway.services.registry import _gate_rules as rules
from slipway.services.registry._gate_rules import (
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    METRICS,
    EvaluationFacts,
    Evidence,
    GateResult,
    TrainingData,
    same_data,
)
from slipway.services.registry.schemas import MAX_TEXT

__all__ = [
    "FORCE_NEEDS_REASON",
    "METRICS",
    "Approval",
    "ApprovalCreate",
    "ApprovalList",
    "ApprovalRule",
    "DataChecks",
    "EvaluationFacts",
    "Evidence",
    "GateCheck",
    "GatePolicy",
    "GateReport",
    "GateResult",
    "Promotion",
    "PromotionList",
    "PromotionRequest",
    "TrainingData",
    "check_policy",
    "same_data",
]

LatencyKey = Literal["batch_us_per_row", "single_row_p50_us", "single_row_p95_us"]
_RELATIVE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*%$")
FORCE_NEEDS_REASON = (
    "force needs a reason: say why the gates are overridden (it is kept in the audit log, "
    "the alias history and the promotion record)"
)
_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _metric_in(allowed: tuple[str, ...], section: str) -> Any:
    def check(name: str) -> str:
        if name in allowed:
            return name
        if name in METRICS:
            better = "higher" if name in HIGHER_IS_BETTER else "lower"
            other = "min_metrics" if better == "higher" else "max_metrics"
            raise ValueError(f"{name} is {better}-is-better: it belongs under {other}")
        close = difflib.get_close_matches(name, METRICS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown metric {name!r}{hint}; {section} takes {', '.join(allowed)}")

    return AfterValidator(check)


def _regression_limit(value: Any) -> float | str:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str) and (match := _RELATIVE.match(value.strip())):
        return f"{match[1]}%"
    raise ValueError(
        f"{value!r} is not a regression limit: use a non-negative number (absolute, 0.01) "
        "or a percentage of the holder's value ('2%')"
    )


def _evaluation_data(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 1024:
        raise ValueError("name the dataset version (NAME@vN) or the file the gates compare on")
    if "@" in value:
        name, version = parse_dataset_ref(value)
        if version is None:
            raise ValueError(
                f"{value!r} floats: pin a version (NAME@vN) so the candidate and the alias "
                "holder are compared on the same data"
            )
        return f"{name}@v{version}"
    return value


def _alias(value: str) -> str:
    return check_alias(value)


HigherMetric = Annotated[str, _metric_in(HIGHER_IS_BETTER, "min_metrics")]
LowerMetric = Annotated[str, _metric_in(LOWER_IS_BETTER, "max_metrics")]
AnyMetric = Annotated[str, _metric_in(METRICS, "max_regression")]
RegressionLimit = Annotated[float | str, BeforeValidator(_regression_limit)]
Principal = Annotated[str, AfterValidator(check_name)]


class DataChecks(BaseModel):
    """Checks on the dataset versions the candidate was trained on (its lineage)."""

    model_config = _STRICT

    no_pii: bool = False
    allowed_pii_columns: list[str] = Field(default_factory=list, max_length=1000)
    schema_unchanged: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> DataChecks:
        if self.allowed_pii_columns and not self.no_pii:
            raise ValueError("allowed_pii_columns only applies with no_pii: true")
        return self


class ApprovalRule(BaseModel):
    """Human sign-off: `required` distinct principals approved the candidate version."""

    model_config = _STRICT

    required: int = Field(ge=0, le=100)
    approvers: list[Principal] = Field(
        default_factory=list, max_length=1000, description="only these count; empty: anyone"
    )
    exclude_author: bool = Field(
        default=False, description="the version's author's own approval does not count"
    )


class GatePolicy(BaseModel):
    """One model's section of slipway.gates.yaml."""

    model_config = _STRICT

    alias: Annotated[str, AfterValidator(_alias)] = "champion"
    evaluation_data: Annotated[str, AfterValidator(_evaluation_data)] | None = None
    min_metrics: dict[HigherMetric, float] = Field(default_factory=dict)
    max_metrics: dict[LowerMetric, float] = Field(default_factory=dict)
    max_regression: dict[AnyMetric, RegressionLimit] = Field(default_factory=dict)
    max_latency_us: dict[LatencyKey, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    data_checks: DataChecks | None = None
    approvals: ApprovalRule | None = None

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> GatePolicy:
        if info.context and info.context.get("partial"):
            return self  # the defaults section: completed by each model's own
        scored = [
            key
            for key in ("min_metrics", "max_metrics", "max_regression", "max_latency_us")
            if getattr(self, key)
        ]
        if scored and self.evaluation_data is None:
            raise ValueError(
                f"{', '.join(scored)} read an evaluation: set evaluation_data to the dataset "
                "version (NAME@vN) or file the versions are evaluated on"
            )
        checks = self.data_checks
        if (
            not scored
            and self.approvals is None
            and not (checks and (checks.no_pii or checks.schema_unchanged))
        ):
            raise ValueError(
                "no rules: give at least one of min_metrics, max_metrics, max_regression, "
                "max_latency_us, data_checks, approvals (or move the alias with "
                "`slipway model alias` if this model needs no gates)"
            )
        return self


def check_policy(policy: GatePolicy, evidence: Evidence) -> list[GateResult]:
    """Every rule of `policy`, in the policy's order, checked against `evidence`."""
    results: list[GateResult] = []
    if policy.evaluation_data is not None:
        results += rules.metric_rules(policy, evidence)
    if policy.data_checks is not None:
        results += rules.data_rules(policy.data_checks, evidence)
    if policy.approvals is not None:
        results.append(rules.approval_rule(policy.approvals, evidence))
    return results


# -- request and response bodies of the promotion operations ------------------------------


class GateCheck(BaseModel):
    """Check a version against a policy without moving anything (what `slipway check` sends)."""

    model_config = ConfigDict(extra="forbid")

    policy: GatePolicy
    alias: Annotated[str, AfterValidator(_alias)] | None = Field(
        default=None, description="the alias to compare with; default: the policy's alias"
    )
    source: str = Field(default="", max_length=1024, description="where the policy came from")


class PromotionRequest(GateCheck):
    """Move the alias to the version if it passes the policy; `force` moves it anyway."""

    force: bool = False
    reason: str = Field(default="", max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _forced_needs_reason(self) -> PromotionRequest:
        if self.force and not self.reason.strip():
            raise ValueError(FORCE_NEEDS_REASON)
        return self


class GateReport(BaseModel):
    """Every rule checked for one version, and what became of the alias."""

    model: str = Field(description="the candidate, NAME@vN")
    alias: str
    current: str | None = Field(description="the version the alias pointed at, NAME@vN")
    results: list[GateResult]
    passed: bool = Field(description="every rule passed")
    promoted: bool = Field(description="the alias now points at the candidate")
    forced: bool = Field(description="promoted although a rule failed")
    dry_run: bool
    reason: str
    policy: GatePolicy
    source: str
    checked_by: str
    checked_at: datetime

    _ms = field_validator("checked_at", mode="before")(ms_to_datetime)

    @property
    def failures(self) -> list[GateResult]:
        return [r for r in self.results if not r.passed]

    def summary(self) -> str:
        """One line: the candidate, the alias, the verdict."""
        held = f" (held by {self.current})" if self.current else " (unset)"
        failed = self.failures
        if self.dry_run:
            verdict = "PASS" if self.passed else "FAIL"
        elif self.forced:
            verdict = "FORCED"
        else:
            verdict = "PROMOTED" if self.promoted else "REFUSED"
        count = (
            f"{len(failed)} of {len(self.results)} rules failed"
            if failed
            else (f"all {len(self.results)} rules passed")
        )
        return f"{self.model} -> {self.alias}{held}: {verdict}, {count}"

    def text(self) -> str:
        """The summary, then one line per rule."""
        lines = [self.summary()]
        lines += [f"  {'ok  ' if r.passed else 'FAIL'} {r.rule}: {r.message}" for r in self.results]
        return "\n".join(lines)


class ApprovalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=MAX_TEXT)


class Approval(BaseModel):
    model: str = Field(description="NAME@vN")
    approved_by: str
    approved_at: datetime
    note: str
    # False when this principal had already approved the version: that approval stands.
    created: bool = True

    _ms = field_validator("approved_at", mode="before")(ms_to_datetime)


class ApprovalList(BaseModel):
    approvals: list[Approval] = Field(description="oldest first")


class Promotion(BaseModel):
    """An alias moved through the gates (or past them, when forced), with the report."""

    id: str
    model: str = Field(description="NAME@vN")
    alias: str
    previous_version: int | None
    forced: bool
    reason: str
    report: GateReport
    promoted_by: str
    promoted_at: datetime

    _ms = field_validator("promoted_at", mode="before")(ms_to_datetime)


class PromotionList(BaseModel):
    promotions: list[Promotion] = Field(description="newest first")
