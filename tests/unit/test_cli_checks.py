"""The checks behind the command's error messages, in-process: how any error reaches the
terminal, report files and exports written whole or not at all (in the same words), the
at-risk CSV safe to open in Excel, exchange rates a new home currency would lose, and who
may be given customers (on both engines)."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import func, select
from xlsxwriter.exceptions import FileCreateError

from smbcrm import cli
from smbcrm.errors import NotFoundError, SmbcrmError, ValidationError
from smbcrm.models import Database, ExportEntry, Role, User
from smbcrm.services import auth, currencies, risk
from smbcrm.services import ownership as svc
from smbcrm.services.export import ExportKind, export
from smbcrm.services.export.workbook import Column, Row, Sheet, cannot_write, save_sheet
from smbcrm.services.ownership import HandoverRefused, Strategy
from tests.conftest import add_user
from tests.factories import make_customer, make_order

ADVICE = "If the file is open in Excel, close it; otherwise choose another folder."


def _run_failing(exc: BaseException, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    def start_app(_args: argparse.Namespace) -> int:
        raise exc

    code = cli.run([], start_app)
    return code, capsys.readouterr().err


# -- how errors reach the terminal ----------------------------------------------------


def test_a_workbook_that_cannot_be_created_is_said_in_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrapped = IsADirectoryError(21, "Is a directory", "/tmp/out/report.xlsx")
    code, err = _run_failing(FileCreateError(wrapped), capsys)
    assert code == cli.EXIT_ERROR
    assert err == f"smbcrm: Cannot write /tmp/out/report.xlsx: Is a directory. {ADVICE}\n"


def test_a_file_error_no_service_caught_names_the_file_and_the_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run_failing(PermissionError(13, "Permission denied", "C:/books/list.xlsx"), capsys)
    assert code == cli.EXIT_ERROR
    assert err.startswith("smbcrm: Cannot open or write C:/books/list.xlsx: Permission denied.")
    assert "unexpected error" not in err and "PermissionError" not in err

    code, err = _run_failing(OSError(28, "No space left on device"), capsys)
    assert code == cli.EXIT_ERROR
    assert err.startswith("smbcrm: A file could not be read or written: No space left on device.")


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (NotFoundError("There is no import batch #9."), "There is no import batch #9."),
        (HandoverRefused("Li still has 3 customers."), "Li still has 3 customers."),
        (ValidationError({"name": "Enter the name."}), "Enter the name."),
        (ValidationError({}), "The input is not valid."),
    ],
)
def test_every_error_a_person_reads_is_its_message_and_a_non_zero_exit(
    error: SmbcrmError, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run_failing(error, capsys)
    assert code == cli.EXIT_ERROR
    assert err == f"smbcrm: {shown}\n"


# -- report files: whole or not at all ------------------------------------------------


def _sheet(rows: Iterable[Row]) -> Sheet:
    return Sheet(name="Pairs", columns=[Column("Name", "名称")], rows=rows, expected_rows=2)


@pytest.mark.parametrize("name", ["pairs.xlsx", "pairs.csv"])
def test_a_report_that_fails_halfway_leaves_the_earlier_file_as_it_was(
    tmp_path: Path, name: str
) -> None:
    target = tmp_path / name
    target.write_bytes(b"last week's report")

    def rows_then_a_failure() -> Iterator[Row]:
        yield ("华强贸易",)
        raise OSError(28, "No space left on device")

    with pytest.raises(SmbcrmError) as refused:
        save_sheet(target, _sheet(rows_then_a_failure()))
    assert str(refused.value) == f"Cannot write {target}: No space left on device. {ADVICE}"
    assert target.read_bytes() == b"last week's report"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]

    assert save_sheet(target, _sheet([("华强贸易",), ("=cmd",)])) == 2
    assert target.read_bytes() != b"last week's report"


def test_the_reason_is_the_systems_even_when_xlsxwriter_wraps_it() -> None:
    wrapped = FileCreateError(PermissionError(13, "Permission denied", "x.xlsx"))
    assert str(cannot_write(Path("x.xlsx"), wrapped)) == (
        f"Cannot write x.xlsx: Permission denied. {ADVICE}"
    )


# -- exports that cannot be written: the same words as every report ------------------


def _export_entries(db: Database) -> int:
    with db.new_session() as session:
        return int(session.scalar(select(func.count()).select_from(ExportEntry)) or 0)


@pytest.mark.parametrize("name", ["customers.xlsx", "customers.csv"])
def test_an_export_onto_a_folder_says_so_and_leaves_nothing(
    company: Database, owner: User, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    folder = out / name
    folder.mkdir(parents=True)
    with company.session() as session:
        make_customer(session, "华强贸易")
    with pytest.raises(SmbcrmError) as refused:
        export(company, owner.id, ExportKind.CUSTOMERS, folder)
    assert str(refused.value) == f"Cannot write {folder}: Is a directory. {ADVICE}"
    assert [p.name for p in out.iterdir()] == [name]  # no half file beside it
    assert _export_entries(company) == 0


def test_an_export_into_a_missing_folder_is_refused_in_the_same_words(
    company: Database, owner: User, tmp_path: Path
) -> None:
    target = tmp_path / "nowhere" / "customers.xlsx"
    with pytest.raises(SmbcrmError) as refused:
        export(company, owner.id, ExportKind.CUSTOMERS, target)
    assert str(refused.value) == (
        f"Cannot write {target}: the folder {target.parent} does not exist. Choose another folder."
    )
    assert not target.parent.exists()
    assert _export_entries(company) == 0


def test_an_export_excel_cannot_save_is_a_message_and_the_old_file_stays(
    company: Database, owner: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out" / "customers.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"last week's export")
    with company.session() as session:
        make_customer(session, "华强贸易")
    close = xlsxwriter.Workbook.close

    def close_then_fail(book: xlsxwriter.Workbook) -> None:
        # Saving the workbook itself is what fails, as when the disk refuses the file.
        close(book)
        raise FileCreateError(PermissionError(13, "Permission denied", book.filename))

    monkeypatch.setattr(xlsxwriter.Workbook, "close", close_then_fail)
    with pytest.raises(SmbcrmError) as refused:
        export(company, owner.id, ExportKind.CUSTOMERS, target)
    assert str(refused.value) == f"Cannot write {target}: Permission denied. {ADVICE}"
    assert target.read_bytes() == b"last week's export"
    assert [p.name for p in target.parent.iterdir()] == ["customers.xlsx"]
    assert _export_entries(company) == 0


# -- the at-risk report as CSV ----------------------------------------------------------


def _at_risk(name: str, customer_id: int) -> risk.RiskRow:
    return risk.RiskRow(
        id=customer_id,
        name=name,
        owner_id=1,
        owner="王芳",
        owner_active=True,
        tier=None,
        city="-深圳",
        level=risk.RiskLevel.HIGH,
        reasons=(),
        revenue_12m=1234.5,
        last_order=date(2026, 1, 5),
        first_order=date(2025, 1, 5),
        order_days=12,
        median_interval=30.0,
        days_since_order=176,
        last_contact=None,
    )


def test_the_risk_report_csv_neutralises_what_excel_would_run(tmp_path: Path) -> None:
    names = ['=HYPERLINK("http://x.example","open")', "+86 华南", "-Lee", "@SUM(A1)", "华强"]
    target = tmp_path / "at-risk.csv"
    count = risk.write_report(target, [_at_risk(n, i) for i, n in enumerate(names, start=1)])
    assert count == 5
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as before
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == list(risk.REPORT_COLUMNS)
    assert [r[1] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x.example","open")',
        "'+86 华南",
        "'-Lee",
        "'@SUM(A1)",
        "华强",
    ]
    assert {r[4] for r in rows[1:]} == {"'-深圳"}
    # Numbers and dates stay plain, so automation reads them as before.
    assert rows[1][0] == "1" and rows[1][8] == "1234.50" and rows[1][9] == "2026-01-05"


# -- a new home currency and the rates kept so far -------------------------------------


def _rates(home: str, **rates: str) -> currencies.ExchangeRates:
    return currencies.ExchangeRates(home, {c: Decimal(r) for c, r in rates.items()})


def test_rates_that_cannot_be_converted_are_named_not_dropped() -> None:
    kept = _rates("CNY", USD="7.2", EUR="7.8")
    with pytest.raises(ValidationError) as refused:
        currencies.carried_over(kept, "GBP", {}, in_use={"CNY", "USD"})
    message = str(refused.value)
    assert "There is no rate for GBP" in message
    assert "EUR, USD, CNY would be left without a rate" in message
    assert "first give GBP a rate in CNY" in message

    # Given along with the change, or cleared, a rate is not lost.
    assert currencies.carried_over(kept, "GBP", {"USD": "0.79", "EUR": None}, in_use=set()) == {
        "USD": "0.79",
        "EUR": None,
    }
    # The old home currency needs a rate only when orders are in it.
    assert currencies.carried_over(_rates("CNY"), "USD", {}, in_use={"USD"}) == {}
    with pytest.raises(ValidationError, match="so CNY would be left without a rate"):
        currencies.carried_over(_rates("CNY"), "USD", {}, in_use={"CNY"})


def test_rates_convert_through_a_rate_for_the_old_home_currency() -> None:
    kept = _rates("CNY", USD="7.2", EUR="7.8")
    moved = currencies.carried_over(kept, "GBP", {"CNY": "0.11"}, in_use={"CNY"})
    assert moved == {"CNY": "0.11", "EUR": "0.858000", "USD": "0.792000"}
    # Through the new home's own rate, as before.
    assert currencies.carried_over(kept, "USD", {}, in_use={"CNY"}) == {
        "CNY": "0.138889",
        "EUR": "1.083333",
    }


def test_changing_the_home_currency_refuses_and_keeps_the_rates(company: Database) -> None:
    with company.session() as session:
        boss = auth.find_user(session, "boss")
        make_order(session, make_customer(session), amount="100")
        currencies.save_rates(session, boss, "CNY", {"USD": "7.2"})
    with company.session() as session:
        boss = auth.find_user(session, "boss")
        with pytest.raises(ValidationError, match="USD, CNY would be left without a rate"):
            currencies.update_rates(session, boss, {}, home="GBP")
    with company.session() as session:
        assert currencies.load_rates(session) == _rates("CNY", USD="7.2")
        boss = auth.find_user(session, "boss")
        saved = currencies.update_rates(session, boss, {"cny": "0.1"}, home="gbp")
    assert saved == _rates("GBP", CNY="0.1", USD="0.72")
    with company.new_session() as session:
        assert currencies.load_rates(session) == saved


# -- who may be given customers -------------------------------------------------------


def test_customers_go_only_to_staff_who_may_own_them(company: Database) -> None:
    add_user(company, "li", Role.SALES, "Li Lei")
    add_user(company, "books", Role.BOOKKEEPER, "Zhao Kuai")
    add_user(company, "mgr", Role.MANAGER, "Ma Li")
    with company.session() as session:
        li = auth.find_user(session, "li")
        ids = [make_customer(session, owner_id=li.id).id for _ in range(2)]
    expected = "Zhao Kuai may not be responsible for customers"
    with company.session() as session:
        boss, li, books, mgr = (auth.find_user(session, x) for x in ("boss", "li", "books", "mgr"))
        assert not svc.may_own_customers(books)
        assert all(svc.may_own_customers(u) for u in (boss, li, mgr))
        for strategy in (Strategy.ONE_COLLEAGUE, Strategy.EVEN_SPLIT):
            with pytest.raises(ValidationError, match=expected):
                svc.plan_handover(session, li.id, strategy, [mgr.id, books.id][::-1])
        with pytest.raises(ValidationError, match=expected):
            svc.plan_handover(session, li.id, Strategy.BY_CITY, [mgr.id], rule={"": books.id})
        with pytest.raises(ValidationError, match=expected):
            svc.bulk_reassign(session, boss, ids, books.id, reason="Books keeps them")
        plan = svc.plan_handover(session, li.id, Strategy.ONE_COLLEAGUE, [mgr.id])
        # A plan changed after its preview is checked again when applied.
        plan.moves = [
            svc.Move(m.customer_id, m.name, m.status, m.city, m.tier, books.id) for m in plan.moves
        ]
        with pytest.raises(ValidationError, match=expected):
            svc.deactivate_staff(session, boss, li.id, handover=plan)
    with company.new_session() as session:
        li = auth.find_user(session, "li")
        assert li.active
        assert svc.workload_of(session, li.id).customers == 2
