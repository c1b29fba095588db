"""What the ``smbcrm`` command says when it cannot do what was asked: a report or export it
cannot write, a problem file of the wrong type, a file with no rows, exchange rates that would be
lost, customers handed to someone who may not own them. One sentence on stderr, a non-zero
exit, nothing half-done — and never an "unexpected error"."""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from smbcrm.models import Customer, Database, ImportBatch, Role
from smbcrm.services import auth, currencies
from smbcrm.services.database import open_database
from tests.e2e.test_cli import smbcrm
from tests.factories import make_customer, make_order

TODAY = date(2026, 6, 30)
CANNOT_WRITE_ADVICE = "If the file is open in Excel, close it; otherwise choose another folder."


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A company with a salesperson, a bookkeeper, and customers with orders in CNY and USD."""
    path = tmp_path_factory.mktemp("cli-errors") / "book.db"
    db: Database = open_database(path)
    boss = auth.create_company(db, "华信商贸", "boss", "王芳", "owner-pass-1")
    with db.session() as session:
        owner = auth.find_user(session, "boss")
        li = auth.add_staff(
            session, owner, login="li", full_name="李雷", role=Role.SALES, password="sales-pw-1"
        )
        auth.add_staff(
            session,
            owner,
            login="zhao",
            full_name="赵会计",
            role=Role.BOOKKEEPER,
            password="books-pw-1",
        )
        session.flush()
        for i in range(3):
            customer = make_customer(session, f"客户{i}", owner_id=li.id)
            make_order(session, customer, amount="1000", when=TODAY - timedelta(days=30 * i))
        abroad = make_customer(session, "Pacific Imports", owner_id=boss.id)
        make_order(session, abroad, amount="500", currency="USD", when=TODAY)
        currencies.save_rates(session, owner, "CNY", {"USD": "7.2"})
    db.dispose()
    return path


@pytest.fixture
def book(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "book.db"
    shutil.copyfile(template, target)
    return str(target)


def _batches(book: str) -> int:
    db = Database.open(book)
    try:
        with db.new_session() as session:
            return int(session.scalar(select(func.count()).select_from(ImportBatch)) or 0)
    finally:
        db.dispose()


def _refused(result: object, *phrases: str) -> None:
    assert hasattr(result, "returncode") and hasattr(result, "stderr")
    assert result.returncode == 1, result.stderr
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.stderr.startswith("smbcrm: ") and result.stderr.count("\n") == 1
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


@pytest.fixture
def one_bad_row(tmp_path: Path) -> Path:
    path = tmp_path / "new customers.csv"
    path.write_text("客户名称,手机\r\n好,13800138000\r\n坏,abc\r\n", encoding="utf-8")
    return path


# -- reports and problem files that cannot be written ---------------------------------


def test_dedupe_report_that_cannot_be_written_says_so(book: str, tmp_path: Path) -> None:
    folder = tmp_path / "pairs.xlsx"
    folder.mkdir()
    result = smbcrm("--db", book, "dedupe", "--no-save", "--report", str(folder))
    _refused(result, f"Cannot write {folder}: Is a directory. {CANNOT_WRITE_ADVICE}")
    assert not list(tmp_path.glob(".pairs.*"))  # no half-written file left beside it

    as_csv = tmp_path / "pairs.csv"
    as_csv.mkdir()
    result = smbcrm("--db", book, "dedupe", "--no-save", "--report", str(as_csv))
    _refused(result, f"Cannot write {as_csv}: Is a directory. {CANNOT_WRITE_ADVICE}")


def test_dedupe_report_into_a_missing_folder_is_refused_before_the_scan(
    book: str, tmp_path: Path
) -> None:
    target = tmp_path / "nowhere" / "pairs.xlsx"
    result = smbcrm("--db", book, "dedupe", "--no-save", "--report", str(target))
    _refused(result, f"the folder {target.parent} does not exist")
    assert "customers checked" not in result.stdout


def test_risk_report_that_cannot_be_written_says_so(book: str, tmp_path: Path) -> None:
    for name in ("at-risk.xlsx", "at-risk.csv"):
        folder = tmp_path / name
        folder.mkdir()
        result = smbcrm("--db", book, "risk", "--today", TODAY.isoformat(), "--report", str(folder))
        _refused(result, f"Cannot write {folder}: Is a directory. {CANNOT_WRITE_ADVICE}")


def test_export_that_cannot_be_written_says_so_and_leaves_nothing(
    book: str, tmp_path: Path
) -> None:
    for name in ("customers.xlsx", "customers.csv"):
        folder = tmp_path / name
        folder.mkdir()
        result = smbcrm("--db", book, "export", "customers", "-o", str(folder))
        _refused(result, f"Cannot write {folder}: Is a directory. {CANNOT_WRITE_ADVICE}")
        assert list(folder.iterdir()) == []
    # No half-written file beside them either.
    assert not [p.name for p in tmp_path.iterdir() if "customers" in p.name and not p.is_dir()]


def test_export_into_a_missing_folder_is_refused(book: str, tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "customers.xlsx"
    result = smbcrm("--db", book, "export", "customers", "-o", str(target))
    _refused(
        result,
        f"Cannot write {target}: the folder {target.parent} does not exist. Choose another folder.",
    )
    assert not target.parent.exists()


def test_risk_report_csv_does_not_let_excel_run_a_name_as_a_formula(
    book: str, tmp_path: Path
) -> None:
    db = Database.open(book)
    try:
        with db.session() as session:
            boss = auth.find_user(session, "boss")
            for name in ('=HYPERLINK("http://x.example","open")', "+86 华南", "-Lee", "@SUM(A1)"):
                silent = make_customer(session, name, owner_id=boss.id)
                for i in range(12):
                    make_order(
                        session, silent, amount="900", when=TODAY - timedelta(days=200 + 30 * i)
                    )
    finally:
        db.dispose()
    out = tmp_path / "at-risk.csv"
    result = smbcrm("--db", book, "risk", "--today", TODAY.isoformat(), "--report", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    names = {r["Name"] for r in rows}
    assert {
        '\'=HYPERLINK("http://x.example","open")',
        "'+86 华南",
        "'-Lee",
        "'@SUM(A1)",
    } <= names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
    # Everything else reads as before: plain amounts, ISO dates, whole IDs.
    first = next(r for r in rows if r["Name"] == "'-Lee")
    assert first["Revenue (12 months)"] == "5400.00"
    assert first["Last order"] == (TODAY - timedelta(days=200)).isoformat()
    assert first["ID"].isdigit()


def test_import_problem_rows_that_cannot_be_written_leave_nothing_imported(
    book: str, tmp_path: Path, one_bad_row: Path
) -> None:
    folder = tmp_path / "problems.xlsx"
    folder.mkdir()
    result = smbcrm("--db", book, "import", str(one_bad_row), "--errors", str(folder))
    _refused(result, f"Cannot write {folder}: Is a directory. {CANNOT_WRITE_ADVICE}")
    assert _batches(book) == 0


# -- the problem file follows its name ------------------------------------------------


def test_import_problem_rows_as_csv_when_the_name_says_csv(
    book: str, tmp_path: Path, one_bad_row: Path
) -> None:
    out = tmp_path / "problems.csv"
    result = smbcrm("--db", book, "import", str(one_bad_row), "--dry-run", "--errors", str(out))
    assert result.returncode == 0, result.stderr
    assert f"Rows with problems are in {out}" in result.stdout
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel reads the Chinese right
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["Row", "客户名称", "手机", "Problem"]
    assert rows[1][:3] == ["3", "坏", "abc"] and "is not a phone number" in rows[1][3]

    # Fixed there, it imports as it is.
    out.write_bytes(raw.replace(b",abc,", b",13900139000,"))
    again = smbcrm("--db", book, "import", str(out))
    assert again.returncode == 0, again.stderr
    assert "created    1" in again.stdout and "errors     0" in again.stdout


def test_import_problem_rows_as_xlsx_when_the_name_says_xlsx(
    book: str, tmp_path: Path, one_bad_row: Path
) -> None:
    out = tmp_path / "problems.XLSX"
    result = smbcrm("--db", book, "import", str(one_bad_row), "--dry-run", "--errors", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"PK")
    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert sheet[0] == ["Row", "客户名称", "手机", "Problem"]


def test_import_problem_file_of_another_type_is_refused_before_importing(
    book: str, tmp_path: Path, one_bad_row: Path
) -> None:
    for name in ("problems.txt", "problems"):
        out = tmp_path / name
        result = smbcrm("--db", book, "import", str(one_bad_row), "--errors", str(out))
        _refused(result, "Save the rows with problems as .xlsx or .csv")
        assert result.stdout == ""  # the file was not even read
        assert not out.exists()
    assert _batches(book) == 0


# -- a file with a header and nothing under it ----------------------------------------


@pytest.mark.parametrize("kind", ["customers", "orders"])
def test_a_header_only_file_is_not_imported(book: str, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "header only.csv"
    header = "客户名称,手机,邮箱,城市" if kind == "customers" else "订单号,下单日期,金额,客户名称"
    path.write_text(header + "\r\n", encoding="utf-8")
    result = smbcrm("--db", book, "import", str(path), "--kind", kind)
    _refused(result, "header only.csv has a header row but no data rows; nothing imported.")
    assert _batches(book) == 0


# -- exchange rates that a new home currency would lose -------------------------------


def test_a_home_currency_without_a_rate_is_refused_and_the_rates_stay(book: str) -> None:
    result = smbcrm("--db", book, "rates", "--home", "GBP")
    _refused(result, "There is no rate for GBP", "USD, CNY would be left without a rate")
    listed = smbcrm("--db", book, "rates")
    assert "Home currency: CNY" in listed.stdout and "1 USD = 7.2 CNY" in listed.stdout


def test_a_home_currency_without_a_rate_converts_through_the_old_home_rate(book: str) -> None:
    result = smbcrm("--db", book, "rates", "--home", "GBP", "--set", "CNY=0.1")
    assert result.returncode == 0, result.stderr
    assert "Home currency: GBP" in result.stdout
    assert "1 CNY = 0.1 GBP" in result.stdout
    assert "1 USD = 0.72 GBP" in result.stdout  # 7.2 CNY, at 0.1 GBP each
    assert "leaves out" not in result.stdout


def test_a_home_currency_with_a_rate_still_converts_the_others(book: str) -> None:
    result = smbcrm("--db", book, "rates", "--home", "USD")
    assert result.returncode == 0, result.stderr
    assert "Home currency: USD" in result.stdout and "1 CNY = 0.138889 USD" in result.stdout


# -- customers handed to someone who may not own them --------------------------------


def test_a_leavers_customers_are_not_handed_to_a_bookkeeper(book: str) -> None:
    result = smbcrm("--db", book, "staff", "deactivate", "li", "--handover-to", "zhao")
    _refused(result, "赵会计 may not be responsible for customers")
    db = Database.open(book)
    try:
        with db.new_session() as session:
            li = auth.find_user(session, "li")
            assert li.active
            owned = session.scalar(
                select(func.count()).select_from(Customer).where(Customer.owner_id == li.id)
            )
            assert owned == 3
    finally:
        db.dispose()

    handed = smbcrm("--db", book, "staff", "deactivate", "li", "--handover-to", "boss")
    assert handed.returncode == 0, handed.stderr
    assert "Deactivated 李雷 (li)" in handed.stdout
