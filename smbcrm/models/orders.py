"""Orders from any source system, with optional lines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smbcrm.models.base import IDS_NEVER_REUSED, Base, enum_column, utcnow
from smbcrm.models.enums import LinkRoute

if TYPE_CHECKING:
    from smbcrm.models.customer import Customer

Money = Numeric(14, 2)

# Statuses source systems give an order that did not happen.
CANCELLED_STATUSES = (
    "cancelled",
    "canceled",
    "cancel",
    "void",
    "voided",
    "作废",
    "已作废",
    "取消",
    "已取消",
    "撤销",
    "已撤销",
    "退单",
    "已退单",
)
# As stored: statuses are trimmed on the way in and come lower-case, Title-case or
# UPPER-CASE. A plain IN list keeps the revenue reads fast (no function per order).
_CANCELLED_FORM_SET = frozenset(
    form(s) for s in CANCELLED_STATUSES for form in (str.lower, str.title, str.upper)
)
CANCELLED_FORMS = tuple(sorted(_CANCELLED_FORM_SET))  # a stable order for the SQL


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null until the order is linked: unmatched orders wait for review.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    source_system: Mapped[str] = mapped_column(String(64), default="manual")
    order_number: Mapped[str] = mapped_column(String(100))
    order_date: Mapped[date] = mapped_column(index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[str | None] = mapped_column(String(50))
    # The reference as the source system gave it (code, name or phone), kept for review.
    customer_ref: Mapped[str | None] = mapped_column(String(300))
    # Everything the file said about the buyer (name, phone, e-mail, city, code), so an
    # unmatched order can become a customer or be linked by hand later.
    customer_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    link_route: Mapped[LinkRoute | None] = mapped_column(enum_column(LinkRoute))
    notes: Mapped[str | None] = mapped_column(Text)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.line_no"
    )

    __table_args__ = (
        UniqueConstraint("source_system", "order_number"),
        # Covers the per-customer reads (risk, order stats: cancelled orders left out,
        # amounts converted by their currency): no table lookups per order.
        Index(
            "ix_orders_customer_date", "customer_id", "order_date", "amount", "status", "currency"
        ),
        IDS_NEVER_REUSED,
    )


def is_cancelled_status(status: str | None) -> bool:
    """An order its source system marked cancelled or void (as stored): not a sale."""
    return status in _CANCELLED_FORM_SET


def counts_as_sale() -> ColumnElement[bool]:
    """SQL: the order is a sale, i.e. not cancelled (revenue, rhythm, after-sales calls)."""
    return or_(Order.status.is_(None), Order.status.not_in(CANCELLED_FORMS))


class Conversion(Base):
    """A prospect that became an active customer with its first order."""

    __tablename__ = "conversions"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    order_date: Mapped[date | None]
    converted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who owned the prospect when it converted: the credit stays with them.
    prospect_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(default=1)
    product: Mapped[str] = mapped_column(String(300))
    sku: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(1))
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    amount: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="lines")
