"""Keep derived columns and the audit trail right on every ORM write.

Match keys, list columns and search text are recomputed in ``before_flush`` so no code path
can store a customer whose keys disagree with its data. The same hook writes an
``AuditEntry`` (old → new per field) for every audited record, attributed to the user the
session was opened for (``session.info["user_id"]``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

from smbcrm.models.base import Base
from smbcrm.models.cases import Case, ServicePromise
from smbcrm.models.customer import Contact, ContactPoint, Customer, ExternalId
from smbcrm.models.derived import (
    ContactData,
    PointData,
    customer_keys,
    customer_list_columns,
    point_key,
)
from smbcrm.models.enums import ChangeAction, ContactPointKind
from smbcrm.models.history import AuditEntry
from smbcrm.models.keys import DEFAULT_REGION, normalize_key_text, normalize_name
from smbcrm.models.orders import Order
from smbcrm.models.staff import User

AUDITED: dict[type[Base], str] = {
    Customer: "customer",
    Contact: "contact",
    ContactPoint: "contact_point",
    ExternalId: "external_id",
    User: "user",
    Case: "case",
    ServicePromise: "service_promise",
}

# Derived or bookkeeping columns: they change with the data and say nothing new.
_NOT_AUDITED = {
    "name_key",
    "sort_key",
    "tax_id_key",
    "city_key",
    "primary_phone",
    "primary_email",
    "primary_contact",
    "search_text",
    "version",
    "updated_at",
    "created_at",
    "key",
    "key_norm",
    "password_hash",
    "failed_sign_ins",
    "locked_until",
    "last_sign_in_at",
}


def refresh_customer_derived(customer: Customer, region: str) -> None:
    """Recompute list columns and search text from the customer's loaded children."""
    columns = customer_list_columns(
        customer.name,
        city=customer.city,
        district=customer.district,
        province=customer.province,
        points=[
            PointData(ContactPointKind(p.kind), p.value, p.key, p.is_primary)
            for p in customer.contact_points
        ],
        contacts=[ContactData(c.name, c.is_primary) for c in customer.contacts],
        external_keys=[e.key for e in customer.external_ids],
    )
    for column, value in columns.items():
        setattr(customer, column, value)


def refresh_customer_keys(customer: Customer) -> None:
    customer.name = (customer.name or "").strip()
    for column, value in customer_keys(customer.name, customer.tax_id, customer.city).items():
        setattr(customer, column, value)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Base):
        return getattr(value, "id", None)
    return value


def _changes(obj: Base) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in _NOT_AUDITED:
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if _plain(old) != _plain(new):
                changes[attr.key] = [_plain(old), _plain(new)]
    return changes


def _customer_of(obj: Base) -> Customer | None:
    if isinstance(obj, Customer):
        return obj
    if isinstance(obj, Contact | ContactPoint | ExternalId):
        return obj.customer
    return None


def _customer_id_of(obj: Base) -> int | None:
    if isinstance(obj, Customer):
        return obj.id
    return getattr(obj, "customer_id", None)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    region = str(session.info.get("default_region", DEFAULT_REGION))
    touched: dict[int, Customer] = {}
    with session.no_autoflush:
        for obj in list(session.new) + list(session.dirty):
            if isinstance(obj, Customer):
                refresh_customer_keys(obj)
            elif isinstance(obj, ContactPoint):
                obj.kind = ContactPointKind(obj.kind)
                obj.value = (obj.value or "").strip()
                obj.key = point_key(obj.kind, obj.value, region)
            elif isinstance(obj, Contact):
                obj.name = (obj.name or "").strip()
                obj.name_key = normalize_name(obj.name)
            elif isinstance(obj, Order):
                # Trimmed, so "cancelled " is known as cancelled (see counts_as_sale).
                obj.status = obj.status.strip() or None if obj.status else None
            elif isinstance(obj, ExternalId):
                obj.system = obj.system.strip()
                obj.key = str(obj.key).strip()
                obj.key_norm = normalize_key_text(obj.key)
            customer = _customer_of(obj)
            if customer is not None and customer not in session.deleted:
                touched[id(customer)] = customer
        for obj in list(session.deleted):
            customer = _customer_of(obj)
            if customer is not None and customer not in session.deleted:
                touched[id(customer)] = customer
        for customer in touched.values():
            refresh_customer_derived(customer, region)
            if customer not in session.new and customer not in session.dirty:
                session.add(customer)

    if session.info.get("audit", True):
        _write_audit(session)


def _write_audit(session: Session) -> None:
    user_id = session.info.get("user_id")
    pending: list[tuple[Base, ChangeAction, dict[str, list[Any]]]] = []
    for obj in session.new:
        if type(obj) in AUDITED:
            pending.append((obj, ChangeAction.CREATED, _changes(obj)))
    for obj in session.dirty:
        if type(obj) in AUDITED and session.is_modified(obj, include_collections=False):
            changes = _changes(obj)
            if not changes:
                continue
            action = ChangeAction.UPDATED
            if isinstance(obj, Customer) and "archived_at" in changes:
                action = (
                    ChangeAction.ARCHIVED if changes["archived_at"][1] else ChangeAction.RESTORED
                )
            pending.append((obj, action, changes))
    for obj in session.deleted:
        if type(obj) in AUDITED:
            state = inspect(obj)
            snapshot = {
                a.key: [_plain(getattr(obj, a.key)), None]
                for a in state.mapper.column_attrs
                if a.key not in _NOT_AUDITED
            }
            pending.append((obj, ChangeAction.DELETED, snapshot))
    if not pending:
        return
    session.info.setdefault("_audit_pending", []).extend(pending)
    session.info["_audit_user"] = user_id


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    """Write audit rows once ids exist (new records get theirs only during the flush)."""
    pending = session.info.pop("_audit_pending", None)
    if not pending:
        return
    user_id = session.info.pop("_audit_user", None)
    rows = []
    for obj, action, changes in pending:
        entity_id = getattr(obj, "id", None) if not isinstance(obj, str) else None
        if entity_id is None:
            continue
        rows.append(
            {
                "user_id": user_id,
                "entity": AUDITED[type(obj)],
                "entity_id": entity_id,
                "customer_id": _customer_id_of(obj),
                "action": action,
                "changes": changes,
                "summary": getattr(obj, "name", None) or getattr(obj, "value", None),
            }
        )
    if rows:
        session.execute(insert(AuditEntry), rows)
