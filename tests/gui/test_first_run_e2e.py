"""End to end, through the widgets: the very first start of smbcrm to finding a customer.

No company yet → the Welcome dialog → create the company → the main window → add a Chinese
customer with the New-customer dialog → find it by two characters of its name, then by its
phone written another way → open its detail. Driven with qtbot (typing, clicks, shortcuts)
and waits on conditions, never on sleeps. Chinese text arrives the way an input method
delivers it (a commit), since QTest can only type Latin-1 keys.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from smbcrm.services import database as dbsvc
from smbcrm.services.preferences import Preferences
from smbcrm.ui.app import launch
from smbcrm.ui.main_window import CUSTOMERS, MainWindow
from smbcrm.ui.welcome import WelcomeDialog

COMPANY = "华强北电子贸易"
CUSTOMER = "深圳市华强电子有限公司"
PHONE = "13800138000"
PHONE_SPELLED_OTHERWISE = "+86 138-0013-8000"
W = TypeVar("W", bound=QWidget)


def commit_text(widget: QWidget, text: str) -> None:
    """Type text as an input method (Pinyin, Wubi…) commits it."""
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def child(parent: QWidget, kind: type[W], name: str) -> W:
    widget = parent.findChild(kind, name)
    assert widget is not None, f"no {kind.__name__} named {name!r}"
    return widget


def answer_welcome(qtbot: QtBot) -> Callable[[QDialog], int]:
    def run(dialog: QDialog) -> int:
        assert isinstance(dialog, WelcomeDialog), f"expected the Welcome dialog, got {dialog}"
        qtbot.addWidget(dialog)
        dialog.show()
        commit_text(child(dialog, QLineEdit, "companyEdit"), COMPANY)
        commit_text(child(dialog, QLineEdit, "fullNameEdit"), "王芳")
        qtbot.keyClicks(child(dialog, QLineEdit, "loginEdit"), "wang.fang")
        qtbot.keyClicks(child(dialog, QLineEdit, "passwordEdit"), "first-run-password")
        qtbot.keyClicks(child(dialog, QLineEdit, "repeatEdit"), "first-run-password")
        qtbot.mouseClick(child(dialog, QPushButton, "createButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
        return dialog.result()

    return run


def table_names(table: QTableView) -> list[str]:
    model = table.model()
    return [str(model.index(row, 0).data()) for row in range(model.rowCount())]


def test_first_run_to_finding_a_chinese_customer_by_name_and_phone(
    qtbot: QtBot, tmp_path: Path
) -> None:
    location = tmp_path / "our-company.db"

    # 1. First start: no company, so the Welcome dialog; create the company.
    window = launch(str(location), None, run_dialog=answer_welcome(qtbot))
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    assert window.windowTitle() == f"smbcrm — {COMPANY}"
    assert window.current_page() == CUSTOMERS
    assert Preferences.load().last_database == str(location)

    # 2. Add the customer through the New-customer dialog (Ctrl+N).
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QDialog))
    dialog = QApplication.activeModalWidget()
    assert dialog is not None and dialog.objectName() == "customerDialog"
    commit_text(child(dialog, QLineEdit, "nameEdit"), CUSTOMER)
    qtbot.keyClicks(child(dialog, QLineEdit, "phoneEdit"), PHONE)
    qtbot.keyClicks(child(dialog, QLineEdit, "emailEdit"), "sales@huaqiang.example.cn")
    qtbot.mouseClick(child(dialog, QPushButton, "saveButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=10000)

    # 3. Two characters of the name find exactly that customer.
    search = child(window, QLineEdit, "customerSearch")
    table = child(window, QTableView, "customerTable")
    search.clear()
    commit_text(search, "华强")
    qtbot.waitUntil(lambda: table_names(table) == [CUSTOMER], timeout=5000)

    # 4. The phone written differently finds it too.
    search.clear()
    qtbot.waitUntil(lambda: search.text() == "")
    qtbot.keyClicks(search, PHONE_SPELLED_OTHERWISE)
    qtbot.waitUntil(lambda: table_names(table) == [CUSTOMER], timeout=5000)

    # 5. Select the row: the detail pane shows the customer with its tabs.
    table.clearSelection()
    rect = table.visualRect(table.model().index(0, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    tabs = child(window, QTabWidget, "customerTabs")
    name = child(window, QLabel, "customerName")
    qtbot.waitUntil(lambda: tabs.isVisible() and name.text() == CUSTOMER, timeout=5000)
    assert tabs.tabText(0) == "Overview"
    overview = " ".join(label.text() for label in tabs.findChildren(QLabel))
    assert "138" in overview and "8000" in overview  # the phone is shown on the detail

    # The company really is in the file the window uses.
    assert dbsvc.company_name(window.ctx.db) == COMPANY
    window.close()
    window.ctx.db.dispose()
