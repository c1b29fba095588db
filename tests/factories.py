"""Small factories for test data: only what a test states, sensible defaults for the rest."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smbcrm.models import (
    Contact,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerStatus,
    ExternalId,
    Order,
)

_seq = itertools.count(1)


def make_customer(
    session: Session,
    name: str | None = None,
    *,
    phones: list[str] = (),  # type: ignore[assignment]
    emails: list[str] = (),  # type: ignore[assignment]
    contact: str | None = None,
    external: dict[str, str] | None = None,
    **fields: Any,
) -> Customer:
    n = next(_seq)
    customer = Customer(
        name=name or f"Customer {n}", status=fields.pop("status", CustomerStatus.ACTIVE), **fields
    )
    session.add(customer)
    if contact:
        customer.contacts.append(Contact(name=contact, is_primary=True))
    for phone in phones:
        customer.contact_points.append(ContactPoint(kind=ContactPointKind.MOBILE, value=phone))
    for email in emails:
        customer.contact_points.append(ContactPoint(kind=ContactPointKind.EMAIL, value=email))
    for system, key in (external or {}).items():
        customer.external_ids.append(ExternalId(system=system, key=key))
    session.flush()
    return customer


def make_order(
    session: Session,
    customer: Customer | None,
    *,
    amount: str | Decimal = "100.00",
    when: date | None = None,
    number: str | None = None,
    source: str = "erp",
    **fields: Any,
) -> Order:
    order = Order(
        customer_id=customer.id if customer else None,
        order_number=number or f"SO-{next(_seq):06d}",
        order_date=when or date(2026, 1, 15),
        amount=Decimal(str(amount)),
        source_system=source,
        **fields,
    )
    session.add(order)
    session.flush()
    return order
