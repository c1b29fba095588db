"""Apply a previewed customers import as one ImportBatch, in one transaction.

Rows are written with bulk Core statements (a 100,000-row file would take minutes as ORM
objects), so this module computes the derived columns and audit rows itself, with the same
functions the ORM hook uses. Every record the batch creates or changes is listed in
``import_changes`` with its prior values, which is what makes the batch undoable. A
cancelled or failed import rolls back: the database is exactly as before.

Imports take turns (:func:`hold_import_lock`), and once it is this import's turn the rows
its preview found new are matched again against the customers added or changed since the
preview: two windows importing the same file, one after the other, create each customer
once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Table, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smbcrm.errors import ConflictError, SmbcrmError
from smbcrm.models import (
    AssignmentChange,
    AuditEntry,
    BatchStatus,
    ChangeAction,
    Contact,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    ExternalId,
    ImportBatch,
    ImportChange,
    ImportKind,
    ImportReviewItem,
    Role,
    Tag,
    User,
    customer_tags,
    utcnow,
)
from smbcrm.models.bulk import bulk_insert, bulk_update, next_new_id
from smbcrm.models.derived import ContactData, PointData
from smbcrm.models.keys import normalize_key_text, normalize_name
from smbcrm.services.collector import collector_paused
from smbcrm.services.importing.book import (
    CUSTOMER_COLUMNS,
    BookIndex,
    BookMark,
    CustomerSnapshot,
    customer_audit_row,
    derived_columns,
    load_snapshots,
)
from smbcrm.services.importing.fields import column_length
from smbcrm.services.importing.plan import (
    ImportPlan,
    Outcome,
    RowPlan,
    changes_for,
    code_conflict,
    rows_now_matching,
)
from smbcrm.services.importing.problems import record_problems
from smbcrm.services.permissions import Permission, require
from smbcrm.services.progress import Progress

CHUNK = 2000
_MISSING = object()
_LOGIN_LENGTH = column_length(User.__table__.c.login)
T = TypeVar("T")


class ImportRefused(SmbcrmError):
    """The plan cannot be imported as it stands: all-or-nothing was asked for and some rows
    cannot be imported, or the decisions give one customer code to two customers."""


class PreviewOutdated(ConflictError):
    """A customer the preview compared a row with was changed or removed before the import."""

    def __init__(self, customer: str, row_number: int, message: str | None = None) -> None:
        super().__init__(
            message
            or f"{customer} (row {row_number}) was changed or removed by someone else after "
            "the preview, so nothing was imported. Preview the file again and import it."
        )
        self.customer = customer
        self.row_number = row_number


class AlreadyImported(ConflictError):
    """The preview was imported already, or is being imported (Import pressed twice)."""


class ChangedMeanwhile(ConflictError):
    """Another import (or person) wrote the same customers while this import ran."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Another import added or changed the same customers (a customer code, say) "
            "while this one ran, so nothing was imported. Preview the file again and import it."
        )


class NewRowsMatchNow(PreviewOutdated, ChangedMeanwhile):
    """Rows the preview found new match customers someone added or changed since (another
    import of the same file, say): importing them would put those customers in twice."""

    def __init__(self, rows: int, row_number: int, customer: str, message: str) -> None:
        super().__init__(customer, row_number, message)
        self.rows = rows


class ImportQueueTooLong(ConflictError):
    """Another import kept the database for longer than this import waits."""


# PostgreSQL advisory lock that customer imports take turns on ("smbcrm", imports).
IMPORT_LOCK_KEY = 0x736D6263726D_01
IMPORT_WAIT_S = 600.0
_LOCK_POLL_S = 0.2

_claiming = threading.Lock()


