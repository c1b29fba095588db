"""Undo an import batch: restore every field it changed, remove everything it created.

If records were edited after the batch (by a person or a later import), undoing could
throw that work away, so the undo first lists them and goes ahead only when told to;
customers created by the batch that have since gained orders or activities are kept.

An orders batch is undone order by order: the orders it created go (with their lines),
the orders it changed get their prior amount, status, lines and link back, prospects it
turned into customers become prospects again — unless edited since — and customers made
from its unmatched orders are removed unless they have other orders or activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from smbcrm.models import (
    Activity,
    AssignmentChange,
    AuditEntry,
    BatchStatus,
    ChangeAction,
    Contact,
    ContactPoint,
    Conversion,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    ExternalId,
    FollowUp,
    ImportBatch,
    ImportChange,
    ImportKind,
    LinkRoute,
    Order,
    OrderLine,
    Tier,
    User,
    customer_tags,
    utcnow,
)
from smbcrm.models.bulk import bulk_insert, bulk_update
from smbcrm.errors import ConflictError, NotFoundError, SmbcrmError
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
    restored: int  # customers put back (for orders: prospects again)
    removed: int  # customers the batch created, removed
    kept: list[str]  # created customers kept because they have later orders or activities
    orders_removed: int = 0
    orders_restored: int = 0
    # Customers an orders batch made active that stay so (edited since, or other orders).
    kept_active: list[str] = field(default_factory=list)


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
    # Orders batches: "linked 40 (code 30, phone 8, name 2), 3 unmatched, 2 new customers".
    details: str = ""


def _order_details(options: dict[str, Any]) -> str:
    linked = {k: int(v) for k, v in (options.get("linked") or {}).items() if v}
    parts = []
    if linked:
        labels = {"code": "code", "phone": "phone", "email": "e-mail", "name": "name"}
        by = ", ".join(f"{labels.get(k, k)} {v}" for k, v in linked.items())
        parts.append(f"linked {sum(linked.values())} ({by})")
    if options.get("unmatched"):
        parts.append(f"{options['unmatched']} unmatched")
    if options.get("conversions"):
        parts.append(f"{options['conversions']} prospects became customers")
    return ", ".join(parts)


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
            _order_details(b.options or {}) if b.kind == ImportKind.ORDERS else "",
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
    # Several rows may update one customer: the batch left it at its last version.
    last: dict[int, tuple[int, int, str]] = {}
    for cid, after, current, name in changes:
        if after is not None and (cid not in last or after > last[cid][0]):
            last[cid] = (after, current, name)
    return [
        f"{name} (ID {cid})" for cid, (after, current, name) in last.items() if current != after
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
        batch = session.get(ImportBatch, batch_id)
        if batch is None:
            raise NotFoundError(f"There is no import batch {batch_id}. See `smbcrm batches list`.")
        is_orders = batch.kind == ImportKind.ORDERS
        require(actor, Permission.IMPORT_ORDERS if is_orders else Permission.IMPORT_CUSTOMERS)
        if batch.status == BatchStatus.UNDONE:
            raise SmbcrmError(
                f"Batch {batch_id} was already undone on {batch.undone_at:%Y-%m-%d %H:%M}."
            )
        if is_orders:
            return _undo_orders(session, batch, actor_id, progress)
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
            # A created customer since merged into another stays as the merge's tombstone,
            # so the merge can still be undone.
            busy |= set(
                session.scalars(
                    select(Customer.id).where(
                        Customer.id.in_(created_customers), Customer.merged_into_id.is_not(None)
                    )
                )
            )
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


# -- orders batches ----------------------------------------------------------------------


def _restore_order_value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column == "order_date":
        return date.fromisoformat(value)
    if column == "amount":
        return Decimal(str(value))
    if column == "link_route":
        return LinkRoute(value)
    return value


def _has_other_work(session: Session, customer_id: int) -> bool:
    """Orders the undo leaves, activities or follow-ups: the customer is more than the batch."""
    orders = session.scalar(
        select(func.count()).select_from(Order).where(Order.customer_id == customer_id)
    )
    if orders:
        return True
    for table in (Activity, FollowUp):
        if session.scalar(
            select(func.count()).select_from(table).where(table.customer_id == customer_id)
        ):
            return True
    return False


def _undo_orders(
    session: Session, batch: ImportBatch, actor_id: int, progress: Progress
) -> UndoResult:
    batch_id = batch.id
    changes = session.scalars(
        select(ImportChange)
        .where(ImportChange.batch_id == batch_id)
        .order_by(ImportChange.id.desc())
    ).all()
    progress.report(0, len(changes), "Undoing the import…")
    created_orders = select(Order.id).where(Order.import_batch_id == batch_id)
    # Conversions this batch caused, and those a link by hand made with one of its orders.
    recorded = {c.entity_id: c.version_after for c in changes if c.entity == "conversion"}
    conversions = session.execute(
        select(
            Conversion.id, Conversion.customer_id, Customer.version, Customer.status, Customer.name
        )
        .join(Customer, Customer.id == Conversion.customer_id)
        .where((Conversion.import_batch_id == batch_id) | Conversion.order_id.in_(created_orders))
    ).all()
    customer_ids = sorted({row.customer_id for row in conversions})
    # Customers with an order the undo leaves stay customers.
    keeping: set[int] = set()
    for start in range(0, len(customer_ids), 900):
        keeping.update(
            session.scalars(
                select(Order.customer_id)
                .where(
                    Order.customer_id.in_(customer_ids[start : start + 900]),
                    (Order.import_batch_id != batch_id) | Order.import_batch_id.is_(None),
                )
                .distinct()
            )
        )
    now = utcnow()
    reverts: dict[int, dict[str, Any]] = {}
    audit: list[dict[str, Any]] = []
    gone_conversions: list[int] = []
    kept_active: list[str] = []
    for conversion_id, customer_id, version, status, name in conversions:
        after = recorded.get(conversion_id)
        # A change by a person since the import, or orders that stay, keep it a customer.
        edited = after is not None and version != after
        if edited or status != CustomerStatus.ACTIVE or customer_id in keeping:
            kept_active.append(f"{name} (ID {customer_id})")
            continue
        gone_conversions.append(conversion_id)
        if customer_id in reverts:
            continue
        reverts[customer_id] = {
            "status": CustomerStatus.PROSPECT,
            "version": version + 1,
            "updated_at": now,
            "b_id": customer_id,
            "b_version": version,
        }
        audit.append(
            {
                "at": now,
                "user_id": actor_id,
                "entity": "customer",
                "entity_id": customer_id,
                "customer_id": customer_id,
                "action": ChangeAction.UPDATED,
                "changes": {"status": ["active", "prospect"]},
                "summary": f"{name} is a prospect again: undo of import batch {batch_id}",
            }
        )
    written = bulk_update(
        session,
        Customer.__table__,  # type: ignore[arg-type]
        list(reverts.values()),
        where={"id": "b_id", "version": "b_version"},
    )
    if written != len(reverts):
        raise ConflictError(
            "Someone changed customers of this import while it was being undone; nothing was "
            "undone. Try again."
        )
    bulk_insert(session, AuditEntry.__table__, audit)  # type: ignore[arg-type]
    for start in range(0, len(gone_conversions), 900):
        session.execute(
            delete(Conversion).where(Conversion.id.in_(gone_conversions[start : start + 900]))
        )
    restored = 0
    for done, change in enumerate(changes):
        if done % 1000 == 0:
            progress.report(done, len(changes), "Undoing the import…")
        if change.entity != "order" or change.action != ChangeAction.UPDATED:
            continue
        order = session.get(Order, change.entity_id)
        if order is None:
            continue
        before = dict(change.before or {})
        lines = before.pop("lines", None)
        for column, value in before.items():
            setattr(order, column, _restore_order_value(column, value))
        if lines is not None:
            session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
            for line_no, product, sku, quantity, price, amount in lines:
                session.add(
                    OrderLine(
                        order_id=order.id,
                        line_no=line_no,
                        product=product,
                        sku=sku,
                        quantity=Decimal(str(quantity)),
                        unit_price=None if price is None else Decimal(str(price)),
                        amount=Decimal(str(amount)),
                    )
                )
        restored += 1
    session.flush()
    # The after-sales calls planned for its orders go too, unless someone already made them.
    session.execute(
        delete(FollowUp)
        .where(FollowUp.order_id.in_(created_orders), FollowUp.done_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    # Conversions kept (the customer stays one) lose the order, not themselves.
    session.execute(
        update(Conversion)
        .where(Conversion.order_id.in_(created_orders))
        .values(order_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(OrderLine)
        .where(OrderLine.order_id.in_(created_orders))
        .execution_options(synchronize_session=False)
    )
    removed_orders = int(
        session.scalar(
            select(func.count()).select_from(Order).where(Order.import_batch_id == batch_id)
        )
        or 0
    )
    session.execute(
        delete(Order)
        .where(Order.import_batch_id == batch_id)
        .execution_options(synchronize_session=False)
    )
    # Customers made from the batch's unmatched orders.
    removed = 0
    kept: list[str] = []
    for change in changes:
        if change.entity != "customer" or change.action != ChangeAction.CREATED:
            continue
        customer = session.get(Customer, change.entity_id)
        if customer is None:
            continue
        if (
            _has_other_work(session, customer.id)
            or customer.merged_into_id is not None
            or (change.version_after is not None and customer.version != change.version_after)
        ):
            kept.append(f"{customer.name} (ID {customer.id})")
            continue
        session.execute(delete(AssignmentChange).where(AssignmentChange.customer_id == customer.id))
        session.execute(delete(Conversion).where(Conversion.customer_id == customer.id))
        session.delete(customer)
        removed += 1
    batch.status = BatchStatus.UNDONE
    batch.undone_at = utcnow()
    batch.undone_by_id = actor_id
    session.flush()
    progress.check()
    return UndoResult(
        batch.id,
        restored=len(reverts),
        removed=removed,
        kept=kept,
        orders_removed=removed_orders,
        orders_restored=restored,
        kept_active=kept_active,
    )
