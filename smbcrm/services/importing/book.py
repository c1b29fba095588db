"""The customer book as an import needs it: match keys for every customer, full details
only for the customers an import touches.

Matching 100,000 rows one query at a time would take minutes; instead every match key
(external id, e-mail, phone, name + city) is loaded once into dictionaries, with a small
head per customer (name, city, kind, status, archived, birthday, ID or tax number) for the
preview's reasons and to tell namesakes apart. The values an update compares against are
read afterwards, a chunk of matched customers at a time, so a large book is never held in
memory whole.
"""

from __future__ import annotations

from collections.abc import Iterable, KeysView
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from smbcrm.models import (
    ChangeAction,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    CustomerStatus,
    ImportBatch,
    ImportChange,
    Tier,
    User,
)
from smbcrm.models.db import as_date, driver_rows
from smbcrm.models.derived import (
    ContactData,
    PointData,
    customer_keys,
    customer_list_columns,
)
from smbcrm.models.keys import normalize_key_text

# Derived columns kept in the snapshot too, so an update writes only those that change.
DERIVED_COLUMNS = (
    "name_key",
    "sort_key",
    "tax_id_key",
    "city_key",
    "primary_phone",
    "primary_email",
    "primary_contact",
    "search_text",
)
# Customer columns an import may set, in the order the snapshot keeps them.
CUSTOMER_COLUMNS = (
    "name",
    "kind",
    "status",
    "owner_id",
    "tier",
    "source",
    "birthday",
    "tax_id",
    "country",
    "province",
    "city",
    "district",
    "address",
    "postcode",
    "website",
    "notes",
)
# How many customers' details one round of queries reads.
SNAPSHOT_CHUNK = 2000

_KINDS = {k.value: k for k in CustomerKind}
_STATUSES = {s.value: s for s in CustomerStatus}
_TIERS = {t.value: t for t in Tier}
_POINT_KINDS = {k.value: k for k in ContactPointKind}


@dataclass(slots=True)
class CustomerSnapshot:
    """One customer's current values, contact points, contacts, codes and tags."""

    id: int
    version: int
    values: dict[str, Any]
    points: list[PointData] = field(default_factory=list)
    contacts: list[ContactData] = field(default_factory=list)
    external_ids: list[tuple[str, str]] = field(default_factory=list)  # (system, key)
    tags: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.values["name"])

    @property
    def phone_keys(self) -> set[str]:
        return {p.key for p in self.points if p.key and p.kind.is_phone}

    @property
    def email_keys(self) -> set[str]:
        return {p.key for p in self.points if p.key and p.kind == ContactPointKind.EMAIL}


@dataclass(frozen=True, slots=True)
class CustomerHead:
    """What a preview says about a matched customer, kept for every live customer."""

    name: str
    city: str | None
    kind: CustomerKind
    status: CustomerStatus
    archived: bool
    # What tells namesakes apart: a row with the same name and another birthday or ID/tax
    # number is not matched to this customer as a matter of course.
    birthday: date | None = None
    tax_id: str | None = None

    @property
    def is_person(self) -> bool:
        return self.kind == CustomerKind.PERSON


@dataclass
class StaffDirectory:
    """Staff found by login or by name as spreadsheets write them ("王芳", "Tom Baker")."""

    by_key: dict[str, tuple[int, bool]]  # folded login or name → (user id, active)

    @classmethod
    def load(cls, session: Session) -> StaffDirectory:
        by_key: dict[str, tuple[int, bool]] = {}
        for user_id, login, full_name, active in session.execute(
            select(User.id, User.login, User.full_name, User.active)
        ):
            for key in (login, full_name):
                folded = normalize_key_text(key)
                if folded and (folded not in by_key or active):
                    by_key[folded] = (user_id, active)
        return cls(by_key)

    def find(self, text: str) -> tuple[int, bool] | None:
        return self.by_key.get(normalize_key_text(text))


K = TypeVar("K")


class KeyIndex(Generic[K]):
    """Key → the customers carrying it. Nearly every key has one customer, so that case is
    kept as a bare id: a set per key would triple the index's memory at 100,000 customers."""

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids: dict[K, int | tuple[int, ...]] = {}

    def add(self, key: K, customer_id: int) -> None:
        have = self._ids.get(key)
        if have is None:
            self._ids[key] = customer_id
        elif isinstance(have, int):
            if have != customer_id:
                self._ids[key] = (have, customer_id)
        elif customer_id not in have:
            self._ids[key] = (*have, customer_id)

    def keys(self) -> KeysView[K]:
        return self._ids.keys()

    def get(self, key: K) -> tuple[int, ...]:
        have = self._ids.get(key)
        if have is None:
            return ()
        return (have,) if isinstance(have, int) else have


