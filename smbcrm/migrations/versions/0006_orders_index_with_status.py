"""The per-customer order index also holds the status, so reads that leave cancelled
orders out of revenue and ordering rhythm stay within the index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_date")
        batch_op.create_index(
            "ix_orders_customer_date",
            ["customer_id", "order_date", "amount", "status"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_date")
        batch_op.create_index(
            "ix_orders_customer_date", ["customer_id", "order_date", "amount"], unique=False
        )
