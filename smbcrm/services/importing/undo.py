"""Undo an import batch: restore every field it changed, remove everything it created.

A customers batch is undone with set-based statements, a chunk of ids at a time, so a
batch of 100,000 rows undoes in about the time it took to import. Customers it changed get
their earlier values back (and their list columns and search text recomputed); the phones,
contacts, codes and tags it added go; customers it created are removed unless they have
since gained orders, activities, service cases, referrals or rows of later imports waiting
for review; staff it added go too unless they own customers, signed in or did work since.
Rows it left for review are closed with it.

If customers of the batch were edited after it (by a person or a later import), undoing
could throw that work away, so the undo first lists them with what would be lost and goes
ahead only when told to. A batch whose customers were merged since is not undone until
those merges are: a merge keeps copies of what it moved, so undoing the two out of order
would bring back what the import added, or leave the batch's customers behind.

An orders batch is undone with set-based statements too: the orders it created go (with
their lines and the after-sales calls not yet made), the orders it changed get their prior
amount, date, status, lines and link back (a link made by hand since stays), prospects its
orders turned into customers become prospects again — unless edited since or still buying —
and customers made from its unmatched orders go unless changed since or other records
refer to them. Orders of the batch that a person linked by hand, or a later import changed,
are listed first, as with customers; merges since of the customers its orders were linked
to stop the undo until they are undone.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from smbcrm.errors import ConflictError, NotFoundError, SmbcrmError, worded
from smbcrm.models import (
    Activity,
    AssignmentChange,
    AuditEntry,
    Base,
    BatchStatus,
    Case,
    ChangeAction,
    Contact,
    ContactPoint,
    ContactPointKind,
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
    ImportReviewItem,
    LinkRoute,
    Merge,
    Order,
    OrderLine,
    SatisfactionRating,
    Tag,
    Tier,
    User,
    counts_as_sale,
    customer_tags,
    utcnow,
)
from smbcrm.models.bulk import bulk_insert, bulk_update
from smbcrm.models.db import driver_rows
from smbcrm.models.enums import PHONE_KINDS
from smbcrm.services.audit_log import FIELD_LABELS
from smbcrm.services.importing.book import (
    CUSTOMER_COLUMNS,
    customer_audit_row,
    derived_columns,
    load_snapshots,
)
from smbcrm.services.importing.orders_match import AUTO_ROUTES
from smbcrm.services.permissions import Permission, require
from smbcrm.services.progress import Progress

# Keeps every id list well under the engines' limits on bound parameters.
CHUNK = 2000
# How many customers a message names before it says how many more there are.
SHOWN = 10
# How many lost changes one customer's line names.
LOST_SHOWN = 8


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_CUSTOMERS = _table(Customer)
_CHANGES = _table(AssignmentChange)
_REVIEWS = _table(ImportReviewItem)
_MERGES = _table(Merge)
_USERS = _table(User)
_CHILD_TABLES: dict[str, Table] = {
    "contact_point": _table(ContactPoint),
    "contact": _table(Contact),
    "external_id": _table(ExternalId),
}


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _names_shown(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (", …" if len(names) > SHOWN else "")


class UndoConflict(SmbcrmError):
    """Records the batch touched were changed afterwards: ``later_edits`` names them
    (customers, or for an orders batch its orders), ``details`` says for each what undoing
    anyway would do to the later changes."""

    def __init__(
        self,
        batch_id: int,
        later_edits: list[str],
        details: list[str] | None = None,
        *,
        orders: bool = False,
    ) -> None:
        self.batch_id = batch_id
        self.later_edits = later_edits
        self.details = details if details is not None else list(later_edits)
        # What ``later_edits`` names: "customers" or "orders".
        self.subject = "orders" if orders else "customers"
        count = len(later_edits)
        if orders:
            self._head = (
                f"{count} {'order' if count == 1 else 'orders'} of import batch {batch_id} "
                f"{'was' if count == 1 else 'were'} changed after the import:"
            )
        else:
            self._head = (
                f"{count} {'customer' if count == 1 else 'customers'} of import batch "
                f"{batch_id} {'was' if count == 1 else 'were'} changed after the import:"
            )
        self._tail = (
            f"Undo anyway to go ahead (`smbcrm batches undo {batch_id} --force`), or keep "
            "the import as it is."
        )
        super().__init__("\n".join(self._lines(str)))

    def _lines(self, word: Callable[[str], str]) -> list[str]:
        lines = [word(self._head), *(f"  {word(d)}" for d in self.details[:SHOWN])]
        if len(self.details) > SHOWN:
            extra = len(self.details) - SHOWN
            lines.append("  " + word(f"And {extra} more."))
        lines.append(word(self._tail))
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines(worded))


class UndoBlockedByMerge(SmbcrmError):
    """Customers of the batch took part in merges made after it that still stand."""

    def __init__(
        self, batch_id: int, merges: list[tuple[int, str, list[str]]], *, orders: bool = False
    ) -> None:
        # (merge id, survivor "name (ID n)", absorbed "name (ID n)"), newest merge first
        self.batch_id = batch_id
        self.merge_ids = [merge_id for merge_id, _s, _a in merges]
        numbers = ", ".join(str(i) for i in self.merge_ids)
        which = f"merge {numbers} first" if len(merges) == 1 else f"merges {numbers}, newest first"
        if orders:
            first = (
                f"Import batch {batch_id} cannot be undone yet: customers its orders were "
                "linked to were merged afterwards, and those merges still stand."
            )
        else:
            first = (
                f"Import batch {batch_id} cannot be undone yet: customers it created or "
                "changed were merged afterwards, and those merges still stand."
            )
        self._lines = [first]
        for merge_id, survivor, absorbed in merges:
            absorbed_shown = _names_shown(absorbed)
            self._lines.append(f"Merge {merge_id}: {absorbed_shown} into {survivor}.")
        self._lines.append(
            f"Undo {which}, and then undo this import (`smbcrm merge undo ID`, or the merge "
            "history in the app)."
        )
        super().__init__("\n".join(self._lines))

    def __str__(self) -> str:
        return "\n".join(worded(line) for line in self._lines)


@dataclass(frozen=True)
class UndoResult:
    batch_id: int
    restored: int  # customers put back (for orders: prospects again)
    removed: int  # customers the batch created, removed
    kept: list[str]  # created customers kept because later records refer to them
    orders_removed: int = 0
    orders_restored: int = 0
    # Customers an orders batch made active that stay so (edited since, or other orders).
    kept_active: list[str] = field(default_factory=list)
    # Staff the batch added: removed, or kept because they are in use ("name (login)").
    staff_removed: list[str] = field(default_factory=list)
    staff_kept: list[str] = field(default_factory=list)
    # Sentences for the person who undid it: who was kept and why, review rows closed.
    notes: list[str] = field(default_factory=list)


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
        return date.fromisoformat(value)
    return value


def _json(value: Any) -> dict[str, Any]:
    """A JSON column as the driver returns it: text on SQLite, already read on PostgreSQL."""
    if value is None:
        return {}
    found = json.loads(value) if isinstance(value, str | bytes) else value
    return found if isinstance(found, dict) else {}


def _plain(value: Any) -> Any:
    if isinstance(value, date):  # a datetime is a date too
        return value.isoformat()
    return getattr(value, "value", value)


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
            return _undo_orders(session, batch, actor_id, force, progress)
        return _undo_customers(session, batch, actor_id, force, progress)


# -- customers batches -------------------------------------------------------------------


def _change_rows(session: Session, batch_id: int) -> Iterator[tuple[Any, ...]]:
    """The batch's ``import_changes`` rows in the order written: entity, entity id, action,
    the values before (JSON) and the version the batch left."""
    return driver_rows(
        session,
        "SELECT entity, entity_id, action, before, version_after FROM import_changes "
        f"WHERE batch_id = {int(batch_id)} ORDER BY id",
    )


@dataclass
class _BatchRecord:
    """What a customers batch wrote, as its ``import_changes`` rows tell it."""

    created: list[int] = field(default_factory=list)
    # customer → each column as it was before the batch (the earliest row's value wins)
    updated: dict[int, dict[str, Any]] = field(default_factory=dict)
    # customer → the version the batch left it at
    version_after: dict[int, int] = field(default_factory=dict)
    children: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    tags: list[tuple[int, int]] = field(default_factory=list)  # (customer, tag)
    staff: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, batch_id: int) -> _BatchRecord:
        record = cls()
        created = ChangeAction.CREATED.value
        for entity, entity_id, action, before_json, version_after in _change_rows(
            session, batch_id
        ):
            before = _json(before_json)
            if entity == "customer":
                if action == created:
                    record.created.append(entity_id)
                else:
                    columns = record.updated.setdefault(entity_id, {})
                    for column, value in before.items():
                        if column in CUSTOMER_COLUMNS:
                            columns.setdefault(column, value)
                if version_after is not None:
                    record.version_after[entity_id] = max(
                        version_after, record.version_after.get(entity_id, 0)
                    )
            elif entity in _CHILD_TABLES:
                record.children[entity].append(entity_id)
            elif entity == "tag":
                record.tags.append((int(before.get("customer_id") or 0), entity_id))
            elif entity == "user":
                record.staff.append(entity_id)
        return record

    @property
    def customers(self) -> list[int]:
        created = set(self.created)
        return [*self.created, *(c for c in self.updated if c not in created)]

    @property
    def size(self) -> int:
        return len(self.created) + len(self.updated)


@dataclass(frozen=True)
class _Head:
    version: int
    name: str

    def shown(self, customer_id: int) -> str:
        return f"{self.name} (ID {customer_id})"


def _heads(session: Session, customer_ids: Sequence[int]) -> dict[int, _Head]:
    """Version and name of the batch's customers that still exist."""
    heads: dict[int, _Head] = {}
    for chunk in _chunks(sorted(set(customer_ids))):
        for cid, version, name in session.execute(
            select(Customer.id, Customer.version, Customer.name).where(Customer.id.in_(chunk))
        ):
            heads[cid] = _Head(version, name)
    return heads


