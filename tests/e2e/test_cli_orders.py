"""``smbcrm import --kind orders`` and ``smbcrm orders …`` as real processes on real files:
an .xlsx with Chinese headers written by openpyxl and a GBK CSV as Excel on Chinese Windows
saves it."""

from __future__ import annotations

import csv
import sqlite3
from datetime import date
from pathlib import Path

import openpyxl

from tests.e2e.test_cli import smbcrm

PASSWORD = "owner-pass-1"


def _company(tmp_path: Path) -> str:
    db = str(tmp_path / "book.db")
    made = smbcrm("--db", db, "init", "--company", "华信商贸", "--owner", "boss", password=PASSWORD)
    assert made.returncode == 0, made.stderr
    customers = tmp_path / "customers.csv"
    with customers.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户编号", "客户名称", "手机", "邮箱", "城市", "状态"])
        writer.writerow(["K-001", "深圳市华强电子有限公司", "", "", "深圳", "成交"])
        writer.writerow(["", "杭州绿源茶业有限公司", "13912345678", "", "杭州", "潜在"])
        writer.writerow(["", "Harbor Lights Trading", "", "buy@harbor.hk", "香港", "成交"])
        writer.writerow(["", "宁波海通贸易有限公司", "", "", "宁波", "成交"])
    imported = smbcrm("--db", db, "import", str(customers), "--source", "kingdee")
    assert imported.returncode == 0, imported.stderr
    return db


def _scalar(db: str, sql: str, *params: object) -> object:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchone()[0]


