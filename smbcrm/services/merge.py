"""Merge customers that are one and the same, and undo a merge exactly.

A merge keeps one customer (the *survivor*) and turns the others into *tombstones* that
point at it (``Customer.merged_into_id``): every order, contact, phone and e-mail,
activity, follow-up, external id, tag, team place, ownership record, conversion, service
case, rating and import-review candidate moves to the survivor; customers referred by an
absorbed one, and older tombstones pointing at one, now point at the survivor. Each field
of the survivor is taken from the customer a person chose (defaults: a non-empty value,
then the most recently updated customer). Notes are never lost: the others' notes are
appended to the chosen ones.

Records move with set-based ``UPDATE … WHERE id IN (…)`` statements, so a customer with
thousands of orders merges in a moment. The ``Merge`` row keeps a snapshot of exactly what
moved (record ids by where they came from), the phones and e-mails dropped because the
survivor already had them, and the survivor's fields before and after, which is all that
:func:`undo_merge` needs to put everything back, even after later imports and edits:

* records that moved are moved back (also when edited since: they belong to the absorbed
  customer); records created on the survivor after the merge stay with it;
* a survivor field the merge overwrote is restored, unless it was edited after the merge:
  then :class:`MergeUndoConflict` asks whether to keep the later value or restore the old
  one, and the caller runs the undo again with the answers;
* a merge whose survivor was itself merged away later is refused until that later merge is
  undone; two merges into the same survivor can be undone in either order.

Duplicate-review pairs between the merged customers become ``MERGED``; undoing the merge
gives them back the status they had (open, later…), so the review queue is as it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from smbcrm.errors import ConflictError, NotFoundError, SmbcrmError, ValidationError
from smbcrm.models import (
    Activity,
    AssignmentChange,
    AuditEntry,
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
    DuplicatePair,
    DuplicateStatus,
    ExternalId,
    FollowUp,
    ImportBatch,
    ImportChange,
    ImportReviewItem,
    Merge,
    Order,
    SatisfactionRating,
    Tag,
    Tier,
    User,
    customer_tags,
    customer_team,
    utcnow,
)
from smbcrm.services.permissions import Permission, require

# Keeps every id list well under the engines' limits on bound parameters.
CHUNK = 2000
SNAPSHOT_FORMAT = 1


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


# What moves with a merge: snapshot key, table, the column that names the customer.
MOVED_RECORDS: tuple[tuple[str, Table, str], ...] = (
    ("orders", _table(Order), "customer_id"),
    ("contacts", _table(Contact), "customer_id"),
    ("contact_points", _table(ContactPoint), "customer_id"),
    ("external_ids", _table(ExternalId), "customer_id"),
    ("activities", _table(Activity), "customer_id"),
    ("follow_ups", _table(FollowUp), "customer_id"),
    ("assignment_changes", _table(AssignmentChange), "customer_id"),
    ("conversions", _table(Conversion), "customer_id"),
    ("cases", _table(Case), "customer_id"),
    ("ratings", _table(SatisfactionRating), "customer_id"),
    ("review_items", _table(ImportReviewItem), "candidate_id"),
)
_CUSTOMERS = _table(Customer)
_POINTS = _table(ContactPoint)
_CONTACTS = _table(Contact)
_PAIRS = _table(DuplicatePair)

# The survivor's fields a person chooses between, in the order the merge window shows them.
FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("kind", "Kind"),
    ("status", "Status"),
    ("owner_id", "Owner"),
    ("tier", "Tier"),
    ("source", "Source"),
    ("referred_by_id", "Referred by"),
    ("birthday", "Birthday"),
    ("tax_id", "Tax ID"),
    ("website", "Website"),
    ("country", "Country"),
    ("province", "Province"),
    ("city", "City"),
    ("district", "District"),
    ("address", "Address"),
    ("postcode", "Postcode"),
    ("notes", "Notes"),
)
_LABELS = dict(FIELDS)
_ADDRESS_PARTS = ("country", "province", "city", "district", "address", "postcode")
CUSTOM_PREFIX = "custom_fields."
_STATUS_RANK = {CustomerStatus.PROSPECT: 0, CustomerStatus.LAPSED: 1, CustomerStatus.ACTIVE: 2}
_TIER_RANK = {Tier.C: 1, Tier.B: 2, Tier.A: 3}
_ENUMS: dict[str, type[Enum]] = {"kind": CustomerKind, "status": CustomerStatus, "tier": Tier}
KEEP, RESTORE = "keep", "restore"


# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class FieldChoice:
    field: str  # Customer attribute, e.g. "name", "city", "owner_id"; "custom_fields.<key>"
    label: str
    values: dict[int, str]  # customer id → the value as text ("" when empty)
    # Whose value is kept by default: a non-empty value, then the most recently updated
    # customer. Two exceptions where that would be wrong for the merged customer: status
    # takes the furthest along (active, lapsed, prospect) and tier the best, since the
    # survivor gets everyone's orders.
    default_id: int
    differs: bool


@dataclass(frozen=True)
class MergeSide:
    id: int
    name: str
    updated_at: datetime
    order_count: int
    contact_count: int


@dataclass(frozen=True)
class MergePreview:
    sides: list[MergeSide]
    survivor_id: int  # suggested (or the one asked for)
    fields: list[FieldChoice]
    # "orders", "contacts", "contact_points", "activities", "follow_ups", "external_ids",
    # "tags" (the survivor gains), "team" (members it gains), "assignment_changes",
    # "conversions", "cases", "ratings", "review_items", "referrals", "duplicate_points"
    # (phones and e-mails the survivor already has: dropped, and back on undo).
    moves: dict[str, int]


@dataclass(frozen=True)
class MergeResult:
    merge_id: int
    survivor_id: int
    absorbed_ids: list[int]
    moved: dict[str, int]


@dataclass(frozen=True)
class UndoQuestion:
    key: str  # the field, as in FieldChoice.field; answer with KEEP or RESTORE
    text: str
    options: tuple[tuple[str, str], ...]  # (answer value, label)


class MergeUndoConflict(SmbcrmError):
    """Later edits make part of an undo ambiguous; ``questions`` says which, with choices."""

    def __init__(self, merge_id: int, questions: list[UndoQuestion]) -> None:
        self.merge_id = merge_id
        self.questions = questions
        asked = " ".join(q.text for q in questions)
        super().__init__(
            f"Undoing merge {merge_id} needs {len(questions)} "
            f"{'answer' if len(questions) == 1 else 'answers'}: {asked}"
        )


@dataclass(frozen=True)
class UndoMergeResult:
    merge_id: int
    restored_ids: list[int]
    moved_back: dict[str, int]
    # What the undo could not put back exactly, in words (e.g. an owner who has left).
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MergeRow:
    id: int
    survivor_id: int
    survivor_name: str
    absorbed: list[tuple[int, str]]
    merged_at: datetime
    merged_by: str | None
    undone_at: datetime | None


# ---------------------------------------------------------------------------------------
# Values as text and as JSON


def _plain(value: Any) -> Any:
    """A field value as the snapshot stores it (JSON)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _typed(name: str, value: Any) -> Any:
    """A snapshot value back as the Customer attribute holds it."""
    if value is None:
        return None
    if name in _ENUMS:
        return _ENUMS[name](value)
    if name == "birthday":
        return date.fromisoformat(str(value)[:10])
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == {}


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


