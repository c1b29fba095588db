"""Counts in window texts agree with their number: "1 customer", "2 customers"."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from smbcrm.models import ImportKind
from smbcrm.services.duplicates.service import ScanResult
from smbcrm.services.importing.mapping import auto_map, header_hint
from smbcrm.services.importing.reader import read_table
from smbcrm.services.importing.undo import UndoConflict, UndoResult
from smbcrm.services.ownership import Workload
from smbcrm.ui.batches_view import UndoConflictDialog, undo_result_text
from smbcrm.ui.duplicates_view import scan_summary
from smbcrm.ui.handover_wizard import _book_text
from smbcrm.ui.import_texts import describe_table
from smbcrm.ui.translation import install_language, remove_language


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[None]:
    assert install_language(qapp, "zh")
    yield
    remove_language(qapp)


def _scan(queued: int, suppressed: int) -> ScanResult:
    return ScanResult(
        candidates=[], customers_scanned=1, queued=queued, suppressed=suppressed, seconds=0.25
    )


def _load(*, customers: int, prospects: int, follow_ups: int, cases: int, teams: int) -> Workload:
    return Workload(
        user_id=1,
        full_name="李雷",
        active=True,
        customers=customers,
        prospects=prospects,
        open_follow_ups=follow_ups,
        team_places=teams,
        open_cases=cases,
    )


def test_one_of_each_is_said_in_the_singular(qapp: QApplication) -> None:
    assert scan_summary(_scan(1, 1)) == (
        "1 customer checked in 0.2 s: 1 possible duplicate to review. "
        "1 pair marked “not the same” before was left out."
    )
    assert undo_result_text(UndoResult(batch_id=7, restored=1, removed=1, kept=[])) == (
        "Import batch 7 was undone: removed 1 customer it created and put back 1 customer it "
        "changed as before."
    )
    one_of_each = _load(customers=1, prospects=1, follow_ups=1, cases=1, teams=1)
    assert _book_text(one_of_each) == (
        "1 customer, 1 prospect, 1 open follow-up, 1 open case, on 1 account team"
    )


def test_many_are_said_in_the_plural_with_separators(qapp: QApplication) -> None:
    result = ScanResult(
        candidates=[], customers_scanned=100_000, queued=0, suppressed=2, seconds=3.0
    )
    assert scan_summary(result) == (
        "100,000 customers checked in 3.0 s: 0 possible duplicates to review. "
        "2 pairs marked “not the same” before were left out."
    )
    assert _book_text(_load(customers=2, prospects=0, follow_ups=3, cases=0, teams=2)) == (
        "2 customers, 0 prospects, 3 open follow-ups, 0 open cases, on 2 account teams"
    )


def test_counts_read_naturally_in_chinese(qapp: QApplication, chinese: None) -> None:
    assert scan_summary(_scan(3, 0)) == "已检查 1 个客户，用时 0.2 秒：3 个疑似重复待审核。"
    assert _book_text(_load(customers=2, prospects=1, follow_ups=0, cases=0, teams=1)) == (
        "2 个客户、1 个潜在客户、0 个未完成跟进、0 个未结服务单，参与 1 个客户团队"
    )


def test_the_undo_question_speaks_of_orders_for_an_orders_batch(
    qtbot: QtBot, qapp: QApplication
) -> None:
    conflict = UndoConflict(
        3, ["U-1"], ["Order U-1 was linked by hand after the import."], orders=True
    )
    dialog = UndoConflictDialog(
        conflict.batch_id,
        conflict.later_edits,
        details=conflict.details,
        orders=conflict.subject == "orders",
    )
    qtbot.addWidget(dialog)
    intro = dialog.findChild(QLabel, "undoConflictText")
    assert dialog.windowTitle() == "Orders were changed after this import"
    assert intro is not None and intro.text().startswith("Changed since import batch 3: 1 order.")
    assert dialog.edits_list.item(0).text() == "Order U-1 was linked by hand after the import."

    about_customers = UndoConflictDialog(3, ["Acme", "Beta"])
    qtbot.addWidget(about_customers)
    intro = about_customers.findChild(QLabel, "undoConflictText")
    assert about_customers.windowTitle() == "Customers were changed after this import"
    assert intro is not None and intro.text().startswith(
        "Edited since import batch 3: 2 customers."
    )


def test_the_file_summary_reads_as_one_sentence_in_chinese(
    qapp: QApplication, chinese: None, tmp_path: Path
) -> None:
    path = tmp_path / "客户.csv"
    path.write_bytes("客户名单\r\n\r\n客户名称,手机\r\n华强电子,13800138000\r\n".encode("gbk"))
    table = read_table(path, header_hint=header_hint(ImportKind.CUSTOMERS))

    text = describe_table(table, auto_map(table.header, ImportKind.CUSTOMERS))

    assert "在第 3 行找到表头；已跳过其上方的 2 行（标题、空行）。" in text
    assert ". " not in text and "已跳过 " not in text