def _close_undone(
    session: Session,
    batch: ImportBatch,
    audit: list[dict[str, Any]],
    now: datetime,
    actor_id: int,
) -> None:
    """The undo's audit rows written and the batch marked undone, by whom and when."""
    bulk_insert(session, _table(AuditEntry), audit)
    batch.status = BatchStatus.UNDONE
    batch.undone_at = now
    batch.undone_by_id = actor_id
    session.flush()


def _undo_customers(
    session: Session, batch: ImportBatch, actor_id: int, force: bool, progress: Progress
) -> UndoResult:
    batch_id = batch.id
    record = _BatchRecord.load(session, batch_id)
    total = record.size + 2
    progress.report(0, total, "Undoing the import…")
    heads = _heads(session, record.customers)
    _refuse_if_merged_since(session, batch, record, heads)
    created = [cid for cid in record.created if cid in heads]
    kept_reasons = _reasons_to_keep(session, batch_id, created)
    edited = [
        cid
        for cid in record.customers
        if cid in heads
        and cid not in kept_reasons
        and record.version_after.get(cid) not in (None, heads[cid].version)
    ]
    if edited and not force:
        raise UndoConflict(
            batch_id,
            [heads[cid].shown(cid) for cid in edited],
            _what_would_be_lost(session, batch, record, heads, edited),
        )

    now = utcnow()
    audit: list[dict[str, Any]] = []
    notes: list[str] = []
    closed = _close_review_rows(session, batch_id)
    if closed:
        notes.append(
            f"Closed {closed} {'row' if closed == 1 else 'rows'} of the import that "
            f"{'was' if closed == 1 else 'were'} waiting for review."
        )
    removed_children = _remove_children(session, record, set(record.created))
    owner_changes, restored = _restore_customers(
        session, batch, record, heads, removed_children, now, actor_id, audit
    )
    done = len(record.updated)
    progress.report(done, total, "Undoing the import…")

    leaving = [cid for cid in created if cid not in kept_reasons]
    for chunk in _chunks(leaving):
        _remove_customers(session, batch_id, chunk, now, actor_id, audit)
        done += len(chunk)
        progress.report(done, total, "Undoing the import…")
    notes.extend(_kept_notes(kept_reasons, heads))

    staff_removed, staff_kept, removed_ids = _settle_staff(
        session, batch_id, record.staff, now, actor_id, audit, notes
    )
    bulk_insert(
        session,
        _CHANGES,
        [
            {
                "customer_id": cid,
                "from_user_id": old,
                "to_user_id": new,
                "changed_by_id": actor_id,
                "changed_at": now,
                "reason": f"Undo of import batch {batch_id}",
                "import_batch_id": None,
            }
            for cid, old, new in owner_changes
            # A salesperson the undo removes never held the customer, as far as the book goes.
            if old not in removed_ids
        ],
    )
    _close_undone(session, batch, audit, now, actor_id)
    progress.report(total, total, "Undoing the import…")
    return UndoResult(
        batch_id,
        restored=restored,
        removed=len(leaving),
        kept=[heads[cid].shown(cid) for cid in created if cid in kept_reasons],
        staff_removed=staff_removed,
        staff_kept=staff_kept,
        notes=notes,
    )