@contextmanager
def importing_once(plan: ImportPlan) -> Iterator[None]:
    """Let a preview be imported once: refuse it while it is being imported and after.

    The block sets ``plan.imported_batch_id`` once its batch is committed; a block that
    fails (or is cancelled) leaves the preview free to be imported again.
    """
    with _claiming:
        if plan.imported_batch_id is not None:
            raise AlreadyImported(
                f"This preview was already imported as batch {plan.imported_batch_id}, so "
                "nothing was imported again. To import the file once more, preview it again."
            )
        if plan.importing:
            raise AlreadyImported(
                "This preview is being imported already; wait for that import to finish."
            )
        plan.importing = True
    try:
        yield
    finally:
        plan.importing = False


@dataclass(frozen=True)
class BatchResult:
    batch_id: int
    created: int
    updated: int
    unchanged: int
    same_as_row: int
    skipped: int
    review: int
    errors: int
    created_staff: list[str]


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _plain(value: Any) -> Any:
    if type(value) is str:  # most values: nothing to do
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):  # a datetime is a date too
        return value.isoformat()
    return value


def _point_kind(key: str) -> ContactPointKind:
    return (
        ContactPointKind.MOBILE
        if key.startswith("+861") and len(key) == 14
        else ContactPointKind.PHONE
    )


def _new_points(row: RowPlan, existing: set[str]) -> list[PointData]:
    points: list[PointData] = []
    first_phone = not any(k.startswith("+") for k in existing)
    for raw, key in row.values.phones:
        if key in existing:
            continue
        existing.add(key)
        points.append(PointData(_point_kind(key), raw, key, first_phone))
        first_phone = False
    for raw, key in row.values.emails:
        if key in existing:
            continue
        existing.add(key)
        points.append(PointData(ContactPointKind.EMAIL, raw, key, False))
    wechat = row.values.wechat
    if wechat and normalize_key_text(wechat) not in existing:
        existing.add(normalize_key_text(wechat))
        points.append(PointData(ContactPointKind.WECHAT, wechat, normalize_key_text(wechat), False))
    return points


def _new_contacts(row: RowPlan, snapshot: CustomerSnapshot | None) -> list[ContactData]:
    names = [n for n in [row.values.contact, *row.values.extra_contacts] if n]
    have = {c.name for c in snapshot.contacts} if snapshot else set()
    primary_taken = bool(snapshot and snapshot.contacts)
    contacts = []
    for name in dict.fromkeys(names):
        if name in have:
            continue
        contacts.append(ContactData(name, not primary_taken))
        primary_taken = True
    return contacts


