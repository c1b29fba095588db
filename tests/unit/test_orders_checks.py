"""What the orders import, hand links and the orders export check, on both engines: a
cancelled order converts no prospect, one order number is one order, amounts fit their
columns, order dates are not in the future, two imports of one file at once, moving an
order to another customer only when asked, the export's total, and report files that
cannot be written."""

from __future__ import annotations

import csv
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from smbcrm.errors import ConflictError, SmbcrmError, ValidationError
from smbcrm.models import (
    AuditEntry,
    Conversion,
    Customer,
    CustomerStatus,
    Database,
    ExportEntry,
    ImportKind,
    LinkRoute,
    Order,
    OrderLine,
    User,
)
from smbcrm.services import order_links
from smbcrm.services.export import ExportKind, ExportOptions, export
from smbcrm.services.importing.mapping import auto_map
from smbcrm.services.importing.orders import (
    OrderImportPlan,
    OrderOutcome,
    apply_order_plan,
    parse_order_row,
)
from smbcrm.services.importing.plan import ImportOptions
from smbcrm.services.importing.service import apply_import, prepare_import
from tests.e2e.test_cli import smbcrm
from tests.factories import make_customer, make_order

HEADER = ["订单号", "下单日期", "客户编号", "客户名称", "手机", "金额", "订单状态"]


