"""The orders export for a date range: one row per order, or one per order line.

A cancelled or void order is no sale: like the statement and the revenue export, this one
leaves it out unless asked to include it, so by default every row is a sale and the Total
row (which follows the filter) is the period's sales; the notes say how many were left out.
Included, cancelled orders keep their status and the Total's label says they are counted.

This is the path the benchmark measures, so each row is built by one tuple expression from
one streamed query (amounts cast to floating point in SQL: no Decimal per cell), and the
writer sends it with a single ``write_row``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Float, Select, case, cast, func, select
from sqlalchemy.orm import Session

from smbcrm.models import Customer, Order, OrderLine, counts_as_sale
from smbcrm.services.currencies import currency_counts
from smbcrm.services.export.workbook import Column, ColumnKind, Row, Sheet

STREAM_CHUNK = 5000

AnySelect = Select[*tuple[Any, ...]]

ORDER_COLUMNS = [
    Column("Order number", "订单号"),
    Column("Date", "日期", ColumnKind.DATE),
    Column("Customer ID", "客户smbcrm编号", ColumnKind.INTEGER),
    Column("Customer", "客户名称"),
    Column("Amount", "金额", ColumnKind.MONEY, total=True),
    Column("Currency", "币种"),
    Column("Status", "订单状态"),
    Column("Source", "来源系统"),
]

LINE_COLUMNS = [
    Column("Order number", "订单号"),
    Column("Date", "日期", ColumnKind.DATE),
    Column("Customer ID", "客户smbcrm编号", ColumnKind.INTEGER),
    Column("Customer", "客户名称"),
    Column("Line", "行号", ColumnKind.INTEGER),
    Column("Product", "产品"),
    Column("SKU", "货号"),
    Column("Quantity", "数量", ColumnKind.NUMBER, total=True),
    Column("Unit price", "单价", ColumnKind.MONEY),
    Column("Line amount", "行金额", ColumnKind.MONEY, total=True),
    Column("Currency", "币种"),
    Column("Status", "订单状态"),
]


def date_filter(stmt: AnySelect, date_from: date | None, date_to: date | None) -> AnySelect:
    if date_from is not None:
        stmt = stmt.where(Order.order_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Order.order_date <= date_to)
    return stmt


def main_currency(session: Session, date_from: date | None, date_to: date | None) -> str:
    """The currency most orders in the range are in (the money format of the sheet)."""
    return next(iter(currency_counts(session, date_from, date_to)), "CNY")


def _sales_and_cancelled(
    session: Session, date_from: date | None, date_to: date | None
) -> tuple[dict[str, int], int]:
    """Sales per currency, most used first, and how many orders in the range are cancelled."""
    is_sale = case((counts_as_sale(), 1), else_=0)
    stmt = select(Order.currency, is_sale, func.count()).group_by(Order.currency, is_sale)
    sales: dict[str, int] = {}
    cancelled = 0
    for code, sale, count in session.execute(date_filter(stmt, date_from, date_to)):
        if not sale:
            cancelled += int(count)
        elif code:
            key = str(code).upper()
            sales[key] = sales.get(key, 0) + int(count)
    ordered = sorted(sales.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered), cancelled


def _count(session: Session, stmt: AnySelect) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def _stream(session: Session, stmt: AnySelect) -> Iterator[Any]:
    # Core rows (no ORM loading per row); yield_per streams: a server-side cursor on
    # PostgreSQL, so 1,000,000 orders never sit in memory.
    yield from session.connection().execute(stmt.execution_options(yield_per=STREAM_CHUNK))


def _order_rows(session: Session, stmt: AnySelect) -> Iterator[Row]:
    for number, day, cid, name, ref, amount, currency, status, source in _stream(session, stmt):
        yield (number, day, cid, name or ref, amount, currency, status, source)


def _line_rows(session: Session, stmt: AnySelect) -> Iterator[Row]:
    for row in _stream(session, stmt):
        (number, day, cid, name, ref, amount, currency, status, line_no, product, sku, qty,
         price, line_amount) = row  # fmt: skip
        if line_no is None:
            # An order without lines still shows, as one line for its whole amount.
            yield (number, day, cid, name or ref, None, None, None, None, None, amount,
                   currency, status)  # fmt: skip
        else:
            yield (number, day, cid, name or ref, line_no, product, sku, qty, price,
                   line_amount, currency, status)  # fmt: skip


def orders_sheet(
    session: Session,
    *,
    date_from: date | None,
    date_to: date | None,
    per_line: bool,
    language: str,
    include_cancelled: bool = False,
) -> Sheet:
    base = [
        Order.order_number,
        Order.order_date,
        Order.customer_id,
        Customer.name,
        Order.customer_ref,
        cast(Order.amount, Float).label("amount"),
        Order.currency,
        Order.status,
    ]
    sales_only = () if include_cancelled else (counts_as_sale(),)
    if per_line:
        stmt: AnySelect = (
            select(
                *base,
                OrderLine.line_no,
                OrderLine.product,
                OrderLine.sku,
                cast(OrderLine.quantity, Float).label("quantity"),
                cast(OrderLine.unit_price, Float).label("unit_price"),
                cast(OrderLine.amount, Float).label("line_amount"),
            )
            .outerjoin(Customer, Customer.id == Order.customer_id)
            .outerjoin(OrderLine, OrderLine.order_id == Order.id)
            .where(*sales_only)
        )
        stmt = date_filter(stmt, date_from, date_to).order_by(
            Order.order_date, Order.id, OrderLine.line_no
        )
        rows = _line_rows(session, stmt)
        columns = LINE_COLUMNS
        currency_column = 10
        name = "订单明细" if language == "zh" else "Order lines"
    else:
        stmt = (
            select(*base, Order.source_system)
            .outerjoin(Customer, Customer.id == Order.customer_id)
            .where(*sales_only)
        )
        stmt = date_filter(stmt, date_from, date_to).order_by(Order.order_date, Order.id)
        rows = _order_rows(session, stmt)
        columns = ORDER_COLUMNS
        currency_column = 5
        name = "订单" if language == "zh" else "Orders"
    # One grouped count gives the progress total, the sheet's main currency and the note.
    counts, cancelled = _sales_and_cancelled(session, date_from, date_to)
    notes = []
    if cancelled and include_cancelled:
        notes.append(
            f"Cancelled or void orders included: {cancelled}. The total counts them too; "
            "filter the Status column in Excel to total the sales alone."
        )
        total_label = "合计(含已取消订单)" if language == "zh" else "Total, cancelled included"
    else:
        total_label = "销售合计" if language == "zh" else "Total sales"
        if cancelled:
            notes.append(
                f"Cancelled or void orders left out: {cancelled}. Every row is a sale and the "
                "total is what was sold; include cancelled orders to list them too."
            )
    return Sheet(
        name=name + period_suffix(date_from, date_to),
        columns=columns,
        rows=rows,
        expected_rows=(
            _count(session, stmt) if per_line or include_cancelled else sum(counts.values())
        ),
        language=language,
        currency_column=currency_column,
        main_currency=next(iter(counts), "CNY"),
        notes=notes,
        total_label=total_label,
    )


def period_suffix(date_from: date | None, date_to: date | None) -> str:
    """' 20260101-20260331': short enough for Excel's 31-character sheet names."""
    if date_from is None and date_to is None:
        return ""
    left = f"{date_from:%Y%m%d}" if date_from else "…"
    right = f"{date_to:%Y%m%d}" if date_to else "…"
    return f" {left}-{right}"