def _refuse_if_merged_since(
    session: Session, batch: ImportBatch, record: _BatchRecord, heads: dict[int, _Head]
) -> None:
    """Raise :class:`UndoBlockedByMerge` when a merge made after the batch, and not undone,
    took in or kept one of its customers."""
    if not heads:
        return
    created = set(record.created)
    blocking: list[tuple[int, int, list[int]]] = []
    for merge_id, survivor_id, absorbed_ids, merged_at in session.execute(
        select(Merge.id, Merge.survivor_id, Merge.absorbed_ids, Merge.merged_at)
        .where(Merge.undone_at.is_(None))
        .order_by(Merge.id.desc())
    ):
        absorbed = [int(a) for a in absorbed_ids or []]
        # An import never updates a merged-away customer, so one absorbed came after it.
        after = (
            survivor_id in created
            or any(a in heads for a in absorbed)
            or (
                survivor_id in heads
                and _merged_after(
                    session, batch, merge_id, merged_at, record.version_after.get(survivor_id)
                )
            )
        )
        if after:
            blocking.append((merge_id, survivor_id, absorbed))
    if blocking:
        _refuse_for_merges(session, batch.id, blocking, orders=False)


def _refuse_for_merges(
    session: Session, batch_id: int, blocking: list[tuple[int, int, list[int]]], *, orders: bool
) -> NoReturn:
    """Raise :class:`UndoBlockedByMerge` naming each (merge, survivor, absorbed) of
    ``blocking``, newest first."""
    wanted = {cid for _m, survivor, absorbed in blocking for cid in (survivor, *absorbed)}
    names = {
        cid: f"{name} (ID {cid})"
        for chunk in _chunks(sorted(wanted))
        for cid, name in session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_(chunk))
        )
    }
    raise UndoBlockedByMerge(
        batch_id,
        [
            (
                merge_id,
                names.get(survivor, f"ID {survivor}"),
                [names.get(a, f"ID {a}") for a in absorbed],
            )
            for merge_id, survivor, absorbed in blocking
        ],
        orders=orders,
    )


def _merged_after(
    session: Session,
    batch: ImportBatch,
    merge_id: int,
    merged_at: datetime,
    batch_version: int | None,
) -> bool:
    """Whether a merge that kept a customer the batch changed came after the batch.

    Versions only grow, so they order the two even when desktops' clocks disagree.
    """
    snapshot = session.scalar(select(Merge.snapshot).where(Merge.id == merge_id)) or {}
    merge_version = (snapshot.get("survivor") or {}).get("version_after")
    if merge_version is not None and batch_version is not None:
        return int(merge_version) > batch_version
    return merged_at >= batch.started_at


# What keeps a customer the batch created, other than its being edited.
_KEEPING: tuple[tuple[str, Any], ...] = (
    ("orders", Order.customer_id),
    ("activities", Activity.customer_id),
    ("follow-ups", FollowUp.customer_id),
    ("cases", Case.customer_id),
    ("ratings", SatisfactionRating.customer_id),
)
_KEPT_BECAUSE = {
    "cases": "they have service cases",
    "ratings": "they have satisfaction ratings",
    "referrals": "other customers name them as their referrer",
    "reviews": "rows of later imports waiting for review compare with them",
    "edited": "they were changed after the import",
}


def _reasons_to_keep(
    session: Session,
    batch_id: int,
    created: list[int],
    known: dict[int, set[str]] | None = None,
) -> dict[int, set[str]]:
    """Created customers that later records refer to, with what refers to them; ``known``:
    those the caller keeps already, and why."""
    reasons: dict[int, set[str]] = defaultdict(set)
    for customer_id, why in (known or {}).items():
        reasons[customer_id].update(why)
    for chunk in _chunks(created):
        for reason, column in _KEEPING:
            for cid in session.scalars(select(column).where(column.in_(chunk)).distinct()):
                reasons[cid].add(reason)
        for cid in session.scalars(
            select(ImportReviewItem.candidate_id)
            .where(
                ImportReviewItem.candidate_id.in_(chunk),
                ImportReviewItem.decided_at.is_(None),
                ImportReviewItem.batch_id.in_(
                    select(ImportBatch.id).where(
                        ImportBatch.id != batch_id, ImportBatch.status != BatchStatus.UNDONE
                    )
                ),
            )
            .distinct()
        ):
            if cid is not None:
                reasons[cid].add("reviews")
    # A customer referred by one that stays must stay too; those leaving take their
    # referrals with them.
    leaving = set(created) - set(reasons)
    while leaving:
        referred = {
            referrer
            for chunk in _chunks(sorted(leaving))
            for cid, referrer in session.execute(
                select(Customer.id, Customer.referred_by_id).where(
                    Customer.referred_by_id.in_(chunk)
                )
            )
            if cid not in leaving and referrer is not None
        }
        if not referred:
            break
        for cid in referred:
            reasons[cid].add("referrals")
        leaving -= referred
    return dict(reasons)


def _kept_notes(kept_reasons: dict[int, set[str]], heads: dict[int, _Head]) -> list[str]:
    """Orders and activities are what the result's ``kept`` says; the rarer reasons, here."""
    notes = []
    for key, reason in _KEPT_BECAUSE.items():
        names = [heads[cid].shown(cid) for cid, why in kept_reasons.items() if key in why]
        if names:
            names_shown = _names_shown(names)
            notes.append(f"Kept, as {reason}: {names_shown}.")
    return notes


