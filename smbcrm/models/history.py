"""Records that keep the past: ownership changes, import batches, merges, audit and export logs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smbcrm.models.base import IDS_NEVER_REUSED, Base, enum_column, utcnow
from smbcrm.models.enums import BatchStatus, ChangeAction, DuplicateStatus, ImportKind

if TYPE_CHECKING:
    from smbcrm.models.staff import User


class AssignmentChange(Base):
    """One change of a customer's responsible salesperson: from, to, by whom, when, why."""

    __tablename__ = "assignment_changes"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(500), default="")
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])


class ImportBatch(Base):
    """One imported file: what was read, how it was mapped, what it did, and whether undone."""

    __tablename__ = "import_batches"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(enum_column(ImportKind))
    source_system: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(500))
    sheet: Mapped[str | None] = mapped_column(String(200))
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The file's header row, so the problem rows can be written back under it.
    source_header: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus))
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class ImportChange(Base):
    """A record a batch created or changed, with its prior values so the batch can be undone."""

    __tablename__ = "import_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    action: Mapped[ChangeAction] = mapped_column(enum_column(ChangeAction))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    row_number: Mapped[int | None]
    # The record's version right after the batch: a later edit shows as a higher version.
    version_after: Mapped[int | None]

    __table_args__ = (
        Index("ix_import_changes_batch_entity", "batch_id", "entity", "entity_id"),
        Index("ix_import_changes_entity", "entity", "entity_id"),
    )


class Merge(Base):
    """Customers merged into a survivor, with a snapshot sufficient to undo it."""

    __tablename__ = "merges"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    absorbed_ids: Mapped[list[int]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DuplicatePair(Base):
    """Two customers that may be one, found by a duplicate scan, and what a person decided.

    "Not the same" rows outlive rescans so the pair is never proposed again.
    """

    __tablename__ = "duplicate_pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always the lower ID first, so a pair has one row whichever way it was found.
    customer_a_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    customer_b_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(default=0.0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[DuplicateStatus] = mapped_column(
        enum_column(DuplicateStatus), default=DuplicateStatus.OPEN, index=True
    )
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("customer_a_id", "customer_b_id"),
        CheckConstraint("customer_a_id < customer_b_id", name="pair_order"),
        IDS_NEVER_REUSED,
    )


class AuditEntry(Base):
    """Who changed what: one entry per changed record, with each field's old → new value."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    # The customer the change belongs to, so a customer's log includes its contacts.
    customer_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[ChangeAction] = mapped_column(enum_column(ChangeAction))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_audit_entries_entity", "entity", "entity_id"),)


class ExportEntry(Base):
    """Who exported what: kind, filters, rows, file, when."""

    __tablename__ = "export_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    row_count: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str] = mapped_column(String(500))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