@dataclass(frozen=True, slots=True)
class BookMark:
    """How far the book reached when it was read. Came after it: a customer with a higher
    id or a later ``updated_at``, a phone or e-mail with a higher id, and every customer an
    import batch with a higher id wrote.

    Customer imports take their turn (``apply.hold_import_lock``) before they number their
    batch, so their batch ids follow the order they were committed in: one still being
    written while the book was read gets a higher batch id than the mark, even on a server
    where its customers' ids and times are lower than those of customers saved meanwhile.
    """

    customer_id: int
    updated_at: datetime | None
    point_id: int
    batch_id: int

    @classmethod
    def read(cls, session: Session) -> BookMark:
        # One statement each: a max() alone is answered from its index.
        def highest(column: Any) -> Any:
            return session.scalar(select(func.max(column)))

        return cls(
            customer_id=int(highest(Customer.id) or 0),
            updated_at=highest(Customer.updated_at),
            point_id=int(highest(ContactPoint.id) or 0),
            batch_id=int(highest(ImportBatch.id) or 0),
        )

    def customers_after(self, session: Session) -> set[int]:
        """The customers added or changed after the mark (merged-away ones included)."""
        # One statement per condition: each alone uses its index, joined by OR they scan.
        after = set(session.scalars(select(Customer.id).where(Customer.id > self.customer_id)))
        if self.updated_at is not None:  # None: the book was empty, every id is higher
            after.update(
                session.scalars(select(Customer.id).where(Customer.updated_at > self.updated_at))
            )
        after.update(
            session.scalars(select(ContactPoint.customer_id).where(ContactPoint.id > self.point_id))
        )
        after.update(
            session.scalars(
                select(ImportChange.entity_id).where(
                    ImportChange.batch_id > self.batch_id, ImportChange.entity == "customer"
                )
            )
        )
        return after


class BookIndex:
    """Every live customer's match keys and head; details read when needed."""

    def __init__(self) -> None:
        self.customers: dict[int, CustomerHead] = {}
        self.by_external: dict[tuple[str, str], int] = {}
        self.by_email: KeyIndex[str] = KeyIndex()
        self.by_phone: KeyIndex[str] = KeyIndex()
        self.by_name_city: KeyIndex[tuple[str, str | None]] = KeyIndex()
        self.by_name: KeyIndex[str] = KeyIndex()
        self.tombstones: dict[int, int] = {}  # merged-away id → survivor id
        # How far the book reached when this index was read; None for a partial index.
        self.mark: BookMark | None = None

    @classmethod
    def load(cls, session: Session) -> BookIndex:
        index = cls()
        # Read first: whatever is saved while the index loads lies after the mark, and is
        # read again by an import that checks what came after (reading it twice is harmless).
        index.mark = BookMark.read(session)
        index._read(session)
        return index

    @classmethod
    def load_after(cls, session: Session, mark: BookMark) -> BookIndex:
        """An index of just the customers added or changed after ``mark``."""
        index = cls()
        wanted = sorted(mark.customers_after(session))
        for start in range(0, len(wanted), SNAPSHOT_CHUNK):
            listed = ",".join(map(str, wanted[start : start + SNAPSHOT_CHUNK]))  # ints read here
            index._read(session, f"id IN ({listed})", f"customer_id IN ({listed})")
        return index

    def _read(self, session: Session, customer_filter: str = "", child_filter: str = "") -> None:
        """Add the customers (all, or those the SQL filters name) to the index."""
        customers = self.customers
        where = f" WHERE {customer_filter}" if customer_filter else ""
        and_children = f" AND {child_filter}" if child_filter else ""
        where_children = f" WHERE {child_filter}" if child_filter else ""
        for (
            cid,
            merged_into,
            archived,
            name,
            city,
            kind,
            status,
            name_key,
            city_key,
            birthday,
            tax_id,
        ) in driver_rows(
            session,
            "SELECT id, merged_into_id, archived_at IS NOT NULL, name, city, kind, status, "
            f"name_key, city_key, birthday, tax_id FROM customers{where}",
        ):
            if merged_into is not None:
                self.tombstones[cid] = merged_into
                continue
            customers[cid] = CustomerHead(
                name,
                city,
                _KINDS.get(kind, kind),
                _STATUSES.get(status, status),
                bool(archived),
                as_date(birthday),
                tax_id,
            )
            if name_key:
                self.by_name_city.add((name_key, city_key), cid)
                self.by_name.add(name_key, cid)
        email = ContactPointKind.EMAIL.value
        for cid, kind, key in driver_rows(
            session,
            "SELECT customer_id, kind, key FROM contact_points WHERE key IS NOT NULL "
            f"AND kind IN ('{email}', '{ContactPointKind.MOBILE.value}', "
            f"'{ContactPointKind.PHONE.value}'){and_children}",
        ):
            if cid in customers:
                (self.by_email if kind == email else self.by_phone).add(key, cid)
        tombstones = self.tombstones
        for cid, system, key_norm in driver_rows(
            session, f"SELECT customer_id, system, key_norm FROM external_ids{where_children}"
        ):
            self.by_external[(system, key_norm)] = tombstones.get(cid, cid)

    def resolve(self, customer_id: int) -> int:
        """Follow merge tombstones to the customer that lives on."""
        seen = 0
        while customer_id in self.tombstones and seen < 50:
            customer_id = self.tombstones[customer_id]
            seen += 1
        return customer_id


