"""A snapshot of the customer book for matching imported rows, loaded with a few queries.

Matching 100,000 rows one query at a time would take minutes; instead every match key
(external id, e-mail, phone, name + city) is loaded once into dictionaries, together with
the current values an update compares against.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smbcrm.models import ContactPointKind, CustomerKind, CustomerStatus, Tier, User
from smbcrm.models.derived import ContactData, PointData
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


@dataclass(slots=True)
class CustomerSnapshot:
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
        return {p.key for p in self.points if p.key and ContactPointKind(p.kind).is_phone}

    @property
    def email_keys(self) -> set[str]:
        return {p.key for p in self.points if p.key and p.kind == ContactPointKind.EMAIL}


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


class BookIndex:
    """Every live customer's match keys and current values."""

    def __init__(self) -> None:
        self.customers: dict[int, CustomerSnapshot] = {}
        self.by_external: dict[tuple[str, str], int] = {}
        self.by_email: dict[str, set[int]] = defaultdict(set)
        self.by_phone: dict[str, set[int]] = defaultdict(set)
        self.by_name_city: dict[tuple[str, str | None], set[int]] = defaultdict(set)
        self.by_name: dict[str, set[int]] = defaultdict(set)
        self.tombstones: dict[int, int] = {}  # merged-away id → survivor id

    @classmethod
    def load(cls, session: Session) -> BookIndex:
        # Plain driver rows: at 100,000 customers SQLAlchemy's per-value result processing
        # costs more than the queries. The few typed columns are converted here instead.
        index = cls()
        connection = session.connection()
        columns = ", ".join(CUSTOMER_COLUMNS)
        kinds = {k.value: k for k in CustomerKind}
        statuses = {s.value: s for s in CustomerStatus}
        tiers = {t.value: t for t in Tier}
        birthday_at = CUSTOMER_COLUMNS.index("birthday")
        kind_at = CUSTOMER_COLUMNS.index("kind")
        status_at = CUSTOMER_COLUMNS.index("status")
        tier_at = CUSTOMER_COLUMNS.index("tier")
        derived_columns = ", ".join(DERIVED_COLUMNS)
        rows = connection.exec_driver_sql(
            "SELECT id, version, archived_at, merged_into_id, "
            f"{columns}, {derived_columns} FROM customers"
        )
        width = len(CUSTOMER_COLUMNS)
        for cid, version, archived_at, merged_into, *everything in rows:
            values, derived = everything[:width], everything[width:]
            if merged_into is not None:
                index.tombstones[cid] = merged_into
                continue
            values[kind_at] = kinds.get(values[kind_at], values[kind_at])
            values[status_at] = statuses.get(values[status_at], values[status_at])
            values[tier_at] = tiers.get(values[tier_at], values[tier_at])
            birthday = values[birthday_at]
            if isinstance(birthday, str):
                values[birthday_at] = date.fromisoformat(birthday[:10])
            loaded = CustomerSnapshot(
                cid, version, dict(zip(CUSTOMER_COLUMNS, values, strict=True))
            )
            loaded.values.update(zip(DERIVED_COLUMNS, derived, strict=True))
            loaded.values["archived"] = archived_at is not None
            name_key, city_key = loaded.values["name_key"], loaded.values["city_key"]
            index.customers[cid] = loaded
            if name_key:
                index.by_name_city[(name_key, city_key)].add(cid)
                index.by_name[name_key].add(cid)
        point_kinds = {k.value: k for k in ContactPointKind}
        email, phones = ContactPointKind.EMAIL, {ContactPointKind.MOBILE, ContactPointKind.PHONE}
        customers = index.customers
        for cid, kind_text, value, key, is_primary in connection.exec_driver_sql(
            "SELECT customer_id, kind, value, key, is_primary FROM contact_points ORDER BY id"
        ):
            snapshot = customers.get(cid)
            if snapshot is None:
                continue
            kind = point_kinds[kind_text]
            snapshot.points.append(PointData(kind, value, key, bool(is_primary)))
            if key and kind is email:
                index.by_email[key].add(cid)
            elif key and kind in phones:
                index.by_phone[key].add(cid)
        for cid, name, is_primary in connection.exec_driver_sql(
            "SELECT customer_id, name, is_primary FROM contacts ORDER BY id"
        ):
            snapshot = customers.get(cid)
            if snapshot is not None:
                snapshot.contacts.append(ContactData(name, bool(is_primary)))
        for cid, system, key, key_norm in connection.exec_driver_sql(
            "SELECT customer_id, system, key, key_norm FROM external_ids"
        ):
            survivor = index.tombstones.get(cid, cid)
            index.by_external[(system, key_norm)] = survivor
            snapshot = customers.get(cid)
            if snapshot is not None:
                snapshot.external_ids.append((system, key))
        for cid, name in connection.exec_driver_sql(
            "SELECT customer_tags.customer_id, tags.name FROM customer_tags "
            "JOIN tags ON tags.id = customer_tags.tag_id"
        ):
            snapshot = customers.get(cid)
            if snapshot is not None:
                snapshot.tags.append(name)
        return index

    def resolve(self, customer_id: int) -> int:
        """Follow merge tombstones to the customer that lives on."""
        seen = 0
        while customer_id in self.tombstones and seen < 50:
            customer_id = self.tombstones[customer_id]
            seen += 1
        return customer_id


def snapshot_birthday(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def is_person(snapshot: CustomerSnapshot) -> bool:
    return snapshot.values.get("kind") == CustomerKind.PERSON