class _Names:
    """Staff and customer names for showing owner and referred-by values as text."""

    def __init__(self, session: Session, user_ids: Iterable[int], customer_ids: Iterable[int]):
        users = sorted({u for u in user_ids if u is not None})
        customers = sorted({c for c in customer_ids if c is not None})
        self.users: dict[int, tuple[str, bool]] = {}
        self.customers: dict[int, str] = {}
        for chunk in _chunks(users):
            for uid, name, active in session.execute(
                select(User.id, User.full_name, User.active).where(User.id.in_(chunk))
            ):
                self.users[uid] = (name, bool(active))
        for chunk in _chunks(customers):
            for cid, name in session.execute(
                select(Customer.id, Customer.name).where(Customer.id.in_(chunk))
            ):
                self.customers[cid] = name

    def text(self, name: str, value: Any) -> str:
        if _empty(value):
            return ""
        if name == "owner_id":
            user = self.users.get(value)
            if user is None:
                return f"staff {value}"
            name, active = user
            return name if active else f"{name} (left)"
        if name == "referred_by_id":
            return f"{self.customers.get(value, 'customer')} (ID {value})"
        if isinstance(value, Enum):
            return str(value.value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict | list):
            return ", ".join(str(v) for v in value)
        return str(value)


def _custom_text(value: Any) -> str:
    if _empty(value):
        return ""
    return str(value)


# ---------------------------------------------------------------------------------------
# Loading and checking the customers


def _load(session: Session, ids: Sequence[int]) -> dict[int, Customer]:
    found = session.scalars(
        select(Customer)
        .where(Customer.id.in_(list(ids)))
        .options(
            selectinload(Customer.contacts),
            selectinload(Customer.contact_points),
            selectinload(Customer.external_ids),
            selectinload(Customer.tags),
            selectinload(Customer.team),
        )
    ).all()
    return {c.id: c for c in found}


def _check_ids(session: Session, customer_ids: Sequence[int]) -> dict[int, Customer]:
    """The customers to merge, loaded, or a message saying what is wrong with the list."""
    ids = [int(i) for i in customer_ids]
    if len(ids) < 2:
        raise ValidationError(
            {"customers": "Choose at least two customers to merge: the one to keep and another."}
        )
    seen: set[int] = set()
    for cid in ids:
        if cid in seen:
            raise ValidationError(
                {"customers": f"Customer {cid} is listed twice; list each customer once."}
            )
        seen.add(cid)
    customers = _load(session, ids)
    missing = [str(i) for i in ids if i not in customers]
    if missing:
        raise NotFoundError(
            f"There is no customer with ID {', '.join(missing)}; check the numbers in the list."
        )
    for cid in ids:
        customer = customers[cid]
        if customer.merged_into_id is not None:
            raise ValidationError(
                {
                    "customers": f"{customer.name} (ID {cid}) was already merged into customer "
                    f"{customer.merged_into_id}; merge with that one instead."
                }
            )
        if customer.archived_at is not None:
            raise ValidationError(
                {
                    "customers": f"{customer.name} (ID {cid}) is archived; restore it first "
                    "if it should be merged."
                }
            )
    return customers


