"""Exports on both engines, read back with a different library than the one that wrote them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from smbcrm.errors import Cancelled, PermissionDenied, SmbcrmError, ValidationError
from smbcrm.models import Database, ExportEntry, OrderLine, Role, Tier, User
from smbcrm.services.export import ExportKind, ExportOptions, available_kinds, export
from smbcrm.services.export.workbook import neutralise_csv_text
from smbcrm.services.progress import CancelToken, Progress
from tests.conftest import add_user
from tests.factories import make_customer, make_order

EVIL = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def book(company: Database, owner: User) -> Database:
    with company.session(owner.id) as s:
        a = make_customer(
            s,
            "华强电子有限公司",
            phones=["13800138000"],
            emails=["li@huaqiang.cn"],
            external={"erp": "C001", "shop": "77"},
            city="深圳",
            tier=Tier.A,
            owner_id=owner.id,
        )
        b = make_customer(s, EVIL, city="@SUM(A1)")
        make_order(s, a, amount="1200.50", when=date(2026, 1, 5), number="SO-1", status="paid")
        make_order(s, a, amount="99.50", when=date(2026, 2, 7), number="SO-2")
        make_order(s, b, amount="10.00", when=date(2026, 2, 8), number="SO-3")
        lined = make_order(s, b, amount="30.00", when=date(2026, 3, 1), number="SO-4")
        lined.lines.append(OrderLine(line_no=1, product="茶叶 500g", amount=20, quantity=2))
        lined.lines.append(OrderLine(line_no=2, product="Box", amount=10, quantity=1))
        make_order(s, a, amount="5.00", when=date(2025, 12, 31), number="SO-OLD")
    return company


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for the exports (the SQLite book lives in tmp_path itself)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _calamine(path: Path) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def test_orders_xlsx_is_typed_formatted_and_totalled(
    book: Database, owner: User, out: Path
) -> None:
    target = out / "orders.xlsx"
    options = ExportOptions(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    result = export(book, owner.id, ExportKind.ORDERS, target, options)
    assert result.rows == 4
    rows = _calamine(target)
    header = rows[0]
    for name in ("Order number", "Date", "Customer ID", "Customer", "Amount", "Currency", "Status"):
        assert name in header
    col = {h: i for i, h in enumerate(header)}
    first = rows[1]
    assert first[col["Order number"]] == "SO-1"
    assert first[col["Date"]] == date(2026, 1, 5)  # a real date, not text
    assert first[col["Amount"]] == 1200.5  # a number
    assert first[col["Customer"]] == "华强电子有限公司"
    assert first[col["Status"]] == "paid"
    assert rows[3][col["Customer"]] == EVIL  # text, never a formula
    total = rows[-1]
    assert total[0] == "Total sales"
    assert total[col["Amount"]] == pytest.approx(1340.0)

    sheet = openpyxl.load_workbook(target).worksheets[0]
    assert sheet.title == "Orders 20260101-20261231"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:H5"
    assert sheet["A1"].font.b
    amount = sheet.cell(2, col["Amount"] + 1)
    assert amount.data_type == "n" and "¥" in amount.number_format
    assert sheet.cell(2, col["Date"] + 1).is_date
    evil = sheet.cell(4, col["Customer"] + 1)
    assert evil.data_type == "s" and evil.value == EVIL
    assert str(sheet.cell(6, col["Amount"] + 1).value).startswith("=SUBTOTAL(109,")
    assert sheet.column_dimensions["D"].width >= len("华强电子有限公司") * 2


def test_orders_per_line(book: Database, owner: User, out: Path) -> None:
    target = out / "lines.xlsx"
    export(book, owner.id, "orders", target, ExportOptions(per_line=True))
    rows = _calamine(target)
    col = {h: i for i, h in enumerate(rows[0])}
    lines = [r for r in rows[1:-1] if r[col["Order number"]] == "SO-4"]
    assert [r[col["Product"]] for r in lines] == ["茶叶 500g", "Box"]
    assert [r[col["Line amount"]] for r in lines] == [20.0, 10.0]
    assert rows[-1][col["Line amount"]] == pytest.approx(1345.0)  # lineless orders count whole


def test_customers_export_columns(book: Database, owner: User, out: Path) -> None:
    target = out / "customers.xlsx"
    result = export(book, owner.id, ExportKind.CUSTOMERS, target)
    assert result.rows == 2
    sheet = openpyxl.load_workbook(target, data_only=True).worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    header = rows[0]
    for name in ("ID", "Name", "Status", "Owner", "Phone", "Email", "City", "External IDs",
                 "Orders", "Revenue", "Last order"):  # fmt: skip
        assert name in header
    col = {h: i for i, h in enumerate(header)}
    hq = next(r for r in rows[1:] if r[col["Name"]] == "华强电子有限公司")
    assert hq[col["External IDs"]] == "erp:C001; shop:77"
    assert hq[col["Owner"]] == "Wang Fang"
    assert hq[col["Status"]] == "Active"
    assert hq[col["Tier"]] == "A"
    assert hq[col["Phone"]] == "138 0013 8000"
    assert hq[col["Email"]] == "li@huaqiang.cn"
    assert hq[col["Orders"]] == 3
    assert hq[col["Revenue"]] == pytest.approx(1305.0)
    assert hq[col["Last order"]] == datetime(2026, 2, 7)
    other = next(r for r in rows[1:] if r[col["Name"]] == EVIL)
    assert other[col["City"]] == "@SUM(A1)"
    assert rows[-1][0] == "Total" and rows[-1][col["Orders"]] == 5
    assert sheet.title == "Customers"


def test_chinese_headers(book: Database, owner: User, out: Path) -> None:
    target = out / "客户.xlsx"
    export(book, owner.id, ExportKind.CUSTOMERS, target, ExportOptions(language="zh"))
    rows = _calamine(target)
    assert rows[0][:4] == ["smbcrm编号", "客户名称", "类型", "状态"]
    assert "成交" in [r[3] for r in rows[1:]]
    assert CalamineWorkbook.from_path(str(target)).sheet_names == ["客户"]


def test_statement_has_subtotals_per_customer(book: Database, owner: User, out: Path) -> None:
    target = out / "statement.xlsx"
    export(book, owner.id, ExportKind.STATEMENT, target, ExportOptions(date_from=date(2026, 1, 1)))
    rows = _calamine(target)
    assert rows[0] == ["Customer ID", "Customer", "Date", "Order number", "Status", "Amount",
                       "Currency"]  # fmt: skip
    labels = [(r[1], r[5]) for r in rows[1:] if str(r[1]).startswith(("Subtotal", "Total"))]
    assert labels == [
        (f"Subtotal {EVIL} (CNY)", 40.0),
        ("Subtotal 华强电子有限公司 (CNY)", 1300.0),
        ("Total", 1340.0),
    ]
    sheet = openpyxl.load_workbook(target).worksheets[0]
    formulas = [c.value for c in sheet["F"] if isinstance(c.value, str) and "SUBTOTAL" in c.value]
    assert formulas[0] == "=SUBTOTAL(9,F2:F3)"


def test_statement_of_one_customer(book: Database, owner: User, out: Path) -> None:
    with book.new_session() as s:
        from smbcrm.models import Customer

        cid = s.scalar(select(Customer.id).where(Customer.name == "华强电子有限公司"))
    target = out / "one.xlsx"
    result = export(book, owner.id, "statement", target, ExportOptions(customer_id=cid))
    assert result.rows == 3
    rows = _calamine(target)
    assert rows[0][0] == "华强电子有限公司"  # title row above the header
    with pytest.raises(SmbcrmError, match="no customer with ID 999"):
        export(book, owner.id, "statement", out / "x.xlsx", ExportOptions(customer_id=999))
    assert not (out / "x.xlsx").exists()


def test_revenue_cross_table(book: Database, owner: User, out: Path) -> None:
    target = out / "revenue.xlsx"
    options = ExportOptions(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31))
    export(book, owner.id, ExportKind.REVENUE, target, options)
    rows = _calamine(target)
    assert rows[0] == ["Customer ID", "Customer", "Currency", "2026-01", "2026-02", "2026-03",
                       "Total"]  # fmt: skip
    by_name = {r[1]: r[3:] for r in rows[1:]}
    assert by_name["华强电子有限公司"] == [1200.5, 99.5, "", 1300.0]
    assert by_name[EVIL] == ["", 10.0, 30.0, 40.0]
    assert by_name["Total"] == [1200.5, 109.5, 30.0, 1340.0]


def test_csv_utf8_bom_and_formula_neutralising(book: Database, owner: User, out: Path) -> None:
    target = out / "customers.csv"
    export(book, owner.id, ExportKind.CUSTOMERS, target)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "华强电子有限公司" in text
    assert "'=HYPERLINK(" in text and "'@SUM(A1)" in text
    assert "Total" not in text  # CSV is data only
    assert neutralise_csv_text("+86 138") == "'+86 138"
    assert neutralise_csv_text("\tx") == "'\tx"
    assert neutralise_csv_text("plain") == "plain"


def test_csv_gbk(book: Database, owner: User, out: Path) -> None:
    target = out / "orders.csv"
    export(book, owner.id, ExportKind.ORDERS, target, ExportOptions(encoding="gbk"))
    text = target.read_bytes().decode("gbk")
    assert text.splitlines()[0].startswith("Order number,Date,")
    assert "华强电子有限公司" in text and "1200.50" in text and "2026-01-05" in text


def test_csv_gbk_refuses_what_it_cannot_hold(book: Database, owner: User, out: Path) -> None:
    with book.session(owner.id) as s:
        make_customer(s, "Café 😀 Ltd")
    target = out / "customers.csv"
    with pytest.raises(SmbcrmError, match=r"Row \d+, column 'Name': '.' cannot be written in GBK"):
        export(book, owner.id, ExportKind.CUSTOMERS, target, ExportOptions(encoding="gbk"))
    assert list(out.iterdir()) == []  # neither the file nor a temporary one


def test_sales_may_not_export_bookkeeper_may(book: Database, out: Path) -> None:
    sales = add_user(book, "li.lei", Role.SALES)
    keeper = add_user(book, "zhao", Role.BOOKKEEPER)
    target = out / "c.xlsx"
    with pytest.raises(PermissionDenied, match="may not export lists"):
        export(book, sales.id, ExportKind.CUSTOMERS, target)
    assert not target.exists() and list(out.iterdir()) == []
    options = ExportOptions(date_from=date(2026, 1, 1), per_line=True)
    result = export(book, keeper.id, ExportKind.ORDERS, out / "o.xlsx", options)
    with book.new_session() as s:
        entries = s.scalars(select(ExportEntry)).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.user_id, entry.kind, entry.row_count) == (keeper.id, "orders", result.rows)
    assert entry.file_name == str(out / "o.xlsx")
    assert entry.filters == {"format": "xlsx", "language": "en", "from": "2026-01-01",
                             "per_line": True}  # fmt: skip
    assert entry.at is not None


def test_cancel_leaves_no_file(book: Database, owner: User, out: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        export(book, owner.id, ExportKind.ORDERS, out / "o.xlsx", progress=Progress(None, token))
    assert list(out.iterdir()) == []
    with book.new_session() as s:
        assert s.scalar(select(func.count()).select_from(ExportEntry)) == 0


def test_cancel_midway_keeps_an_existing_file(
    book: Database, owner: User, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = out / "o.xlsx"
    target.write_bytes(b"the old export")
    monkeypatch.setattr("smbcrm.services.export.workbook.PROGRESS_EVERY", 1)
    token = CancelToken()

    def report(done: int, total: int, message: str) -> None:
        if done >= 2:
            token.cancel()

    with pytest.raises(Cancelled):
        export(book, owner.id, ExportKind.ORDERS, target, progress=Progress(report, token))
    assert target.read_bytes() == b"the old export"
    assert [p.name for p in out.iterdir()] == ["o.xlsx"]


def test_bad_requests_are_explained(book: Database, owner: User, out: Path) -> None:
    with pytest.raises(ValidationError, match=r"\.xlsx \(Excel\) or \.csv"):
        export(book, owner.id, ExportKind.ORDERS, out / "o.pdf")
    with pytest.raises(ValidationError, match="swap the dates"):
        export(book, owner.id, "orders", out / "o.xlsx",
               ExportOptions(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)))  # fmt: skip
    with pytest.raises(ValidationError, match="not an export"):
        export(book, owner.id, "invoices", out / "o.xlsx")
    with pytest.raises(SmbcrmError, match="does not exist"):
        export(book, owner.id, "orders", out / "nowhere" / "o.xlsx")
    assert list(out.iterdir()) == []


@pytest.mark.skipif(
    ExportKind.AT_RISK not in available_kinds(), reason="the risk service is not in this build"
)
def test_at_risk_list(book: Database, owner: User, out: Path) -> None:
    # 华强 ordered monthly for a year, then stopped: overdue by its own rhythm.
    with book.session(owner.id) as s:
        from smbcrm.models import Customer

        hq = s.scalars(select(Customer).where(Customer.name == "华强电子有限公司")).one()
        for month in range(1, 13):
            make_order(s, hq, amount="500.00", when=date(2024, month, 3))
    target = out / "risk.xlsx"
    result = export(book, owner.id, ExportKind.AT_RISK, target)
    rows = _calamine(target)
    assert rows[0][:4] == ["ID", "Name", "Risk", "Reasons"]
    assert result.rows == len(rows) - 2 >= 1
    names = [r[1] for r in rows[1:-1]]
    assert "华强电子有限公司" in names
    row = rows[1 + names.index("华强电子有限公司")]
    assert row[2] in ("High", "Medium", "Low") and row[3]
    assert rows[-1][1] == "Total"
