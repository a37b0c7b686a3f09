"""run search: runs indexed by start time and by id with what a search tests on each;
statistics for SQLite's planner

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_runs_project_id_start_time", table_name="runs")
    op.create_index(
        "ix_runs_project_id_start_time_id_deleted_at",
        "runs",
        ["project_id", "start_time", "id", "deleted_at"],
    )
    op.create_index("ix_runs_start_time_id_deleted_at", "runs", ["start_time", "id", "deleted_at"])
    op.create_index(
        "ix_runs_id_project_id_start_time_deleted_at",
        "runs",
        ["id", "project_id", "start_time", "deleted_at"],
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's planner keeps no statistics until ANALYZE; PostgreSQL gathers its own.
        op.execute("ANALYZE")


def downgrade() -> None:
    op.drop_index("ix_runs_id_project_id_start_time_deleted_at", table_name="runs")
    op.drop_index("ix_runs_start_time_id_deleted_at", table_name="runs")
    op.drop_index("ix_runs_project_id_start_time_id_deleted_at", table_name="runs")
    op.create_index("ix_runs_project_id_start_time", "runs", ["project_id", "start_time"])
