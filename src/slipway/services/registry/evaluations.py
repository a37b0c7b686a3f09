"""Evaluations kept with a model version: what `slipway.models.evaluate` measured, on which
data, when.

The scoring happens where the model and the data are (the user side); the registry keeps each
result, newest first, as the evidence promotion gates and model cards read.
"""

from __future__ import annotations

import json
import uuid

from slipway.context import Context
from slipway.operations import operation
from slipway.services.registry._lookup import find_version, resolve
from slipway.services.registry.schemas import Evaluation, EvaluationCreate, EvaluationList
from slipway.store import model_registry as rows
from slipway.store.entities import EvaluationEntity


@operation(
    "POST /projects/{project}/models/{name}/versions/{version}/evaluations",
    permission="model:write",
    audit="model.evaluation.create",
)
def record_model_evaluation(
    ctx: Context, project: str, name: str, version: int, body: EvaluationCreate
) -> Evaluation:
    """Keep an evaluation result with the version it measured."""
    result = body.model_dump(exclude={"task", "data", "rows"})
    with ctx.store.write() as conn:
        _, model, found = find_version(conn, ctx, project, name, version)
        entity = EvaluationEntity(
            id=uuid.uuid4().hex,
            model_version_id=found.id,
            task=body.task,
            data=body.data,
            rows=body.rows,
            result=json.dumps(result, sort_keys=True, allow_nan=False),
            created_by=ctx.principal.name,
            created_at=ctx.clock(),
        )
        rows.insert_evaluation(conn, entity)
    return _view(f"{model.name}@v{found.version}", entity)


@operation("GET /projects/{project}/models/{ref}/evaluations", permission="model:read", audit=None)
def list_model_evaluations(ctx: Context, project: str, ref: str) -> EvaluationList:
    """A version's evaluations, newest first."""
    with ctx.store.read() as conn:
        _, model, found = resolve(conn, ctx, project, ref)
        kept = rows.list_evaluations(conn, found.id)
    return EvaluationList(evaluations=[_view(f"{model.name}@v{found.version}", e) for e in kept])


def _view(model: str, e: EvaluationEntity) -> Evaluation:
    return Evaluation(
        id=e.id,
        model=model,
        task=e.task,  # stored from a validated body
        data=e.data,
        rows=e.rows,
        created_by=e.created_by,
        created_at=e.created_at,  # ms, converted by the validator
        **json.loads(e.result),
    )
