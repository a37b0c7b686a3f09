"""The metadata schema, one definition for SQLite and PostgreSQL.

Times are integer milliseconds since the epoch (UTC): portable, sortable, and what metric
series need anyway. Ids are 32-character hex UUIDs so rows can be created without a round trip.
Tables keyed by (run_id, key) are clustered on that key in SQLite (WITHOUT ROWID): reading a
run's params or probing one run's metric is one B-tree search instead of two.
Every change here goes with an Alembic revision in `migrations/versions/`; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)

# Named constraints keep Alembic migrations identical across backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)
NAME = String(256)
KEY = String(250)

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", NAME, nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_by", NAME, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("parent_run_id", ID, ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    Column("name", NAME, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", NAME, nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("deleted_at", BigInteger, nullable=True),
    # What a search tests on every run it considers: its id (for the params, metrics and tags
    # probes), project, start time (the order) and whether it is deleted. Walking one
    # project's runs or all newest first, and stopping once a page is full, reads the first
    # two; starting from the runs a (key, value) index gave, the third: only the runs on
    # the page are read from the table.
    Index(None, "project_id", "start_time", "id", "deleted_at"),
    Index(None, "start_time", "id", "deleted_at"),
    Index(None, "id", "project_id", "start_time", "deleted_at"),
    Index(None, "parent_run_id"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("value", Text, nullable=False),
    sqlite_with_rowid=False,
)

metrics = Table(
    "metrics",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", KEY, nullable=False),
    Column("value", Float, nullable=False),
    # SQLite turns NaN into NULL; a flag keeps "the loss diverged" distinct from "no value".
    Column("is_nan", Boolean, nullable=False, default=False, server_default="0"),
    Column("step", BigInteger, nullable=False, default=0),
    Column("timestamp", BigInteger, nullable=False),
    Index(None, "run_id", "key", "step"),
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("value", Float, nullable=False),
    Column("is_nan", Boolean, nullable=False, default=False, server_default="0"),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    # Run search filters "metrics.acc > 0.9" read this index, not the full series; it holds
    # the run id too, so the runs meeting a comparison come from the index alone.
    Index(None, "key", "value", "is_nan", "run_id"),
    sqlite_with_rowid=False,
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("value", Text, nullable=False),
    sqlite_with_rowid=False,
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("object_hash", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("is_dir", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "object_hash"),
)

# SQLite only: a search reads the runs whose param or tag equals a value (or is IN a list) from
# these (see store/run_search). PostgreSQL plans such a search from its own statistics, and its
# B-tree entries are limited to about 2.7 kB while a value may have 6,000 characters.
# Tags Slipway records itself (SYSTEM_TAG_PREFIX: git state, command line, ...) are left out of
# the tags index: a dozen per run, they doubled the index pages each run start writes, and a
# search on them probes each run's own tags instead.
SYSTEM_TAG_PREFIX = "slipway."
USER_TAGS_ONLY = f"substr(key, 1, {len(SYSTEM_TAG_PREFIX)}) <> '{SYSTEM_TAG_PREFIX}'"
SQLITE_ONLY_INDEXES = {
    f"ix_{table.name}_key_value_run_id": (table, where)
    for table, where in ((params, None), (tags, USER_TAGS_ONLY))
}
for _name, (_table, _where) in SQLITE_ONLY_INDEXES.items():
    event.listen(
        _table,
        "after_create",
        DDL(  # type: ignore[no-untyped-call]
            f"CREATE INDEX {_name} ON {_table.name} (key, value, run_id)"
            + (f" WHERE {_where}" if _where else "")
        ).execute_if(dialect="sqlite"),
    )

datasets = Table(
    "datasets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", NAME, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_by", NAME, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("project_id", "name"),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("dataset_id", ID, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("object_hash", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("file_count", BigInteger, nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("created_by", NAME, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # "dir" (object_hash is a manifest) or "file" (object_hash is the content itself).
    Column("kind", String(8), nullable=False, default="dir", server_default="dir"),
    Column("path", Text, nullable=False, default="", server_default=""),  # where it was added
    # JSON object in the object store: {table path: TableProfile}; null without tables.
    Column("profile_hash", String(64), nullable=True),
    Column("pii", Text, nullable=False, default="[]", server_default="[]"),  # JSON flags
    UniqueConstraint("dataset_id", "version"),
    Index(None, "object_hash"),
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("src_kind", String(32), nullable=False),
    Column("src_id", String(64), nullable=False),
    Column("dst_kind", String(32), nullable=False),
    Column("dst_id", String(64), nullable=False),
    Column("relation", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("src_kind", "src_id", "dst_kind", "dst_id", "relation"),
    Index(None, "dst_kind", "dst_id"),
)

# -- model registry --------------------------------------------------------------------------

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", NAME, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_by", NAME, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # The highest version number ever given: numbers are never reused after a delete (history
    # and audit events name versions), and bumping it locks the row, serializing writers.
    Column("last_version", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("project_id", "name"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("package_hash", String(64), nullable=False),  # manifest of the package folder
    Column("flavor", String(64), nullable=False),
    Column("signature", Text, nullable=True),  # JSON
    Column("description", Text, nullable=False, default=""),
    Column("tags", Text, nullable=False, default="{}", server_default="{}"),  # JSON object
    Column("status", String(16), nullable=False, default="active", server_default="active"),
    # A purged run leaves the version in place: the model outlives the run that trained it.
    Column("run_id", ID, ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    Column("code_commit", String(64), nullable=True),
    Column("pipeline_run", NAME, nullable=True),
    Column("created_by", NAME, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("model_id", "version"),
    Index(None, "package_hash"),
    Index(None, "run_id"),
)

# Lineage: the dataset versions a model version was trained on. Both sides cascade: deleting a
# project removes its datasets and models in one statement, and PostgreSQL checks a plain
# foreign key before the cascade on the other side has removed the row naming it.
model_version_datasets = Table(
    "model_version_datasets",
    metadata,
    Column(
        "model_version_id",
        ID,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "dataset_version_id",
        ID,
        ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index(None, "dataset_version_id"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column(
        "model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("alias", String(64), primary_key=True),
    # The service refuses to delete a version an alias points at; the cascade is for deleting
    # a whole project, which removes both in one statement (see model_version_datasets).
    Column(
        "model_version_id",
        ID,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Index(None, "model_version_id"),
)

model_alias_history = Table(
    "model_alias_history",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False),
    Column("alias", String(64), nullable=False),
    # Version numbers, not row ids: history outlives deleted versions. NULL version = removed.
    Column("version", Integer, nullable=True),
    Column("previous_version", Integer, nullable=True),
    Column("changed_by", NAME, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Index(None, "model_id", "id"),
)

model_evaluations = Table(
    "model_evaluations",
    metadata,
    Column("id", ID, primary_key=True),
    Column(
        "model_version_id", ID, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("task", String(16), nullable=False),
    Column("data", String(1024), nullable=False),  # what was scored: a dataset ref or a label
    Column("rows", BigInteger, nullable=False),
    Column("result", Text, nullable=False),  # JSON: metrics, confusion matrix, slices, latency
    Column("created_by", NAME, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "model_version_id", "created_at"),
)

# One approval per principal per version: approving again changes nothing.
model_approvals = Table(
    "model_approvals",
    metadata,
    Column("id", ID, primary_key=True),
    Column(
        "model_version_id", ID, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("principal", NAME, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("model_version_id", "principal"),
)

# Promotions through the gates (forced ones too) with the report they passed or overrode.
# Version numbers, as in the alias history: the record outlives a deleted version.
model_promotions = Table(
    "model_promotions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("previous_version", Integer, nullable=True),
    Column("forced", Boolean, nullable=False, default=False),
    Column("reason", Text, nullable=False, default=""),
    Column("report", Text, nullable=False),  # JSON: the GateReport
    Column("promoted_by", NAME, nullable=False),
    Column("promoted_at", BigInteger, nullable=False),
    Index(None, "model_id", "version"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("timestamp", BigInteger, nullable=False),
    Column("principal", NAME, nullable=False),
    Column("action", String(64), nullable=False),
    Column("operation", String(128), nullable=False),
    Column("target", String(1024), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index(None, "timestamp"),
    Index(None, "action"),
)

# -- pipelines ----------------------------------------------------------------------------------

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("pipeline", NAME, nullable=False),  # "module:attribute", what resume imports
    Column("name", NAME, nullable=False),  # the pipeline function's name
    Column("status", String(16), nullable=False),
    Column("executor", String(16), nullable=False),
    Column("params", Text, nullable=False),  # JSON object, the resolved parameters
    Column("driver", NAME, nullable=False, default=""),  # host:pid of the process running it
    Column("schedule_id", ID, nullable=True),
    Column("scheduled_at", BigInteger, nullable=True),
    Column("error", Text, nullable=False, default=""),
    Column("created_by", NAME, nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Index(None, "project_id", "start_time"),
)

step_runs = Table(
    "step_runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column(
        "pipeline_run_id", ID, ForeignKey("pipeline_runs.id", ondelete="CASCADE"), nullable=False
    ),
    Column("step", NAME, nullable=False),
    Column("position", Integer, nullable=False),  # in the graph's order, for display
    Column("status", String(16), nullable=False),
    Column("upstream", Text, nullable=False, default="[]"),  # JSON list of step names
    Column("cache_key", String(64), nullable=True),
    Column("cached", Boolean, nullable=False, default=False),
    Column("cached_from", ID, nullable=True),  # the step run whose outputs a cache hit reused
    Column("attempts", Integer, nullable=False, default=0),
    Column("start_time", BigInteger, nullable=True),
    Column("end_time", BigInteger, nullable=True),
    Column("cpu_seconds", Float, nullable=True),
    Column("peak_memory_bytes", BigInteger, nullable=True),
    Column("resources", Text, nullable=False, default="{}"),  # JSON: what the step declared
    Column("outputs", Text, nullable=False, default="{}"),  # JSON: name -> artifact
    # The tracking run the step opened: its params, metrics, dataset inputs, models.
    Column("run_id", ID, ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    Column("error", Text, nullable=False, default=""),
    UniqueConstraint("pipeline_run_id", "step"),
    Index(None, "cache_key"),
)

pipeline_schedules = Table(
    "pipeline_schedules",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", NAME, nullable=False),
    Column("pipeline", NAME, nullable=False),
    Column("cron", String(128), nullable=False),
    Column("params", Text, nullable=False),  # JSON object
    Column("executor", String(16), nullable=False),
    Column("missed", String(8), nullable=False),  # policy for occurrences missed while down
    Column("paused", Boolean, nullable=False, default=False),
    Column("created_by", NAME, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("project_id", "name"),
)

# One row per occurrence a scheduler claimed: the primary key is what makes two schedulers
# start an occurrence once. A claim whose run never started can be taken over after its lease.
schedule_occurrences = Table(
    "schedule_occurrences",
    metadata,
    Column(
        "schedule_id",
        ID,
        ForeignKey("pipeline_schedules.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("scheduled_at", BigInteger, primary_key=True),
    Column("claimed_by", NAME, nullable=False),
    Column("lease_until", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # claimed, started, skipped
    Column("pipeline_run_id", ID, nullable=True),
)