def test_orders_from_an_xlsx_link_by_every_route_and_reimport_changes_nothing(
    tmp_path: Path,
) -> None:
    db = _company(tmp_path)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["销售订单导出"])  # a title above the table
    sheet.append([])
    sheet.append(["订单号", "下单日期", "客户编号", "客户名称", "城市", "手机", "邮箱", "金额"])
    sheet.append(["SO-1001", date(2026, 3, 2), "K-001", "", "", "", "", 12345.6])
    sheet.append(["SO-1002", date(2026, 3, 3), "", "", "", 13912345678, "", "¥880"])
    sheet.append(["SO-1003", "2026/3/4", "", "", "", "", "BUY@harbor.hk", "1,200.00"])
    sheet.append(["SO-1004", "2026年3月5日", "", "宁波海通贸易", "宁波", "", "", 99])
    sheet.append(["SO-1005", "2026-03-06", "", "未知客户", "", "", "", 10])
    path = tmp_path / "订单.xlsx"
    book.save(path)

    dry = smbcrm(
        "--db", db, "import", str(path), "--kind", "orders", "--source", "kingdee", "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: nothing was written" in dry.stdout
    assert _scalar(db, "SELECT count(*) FROM orders") == 0

    done = smbcrm("--db", db, "import", str(path), "--kind", "orders", "--source", "kingdee")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "new orders        5" in out
    for label in ("code   ", "phone  ", "e-mail ", "name   "):
        assert f"linked by {label} 1" in out, out
    assert "prospects who became customers  1" in out
    assert "unmatched: 1 (review them in the app or with `smbcrm orders unmatched`)" in out
    assert _scalar(db, "SELECT count(*) FROM orders WHERE customer_id IS NOT NULL") == 4
    assert (
        _scalar(
            db,
            "SELECT status FROM customers WHERE name = ?",
            "杭州绿源茶业有限公司",
        )
        == "active"
    )

    again = smbcrm("--db", db, "import", str(path), "--kind", "orders", "--source", "kingdee")
    assert again.returncode == 0, again.stderr
    assert "new orders        0" in again.stdout
    assert "unchanged         5" in again.stdout
    assert _scalar(db, "SELECT count(*) FROM orders") == 5

    listed = smbcrm("--db", db, "batches", "list")
    assert listed.returncode == 0, listed.stderr
    assert "订单.xlsx" in listed.stdout


def test_gbk_csv_unmatched_review_and_undo(tmp_path: Path) -> None:
    db = _company(tmp_path)
    path = tmp_path / "orders.csv"
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["订单号", "日期", "客户", "城市", "联系电话", "金额", "币种", "产品", "数量", "单价"]
        )
        writer.writerow(
            [
                "X-1",
                "2026-03-01",
                "厦门新客户贸易有限公司",
                "厦门",
                "13600001111",
                "300",
                "人民币",
                "绿茶",
                "2",
                "150",
            ]
        )
        writer.writerow(["X-1", "", "", "", "", "", "", "茶壶", "1", "0"])
        writer.writerow(["X-2", "2026-03-09", "厦门新客户贸易", "厦门市", "", "50", "", "", "", ""])
        writer.writerow(["X-3", "2026-02-30", "坏日期", "", "", "-1", "XYZ", "", "", ""])
    done = smbcrm(
        "--db",
        db,
        "import",
        str(path),
        "--kind",
        "orders",
        "--errors",
        str(tmp_path / "problems.xlsx"),
    )
    assert done.returncode == 0, done.stderr
    assert "new orders        2 (2 lines)" in done.stdout
    assert "unmatched: 2" in done.stdout
    assert "row 5:" in done.stdout and "February 2026 has 28 days" in done.stdout
    assert (tmp_path / "problems.xlsx").exists()

    unmatched = smbcrm("--db", db, "orders", "unmatched")
    assert unmatched.returncode == 0, unmatched.stderr
    assert "厦门新客户贸易有限公司" in unmatched.stdout
    # The same buyer, once with a phone and once by name only: two entries until linked.
    assert "2 orders of 2 buyers wait for a customer" in unmatched.stdout

    report = tmp_path / "unmatched.xlsx"
    wrote = smbcrm("--db", db, "orders", "unmatched", "--report", str(report))
    assert wrote.returncode == 0, wrote.stderr
    rows = list(openpyxl.load_workbook(report).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][0] == "Order number" and {r[0] for r in rows[1:] if r[0]} >= {"X-1", "X-2"}

    created = smbcrm("--db", db, "orders", "create-customer", "X-1")
    assert created.returncode == 0, created.stderr
    assert "with 1 more of the buyer's orders: X-1, X-2" in created.stdout
    customer_id = _scalar(db, "SELECT customer_id FROM orders WHERE order_number = 'X-1'")
    assert customer_id == _scalar(db, "SELECT customer_id FROM orders WHERE order_number = 'X-2'")
    assert (
        _scalar(db, "SELECT name FROM customers WHERE id = ?", customer_id)
        == "厦门新客户贸易有限公司"
    )

    empty = smbcrm("--db", db, "orders", "unmatched")
    assert "No order is waiting for a customer" in empty.stdout

    missing = smbcrm("--db", db, "orders", "link", "NOPE-1", "1")
    assert missing.returncode == 1 and "There is no order NOPE-1" in missing.stderr

    batch_id = _scalar(db, "SELECT max(id) FROM import_batches")
    undone = smbcrm("--db", db, "batches", "undo", str(batch_id))
    assert undone.returncode == 0, undone.stderr
    assert f"Undid batch {batch_id}: removed " in undone.stdout
    assert "orders it had created" in undone.stdout
    assert _scalar(db, "SELECT count(*) FROM orders") == 0
    assert _scalar(db, "SELECT count(*) FROM customers WHERE id = ?", customer_id) == 0


def test_link_by_hand_from_the_command_line(tmp_path: Path) -> None:
    db = _company(tmp_path)
    path = tmp_path / "o.csv"
    path.write_text("订单号,日期,客户,金额\nZ-1,2026-03-01,Somebody,10\n", encoding="utf-8")
    assert smbcrm("--db", db, "import", str(path), "--kind", "orders").returncode == 0
    prospect = _scalar(db, "SELECT id FROM customers WHERE name = ?", "杭州绿源茶业有限公司")
    linked = smbcrm("--db", db, "orders", "link", "Z-1", str(prospect), "--source", "import")
    assert linked.returncode == 0, linked.stderr
    assert "Linked order Z-1 to 杭州绿源茶业有限公司" in linked.stdout
    assert "was a prospect and is now an active customer" in linked.stdout
    assert _scalar(db, "SELECT link_route FROM orders WHERE order_number = 'Z-1'") == "manual"
    assert _scalar(db, "SELECT count(*) FROM conversions WHERE customer_id = ?", prospect) == 1
