"""SQLite: the tags search index leaves out the tags Slipway records itself (slipway.*)

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEX = "ix_tags_key_value_run_id"
# schema.USER_TAGS_ONLY at the time of writing: a migration must not change when schema.py does.
USER_TAGS_ONLY = "substr(key, 1, 8) <> 'slipway.'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL has no such index (see schema.SQLITE_ONLY_INDEXES)
    op.drop_index(INDEX, table_name="tags")
    op.execute(f"CREATE INDEX {INDEX} ON tags (key, value, run_id) WHERE {USER_TAGS_ONLY}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index(INDEX, table_name="tags")
    op.create_index(INDEX, "tags", ["key", "value", "run_id"])