def _counts(session: Session, model: Any, column: Any, ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(
        select(column, func.count()).where(column.in_(list(ids))).group_by(column)
    )
    return {int(cid): int(n) for cid, n in rows}


def _suggest_survivor(customers: Sequence[Customer], orders: Mapping[int, int]) -> int:
    """The customer with most orders (its codes link the accounting system), then the oldest."""
    best = max(customers, key=lambda c: (orders.get(c.id, 0), len(c.contacts), -c.id))
    return best.id


# ---------------------------------------------------------------------------------------
# Choosing each field


def _by_recency(customers: Sequence[Customer], survivor_id: int) -> list[Customer]:
    """Most recently updated first; on a tie the survivor, then the lower id."""
    return sorted(
        customers,
        key=lambda c: (c.updated_at or datetime.min, c.id == survivor_id, -c.id),
        reverse=True,
    )


def _field_value(customer: Customer, name: str, merged_ids: set[int]) -> Any:
    value = getattr(customer, name)
    if name == "referred_by_id" and value in merged_ids:
        return None  # referred by one of the merged customers: would refer to itself
    return value


def _default_for(
    name: str,
    ordered: Sequence[Customer],
    merged_ids: set[int],
    names: _Names,
    address_source: int | None,
) -> int:
    values = {c.id: _field_value(c, name, merged_ids) for c in ordered}
    filled = [c for c in ordered if not _empty(values[c.id])]
    if not filled:
        return ordered[0].id if ordered else 0
    if name == "status":
        return max(filled, key=lambda c: _STATUS_RANK[values[c.id]]).id
    if name == "tier":
        return max(filled, key=lambda c: _TIER_RANK[values[c.id]]).id
    if name == "owner_id":
        active = [c for c in filled if names.users.get(values[c.id], ("", False))[1]]
        return (active or filled)[0].id
    # One address, not a street from one customer and a city from another.
    if name in _ADDRESS_PARTS and address_source is not None and not _empty(values[address_source]):
        return address_source
    return filled[0].id


def _field_choices(
    session: Session, customers: Sequence[Customer], survivor_id: int
) -> list[FieldChoice]:
    merged_ids = {c.id for c in customers}
    names = _Names(
        session,
        [c.owner_id for c in customers if c.owner_id is not None],
        [c.referred_by_id for c in customers if c.referred_by_id is not None],
    )
    ordered = _by_recency(customers, survivor_id)
    # The fullest address (then the newest) supplies every part it has.
    filled_parts = {c.id: sum(not _empty(getattr(c, p)) for p in _ADDRESS_PARTS) for c in ordered}
    fullest = max(ordered, key=lambda c: filled_parts[c.id]) if ordered else None
    address_source = fullest.id if fullest is not None and filled_parts[fullest.id] else None
    choices: list[FieldChoice] = []
    for name, label in FIELDS:
        values = {
            c.id: names.text(name, _field_value(c, name, merged_ids))
            for c in sorted(customers, key=lambda c: c.id != survivor_id)
        }
        choices.append(
            FieldChoice(
                field=name,
                label=label,
                values=values,
                default_id=_default_for(name, ordered, merged_ids, names, address_source),
                differs=len(set(values.values())) > 1,
            )
        )
    keys = sorted({k for c in customers for k in (c.custom_fields or {})})
    for key in keys:
        values = {
            c.id: _custom_text((c.custom_fields or {}).get(key))
            for c in sorted(customers, key=lambda c: c.id != survivor_id)
        }
        filled = [c for c in ordered if values[c.id]]
        choices.append(
            FieldChoice(
                field=CUSTOM_PREFIX + key,
                label=key,
                values=values,
                default_id=(filled or ordered)[0].id,
                differs=len(set(values.values())) > 1,
            )
        )
    return choices


def _chosen(
    choices: Sequence[FieldChoice], asked: Mapping[str, int] | None, merged_ids: set[int]
) -> dict[str, int]:
    picked = {c.field: c.default_id for c in choices}
    for name, cid in (asked or {}).items():
        if name not in picked:
            known = ", ".join(f for f, _ in FIELDS)
            raise ValidationError(
                {name: f"'{name}' is not a field the merge chooses ({known}, or custom fields)."}
            )
        if int(cid) not in merged_ids:
            raise ValidationError(
                {
                    name: f"Keep {_LABELS.get(name, name)} from one of the merged customers, "
                    f"not customer {cid}."
                }
            )
        picked[name] = int(cid)
    return picked


def _merged_notes(
    customers: Mapping[int, Customer], order: Sequence[int], first_id: int
) -> str | None:
    """The chosen notes first, then every other customer's notes, so none is lost."""
    first = (customers[first_id].notes or "").strip()
    parts = [first] if first else []
    for cid in [first_id, *[i for i in order if i != first_id]]:
        if cid == first_id:
            continue
        text = (customers[cid].notes or "").strip()
        if text and text not in parts and text not in first:
            parts.append(f"— From {customers[cid].name} (ID {cid}) —\n{text}")
    return "\n\n".join(parts) or None


def _resolved(
    customers: Mapping[int, Customer],
    order: Sequence[int],
    picked: Mapping[str, int],
) -> dict[str, Any]:
    """The survivor's fields after the merge (custom fields as one dict)."""
    merged_ids = set(customers)
    values: dict[str, Any] = {}
    for name, _label in FIELDS:
        if name == "notes":
            values[name] = _merged_notes(customers, order, picked[name])
        else:
            values[name] = _field_value(customers[picked[name]], name, merged_ids)
    custom: dict[str, Any] = dict(customers[order[0]].custom_fields or {})
    for name, cid in picked.items():
        if name.startswith(CUSTOM_PREFIX):
            key = name[len(CUSTOM_PREFIX) :]
            value = (customers[cid].custom_fields or {}).get(key)
            if _empty(value):
                custom.pop(key, None)
            else:
                custom[key] = value
    values["custom_fields"] = custom
    return values


# ---------------------------------------------------------------------------------------
# Preview


def _point_class(kind: ContactPointKind) -> str:
    return "phone" if ContactPointKind(kind).is_phone else ContactPointKind(kind).value


def _duplicate_points(survivor: Customer, others: Sequence[Customer]) -> list[ContactPoint]:
    """The others' own phones and e-mails the survivor (or an earlier other) already has.

    Only the customer's own points: a contact's phone stays with the contact.
    """
    have = {(_point_class(p.kind), p.key) for p in survivor.contact_points if p.key}
    dropped: list[ContactPoint] = []
    for other in others:
        for point in other.contact_points:
            if not point.key:
                continue
            key = (_point_class(point.kind), point.key)
            if point.contact_id is None and key in have:
                dropped.append(point)
            have.add(key)
    return dropped


def merge_preview(
    session: Session, customer_ids: Sequence[int], survivor_id: int | None = None
) -> MergePreview:
    """What merging these customers would do: each side, each field's choice, what moves."""
    customers = _check_ids(session, customer_ids)
    ids = list(customers)
    orders = _counts(session, Order, Order.customer_id, ids)
    if survivor_id is None:
        survivor_id = _suggest_survivor([customers[i] for i in customer_ids], orders)
    elif survivor_id not in customers:
        raise ValidationError(
            {"survivor": f"Customer {survivor_id} to keep must be one of the merged customers."}
        )
    order = [survivor_id, *[int(i) for i in customer_ids if int(i) != survivor_id]]
    survivor = customers[survivor_id]
    others = [customers[i] for i in order[1:]]
    other_ids = [c.id for c in others]
    sides = [
        MergeSide(
            id=c.id,
            name=c.name,
            updated_at=c.updated_at,
            order_count=orders.get(c.id, 0),
            contact_count=len(c.contacts),
        )
        for c in (customers[i] for i in order)
    ]
    moves: dict[str, int] = {}
    for key, table, column in MOVED_RECORDS:
        col = table.c[column]
        moves[key] = int(
            session.scalar(select(func.count()).select_from(table).where(col.in_(other_ids))) or 0
        )
    dropped = _duplicate_points(survivor, others)
    moves["contact_points"] -= len(dropped)
    moves["duplicate_points"] = len(dropped)
    survivor_tags = {t.id for t in survivor.tags}
    moves["tags"] = len({t.id for c in others for t in c.tags} - survivor_tags)
    survivor_team = {u.id for u in survivor.team}
    moves["team"] = len({u.id for c in others for u in c.team} - survivor_team)
    moves["referrals"] = int(
        session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.referred_by_id.in_(other_ids), Customer.id.not_in(ids))
        )
        or 0
    )
    return MergePreview(
        sides=sides,
        survivor_id=survivor_id,
        fields=_field_choices(session, [customers[i] for i in order], survivor_id),
        moves=moves,
    )


# ---------------------------------------------------------------------------------------
# Merge


def _ids_by_customer(
    session: Session, table: Table, column: str, customer_ids: Sequence[int]
) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    col = table.c[column]
    for rid, cid in session.execute(
        select(table.c.id, col).where(col.in_(list(customer_ids))).order_by(table.c.id)
    ):
        found[int(cid)].append(int(rid))
    return found