def write_orders(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def preview(db: Database, path: Path) -> OrderImportPlan:
    plan = prepare_import(db, path, ImportKind.ORDERS, source_system="erp").plan
    assert isinstance(plan, OrderImportPlan)
    return plan


def problems_of(plan: OrderImportPlan) -> dict[int, str]:
    return {row.row_number: row.problem_text() for row in plan.error_rows}


def status_of(db: Database, customer_id: int) -> CustomerStatus:
    with db.new_session() as session:
        return session.get_one(Customer, customer_id).status


def conversions_of(db: Database, customer_id: int) -> list[str]:
    """Order numbers of the customer's recorded conversions."""
    with db.new_session() as session:
        return list(
            session.scalars(
                select(Order.order_number)
                .join(Conversion, Conversion.order_id == Order.id)
                .where(Conversion.customer_id == customer_id)
            )
        )


def prospect(db: Database, name: str = "Prospect Co", code: str = "P-1") -> int:
    with db.session() as session:
        return make_customer(
            session, name, status=CustomerStatus.PROSPECT, external={"erp": code}
        ).id


# -- a cancelled order is no first order ----------------------------------------------------


def test_a_cancelled_order_leaves_a_prospect_a_prospect(
    owner: User, company: Database, tmp_path: Path
) -> None:
    customer = prospect(company)
    cancelled = write_orders(
        tmp_path / "cancelled.csv", [["SO-1", "2026-03-02", "P-1", "", "", "500", "已作废"]]
    )
    plan = preview(company, cancelled)
    assert plan.orders[0].customer_id == customer
    assert plan.conversions == 0
    result = apply_import(company, owner.id, plan)
    assert result.conversions == 0
    assert status_of(company, customer) == CustomerStatus.PROSPECT
    assert conversions_of(company, customer) == []
    # The buyer's first sale, even dated after the cancelled order, is what converts.
    sale = write_orders(
        tmp_path / "sale.csv",
        [
            ["SO-1", "2026-03-02", "P-1", "", "", "500", "已作废"],
            ["SO-2", "2026-03-09", "P-1", "", "", "80", "已完成"],
        ],
    )
    assert apply_import(company, owner.id, preview(company, sale)).conversions == 1
    assert status_of(company, customer) == CustomerStatus.ACTIVE
    assert conversions_of(company, customer) == ["SO-2"]


def test_a_file_with_a_cancelled_and_a_sold_order_converts_with_the_sale(
    owner: User, company: Database, tmp_path: Path
) -> None:
    customer = prospect(company)
    path = write_orders(
        tmp_path / "o.csv",
        [
            ["SO-1", "2026-03-01", "P-1", "", "", "500", "Cancelled"],
            ["SO-2", "2026-03-05", "P-1", "", "", "80", ""],
        ],
    )
    assert apply_import(company, owner.id, preview(company, path)).conversions == 1
    assert conversions_of(company, customer) == ["SO-2"]


def test_a_cancelled_order_that_becomes_a_sale_converts_its_prospect(
    owner: User, company: Database, tmp_path: Path
) -> None:
    customer = prospect(company)
    first = [["SO-1", "2026-03-02", "P-1", "", "", "500", "void"]]
    apply_import(company, owner.id, preview(company, write_orders(tmp_path / "a.csv", first)))
    assert status_of(company, customer) == CustomerStatus.PROSPECT
    again = [["SO-1", "2026-03-02", "P-1", "", "", "500", "shipped"]]
    plan = preview(company, write_orders(tmp_path / "b.csv", again))
    assert plan.orders[0].outcome == OrderOutcome.CHANGED and plan.conversions == 1
    assert apply_import(company, owner.id, plan).conversions == 1
    assert status_of(company, customer) == CustomerStatus.ACTIVE
    assert conversions_of(company, customer) == ["SO-1"]


def test_a_conversion_stands_when_its_order_is_cancelled_later_and_the_preview_says_so(
    owner: User, company: Database, tmp_path: Path
) -> None:
    customer = prospect(company)
    sold = [["SO-1", "2026-03-02", "P-1", "", "", "500", "shipped"]]
    apply_import(company, owner.id, preview(company, write_orders(tmp_path / "a.csv", sold)))
    assert status_of(company, customer) == CustomerStatus.ACTIVE
    cancelled = [["SO-1", "2026-03-02", "P-1", "", "", "500", "cancelled"]]
    plan = preview(company, write_orders(tmp_path / "b.csv", cancelled))
    order = plan.orders[0]
    assert order.outcome == OrderOutcome.CHANGED and order.changes["status"][1] == "cancelled"
    assert order.rows[0].warnings == [
        "order SO-1 made Prospect Co a customer; it is cancelled now, and Prospect Co stays a "
        "customer (set them back to prospect by hand if they never bought)"
    ]
    apply_import(company, owner.id, plan)
    assert status_of(company, customer) == CustomerStatus.ACTIVE
    assert conversions_of(company, customer) == ["SO-1"]


def test_linking_a_cancelled_order_by_hand_converts_no_one(owner: User, company: Database) -> None:
    customer = prospect(company)
    with company.session() as session:
        void = make_order(session, None, number="SO-1", status="已取消").id
        sale = make_order(session, None, number="SO-2", when=date(2026, 2, 1)).id
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        result = order_links.link_orders(session, actor, [void], customer)
    assert not result.converted
    assert status_of(company, customer) == CustomerStatus.PROSPECT
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        assert order_links.link_orders(session, actor, [sale], customer).converted
    assert conversions_of(company, customer) == ["SO-2"]


def test_a_customer_made_from_cancelled_orders_only_is_a_prospect(
    owner: User, company: Database, tmp_path: Path
) -> None:
    path = write_orders(
        tmp_path / "o.csv",
        [
            ["SO-1", "2026-03-02", "", "Never Bought Ltd", "", "500", "作废"],
            ["SO-2", "2026-03-03", "", "Bought Once Ltd", "", "80", "作废"],
            ["SO-3", "2026-03-04", "", "Bought Once Ltd", "", "90", "paid"],
        ],
    )
    apply_import(company, owner.id, preview(company, path))
    made = {}
    for number in ("SO-1", "SO-2"):
        with company.session(user_id=owner.id) as session:
            actor = session.get_one(User, owner.id)
            order = order_links.find_order(session, number)
            made[number] = order_links.create_customer_from_order(session, actor, order.id)
    assert made["SO-2"].linked == ["SO-2", "SO-3"]
    assert status_of(company, made["SO-1"].customer_id) == CustomerStatus.PROSPECT
    assert status_of(company, made["SO-2"].customer_id) == CustomerStatus.ACTIVE


# -- one order number is one order ----------------------------------------------------------


def test_rows_of_one_number_that_tell_different_orders_are_problems(
    owner: User, company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "深圳华强", phones=["13800138000"])
        make_customer(session, "杭州绿源", phones=["13912345678"])
    path = write_orders(
        tmp_path / "o.csv",
        [
            ["SO-1", "2026-03-01", "", "深圳华强", "13800138000", "100", ""],
            ["SO-1", "2026-03-05", "", "杭州绿源", "13912345678", "250", ""],
            ["SO-2", "2026-03-05", "", "深圳华强", "13800138000", "80", ""],
            ["SO-2", "2026-03-05", "", "深圳华强", "", "80", ""],  # a repeated row agrees
            ["SO-3", "2026-03-05", "K-1", "", "", "10", "paid"],
            ["SO-3", "", "K-2", "", "", "20", "Paid"],
        ],
    )
    plan = preview(company, path)
    outcomes = {o.order_number: o.outcome for o in plan.orders}
    assert outcomes == {
        "SO-1": OrderOutcome.ERROR,
        "SO-2": OrderOutcome.NEW,
        "SO-3": OrderOutcome.ERROR,
    }
    problems = problems_of(plan)
    assert sorted(problems) == [2, 3, 6, 7]
    assert (
        "column '下单日期': order SO-1 is on row 2 with date 2026-03-01 and here with "
        "2026-03-05. one order number is one order" in problems[3]
    )
    assert (
        "column '客户名称': order SO-1 is on row 2 for customer 深圳华强 and here for 杭州绿源"
        in problems[3]
    )
    assert "order SO-1 is on row 2 with phone 13800138000 and here with 13912345678" in problems[3]
    assert "order SO-1 has a problem on row 3" in problems[2]
    # Amounts differing from row to row are lines; statuses compare without case.
    assert problems[7] == (
        "column '客户编号': order SO-3 is on row 6 with customer code K-1 and here with K-2. "
        "one order number is one order: make its rows agree, or give the other order its "
        "own number"
    )
    result = apply_import(company, owner.id, plan)
    assert (result.created, result.errors) == (1, 4)
    with company.new_session() as session:
        stored = session.execute(select(Order.order_number, Order.amount)).all()
    assert stored == [("SO-2", Decimal("80.00"))]


# -- amounts fit their columns --------------------------------------------------------------

LINE_HEADER = ["订单号", "下单日期", "客户名称", "金额", "产品", "数量", "单价"]


def test_amounts_beyond_their_columns_are_row_problems_and_the_rest_is_exact(
    owner: User, company: Database, tmp_path: Path
) -> None:
    path = write_orders(
        tmp_path / "amounts.csv",
        [
            ["A1", "2026-03-05", "X", "1E400", "", "", ""],
            ["A2", "2026-03-05", "X", "9" * 29, "", "", ""],
            ["A3", "2026-03-05", "X", "12345678901234.56", "", "", ""],
            ["A4", "2026-03-05", "X", "12.345", "", "", ""],
            ["A5", "2026-03-05", "X", "", "Pen", "1e40", "1"],
            ["A6", "2026-03-05", "X", "", "Pen", "99999999999", "9999999999"],
            ["A7", "2026-03-05", "X", "", "Pen", "1", "12.34567"],
            # Each line fits; together they are more than an order amount holds.
            ["A8", "2026-03-05", "X", "", "Ship", "1", "9999999999"],
            *[["A8", "2026-03-05", "X", "", f"Ship {n}", "100", "9999999999"] for n in range(2)],
            ["A9", "2026-03-05", "X", "999999999999.99", "", "", ""],
            ["A10", "2026-03-05", "X", "", "Tea", "2.5", "0.3333"],
        ],
        LINE_HEADER,
    )
    plan = preview(company, path)
    problems = problems_of(plan)
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "'1E400'" in problems[2] and "'9999" in problems[3]
    assert "'12345678901234.56' is too large for an amount" in problems[4]
    assert "999,999,999,999.99" in problems[4]
    assert "'12.345' has more than 2 decimal places" in problems[5]
    assert "'1e40'" in problems[6] and "column '数量'" in problems[6]
    assert "quantity × price is 999,999,999,890,000,000,001" in problems[7]
    assert "'12.34567' has more than 4 decimal places" in problems[8]
    assert "the rows of order A8 add up to 2,009,999,999,799" in problems[9]
    assert all("order A8 has a problem on row 9" in problems[n] for n in (10, 11))
    result = apply_import(company, owner.id, plan)
    assert result.created == 2
    with company.new_session() as session:
        stored = {n: a for n, a in session.execute(select(Order.order_number, Order.amount))}
        line = session.execute(
            select(OrderLine.quantity, OrderLine.unit_price, OrderLine.amount)
        ).one()
    assert stored == {"A9": Decimal("999999999999.99"), "A10": Decimal("0.83")}
    assert tuple(line) == (Decimal("2.5"), Decimal("0.3333"), Decimal("0.83"))


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("数量", "1e40", "'1e40' is too large for a quantity"),
        ("数量", "1,000,000,000,000 件", "'1,000,000,000,000 件' is too large for a quantity"),
        ("数量", "999999999999", "'999999999999' is too large for a quantity"),
        ("单价", "1e40", "'1e40' is too large for a price"),
        ("单价", "¥99,999,999,999", "'¥99,999,999,999' is too large for a price"),
        ("单价", "99999999999", "'99999999999' is too large for a price"),  # the short way
        ("金额", "1E400", "'1E400' is too large for an amount"),
    ],
)
def test_quantities_and_prices_too_large_say_so_in_their_words(
    column: str, value: str, message: str
) -> None:
    cells: list[object] = ["Q1", "2026-03-05", "X", "", "Pen", "1", "1"]
    cells[LINE_HEADER.index(column)] = value
    mapping = auto_map(LINE_HEADER, ImportKind.ORDERS)
    _parsed, problems, _warnings = parse_order_row(cells, LINE_HEADER, mapping, ImportOptions())
    assert [(p.column, p.message) for p in problems] == [(column, message)]
    assert "fit: check that the cell holds" in problems[0].hint


