"""A saved column mapping remembers how its system writes dates such as 05.03.2024.

Existing mappings get no order (NULL): their files keep deciding from their dates, as
before, until someone saves the mapping again with an order chosen.

Dropping the column rebuilds the table on SQLite; it keeps AUTOINCREMENT (see 0008), so
a deleted mapping's ID is still never given to a new one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "saved_mappings", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("day_first", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "saved_mappings", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("day_first")
