"""Undo an import batch: restore every field it changed, remove everything it created.

If records were edited after the batch (by a person or a later import), undoing could
throw that work away, so the undo first lists them and goes ahead only when told to;
customers created by the batch that have since gained orders or activities are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from smbcrm.models import (
    Activity,
    AssignmentChange,
    BatchStatus,
    Contact,
    ContactPoint,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    ExternalId,
    FollowUp,
    ImportBatch,
    ImportChange,
    Order,
    Tier,
    User,
    customer_tags,
    utcnow,
)
from smbcrm.services.errors import NotFoundError, SmbcrmError
from smbcrm.services.permissions import Permission, require
from smbcrm.services.progress import Progress


class UndoConflict(SmbcrmError):
    """Records the batch touched were changed afterwards; ``later_edits`` says which."""

    def __init__(self, batch_id: int, later_edits: list[str]) -> None:
        self.batch_id = batch_id
        self.later_edits = later_edits
        shown = "; ".join(later_edits[:5])
        more = f" and {len(later_edits) - 5} more" if len(later_edits) > 5 else ""
        super().__init__(
            f"{len(later_edits)} customers of batch {batch_id} were changed after the import "
            f"({shown}{more}). Undo anyway to restore the imported fields and keep later "
            "additions, or leave the batch as it is."
        )


@dataclass(frozen=True)
class UndoResult:
    batch_id: int
    restored: int
    removed: int
    kept: list[str]  # created customers kept because they have later orders or activities


@dataclass(frozen=True)
class BatchRow:
    id: int
    kind: str
    file_name: str
    source_system: str
    user: str | None
    started_at: datetime
    status: BatchStatus
    created: int
    updated: int
    unchanged: int
    skipped: int
    errors: int


def list_batches(session: Session, limit: int = 100) -> list[BatchRow]:
    rows = session.execute(
        select(ImportBatch, User.full_name)
        .outerjoin(User, User.id == ImportBatch.user_id)
        .order_by(ImportBatch.id.desc())
        .limit(limit)
    )
    return [
        BatchRow(
            b.id,
            b.kind.value,
            b.file_name,
            b.source_system,
            name,
            b.started_at,
            b.status,
            b.created_count,
            b.updated_count,
            b.unchanged_count,
            b.skipped_count,
            b.error_count,
        )
        for b, name in rows
    ]


_ENUMS: dict[str, Any] = {"kind": CustomerKind, "status": CustomerStatus, "tier": Tier}


def _restore_value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _ENUMS:
        return _ENUMS[column](value)
    if column == "birthday":
        from datetime import date

        return date.fromisoformat(value)
    return value


def later_edits(session: Session, batch: ImportBatch) -> list[str]:
    """Customers of the batch whose version moved on since the batch wrote them."""
    changes = session.execute(
        select(ImportChange.entity_id, ImportChange.version_after, Customer.version, Customer.name)
        .join(Customer, Customer.id == ImportChange.entity_id)
        .where(ImportChange.batch_id == batch.id, ImportChange.entity == "customer")
    ).all()
    return [
        f"{name} (ID {cid})"
        for cid, after, current, name in changes
        if after is not None and current != after
    ]


def undo_batch(
    db: Database,
    actor_id: int,
    batch_id: int,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> UndoResult:
    progress = progress or Progress()
    with db.session(user_id=actor_id) as session:
        actor = session.get_one(User, actor_id)
        require(actor, Permission.IMPORT_CUSTOMERS)
        batch = session.get(ImportBatch, batch_id)
        if batch is None:
            raise NotFoundError(f"There is no import batch {batch_id}. See `smbcrm batches list`.")
        if batch.status == BatchStatus.UNDONE:
            raise SmbcrmError(
                f"Batch {batch_id} was already undone on {batch.undone_at:%Y-%m-%d %H:%M}."
            )
        edited = later_edits(session, batch)
        if edited and not force:
            raise UndoConflict(batch_id, edited)
        changes = session.scalars(
            select(ImportChange)
            .where(ImportChange.batch_id == batch_id)
            .order_by(ImportChange.id.desc())
        ).all()
        total = len(changes)
        progress.report(0, total, "Undoing the import…")
        created_customers = [
            c.entity_id for c in changes if c.entity == "customer" and c.action.value == "created"
        ]
        created_set = set(created_customers)
        kept: list[str] = []
        keep_ids: set[int] = set()
        if created_customers:
            busy: set[int] = set()
            for table in (Order, Activity, FollowUp):
                linked = session.scalars(
                    select(table.customer_id)
                    .where(table.customer_id.in_(created_customers))
                    .distinct()
                )
                busy |= {cid for cid in linked if cid is not None}
            for cid in sorted(busy):
                customer = session.get(Customer, cid)
                if customer is not None:
                    kept.append(f"{customer.name} (ID {cid})")
                    keep_ids.add(cid)
        restored = removed = 0
        for done, change in enumerate(changes):
            if done % 1000 == 0:
                progress.report(done, total, "Undoing the import…")
            if change.entity == "customer" and change.action.value == "updated":
                customer = session.get(Customer, change.entity_id)
                if customer is None:
                    continue
                for column, value in (change.before or {}).items():
                    if column == "version":
                        continue
                    if column == "owner_id" and customer.owner_id != value:
                        session.add(
                            AssignmentChange(
                                customer_id=customer.id,
                                from_user_id=customer.owner_id,
                                to_user_id=value,
                                changed_by_id=actor_id,
                                reason=f"Undo of import batch {batch_id}",
                            )
                        )
                    setattr(customer, column, _restore_value(column, value))
                restored += 1
            elif change.entity in ("contact_point", "contact", "external_id"):
                model = {
                    "contact_point": ContactPoint,
                    "contact": Contact,
                    "external_id": ExternalId,
                }[change.entity]
                record = session.get(model, change.entity_id)
                # Children of customers the batch created go with them (or stay, if kept).
                if record is not None and record.customer_id not in created_set:  # type: ignore[attr-defined]
                    session.delete(record)
            elif change.entity == "tag":
                customer_id = (change.before or {}).get("customer_id")
                if customer_id not in created_set:
                    session.execute(
                        delete(customer_tags).where(
                            customer_tags.c.customer_id == customer_id,
                            customer_tags.c.tag_id == change.entity_id,
                        )
                    )
        session.flush()
        for cid in created_customers:
            if cid in keep_ids:
                continue
            customer = session.get(Customer, cid)
            if customer is None:
                continue
            session.execute(delete(AssignmentChange).where(AssignmentChange.customer_id == cid))
            session.delete(customer)
            removed += 1
        created_users = [c.entity_id for c in changes if c.entity == "user"]
        for user_id in created_users:
            owns = session.scalar(
                select(func.count()).select_from(Customer).where(Customer.owner_id == user_id)
            )
            user = session.get(User, user_id)
            if user is not None and not owns:
                session.delete(user)
        batch.status = BatchStatus.UNDONE
        batch.undone_at = utcnow()
        batch.undone_by_id = actor_id
        session.flush()
        progress.check()
    return UndoResult(batch_id, restored, removed, kept)
