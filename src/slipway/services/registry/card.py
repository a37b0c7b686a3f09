"""Model cards: what a version is for, what it was trained on, how well it does, how to run it.

One operation gathers every fact a card shows (the version, its lineage and run params, its
evaluations, the alias moves touching it, the dataset versions it was trained on with their
profiles, its promotions through the gates and its approvals, the package's environment), so
a remote card is one round trip. Rendering is the caller's (`slipway.models.card_markdown`):
no model is loaded here, only the package's slipway-model.yaml is read from the object store.

The author's text lives on the version as reserved tags, written through the ordinary
`update_model_version` (no schema of its own): `card.intended_use` and `card.limitations`,
each at most `MAX_TAG_VALUE` characters. Tags under `card.` are the card's own: the card
shows them as its sections, not among the version's tags.
"""

from __future__ import annotations

import importlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import SlipwayError
from slipway.operations import describe_validation, operation
from slipway.services.projects.schemas import ms_to_datetime
from slipway.services.registry._lookup import alias_change_view, build_version, resolve, run_summary
from slipway.services.registry.evaluations import _view as evaluation_view
from slipway.services.registry.gates import Approval, Promotion
from slipway.services.registry.promotion import list_model_approvals, list_promotions
from slipway.services.registry.schemas import (
    PACKAGE_META_FILE,
    AliasChange,
    Evaluation,
    ModelVersion,
)
from slipway.store import datasets as dataset_rows
from slipway.store import model_registry as rows
from slipway.store.entities import DatasetInputEntity, ProjectEntity

INTENDED_USE_TAG = "card.intended_use"
LIMITATIONS_TAG = "card.limitations"
CARD_TAGS = {"intended_use": INTENDED_USE_TAG, "limitations": LIMITATIONS_TAG}


class CardColumn(BaseModel):
    name: str
    type: str
    null_rate: float | None


class CardTable(BaseModel):
    """One table of a dataset version, as its profile describes it (statistics left out)."""

    path: str
    format: str
    row_count: int | None
    columns: list[CardColumn]


class CardDataset(BaseModel):
    ref: str  # NAME@vN
    path: str  # where the version was added from
    object_hash: str
    size: int | None
    file_count: int | None
    tables: list[CardTable]
    # {table, column, kind, match_rate} per column flagged as personal data when it was added
    pii: list[dict[str, Any]]
    # Why the version or its profile could not be read (gone from the store, say); "" if read.
    problem: str = ""


class CardPackage(BaseModel):
    """What the package's slipway-model.yaml says about running the model."""

    flavor: str
    python_version: str
    slipway_version: str
    requirements: list[str]
    signature: dict[str, Any] | None
    created_at: datetime | None


class ModelCard(BaseModel):
    """The facts of a version's model card; `_card_render` writes them as Markdown or HTML."""

    model_config = ConfigDict(frozen=True)

    version: ModelVersion
    intended_use: str
    limitations: str
    # The run that made the version, as lineage shows it (id, name, status, params, ...)
    run: dict[str, Any] | None
    datasets: list[CardDataset]
    evaluations: list[Evaluation] = Field(description="newest first")
    alias_history: list[AliasChange] = Field(
        description="moves of any alias to or away from this version, oldest first"
    )
    package: CardPackage | None
    package_problem: str = Field(default="", description="why the package could not be read")
    promotions: list[Promotion] = Field(description="through the gates, newest first")
    approvals: list[Approval] = Field(description="oldest first")
    generated_at: datetime

    _ms = field_validator("generated_at", mode="before")(ms_to_datetime)


