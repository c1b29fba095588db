"""``smbcrm export`` as automation runs it: real processes, real files, read back by calamine."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.e2e.test_cli import smbcrm


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("export") / "demo.db"
    made = smbcrm("--db", str(db), "demo", "--customers", "120", "--orders", "600")
    assert made.returncode == 0, made.stderr
    added = smbcrm("--db", str(db), "--user", "wang.fang", "staff", "add", "--login", "xiao.li",
                   "--name", "小李", "--role", "sales", password="sales-pass-1")  # fmt: skip
    assert added.returncode == 0, added.stderr
    return db


def test_orders_xlsx_and_csv(demo: Path, tmp_path: Path) -> None:
    target = tmp_path / "orders.xlsx"
    done = smbcrm("--db", str(demo), "--user", "wang.fang", "export", "orders", "-o", str(target),
                  "--from", "2025-01-01", "--to", "2025-12-31")  # fmt: skip
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.split()[1])
    summary, *notes = done.stdout.strip().splitlines()
    assert summary == f"Exported {count} orders to {target}."
    # The demo has a cancelled order in 2025: left out of the rows and the total, and said so.
    assert notes == [
        "  note: Cancelled or void orders left out: 1. Every row is a sale and the total is "
        "what was sold; include cancelled orders to list them too."
    ]
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["Order number", "Date", "Customer ID", "Customer", "Amount", "Currency",
                       "Status", "Source"]  # fmt: skip
    data = rows[1 : count + 1]
    totals = rows[count + 1 :]
    # One totals row per currency (the demo sells in CNY and abroad), main currency first.
    assert totals and all(str(r[0]).startswith("Total") for r in totals)
    assert totals[0][0] == "Total sales CNY"
    assert sum(r[4] for r in data if r[5] == "CNY") == pytest.approx(totals[0][4])
    assert not [r[6] for r in data if str(r[6]).lower() in ("cancelled", "void")]

    everything = tmp_path / "all-orders.xlsx"
    done = smbcrm("--db", str(demo), "--user", "wang.fang", "export", "orders", "-o",
                  str(everything), "--from", "2025-01-01", "--to", "2025-12-31",
                  "--include-cancelled")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Exported {count + 1} orders to {everything}.")
    assert "Cancelled or void orders included: 1." in done.stdout
    dates = [r[1] for r in data]
    assert all(isinstance(d, date) and date(2025, 1, 1) <= d <= date(2025, 12, 31) for d in dates)
    assert all(isinstance(r[4], float) for r in data)

    lines = tmp_path / "lines.csv"
    done = smbcrm("--db", str(demo), "--user", "wang.fang", "export", "orders", "--per-line",
                  "-o", str(lines), "--lang", "zh", "--encoding", "gbk")  # fmt: skip
    assert done.returncode == 0, done.stderr
    with lines.open(encoding="gbk", newline="") as handle:
        read = list(csv.reader(handle))
    assert read[0][:4] == ["订单号", "日期", "客户smbcrm编号", "客户名称"]
    assert len(read) > 2


def test_customers_statement_revenue(demo: Path, tmp_path: Path) -> None:
    for kind, extra in (("customers", []), ("statement", ["--customer", "1"]), ("revenue", [])):
        target = tmp_path / f"{kind}.xlsx"
        done = smbcrm("--db", str(demo), "--user", "wang.fang", "export", kind, "-o", str(target),
                      *extra)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert target.exists()
    rows = CalamineWorkbook.from_path(str(tmp_path / "customers.xlsx")).get_sheet_by_index(0)
    header = rows.to_python()[0]
    for name in ("ID", "Name", "Status", "Owner", "Phone", "Email", "City", "External IDs",
                 "Orders", "Revenue", "Last order"):  # fmt: skip
        assert name in header


def test_sales_is_refused_and_gets_no_file(demo: Path, tmp_path: Path) -> None:
    target = tmp_path / "customers.xlsx"
    done = smbcrm("--db", str(demo), "--user", "xiao.li", "export", "customers", "-o", str(target))
    assert done.returncode == 1
    assert done.stderr.strip() == "smbcrm: A sales may not export lists; ask an owner or manager."
    assert list(tmp_path.iterdir()) == []


def test_usage_errors(demo: Path, tmp_path: Path) -> None:
    done = smbcrm("--db", str(demo), "export", "orders", "-o", str(tmp_path / "o.xlsx"),
                  "--from", "31/12/2025")  # fmt: skip
    assert done.returncode == 2 and "write it as YYYY-MM-DD" in done.stderr
    done = smbcrm("--db", str(demo), "--user", "wang.fang", "export", "orders", "-o",
                  str(tmp_path / "o.pdf"))  # fmt: skip
    assert done.returncode == 1 and ".xlsx (Excel) or .csv" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_import_problems_round_trip(demo: Path, tmp_path: Path) -> None:
    source = tmp_path / "prospects.csv"
    source.write_text(
        "客户名称,手机,生日\n新客户甲,13600136000,1990-01-02\n新客户乙,12ab,1990-02-03\n",
        encoding="gbk",
    )
    imported = smbcrm("--db", str(demo), "--user", "wang.fang", "import", str(source))
    assert imported.returncode == 0, imported.stderr
    target = tmp_path / "problems.xlsx"
    done = smbcrm("--db", str(demo), "--user", "wang.fang", "export", "import-problems",
                  "-o", str(target))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Exported 1 row with problems to {target}."
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["Row", "客户名称", "手机", "生日", "Problem"]
    assert rows[1][1] == "新客户乙" and "12ab" in rows[1][-1]
    wrong = smbcrm("--db", str(demo), "--user", "wang.fang", "export", "orders", "-o",
                   str(tmp_path / "x.xlsx"), "--batch", "1")  # fmt: skip
    assert wrong.returncode != 0 and "--batch is for the import-problems export" in wrong.stderr
