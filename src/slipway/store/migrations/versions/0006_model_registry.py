"""model registry: registered models, versions, their datasets, aliases, alias history,
evaluations, approvals and promotions

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.String(length=32)
NAME = sa.String(length=256)


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_registered_models_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_models")),
        sa.UniqueConstraint(
            "project_id", "name", name=op.f("uq_registered_models_project_id_name")
        ),
    )
    op.create_table(
        "model_alias_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("changed_by", NAME, nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_alias_history_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_alias_history")),
    )
    op.create_index(
        op.f("ix_model_alias_history_model_id_id"), "model_alias_history", ["model_id", "id"]
    )
    op.create_table(
        "model_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("package_hash", sa.String(length=64), nullable=False),
        sa.Column("flavor", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), server_default="{}", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("run_id", ID, nullable=True),
        sa.Column("code_commit", sa.String(length=64), nullable=True),
        sa.Column("pipeline_run", NAME, nullable=True),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_versions_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_model_versions_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_id", "version", name=op.f("uq_model_versions_model_id_version")),
    )
    op.create_index(op.f("ix_model_versions_package_hash"), "model_versions", ["package_hash"])
    op.create_index(op.f("ix_model_versions_run_id"), "model_versions", ["run_id"])
    op.create_table(
        "model_aliases",
        sa.Column("model_id", ID, nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("model_version_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_aliases_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_aliases_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "alias", name=op.f("pk_model_aliases")),
    )
    op.create_index(
        op.f("ix_model_aliases_model_version_id"), "model_aliases", ["model_version_id"]
    )
    op.create_table(
        "model_version_datasets",
        sa.Column("model_version_id", ID, nullable=False),
        sa.Column("dataset_version_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_model_version_datasets_dataset_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_version_datasets_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "model_version_id", "dataset_version_id", name=op.f("pk_model_version_datasets")
        ),
    )
    op.create_index(
        op.f("ix_model_version_datasets_dataset_version_id"),
        "model_version_datasets",
        ["dataset_version_id"],
    )
    op.create_table(
        "model_evaluations",
        sa.Column("id", ID, nullable=False),
        sa.Column("model_version_id", ID, nullable=False),
        sa.Column("task", sa.String(length=16), nullable=False),
        sa.Column("data", sa.String(length=1024), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_evaluations_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_evaluations")),
    )
    op.create_index(
        op.f("ix_model_evaluations_model_version_id_created_at"),
        "model_evaluations",
        ["model_version_id", "created_at"],
    )
    op.create_table(
        "model_approvals",
        sa.Column("id", ID, nullable=False),
        sa.Column("model_version_id", ID, nullable=False),
        sa.Column("principal", NAME, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_approvals_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_approvals")),
        sa.UniqueConstraint(
            "model_version_id",
            "principal",
            name=op.f("uq_model_approvals_model_version_id_principal"),
        ),
    )
    op.create_table(
        "model_promotions",
        sa.Column("id", ID, nullable=False),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("promoted_by", NAME, nullable=False),
        sa.Column("promoted_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_promotions_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_promotions")),
    )
    op.create_index(
        op.f("ix_model_promotions_model_id_version"), "model_promotions", ["model_id", "version"]
    )


def downgrade() -> None:
    for table, indexes in (
        ("model_promotions", ["ix_model_promotions_model_id_version"]),
        ("model_approvals", []),
        ("model_evaluations", ["ix_model_evaluations_model_version_id_created_at"]),
        ("model_version_datasets", ["ix_model_version_datasets_dataset_version_id"]),
        ("model_aliases", ["ix_model_aliases_model_version_id"]),
        ("model_versions", ["ix_model_versions_run_id", "ix_model_versions_package_hash"]),
        ("model_alias_history", ["ix_model_alias_history_model_id_id"]),
        ("registered_models", []),
    ):
        for index in indexes:
            op.drop_index(op.f(index), table_name=table)
        op.drop_table(table)
