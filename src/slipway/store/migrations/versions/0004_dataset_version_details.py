"""dataset versions: kind (file or dir), source path, table profiles and PII flags

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_versions") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="dir"))
        batch.add_column(sa.Column("path", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("profile_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("pii", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions") as batch:
        for column in ("pii", "profile_hash", "path", "kind"):
            batch.drop_column(column)
