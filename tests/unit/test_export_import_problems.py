"""Rows an import could not take are kept with their batch and exported through the Export flow."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from smbcrm.errors import NotFoundError
from smbcrm.models import Customer, Database, ImportProblem, User
from smbcrm.services.export import ExportKind, ExportOptions, available_kinds, export
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.problems import problem_batches
from smbcrm.services.importing.service import prepare_import
from smbcrm.services.importing.undo import undo_batch
from tests.unit.test_import import HEADER, gbk_csv

ROWS = [
    ["C010", "Good Co", "", "13800138000", "good@x.cn", "", "", ""],
    ["C011", "Bad Mail Co", "", "13900139000", "not-an-email", "深圳", "", ""],
    ["C012", "坏电话有限公司", "", "12ab", "", "", "", ""],
]


def _import(db: Database, owner: User, path: Path) -> int:
    return apply_plan(db, owner.id, prepare_import(db, path).plan).batch_id


def _sheet(path: Path) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def test_problem_rows_export_under_the_files_own_header(
    company: Database, owner: User, tmp_path: Path
) -> None:
    assert ExportKind.IMPORT_PROBLEMS in available_kinds()
    batch_id = _import(company, owner, gbk_csv(tmp_path / "list.csv", ROWS))
    with company.new_session() as session:
        [offered] = problem_batches(session)
    assert (offered.id, offered.problems) == (batch_id, 2)
    assert "list.csv" in offered.label

    out = tmp_path / "problems.xlsx"
    result = export(
        company, owner.id, ExportKind.IMPORT_PROBLEMS, out, ExportOptions(batch_id=batch_id)
    )
    assert result.rows == 2
    sheet = _sheet(out)
    assert sheet[0] == ["Row", *HEADER, "Problem"]
    bad_mail, bad_phone = sheet[1], sheet[2]
    assert bad_mail[0] == 6 and bad_mail[2] == "Bad Mail Co" and "not an e-mail" in bad_mail[-1]
    # The phone comes back as the number it was, not "13900139000.0".
    assert str(bad_mail[4]).removesuffix(".0") == "13900139000"
    assert bad_phone[2] == "坏电话有限公司" and "'12ab' is not a phone number" in bad_phone[-1]

    # Fixed in Excel (here: the problem cells corrected) and imported again as it is.
    import openpyxl

    book = openpyxl.load_workbook(out)
    ws = book.active
    assert ws is not None
    ws.cell(row=2, column=6, value="bad@x.cn")
    ws.cell(row=3, column=5, value="13700137000")
    book.save(out)
    again = prepare_import(company, out).plan
    assert not again.error_rows
    apply_plan(company, owner.id, again)
    with company.new_session() as session:
        names = set(session.scalars(select(Customer.name)))
    assert {"Good Co", "Bad Mail Co", "坏电话有限公司"} <= names


def test_latest_batch_by_default_csv_too_and_clear_errors(
    company: Database, owner: User, tmp_path: Path
) -> None:
    out = tmp_path / "problems.csv"
    with pytest.raises(NotFoundError, match="No import has left rows with problems"):
        export(company, owner.id, ExportKind.IMPORT_PROBLEMS, out)
    assert not out.exists()
    clean = _import(company, owner, gbk_csv(tmp_path / "clean.csv", ROWS[:1]))
    with pytest.raises(NotFoundError, match=f"#{clean}"):
        export(company, owner.id, ExportKind.IMPORT_PROBLEMS, out, ExportOptions(batch_id=clean))
    with pytest.raises(NotFoundError, match="no import batch #999"):
        export(company, owner.id, ExportKind.IMPORT_PROBLEMS, out, ExportOptions(batch_id=999))

    _import(company, owner, gbk_csv(tmp_path / "first.csv", ROWS[1:2]))
    latest = _import(company, owner, gbk_csv(tmp_path / "second.csv", ROWS[2:]))
    result = export(company, owner.id, ExportKind.IMPORT_PROBLEMS, out)
    assert result.rows == 1
    text = out.read_text(encoding="utf-8-sig")
    assert "坏电话有限公司" in text and "Bad Mail Co" not in text
    with company.new_session() as session:
        assert problem_batches(session)[0].id == latest


def test_problem_rows_stay_with_an_undone_batch(
    company: Database, owner: User, tmp_path: Path
) -> None:
    batch_id = _import(company, owner, gbk_csv(tmp_path / "list.csv", ROWS))
    undo_batch(company, owner.id, batch_id)
    with company.new_session() as session:
        kept = session.scalar(select(func.count()).select_from(ImportProblem))
        # The problems are still the file's problems: the batch is undone, not forgotten.
        assert kept == 2
