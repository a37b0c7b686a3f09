"""metrics and latest_metrics keep NaN values apart from real ones

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("metrics", "latest_metrics"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("is_nan", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    for table in ("metrics", "latest_metrics"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("is_nan")