class _Writer:
    """Collects child rows and history rows, then writes each table in bulk."""

    def __init__(self, session: Session, batch: ImportBatch, actor: User, now: datetime) -> None:
        self.session = session
        self.batch = batch
        self.actor = actor
        self.now = now
        self.changes: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.assignments: list[dict[str, Any]] = []
        # customer → the version this batch gave it, for a later row about the same customer
        self.versions: dict[int, int] = {}
        self.tag_ids: dict[str, int] = {
            name: tid for tid, name in session.execute(select(Tag.id, Tag.name))
        }

    def children(
        self,
        customer_id: int,
        row: RowPlan,
        contacts: list[ContactData],
        points: list[PointData],
        external_key: str | None,
        tags: list[str],
    ) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for contact in contacts:
            out.append(
                (
                    "contact",
                    {
                        "customer_id": customer_id,
                        "name": contact.name,
                        "name_key": normalize_name(contact.name),
                        "title": row.values.contact_title
                        if contact.name == row.values.contact
                        else None,
                        "is_primary": contact.is_primary,
                        "created_at": self.now,
                        "updated_at": self.now,
                    },
                )
            )
        for point in points:
            out.append(
                (
                    "contact_point",
                    {
                        "customer_id": customer_id,
                        "contact_id": None,
                        "kind": point.kind,
                        "value": point.value,
                        "key": point.key,
                        "is_primary": point.is_primary,
                        "created_at": self.now,
                    },
                )
            )
        if external_key:
            out.append(
                (
                    "external_id",
                    {
                        "customer_id": customer_id,
                        "system": self.batch.source_system,
                        "key": external_key,
                        "key_norm": normalize_key_text(external_key),
                        "created_at": self.now,
                    },
                )
            )
        for tag in tags:
            out.append(("tag", {"customer_id": customer_id, "tag": tag}))
        return out

    def write_children(
        self,
        children: list[tuple[str, dict[str, Any]]],
        row_numbers: list[int],
        *,
        record: bool = True,
    ) -> None:
        """Insert contacts, phones, codes and tags; ``record`` lists them for undo.

        Children of customers the batch creates need no record: undo removes the customer
        and the database removes its children with it.
        """
        tables: dict[str, Table] = {
            "contact": Contact.__table__,  # type: ignore[dict-item]
            "contact_point": ContactPoint.__table__,  # type: ignore[dict-item]
            "external_id": ExternalId.__table__,  # type: ignore[dict-item]
        }
        by_entity: dict[str, list[tuple[dict[str, Any], int]]] = {
            entity: [] for entity in (*tables, "tag")
        }
        for (entity, values), number in zip(children, row_numbers, strict=True):
            by_entity[entity].append((values, number))
        for entity, table in tables.items():
            for chunk in _chunks(by_entity[entity]):
                rows = [values for values, _n in chunk]
                if not record:
                    bulk_insert(self.session, table, rows)
                    continue
                ids = insert_with_ids(self.session, table, rows)
                for new_id, (_values, number) in zip(ids, chunk, strict=True):
                    self.changes.append(
                        self._change(entity, new_id, ChangeAction.CREATED, None, number, None)
                    )
        tag_rows = by_entity["tag"]
        missing = sorted({v["tag"] for v, _n in tag_rows} - set(self.tag_ids))
        for name in missing:
            tag_id = self.session.execute(
                insert(Tag).returning(Tag.id), {"name": name}
            ).scalar_one()
            self.tag_ids[name] = tag_id
        links = [
            {"customer_id": v["customer_id"], "tag_id": self.tag_ids[v["tag"]]}
            for v, _n in tag_rows
        ]
        if links:
            bulk_insert(self.session, customer_tags, links)
        if links and record:
            for (values, number), link in zip(tag_rows, links, strict=True):
                self.changes.append(
                    self._change(
                        "tag",
                        link["tag_id"],
                        ChangeAction.CREATED,
                        {"customer_id": values["customer_id"]},
                        number,
                        None,
                    )
                )

    def _change(
        self,
        entity: str,
        entity_id: int,
        action: ChangeAction,
        before: dict[str, Any] | None,
        row_number: int | None,
        version_after: int | None,
    ) -> dict[str, Any]:
        return {
            "batch_id": self.batch.id,
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "before": before,
            "row_number": row_number,
            "version_after": version_after,
        }

    def owner_change(self, customer_id: int, old: int | None, new: int | None) -> None:
        self.assignments.append(
            {
                "customer_id": customer_id,
                "from_user_id": old,
                "to_user_id": new,
                "changed_by_id": self.actor.id,
                "changed_at": self.now,
                "reason": f"Import of {Path(self.batch.file_name).name} (batch {self.batch.id})",
                "import_batch_id": self.batch.id,
            }
        )

    def flush_history(self) -> None:
        for table, rows in (
            (AssignmentChange.__table__, self.assignments),
            (ImportChange.__table__, self.changes),
            (AuditEntry.__table__, self.audit),
        ):
            bulk_insert(self.session, table, rows)  # type: ignore[arg-type]
            rows.clear()


def insert_with_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows and learn their ids, in order, with one statement.

    SQLite cannot return ids of a multi-row insert in parameter order except one row at a
    time, so there the ids are given explicitly: the batch already holds the write lock
    (it wrote its ImportBatch row first), so nobody else can take the same ids; they start
    above every id the table ever used, so a removed record's id never comes back.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        start = next_new_id(session, table)
        ids = list(range(start, start + len(rows)))
        bulk_insert(session, table, [dict(row, id=i) for row, i in zip(rows, ids, strict=True)])
        return ids
    result = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return list(result.scalars().all())