def _move(
    session: Session,
    table: Table,
    column: str,
    ids: Sequence[int],
    to_id: int,
    *,
    only_from: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """Point rows ``ids`` at customer ``to_id``; with ``only_from``, only rows still there."""
    moved = 0
    col = table.c[column]
    for chunk in _chunks(ids):
        stmt = update(table).where(table.c.id.in_(chunk))
        if only_from is not None:
            stmt = stmt.where(col == only_from)
        result = session.execute(stmt.values({column: to_id, **(extra or {})}))
        moved += int(result.rowcount)  # type: ignore[attr-defined]
    return moved


def _row_dict(session: Session, table: Table, ids: Sequence[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        for row in session.execute(select(table).where(table.c.id.in_(chunk))).mappings():
            rows.append({k: _plain(v) for k, v in row.items()})
    return rows


def _expire_after_bulk(session: Session, keep: Iterable[Customer]) -> None:
    """Forget what bulk statements changed underneath the ORM.

    The merged customers keep their loaded columns (so the version they were read at still
    guards against a concurrent edit); only their collections are read again.
    """
    kept = {id(c) for c in keep}
    for obj in list(session.identity_map.values()):
        if id(obj) in kept:
            session.expire(obj, ["contacts", "contact_points", "external_ids", "tags", "team"])
        elif isinstance(
            obj,
            Customer
            | Contact
            | ContactPoint
            | ExternalId
            | Order
            | Activity
            | FollowUp
            | AssignmentChange
            | Conversion
            | Case
            | SatisfactionRating
            | ImportReviewItem
            | DuplicatePair
            | Tag,
        ):
            session.expire(obj)


def _flush_unaudited(session: Session, what: str) -> None:
    """Flush without the per-field audit rows: merge and undo write their own entries."""
    before = session.info.get("audit", True)
    session.info["audit"] = False
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(
            f"Someone changed one of these customers while the {what} ran; nothing was "
            "changed. Reload and try again."
        ) from exc
    finally:
        session.info["audit"] = before


def _audit(
    session: Session,
    actor_id: int | None,
    customer: Customer,
    action: ChangeAction,
    changes: dict[str, list[Any]],
    summary: str,
) -> AuditEntry:
    entry = AuditEntry(
        user_id=actor_id,
        entity="customer",
        entity_id=customer.id,
        customer_id=customer.id,
        action=action,
        changes=changes,
        summary=summary[:1000],
    )
    session.add(entry)
    return entry


def _active_user(session: Session, user_id: int | None) -> bool:
    if user_id is None:
        return True
    user = session.get(User, user_id)
    return user is not None and user.active


def _clear_extra_primaries(
    survivor: Customer, others: Sequence[Customer], dropped_ids: set[int]
) -> tuple[list[int], list[int]]:
    """Contacts and points whose primary flag goes: the survivor keeps its own primaries."""
    contact_has = any(c.is_primary for c in survivor.contacts)
    point_has = {_point_class(p.kind) for p in survivor.contact_points if p.is_primary}
    contacts: list[int] = []
    points: list[int] = []
    for other in others:
        for contact in other.contacts:
            if contact.is_primary:
                if contact_has:
                    contacts.append(contact.id)
                contact_has = True
        first_here: set[str] = set()
        for point in other.contact_points:
            if not point.is_primary or point.id in dropped_ids:
                continue
            cls = _point_class(point.kind)
            if cls in point_has and cls not in first_here:
                points.append(point.id)
            else:
                first_here.add(cls)
        point_has |= first_here
    return contacts, points


def merge_customers(
    session: Session,
    survivor_id: int,
    other_ids: Sequence[int],
    actor: User | None,
    *,
    choices: Mapping[str, int] | None = None,
) -> MergeResult:
    """Merge ``other_ids`` into ``survivor_id`` in the caller's transaction (not committed).

    ``choices`` maps a field (see :data:`FIELDS`, or ``custom_fields.<key>``) to the customer
    whose value the survivor keeps; fields left out take the preview's default.
    """
    require(actor, Permission.MERGE)
    actor_id = actor.id if actor is not None else None
    session.flush()  # whatever the caller changed is written (and audited) the normal way
    order = [int(survivor_id), *[int(i) for i in other_ids]]
    customers = _check_ids(session, order)
    survivor = customers[order[0]]
    others = [customers[i] for i in order[1:]]
    absorbed = [c.id for c in others]
    merged_ids = set(order)
    field_choices = _field_choices(session, [customers[i] for i in order], survivor.id)
    picked = _chosen(field_choices, choices, merged_ids)
    after = _resolved(customers, order, picked)
    if after["owner_id"] != survivor.owner_id and not _active_user(session, after["owner_id"]):
        raise ValidationError(
            {"owner_id": "The chosen owner has left the company; keep an active salesperson."}
        )
    before = {name: getattr(survivor, name) for name, _ in FIELDS}
    before["custom_fields"] = dict(survivor.custom_fields or {})

    now = utcnow()
    merge = Merge(
        survivor_id=survivor.id,
        absorbed_ids=absorbed,
        snapshot={},
        merged_by_id=actor_id,
        merged_at=now,
    )
    session.add(merge)
    session.flush()

    # Phones and e-mails the survivor already has are dropped, remembered for the undo.
    dropped = _duplicate_points(survivor, others)
    dropped_ids = {p.id for p in dropped}
    dropped_rows = _row_dict(session, _POINTS, sorted(dropped_ids))
    cleared_contacts, cleared_points = _clear_extra_primaries(survivor, others, dropped_ids)
    survivor_tags = {t.id for t in survivor.tags}
    survivor_team = {u.id for u in survivor.team}
    absorbed_tags = {str(c.id): sorted(t.id for t in c.tags) for c in others}
    absorbed_team = {str(c.id): sorted(u.id for u in c.team) for c in others}

    moved: dict[str, dict[str, list[int]]] = {}
    counts: dict[str, int] = {}
    if dropped_ids:
        session.execute(delete(_POINTS).where(_POINTS.c.id.in_(sorted(dropped_ids))))
    for key, table, column in MOVED_RECORDS:
        found = _ids_by_customer(session, table, column, absorbed)
        moved[key] = {str(cid): ids for cid, ids in found.items()}
        all_ids = [i for ids in found.values() for i in ids]
        counts[key] = _move(session, table, column, all_ids, survivor.id)
    for chunk in _chunks(cleared_contacts):
        session.execute(update(_CONTACTS).where(_CONTACTS.c.id.in_(chunk)).values(is_primary=False))
    for chunk in _chunks(cleared_points):
        session.execute(update(_POINTS).where(_POINTS.c.id.in_(chunk)).values(is_primary=False))

    # Tags and the account team: the survivor gets the union.
    gained_tags = sorted({t for ids in absorbed_tags.values() for t in ids} - survivor_tags)
    session.execute(delete(customer_tags).where(customer_tags.c.customer_id.in_(absorbed)))
    if gained_tags:
        session.execute(
            insert(customer_tags), [{"customer_id": survivor.id, "tag_id": t} for t in gained_tags]
        )
    new_owner = after["owner_id"]
    team_after = ({u for ids in absorbed_team.values() for u in ids} | survivor_team) - (
        {new_owner} if new_owner is not None else set()
    )
    gained_team = sorted(team_after - survivor_team)
    lost_team = sorted(survivor_team - team_after)  # the new owner leaves the team
    session.execute(delete(customer_team).where(customer_team.c.customer_id.in_(absorbed)))
    if lost_team:
        session.execute(
            delete(customer_team).where(
                customer_team.c.customer_id == survivor.id, customer_team.c.user_id.in_(lost_team)
            )
        )
    if gained_team:
        session.execute(
            insert(customer_team), [{"customer_id": survivor.id, "user_id": u} for u in gained_team]
        )

    # Others pointing at an absorbed customer now point at the survivor.
    bump = {"version": _CUSTOMERS.c.version + 1, "updated_at": now}
    referrals = _others_pointing(session, Customer.referred_by_id, absorbed, merged_ids)
    tombstones = _others_pointing(session, Customer.merged_into_id, absorbed, merged_ids)
    for cid, ids in referrals.items():
        _move(
            session, _CUSTOMERS, "referred_by_id", ids, survivor.id, only_from=int(cid), extra=bump
        )
    for cid, ids in tombstones.items():
        _move(
            session, _CUSTOMERS, "merged_into_id", ids, survivor.id, only_from=int(cid), extra=bump
        )

    pairs = _pairs_between(session, order)
    for chunk in _chunks([p["id"] for p in pairs]):
        session.execute(
            update(_PAIRS)
            .where(_PAIRS.c.id.in_(chunk))
            .values(status=DuplicateStatus.MERGED, decided_by_id=actor_id, decided_at=now)
        )

    _expire_after_bulk(session, customers.values())

    # The survivor's fields; a new owner is recorded like any change of owner.
    assignment_id: int | None = None
    if new_owner != survivor.owner_id:
        change = AssignmentChange(
            customer_id=survivor.id,
            from_user_id=survivor.owner_id,
            to_user_id=new_owner,
            changed_by_id=actor_id,
            changed_at=now,
            reason=f"Merge {merge.id}: kept the owner of customer {picked['owner_id']}",
        )
        session.add(change)
    else:
        change = None
    for name, _label in FIELDS:
        if getattr(survivor, name) != after[name]:
            setattr(survivor, name, after[name])
    if dict(survivor.custom_fields or {}) != after["custom_fields"]:
        survivor.custom_fields = after["custom_fields"]
    survivor.updated_at = now  # also recomputes its list columns and search text
    for other in others:
        other.merged_into_id = survivor.id
        other.updated_at = now
    _flush_unaudited(session, "merge")
    if change is not None:
        assignment_id = change.id
    after_plain = {name: _plain(getattr(survivor, name)) for name, _ in FIELDS}
    after_plain["custom_fields"] = dict(survivor.custom_fields or {})
    before_plain = {name: _plain(value) for name, value in before.items()}

    names = ", ".join(f"{c.name} (ID {c.id})" for c in others)
    changes: dict[str, list[Any]] = {
        name: [before_plain[name], after_plain[name]]
        for name in before_plain
        if before_plain[name] != after_plain[name]
    }
    changes["merged"] = [None, names]
    entry = _audit(
        session, actor_id, survivor, ChangeAction.MERGED, changes, f"{survivor.name} ← {names}"
    )
    for other in others:
        _audit(
            session,
            actor_id,
            other,
            ChangeAction.MERGED,
            {"merged_into_id": [None, survivor.id]},
            f"{other.name} merged into {survivor.name} (ID {survivor.id}), merge {merge.id}",
        )
    session.flush()

    counts["contact_points"] = counts.get("contact_points", 0)
    counts["duplicate_points"] = len(dropped_rows)
    counts["tags"] = len(gained_tags)
    counts["team"] = len(gained_team)
    counts["referrals"] = sum(len(v) for v in referrals.values())
    counts["tombstones"] = sum(len(v) for v in tombstones.values())
    counts["duplicate_pairs"] = len(pairs)
    merge.snapshot = {
        "format": SNAPSHOT_FORMAT,
        "order": order,
        "survivor": {
            "before": before_plain,
            "after": after_plain,
            "version_after": survivor.version,
            "audit_id": entry.id,
            "assignment_change_id": assignment_id,
            "team_gained": gained_team,
            "team_lost": lost_team,
            "tags_gained": gained_tags,
        },
        "absorbed": {
            str(c.id): {
                "name": c.name,
                "tags": absorbed_tags[str(c.id)],
                "team": absorbed_team[str(c.id)],
            }
            for c in others
        },
        "moved": moved,
        "dropped_points": dropped_rows,
        "primary_cleared": {"contacts": cleared_contacts, "contact_points": cleared_points},
        "referrals": referrals,
        "tombstones": tombstones,
        "duplicate_pairs": pairs,
        "counts": counts,
    }
    session.flush()
    return MergeResult(merge.id, survivor.id, absorbed, counts)


def _others_pointing(
    session: Session, column: Any, targets: Sequence[int], exclude: set[int]
) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for cid, target in session.execute(
        select(Customer.id, column)
        .where(column.in_(list(targets)), Customer.id.not_in(sorted(exclude)))
        .order_by(Customer.id)
    ):
        found[str(target)].append(int(cid))
    return dict(found)


def _pairs_between(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            DuplicatePair.id,
            DuplicatePair.status,
            DuplicatePair.decided_by_id,
            DuplicatePair.decided_at,
        ).where(
            DuplicatePair.customer_a_id.in_(list(ids)), DuplicatePair.customer_b_id.in_(list(ids))
        )
    )
    return [
        {"id": pid, "status": _plain(status), "decided_by_id": by, "decided_at": _plain(at)}
        for pid, status, by, at in rows
    ]


# ---------------------------------------------------------------------------------------
# Undo


def _later_change(
    session: Session, customer_id: int, after_entry: int, name: str
) -> tuple[str | None, datetime | None]:
    """Who changed a survivor field after the merge, and when (from the audit trail)."""
    key = name.split(".", 1)[0]
    rows = session.execute(
        select(AuditEntry.changes, AuditEntry.at, User.full_name)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(
            AuditEntry.entity == "customer",
            AuditEntry.entity_id == customer_id,
            AuditEntry.id > after_entry,
        )
        .order_by(AuditEntry.id.desc())
    )
    for changes, at, who in rows:
        if isinstance(changes, dict) and key in changes:
            return who, at
    return None, None


def _show(session: Session, name: str, value: Any, names: _Names) -> str:
    if name.startswith(CUSTOM_PREFIX):
        return _custom_text(value) or "nothing"
    text = names.text(name, _typed(name, value))
    if not text:
        return "nothing"
    return text if len(text) <= 80 else text[:77] + "…"


def _field_plan(
    session: Session,
    merge: Merge,
    survivor: Customer,
    answers: Mapping[str, str],
) -> tuple[dict[str, Any], list[UndoQuestion]]:
    """Survivor fields to restore (name → JSON value), and what must be asked first."""
    snap = merge.snapshot["survivor"]
    before: dict[str, Any] = snap["before"]
    after: dict[str, Any] = snap["after"]
    current = {name: _plain(getattr(survivor, name)) for name, _ in FIELDS}
    current_custom = dict(survivor.custom_fields or {})
    candidates: list[tuple[str, Any, Any, Any]] = []  # (key, before, after, now)
    for name, _label in FIELDS:
        if before.get(name) != after.get(name):
            candidates.append((name, before.get(name), after.get(name), current[name]))
    custom_before = before.get("custom_fields") or {}
    custom_after = after.get("custom_fields") or {}
    for key in sorted(set(custom_before) | set(custom_after)):
        if custom_before.get(key) != custom_after.get(key):
            candidates.append(
                (CUSTOM_PREFIX + key, custom_before.get(key), custom_after.get(key),
                 current_custom.get(key))
            )  # fmt: skip
    # Fields the merge left alone that an import changed since: its row may have matched
    # the survivor only through a code or phone one of the absorbed customers brought, so
    # whether the change belongs to the survivor is the person's call.
    asked_keys = {key for key, *_values in candidates}
    imported = _imported_since(session, survivor.id, merge.merged_at)
    by_import = [
        (name, after.get(name), current[name], imported[name])
        for name, _label in FIELDS
        if name in imported and name not in asked_keys and current[name] != after.get(name)
    ]
    owners = [v for k, b, a, n in candidates if k == "owner_id" for v in (b, a, n)]
    owners += [v for k, at_merge, n, _b in by_import if k == "owner_id" for v in (at_merge, n)]
    names = _Names(
        session,
        [v for v in owners if v is not None],
        [
            v
            for k, b, a, n in candidates
            if k == "referred_by_id"
            for v in (b, a, n)
            if v is not None
        ],
    )
    restore: dict[str, Any] = {}
    questions: list[UndoQuestion] = []
    for key, old, merged_value, now_value in candidates:
        if now_value == merged_value:
            restore[key] = old
            continue
        if now_value == old:
            continue
        restoring = _answer(answers, key)
        if restoring is not None:
            if restoring:
                restore[key] = old
            continue
        label = _LABELS.get(
            key, key[len(CUSTOM_PREFIX) :] if key.startswith(CUSTOM_PREFIX) else key
        )
        shown_now = _show(session, key, now_value, names)
        shown_old = _show(session, key, old, names)
        who, at = _later_change(session, survivor.id, int(snap.get("audit_id") or 0), key)
        # One phrase for who and when, so it can be worded as a whole in another language.
        if who and at:
            by = f" by {who} on {at:%Y-%m-%d %H:%M}"
        elif who:
            by = f" by {who}"
        else:
            by = f" on {at:%Y-%m-%d %H:%M}" if at else ""
        questions.append(
            UndoQuestion(
                key=key,
                text=(
                    f"{label} was changed to “{shown_now}” after the merge{by}: keep "
                    f"“{shown_now}” on {survivor.name}, or restore “{shown_old}”?"
                ),
                options=((KEEP, f"Keep “{shown_now}”"), (RESTORE, f"Restore “{shown_old}”")),
            )
        )
    for key, at_merge, now_value, batch_id in by_import:
        restoring = _answer(answers, key)
        if restoring is not None:
            if restoring:
                restore[key] = at_merge
            continue
        label = _LABELS.get(key, key)
        shown_now = _show(session, key, now_value, names)
        shown_then = _show(session, key, at_merge, names)
        questions.append(
            UndoQuestion(
                key=key,
                text=(
                    f"{label} was changed to “{shown_now}” by import batch {batch_id} after "
                    "the merge; its row may have been about a customer this undo puts back: "
                    f"keep “{shown_now}” on {survivor.name}, or restore “{shown_then}”?"
                ),
                options=(
                    (KEEP, f"Keep “{shown_now}”"),
                    (RESTORE, f"Restore “{shown_then}”"),
                ),
            )
        )
    return restore, questions


def _answer(answers: Mapping[str, str], key: str) -> bool | None:
    """The person's answer to the question on ``key``: restore (True), keep (False), or
    not answered yet (None)."""
    answer = answers.get(key)
    if answer is None:
        return None
    if answer not in (KEEP, RESTORE):
        raise ValidationError(
            {key: f"Answer '{key}' with '{KEEP}' or '{RESTORE}', not '{answer}'."}
        )
    return answer == RESTORE


def _imported_since(session: Session, customer_id: int, since: datetime) -> dict[str, int]:
    """Customer fields imports changed after ``since`` (not undone): field → latest batch."""
    rows = session.execute(
        select(ImportChange.batch_id, ImportChange.before)
        .join(ImportBatch, ImportBatch.id == ImportChange.batch_id)
        .where(
            ImportChange.entity == "customer",
            ImportChange.entity_id == customer_id,
            ImportChange.action == ChangeAction.UPDATED,
            ImportBatch.started_at >= since,
            ImportBatch.status != BatchStatus.UNDONE,
        )
        .order_by(ImportChange.id)
    )
    changed: dict[str, int] = {}
    for batch_id, before in rows:
        for key in before or {}:
            changed[str(key)] = int(batch_id)
    return changed


def _links(session: Session, column: Any, customer_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(customer id, tag or user id) rows of ``customer_tags`` / ``customer_team`` there now."""
    table = column.table
    return {
        (int(cid), int(other))
        for cid, other in session.execute(
            select(table.c.customer_id, column).where(table.c.customer_id.in_(list(customer_ids)))
        )
    }


def _other_active_merges(session: Session, merge: Merge) -> list[Merge]:
    return list(
        session.scalars(
            select(Merge)
            .where(
                Merge.survivor_id == merge.survivor_id,
                Merge.undone_at.is_(None),
                Merge.id != merge.id,
            )
            .order_by(Merge.id.desc())
        )
    )


def _hand_over_shared(
    merge: Merge, others: Sequence[Merge], kind: str, gained: list[int]
) -> list[int]:
    """Tags (or team members) this merge gave the survivor that another merge also brought.

    They stay on the survivor, and the other merge now counts them as its own, so undoing
    it later takes them off again.
    """
    keep: list[int] = []
    for item in gained:
        for other in others:
            brought = {i for a in other.snapshot.get("absorbed", {}).values() for i in a[kind]}
            if item in brought:
                snap = dict(other.snapshot)
                survivor = dict(snap["survivor"])
                key = f"{kind}_gained"
                survivor[key] = sorted({*survivor.get(key, []), item})
                snap["survivor"] = survivor
                other.snapshot = snap
                keep.append(item)
                break
    return keep


def _reclaim_dropped_points(
    session: Session,
    others: Sequence[Merge],
    survivor_id: int,
    leaving_keys: set[tuple[str, str | None]],
) -> int:
    """Phones and e-mails leaving the survivor that another merge dropped as duplicates.

    The dropped copy comes back onto the survivor (as moved by that other merge), so the
    survivor keeps the number for as long as that other merge stands.
    """
    if not leaving_keys:
        return 0
    remaining = {
        (_point_class(ContactPointKind(kind)), key)
        for kind, key in session.execute(
            select(ContactPoint.kind, ContactPoint.key).where(
                ContactPoint.customer_id == survivor_id, ContactPoint.key.is_not(None)
            )
        )
    }
    wanted = leaving_keys - remaining
    reclaimed = 0
    for other in others:
        snap = dict(other.snapshot)
        rows = list(snap.get("dropped_points", []))
        keep_rows = []
        moved = {k: dict(v) for k, v in snap.get("moved", {}).items()}
        for row in rows:
            key = (_point_class(ContactPointKind(row["kind"])), row["key"])
            if key in wanted:
                new_id = _insert_point(session, {**row, "customer_id": survivor_id})
                points = moved.setdefault("contact_points", {})
                points[str(row["customer_id"])] = [*points.get(str(row["customer_id"]), []), new_id]
                wanted.discard(key)
                reclaimed += 1
            else:
                keep_rows.append(row)
        if len(keep_rows) != len(rows):
            snap["dropped_points"] = keep_rows
            snap["moved"] = moved
            other.snapshot = snap
    return reclaimed


def _insert_point(session: Session, row: Mapping[str, Any]) -> int:
    """Put a remembered contact point back, under its old id when that is still free."""
    values = {
        "customer_id": row["customer_id"],
        "contact_id": row.get("contact_id"),
        "kind": ContactPointKind(row["kind"]),
        "value": row["value"],
        "key": row.get("key"),
        "label": row.get("label"),
        "is_primary": bool(row.get("is_primary")),
        "created_at": datetime.fromisoformat(row["created_at"])
        if row.get("created_at")
        else utcnow(),
    }
    if row.get("contact_id") is not None and session.get(Contact, row["contact_id"]) is None:
        values["contact_id"] = None
    taken = session.scalar(select(ContactPoint.id).where(ContactPoint.id == row["id"]))
    if taken is None:
        values["id"] = row["id"]
    result = session.execute(insert(_POINTS).values(values).returning(_POINTS.c.id))
    return int(result.scalar_one())


def undo_merge(
    session: Session,
    merge_id: int,
    actor: User | None,
    *,
    answers: Mapping[str, str] | None = None,
) -> UndoMergeResult:
    """Put the absorbed customers and everything that moved back, in the caller's transaction.

    Raises :class:`MergeUndoConflict` (changing nothing) when later edits to the survivor
    make a field ambiguous; run again with ``answers`` (question key → KEEP or RESTORE).
    """
    require(actor, Permission.MERGE)
    actor_id = actor.id if actor is not None else None
    answers = dict(answers or {})
    session.flush()
    merge = session.get(Merge, merge_id)
    if merge is None:
        raise NotFoundError(f"There is no merge {merge_id}; `smbcrm merge list` shows them.")
    if merge.undone_at is not None:
        raise ValidationError(
            {"merge": f"Merge {merge_id} was already undone on {merge.undone_at:%Y-%m-%d %H:%M}."}
        )
    snapshot = merge.snapshot or {}
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        raise SmbcrmError(f"Merge {merge_id} has no record of what moved, so it cannot be undone.")
    absorbed_ids = [int(i) for i in merge.absorbed_ids]
    customers = _load(session, [merge.survivor_id, *absorbed_ids])
    survivor = customers.get(merge.survivor_id)
    if survivor is None:
        raise NotFoundError(
            f"Customer {merge.survivor_id}, kept by merge {merge_id}, no longer exists; "
            "the merge cannot be undone."
        )
    if survivor.merged_into_id is not None:
        later = session.scalar(
            select(Merge.id)
            .where(Merge.survivor_id == survivor.merged_into_id, Merge.undone_at.is_(None))
            .order_by(Merge.id.desc())
        )
        which = f"merge {later}" if later is not None else "that merge"
        raise SmbcrmError(
            f"{survivor.name} (ID {survivor.id}), kept by merge {merge_id}, was merged into "
            f"customer {survivor.merged_into_id} afterwards: undo {which} first, then this one."
        )
    for cid in absorbed_ids:
        other = customers.get(cid)
        if other is None:
            name = snapshot.get("absorbed", {}).get(str(cid), {}).get("name", "")
            raise SmbcrmError(
                f"Customer {cid} {name}, absorbed by merge {merge_id}, no longer exists (was "
                "the import that created it undone?); the merge cannot be undone."
            )
        if other.merged_into_id != survivor.id:
            raise SmbcrmError(
                f"{other.name} (ID {cid}) no longer points at {survivor.name}; merge "
                f"{merge_id} cannot be undone as it is."
            )

    restore, questions = _field_plan(session, merge, survivor, answers)
    if questions:
        raise MergeUndoConflict(merge_id, questions)

    now = utcnow()
    others = _other_active_merges(session, merge)
    moved_back: dict[str, int] = {}
    notes: list[str] = []
    leaving_keys: set[tuple[str, str | None]] = set()
    moved = snapshot.get("moved", {})
    point_ids = [i for ids in moved.get("contact_points", {}).values() for i in ids]
    for chunk in _chunks(point_ids):
        for kind, key in session.execute(
            select(ContactPoint.kind, ContactPoint.key).where(
                ContactPoint.id.in_(chunk),
                ContactPoint.customer_id == survivor.id,
                ContactPoint.key.is_not(None),
            )
        ):
            leaving_keys.add((_point_class(ContactPointKind(kind)), key))
    for key, table, column in MOVED_RECORDS:
        count = 0
        for cid, ids in moved.get(key, {}).items():
            count += _move(session, table, column, ids, int(cid), only_from=survivor.id)
        moved_back[key] = count
    for row in snapshot.get("dropped_points", []):
        _insert_point(session, row)
    moved_back["duplicate_points"] = len(snapshot.get("dropped_points", []))
    cleared = snapshot.get("primary_cleared", {})
    for chunk in _chunks(cleared.get("contacts", [])):
        session.execute(update(_CONTACTS).where(_CONTACTS.c.id.in_(chunk)).values(is_primary=True))
    for chunk in _chunks(cleared.get("contact_points", [])):
        session.execute(update(_POINTS).where(_POINTS.c.id.in_(chunk)).values(is_primary=True))
    moved_back["contact_points"] += _reclaim_dropped_points(
        session, others, survivor.id, leaving_keys
    )

    snap_survivor = snapshot["survivor"]
    # Tags and team: the survivor gives back what the merge gave it, the absorbed get theirs.
    tags_gained = [int(t) for t in snap_survivor.get("tags_gained", [])]
    shared_tags = set(_hand_over_shared(merge, others, "tags", tags_gained))
    drop_tags = [t for t in tags_gained if t not in shared_tags]
    if drop_tags:
        session.execute(
            delete(customer_tags).where(
                customer_tags.c.customer_id == survivor.id, customer_tags.c.tag_id.in_(drop_tags)
            )
        )
    wanted_tags = {
        (int(cid), int(t))
        for cid, info in snapshot.get("absorbed", {}).items()
        for t in info.get("tags", [])
    }
    existing_tags = set(
        session.scalars(select(Tag.id).where(Tag.id.in_({t for _c, t in wanted_tags})))
    )
    tag_rows = [
        {"customer_id": cid, "tag_id": t}
        for cid, t in sorted(wanted_tags - _links(session, customer_tags.c.tag_id, absorbed_ids))
        if t in existing_tags  # a tag deleted since stays deleted
    ]
    if tag_rows:
        session.execute(insert(customer_tags), tag_rows)
    moved_back["tags"] = len(drop_tags)
    team_gained = [int(u) for u in snap_survivor.get("team_gained", [])]
    shared_team = set(_hand_over_shared(merge, others, "team", team_gained))
    drop_team = [u for u in team_gained if u not in shared_team]
    if drop_team:
        session.execute(
            delete(customer_team).where(
                customer_team.c.customer_id == survivor.id, customer_team.c.user_id.in_(drop_team)
            )
        )
    moved_back["team"] = len(drop_team)
    restore_owner = restore.get("owner_id", _plain(survivor.owner_id))
    wanted_team = {
        (int(cid), int(u))
        for cid, info in snapshot.get("absorbed", {}).items()
        for u in info.get("team", [])
    } | {(survivor.id, int(u)) for u in snap_survivor.get("team_lost", []) if u != restore_owner}
    wanted_team -= _links(session, customer_team.c.user_id, [survivor.id, *absorbed_ids])
    active = set(
        session.scalars(
            select(User.id).where(User.id.in_({u for _c, u in wanted_team}), User.active.is_(True))
        )
    )
    left = sorted({u for _c, u in wanted_team} - active)
    if left:
        names = _Names(session, left, [])
        notes.append(
            "Not put back on account teams, having left: "
            + ", ".join(names.text("owner_id", u) for u in left)
            + "."
        )
    team_rows = [{"customer_id": c, "user_id": u} for c, u in sorted(wanted_team) if u in active]
    if team_rows:
        session.execute(insert(customer_team), team_rows)

    bump = {"version": _CUSTOMERS.c.version + 1, "updated_at": now}
    moved_back["referrals"] = sum(
        _move(
            session, _CUSTOMERS, "referred_by_id", ids, int(cid), only_from=survivor.id, extra=bump
        )
        for cid, ids in snapshot.get("referrals", {}).items()
    )
    moved_back["tombstones"] = sum(
        _move(
            session, _CUSTOMERS, "merged_into_id", ids, int(cid), only_from=survivor.id, extra=bump
        )
        for cid, ids in snapshot.get("tombstones", {}).items()
    )
    pairs = 0
    for pair in snapshot.get("duplicate_pairs", []):
        result = session.execute(
            update(_PAIRS)
            .where(_PAIRS.c.id == pair["id"], _PAIRS.c.status == DuplicateStatus.MERGED)
            .values(
                status=DuplicateStatus(pair["status"]),
                decided_by_id=pair["decided_by_id"],
                decided_at=datetime.fromisoformat(pair["decided_at"])
                if pair["decided_at"]
                else None,
            )
        )
        pairs += int(result.rowcount)  # type: ignore[attr-defined]
    moved_back["duplicate_pairs"] = pairs

    _expire_after_bulk(session, customers.values())

    # The survivor's fields as they were, except those a person chose to keep.
    assignment_id = snap_survivor.get("assignment_change_id")
    if "owner_id" in restore and restore["owner_id"] != survivor.owner_id:
        wanted_owner = restore["owner_id"]
        if not _active_user(session, wanted_owner):
            names = _Names(session, [wanted_owner], [])
            notes.append(
                f"{names.text('owner_id', wanted_owner)} has left, so {survivor.name} stays "
                "with its current owner."
            )
            del restore["owner_id"]
        else:
            latest = session.scalar(
                select(AssignmentChange.id)
                .where(AssignmentChange.customer_id == survivor.id)
                .order_by(AssignmentChange.changed_at.desc(), AssignmentChange.id.desc())
                .limit(1)
            )
            if assignment_id is not None and latest == assignment_id:
                # Nothing happened to the owner since: the merge's own record goes with it.
                session.execute(
                    delete(AssignmentChange).where(AssignmentChange.id == assignment_id)
                )
            else:
                session.add(
                    AssignmentChange(
                        customer_id=survivor.id,
                        from_user_id=survivor.owner_id,
                        to_user_id=wanted_owner,
                        changed_by_id=actor_id,
                        changed_at=now,
                        reason=f"Undo of merge {merge_id}",
                    )
                )
    changes: dict[str, list[Any]] = {}
    custom = dict(survivor.custom_fields or {})
    custom_changed = False
    for key, value in restore.items():
        if key.startswith(CUSTOM_PREFIX):
            name = key[len(CUSTOM_PREFIX) :]
            changes[key] = [custom.get(name), value]
            if value is None:
                custom.pop(name, None)
            else:
                custom[name] = value
            custom_changed = True
        else:
            changes[key] = [_plain(getattr(survivor, key)), value]
            setattr(survivor, key, _typed(key, value))
    if custom_changed:
        survivor.custom_fields = custom
    survivor.updated_at = now
    restored = [customers[cid] for cid in absorbed_ids]
    for other in restored:
        other.merged_into_id = None
        other.updated_at = now
        if other.owner_id is not None and not _active_user(session, other.owner_id):
            # Nobody's customers may sit with someone who has left.
            heir = survivor.owner_id if _active_user(session, survivor.owner_id) else None
            names = _Names(session, [other.owner_id], [])
            goes_to = f"the owner of {survivor.name}" if heir else "the unassigned pool"
            notes.append(
                f"{other.name}'s owner {names.text('owner_id', other.owner_id)} has left; it "
                f"goes to {goes_to}."
            )
            session.add(
                AssignmentChange(
                    customer_id=other.id,
                    from_user_id=other.owner_id,
                    to_user_id=heir,
                    changed_by_id=actor_id,
                    changed_at=now,
                    reason=f"Undo of merge {merge_id}: the owner has left",
                )
            )
            other.owner_id = heir
    merge.undone_at = now
    merge.undone_by_id = actor_id
    _flush_unaudited(session, "undo")

    names_text = ", ".join(f"{c.name} (ID {c.id})" for c in restored)
    changes["merge_undone"] = [merge_id, names_text]
    _audit(
        session,
        actor_id,
        survivor,
        ChangeAction.RESTORED,
        changes,
        f"Merge {merge_id} undone: {names_text} separate from {survivor.name} again",
    )
    for other in restored:
        _audit(
            session,
            actor_id,
            other,
            ChangeAction.RESTORED,
            {"merged_into_id": [survivor.id, None]},
            f"{other.name} restored from {survivor.name} (ID {survivor.id}), merge {merge_id}",
        )
    session.flush()
    return UndoMergeResult(merge_id, absorbed_ids, moved_back, notes)


# ---------------------------------------------------------------------------------------
# Listing


def customer_names(session: Session, customer_ids: Iterable[int]) -> dict[int, str]:
    """Customer id → name (merged-away ones too), for summaries of a merge or an undo."""
    return _Names(session, [], customer_ids).customers


def list_merges(
    session: Session, customer_id: int | None = None, limit: int = 200
) -> list[MergeRow]:
    """Merges newest first; with ``customer_id``, those it kept or absorbed."""
    stmt = select(Merge.id, Merge.survivor_id, Merge.absorbed_ids).order_by(Merge.id.desc())
    ids: list[int] = []
    for mid, survivor_id, absorbed in session.execute(stmt):
        if customer_id is None or customer_id == survivor_id or customer_id in (absorbed or []):
            ids.append(int(mid))
            if len(ids) >= limit:
                break
    if not ids:
        return []
    merges = {m.id: m for m in session.scalars(select(Merge).where(Merge.id.in_(ids)))}
    customer_ids = {m.survivor_id for m in merges.values()} | {
        int(a) for m in merges.values() for a in m.absorbed_ids
    }
    names = _Names(
        session, [m.merged_by_id for m in merges.values() if m.merged_by_id], customer_ids
    )
    rows: list[MergeRow] = []
    for mid in ids:
        m = merges[mid]
        snap_names = {
            k: v.get("name", "") for k, v in (m.snapshot or {}).get("absorbed", {}).items()
        }
        rows.append(
            MergeRow(
                id=m.id,
                survivor_id=m.survivor_id,
                survivor_name=names.customers.get(m.survivor_id, ""),
                absorbed=[
                    (int(a), names.customers.get(int(a), snap_names.get(str(a), "")))
                    for a in m.absorbed_ids
                ],
                merged_at=m.merged_at,
                merged_by=names.users[m.merged_by_id][0] if m.merged_by_id in names.users else None,
                undone_at=m.undone_at,
            )
        )
    return rows