def test_float_cells_from_excel_are_read_as_excel_shows_them(
    company: Database, tmp_path: Path
) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["订单号", "下单日期", "客户名称", "金额"])
    sheet.append(["F1", date(2026, 3, 5), "X", 0.1 + 0.2])  # 0.30000000000000004
    sheet.append(["F2", date(2026, 3, 5), "X", 1234.5600000000001])
    path = tmp_path / "floats.xlsx"
    book.save(path)
    plan = preview(company, path)
    assert problems_of(plan) == {}
    assert [o.amount for o in plan.orders] == [Decimal("0.30"), Decimal("1234.56")]


# -- order dates ----------------------------------------------------------------------------


def test_order_dates_in_the_future_are_row_problems(company: Database, tmp_path: Path) -> None:
    soon = date.today() + timedelta(days=3)
    later = date.today() + timedelta(days=30)
    path = write_orders(
        tmp_path / "dates.csv",
        [
            ["D1", "3024-03-05", "", "X", "", "10", ""],
            ["D2", later.isoformat(), "", "X", "", "10", ""],
            ["D3", f"{later:%Y/%m/%d}", "", "X", "", "10", ""],
            ["D4", soon.isoformat(), "", "X", "", "10", ""],
            ["D5", "1899-12-31", "", "X", "", "10", ""],
        ],
    )
    plan = preview(company, path)
    problems = problems_of(plan)
    assert sorted(problems) == [2, 3, 4, 6]
    assert "3024" in problems[2]
    assert f"order date {later.isoformat()} is in the future" in problems[3]
    assert f"order date {later.isoformat()} is in the future" in problems[4]
    assert "1899" in problems[6]
    assert next(o for o in plan.orders if o.order_number == "D4").order_date == soon