def _close_review_rows(session: Session, batch_id: int) -> int:
    """Rows of the batch still waiting for review go with it; decided ones stay as history."""
    result = session.execute(
        delete(_REVIEWS).where(_REVIEWS.c.batch_id == batch_id, _REVIEWS.c.decided_at.is_(None))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _point_key(kind: str) -> str:
    """The key a customer's audit entry lists a removed contact point under (see apply.py)."""
    if kind in PHONE_KINDS:
        return "phones"
    return "emails" if kind == ContactPointKind.EMAIL else "messaging_ids"


def _remove_children(
    session: Session, record: _BatchRecord, created: set[int]
) -> dict[int, dict[str, list[str]]]:
    """Delete the contacts, phones, codes and tags the batch added to existing customers.

    Returns, per customer, what went (for its audit entry). Records of customers the batch
    created go with them, or stay with those kept.
    """
    removed: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for entity, table in _CHILD_TABLES.items():
        ids = sorted(set(record.children.get(entity, [])))
        for chunk in _chunks(ids):
            going: list[int] = []
            if entity == "contact_point":
                rows = session.execute(
                    select(table.c.id, table.c.customer_id, table.c.kind, table.c.value).where(
                        table.c.id.in_(chunk)
                    )
                )
                for rid, cid, kind, value in rows:
                    if cid in created:
                        continue
                    going.append(rid)
                    removed[cid][_point_key(kind)].append(value)
            elif entity == "contact":
                for rid, cid, name in session.execute(
                    select(table.c.id, table.c.customer_id, table.c.name).where(
                        table.c.id.in_(chunk)
                    )
                ):
                    if cid not in created:
                        going.append(rid)
                        removed[cid]["contacts"].append(name)
            else:
                for rid, cid, system, key in session.execute(
                    select(table.c.id, table.c.customer_id, table.c.system, table.c.key).where(
                        table.c.id.in_(chunk)
                    )
                ):
                    if cid not in created:
                        going.append(rid)
                        removed[cid]["external_id"].append(f"{system}:{key}")
            if going:
                session.execute(delete(table).where(table.c.id.in_(going)))
    links = [(cid, tag) for cid, tag in record.tags if cid not in created]
    if links:
        tag_names = {
            tid: name
            for chunk in _chunks(sorted({tag for _c, tag in links}))
            for tid, name in session.execute(select(Tag.id, Tag.name).where(Tag.id.in_(chunk)))
        }
        session.execute(
            delete(customer_tags).where(
                customer_tags.c.customer_id == bindparam("b_customer"),
                customer_tags.c.tag_id == bindparam("b_tag"),
            ),
            [{"b_customer": cid, "b_tag": tag} for cid, tag in links],
        )
        for cid, tag in links:
            if tag in tag_names:
                removed[cid]["tags"].append(tag_names[tag])
    return removed


# Customer columns the match keys are made from.
_KEYED_COLUMNS = {"name", "tax_id", "city"}


def _restore_customers(
    session: Session,
    batch: ImportBatch,
    record: _BatchRecord,
    heads: dict[int, _Head],
    removed_children: dict[int, dict[str, list[str]]],
    now: datetime,
    actor_id: int,
    audit: list[dict[str, Any]],
) -> tuple[list[tuple[int, int | None, int | None]], int]:
    """Put back the fields the batch changed and recompute list columns and search text
    from what the customers hold now. Returns the owner changes to record and how many
    customers were restored."""
    batch_id = batch.id
    created = set(record.created)
    affected = sorted(
        cid for cid in {*record.updated, *removed_children} if cid in heads and cid not in created
    )
    owner_changes: list[tuple[int, int | None, int | None]] = []
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks(affected):
        snapshots = load_snapshots(session, chunk)
        for cid in chunk:
            snapshot = snapshots.get(cid)
            if snapshot is None:
                continue
            restore = {
                column: _restore_value(column, value)
                for column, value in record.updated.get(cid, {}).items()
            }
            values = {**snapshot.values, **restore}
            name = str(values["name"])
            derived = derived_columns(
                values,
                snapshot.points,
                snapshot.contacts,
                [key for _system, key in snapshot.external_ids],
                with_keys=bool(_KEYED_COLUMNS & set(restore)),
            )
            version = heads[cid].version
            row = {
                **restore,
                **derived,
                "version": version + 1,
                "updated_at": now,
                "b_id": cid,
                "b_version": version,
            }
            groups[tuple(sorted(row))].append(row)
            if "owner_id" in restore and snapshot.values.get("owner_id") != restore["owner_id"]:
                owner_changes.append((cid, snapshot.values.get("owner_id"), restore["owner_id"]))
            changes: dict[str, list[Any]] = {
                column: [_plain(snapshot.values.get(column)), _plain(value)]
                for column, value in restore.items()
                if _plain(snapshot.values.get(column)) != _plain(value)
            }
            for key, items in removed_children.get(cid, {}).items():
                changes[key] = [items, None]
            audit.append(
                customer_audit_row(
                    now,
                    actor_id,
                    cid,
                    ChangeAction.UPDATED,
                    changes,
                    f"{name}: undo of import batch {batch_id}",
                )
            )
    written = sum(
        bulk_update(session, _CUSTOMERS, rows, where={"id": "b_id", "version": "b_version"})
        for rows in groups.values()
    )
    if written != len(affected):
        raise ConflictError(
            "Someone changed customers of this import while it was being undone; nothing was "
            "undone. Try again."
        )
    return owner_changes, sum(1 for cid in record.updated if cid in heads and cid not in created)


def _remove_customers(
    session: Session,
    batch_id: int,
    chunk: list[int],
    now: datetime,
    actor_id: int,
    audit: list[dict[str, Any]],
) -> None:
    """Delete customers the batch created, with their contacts, phones, codes and history
    of owners; the database removes the rest of what hangs on them (ON DELETE CASCADE)."""
    listed = ",".join(map(str, chunk))  # ids read from the database
    for cid, *values in driver_rows(
        session, f"SELECT id, {', '.join(CUSTOMER_COLUMNS)} FROM customers WHERE id IN ({listed})"
    ):
        fields = dict(zip(CUSTOMER_COLUMNS, values, strict=True))
        audit.append(
            customer_audit_row(
                now,
                actor_id,
                cid,
                ChangeAction.DELETED,
                {k: [_plain(v), None] for k, v in fields.items() if v is not None},
                f"{fields['name']} removed: undo of import batch {batch_id}",
            )
        )
    # Others point at them only through records that are history by now: decided review
    # rows, merges undone since, referrals among customers that go as well.
    session.execute(
        update(_CUSTOMERS).where(_CUSTOMERS.c.referred_by_id.in_(chunk)).values(referred_by_id=None)
    )
    session.execute(
        update(_REVIEWS).where(_REVIEWS.c.candidate_id.in_(chunk)).values(candidate_id=None)
    )
    session.execute(delete(_MERGES).where(_MERGES.c.survivor_id.in_(chunk)))
    session.execute(delete(_CHANGES).where(_CHANGES.c.customer_id.in_(chunk)))
    session.execute(delete(_CUSTOMERS).where(_CUSTOMERS.c.id.in_(chunk)))


def _settle_staff(
    session: Session,
    batch_id: int,
    staff_ids: list[int],
    now: datetime,
    actor_id: int,
    audit: list[dict[str, Any]],
    notes: list[str],
) -> tuple[list[str], list[str], set[int]]:
    """Remove the staff the batch added whom nothing refers to any more; say who stays."""
    if not staff_ids:
        return [], [], set()
    references = _references_to_staff(session, batch_id, staff_ids)
    removed: list[str] = []
    kept: list[str] = []
    removed_ids: set[int] = set()
    users = session.execute(
        select(User.id, User.full_name, User.login, User.last_sign_in_at, User.password_hash)
        .where(User.id.in_(staff_ids))
        .order_by(User.id)
    ).all()
    for user_id, full_name, login, signed_in_at, password_hash in users:
        uses = references.get(user_id, {})
        reasons: list[str] = []
        count = uses.pop("customers.owner_id", 0)
        if count:
            reasons.append(f"owns {count} {'customer' if count == 1 else 'customers'}")
        if signed_in_at is not None:
            reasons.append("has signed in")
        if password_hash is not None:
            reasons.append("has a password")
        if any(uses.values()):
            reasons.append("other records name them")
        if reasons:
            kept.append(f"{full_name} ({login})")
            why = ", ".join(reasons)
            notes.append(f"Kept {full_name} ({login}), whom the import added as staff: {why}.")
            continue
        removed.append(f"{full_name} ({login})")
        removed_ids.add(user_id)
        audit.append(
            {
                "at": now,
                "user_id": actor_id,
                "entity": "user",
                "entity_id": user_id,
                "customer_id": None,
                "action": ChangeAction.DELETED,
                "changes": {"login": [login, None], "full_name": [full_name, None]},
                "summary": f"{full_name} ({login}) removed: undo of import batch {batch_id}",
            }
        )
    if removed_ids:
        going = sorted(removed_ids)
        # The batch's own records of giving them customers go with them.
        session.execute(
            delete(_CHANGES).where(
                _CHANGES.c.import_batch_id == batch_id,
                or_(_CHANGES.c.from_user_id.in_(going), _CHANGES.c.to_user_id.in_(going)),
            )
        )
        session.execute(delete(_USERS).where(_USERS.c.id.in_(going)))
        staff_shown = ", ".join(removed)
        notes.append(
            f"Removed the staff the import had added, as nothing else refers to them: "
            f"{staff_shown}."
        )
    return removed, kept, removed_ids


def _references_to_staff(
    session: Session, batch_id: int, user_ids: list[int]
) -> dict[int, dict[str, int]]:
    """For each user, how many rows of each table refer to them ("table.column" → count),
    leaving out the batch's own records of owner changes."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for table in Base.metadata.sorted_tables:
        for foreign_key in table.foreign_keys:
            if foreign_key.column is not _USERS.c.id:
                continue
            column = foreign_key.parent
            statement = select(column, func.count()).where(column.in_(user_ids)).group_by(column)
            if table is _CHANGES:
                statement = statement.where(
                    or_(
                        _CHANGES.c.import_batch_id.is_(None), _CHANGES.c.import_batch_id != batch_id
                    )
                )
            for user_id, count in session.execute(statement):
                found[user_id][f"{table.name}.{column.name}"] = int(count)
    return found


# -- what a forced undo would throw away ---------------------------------------------------

# Keys an import writes into a customer's audit entry for the records it adds.
_ADDED_LABELS = {
    "phones": "phones",
    "emails": "e-mails",
    "contacts": "contacts",
    "tags": "tags",
    "external_id": "code",
}
# Bookkeeping in audit entries that says nothing a person would miss.
_NOT_SHOWN = {"id", "customer_id", "created_by_id", "merged_into_id", "merged", "merge_undone"}


def _what_would_be_lost(
    session: Session,
    batch: ImportBatch,
    record: _BatchRecord,
    heads: dict[int, _Head],
    edited: list[int],
) -> list[str]:
    """One sentence per edited customer: what undoing anyway does to the later changes."""
    created = set(record.created)
    children = {entity: set(ids) for entity, ids in record.children.items()}
    lost: dict[int, list[str]] = defaultdict(list)
    # The batch stamped its own audit entries with the moment it started; what follows
    # them, for these customers, came later.
    first_own = session.scalar(
        select(func.min(AuditEntry.id)).where(AuditEntry.at == batch.started_at)
    )
    for chunk in _chunks(sorted(edited)):
        statement = (
            select(
                AuditEntry.customer_id,
                AuditEntry.entity,
                AuditEntry.entity_id,
                AuditEntry.action,
                AuditEntry.changes,
                AuditEntry.summary,
            )
            .where(AuditEntry.customer_id.in_(chunk), AuditEntry.at != batch.started_at)
            .order_by(AuditEntry.id)
        )
        if first_own is not None:
            statement = statement.where(AuditEntry.id > first_own)
        else:
            statement = statement.where(AuditEntry.at > batch.started_at)
        for cid, entity, entity_id, action, changes, summary in session.execute(statement):
            if cid is None or action in (ChangeAction.DELETED, ChangeAction.MERGED):
                continue
            whole = cid in created
            restored = set(record.updated.get(cid, {}))
            lost[cid].extend(
                _lost_pieces(
                    entity, entity_id, action, changes or {}, summary, whole, restored, children
                )
            )
    details = []
    for cid in edited:
        name = heads[cid].name
        pieces = list(dict.fromkeys(lost.get(cid, [])))
        if len(pieces) > LOST_SHOWN:
            extra = len(pieces) - LOST_SHOWN
            pieces = [*pieces[:LOST_SHOWN], f"{extra} more changes"]
        lost_items = ", ".join(pieces)
        if cid in created and pieces:
            details.append(
                f"{name} (ID {cid}) was created by the import; undoing removes it, with "
                f"what was changed since: {lost_items}."
            )
        elif cid in created:
            details.append(
                f"{name} (ID {cid}) was created by the import and changed since; undoing "
                "removes it."
            )
        elif pieces:
            details.append(
                f"{name} (ID {cid}): undoing puts back what the import changed, replacing "
                f"what was changed since in {lost_items}; its other later changes stay."
            )
        else:
            details.append(
                f"{name} (ID {cid}): undoing puts back what the import changed; the changes "
                "made since are elsewhere and stay."
            )
    return details


def _lost_pieces(
    entity: str,
    entity_id: int,
    action: ChangeAction,
    changes: dict[str, Any],
    summary: str | None,
    whole: bool,
    restored: set[str],
    children: dict[str, set[int]],
) -> list[str]:
    """What one later audit entry changed that the undo would take away.

    ``whole``: the customer goes, so all of it; otherwise only fields the undo puts back
    and records the batch added (which the undo removes).
    """

    def new(key: str) -> Any:
        value = changes.get(key)
        return value[-1] if isinstance(value, list) and value else None

    if entity == "customer":
        pieces = []
        for key in changes:
            if key in _NOT_SHOWN or not (whole or key in restored):
                continue
            label = _ADDED_LABELS.get(key) if key in _ADDED_LABELS else FIELD_LABELS.get(key)
            if label:
                pieces.append(label)
        return pieces
    ours = entity_id in children.get(entity, set())
    if entity == "contact_point":
        on_our_contact = new("contact_id") in children.get("contact", set())
        if not (whole or ours or on_our_contact):
            return []
        value = str(new("value") or summary or "")
        kind = new("kind")
        if kind is None:
            return [f"contact detail {value}"]
        if ContactPointKind(kind).is_phone:
            return [f"phone {value}"]
        if kind == ContactPointKind.EMAIL:
            return [f"e-mail {value}"]
        return [f"messaging ID {value}"]
    if not (whole or (ours and action == ChangeAction.UPDATED)):
        return []
    if entity == "contact":
        name = str(new("name") or summary or "")
        return [f"contact {name}"]
    if entity == "external_id":
        return ["an external code"]
    return []


# -- orders batches ----------------------------------------------------------------------

_ORDERS = _table(Order)
_LINES = _table(OrderLine)
_CONVERSIONS = _table(Conversion)
_FOLLOW_UPS = _table(FollowUp)
# The columns that say whom an order belongs to: a link made by hand since the batch stays.
_LINK_COLUMNS = ("customer_id", "link_route", "customer_details")


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


@dataclass
class _OrdersRecord:
    """What an orders batch wrote, as its ``import_changes`` rows tell it."""

    # order → its columns (and "lines") as they were before the batch
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)
    # conversion → the version it left its customer at
    conversions: dict[int, int | None] = field(default_factory=dict)
    # customer made from one of its unmatched orders → the version it was made at
    made: dict[int, int | None] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, batch_id: int) -> _OrdersRecord:
        record = cls()
        created = ChangeAction.CREATED.value
        for entity, entity_id, action, before_json, version_after in _change_rows(
            session, batch_id
        ):
            if entity == "order" and action != created:
                record.changed.setdefault(entity_id, _json(before_json))
            elif entity == "conversion":
                record.conversions[entity_id] = version_after
            elif entity == "customer" and action == created:
                record.made[entity_id] = version_after
        return record

    def linked(self, order_id: int) -> bool:
        """Whether the batch linked this (earlier) order to its customer."""
        return "customer_id" in self.changed.get(order_id, {})


@dataclass(frozen=True)
class _OrderNow:
    number: str
    customer_id: int | None
    route: LinkRoute | None


def _orders_made(batch_id: int) -> Any:
    """The ids of the orders the batch created, as a subquery."""
    return select(_ORDERS.c.id).where(_ORDERS.c.import_batch_id == batch_id)


def _undo_orders(
    session: Session, batch: ImportBatch, actor_id: int, force: bool, progress: Progress
) -> UndoResult:
    batch_id = batch.id
    steps = 5
    progress.report(0, steps, "Undoing the import…")
    record = _OrdersRecord.load(session, batch_id)
    changed = _changed_orders_now(session, record)
    # Conversions this batch caused, and those a link by hand made with one of its orders.
    conversions: list[tuple[int, int]] = [
        (int(conversion_id), int(customer_id))
        for conversion_id, customer_id in session.execute(
            select(_CONVERSIONS.c.id, _CONVERSIONS.c.customer_id).where(
                or_(
                    _CONVERSIONS.c.import_batch_id == batch_id,
                    _CONVERSIONS.c.order_id.in_(_orders_made(batch_id)),
                )
            )
        )
    ]
    _refuse_if_orders_merged_since(session, batch, record, changed, conversions)
    # Orders it linked that a person has linked by hand since keep that link.
    relinked = [
        oid for oid, now in changed.items() if record.linked(oid) and now.route == LinkRoute.MANUAL
    ]
    edits = _later_order_edits(session, batch_id, record, changed)
    if edits and not force:
        later = list(dict.fromkeys(number for number, _detail in edits))
        raise UndoConflict(batch_id, later, [detail for _n, detail in edits], orders=True)
    progress.report(1, steps, "Undoing the import…")

    now = utcnow()
    audit: list[dict[str, Any]] = []
    notes: list[str] = []
    restored, unlinked = _restore_orders(session, record, changed, set(relinked))
    if relinked:
        orders_shown = _names_shown([changed[oid].number for oid in relinked])
        notes.append(f"Orders linked by hand after the import keep that link: {orders_shown}.")
    progress.report(2, steps, "Undoing the import…")
    orders_removed = _remove_orders(session, batch_id, unlinked)
    progress.report(3, steps, "Undoing the import…")
    prospects_again, kept_active = _revert_conversions(
        session, batch_id, record, conversions, now, actor_id, audit
    )
    progress.report(4, steps, "Undoing the import…")
    removed, kept = _remove_made_customers(session, batch_id, record, now, actor_id, audit, notes)
    _close_undone(session, batch, audit, now, actor_id)
    progress.report(steps, steps, "Undoing the import…")
    return UndoResult(
        batch_id,
        restored=prospects_again,
        removed=removed,
        kept=kept,
        orders_removed=orders_removed,
        orders_restored=restored,
        kept_active=kept_active,
        notes=notes,
    )


def _changed_orders_now(session: Session, record: _OrdersRecord) -> dict[int, _OrderNow]:
    """The orders the batch changed that are still there, as they are now."""
    found: dict[int, _OrderNow] = {}
    for chunk in _chunks(sorted(record.changed)):
        for oid, number, customer_id, route in session.execute(
            select(
                _ORDERS.c.id, _ORDERS.c.order_number, _ORDERS.c.customer_id, _ORDERS.c.link_route
            ).where(_ORDERS.c.id.in_(chunk))
        ):
            found[oid] = _OrderNow(number, customer_id, route)
    return found


def _refuse_if_orders_merged_since(
    session: Session,
    batch: ImportBatch,
    record: _OrdersRecord,
    changed: dict[int, _OrderNow],
    conversions: list[tuple[int, int]],
) -> None:
    """Raise :class:`UndoBlockedByMerge` when a merge made after the batch, and not undone,
    took in or kept a customer its orders were linked to: one it made from its orders, one
    it linked orders to, or one it (or a link of its orders by hand) made a customer."""
    made = set(record.made)
    linked = set(
        session.scalars(
            select(_ORDERS.c.customer_id)
            .where(
                _ORDERS.c.import_batch_id == batch.id,
                _ORDERS.c.link_route.in_(AUTO_ROUTES),
            )
            .distinct()
        )
    )
    linked.update(
        now.customer_id
        for oid, now in changed.items()
        if record.linked(oid) and now.customer_id is not None and now.route in AUTO_ROUTES
    )
    # The version a conversion left its customer at tells whether a merge came before it.
    converted: dict[int, int | None] = {}
    for conversion_id, customer_id in conversions:
        version = record.conversions.get(conversion_id)
        if converted.get(customer_id) is None:
            converted[customer_id] = version
    involved = made | linked | set(converted)
    if not involved:
        return
    blocking: list[tuple[int, int, list[int]]] = []
    for merge_id, survivor_id, absorbed_ids, merged_at in session.execute(
        select(Merge.id, Merge.survivor_id, Merge.absorbed_ids, Merge.merged_at)
        .where(Merge.undone_at.is_(None))
        .order_by(Merge.id.desc())
    ):
        absorbed = [int(a) for a in absorbed_ids or []]
        if survivor_id not in involved and not any(a in involved for a in absorbed):
            continue
        # Customers made from its orders came after it, and an import links no order to
        # a merged-away customer: a merge that took in either came after the batch.
        if survivor_id in made or any(a in involved for a in absorbed):
            after = True
        elif converted.get(survivor_id) is not None:
            after = _merged_after(session, batch, merge_id, merged_at, converted[survivor_id])
        else:
            after = merged_at >= batch.started_at or _moved_records_of(
                session, batch.id, merge_id, record, conversions
            )
        if after:
            blocking.append((merge_id, survivor_id, absorbed))
    if blocking:
        _refuse_for_merges(session, batch.id, blocking, orders=True)


def _moved_records_of(
    session: Session,
    batch_id: int,
    merge_id: int,
    record: _OrdersRecord,
    conversions: list[tuple[int, int]],
) -> bool:
    """Whether a merge moved orders or conversions of the batch, which places it after
    the batch whatever the desktops' clocks said."""
    snapshot = session.scalar(select(Merge.snapshot).where(Merge.id == merge_id)) or {}
    moved = snapshot.get("moved") or {}
    ours = {conversion_id for conversion_id, _c in conversions}
    if any(int(i) in ours for ids in (moved.get("conversions") or {}).values() for i in ids):
        return True
    order_ids = sorted({int(i) for ids in (moved.get("orders") or {}).values() for i in ids})
    if any(record.linked(oid) for oid in order_ids):
        return True
    return any(
        session.scalar(
            select(_ORDERS.c.id)
            .where(_ORDERS.c.id.in_(chunk), _ORDERS.c.import_batch_id == batch_id)
            .limit(1)
        )
        is not None
        for chunk in _chunks(order_ids)
    )


def _later_order_edits(
    session: Session, batch_id: int, record: _OrdersRecord, changed: dict[int, _OrderNow]
) -> list[tuple[str, str]]:
    """(order number, what undoing anyway does to the later change) for each order of the
    batch that a person linked by hand or a later import changed since."""
    found: list[tuple[int, str, str]] = []
    # An order it created goes, and a link a person made for it with it.
    for oid, order_code, customer_id, holder in session.execute(
        select(_ORDERS.c.id, _ORDERS.c.order_number, _ORDERS.c.customer_id, Customer.name)
        .outerjoin(Customer, Customer.id == _ORDERS.c.customer_id)
        .where(_ORDERS.c.import_batch_id == batch_id, _ORDERS.c.link_route == LinkRoute.MANUAL)
    ):
        holder_name = f"{holder} (ID {customer_id})"
        found.append(
            (
                oid,
                order_code,
                f"Order {order_code} was linked by hand to {holder_name} after the import; "
                "undoing removes the order.",
            )
        )
    later = (
        select(ImportChange.entity_id, ImportChange.batch_id)
        .join(ImportBatch, ImportBatch.id == ImportChange.batch_id)
        .where(
            ImportChange.entity == "order",
            ImportChange.batch_id > batch_id,
            ImportBatch.status != BatchStatus.UNDONE,
        )
        .order_by(ImportChange.batch_id)
    )
    by_order: dict[int, list[int]] = defaultdict(list)
    numbers: dict[int, str] = {oid: now.number for oid, now in changed.items()}
    for oid, later_id, number in session.execute(
        later.add_columns(_ORDERS.c.order_number)
        .join(_ORDERS, _ORDERS.c.id == ImportChange.entity_id)
        .where(_ORDERS.c.import_batch_id == batch_id)
    ):
        by_order[oid].append(later_id)
        numbers[oid] = number
    for chunk in _chunks(sorted(changed)):
        for oid, later_id in session.execute(later.where(ImportChange.entity_id.in_(chunk))):
            by_order[oid].append(later_id)
    for oid, batch_ids in by_order.items():
        order_code = numbers[oid]
        later_batches = ", ".join(str(b) for b in dict.fromkeys(batch_ids))
        if oid in changed:
            detail = (
                f"Order {order_code} was changed again by import batch {later_batches}; "
                "undoing puts back what this import changed and replaces that change."
            )
        else:
            detail = (
                f"Order {order_code} was changed by import batch {later_batches} after this "
                "import; undoing removes the order with that change."
            )
        found.append((oid, order_code, detail))
    found.sort(key=lambda item: item[0])
    return [(number, detail) for _oid, number, detail in found]


def _restore_orders(
    session: Session, record: _OrdersRecord, changed: dict[int, _OrderNow], relinked: set[int]
) -> tuple[int, list[int]]:
    """Put back what the batch changed on the orders still there: amount, date, status,
    currency, lines, link (unless linked by hand since). Returns how many orders, and those
    it leaves without a customer again."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    relined: list[int] = []
    lines: list[dict[str, Any]] = []
    unlinked: list[int] = []
    for oid, before in record.changed.items():
        if oid not in changed:
            continue  # removed since, with the batch that created it
        values = dict(before)
        old_lines = values.pop("lines", None)
        if oid in relinked:
            for column in _LINK_COLUMNS:
                values.pop(column, None)
        elif record.linked(oid) and values["customer_id"] is None:
            unlinked.append(oid)
        row = {column: _restore_order_value(column, value) for column, value in values.items()}
        if row:
            groups[tuple(sorted(row))].append({**row, "b_id": oid})
        if old_lines is not None:
            relined.append(oid)
            lines.extend(
                {
                    "order_id": oid,
                    "line_no": line_no,
                    "product": product,
                    "sku": sku,
                    "quantity": Decimal(str(quantity)),
                    "unit_price": None if price is None else Decimal(str(price)),
                    "amount": Decimal(str(amount)),
                }
                for line_no, product, sku, quantity, price, amount in old_lines
            )
    for rows in groups.values():
        bulk_update(session, _ORDERS, rows, where={"id": "b_id"})
    for chunk in _chunks(relined):
        session.execute(delete(_LINES).where(_LINES.c.order_id.in_(chunk)))
    bulk_insert(session, _LINES, lines)
    return sum(1 for oid in record.changed if oid in changed), unlinked


def _remove_orders(session: Session, batch_id: int, unlinked: list[int]) -> int:
    """Delete the orders the batch created, with their lines; returns how many."""
    made = _orders_made(batch_id)
    # The after-sales calls planned for its orders go too, unless someone already made them;
    # so do those for the orders it linked that are waiting for a customer again.
    session.execute(
        delete(_FOLLOW_UPS).where(_FOLLOW_UPS.c.order_id.in_(made), _FOLLOW_UPS.c.done_at.is_(None))
    )
    for chunk in _chunks(unlinked):
        session.execute(
            delete(_FOLLOW_UPS).where(
                _FOLLOW_UPS.c.order_id.in_(chunk), _FOLLOW_UPS.c.done_at.is_(None)
            )
        )
    # Conversions kept (the customer stays one) lose the order, not themselves.
    session.execute(
        update(_CONVERSIONS).where(_CONVERSIONS.c.order_id.in_(made)).values(order_id=None)
    )
    session.execute(delete(_LINES).where(_LINES.c.order_id.in_(made)))
    result = session.execute(delete(_ORDERS).where(_ORDERS.c.import_batch_id == batch_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _revert_conversions(
    session: Session,
    batch_id: int,
    record: _OrdersRecord,
    conversions: list[tuple[int, int]],
    now: datetime,
    actor_id: int,
    audit: list[dict[str, Any]],
) -> tuple[int, list[str]]:
    """Prospects its orders made customers become prospects again, and their conversion
    records go — unless changed since, set to another status, or buying still (a sale the
    undo leaves them). Returns how many went back, and the names of those kept active."""
    customer_ids = sorted({customer_id for _c, customer_id in conversions})
    heads: dict[int, tuple[int, CustomerStatus, str]] = {}
    buying: set[int] = set()
    for chunk in _chunks(customer_ids):
        for cid, version, status, name in session.execute(
            select(Customer.id, Customer.version, Customer.status, Customer.name).where(
                Customer.id.in_(chunk)
            )
        ):
            heads[cid] = (version, status, name)
        buying.update(
            session.scalars(
                select(Order.customer_id)
                .where(Order.customer_id.in_(chunk), counts_as_sale())
                .distinct()
            )
        )
    reverts: dict[int, dict[str, Any]] = {}
    going: list[int] = []
    kept_active: list[str] = []
    for conversion_id, customer_id in conversions:
        version, status, name = heads[customer_id]
        after = record.conversions.get(conversion_id)
        edited = after is not None and version != after
        if edited or status != CustomerStatus.ACTIVE or customer_id in buying:
            kept_active.append(f"{name} (ID {customer_id})")
            continue
        going.append(conversion_id)
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
            customer_audit_row(
                now,
                actor_id,
                customer_id,
                ChangeAction.UPDATED,
                {"status": ["active", "prospect"]},
                f"{name} is a prospect again: undo of import batch {batch_id}",
            )
        )
    written = bulk_update(
        session, _CUSTOMERS, list(reverts.values()), where={"id": "b_id", "version": "b_version"}
    )
    if written != len(reverts):
        raise ConflictError(
            "Someone changed customers of this import while it was being undone; nothing was "
            "undone. Try again."
        )
    for chunk in _chunks(going):
        session.execute(delete(_CONVERSIONS).where(_CONVERSIONS.c.id.in_(chunk)))
    return len(reverts), list(dict.fromkeys(kept_active))


def _remove_made_customers(
    session: Session,
    batch_id: int,
    record: _OrdersRecord,
    now: datetime,
    actor_id: int,
    audit: list[dict[str, Any]],
    notes: list[str],
) -> tuple[int, list[str]]:
    """Remove the customers made from its unmatched orders, unless changed since or other
    records (orders, activities, cases…) refer to them. Returns how many went, and the
    names of those kept."""
    heads = _heads(session, list(record.made))
    made = [cid for cid in record.made if cid in heads]
    edited = {
        cid: {"edited"}
        for cid in made
        if record.made[cid] is not None and heads[cid].version != record.made[cid]
    }
    reasons = _reasons_to_keep(session, batch_id, made, edited)
    leaving = [cid for cid in made if cid not in reasons]
    for chunk in _chunks(leaving):
        _remove_customers(session, batch_id, chunk, now, actor_id, audit)
    notes.extend(_kept_notes(reasons, heads))
    return len(leaving), [heads[cid].shown(cid) for cid in made if cid in reasons]
