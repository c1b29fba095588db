"""Revenue by customer by month: a cross-table, one row per customer (and currency).

Months run across, from the period's first month to its last; without a period, the last
twelve months up to today. Each row ends with its total; the totals row sums each month.
Orders not linked to a customer are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from smbcrm.models import Customer, Order, counts_as_sale
from smbcrm.models.db import as_date
from smbcrm.services.export.orders import AnySelect, date_filter, main_currency
from smbcrm.services.export.workbook import Column, ColumnKind, Row, Sheet

MAX_MONTHS = 120


def default_period(today: date | None = None) -> tuple[date, date]:
    today = today or date.today()
    month = today.year * 12 + today.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), today


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    first = start.year * 12 + start.month - 1
    last = end.year * 12 + end.month - 1
    return [(m // 12, m % 12 + 1) for m in range(first, last + 1)]


def revenue_sheet(
    session: Session, *, date_from: date | None, date_to: date | None, language: str
) -> Sheet:
    start, end = default_period()
    if date_from is not None or date_to is not None:
        bounds: AnySelect = select(func.min(Order.order_date), func.max(Order.order_date))
        first_order, last_order = session.execute(date_filter(bounds, date_from, date_to)).one()
        start = date_from or as_date(first_order) or start
        end = date_to or as_date(last_order) or end
    months = months_between(start, end)[-MAX_MONTHS:]
    if session.get_bind().dialect.name == "postgresql":
        month_expr = func.to_char(Order.order_date, "YYYY-MM")
    else:
        month_expr = func.strftime("%Y-%m", Order.order_date)
    stmt = date_filter(
        select(Order.customer_id, Order.currency, month_expr, func.sum(cast(Order.amount, Float)))
        .where(Order.customer_id.is_not(None), counts_as_sale())
        .group_by(Order.customer_id, Order.currency, month_expr),
        start,
        end,
    )
    index = {f"{y:04d}-{m:02d}": i for i, (y, m) in enumerate(months)}
    cells: dict[tuple[int, str], list[float | None]] = defaultdict(lambda: [None] * len(months))
    for cid, currency, month, amount in session.execute(stmt):
        i = index.get(str(month))
        if i is not None:
            cells[(int(cid), str(currency))][i] = round(float(amount or 0), 2)
    names = {}
    ids = sorted({cid for cid, _cur in cells})
    for lo in range(0, len(ids), 1000):
        part = ids[lo : lo + 1000]
        names.update(
            {
                cid: (name, sort_key)
                for cid, name, sort_key in session.execute(
                    select(Customer.id, Customer.name, Customer.sort_key).where(
                        Customer.id.in_(part)
                    )
                )
            }
        )
    order = sorted(cells, key=lambda k: (names.get(k[0], ("", ""))[1], k[0], k[1]))

    def rows() -> Iterator[Row]:
        for cid, currency in order:
            values = cells[(cid, currency)]
            total = round(sum(v for v in values if v is not None), 2)
            yield (cid, names.get(cid, ("", ""))[0], currency, *values, total)

    month_columns = [
        Column(f"{y:04d}-{m:02d}", f"{y}年{m}月", ColumnKind.MONEY, total=True) for y, m in months
    ]
    columns = [
        Column("Customer ID", "客户smbcrm编号", ColumnKind.INTEGER),
        Column("Customer", "客户名称"),
        Column("Currency", "币种"),
        *month_columns,
        Column("Total", "合计", ColumnKind.MONEY, total=True),
    ]
    return Sheet(
        name="月度销售额" if language == "zh" else "Revenue by month",
        columns=columns,
        rows=rows(),
        expected_rows=len(order),
        language=language,
        currency_column=2,
        main_currency=main_currency(session, start, end),
        label_column=1,
    )