def _customer_row(values: dict[str, Any], derived: dict[str, Any]) -> dict[str, Any]:
    row = {column: values.get(column) for column in CUSTOMER_COLUMNS}
    row.update(derived)
    return row


def _create_staff(
    session: Session, plan: ImportPlan, writer: _Writer
) -> tuple[dict[str, int], list[str]]:
    from pypinyin import lazy_pinyin

    created: dict[str, int] = {}
    logins = set(session.scalars(select(User.login)))
    for name in sorted(plan.unknown_staff):
        base = "".join(lazy_pinyin(name)).lower()
        # Room for a number after it within the login column.
        base = "".join(ch for ch in base if ch.isalnum() or ch in "._-")[: _LOGIN_LENGTH - 4]
        base = base or "staff"
        login, n = base, 2
        while login in logins:
            login, n = f"{base}{n}", n + 1
        logins.add(login)
        user_id = session.execute(
            insert(User).returning(User.id),
            {
                "login": login,
                "full_name": name,
                "role": Role.SALES,
                "active": True,
                "failed_sign_ins": 0,
                "created_at": writer.now,
                "updated_at": writer.now,
            },
        ).scalar_one()
        created[name] = user_id
        writer.changes.append(
            writer._change("user", user_id, ChangeAction.CREATED, None, None, None)
        )
        writer.audit.append(
            {
                "at": writer.now,
                "user_id": writer.actor.id,
                "entity": "user",
                "entity_id": user_id,
                "customer_id": None,
                "action": ChangeAction.CREATED,
                "changes": {
                    "login": [None, login],
                    "full_name": [None, name],
                    "role": [None, "sales"],
                },
                "summary": f"{name} (created by import batch {writer.batch.id}; set a password to let them sign in)",
            }
        )
    return created, [f"{name} ({login})" for name, login in _logins(session, created)]


def _logins(session: Session, created: dict[str, int]) -> list[tuple[str, str]]:
    if not created:
        return []
    by_id = dict(
        session.execute(select(User.id, User.login).where(User.id.in_(created.values()))).all()
    )
    return [(name, by_id[uid]) for name, uid in created.items()]


def hold_import_lock(session: Session, progress: Progress) -> None:
    """Wait for this import's turn: until no other import is being written to the database.
    The turn lasts until the session's transaction ends.

    On PostgreSQL imports take turns on an advisory lock, waited for here a moment at a time
    so that Cancel still works. On SQLite the batch's first insert takes the file's write
    lock, which does the same: nothing to do here.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    take = text("SELECT pg_try_advisory_xact_lock(:key)").bindparams(key=IMPORT_LOCK_KEY)
    waiting_since: float | None = None
    while not session.execute(take).scalar_one():
        if waiting_since is None:
            waiting_since = time.monotonic()
            progress.report(0, 0, "Waiting for another import to finish…")
        elif time.monotonic() - waiting_since > IMPORT_WAIT_S:
            minutes = round(IMPORT_WAIT_S / 60)
            raise ImportQueueTooLong(
                f"Another import was still being written after {minutes} minutes of waiting, "
                "so nothing was imported. Import the file again once it has finished."
            )
        progress.check()
        time.sleep(_LOCK_POLL_S)


def refuse_rows_now_matching(session: Session, plan: ImportPlan) -> None:
    """Raise :class:`NewRowsMatchNow` when rows the preview found new match customers added
    or changed since the preview. Called in the import's turn, so all those are in sight."""
    if not any(r.outcome == Outcome.CREATE for r in plan.rows):
        return
    # A plan made without a mark is checked against the whole book.
    mark = plan.book_mark
    later = BookIndex.load_after(session, mark) if mark else BookIndex.load(session)
    if not later.customers:
        return
    found = rows_now_matching(plan, later)
    if not found:
        return
    row, match = found[0]
    row_number, row_name = row.row_number, str(row.values.scalars.get("name") or "")
    customer_id = match.customer_id
    customer_name = later.customers[customer_id].name
    reason = match.reason
    how = _how_it_came(session, customer_id, mark)
    if len(found) == 1:
        message = (
            f"Row {row_number} ('{row_name}') was new in the preview, but now matches "
            f"{customer_name} (smbcrm ID {customer_id}: {reason}), {how}. Importing it would "
            "add that customer twice, so nothing was imported. Preview the file again and "
            "import it."
        )
    else:
        rows = len(found)
        message = (
            f"{rows} rows that were new in the preview now match customers added or changed "
            f"since (first: row {row_number} '{row_name}' matches {customer_name}, smbcrm ID "
            f"{customer_id}: {reason}, {how}). Importing them would add those customers "
            "twice, so nothing was imported. Preview the file again and import it."
        )
    raise NewRowsMatchNow(len(found), row_number, customer_name, message)


