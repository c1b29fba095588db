"""Order list pages for the orders view, newest first, searchable by number or customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from smbcrm.models import Customer, Order
from smbcrm.models.keys import fold_text


@dataclass(frozen=True)
class OrderRow:
    id: int
    order_number: str
    order_date: date
    customer_id: int | None
    customer: str | None
    amount: Decimal
    currency: str
    status: str | None
    source_system: str


def _filtered(text: str) -> Select[*tuple[Any, ...]]:
    stmt = select(
        Order.id,
        Order.order_number,
        Order.order_date,
        Order.customer_id,
        Customer.name,
        Order.amount,
        Order.currency,
        Order.status,
        Order.source_system,
    ).outerjoin(Customer, Customer.id == Order.customer_id)
    term = fold_text(text)
    if term:
        stmt = stmt.where(
            or_(
                Order.order_number.contains(text.strip(), autoescape=True),
                Customer.search_text.contains(term, autoescape=True),
                Order.customer_ref.contains(text.strip(), autoescape=True),
            )
        )
    return stmt


def order_page(
    session: Session, text: str = "", *, offset: int = 0, limit: int = 200
) -> list[OrderRow]:
    stmt = (
        _filtered(text)
        .order_by(Order.order_date.desc(), Order.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [OrderRow(*row) for row in session.execute(stmt)]


def order_count(session: Session, text: str = "") -> int:
    stmt = _filtered(text)
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
