"""A cancelled or void order is no sale: revenue, ordering rhythm, tiers, charts, exports,
statements and after-sales calls leave it out, whatever the source system called it.
On both engines."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from smbcrm.models import Customer, Database, FollowUp, Order, Tier, is_cancelled_status
from smbcrm.services import after_sales, charts_data, risk, tiers
from smbcrm.services.after_sales import AfterSaleScope, AfterSalesSettings
from smbcrm.services.auth import find_user
from smbcrm.services.customers import order_stats
from smbcrm.services.export import ExportKind, ExportOptions, export
from smbcrm.services.risk import RiskSettings
from tests.factories import make_customer, make_order

TODAY = date(2026, 11, 23)


def test_the_words_systems_use_for_cancelled() -> None:
    for status in ("cancelled", "Canceled", "VOID", "已作废", "作废", "已取消", "退单"):
        assert is_cancelled_status(status), status
    for status in (None, "", "completed", "已完成", "shipped", "pending", "partly cancelled"):
        assert not is_cancelled_status(status), status


def test_an_order_status_is_stored_trimmed(company: Database) -> None:
    with company.session() as session:
        customer = make_customer(session, "Nordwind GmbH")
        order = make_order(session, customer, status="  Cancelled ")
        blank = make_order(session, customer, status="   ")
    with company.new_session() as session:
        assert session.get_one(Order, order.id).status == "Cancelled"
        assert session.get_one(Order, blank.id).status is None


def _book(db: Database) -> int:
    with db.session() as session:
        customer = make_customer(session, "华强电子有限公司")
        for months_ago in (1, 2, 3):
            make_order(
                session,
                customer,
                amount="100.00",
                when=TODAY - timedelta(days=30 * months_ago),
                status="已完成",
            )
        make_order(
            session, customer, amount="5000.00", when=TODAY - timedelta(days=5), status="已作废"
        )
        make_order(
            session,
            customer,
            amount="7000.00",
            when=TODAY - timedelta(days=3),
            status=" Cancelled ",
        )
        return customer.id


def test_revenue_and_rhythm_leave_cancelled_orders_out(company: Database) -> None:
    customer_id = _book(company)
    with company.new_session() as session:
        stats = order_stats(session, customer_id)
        assert (stats.count, stats.totals, stats.cancelled) == (3, {"CNY": Decimal("300.00")}, 2)
        assert stats.first_order == TODAY - timedelta(days=90)
        assert stats.last_order == TODAY - timedelta(days=30)  # not the cancelled one of last week
        rhythms, revenues = risk.order_facts(session, TODAY, RiskSettings())
        assert revenues[customer_id][0] == 300.0
        assert rhythms[customer_id].days == 3
        assert rhythms[customer_id].last == TODAY - timedelta(days=30)
        months = charts_data.revenue_by_month(session, TODAY)
        assert sum(m.value for m in months) == 300.0


def test_tiers_count_sales_only(company: Database) -> None:
    customer_id = _book(company)
    with company.session() as session:
        big = make_customer(session, "Steady Buyer Ltd")
        make_order(session, big, amount="5000.00", when=TODAY - timedelta(days=10))
        big_id = big.id
    with company.session() as session:
        tiers.recompute_tiers(session, TODAY)
    with company.new_session() as session:
        # 300 of sales against 5,000: without the 12,000 cancelled it is the smaller one.
        assert session.get_one(Customer, big_id).tier == Tier.A
        assert session.get_one(Customer, customer_id).tier != Tier.A


def test_exports_and_statements_leave_cancelled_orders_out(
    company: Database, tmp_path: Path
) -> None:
    _book(company)
    with company.new_session() as session:
        boss_id = find_user(session, "boss").id
    sheet_of = {}
    for kind in (ExportKind.REVENUE, ExportKind.STATEMENT, ExportKind.CUSTOMERS):
        target = tmp_path / f"{kind.value}.xlsx"
        export(company, boss_id, kind, target, ExportOptions())
        rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
        sheet_of[kind] = " ".join(str(v) for row in rows for v in row)
    for kind, text in sheet_of.items():
        assert "5000" not in text and "7000" not in text and "12300" not in text, kind
    assert "300" in sheet_of[ExportKind.REVENUE]
    assert "已作废" not in sheet_of[ExportKind.STATEMENT]


def test_no_after_sales_call_for_a_cancelled_order(company: Database) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        after_sales.save_after_sales_settings(
            session, boss, AfterSalesSettings(3, AfterSaleScope.EVERY_ORDER)
        )
        customer = make_customer(session, "Nordwind GmbH", owner_id=boss.id)
        sold = make_order(session, customer, when=TODAY - timedelta(days=1), status="shipped")
        void = make_order(session, customer, when=TODAY - timedelta(days=1), status="void")
        ids = [sold.id, void.id]
    with company.session() as session:
        assert after_sales.plan_after_sales_follow_ups(session, ids, today=TODAY) == 1
    with company.new_session() as session:
        assert list(session.scalars(select(FollowUp.order_id))) == [ids[0]]