def _how_it_came(session: Session, customer_id: int, mark: BookMark | None) -> str:
    """Who added or changed a customer after the preview, and when (for the message)."""
    who: str | None = None
    at: datetime | None = None
    by_batch = session.execute(
        select(ImportBatch.id, ImportChange.action, User.full_name, ImportBatch.started_at)
        .join(ImportBatch, ImportBatch.id == ImportChange.batch_id)
        .outerjoin(User, User.id == ImportBatch.user_id)
        .where(
            ImportChange.entity == "customer",
            ImportChange.entity_id == customer_id,
            ImportChange.batch_id > (mark.batch_id if mark else 0),
        )
        .order_by(ImportChange.batch_id.desc())
        .limit(1)
    ).first()
    if by_batch is not None:
        batch_id, action, who, at = by_batch
        verb = "added" if action == ChangeAction.CREATED else "changed"
        when = _local_minute(at)
        if who:
            return f"{verb} by import batch {batch_id} of {who} at {when}"
        return f"{verb} by import batch {batch_id} at {when}"
    if mark is None or customer_id > mark.customer_id:
        verb = "added"
        created = session.execute(
            select(User.full_name, Customer.created_at)
            .select_from(Customer)
            .outerjoin(User, User.id == Customer.created_by_id)
            .where(Customer.id == customer_id)
        ).first()
        if created is not None:
            who, at = created
    else:
        verb = "changed"
        audited = session.execute(
            select(User.full_name, AuditEntry.at)
            .select_from(AuditEntry)
            .outerjoin(User, User.id == AuditEntry.user_id)
            .where(AuditEntry.customer_id == customer_id)
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).first()
        if audited is not None:
            who, at = audited
        else:
            at = session.scalar(select(Customer.updated_at).where(Customer.id == customer_id))
    when = _local_minute(at)
    return f"{verb} by {who} at {when}" if who else f"{verb} at {when}"


def _local_minute(moment: datetime | None) -> str:
    """A stored (UTC) moment as this desktop's clock shows it, to the minute."""
    if moment is None:
        return "?"
    return moment.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


def apply_plan(
    db: Database,
    actor_id: int,
    plan: ImportPlan,
    *,
    progress: Progress | None = None,
) -> BatchResult:
    """Write the plan as one batch. Undecided possible duplicates are left for review.

    A preview is imported once (:func:`importing_once`). When another import writes the
    same customers meanwhile, nothing is written and :class:`ChangedMeanwhile` says so; when
    rows the preview found new match customers added or changed since the preview, nothing
    is written and :class:`NewRowsMatchNow` says so.
    """
    with importing_once(plan), collector_paused():
        try:
            result = _apply(db, actor_id, plan, progress)
        # Bulk writes on SQLite go to the driver directly, so its own error can come too.
        except (IntegrityError, sqlite3.IntegrityError) as exc:
            raise ChangedMeanwhile() from exc
        plan.imported_batch_id = result.batch_id
        return result