def load_snapshots(
    source: Session | Connection, customer_ids: Iterable[int]
) -> dict[int, CustomerSnapshot]:
    """The current details of these customers (a chunk at a time for long lists)."""
    wanted = sorted(set(customer_ids))
    found: dict[int, CustomerSnapshot] = {}
    for start in range(0, len(wanted), SNAPSHOT_CHUNK):
        found.update(_load_chunk(source, wanted[start : start + SNAPSHOT_CHUNK]))
    return found


def _load_chunk(source: Session | Connection, ids: list[int]) -> dict[int, CustomerSnapshot]:
    listed = ",".join(map(str, ids))  # ints this service read from the database
    width = len(CUSTOMER_COLUMNS)
    kind_at = CUSTOMER_COLUMNS.index("kind")
    status_at = CUSTOMER_COLUMNS.index("status")
    tier_at = CUSTOMER_COLUMNS.index("tier")
    birthday_at = CUSTOMER_COLUMNS.index("birthday")
    snapshots: dict[int, CustomerSnapshot] = {}
    for cid, version, *everything in driver_rows(
        source,
        f"SELECT id, version, {', '.join(CUSTOMER_COLUMNS)}, "
        f"{', '.join(DERIVED_COLUMNS)} FROM customers WHERE id IN ({listed})",
    ):
        values = everything[:width]
        values[kind_at] = _KINDS.get(values[kind_at], values[kind_at])
        values[status_at] = _STATUSES.get(values[status_at], values[status_at])
        values[tier_at] = _TIERS.get(values[tier_at], values[tier_at])
        values[birthday_at] = as_date(values[birthday_at])
        snapshot_values = dict(zip(CUSTOMER_COLUMNS, values, strict=True))
        snapshot_values.update(zip(DERIVED_COLUMNS, everything[width:], strict=True))
        snapshots[cid] = CustomerSnapshot(cid, version, snapshot_values)
    for cid, kind, value, key, is_primary in driver_rows(
        source,
        "SELECT customer_id, kind, value, key, is_primary FROM contact_points "
        f"WHERE customer_id IN ({listed}) ORDER BY id",
    ):
        snapshots[cid].points.append(PointData(_POINT_KINDS[kind], value, key, bool(is_primary)))
    for cid, name, is_primary in driver_rows(
        source,
        f"SELECT customer_id, name, is_primary FROM contacts WHERE customer_id IN ({listed}) "
        "ORDER BY id",
    ):
        snapshots[cid].contacts.append(ContactData(name, bool(is_primary)))
    for cid, system, key in driver_rows(
        source,
        f"SELECT customer_id, system, key FROM external_ids WHERE customer_id IN ({listed})",
    ):
        snapshots[cid].external_ids.append((system, key))
    for cid, name in driver_rows(
        source,
        "SELECT customer_tags.customer_id, tags.name FROM customer_tags "
        f"JOIN tags ON tags.id = customer_tags.tag_id WHERE customer_tags.customer_id IN ({listed})",
    ):
        snapshots[cid].tags.append(name)
    return snapshots


def customer_audit_row(
    at: datetime,
    user_id: int | None,
    customer_id: int,
    action: ChangeAction,
    changes: dict[str, Any],
    summary: str,
) -> dict[str, Any]:
    """One ``audit_entries`` row about a customer, for the writers that insert in bulk."""
    return {
        "at": at,
        "user_id": user_id,
        "entity": "customer",
        "entity_id": customer_id,
        "customer_id": customer_id,
        "action": action,
        "changes": changes,
        "summary": summary,
    }


def derived_columns(
    values: dict[str, Any],
    points: Iterable[PointData],
    contacts: Iterable[ContactData],
    external_keys: Iterable[str],
    *,
    with_keys: bool = True,
) -> dict[str, Any]:
    """A customer's match keys (unless ``with_keys`` is False: none of their inputs changed)
    and list columns, from its values and what hangs off it."""
    name = str(values["name"])
    derived: dict[str, Any] = (
        dict(customer_keys(name, values.get("tax_id"), values.get("city"))) if with_keys else {}
    )
    derived.update(
        customer_list_columns(
            name,
            city=values.get("city"),
            district=values.get("district"),
            province=values.get("province"),
            points=list(points),
            contacts=list(contacts),
            external_keys=list(external_keys),
        )
    )
    return derived
