"""SQLite never gives a deleted record's ID to a new one: the tables whose IDs exports,
the audit log, import-undo records and merge snapshots hold are rebuilt with AUTOINCREMENT.

Without it SQLite hands out max(id) + 1, so after an import is undone the next customer
takes the ID of one it removed, and an older export re-imported updates the wrong
customer. PostgreSQL sequences never go back, so there is nothing to do there.

The rebuild keeps every column, index, constraint and row. smbcrm runs migrations with
foreign keys off (see smbcrm.services.database): with them on, dropping the old copy of a
table would first delete its rows and cascade to every table pointing at it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import Connection

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents before children does not matter with foreign keys off; alphabetical is easy to check.
TABLES = (
    "activities",
    "assignment_changes",
    "cases",
    "contact_points",
    "contacts",
    "conversions",
    "customers",
    "duplicate_pairs",
    "external_ids",
    "follow_ups",
    "import_batches",
    "import_review_items",
    "merges",
    "orders",
    "satisfaction_ratings",
    "saved_mappings",
    "service_promises",
    "tags",
    "users",
)


def _sqlite_with_foreign_keys_off() -> Connection | None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return None
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "Migration 0008 rebuilds tables and must run with foreign keys off, "
            "as smbcrm.services.database.upgrade runs it; otherwise rows would be deleted."
        )
    return bind


def _rebuild(autoincrement: bool) -> None:
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    bind = _sqlite_with_foreign_keys_off()
    if bind is None:
        return
    _rebuild(autoincrement=True)
    # The highest ID still present is the highest we know was ever used: new IDs go above it.
    for table in TABLES:
        highest = bind.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar()
        if highest is None:
            continue
        bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        bind.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, highest)
        )


def downgrade() -> None:
    if _sqlite_with_foreign_keys_off() is None:
        return
    _rebuild(autoincrement=False)
