"""Referrals: who brought whom, and what those customers bought since.

Most new customers of a small business come through existing ones. A customer's
"referred by" names another customer; from it this module answers "whom did they refer,
and what revenue did that bring?" and "who are our best referrers?".

Revenue is the sum of the referred customers' orders, all time and over the last 12
months (365 days up to ``today``). Merged-away customers are not counted: their orders
now belong to the customer they were merged into.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session, aliased

from smbcrm.errors import NotFoundError, ValidationError
from smbcrm.models import Customer, CustomerStatus, Order, User, counts_as_sale
from smbcrm.models.keys import DEFAULT_REGION
from smbcrm.services.currencies import load_rates
from smbcrm.services.customers import CustomerFilter, CustomerList
from smbcrm.services.permissions import require_edit_customer

CENTS = Decimal("0.01")


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENTS)


def _year_ago(today: date | None) -> date:
    return (today or date.today()) - timedelta(days=365)


@dataclass(frozen=True)
class ReferredCustomer:
    id: int
    name: str
    city: str | None
    status: CustomerStatus
    added_on: datetime
    orders: int
    revenue: Decimal
    revenue_12m: Decimal
    last_order: date | None


@dataclass(frozen=True)
class Referrals:
    """Whom one customer referred, best first, with the totals."""

    referrer_id: int
    customers: list[ReferredCustomer]
    currency: str  # the home currency: revenue in other currencies is converted

    @property
    def revenue(self) -> Decimal:
        return sum((c.revenue for c in self.customers), Decimal("0.00"))

    @property
    def revenue_12m(self) -> Decimal:
        return sum((c.revenue_12m for c in self.customers), Decimal("0.00"))


def referrals_of(session: Session, customer_id: int, *, today: date | None = None) -> Referrals:
    """The customers ``customer_id`` referred, each with its revenue (all time, 12 months)."""
    if session.get(Customer, customer_id) is None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    since = _year_ago(today)
    referred = (Customer.referred_by_id == customer_id) & Customer.merged_into_id.is_(None)
    rates = load_rates(session)
    amount = rates.in_home()
    revenue = func.coalesce(func.sum(amount), 0)
    recent = func.coalesce(func.sum(case((Order.order_date >= since, amount), else_=0)), 0)
    rows = session.execute(
        select(
            Customer.id,
            Customer.name,
            Customer.city,
            Customer.status,
            Customer.created_at,
            func.count(Order.id),
            revenue,
            recent,
            func.max(Order.order_date),
        )
        .outerjoin(Order, (Order.customer_id == Customer.id) & counts_as_sale())
        .where(referred)
        .group_by(
            Customer.id,
            Customer.name,
            Customer.city,
            Customer.status,
            Customer.created_at,
            Customer.sort_key,
        )
        .order_by(revenue.desc(), Customer.sort_key, Customer.id)
    ).all()
    return Referrals(
        referrer_id=customer_id,
        customers=[
            ReferredCustomer(
                id=cid,
                name=name,
                city=city,
                status=status,
                added_on=created,
                orders=int(count),
                revenue=_money(total),
                revenue_12m=_money(last_year),
                last_order=last,
            )
            for cid, name, city, status, created, count, total, last_year, last in rows
        ],
        currency=rates.home,
    )


@dataclass(frozen=True)
class TopReferrer:
    customer_id: int
    name: str
    city: str | None
    owner: str | None
    referred: int
    # Referred customers with at least one order in the period.
    buying: int
    revenue: Decimal


@dataclass(frozen=True)
class TopReferrers:
    rows: list[TopReferrer]
    since: date | None
    currency: str  # the home currency


def top_referrers(session: Session, limit: int = 20, since: date | None = None) -> TopReferrers:
    """Customers whose referrals brought the most revenue (orders on or after ``since``;
    all time when None), then the most referred customers."""
    referrer = aliased(Customer)
    referred = aliased(Customer)
    owner = aliased(User)
    on_order = (Order.customer_id == referred.id) & counts_as_sale()
    if since is not None:
        on_order = on_order & (Order.order_date >= since)
    rates = load_rates(session)
    revenue = func.coalesce(func.sum(rates.in_home()), 0)
    referred_count = func.count(distinct(referred.id))
    stmt = (
        select(
            referrer.id,
            referrer.name,
            referrer.city,
            owner.full_name,
            referred_count,
            func.count(distinct(Order.customer_id)),
            revenue,
        )
        .join(referred, referred.referred_by_id == referrer.id)
        .outerjoin(Order, on_order)
        .outerjoin(owner, owner.id == referrer.owner_id)
        .where(referrer.merged_into_id.is_(None), referred.merged_into_id.is_(None))
        .group_by(referrer.id, referrer.name, referrer.city, owner.full_name, referrer.sort_key)
        .order_by(revenue.desc(), referred_count.desc(), referrer.sort_key, referrer.id)
        .limit(limit)
    )
    rows = [
        TopReferrer(cid, name, city, who, int(count), int(buying), _money(total))
        for cid, name, city, who, count, buying, total in session.execute(stmt)
    ]
    return TopReferrers(rows=rows, since=since, currency=rates.home)


# ---------------------------------------------------------------------------------------
# Setting "referred by"


def validate_referrer(session: Session, customer_id: int | None, referrer_id: int) -> Customer:
    """The referrer, if it may refer this customer; ValidationError saying why not.

    ``customer_id`` is None for a customer not saved yet (no cycle is possible then).
    """

    def refuse(message: str) -> ValidationError:
        return ValidationError({"referred_by_id": message})

    if referrer_id == customer_id:
        raise refuse("A customer cannot refer themselves; choose the customer who referred them.")
    referrer = session.get(Customer, referrer_id)
    if referrer is None:
        raise refuse(f"There is no customer with ID {referrer_id}; choose one from the list.")
    if referrer.merged_into_id is not None:
        survivor = session.get(Customer, referrer.merged_into_id)
        into = survivor.name if survivor is not None else "another customer"
        raise refuse(f"{referrer.name} was merged into {into}; choose {into} instead.")
    if referrer.archived_at is not None:
        raise refuse(f"{referrer.name} is archived. Restore it first, or choose another customer.")
    if customer_id is None:
        return referrer
    # Walk up the referrer's own chain: meeting the customer there would close a circle.
    seen = {referrer.id}
    current = referrer.referred_by_id
    while current is not None and current not in seen:
        if current == customer_id:
            raise refuse(
                f"{referrer.name} was referred (directly or through others) by this "
                "customer; a customer cannot be referred by someone they brought in."
            )
        seen.add(current)
        current = session.scalar(select(Customer.referred_by_id).where(Customer.id == current))
    return referrer


def set_referred_by(
    session: Session, actor: User | None, customer_id: int, referrer_id: int | None
) -> Customer:
    """Record (or clear, with None) who referred the customer. Same rights as editing it."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.merged_into_id is not None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    require_edit_customer(actor, customer)
    if referrer_id is not None:
        validate_referrer(session, customer_id, referrer_id)
    if customer.referred_by_id != referrer_id:
        customer.referred_by_id = referrer_id
        session.flush()
    return customer


# ---------------------------------------------------------------------------------------
# The picker's choices


@dataclass(frozen=True)
class CustomerChoice:
    id: int
    name: str
    city: str | None
    phone: str
    contact: str | None

    @property
    def label(self) -> str:
        """ "华强电子 · 深圳 · +86 138 0013 8000": enough to tell namesakes apart."""
        return " · ".join(part for part in (self.name, self.city, self.phone) if part)


def referrer_choices(
    session: Session,
    text: str,
    limit: int = 20,
    *,
    exclude_id: int | None = None,
    customer_list: CustomerList | None = None,
    region: str = DEFAULT_REGION,
) -> list[CustomerChoice]:
    """Live customers matching the typed text (name, contact, phone, e-mail, city), by name.

    Uses the customer list's search; pass the window's ``customer_list`` so its in-memory
    index is reused rather than loaded again for each keystroke.
    """
    if not text.strip():
        return []
    search = customer_list or CustomerList(region)
    rows = search.page(session, CustomerFilter(text=text), limit=limit + 1)
    return [
        CustomerChoice(r.id, r.name, r.city, r.phone, r.contact) for r in rows if r.id != exclude_id
    ][:limit]
