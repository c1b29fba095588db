"""``smbcrm risk`` as automation runs it: a real process on a real file, reports read back."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from smbcrm.models import Database
from smbcrm.services import auth
from smbcrm.services.database import open_database
from tests.e2e.test_cli import smbcrm
from tests.factories import make_customer, make_order

TODAY = date(2026, 6, 30)


@pytest.fixture
def book(tmp_path: Path) -> str:
    """Three active customers: a silent monthly buyer, an unassigned one, a steady one."""
    path = tmp_path / "book.db"
    db: Database = open_database(path)
    boss = auth.create_company(db, "华信商贸", "boss", "王芳", "owner-pass-1")
    with db.session() as session:
        silent = make_customer(session, '=HYPERLINK("x") 静默贸易', owner_id=boss.id)
        for i in range(12):
            make_order(session, silent, amount="5000", when=TODAY - timedelta(days=150 + 30 * i))
        make_customer(session, "Nobody's Ltd")
        steady = make_customer(session, "Steady Co", owner_id=boss.id)
        for i in range(12):
            make_order(session, steady, amount="100", when=TODAY - timedelta(days=5 + 30 * i))
    db.dispose()
    return str(path)


def test_risk_report_xlsx(book: str, tmp_path: Path) -> None:
    out = tmp_path / "at-risk.xlsx"
    result = smbcrm("--db", book, "risk", "--today", TODAY.isoformat(), "--report", str(out))
    assert result.returncode == 0, result.stderr
    assert "Wrote 2 customers at risk" in result.stdout
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    header = rows[0]
    for column in ("ID", "Name", "Owner", "Risk", "Reason codes", "Reasons"):
        assert column in header
    assert "Revenue (12 months)" in header and "Last order" in header
    first = dict(zip(header, rows[1], strict=True))
    # Text stays text: a name that looks like a formula is not run as one.
    assert first["Name"] == '=HYPERLINK("x") 静默贸易'
    assert first["Owner"] == "王芳"
    assert first["Risk"] == "high"
    assert first["Reason codes"] == "overdue, declining, no-contact"
    assert "usually orders every 30 days; last order 150 days ago" in first["Reasons"]
    assert first["Revenue (12 months)"] == 40_000.0  # 8 orders in the last 12 months
    assert first["Last order"] == TODAY - timedelta(days=150)
    second = dict(zip(header, rows[2], strict=True))
    assert second["Name"] == "Nobody's Ltd" and second["Reason codes"] == "unassigned"
    assert len(rows) == 3  # the steady buyer is not at risk


def test_risk_report_csv_and_table(book: str, tmp_path: Path) -> None:
    out = tmp_path / "at-risk.csv"
    result = smbcrm(
        "--db", book, "risk", "--today", TODAY.isoformat(), "--report", str(out), "--lang", "zh"
    )
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["Reason codes"] for r in rows] == ["overdue, declining, no-contact", "unassigned"]
    assert rows[0]["Reasons"].startswith("通常每 30 天下单一次")
    assert rows[0]["Revenue (12 months)"] == "40000.00"

    table = smbcrm("--db", book, "risk", "--today", TODAY.isoformat())
    assert table.returncode == 0, table.stderr
    assert "usually orders every 30 days" in table.stdout
    assert "2 customers at risk" in table.stdout
    assert "Steady Co" not in table.stdout


def test_risk_report_refuses_other_file_types(book: str, tmp_path: Path) -> None:
    result = smbcrm("--db", book, "risk", "--report", str(tmp_path / "x.pdf"))
    assert result.returncode != 0
    assert ".xlsx or .csv" in result.stderr


def test_rates_convert_revenue_in_another_currency(book: str) -> None:
    db = open_database(Path(book))
    with db.session() as session:
        abroad = make_customer(session, "Nordwind GmbH")
        for i in range(12):
            make_order(
                session,
                abroad,
                amount="1000",
                currency="EUR",
                when=TODAY - timedelta(days=150 + 30 * i),
            )
    db.dispose()
    before = smbcrm("--db", book, "risk", "--today", TODAY.isoformat())
    assert "Revenue leaves out 8 orders in EUR: no exchange rate" in before.stdout

    listed = smbcrm("--db", book, "rates")
    assert listed.returncode == 0, listed.stderr
    assert "Home currency: CNY" in listed.stdout and "EUR  no rate" in listed.stdout

    wrong = smbcrm("--db", book, "rates", "--set", "EUR=seven")
    assert wrong.returncode != 0
    assert "The rate for EUR, 'seven', is not a number" in wrong.stderr

    saved = smbcrm("--db", book, "rates", "--set", "eur=7.8")
    assert saved.returncode == 0, saved.stderr
    assert "1 EUR = 7.8 CNY" in saved.stdout and "leaves out" not in saved.stdout
    after = smbcrm("--db", book, "risk", "--today", TODAY.isoformat())
    nordwind = next(line for line in after.stdout.splitlines() if "Nordwind" in line)
    assert "¥62,400.00" in nordwind  # 8 × €1,000 at 7.8
    assert "leaves out" not in after.stdout

    # A new home currency converts the rates kept so far.
    rebased = smbcrm("--db", book, "rates", "--home", "EUR")
    assert "Home currency: EUR" in rebased.stdout and "1 CNY = 0.128205 EUR" in rebased.stdout
