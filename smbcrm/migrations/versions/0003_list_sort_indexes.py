"""Indexes for sorting the customer list by status, city, tier, phone or last change (they
replace five single-column indexes); byte-order sort keys on PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Single-column indexes the list indexes make redundant; every write pays for each index.
REDUNDANT = {
    "ix_customers_status": ["status"],
    "ix_customers_tier": ["tier"],
    "ix_customers_archived_at": ["archived_at"],
    "ix_customers_sort_key": ["sort_key"],
    "ix_customers_city_key": ["city_key"],
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Byte order, as SQLite and Python compare: search results page in the same order.
        op.alter_column(
            "customers",
            "sort_key",
            type_=sa.String(600, collation="C"),
            existing_type=sa.String(600),
            existing_nullable=False,
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customers_list_city",
            ["archived_at", "merged_into_id", "city_key", "sort_key"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_list_phone",
            ["archived_at", "merged_into_id", "primary_phone"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_list_status",
            ["archived_at", "merged_into_id", "status", "sort_key"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_list_tier",
            ["archived_at", "merged_into_id", "tier", "sort_key"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_list_updated",
            ["archived_at", "merged_into_id", "updated_at"],
            unique=False,
        )
        for name in REDUNDANT:
            batch_op.drop_index(name)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "customers",
            "sort_key",
            type_=sa.String(600),
            existing_type=sa.String(600, collation="C"),
            existing_nullable=False,
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name, columns in REDUNDANT.items():
            batch_op.create_index(name, columns, unique=False)
        batch_op.drop_index("ix_customers_list_updated")
        batch_op.drop_index("ix_customers_list_tier")
        batch_op.drop_index("ix_customers_list_status")
        batch_op.drop_index("ix_customers_list_phone")
        batch_op.drop_index("ix_customers_list_city")
