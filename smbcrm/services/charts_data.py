"""Plain numbers behind the at-risk screen's charts: no Qt, one aggregate query each.

* :func:`revenue_by_month` — revenue per calendar month, oldest first, empty months as 0;
* :func:`customers_by_level` — how many active customers sit at each risk level;
* :func:`won_lost_by_month` — customers won (their first order) and lost (silent for
  ``lost_after_days`` after their last order) per month.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smbcrm.models import Order, counts_as_sale
from smbcrm.services.currencies import ExchangeRates, load_rates
from smbcrm.services.risk import RiskLevel, RiskRow


@dataclass(frozen=True)
class MonthValue:
    month: str  # "2026-03"
    value: float


@dataclass(frozen=True)
class WonLost:
    month: str
    won: int
    lost: int


def last_months(today: date, months: int) -> list[str]:
    """The ``months`` calendar months ending with today's, oldest first, as "YYYY-MM"."""
    year, month = today.year, today.month
    labels = []
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return labels[::-1]


def _first_day(label: str) -> date:
    return date(int(label[:4]), int(label[5:7]), 1)


def revenue_by_month(
    session: Session,
    today: date | None = None,
    months: int = 12,
    rates: ExchangeRates | None = None,
) -> list[MonthValue]:
    """Sales per month in the home currency (orders without an exchange rate left out)."""
    today = today or date.today()
    labels = last_months(today, months)
    if session.get_bind().dialect.name == "postgresql":
        month = func.to_char(Order.order_date, "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", Order.order_date)
    stmt = (
        select(month, func.sum((rates or load_rates(session)).in_home()))
        .where(
            Order.order_date >= _first_day(labels[0]), Order.order_date <= today, counts_as_sale()
        )
        .group_by(month)
    )
    totals = {str(m): float(v or 0) for m, v in session.execute(stmt)}
    return [MonthValue(label, round(totals.get(label, 0.0), 2)) for label in labels]


def customers_by_level(rows: Iterable[RiskRow]) -> dict[RiskLevel, int]:
    counts = dict.fromkeys(RiskLevel, 0)
    for row in rows:
        counts[row.level] += 1
    return counts


def won_lost_by_month(
    session: Session,
    today: date | None = None,
    months: int = 12,
    lost_after_days: int = 365,
) -> list[WonLost]:
    """Won: the month of a customer's first order. Lost: the month their silence reached
    ``lost_after_days`` (only if that day has come)."""
    today = today or date.today()
    labels = last_months(today, months)
    won = dict.fromkeys(labels, 0)
    lost = dict.fromkeys(labels, 0)
    stmt = (
        select(func.min(Order.order_date), func.max(Order.order_date))
        .where(Order.customer_id.is_not(None), Order.order_date <= today)
        .group_by(Order.customer_id)
    )
    gap = timedelta(days=lost_after_days)
    for first, last in session.execute(stmt):
        first = first if isinstance(first, date) else date.fromisoformat(str(first))
        last = last if isinstance(last, date) else date.fromisoformat(str(last))
        key = f"{first.year:04d}-{first.month:02d}"
        if key in won:
            won[key] += 1
        gone = last + gap
        if gone <= today:
            key = f"{gone.year:04d}-{gone.month:02d}"
            if key in lost:
                lost[key] += 1
    return [WonLost(label, won[label], lost[label]) for label in labels]
