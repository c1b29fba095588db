"""Importing from the main window: the Import menu, dropping a file, rows left for review."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QTableWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from smbcrm.models import Customer, Database, ImportKind, User
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.review import ReviewDecision, pending_reviews, resolve_review
from smbcrm.services.importing.service import prepare_import
from smbcrm.ui.context import AppContext
from smbcrm.ui.import_texts import Step
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.review_dialog import ReviewDialog
from tests.factories import make_customer
from tests.gui.conftest import add_salesperson, context_for

HEADER = ["客户编号", "客户名称", "联系人", "手机", "邮箱", "城市"]
ROWS = [
    ["C001", "深圳市华强电子有限公司", "王芳", "13800138000", "wang@huaqiang.cn", "深圳"],
    ["C002", "杭州绿源茶业有限公司", "陈静", "+86 139-1234-5678", "", "杭州"],
    ["C003", "Harbor Lights Trading", "Tom Baker", "", "tom@harbor.sg", "Singapore"],
]
EXISTING = "深圳市华强电子有限公司"
LOOKALIKES = [
    ["R1", "深圳市华强电子", "李雷", "13800138000", "", "深圳"],
    ["R2", "深圳市华强电子", "韩梅梅", "13900139000", "", "东莞"],
]
WAIT = 20_000


def gbk_csv(path: Path, rows: list[list[str]]) -> Path:
    """As Excel on Chinese Windows saves it: GBK, a title block, a totals row."""
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户名单"])
        writer.writerow(["导出日期：2024-03-01"])
        writer.writerow([])
        writer.writerow(HEADER)
        writer.writerows(rows)
        writer.writerow(["合计", f"{len(rows)} 家"])
    return path


def click(qtbot: QtBot, button: QAbstractButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


def customer_names(db: Database) -> list[str]:
    with db.new_session() as session:
        return sorted(session.scalars(select(Customer.name)).all())


def customer_count(db: Database) -> int:
    with db.new_session() as session:
        return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


def owner_id(db: Database) -> int:
    with db.new_session() as session:
        found = session.scalar(select(User.id).where(User.login == "boss"))
        assert found is not None
        return found


def leave_rows_for_review(db: Database, tmp_path: Path) -> int:
    """An existing customer and an import whose rows only look like it: returns its id."""
    with db.session() as session:
        existing = make_customer(session, EXISTING, city="广州").id
    prepared = prepare_import(db, gbk_csv(tmp_path / "对账.csv", LOOKALIKES), ImportKind.CUSTOMERS)
    apply_plan(db, owner_id(db), prepared.plan)
    with db.new_session() as session:
        assert len(pending_reviews(session)) == len(LOOKALIKES)
    return existing


def main_window(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    return window


def file_mime(path: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def drag_enter(window: MainWindow, mime: QMimeData) -> QDragEnterEvent:
    event = QDragEnterEvent(
        QPoint(200, 200),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(event)
    return event


def drop(window: MainWindow, mime: QMimeData) -> QDropEvent:
    event = QDropEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    return event


# ---------------------------------------------------------------------------------------
# The menu


def test_the_import_menu_opens_the_wizard_history_and_review(qtbot: QtBot, ctx: AppContext) -> None:
    window = main_window(qtbot, ctx)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Import") == titles.index("&Customer") + 1
    assert titles.index("&View") == titles.index("&Import") + 1
    assert titles[-1] == "&Help"  # after the menus the features add
    assert window.import_menu.menuAction().isVisible()
    assert window.import_action.shortcut().toString() == "Ctrl+I"
    assert window.review_action.text() == "Rows to &review…"  # nothing waiting: no count

    window.import_action.trigger()
    wizard = window.import_wizard
    assert wizard is not None
    qtbot.waitUntil(wizard.isVisible)
    assert wizard.step == Step.FILE and wizard.isModal()
    # Ctrl+I again while it is open brings the same wizard forward, not a second one.
    window.open_import_wizard()
    assert window.import_wizard is wizard
    wizard.reject()
    qtbot.waitUntil(lambda: window.import_wizard is None)

    window.import_history_action.trigger()
    history = window.batches_dialog
    assert history is not None
    qtbot.waitUntil(history.isVisible)
    history.accept()
    qtbot.waitUntil(lambda: window.batches_dialog is None)

    window.review_action.trigger()
    review = window.review_dialog
    assert review is not None
    qtbot.waitUntil(review.isVisible)
    assert review.empty_label.isVisible() and not review.table.isVisible()
    assert review.empty_label.text() == "Nothing waiting for review."
    assert not review.create_button.isEnabled() and not review.skip_button.isEnabled()
    review.accept()


def test_a_sales_user_gets_no_import_actions(
    qtbot: QtBot, gui_db: Database, tmp_path: Path
) -> None:
    add_salesperson(gui_db, "lilei", "Li Lei")
    window = main_window(qtbot, context_for(gui_db, "lilei"))
    assert not window.import_menu.menuAction().isVisible()
    assert all(not a.isEnabled() for a in window.import_actions)
    assert window.open_import_wizard() is None
    assert window.open_import_history() is None and window.open_review() is None
    # A spreadsheet dropped on the window is refused, saying who can import it.
    path = gbk_csv(tmp_path / "客户.csv", ROWS)
    assert not drag_enter(window, file_mime(path)).isAccepted()
    assert "Only an owner or a manager can import customers, and a bookkeeper orders" in (
        window.statusBar().currentMessage()
    )
    drop(window, file_mime(path))
    assert window.import_wizard is None


# ---------------------------------------------------------------------------------------
# Drag and drop


def test_dropping_a_gbk_csv_opens_the_wizard_and_the_list_refreshes_after_import(
    qtbot: QtBot, ctx: AppContext, gui_db: Database, tmp_path: Path
) -> None:
    window = main_window(qtbot, ctx)
    assert window.acceptDrops()
    qtbot.waitUntil(lambda: window.customers_view.model.total_count == 0)
    path = gbk_csv(tmp_path / "客户名单.csv", ROWS)
    mime = file_mime(path)

    assert drag_enter(window, mime).isAccepted()
    assert "Drop 客户名单.csv to import" in window.statusBar().currentMessage()
    event = drop(window, mime)
    assert event.isAccepted()
    wizard = window.import_wizard
    assert wizard is not None
    qtbot.waitUntil(wizard.isVisible)
    assert wizard.file_page.path_edit.text() == str(path)
    qtbot.waitUntil(wizard.next_button.isEnabled, timeout=WAIT)  # the GBK file was read

    click(qtbot, wizard.next_button)
    assert wizard.step == Step.MAPPING
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.plan is not None, timeout=WAIT)
    with qtbot.waitSignal(wizard.imported, timeout=WAIT):
        click(qtbot, wizard.next_button)
    assert customer_count(gui_db) == len(ROWS)
    # The customer list behind the wizard already shows them; the status bar says so.
    qtbot.waitUntil(lambda: window.customers_view.model.total_count == len(ROWS), timeout=WAIT)
    qtbot.waitUntil(lambda: "customer list is up to date" in window.statusBar().currentMessage())

    # Undone from the wizard's summary: the list follows again.
    with qtbot.waitSignal(wizard.undone, timeout=WAIT):
        click(qtbot, wizard.summary_page.undo_button)
    qtbot.waitUntil(lambda: window.customers_view.model.total_count == 0, timeout=WAIT)
    qtbot.waitUntil(lambda: "was undone" in window.statusBar().currentMessage())


@pytest.mark.parametrize("name", ["报价单.pdf", "notes.docx"])
def test_a_dropped_file_that_is_not_a_spreadsheet_is_refused(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, name: str
) -> None:
    window = main_window(qtbot, ctx)
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4\n")
    mime = file_mime(path)

    assert not drag_enter(window, mime).isAccepted()
    message = window.statusBar().currentMessage()
    assert name in message and "cannot be imported" in message
    assert ".xlsx" in message and ".csv" in message
    assert not drop(window, mime).isAccepted()
    assert window.import_wizard is None


def test_two_files_or_a_web_link_are_refused(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    window = main_window(qtbot, ctx)
    both = QMimeData()
    both.setUrls(
        [
            QUrl.fromLocalFile(str(gbk_csv(tmp_path / "a.csv", ROWS))),
            QUrl.fromLocalFile(str(gbk_csv(tmp_path / "b.csv", ROWS))),
        ]
    )
    assert not drag_enter(window, both).isAccepted()
    assert "one file at a time" in window.statusBar().currentMessage()
    link = QMimeData()
    link.setUrls([QUrl("https://example.com/customers.csv")])
    assert not drag_enter(window, link).isAccepted()
    assert "Only spreadsheets can be imported" in window.statusBar().currentMessage()
    assert window.import_wizard is None


# ---------------------------------------------------------------------------------------
# Rows to review


def test_rows_left_for_review_are_decided_in_the_review_dialog(
    qtbot: QtBot, ctx: AppContext, gui_db: Database, tmp_path: Path
) -> None:
    existing = leave_rows_for_review(gui_db, tmp_path)
    window = main_window(qtbot, ctx)
    assert window.review_action.text() == "Rows to &review (2)…"

    window.review_action.trigger()
    dialog = window.review_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    table = dialog.table
    assert table.objectName() == "reviewTable" and table.rowCount() == 2
    assert [cell(table, 0, c) for c in (0, 1, 2, 4)] == [
        "对账.csv",
        "5",
        "深圳市华强电子",
        EXISTING,
    ]
    assert "13800138000" in cell(table, 0, 3) and cell(table, 0, 5)
    for name in ("createButton", "addToMatchButton", "skipButton"):
        assert dialog.findChild(QAbstractButton, name) is not None

    # The first row: a new customer after all.
    table.selectRow(0)
    assert dialog.add_button.text() == f"&Add to {EXISTING}"
    with qtbot.waitSignal(dialog.decided, timeout=WAIT) as blocker:
        click(qtbot, dialog.create_button)
    created = int(blocker.args[0])
    assert created not in (0, existing)
    assert customer_names(gui_db) == sorted([EXISTING, "深圳市华强电子"])
    assert table.rowCount() == 1 and cell(table, 0, 1) == "6"
    assert "Created the customer 深圳市华强电子" in dialog.message.text()
    qtbot.waitUntil(lambda: window.review_action.text() == "Rows to &review (1)…")
    assert "Rows waiting for review: 1" in window.statusBar().currentMessage()

    # The second: added to the customer it looks like.
    table.selectRow(0)
    with qtbot.waitSignal(dialog.decided, timeout=WAIT) as blocker:
        click(qtbot, dialog.add_button)
    assert blocker.args == [existing]
    assert table.rowCount() == 0
    assert dialog.empty_label.isVisible() and not table.isVisible()
    assert dialog.empty_label.text() == "Nothing waiting for review."
    assert not dialog.create_button.isEnabled()
    qtbot.waitUntil(lambda: window.review_action.text() == "Rows to &review…")
    assert customer_count(gui_db) == 2
    qtbot.waitUntil(lambda: window.customers_view.model.total_count == 2, timeout=WAIT)
    dialog.accept()
    qtbot.waitUntil(lambda: window.review_dialog is None)


def test_skipping_several_rows_at_once(
    qtbot: QtBot, ctx: AppContext, gui_db: Database, tmp_path: Path
) -> None:
    leave_rows_for_review(gui_db, tmp_path)
    dialog = ReviewDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.table.selectionMode() == QAbstractItemView.SelectionMode.ExtendedSelection
    dialog.table.selectAll()
    decided: list[int] = []
    dialog.decided.connect(decided.append)
    click(qtbot, dialog.skip_button)
    assert decided == [0, 0]
    assert dialog.empty_label.isVisible()
    assert customer_count(gui_db) == 1  # only the one that was there
    with gui_db.new_session() as session:
        assert pending_reviews(session) == []


def test_a_row_decided_elsewhere_shows_the_services_words_not_a_traceback(
    qtbot: QtBot, ctx: AppContext, gui_db: Database, tmp_path: Path
) -> None:
    leave_rows_for_review(gui_db, tmp_path)
    dialog = ReviewDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    first = dialog.rows[0]
    # Someone else skips the row while the dialog is open.
    resolve_review(gui_db, owner_id(gui_db), first.id, ReviewDecision.SKIP)
    dialog.table.selectRow(0)
    decided: list[int] = []
    dialog.decided.connect(decided.append)
    click(qtbot, dialog.create_button)
    assert decided == []
    text = dialog.message.text()
    assert dialog.message.isVisible()
    assert "Row 5" in text and "already decided" in text and "Traceback" not in text
    # The list was read again: only the row still waiting is left.
    assert [r.row_number for r in dialog.rows] == [6]
    assert customer_count(gui_db) == 1
