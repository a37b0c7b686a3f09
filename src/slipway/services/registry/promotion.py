"""Promotion through gates: approvals, gate checks, promotions and their records.

The policy comes with the request (it lives in the user's repository, in
`slipway.gates.yaml`); the evidence comes from the registry: evaluations, lineage to dataset
versions (their PII flags and profiles), approvals, and the version the alias points at.
A promotion checks and moves in one transaction holding the model's row lock, so two racing
promotions of one alias take turns and the second is judged against the first's result.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import Conflict, NotFound
from slipway.operations import operation
from slipway.services.registry._lookup import find_model, find_version, resolve, versions_hint
from slipway.services.registry.gates import (
    Approval,
    ApprovalCreate,
    ApprovalList,
    EvaluationFacts,
    Evidence,
    GateCheck,
    GatePolicy,
    GateReport,
    GateResult,
    Promotion,
    PromotionList,
    PromotionRequest,
    TrainingData,
    check_policy,
    same_data,
)
from slipway.store import audit
from slipway.store import model_promotions as promotion_rows
from slipway.store import model_registry as rows
from slipway.store.entities import (
    AliasChangeEntity,
    ApprovalEntity,
    ModelVersionEntity,
    PromotionEntity,
    RegisteredModelEntity,
)

VERSION = "/projects/{project}/models/{name}/versions/{version}"


@operation(f"POST {VERSION}/approvals", permission="model:approve", audit="model.approve")
def approve_model_version(
    ctx: Context, project: str, name: str, version: int, body: ApprovalCreate
) -> Approval:
    """Approve a version for promotion, as the acting principal.

    One approval per principal per version: approving again returns the first approval
    (with `created` false) and changes nothing.
    """
    with ctx.store.write() as conn:
        _, model, found = find_version(conn, ctx, project, name, version)
        entity = ApprovalEntity(
            uuid.uuid4().hex, found.id, ctx.principal.name, body.note, ctx.clock()
        )
        kept, created = promotion_rows.add_approval(conn, entity)
    return _approval_view(_ref(model, found), kept, created=created)


@operation("GET /projects/{project}/models/{ref}/approvals", permission="model:read", audit=None)
def list_model_approvals(ctx: Context, project: str, ref: str) -> ApprovalList:
    """Who approved a version, oldest first."""
    with ctx.store.read() as conn:
        _, model, found = resolve(conn, ctx, project, ref)
        kept = promotion_rows.list_approvals(conn, found.id)
    return ApprovalList(approvals=[_approval_view(_ref(model, found), a) for a in kept])


@operation(f"POST {VERSION}/gates", permission="model:read", audit=None, read_only=True)
def check_model_gates(
    ctx: Context, project: str, name: str, version: int, body: GateCheck
) -> GateReport:
    """Check a version against a gate policy without moving any alias (a dry run)."""
    alias = body.alias or body.policy.alias
    with ctx.store.read() as conn:
        _, model = find_model(conn, ctx, project, name)
        found = rows.get_version(conn, model.id, version)
        if found is None:
            raise NotFound(
                f"model {name!r} has no version v{version}; {versions_hint(conn, model)}"
            )
        _refuse_archived(model, found, alias)
        evidence, _ = _collect(conn, ctx, model, found, alias, body.policy)
    results = check_policy(body.policy, evidence)
    return _report(ctx, evidence, body, results, dry_run=True, promoted=False)


@operation(f"POST {VERSION}/promote", permission="model:promote", audit="model.promote")
def promote_model_version(
    ctx: Context, project: str, name: str, version: int, body: PromotionRequest
) -> GateReport:
    """Move the alias (default: the policy's, 'champion') to the version if every gate passes.

    A refusal changes nothing and returns the report with `promoted` false (its audit event
    reads outcome 'refused'). `force` moves the alias anyway; its reason and the failed
    rules go to the audit log, the alias history and the promotion record.
    """
    alias = body.alias or body.policy.alias
    with ctx.store.write() as conn:
        # The model row stays locked until commit: the evidence read here is what the
        # decision and the move are based on, whoever else is promoting.
        _, model, found = find_version(conn, ctx, project, name, version)
        _refuse_archived(model, found, alias)
        evidence, held = _collect(conn, ctx, model, found, alias, body.policy)
        results = check_policy(body.policy, evidence)
        passed = all(r.passed for r in results)
        promoted = passed or body.force
        report = _report(
            ctx, evidence, body, results, dry_run=False, promoted=promoted, forced=not passed
        )
        if promoted:
            now = ctx.clock()
            who = ctx.principal.name
            change = AliasChangeEntity(
                0, model.id, alias, found.version, held, who, now, _history_reason(report)
            )
            rows.move_alias(conn, change, found.id, existed=held is not None)
            promotion_rows.insert_promotion(
                conn,
                PromotionEntity(
                    id=uuid.uuid4().hex,
                    model_id=model.id,
                    alias=alias,
                    version=found.version,
                    previous_version=held,
                    forced=report.forced,
                    reason=body.reason,
                    report=report.model_dump_json(),
                    promoted_by=who,
                    promoted_at=now,
                ),
            )
        audit.annotate(detail=_audit_detail(report), outcome=None if promoted else "refused")
    return report


@operation("GET /projects/{project}/models/{ref}/promotions", permission="model:read", audit=None)
def list_promotions(ctx: Context, project: str, ref: str) -> PromotionList:
    """The promotions of a version through the gates (forced ones too), newest first."""
    with ctx.store.read() as conn:
        _, model, found = resolve(conn, ctx, project, ref)
        kept = promotion_rows.list_promotions(conn, model.id, found.version)
    return PromotionList(promotions=[_promotion_view(model, p) for p in kept])


# -- evidence ----------------------------------------------------------------------------


def _collect(
    conn: Connection,
    ctx: Context,
    model: RegisteredModelEntity,
    candidate: ModelVersionEntity,
    alias: str,
    policy: GatePolicy,
) -> tuple[Evidence, int | None]:
    """What the policy's rules read, and the version number the alias points at."""
    held = rows.aliases(conn, model.id).get(alias)
    current = rows.get_version(conn, model.id, held) if held is not None else None
    data = policy.evaluation_data
    checks = policy.data_checks
    lineage = checks is not None and (checks.no_pii or checks.schema_unchanged)
    schemas = checks is not None and checks.schema_unchanged
    evidence = Evidence(
        candidate=_ref(model, candidate),
        author=candidate.created_by,
        alias=alias,
        current=_ref(model, current) if current else None,
        candidate_evaluation=_evaluation(conn, model, candidate, data),
        current_evaluation=_evaluation(conn, model, current, data) if current else None,
        candidate_data=_training(conn, ctx, candidate, schemas) if lineage else (),
        current_data=_training(conn, ctx, current, schemas) if schemas and current else (),
        approvals=tuple(a.principal for a in promotion_rows.list_approvals(conn, candidate.id))
        if policy.approvals is not None
        else (),
    )
    return evidence, held


def _evaluation(
    conn: Connection, model: RegisteredModelEntity, version: ModelVersionEntity, data: str | None
) -> EvaluationFacts | None:
    """The version's newest evaluation on `data`."""
    if data is None:
        return None
    for e in rows.list_evaluations(conn, version.id):  # newest first
        if same_data(data, e.data):
            result = json.loads(e.result)
            return EvaluationFacts(
                model=_ref(model, version),
                data=e.data,
                metrics=result.get("metrics", {}),
                latency=result.get("latency", {}),
                at=e.created_at,
            )
    return None


def _training(
    conn: Connection, ctx: Context, version: ModelVersionEntity, schemas: bool
) -> tuple[TrainingData, ...]:
    found = []
    for name, dv in promotion_rows.training_data(conn, version.id):
        flags = tuple((f["table"], f["column"], f["kind"]) for f in json.loads(dv.pii))
        schema = None
        if schemas and dv.profile_hash is not None:
            # Profiles are small JSON objects, content-addressed: what was profiled at `add`.
            tables = json.loads(ctx.objects.read_bytes(dv.profile_hash))
            schema = {
                table: {c["name"]: c["type"] for c in profile.get("columns", [])}
                for table, profile in tables.items()
            }
        found.append(TrainingData(f"{name}@v{dv.version}", flags, schema))
    return tuple(found)


# -- views and records --------------------------------------------------------------------


def _ref(model: RegisteredModelEntity, version: ModelVersionEntity) -> str:
    return f"{model.name}@v{version.version}"


def _refuse_archived(model: RegisteredModelEntity, found: ModelVersionEntity, alias: str) -> None:
    if found.status != "active":
        raise Conflict(
            f"{_ref(model, found)} is archived; restore it before pointing {alias!r} at it"
        )


def _report(
    ctx: Context,
    evidence: Evidence,
    body: GateCheck,
    results: list[GateResult],
    *,
    dry_run: bool,
    promoted: bool,
    forced: bool = False,
) -> GateReport:
    passed = all(r.passed for r in results)
    return GateReport(
        model=evidence.candidate,
        alias=evidence.alias,
        current=evidence.current,
        results=results,
        passed=passed,
        promoted=promoted,
        forced=promoted and forced,
        dry_run=dry_run,
        reason=body.reason if isinstance(body, PromotionRequest) else "",
        policy=body.policy,
        source=body.source,
        checked_by=ctx.principal.name,
        checked_at=ctx.clock(),  # ms: the body makes it a datetime
    )


def _history_reason(report: GateReport) -> str:
    if report.forced:
        failed = ", ".join(r.rule for r in report.failures)
        return f"forced past failed gates ({failed}): {report.reason.strip()}"
    said = f"; {report.reason.strip()}" if report.reason.strip() else ""
    return f"promoted through gates: all {len(report.results)} rules passed{said}"


def _audit_detail(report: GateReport) -> str:
    """The request's essentials with the outcome; the reason comes before the long parts
    (the log keeps 4,000 characters), so only the policy's tail can be cut."""
    return json.dumps(
        {
            "model": report.model,
            "alias": report.alias,
            "previous": report.current,
            "promoted": report.promoted,
            "forced": report.forced,
            "reason": report.reason,
            "failed": [f"{r.rule}: {r.message[:300]}" for r in report.failures],
            "source": report.source,
            "policy": report.policy.model_dump(exclude_defaults=True),
        },
        sort_keys=False,
    )


def _approval_view(model: str, a: ApprovalEntity, *, created: bool = True) -> Approval:
    return Approval(
        model=model,
        approved_by=a.principal,
        approved_at=a.created_at,  # ms: the body makes it a datetime
        note=a.note,
        created=created,
    )


def _promotion_view(model: RegisteredModelEntity, p: PromotionEntity) -> Promotion:
    return Promotion(
        id=p.id,
        model=f"{model.name}@v{p.version}",
        alias=p.alias,
        previous_version=p.previous_version,
        forced=p.forced,
        reason=p.reason,
        report=GateReport.model_validate_json(p.report),
        promoted_by=p.promoted_by,
        promoted_at=p.promoted_at,  # ms: the body makes it a datetime
    )
