"""The per-customer order index also holds the currency, so revenue converted into the
home currency is still summed within the index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_date")
        batch_op.create_index(
            "ix_orders_customer_date",
            ["customer_id", "order_date", "amount", "status", "currency"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_date")
        batch_op.create_index(
            "ix_orders_customer_date",
            ["customer_id", "order_date", "amount", "status"],
            unique=False,
        )
