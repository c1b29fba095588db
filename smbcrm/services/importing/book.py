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

from smbcrm.models import (
    Contact,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    ExternalId,
    User,
)
from smbcrm.models.derived import ContactData, PointData
from smbcrm.models.keys import normalize_key_text

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
        index = cls()
        columns = [getattr(Customer, c) for c in CUSTOMER_COLUMNS]
        rows = session.connection().execute(
            select(
                Customer.id,
                Customer.version,
                Customer.name_key,
                Customer.city_key,
                Customer.archived_at,
                Customer.merged_into_id,
                *columns,
            )
        )
        for cid, version, name_key, city_key, archived_at, merged_into, *values in rows:
            if merged_into is not None:
                index.tombstones[cid] = merged_into
                continue
            loaded = CustomerSnapshot(
                cid, version, dict(zip(CUSTOMER_COLUMNS, values, strict=True))
            )
            loaded.values["archived"] = archived_at is not None
            index.customers[cid] = loaded
            if name_key:
                index.by_name_city[(name_key, city_key)].add(cid)
                index.by_name[name_key].add(cid)
        for cid, kind, value, key, is_primary, _contact_id in session.connection().execute(
            select(
                ContactPoint.customer_id,
                ContactPoint.kind,
                ContactPoint.value,
                ContactPoint.key,
                ContactPoint.is_primary,
                ContactPoint.contact_id,
            ).order_by(ContactPoint.id)
        ):
            snapshot = index.customers.get(cid)
            if snapshot is None:
                continue
            snapshot.points.append(PointData(kind, value, key, is_primary))
            if key and kind == ContactPointKind.EMAIL:
                index.by_email[key].add(cid)
            elif key and ContactPointKind(kind).is_phone:
                index.by_phone[key].add(cid)
        for cid, name, is_primary in session.connection().execute(
            select(Contact.customer_id, Contact.name, Contact.is_primary).order_by(Contact.id)
        ):
            snapshot = index.customers.get(cid)
            if snapshot is not None:
                snapshot.contacts.append(ContactData(name, is_primary))
        for cid, system, key, key_norm in session.connection().execute(
            select(ExternalId.customer_id, ExternalId.system, ExternalId.key, ExternalId.key_norm)
        ):
            survivor = index.tombstones.get(cid, cid)
            index.by_external[(system, key_norm)] = survivor
            snapshot = index.customers.get(cid)
            if snapshot is not None:
                snapshot.external_ids.append((system, key))
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