def _apply(db: Database, actor_id: int, plan: ImportPlan, progress: Progress | None) -> BatchResult:
    progress = progress or Progress()
    if plan.kind != ImportKind.CUSTOMERS:
        raise SmbcrmError("This import writes customers; order imports use the orders import.")
    conflict = code_conflict(plan)
    if conflict is not None:
        raise ImportRefused(conflict)
    errors = plan.error_rows
    if plan.options.all_or_nothing and errors:
        raise ImportRefused(
            f"{len(errors)} of {len(plan.rows)} rows have problems (first: row "
            f"{errors[0].row_number}, {errors[0].problem_text()}). Nothing was imported: fix "
            "them and import again, or import without all-or-nothing to skip those rows."
        )
    with db.session(user_id=actor_id, audit=False) as session:
        actor = session.get_one(User, actor_id)
        require(actor, Permission.IMPORT_CUSTOMERS)
        # Before the batch is numbered: batch ids then follow the order imports commit in.
        hold_import_lock(session, progress)
        now = utcnow()
        batch = ImportBatch(
            kind=plan.kind,
            source_system=plan.source_system,
            file_name=str(plan.path),
            sheet=plan.sheet,
            mapping=plan.mapping_record(),
            options={
                "on_duplicate": plan.options.on_duplicate.value,
                "all_or_nothing": plan.options.all_or_nothing,
                "day_first": plan.options.day_first,
                "mapping_name": plan.mapping.name,
            },
            status=BatchStatus.APPLIED,
            user_id=actor_id,
            started_at=now,
        )
        session.add(batch)
        session.flush()
        # Only now, in this import's turn (on SQLite the batch's insert just took it), is
        # every customer another import or person saved since the preview in sight.
        refuse_rows_now_matching(session, plan)
        writer = _Writer(session, batch, actor, now)
        created_staff: list[str] = []
        if plan.options.create_missing_staff and plan.unknown_staff:
            new_staff, created_staff = _create_staff(session, plan, writer)
            for row in plan.rows:
                if row.values.owner_text in new_staff:
                    row.values.scalars["owner_id"] = new_staff[row.values.owner_text]
                    row.warnings = [w for w in row.warnings if "unassigned pool" not in w]
                    if row.effective == Outcome.UNCHANGED and row.customer_id:
                        # The new owner is a change after all: the update compares again.
                        row.outcome = Outcome.UPDATE
        creates = [r for r in plan.rows if r.effective == Outcome.CREATE]
        updates = [r for r in plan.rows if r.effective == Outcome.UPDATE]
        reviews = [r for r in plan.rows if r.effective in (Outcome.REVIEW, Outcome.DUPLICATE)]
        total = len(creates) + len(updates) + len(reviews)
        done = updated = 0
        progress.report(done, total, "Writing new customers…")
        for chunk in _chunks(creates):
            _write_creates(writer, chunk, actor_id)
            writer.flush_history()
            done += len(chunk)
            progress.report(done, total, "Writing new customers…")
        for chunk in _chunks(updates):
            updated += _write_updates(writer, chunk, plan)
            writer.flush_history()
            done += len(chunk)
            progress.report(done, total, "Updating customers…")
        for chunk in _chunks(reviews):
            session.execute(
                insert(ImportReviewItem),
                [
                    {
                        "batch_id": batch.id,
                        "row_number": r.row_number,
                        "values": r.values.to_json(),
                        "candidate_id": r.customer_id,
                        "reason": r.reason[:500],
                    }
                    for r in chunk
                ],
            )
            done += len(chunk)
        record_problems(session, batch, plan.header, errors)
        progress.report(total, total, "Finishing…")
        counts = plan.counts
        batch.created_count = len(creates)
        batch.updated_count = updated
        batch.unchanged_count = (
            counts[Outcome.UNCHANGED] + counts[Outcome.SAME_AS_ROW] + len(updates) - updated
        )
        batch.skipped_count = counts[Outcome.SKIP] + len(reviews)
        batch.error_count = len(errors)
        batch.finished_at = utcnow()
        session.flush()
        # The last chance to stop: after this the batch is committed.
        progress.check()
        result = BatchResult(
            batch_id=batch.id,
            created=len(creates),
            updated=updated,
            unchanged=counts[Outcome.UNCHANGED] + len(updates) - updated,
            same_as_row=counts[Outcome.SAME_AS_ROW],
            skipped=counts[Outcome.SKIP],
            review=len(reviews),
            errors=len(errors),
            created_staff=created_staff,
        )
    return result


