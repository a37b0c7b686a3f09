"""run search: (key, value) indexes holding the run id; SQLite clusters keyed tables by run

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KEYED = ("params", "tags", "latest_metrics")


def upgrade() -> None:
    op.drop_index("ix_latest_metrics_key_value", table_name="latest_metrics")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for table in KEYED:  # copies the rows into a WITHOUT ROWID table of the same name
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_with_rowid": False}
            ):
                pass
        for table in ("params", "tags"):  # see schema.SQLITE_ONLY_INDEXES
            op.create_index(f"ix_{table}_key_value_run_id", table, ["key", "value", "run_id"])
    op.create_index(
        "ix_latest_metrics_key_value_is_nan_run_id",
        "latest_metrics",
        ["key", "value", "is_nan", "run_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_latest_metrics_key_value_is_nan_run_id", table_name="latest_metrics")
    if op.get_bind().dialect.name == "sqlite":
        for table in ("params", "tags"):
            op.drop_index(f"ix_{table}_key_value_run_id", table_name=table)
        for table in KEYED:
            with op.batch_alter_table(table, recreate="always"):
                pass
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
