"""After-sales follow-ups: a call N days after each order (or after a new customer's first
order), planned by itself whenever orders come in, so nobody has to remember it.

Company settings (owners and managers change them, ``Permission.MANAGE_SETTINGS``):

- ``followup.after_sale_days``: N; 0 or missing switches the feature off.
- ``followup.after_sale_scope``: ``"every order"`` or ``"first order of a new customer"``.

Rules of :func:`plan_after_sales_follow_ups`:

- one task per order, ever (``FollowUp.order_id`` is unique): re-importing the same orders,
  or planning twice, adds nothing; a finished task is not planned again;
- only orders linked to a live customer (unmatched orders wait for review; archived and
  merged-away customers get no calls) and with a positive amount (credit notes and
  returns are not sales);
- "first order of a new customer": the order is the customer's earliest (by date, then
  by when it was recorded) — a later order of the same customer never qualifies;
- the task is for the customer's salesperson; when there is none, or they have left, it
  goes to the unassigned pool, where managers see it (My day › Unassigned);
- due on the order date + N days, but never in the past: an order imported late gets its
  call today. Orders whose call would have been due more than ``HISTORY_DAYS`` ago are
  history (importing three years of old orders must not bury everyone in calls) and get
  no task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from smbcrm.errors import ValidationError
from smbcrm.models import Customer, FollowUp, Order, Setting, User, counts_as_sale, utcnow
from smbcrm.services.money import format_money
from smbcrm.services.permissions import Permission, require

DAYS_KEY = "followup.after_sale_days"
SCOPE_KEY = "followup.after_sale_scope"
MAX_DAYS = 365
# Calls that would have been due longer ago than this are history, not a to-do.
HISTORY_DAYS = 30
# Orders looked at per statement: well below SQLite's bound-parameter limit (32,766).
CHUNK = 2000


class AfterSaleScope(StrEnum):
    EVERY_ORDER = "every order"
    FIRST_ORDER = "first order of a new customer"


@dataclass
class AfterSalesSettings:
    days: int = 0  # 0: off
    scope: AfterSaleScope = AfterSaleScope.EVERY_ORDER

    @property
    def enabled(self) -> bool:
        return self.days > 0

    @classmethod
    def load(cls, session: Session) -> AfterSalesSettings:
        stored: dict[str, Any] = dict(
            session.execute(
                select(Setting.key, Setting.value).where(Setting.key.in_([DAYS_KEY, SCOPE_KEY]))
            ).all()
        )
        settings = cls()
        days = stored.get(DAYS_KEY)
        # None, a hand-edited string or a negative number all mean "off".
        if isinstance(days, int) and not isinstance(days, bool) and 0 < days <= MAX_DAYS:
            settings.days = days
        scope = stored.get(SCOPE_KEY)
        if scope in {s.value for s in AfterSaleScope}:
            settings.scope = AfterSaleScope(scope)
        return settings

    def validate(self) -> None:
        if not 0 <= self.days <= MAX_DAYS:
            raise ValidationError(
                {
                    "days": f"Plan the call 1 to {MAX_DAYS} days after the order, "
                    "or 0 to switch after-sales follow-ups off."
                }
            )


def save_after_sales_settings(
    session: Session, actor: User | None, settings: AfterSalesSettings
) -> None:
    """Store the setting for the whole company (it applies to orders that come in later)."""
    require(actor, Permission.MANAGE_SETTINGS)
    settings.validate()
    session.merge(Setting(key=DAYS_KEY, value=settings.days or None))
    session.merge(Setting(key=SCOPE_KEY, value=settings.scope.value))
    session.flush()


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _same(day: date) -> date:
    return day


def _title(number: str, first: bool) -> str:
    text = f"After-sales call: order {number}"
    return (text + " (first order)" if first else text)[:300]


def _notes(number: str, on: date, amount: Decimal, currency: str) -> str:
    return f"Order {number} of {on.isoformat()}, {format_money(amount, currency)}. Ask how it went."


# The columns each planned task sets (the others keep their defaults: no activity, no case).
_COLUMNS = (
    "customer_id",
    "assignee_id",
    "order_id",
    "title",
    "notes",
    "due_date",
    "created_at",
    "updated_at",
)


def _insert(session: Session, rows: list[tuple[Any, ...]]) -> int:
    """Insert the tasks (tuples in ``_COLUMNS`` order); returns how many went in.

    Another desktop importing the same orders at the same moment may have planned some
    already: the unique order_id keeps one task, and these inserts skip the others instead
    of failing the import (ON CONFLICT DO NOTHING, on both engines).
    """
    if session.get_bind().dialect.name == "postgresql":
        stmt = pg_insert(FollowUp).on_conflict_do_nothing(index_elements=["order_id"])
        params = [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
        return len(session.execute(stmt.returning(FollowUp.id), params).all())
    # SQLite: plain tuples to the driver's executemany, in SQLAlchemy's own storage formats
    # for dates and times (the ORM reads them back unchanged). Several times faster than
    # SQLAlchemy's parameter processing for 100,000 tasks.
    sql = (
        f"INSERT INTO follow_ups ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in _COLUMNS)}) ON CONFLICT (order_id) DO NOTHING"
    )
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def plan_after_sales_follow_ups(
    session: Session, order_ids: Iterable[int], *, today: date | None = None
) -> int:
    """Create the after-sales tasks the given orders call for; returns how many are new.

    Set-based: two reads and one insert per 2,000 orders, so 100,000 imported orders are
    planned in seconds. Runs inside the caller's transaction (an import's, typically).
    """
    settings = AfterSalesSettings.load(session)
    if not settings.enabled:
        return 0
    today = today or date.today()
    wait = timedelta(days=settings.days)
    # The oldest order whose call is still worth making (see HISTORY_DAYS).
    oldest = today - wait - timedelta(days=HISTORY_DAYS)
    first_only = settings.scope == AfterSaleScope.FIRST_ORDER
    earlier = aliased(Order)
    # Written so both engines walk the customer's orders along (customer_id, order_date).
    has_earlier = exists().where(
        earlier.customer_id == Order.customer_id,
        earlier.order_date <= Order.order_date,
        or_(earlier.order_date < Order.order_date, earlier.id < Order.id),
    )
    # Two reads per chunk, each along one index: the orders by id, then their customers
    # by id. (Joined in one statement, SQLite walks every live customer instead.)
    orders = select(
        Order.id,
        Order.customer_id,
        Order.order_number,
        Order.order_date,
        Order.amount,
        Order.currency,
    ).where(
        Order.customer_id.is_not(None),
        Order.order_date >= oldest,
        Order.amount > 0,
        counts_as_sale(),
        ~exists().where(FollowUp.order_id == Order.id),
    )
    if first_only:
        orders = orders.where(~has_earlier)
    customers = (
        select(Customer.id, User.id)
        .outerjoin(User, and_(User.id == Customer.owner_id, User.active.is_(True)))
        .where(Customer.archived_at.is_(None), Customer.merged_into_id.is_(None))
    )
    is_sqlite = session.get_bind().dialect.name == "sqlite"
    # Plain rows through Core: no ORM bookkeeping for 100,000 of them.
    connection = session.connection()
    created = 0
    ids = sorted({int(i) for i in order_ids})
    for chunk in _chunks(ids):
        found = connection.execute(orders.where(Order.id.in_(chunk))).all()
        if not found:
            continue
        # customer id → the salesperson's id (None: the unassigned pool), live ones only.
        owners: dict[int, int | None] = dict(
            connection.execute(customers.where(Customer.id.in_({row[1] for row in found}))).all()
        )
        now: datetime | str = utcnow()
        day: Callable[[date], date | str] = _same
        if is_sqlite:
            now, day = now.strftime("%Y-%m-%d %H:%M:%S.%f"), date.isoformat  # type: ignore[union-attr]
        rows = [
            (
                customer_id,
                owners[customer_id],
                order_id,
                _title(number, first_only),
                _notes(number, on, amount, currency),
                day(max(on + wait, today)),
                now,
                now,
            )
            for order_id, customer_id, number, on, amount, currency in found
            if customer_id in owners
        ]
        if not rows:
            continue
        created += _insert(session, rows)
    return created