def test_order_dates_are_read_day_or_month_first_by_their_column(
    company: Database, tmp_path: Path
) -> None:
    path = write_orders(
        tmp_path / "dates.csv",
        [
            ["D1", "25.03.2026", "", "X", "", "10", ""],
            ["D2", "01.11.2026", "", "X", "", "10", ""],
        ],
    )
    plan = preview(company, path)
    assert [o.order_date for o in plan.orders] == [date(2026, 3, 25), date(2026, 11, 1)]
    assert not any(row.warnings for row in plan.rows)

    path = write_orders(
        tmp_path / "open.csv",
        [
            ["D1", "2026-03-05", "", "X", "", "10", ""],
            ["D2", "01.11.2026", "", "X", "", "10", ""],
            ["D3", "05.03.2026", "", "X", "", "10", ""],
        ],
    )
    plan = preview(company, path)
    assert [o.order_date for o in plan.orders] == [
        date(2026, 3, 5),
        date(2026, 1, 11),
        date(2026, 5, 3),
    ]
    assert [row.warnings for row in plan.rows] == [
        [],
        [
            "column '下单日期': dates such as 01.11.2026 could be day first or month first, "
            "and every such date in the column was read month first (2026-01-11). If they are "
            "day first, choose day-first dates and preview again"
        ],
        [],
    ]
    said = prepare_import(
        company, path, ImportKind.ORDERS, options=ImportOptions(day_first=True)
    ).plan
    assert isinstance(said, OrderImportPlan)
    assert [o.order_date for o in said.orders] == [
        date(2026, 3, 5),
        date(2026, 11, 1),
        date(2026, 3, 5),
    ]
    assert not any(row.warnings for row in said.rows)


