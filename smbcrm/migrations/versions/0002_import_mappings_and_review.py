"""Import support: named column mappings, rows left for review, versions after a batch.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("customers", "orders", name="importkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("source_system", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_saved_mappings_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_mappings")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_saved_mappings_kind_name")),
    )
    op.create_table(
        "import_review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_import_review_items_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["customers.id"],
            name=op.f("fk_import_review_items_candidate_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_review_items")),
    )
    with op.batch_alter_table("import_review_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_review_items_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_import_review_items_candidate_id"), ["candidate_id"], unique=False
        )

    with op.batch_alter_table("import_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_after", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_changes", schema=None) as batch_op:
        batch_op.drop_column("version_after")

    with op.batch_alter_table("import_review_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_review_items_candidate_id"))
        batch_op.drop_index(batch_op.f("ix_import_review_items_batch_id"))

    op.drop_table("import_review_items")
    op.drop_table("saved_mappings")
