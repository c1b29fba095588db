"""Customer statements: one customer's (or every customer's) orders, with a subtotal each.

Orders are grouped by customer and currency (a subtotal never adds yuan to dollars), in
name order, each group followed by a ``SUBTOTAL`` row; the grand total ignores those rows.
Orders not yet linked to a customer are left out: they belong to no statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from smbcrm.errors import NotFoundError
from smbcrm.models import Customer, Order, counts_as_sale
from smbcrm.services.export.orders import (
    STREAM_CHUNK,
    AnySelect,
    date_filter,
    main_currency,
    period_suffix,
)
from smbcrm.services.export.workbook import Column, ColumnKind, Row, Sheet, Subtotal

COLUMNS = [
    Column("Customer ID", "客户smbcrm编号", ColumnKind.INTEGER),
    Column("Customer", "客户名称"),
    Column("Date", "日期", ColumnKind.DATE),
    Column("Order number", "订单号"),
    Column("Status", "订单状态"),
    Column("Amount", "金额", ColumnKind.MONEY, total=True),
    Column("Currency", "币种"),
]
AMOUNT = 5


def _rows(session: Session, stmt: AnySelect, language: str) -> Iterator[Row | Subtotal]:
    word = "小计" if language == "zh" else "Subtotal"
    group: tuple[int, str] | None = None
    name = ""
    total = 0.0
    for cid, cname, day, number, status, amount, currency in session.execute(
        stmt.execution_options(yield_per=STREAM_CHUNK)
    ):
        if group is not None and group != (cid, currency):
            yield Subtotal(f"{word} {name} ({group[1]})", {AMOUNT: round(total, 2)}, group[1])
            total = 0.0
        group, name = (cid, currency), cname
        total += amount
        yield (cid, cname, day, number, status, amount, currency)
    if group is not None:
        yield Subtotal(f"{word} {name} ({group[1]})", {AMOUNT: round(total, 2)}, group[1])


def statement_sheet(
    session: Session,
    *,
    customer_id: int | None,
    date_from: date | None,
    date_to: date | None,
    language: str,
) -> Sheet:
    stmt = select(
        Customer.id,
        Customer.name,
        Order.order_date,
        Order.order_number,
        Order.status,
        cast(Order.amount, Float),
        Order.currency,
    ).join(Customer, Customer.id == Order.customer_id)
    # A statement lists what was sold: cancelled orders are left out.
    stmt = stmt.where(counts_as_sale())
    title = None
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFoundError(f"There is no customer with ID {customer_id}; check the ID.")
        stmt = stmt.where(Order.customer_id == customer.id)
        title = customer.name
    stmt = date_filter(stmt, date_from, date_to).order_by(
        Customer.sort_key, Customer.id, Order.currency, Order.order_date, Order.id
    )
    count = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    base = "对账单" if language == "zh" else "Statement"
    return Sheet(
        name=base + period_suffix(date_from, date_to),
        columns=COLUMNS,
        rows=_rows(session, stmt, language),
        expected_rows=count,
        language=language,
        currency_column=6,
        main_currency=main_currency(session, date_from, date_to),
        label_column=1,
        title=title,
    )