@operation("GET /projects/{project}/models/{ref}/card", permission="model:read", audit=None)
def get_model_card(ctx: Context, project: str, ref: str) -> ModelCard:
    """Every fact a model card shows about a version (remotely: one round trip)."""
    with ctx.store.read() as conn:
        owner, model, found = resolve(conn, ctx, project, ref)
        inputs = rows.version_datasets(conn, [found.id])[found.id]
        version = build_version(owner, model, found, rows.aliases(conn, model.id), inputs)
        run = run_summary(conn, found.run_id) if found.run_id else None
        evaluations = [
            evaluation_view(version.ref, e) for e in rows.list_evaluations(conn, found.id)
        ]
        moves = [
            alias_change_view(c)
            for c in rows.alias_history(conn, model.id)
            if found.version in (c.version, c.previous_version)
        ]
        datasets = [_dataset_facts(conn, owner, d) for d in inputs]
    # By number from here on, so an alias moving meanwhile cannot switch versions.
    promotions = list_promotions(ctx, owner.name, version.ref).promotions
    approvals = list_model_approvals(ctx, owner.name, version.ref).approvals
    # Object reads happen outside the transaction: a remote object store is slow to answer.
    package, problem = _package_facts(ctx, found.package_hash)
    return ModelCard(
        version=version,
        intended_use=version.tags.get(INTENDED_USE_TAG, ""),
        limitations=version.tags.get(LIMITATIONS_TAG, ""),
        run=run,
        datasets=[_with_profile(ctx, *d) for d in datasets],
        evaluations=evaluations,
        alias_history=moves,
        package=package,
        package_problem=problem,
        promotions=promotions,
        approvals=approvals,
        generated_at=ctx.clock(),
    )


# -- sections' facts -----------------------------------------------------------------------


def _dataset_facts(
    conn: Connection, owner: ProjectEntity, d: DatasetInputEntity
) -> tuple[CardDataset, str | None]:
    """The dataset version's record, and the hash of its profiles (read later)."""
    ref = f"{d.dataset}@v{d.version}"
    dataset = dataset_rows.get_dataset(conn, owner.id, d.dataset)
    found = dataset_rows.get_version(conn, dataset.id, d.version) if dataset else None
    if found is None:  # lineage rows outlived the version: show what lineage knows
        return CardDataset(
            ref=ref,
            path=d.path,
            object_hash=d.object_hash,
            size=None,
            file_count=None,
            tables=[],
            pii=[],
            problem="the dataset version's record is gone",
        ), None
    card = CardDataset(
        ref=ref,
        path=found.path,
        object_hash=found.object_hash,
        size=found.size,
        file_count=found.file_count,
        tables=[],
        pii=list(json.loads(found.pii)),
    )
    return card, found.profile_hash


def _with_profile(ctx: Context, card: CardDataset, profile_hash: str | None) -> CardDataset:
    if profile_hash is None:
        return card
    try:
        profiles = json.loads(ctx.objects.read_bytes(profile_hash))
    except (SlipwayError, ValueError) as exc:
        problem = f"its profile {profile_hash[:12]} could not be read ({exc})"
        return card.model_copy(update={"problem": problem})
    tables = [_table(path, p) for path, p in sorted(profiles.items()) if isinstance(p, dict)]
    return card.model_copy(update={"tables": tables})


def _table(path: str, profile: dict[str, Any]) -> CardTable:
    """The summary a card shows; quantiles, histograms and top values stay in the profile."""
    columns = [
        CardColumn(name=str(c.get("name")), type=str(c.get("type")), null_rate=c.get("null_rate"))
        for c in profile.get("columns") or []
        if isinstance(c, dict)
    ]
    rows_ = profile.get("row_count")
    return CardTable(
        path=path,
        format=str(profile.get("format", "")),
        row_count=rows_ if isinstance(rows_, int) else None,
        columns=columns,
    )


def _package_facts(ctx: Context, package_hash: str) -> tuple[CardPackage | None, str]:
    """(what slipway-model.yaml says, "") or (None, why it could not be read)."""
    yaml = importlib.import_module("yaml")  # a service module imports PyYAML only when used
    try:
        manifest = ctx.objects.read_manifest(package_hash)
        entry = next((e for e in manifest.entries if e.path == PACKAGE_META_FILE), None)
        if entry is None:
            return None, f"the package has no {PACKAGE_META_FILE}"
        meta = yaml.safe_load(ctx.objects.read_bytes(entry.hash))
        return CardPackage.model_validate(meta if isinstance(meta, dict) else {}), ""
    except SlipwayError as exc:
        return None, f"the package could not be read ({exc})"
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, f"the package's {PACKAGE_META_FILE} is not readable YAML ({exc})"
    except ValidationError as exc:
        return (
            None,
            f"the package's {PACKAGE_META_FILE} is malformed ({describe_validation(exc.errors())})",
        )
