"""What imports remember between runs: named column mappings and rows left for review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smbcrm.models.base import IDS_NEVER_REUSED, Base, TimestampMixin, enum_column
from smbcrm.models.enums import ImportKind


class SavedMapping(TimestampMixin, Base):
    """A named column mapping for one source system, reused when the same headers return."""

    __tablename__ = "saved_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ImportKind] = mapped_column(enum_column(ImportKind))
    source_system: Mapped[str] = mapped_column(String(64))
    # Folded header names, sorted: the file shape this mapping was made for.
    signature: Mapped[list[str]] = mapped_column(JSON)
    # Header text (as in the file) → field name; headers mapped to nothing are left out.
    columns: Mapped[dict[str, Any]] = mapped_column(JSON)
    # How the system writes 05.03.2024: True day first, False month first, None decided
    # from each file's dates. A bookkeeper says it once, not at every monthly import.
    day_first: Mapped[bool | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("kind", "name"), IDS_NEVER_REUSED)


class ImportReviewItem(Base):
    """A row an import did not apply because a person has to decide (possible duplicate)."""

    __tablename__ = "import_review_items"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int]
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    decided_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(20))


class ImportProblem(Base):
    """A row an import could not take, kept with the batch so it can be exported, fixed and
    imported again later (not only right after the import)."""

    __tablename__ = "import_problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int]
    # The row's cells as read, in the file's column order (dates as ISO text).
    cells: Mapped[list[Any]] = mapped_column(JSON)
    problem: Mapped[str] = mapped_column(Text)
