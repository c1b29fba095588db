"""The import wizard, walked by clicking: file → columns → preview → import → undo."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QFileDialog, QInputDialog
from pytestqt.qtbot import QtBot
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from smbcrm.models import BatchStatus, Customer, Database, ImportBatch, User
from smbcrm.services import customers
from smbcrm.services.importing.apply import apply_plan as real_apply_plan
from smbcrm.services.importing.plan import ImportPlan, Outcome
from smbcrm.services.progress import Progress
from smbcrm.ui.batches_view import BatchesDialog
from smbcrm.ui.context import AppContext
from smbcrm.ui.import_tables import PlanRowsModel, RowFilter
from smbcrm.ui.import_texts import Step
from smbcrm.ui.import_wizard import ImportWizard
from smbcrm.ui.translation import install_language, remove_language
from tests.factories import make_customer
from tests.gui.conftest import add_salesperson, context_for

HEADER = ["客户编号", "客户名称", "联系人", "手机", "邮箱", "城市", "负责销售"]
ROWS = [
    [
        "C001",
        "深圳市华强电子有限公司",
        "王芳",
        "13800138000",
        "wang@huaqiang.cn",
        "深圳",
        "Wang Fang",
    ],
    ["C002", "杭州绿源茶业有限公司", "陈静", "+86 139-1234-5678", "", "杭州", ""],
    ["C003", "Harbor Lights Trading", "Tom Baker", "", "tom@harbor.sg", "Singapore", ""],
]
WAIT = 20_000


def gbk_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    """As Excel on Chinese Windows saves it: GBK, a title block, a totals row."""
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户名单"])
        writer.writerow(["导出日期：2024-03-01"])
        writer.writerow([])
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow(["合计", f"{len(rows)} 家"])
    return path


def click(qtbot: QtBot, button: QAbstractButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def customer_count(db: Database) -> int:
    with db.new_session() as session:
        return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


def batch_count(db: Database) -> int:
    with db.new_session() as session:
        return int(session.scalar(select(func.count()).select_from(ImportBatch)) or 0)


def open_wizard(qtbot: QtBot, ctx: AppContext, path: Path) -> ImportWizard:
    """A wizard on ``path``, once the file has been read (or failed to be)."""
    wizard = ImportWizard(ctx, path)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitUntil(
        lambda: wizard.next_button.isEnabled() or wizard.file_page.error_label.isVisible(),
        timeout=WAIT,
    )
    return wizard


def to_mapping(qtbot: QtBot, wizard: ImportWizard) -> None:
    click(qtbot, wizard.next_button)
    assert wizard.step == Step.MAPPING


def to_preview(qtbot: QtBot, wizard: ImportWizard) -> ImportPlan:
    click(qtbot, wizard.next_button)
    assert wizard.step == Step.PREVIEW
    qtbot.waitUntil(lambda: wizard.plan is not None, timeout=WAIT)
    assert wizard.plan is not None
    return wizard.plan


def import_now(qtbot: QtBot, wizard: ImportWizard) -> int:
    with qtbot.waitSignal(wizard.imported, timeout=WAIT) as blocker:
        click(qtbot, wizard.next_button)
    assert wizard.step == Step.SUMMARY
    return int(blocker.args[0])  # type: ignore[index]


def details(wizard: ImportWizard, position: int) -> str:
    model = wizard.preview_page.model
    return str(model.data(model.index(position, PlanRowsModel.DETAILS)))


def test_the_full_flow_imports_shows_the_summary_and_undoes(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "客户名单.csv", ROWS))
    assert "3 rows" in wizard.file_page.status_label.text()
    assert not wizard.file_page.sheet_combo.isVisible()  # a CSV has one table

    to_mapping(qtbot, wizard)
    page = wizard.mapping_page
    assert page.combo_for("客户名称").currentText() == "Name / 客户名称"
    assert page.combo_for("手机").currentText() == "Mobile / 手机"
    banner = page.banner.text()
    assert "Header found on row 4; the 3 rows above it" in banner
    assert "totals row" in banner and "Read as" in banner
    assert not page.problems_label.isVisible()

    plan = to_preview(qtbot, wizard)
    preview = wizard.preview_page
    assert preview.chips[Outcome.CREATE].text() == "3 new"
    assert preview.chips[Outcome.ERROR].text() == "0 errors"
    assert preview.model.rowCount() == 3
    assert preview.model.customer_name(plan.rows[0]) == "深圳市华强电子有限公司"
    assert not preview.save_problems_button.isEnabled()

    batch_id = import_now(qtbot, wizard)
    summary = wizard.summary_page
    assert summary.count_labels["created"].text() == "3"
    assert summary.count_labels["errors"].text() == "0"
    assert str(batch_id) in summary.batch_label.text()
    with ctx.read_session() as session:
        names = set(session.scalars(select(Customer.name)))
        owner = session.scalar(
            select(User.login)
            .join(Customer, Customer.owner_id == User.id)
            .where(Customer.name == "深圳市华强电子有限公司")
        )
    assert names == {r[1] for r in ROWS}
    assert owner == "boss"

    click(qtbot, summary.undo_button)
    qtbot.waitUntil(summary.undone_label.isVisible, timeout=WAIT)
    assert "removed 3 customers it created" in summary.undone_label.text()
    assert not summary.undo_button.isEnabled()
    assert customer_count(ctx.db) == 0
    with ctx.read_session() as session:
        assert session.get_one(ImportBatch, batch_id).status == BatchStatus.UNDONE
    click(qtbot, wizard.cancel_button)  # now "Close"
    assert not wizard.isVisible()


def test_cancelling_the_import_leaves_the_database_untouched(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writing = threading.Event()

    def slow_apply(db: Database, actor_id: int, plan: ImportPlan, *, progress: Progress) -> Any:
        """The real import, held at its first progress report until Cancel is pressed."""

        def report(done: int, total: int, message: str) -> None:
            writing.set()
            while not progress.token.cancelled:
                threading.Event().wait(0.005)

        return real_apply_plan(db, actor_id, plan, progress=Progress(report, progress.token))

    monkeypatch.setattr("smbcrm.ui.import_wizard.apply_plan", slow_apply)
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "big.csv", ROWS))
    to_mapping(qtbot, wizard)
    to_preview(qtbot, wizard)
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(writing.is_set, timeout=WAIT)
    dialog = wizard.progress_dialog
    assert dialog is not None and wizard.apply_worker is not None
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT)
    with qtbot.waitSignal(wizard.apply_worker.cancelled, timeout=WAIT):
        click(qtbot, dialog.cancel_button)

    assert wizard.step == Step.PREVIEW
    assert wizard.preview_page.message_label.text() == "Cancelled: nothing was imported."
    assert wizard.preview_page.message_label.isVisible()
    assert customer_count(ctx.db) == 0
    assert batch_count(ctx.db) == 0
    assert wizard.next_button.isEnabled()  # the same preview can still be imported


def test_cancelling_the_preview_returns_to_the_columns(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checking = threading.Event()

    def endless_plan(*_args: Any, progress: Progress, **_kwargs: Any) -> ImportPlan:
        while True:
            progress.report(1, 3, "Checking rows…")
            checking.set()
            threading.Event().wait(0.005)

    monkeypatch.setattr("smbcrm.ui.import_loading.build_plan", endless_plan)
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "slow.csv", ROWS))
    to_mapping(qtbot, wizard)
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(checking.is_set, timeout=WAIT)
    preview = wizard.preview_page
    assert preview.progress_box.isVisible() and not wizard.next_button.isEnabled()
    worker = wizard.preview_worker
    assert worker is not None
    with qtbot.waitSignal(worker.ended, timeout=WAIT):
        click(qtbot, preview.cancel_button)
    assert wizard.step == Step.MAPPING
    assert wizard.mapping_page.message_label.text() == "Preview cancelled: nothing was written."
    assert wizard.plan is None and batch_count(ctx.db) == 0


def test_a_file_without_a_name_column_cannot_go_on_until_one_is_chosen(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text("Firma;Handy;Ort\nNordwind GmbH;+49 30 1234567;Hamburg\n", encoding="utf-8")
    wizard = open_wizard(qtbot, ctx, path)
    to_mapping(qtbot, wizard)
    page = wizard.mapping_page
    assert not wizard.next_button.isEnabled()
    assert page.problems_label.isVisible()
    assert "No column is mapped to the customer's name" in page.problems_label.text()
    assert page.combo_for("Firma").currentText() == "— Ignore —"

    firma = page.combo_for("Firma")
    firma.setCurrentIndex(firma.findData("name"))
    assert wizard.next_button.isEnabled()
    assert not page.problems_label.isVisible()
    # Two columns on one field is a problem again.
    ort = page.combo_for("Ort")
    ort.setCurrentIndex(ort.findData("name"))
    assert "Two columns are mapped to 'Name'" in page.problems_label.text()
    assert not wizard.next_button.isEnabled()
    ort.setCurrentIndex(ort.findData("city"))
    assert wizard.next_button.isEnabled()

    # Saved under a name, the same columns map themselves next time.
    monkeypatch.setattr(
        QInputDialog, "getText", staticmethod(lambda *_a, **_k: ("German CRM", True))
    )
    click(qtbot, page.save_mapping_button)
    assert "German CRM" in page.message_label.text()
    again = open_wizard(qtbot, ctx, path)
    to_mapping(qtbot, again)
    assert again.mapping_page.combo_for("Firma").currentText() == "Name / 客户名称"
    assert "German CRM" in again.mapping_page.banner.text()
    assert again.next_button.isEnabled()


def test_a_file_that_is_not_a_spreadsheet_says_so_on_the_first_page(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    path = tmp_path / "客户.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2048))
    wizard = open_wizard(qtbot, ctx, path)
    error = wizard.file_page.error_label
    assert error.isVisible()
    assert "'客户.xlsx' is not an Excel or CSV file (it looks like a PNG image)" in error.text()
    assert "Traceback" not in error.text()
    assert not wizard.next_button.isEnabled()
    assert wizard.step == Step.FILE


def test_error_rows_show_column_and_fix_and_are_saved_with_a_problem_column(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [*ROWS[:2], ["C009", "Bad Mail Co", "", "", "not-an-email", "", ""]]
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "bad.csv", rows))
    to_mapping(qtbot, wizard)
    to_preview(qtbot, wizard)
    preview = wizard.preview_page
    assert preview.chips[Outcome.ERROR].text() == "1 error"
    assert preview.chips[Outcome.CREATE].text() == "2 new"

    preview.set_filter(RowFilter.ERRORS)
    assert preview.model.rowCount() == 1
    assert preview.model.row_at(0).row_number == 7
    text = details(wizard, 0)
    assert "Column '邮箱': 'not-an-email' is not an e-mail address" in text
    assert "name@example.com" in text  # how to fix it

    target = tmp_path / "out" / "bad - problems.xlsx"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(target), ""))
    )
    click(qtbot, preview.save_problems_button)
    qtbot.waitUntil(preview.message_label.isVisible, timeout=WAIT)
    assert "1 row with problems" in preview.message_label.text()
    sheet = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "Row" and sheet[0][-1] == "Problem"
    assert sheet[1][2] == "Bad Mail Co" and "not an e-mail" in sheet[1][-1]

    import_now(qtbot, wizard)
    assert wizard.summary_page.count_labels["created"].text() == "2"
    assert wizard.summary_page.count_labels["errors"].text() == "1"
    assert wizard.summary_page.save_problems_button.isEnabled()


def test_possible_duplicates_are_decided_per_row(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    with ctx.db.session() as session:
        make_customer(session, "深圳市华强电子有限公司", city="广州")
    rows = [["", "深圳市华强电子", "", "", "", "深圳", ""], ROWS[1]]
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "dup.csv", rows))
    to_mapping(qtbot, wizard)
    plan = to_preview(qtbot, wizard)
    preview = wizard.preview_page
    assert preview.chips[Outcome.DUPLICATE].text() == "1 possible duplicate"
    assert preview.decision_box.isVisible()
    assert not preview.decision_buttons[Outcome.CREATE].isEnabled()  # nothing selected

    preview.set_filter(RowFilter.DUPLICATES)
    assert "city 广州 vs 深圳" in details(wizard, 0)
    where = preview.table.visualRect(preview.model.index(0, PlanRowsModel.CUSTOMER)).center()
    qtbot.mouseClick(preview.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    click(qtbot, preview.decision_buttons[Outcome.CREATE])
    assert plan.rows[0].decision == Outcome.CREATE
    assert preview.chips[Outcome.CREATE].text() == "2 new"
    assert preview.chips[Outcome.DUPLICATE].text() == "0 possible duplicates"
    assert preview.model.rowCount() == 1  # still listed, so the choice can be changed

    import_now(qtbot, wizard)
    assert wizard.summary_page.count_labels["created"].text() == "2"
    assert customer_count(ctx.db) == 3


def test_undo_after_a_later_edit_lists_it_and_undo_anyway_completes(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "later.csv", ROWS))
    to_mapping(qtbot, wizard)
    to_preview(qtbot, wizard)
    batch_id = import_now(qtbot, wizard)
    with ctx.unit_of_work() as (session, user):
        tea = session.scalar(select(Customer).where(Customer.name == "杭州绿源茶业有限公司"))
        assert tea is not None
        data = customers.input_from_customer(tea)
        data.notes = "Called after the import: wants samples"
        customers.update_customer(session, user, tea.id, data)
        tea_id = tea.id

    click(qtbot, wizard.summary_page.undo_button)
    runner = wizard.undo_runner
    assert runner is not None
    qtbot.waitUntil(
        lambda: runner.conflict_dialog is not None and runner.conflict_dialog.isVisible(),
        timeout=WAIT,
    )
    dialog = runner.conflict_dialog
    assert dialog is not None
    listed = [dialog.edits_list.item(i).text() for i in range(dialog.edits_list.count())]
    # Each line names the customer and what undoing anyway would lose of the later edit.
    assert len(listed) == 1 and listed[0].startswith(f"杭州绿源茶业有限公司 (ID {tea_id})")
    assert "undoing removes it" in listed[0] and "notes" in listed[0]
    assert customer_count(ctx.db) == 3  # nothing undone yet

    with qtbot.waitSignal(wizard.undone, timeout=WAIT):
        click(qtbot, dialog.undo_anyway_button)
    assert wizard.summary_page.undone_label.isVisible()
    assert customer_count(ctx.db) == 0
    with ctx.read_session() as session:
        assert session.get_one(ImportBatch, batch_id).status == BatchStatus.UNDONE


def test_the_import_history_lists_batches_and_undoes_the_selected_one(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "history.csv", ROWS))
    to_mapping(qtbot, wizard)
    to_preview(qtbot, wizard)
    batch_id = import_now(qtbot, wizard)

    dialog = BatchesDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.table
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == str(batch_id)
    assert table.item(0, 2).text() == "Wang Fang"
    assert table.item(0, 3).text() == "history.csv"
    assert table.item(0, 5).text() == "3"
    assert table.item(0, 8).text() == "Imported"
    assert not dialog.undo_button.isEnabled()  # nothing selected yet
    table.selectRow(0)
    with qtbot.waitSignal(dialog.undone, timeout=WAIT):
        click(qtbot, dialog.undo_button)
    assert dialog.table.item(0, 8).text() == "Undone"
    assert not dialog.undo_button.isEnabled()
    assert "was undone" in dialog.message.text()
    assert customer_count(ctx.db) == 0


def test_a_workbook_sheet_is_chosen_and_read_again(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    path = tmp_path / "prospects.xlsx"
    book = xlsxwriter.Workbook(str(path))
    notes = book.add_worksheet("说明")
    notes.write(0, 0, "Trade-show contacts, spring 2024")
    sheet = book.add_worksheet("展会名单")
    sheet.merge_range(0, 0, 0, 3, "2024 春季展会客户名单")
    sheet.write_row(2, 0, ["Company", "Contact", "Mobile", "City"])
    sheet.write_row(3, 0, ["Nordwind Trading", "Anna Berg", 13800138001, "上海"])
    book.close()
    wizard = open_wizard(qtbot, ctx, path)
    page = wizard.file_page
    combo = page.sheet_combo
    assert combo.isVisible() and combo.count() == 2
    # The notes sheet in front of the list is passed over: the list is read at once.
    assert combo.currentData() == "展会名单"
    assert "The first sheet with a table was chosen." in page.sheet_note.text()
    assert "1 row with 4 columns (column names on row 3)" in page.status_label.text()
    assert wizard.next_button.isEnabled()

    # The notes sheet, chosen by hand, has no table: the page says so and what to do.
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Up)
    qtbot.waitUntil(page.error_label.isVisible, timeout=WAIT)
    assert combo.currentData() == "说明"
    assert "Choose the sheet" in page.error_label.text()
    assert not wizard.next_button.isEnabled()

    qtbot.keyClick(combo, Qt.Key.Key_Down)
    qtbot.waitUntil(wizard.next_button.isEnabled, timeout=WAIT)
    assert combo.currentData() == "展会名单"
    assert not page.error_label.isVisible()
    assert "1 row with 4 columns (column names on row 3)" in page.status_label.text()
    to_mapping(qtbot, wizard)
    plan = to_preview(qtbot, wizard)
    assert [r.outcome for r in plan.rows] == [Outcome.CREATE]


def test_a_salesperson_sees_why_they_cannot_import(
    qtbot: QtBot, gui_db: Database, tmp_path: Path
) -> None:
    add_salesperson(gui_db, "sam.li", "Sam Li")
    wizard = ImportWizard(context_for(gui_db, "sam.li"), gbk_csv(tmp_path / "s.csv", ROWS))
    qtbot.addWidget(wizard)
    wizard.show()
    message = wizard.file_page.permission_label
    assert message.isVisible()
    assert "Only an owner or a manager can import customers" in message.text()
    assert not wizard.next_button.isEnabled()
    assert not wizard.file_page.choose_button.isEnabled()
    assert wizard.read_worker is None  # the file is not even read


def test_an_edit_made_after_the_preview_stops_the_import_and_previews_again(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    with ctx.db.session() as session:
        tea_id = make_customer(session, "杭州绿源茶业有限公司", phones=["13912345678"]).id
    warnings: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text, *_a: warnings.append(text)
    )
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "edited.csv", ROWS))
    to_mapping(qtbot, wizard)
    first = to_preview(qtbot, wizard)
    assert [r.outcome for r in first.rows].count(Outcome.UPDATE) == 1
    with ctx.unit_of_work() as (session, user):
        tea = session.get_one(Customer, tea_id)
        data = customers.input_from_customer(tea)
        data.notes = "Called while the preview was open"
        customers.update_customer(session, user, tea_id, data)

    click(qtbot, wizard.next_button)
    # Nothing written; the preview is made again from the customers as they are now.
    qtbot.waitUntil(lambda: wizard.plan is not None and wizard.plan is not first, timeout=WAIT)
    assert wizard.step == Step.PREVIEW and warnings == []
    note = wizard.preview_page.message_label.text()
    assert note.startswith("Nothing was imported: 杭州绿源茶业有限公司 (row 6) was changed")
    assert "made again" in note and wizard.preview_page.message_label.isVisible()
    assert customer_count(ctx.db) == 1 and batch_count(ctx.db) == 0

    import_now(qtbot, wizard)
    assert customer_count(ctx.db) == 3
    with ctx.read_session() as session:
        tea = session.get_one(Customer, tea_id)
        assert tea.city == "杭州" and tea.notes == "Called while the preview was open"


def test_the_source_system_box_suggests_the_systems_already_used(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    from smbcrm.models import ExternalId
    from tests.factories import make_customer

    with ctx.db.session() as session:
        customer = make_customer(session, "Huaqiang Electronics")
        session.add(ExternalId(customer=customer, system="Kingdee", key="K1", key_norm="k1"))
    wizard = open_wizard(qtbot, ctx, gbk_csv(tmp_path / "客户名单.csv", ROWS))
    completer = wizard.file_page.source_edit.completer()
    assert completer is not None
    completer.setCompletionPrefix("king")  # any case, any part of the name
    assert completer.currentCompletion() == "Kingdee"


def test_dates_are_read_as_the_file_shows_them_unless_the_person_says(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    path = tmp_path / "生日.csv"
    path.write_text("客户名称,生日\n张伟,01.11.1990\n王芳,05.04.1992\n", encoding="utf-8")
    wizard = open_wizard(qtbot, ctx, path)
    to_mapping(qtbot, wizard)
    page = wizard.mapping_page
    combo = page.date_order_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Decide from the file",
        "Day first (25.03.2026)",
        "Month first (03.25.2026)",
    ]
    assert combo.currentIndex() == 0 and page.options(ctx.region).day_first is None

    # Not said: the dates could be read both ways, so they are read month first, and the
    # preview says so on the first of them.
    plan = to_preview(qtbot, wizard)
    assert [r.values.scalars["birthday"] for r in plan.rows] == [
        date(1990, 1, 11),
        date(1992, 5, 4),
    ]
    assert "could be day first or month first" in details(wizard, 0)

    for choice, birthdays in (
        ("Day first (25.03.2026)", [date(1990, 11, 1), date(1992, 4, 5)]),
        ("Month first (03.25.2026)", [date(1990, 1, 11), date(1992, 5, 4)]),
    ):
        click(qtbot, wizard.back_button)
        combo.setCurrentIndex(combo.findText(choice))
        plan = to_preview(qtbot, wizard)
        assert [r.values.scalars["birthday"] for r in plan.rows] == birthdays
        assert not any(r.warnings for r in plan.rows)


def test_the_problems_of_a_mapping_read_in_the_windows_language(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, qapp: QApplication
) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text("Firma;Handy;Ort\nNordwind GmbH;+49 30 1234567;Hamburg\n", encoding="utf-8")
    assert install_language(qapp, "zh")
    try:
        wizard = open_wizard(qtbot, ctx, path)
        to_mapping(qtbot, wizard)
        page = wizard.mapping_page
        assert "没有列对应到客户名称" in page.problems_label.text()
        firma = page.combo_for("Firma")
        firma.setCurrentIndex(firma.findData("name"))
        for column in ("Handy", "Ort"):
            combo = page.combo_for(column)
            combo.setCurrentIndex(combo.findData("city"))
        assert page.problems_label.text() == "有两列都对应到‘城市’；请只保留一列。"
    finally:
        remove_language(qapp)


def test_the_same_file_imported_elsewhere_meanwhile_is_not_imported_twice(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from smbcrm.services.importing.service import prepare_import

    warnings: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text, *_a: warnings.append(text)
    )
    # No customer codes: only the names, phones and e-mails tell the rows' customers apart.
    rows = [row[1:] for row in ROWS]
    path = gbk_csv(tmp_path / "no-codes.csv", rows, header=HEADER[1:])
    wizard = open_wizard(qtbot, ctx, path)
    to_mapping(qtbot, wizard)
    first = to_preview(qtbot, wizard)
    assert [r.outcome for r in first.rows].count(Outcome.CREATE) == 3
    # A colleague imports the same file from another window meanwhile.
    elsewhere = prepare_import(ctx.db, path)
    real_apply_plan(ctx.db, ctx.user_id, elsewhere.plan)
    assert customer_count(ctx.db) == 3

    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.plan is not None and wizard.plan is not first, timeout=WAIT)
    assert wizard.step == Step.PREVIEW and warnings == []
    note = wizard.preview_page.message_label.text()
    assert note.startswith(
        "Nothing was imported: 3 rows new in the first preview now match customers added or "
        "changed since (first: row 5, 深圳市华强电子有限公司)."
    ), note
    assert customer_count(ctx.db) == 3 and batch_count(ctx.db) == 1
    assert wizard.plan is not None and Outcome.CREATE not in {r.outcome for r in wizard.plan.rows}
