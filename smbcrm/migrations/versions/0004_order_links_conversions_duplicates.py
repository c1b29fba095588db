"""How orders found their customer and what the file said of the buyer; prospect
conversions; the duplicate review queue; problem rows kept with their import batch; two
missing foreign-key indexes; the orders (customer, date) index also covers the amount.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_import_problems_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_problems")),
    )
    with op.batch_alter_table("import_problems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_problems_batch_id"), ["batch_id"], unique=False)
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_header", sa.JSON(), nullable=True))
    op.create_table(
        "duplicate_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_a_id", sa.Integer(), nullable=False),
        sa.Column("customer_b_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "later",
                "not_same",
                "merged",
                name="duplicatestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "customer_a_id < customer_b_id", name=op.f("ck_duplicate_pairs_pair_order")
        ),
        sa.ForeignKeyConstraint(
            ["customer_a_id"],
            ["customers.id"],
            name=op.f("fk_duplicate_pairs_customer_a_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_b_id"],
            ["customers.id"],
            name=op.f("fk_duplicate_pairs_customer_b_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_duplicate_pairs_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_pairs")),
        sa.UniqueConstraint(
            "customer_a_id",
            "customer_b_id",
            name=op.f("uq_duplicate_pairs_customer_a_id_customer_b_id"),
        ),
    )
    with op.batch_alter_table("duplicate_pairs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duplicate_pairs_customer_b_id"), ["customer_b_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_duplicate_pairs_status"), ["status"], unique=False)

    op.create_table(
        "conversions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("order_date", sa.Date(), nullable=True),
        sa.Column("converted_at", sa.DateTime(), nullable=False),
        sa.Column("prospect_owner_id", sa.Integer(), nullable=True),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_conversions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_conversions_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_conversions_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["prospect_owner_id"], ["users.id"], name=op.f("fk_conversions_prospect_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversions")),
    )
    with op.batch_alter_table("conversions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversions_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversions_import_batch_id"), ["import_batch_id"], unique=False
        )

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_contact_id"), ["contact_id"], unique=False)

    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_follow_ups_activity_id"), ["activity_id"], unique=False
        )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_date")
        batch_op.create_index(
            "ix_orders_customer_date", ["customer_id", "order_date", "amount"], unique=False
        )
        batch_op.add_column(sa.Column("customer_details", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "link_route",
                sa.Enum(
                    "code",
                    "phone",
                    "email",
                    "name",
                    "manual",
                    "created",
                    name="linkroute",
                    native_enum=False,
                    length=20,
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_column("source_header")
    with op.batch_alter_table("import_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_problems_batch_id"))
    op.drop_table("import_problems")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("link_route")
        batch_op.drop_column("customer_details")
        batch_op.drop_index("ix_orders_customer_date")
        batch_op.create_index(
            "ix_orders_customer_date", ["customer_id", "order_date"], unique=False
        )

    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_activity_id"))

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_contact_id"))

    with op.batch_alter_table("conversions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversions_import_batch_id"))
        batch_op.drop_index(batch_op.f("ix_conversions_customer_id"))

    op.drop_table("conversions")
    with op.batch_alter_table("duplicate_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_pairs_status"))
        batch_op.drop_index(batch_op.f("ix_duplicate_pairs_customer_b_id"))

    op.drop_table("duplicate_pairs")