def _write_creates(writer: _Writer, rows: Sequence[RowPlan], actor_id: int) -> None:
    customer_rows: list[dict[str, Any]] = []
    extras: list[tuple[list[ContactData], list[PointData]]] = []
    for row in rows:
        values: dict[str, Any] = {c: row.values.scalars.get(c) for c in CUSTOMER_COLUMNS}
        values["kind"] = values["kind"] or CustomerKind.COMPANY
        values["status"] = values["status"] or CustomerStatus.PROSPECT
        if values["kind"] != CustomerKind.PERSON:
            values["birthday"] = None
        contacts = _new_contacts(row, None)
        points = _new_points(row, set())
        external = [row.values.external_id] if row.values.external_id else []
        record = _customer_row(values, derived_columns(values, points, contacts, external))
        record.update(
            custom_fields={},
            version=1,
            created_at=writer.now,
            updated_at=writer.now,
            created_by_id=actor_id,
        )
        customer_rows.append(record)
        extras.append((contacts, points))
    ids = insert_with_ids(writer.session, Customer.__table__, customer_rows)  # type: ignore[arg-type]
    children: list[tuple[str, dict[str, Any]]] = []
    numbers: list[int] = []
    for customer_id, row, record, (contacts, points) in zip(
        ids, rows, customer_rows, extras, strict=True
    ):
        row.customer_id = customer_id
        kids = writer.children(
            customer_id,
            row,
            contacts,
            points,
            row.values.external_id,
            list(dict.fromkeys(row.values.tags)),
        )
        children.extend(kids)
        numbers.extend([row.row_number] * len(kids))
        writer.changes.append(
            writer._change("customer", customer_id, ChangeAction.CREATED, None, row.row_number, 1)
        )
        if record["owner_id"] is not None:
            writer.owner_change(customer_id, None, record["owner_id"])
        writer.audit.append(
            customer_audit_row(
                writer.now,
                actor_id,
                customer_id,
                ChangeAction.CREATED,
                {c: [None, _plain(record[c])] for c in CUSTOMER_COLUMNS if record[c] is not None},
                f"{record['name']} (import batch {writer.batch.id}, row {row.row_number})",
            )
        )
    writer.write_children(children, numbers, record=False)