# -- Excel error cells ----------------------------------------------------------------------


def test_excel_error_cells_are_their_rows_problems_by_cell(
    owner: User, company: Database, tmp_path: Path
) -> None:
    import xlsxwriter

    path = tmp_path / "errors.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("订单")
    sheet.write_row(0, 0, [*LINE_HEADER, "传真"])
    sheet.write_row(1, 0, ["E1", "2026-03-05", "X", 100])
    # An error where the number should be: not "empty", and not a line of the order above.
    sheet.write_row(2, 0, [None, None, None, None, "Pen", 1, 2])
    sheet.write_formula(2, 0, "=#REF!", None, "#REF!")
    sheet.write_row(3, 0, ["E2", None, "X", 100])
    sheet.write_formula(3, 1, "=NA()", None, "#N/A")
    sheet.write_row(4, 0, ["E3", "2026-03-05", "X"])
    sheet.write_formula(4, 3, "=1/0", None, "#DIV/0!")
    sheet.write_row(5, 0, ["E4", "2026-03-05", "X", 40])
    sheet.write_formula(5, 7, "=NA()", None, "#N/A")  # in a column not imported
    book.close()

    plan = preview(company, path)
    problems = problems_of(plan)
    hint = "Fix the formula or type the value."
    assert problems == {
        3: f"column '订单号': A3 holds #REF!, an Excel error. {hint}",
        4: f"column '下单日期': B4 holds #N/A, an Excel error. {hint}",
        5: f"column '金额': D5 holds #DIV/0!, an Excel error. {hint}",
    }
    assert {o.order_number: o.outcome for o in plan.orders} == {
        "E1": OrderOutcome.NEW,
        "E2": OrderOutcome.ERROR,
        "E3": OrderOutcome.ERROR,
        "E4": OrderOutcome.NEW,
    }
    assert next(o for o in plan.orders if o.order_number == "E1").lines == []
    result = apply_import(company, owner.id, plan)
    assert (result.created, result.errors) == (2, 3)


# -- phones ---------------------------------------------------------------------------------


