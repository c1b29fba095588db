"""Adds the "Cases" page to the main window; ``MainWindow.__init__`` calls ``install_cases``.

It only adds: the page and its navigation entry (with the number of cases past their
promise), "New case…" in the Customer menu and on the customer detail pane (for the
customer selected in the list), and routes "open customer" and status messages through
the window. Whatever it cannot find on the window it leaves out; it never raises.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSize
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QListWidgetItem, QMenu

from smbcrm.services.permissions import Permission
from smbcrm.ui.case_dialog import CaseDialog
from smbcrm.ui.cases_view import CasesView

if TYPE_CHECKING:
    from smbcrm.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def tr(text: str) -> str:
    return QCoreApplication.translate("Cases", text)


class _Cases:
    """What install_cases added, kept on the window as ``window.cases``."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.view = CasesView(window.ctx, window)
        self.page: int | None = None
        self.item: QListWidgetItem | None = None
        self.new_case_action = QAction(tr("New &case…"), window)
        self.new_case_action.setObjectName("newCaseAction")
        self.new_case_action.setStatusTip(
            tr("Open a complaint, request or question for the selected customer")
        )
        self.new_case_action.triggered.connect(self.new_case_for_selected)
        self.dialog: CaseDialog | None = None

    def install(self) -> None:
        window = self.window
        pages, navigation = window.pages, window.navigation
        if pages.count() == navigation.count():
            self.page = pages.addWidget(self.view)
            self.item = QListWidgetItem(tr("Cases"))
            first = navigation.item(0)
            row_height = window.fontMetrics().height() + 16
            self.item.setSizeHint(first.sizeHint() if first is not None else QSize(0, row_height))
            # Navigation rows and pages share indexes: the entry goes where the page went.
            navigation.insertItem(self.page, self.item)
            page = self.page
            self.view.status_message.connect(lambda message: window._on_message(page, message))
        self.view.open_customer.connect(window.open_customer)
        self.view.counts_changed.connect(self._show_counts)
        customer_title = window.tr("&Customer")
        for menu in window.menuBar().findChildren(QMenu):
            if menu.title() == customer_title:
                menu.addSeparator()
                menu.addAction(self.new_case_action)
                break
        customers_view = getattr(window, "customers_view", None)
        detail = getattr(customers_view, "detail", None)
        if detail is not None and hasattr(detail, "add_header_action"):
            detail.add_header_action(self.new_case_action)
        self.view.refresh()  # the navigation shows how many promises are broken from the start

    def _show_counts(self, open_count: int, overdue: int) -> None:
        if self.item is None:
            return
        label = tr("Cases")
        self.item.setText(f"{label}  ({overdue})" if overdue else label)
        self.item.setToolTip(tr("{0} open, {1} past their promise").format(open_count, overdue))

    def show(self) -> None:
        if self.page is not None:
            self.window.navigation.setCurrentRow(self.page)

    def new_case_for_selected(self) -> CaseDialog:
        customers_view = self.window.customers_view
        customer_id = None
        if self.window.pages.currentWidget() is customers_view:
            customer_id = customers_view.current_customer_id()
        dialog = CaseDialog(self.window.ctx, customer_id=customer_id, parent=self.window)
        dialog.saved.connect(lambda _id: self.view.refresh())
        dialog.saved.connect(
            lambda case_id: self.window.statusBar().showMessage(
                tr("Case #{0} opened; it is on the Cases page.").format(case_id), 8000
            )
        )
        self.dialog = dialog
        dialog.open()
        return dialog


def install_cases(window: MainWindow) -> None:
    """Add the Cases page and "New case…" to ``window``. Never raises."""
    try:
        if not window.ctx.can(Permission.LOG_ACTIVITIES):
            return
        cases = _Cases(window)
        cases.install()
        window.cases = cases  # type: ignore[attr-defined]
        window.cases_view = cases.view  # type: ignore[attr-defined]
    except Exception:  # the window must open even if an addition fails
        log.exception("Adding the Cases page failed")