def _write_updates(writer: _Writer, rows: Sequence[RowPlan], plan: ImportPlan) -> int:
    """Update the matched customers, compared afresh with what the book holds now; returns
    how many changed. A customer edited by someone else since the preview stops the batch."""
    session = writer.session
    # Read in the batch's own transaction: a customer an earlier row updated shows that.
    snapshots = load_snapshots(session, [r.customer_id for r in rows if r.customer_id])
    params: list[dict[str, Any]] = []
    children: list[tuple[str, dict[str, Any]]] = []
    numbers: list[int] = []
    for row in rows:
        assert row.customer_id is not None
        snapshot = snapshots.get(row.customer_id)
        expected = writer.versions.get(row.customer_id, row.base_version)
        if snapshot is None or snapshot.version != expected:
            name = snapshot.name if snapshot else f"customer {row.customer_id}"
            raise PreviewOutdated(name, row.row_number)
        row.changes = changes_for(row.values, snapshot, plan.source_system)
        if not row.changes:
            continue
        merged = dict(snapshot.values)
        before: dict[str, Any] = {"version": snapshot.version}
        changed: dict[str, list[Any]] = {}
        for column, (old, new) in row.changes.items():
            if column in CUSTOMER_COLUMNS:
                merged[column] = new
                before[column] = _plain(old)
                changed[column] = [_plain(old), _plain(new)]
        existing = {p.key for p in snapshot.points if p.key}
        points = _new_points(row, existing)
        contacts = _new_contacts(row, snapshot)
        external = row.values.external_id if "external_id" in row.changes else None
        tags = [t for t in dict.fromkeys(row.values.tags) if t not in snapshot.tags]
        for label, items in (
            ("phones", [p.value for p in points if p.kind.is_phone]),
            ("emails", [p.value for p in points if p.kind == ContactPointKind.EMAIL]),
            ("contacts", [c.name for c in contacts]),
            ("tags", tags),
        ):
            if items:
                changed[label] = [None, items]
        if external:
            changed["external_id"] = [None, f"{plan.source_system}:{external}"]
        derived = derived_columns(
            merged,
            [*snapshot.points, *points],
            [*snapshot.contacts, *contacts],
            [k for _s, k in snapshot.external_ids] + ([external] if external else []),
        )
        full = _customer_row(merged, derived)
        # Only what changed is written: each column set costs every index that holds it.
        record = {k: v for k, v in full.items() if snapshot.values.get(k, _MISSING) != v}
        record.update(
            b_id=row.customer_id,
            b_version=snapshot.version,
            version=snapshot.version + 1,
            updated_at=writer.now,
        )
        params.append(record)
        kids = writer.children(row.customer_id, row, contacts, points, external, tags)
        children.extend(kids)
        numbers.extend([row.row_number] * len(kids))
        writer.changes.append(
            writer._change(
                "customer",
                row.customer_id,
                ChangeAction.UPDATED,
                before,
                row.row_number,
                snapshot.version + 1,
            )
        )
        if "owner_id" in row.changes:
            writer.owner_change(
                row.customer_id, snapshot.values.get("owner_id"), merged["owner_id"]
            )
        writer.audit.append(
            customer_audit_row(
                writer.now,
                writer.actor.id,
                row.customer_id,
                ChangeAction.UPDATED,
                changed,
                f"{merged['name']} (import batch {writer.batch.id}, row {row.row_number})",
            )
        )
        # A later row about the same customer compares against what this batch wrote.
        snapshot.values = {**merged, **derived}
        snapshot.version += 1
        snapshot.points.extend(points)
        snapshot.contacts.extend(contacts)
        snapshot.tags.extend(tags)
        if external:
            snapshot.external_ids.append((plan.source_system, external))
        writer.versions[row.customer_id] = snapshot.version
    # One statement per set of changed columns; a customer updated by several rows gets
    # its updates in later waves, so they run in the rows' order.
    waves: list[dict[tuple[str, ...], list[dict[str, Any]]]] = []
    updates_of: Counter[int] = Counter()
    for record in params:
        wave = updates_of[record["b_id"]]
        updates_of[record["b_id"]] += 1
        if wave == len(waves):
            waves.append({})
        waves[wave].setdefault(tuple(sorted(record)), []).append(record)
    written = 0
    for groups in waves:
        for group in groups.values():
            written += bulk_update(
                session,
                Customer.__table__,  # type: ignore[arg-type]
                group,
                where={"id": "b_id", "version": "b_version"},
            )
    if written != len(params):
        raise ConflictError(
            "Someone changed customers in this import while it ran; nothing was imported. "
            "Import the file again."
        )
    writer.write_children(children, numbers)
    return len(params)