def test_each_phone_of_an_order_keeps_its_own_text_and_doubts_are_warnings(
    owner: User, company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        office = make_customer(session, "北京总部", phones=["010-12345678"]).id
    path = write_orders(
        tmp_path / "phones.csv",
        [
            ["P1", "2026-03-05", "", "", "010-12345678-801", "10", ""],
            ["P2", "2026-03-05", "", "新客户", "13800138000/139 1234 5678", "10", ""],
            ["P3", "2026-03-05", "", "另一新客户", "138001380001", "10", ""],
        ],
    )
    plan = preview(company, path)
    first, second, third = plan.orders
    assert first.buyer.phones == [("010-12345678-801", "+861012345678")]
    assert (first.customer_id, first.route) == (office, LinkRoute.PHONE)
    assert second.buyer.phones == [
        ("13800138000", "+8613800138000"),
        ("139 1234 5678", "+8613912345678"),
    ]
    assert third.rows[0].warnings == [
        "column '手机': '138001380001' has 12 digits, but a mobile number has 11: check it"
    ]
    assert third.outcome == OrderOutcome.NEW
    apply_import(company, owner.id, plan)
    with company.new_session() as session:
        details = session.scalar(select(Order.customer_details).where(Order.order_number == "P2"))
    assert details is not None and details["phones"] == ["13800138000", "139 1234 5678"]


# -- two imports of one file at once --------------------------------------------------------


def test_two_imports_of_the_same_orders_at_once_one_is_refused_with_a_message(
    owner: User, company: Database, tmp_path: Path
) -> None:
    path = write_orders(
        tmp_path / "o.csv",
        [[f"SO-{n}", "2026-03-02", "", "Buyer", "", "10", ""] for n in range(1, 6)],
    )
    # Two windows preview the same file, then both press Import.
    plans = [preview(company, path), preview(company, path)]
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def run(plan: OrderImportPlan) -> None:
        start.wait()
        try:
            outcomes.append(apply_order_plan(company, owner.id, plan))
        except Exception as exc:  # what the other window is shown
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 2 and len(refused) == 1, outcomes
    assert isinstance(refused[0], ConflictError), repr(refused[0])
    assert str(refused[0]) == (
        "Another import added 5 of these orders meanwhile (SO-1, SO-2, SO-3, …); nothing was "
        "imported. Preview the file again: it then shows them as already imported."
    )
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 5
    # Previewed again, the file shows what is there now.
    assert preview(company, path).order_counts[OrderOutcome.UNCHANGED] == 5


def test_one_preview_of_orders_is_imported_once(
    owner: User, company: Database, tmp_path: Path
) -> None:
    path = write_orders(tmp_path / "o.csv", [["SO-1", "2026-03-02", "", "Buyer", "", "10", ""]])
    plan = preview(company, path)
    batch_id = apply_order_plan(company, owner.id, plan).batch_id
    with pytest.raises(SmbcrmError, match=f"already imported as batch {batch_id}"):
        apply_order_plan(company, owner.id, plan)
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1


# -- moving an order to another customer ----------------------------------------------------


def test_an_order_of_another_customer_moves_only_when_asked(owner: User, company: Database) -> None:
    with company.session() as session:
        first = make_customer(session, "First Buyer Ltd")
        second = make_customer(session, "Second Buyer Ltd").id
        order = make_order(session, first, number="SO-1", link_route=LinkRoute.CODE).id
        first_id = first.id
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        with pytest.raises(ValidationError) as refused:
            order_links.link_order_number(session, actor, "SO-1", second)
    assert str(refused.value) == (
        f"Order SO-1 belongs to First Buyer Ltd (ID {first_id}); nothing was linked. "
        "To move it to Second Buyer Ltd, link it again with --move."
    )
    with company.new_session() as session:
        assert session.get_one(Order, order).customer_id == first_id
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        moved = order_links.link_order_number(session, actor, "SO-1", second, move=True)
    assert moved.moved_from == (f"First Buyer Ltd (ID {first_id})",)
    with company.new_session() as session:
        stored = session.get_one(Order, order)
        assert (stored.customer_id, stored.link_route) == (second, LinkRoute.MANUAL)
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "order", AuditEntry.entity_id == order)
        ).one()
        assert audit.changes == {
            "customer_id": [first_id, second],
            "link_route": ["code", "manual"],
        }


def test_several_orders_of_other_customers_are_named(owner: User, company: Database) -> None:
    with company.session() as session:
        holders = [make_customer(session, f"Holder {n}") for n in range(4)]
        target = make_customer(session, "Target Ltd").id
        ids = [make_order(session, h, number=f"SO-{n}").id for n, h in enumerate(holders)]
        waiting = make_order(session, None, number="SO-W").id
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        with pytest.raises(ValidationError, match=r"^4 of these orders belong to other") as err:
            order_links.link_orders(session, actor, [*ids, waiting], target)
    assert f"SO-0: Holder 0 (ID {holders[0].id})" in str(err.value) and ", …)" in str(err.value)
    with company.new_session() as session:
        assert session.get_one(Order, waiting).customer_id is None


