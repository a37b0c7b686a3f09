"""pipelines: pipeline runs, step runs, schedules and their claimed occurrences

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.String(length=32)
NAME = sa.String(length=256)


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("pipeline", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("executor", sa.String(length=16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("driver", NAME, nullable=False),
        sa.Column("schedule_id", ID, nullable=True),
        sa.Column("scheduled_at", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_pipeline_runs_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
    )
    op.create_index(
        op.f("ix_pipeline_runs_project_id_start_time"),
        "pipeline_runs",
        ["project_id", "start_time"],
    )
    op.create_table(
        "step_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("pipeline_run_id", ID, nullable=False),
        sa.Column("step", NAME, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("upstream", sa.Text(), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("cached_from", ID, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=True),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("cpu_seconds", sa.Float(), nullable=True),
        sa.Column("peak_memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column("resources", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.Column("run_id", ID, nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_run_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_step_runs_pipeline_run_id_pipeline_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_step_runs_run_id_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_runs")),
        sa.UniqueConstraint(
            "pipeline_run_id", "step", name=op.f("uq_step_runs_pipeline_run_id_step")
        ),
    )
    op.create_index(op.f("ix_step_runs_cache_key"), "step_runs", ["cache_key"])
    op.create_table(
        "pipeline_schedules",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("pipeline", NAME, nullable=False),
        sa.Column("cron", sa.String(length=128), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("executor", sa.String(length=16), nullable=False),
        sa.Column("missed", sa.String(length=8), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_pipeline_schedules_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_schedules")),
        sa.UniqueConstraint(
            "project_id", "name", name=op.f("uq_pipeline_schedules_project_id_name")
        ),
    )
    op.create_table(
        "schedule_occurrences",
        sa.Column("schedule_id", ID, nullable=False),
        sa.Column("scheduled_at", sa.BigInteger(), nullable=False),
        sa.Column("claimed_by", NAME, nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pipeline_run_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["pipeline_schedules.id"],
            name=op.f("fk_schedule_occurrences_schedule_id_pipeline_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "schedule_id", "scheduled_at", name=op.f("pk_schedule_occurrences")
        ),
    )


def downgrade() -> None:
    op.drop_table("schedule_occurrences")
    op.drop_table("pipeline_schedules")
    op.drop_index(op.f("ix_step_runs_cache_key"), table_name="step_runs")
    op.drop_table("step_runs")
    op.drop_index(op.f("ix_pipeline_runs_project_id_start_time"), table_name="pipeline_runs")
    op.drop_table("pipeline_runs")