def test_orders_link_on_the_command_line_moves_only_with_move(tmp_path: Path) -> None:
    password = "owner-pass-1"
    db = str(tmp_path / "book.db")
    made = smbcrm("--db", db, "init", "--company", "Acme", "--owner", "boss", password=password)
    assert made.returncode == 0, made.stderr
    customers = tmp_path / "customers.csv"
    customers.write_text("客户编号,客户名称\nK-1,First Buyer Ltd\nK-2,Second Buyer Ltd\n")
    assert smbcrm("--db", db, "import", str(customers), "--source", "erp").returncode == 0
    orders = tmp_path / "orders.csv"
    orders.write_text("订单号,日期,客户编号,金额\nZ-1,2026-03-01,K-1,10\n", encoding="utf-8")
    imported = smbcrm("--db", db, "import", str(orders), "--kind", "orders", "--source", "erp")
    assert imported.returncode == 0, imported.stderr
    database = Database.open(db)
    try:
        with database.new_session() as session:
            ids = {n: i for n, i in session.execute(select(Customer.name, Customer.id))}
    finally:
        database.dispose()
    second = str(ids["Second Buyer Ltd"])
    refused = smbcrm("--db", db, "orders", "link", "Z-1", second)
    assert refused.returncode != 0
    assert f"Order Z-1 belongs to First Buyer Ltd (ID {ids['First Buyer Ltd']})" in refused.stderr
    moved = smbcrm("--db", db, "orders", "link", "Z-1", second, "--move")
    assert moved.returncode == 0, moved.stderr
    assert (
        f"Linked order Z-1 to Second Buyer Ltd (ID {second}), moved from First Buyer Ltd "
        f"(ID {ids['First Buyer Ltd']})." in moved.stdout
    )


# -- the orders export's total --------------------------------------------------------------


@pytest.mark.parametrize("per_line", [False, True])
def test_the_orders_export_leaves_cancelled_orders_out_of_rows_and_total(
    owner: User, company: Database, tmp_path: Path, per_line: bool
) -> None:
    with company.session() as session:
        buyer = make_customer(session, "华强电子有限公司")
        make_order(session, buyer, number="SO-1", amount="100.00", when=date(2026, 3, 1))
        make_order(session, buyer, number="SO-2", amount="5000.00", status="已作废")
        void = make_order(session, buyer, number="SO-3", amount="700.00", status="Cancelled")
        void.lines.append(OrderLine(line_no=1, product="Tea", amount=700, quantity=7))
        make_order(session, buyer, number="SO-4", amount="20.00", status="shipped")
    target = tmp_path / "orders.xlsx"
    result = export(company, owner.id, ExportKind.ORDERS, target, ExportOptions(per_line=per_line))
    assert result.rows == 2
    assert result.warnings == [
        "Cancelled or void orders left out: 2. Every row is a sale and the total is what was "
        "sold; include cancelled orders to list them too."
    ]
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    header = rows[0]
    amount = header.index("Line amount" if per_line else "Amount")
    assert [r[0] for r in rows[1:-1]] == ["SO-4", "SO-1"]
    assert rows[-1][0] == "Total sales" and rows[-1][amount] == pytest.approx(120.0)

    # Asked for, cancelled orders are listed with their status and the total says so.
    options = ExportOptions(per_line=per_line, include_cancelled=True)
    result = export(company, owner.id, ExportKind.ORDERS, target, options)
    assert result.rows == 4
    assert result.warnings == [
        "Cancelled or void orders included: 2. The total counts them too; filter the Status "
        "column in Excel to total the sales alone."
    ]
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert sorted(r[0] for r in rows[1:-1]) == ["SO-1", "SO-2", "SO-3", "SO-4"]
    assert rows[-1][0] == "Total, cancelled included"
    assert rows[-1][amount] == pytest.approx(5820.0)


# -- report files that cannot be written ----------------------------------------------------


@pytest.mark.parametrize("blocked", ["folder", "file as folder"])
def test_an_unmatched_report_that_cannot_be_written_says_so(
    owner: User, company: Database, tmp_path: Path, blocked: str
) -> None:
    with company.session() as session:
        make_order(session, None, number="SO-1")
    if blocked == "folder":
        target = tmp_path / "report.xlsx"
        target.mkdir()
    else:
        (tmp_path / "not-a-folder").write_text("x")
        target = tmp_path / "not-a-folder" / "report.xlsx"
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        groups = order_links.unmatched_orders(session)
        with pytest.raises(SmbcrmError) as refused:
            order_links.write_unmatched_report(session, actor, target, groups)
    text = str(refused.value)
    assert text.startswith(f"Cannot write {target}: ")
    assert "If the file is open in Excel, close it" in text
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(ExportEntry)) == 0
