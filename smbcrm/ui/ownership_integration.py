"""Adds the ownership features to the main window; the window calls ``install_ownership``.

It only adds: a "Staff" page in the navigation (owners and managers), a "Team" menu
(Staff, Unassigned pool, Reassign selected customers…, Hand over a leaver's book…,
Audit log…), "Reassign…" on the customer detail pane, and multi-row selection in the
customer list so a selection can be reassigned in one step. Whatever it cannot find on
the window it leaves out, so the window works with or without it.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QCoreApplication, QSize
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListWidgetItem, QMainWindow, QMessageBox

from smbcrm.services.customers import UNASSIGNED
from smbcrm.services.permissions import Permission
from smbcrm.ui.audit_view import AuditLogDialog
from smbcrm.ui.counts import plural
from smbcrm.ui.handover_wizard import HandoverWizard
from smbcrm.ui.reassign_dialog import ReassignDialog
from smbcrm.ui.staff_view import StaffView

log = logging.getLogger(__name__)


def tr(text: str) -> str:
    return QCoreApplication.translate("Ownership", text)


def selected_customer_ids(window: Any) -> list[int]:
    """Ids of the rows selected in the window's customer list (in list order)."""
    view = getattr(window, "customers_view", None)
    if view is None:
        return []
    rows = sorted({index.row() for index in view.table.selectionModel().selectedRows()})
    ids = [view.model.customer_id_at(row) for row in rows]
    return [int(i) for i in ids if i is not None]


class _Ownership:
    """What install_ownership added, kept on the window as ``window.ownership``."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        ctx = window.ctx  # type: ignore[attr-defined]
        self.ctx = ctx
        self.may_reassign = ctx.can(Permission.REASSIGN)
        self.may_manage_staff = ctx.can(Permission.MANAGE_STAFF)
        self.may_audit = ctx.can(Permission.VIEW_AUDIT_LOG)
        self.staff_view: StaffView | None = None
        self.staff_page: int | None = None
        self.actions: dict[str, QAction] = {}

    def install(self) -> None:
        window = self.window
        if self.may_manage_staff:
            self._add_staff_page()
        menu = window.menuBar().addMenu(tr("&Team"))
        menu.setObjectName("teamMenu")
        self.menu = menu
        if self.may_manage_staff:
            self._add(menu, "staff", tr("&Staff"), self.show_staff, "Ctrl+4")
        self._add(menu, "pool", tr("&Unassigned pool"), self.show_pool)
        if self.may_reassign:
            action = self._add(
                menu, "reassign", tr("&Reassign selected customers…"), self.reassign, "Ctrl+R"
            )
            action.setStatusTip(tr("Give the selected customers to a colleague, with one reason"))
            view = getattr(window, "customers_view", None)
            if view is not None:
                # Several customers can be selected (Ctrl/Shift-click) and moved in one step.
                view.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
                detail = getattr(view, "detail", None)
                if detail is not None and hasattr(detail, "add_header_action"):
                    # Beside one customer's name: the same command, named for that customer.
                    one = QAction(tr("Reassign…"), self.window)
                    one.setObjectName("reassignOneOwnershipAction")
                    one.setStatusTip(tr("Give this customer to a colleague, with a reason"))
                    one.triggered.connect(lambda: self.reassign_shown(detail))
                    self.actions["reassign_one"] = one
                    detail.add_header_action(one)
        if self.may_manage_staff:
            self._add(menu, "handover", tr("&Hand over a leaver's book…"), self.handover)
        if self.may_audit:
            menu.addSeparator()
            self._add(menu, "audit", tr("&Audit log…"), self.audit_log)

    def _add(
        self, menu: Any, key: str, text: str, slot: Any, shortcut: str | None = None
    ) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"{key}OwnershipAction")
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        self.actions[key] = action
        return action

    def _add_staff_page(self) -> None:
        window = self.window
        pages = getattr(window, "pages", None)
        navigation = getattr(window, "navigation", None)
        self.staff_view = StaffView(self.ctx, window)
        self.staff_view.staff_changed.connect(self._after_staff_change)
        if pages is None or navigation is None or pages.count() != navigation.count():
            return  # shown as a page only when the navigation and the pages line up
        self.staff_page = pages.addWidget(self.staff_view)
        item = QListWidgetItem(tr("Staff"), navigation)
        row_height = window.fontMetrics().height() + 16
        item.setSizeHint(QSize(0, row_height))

    def show_staff(self) -> None:
        if self.staff_view is None:
            return
        if self.staff_page is not None:
            self.window.navigation.setCurrentRow(self.staff_page)  # type: ignore[attr-defined]
        else:
            self.staff_view.show()
        self.staff_view.refresh()

    def show_pool(self) -> None:
        view = getattr(self.window, "customers_view", None)
        if view is None:
            return
        show = getattr(self.window, "show_customers", None)
        if callable(show):
            show()
        index = view.owner_filter.findData(UNASSIGNED)
        if index >= 0:
            view.owner_filter.setCurrentIndex(index)

    def reassign(self) -> ReassignDialog | None:
        ids = selected_customer_ids(self.window)
        if not ids:
            QMessageBox.information(
                self.window,
                tr("Reassign customers"),
                tr("Select one or more customers in the list first (Ctrl- or Shift-click)."),
            )
            return None
        return self._open_reassign(ids)

    def reassign_shown(self, detail: Any) -> ReassignDialog | None:
        """Reassign the customer the detail pane shows (whatever else the list selects)."""
        customer_id = getattr(detail, "customer_id", None)
        return self._open_reassign([customer_id]) if customer_id is not None else None

    def _open_reassign(self, ids: list[int]) -> ReassignDialog:
        dialog = ReassignDialog(self.ctx, ids, self.window)
        dialog.reassigned.connect(self._after_reassign)
        dialog.open()
        return dialog

    def handover(self) -> HandoverWizard:
        wizard = HandoverWizard(self.ctx, None, self.window)
        wizard.handed_over.connect(lambda _uid: self._after_staff_change())
        wizard.open()
        return wizard

    def audit_log(self) -> AuditLogDialog:
        dialog = AuditLogDialog(self.ctx, self.window)
        dialog.open()
        return dialog

    def _refresh_customers(self) -> None:
        view = getattr(self.window, "customers_view", None)
        if view is not None:
            view.refresh()

    def _after_reassign(self, moved: int) -> None:
        self._refresh_customers()
        self.window.statusBar().showMessage(
            plural(
                moved,
                tr("{n} customer reassigned; its history records the change."),
                tr("{n} customers reassigned; their history records the change."),
            )
        )

    def _after_staff_change(self) -> None:
        self._refresh_customers()
        if self.staff_view is not None:
            self.staff_view.refresh()


def install_ownership(window: QMainWindow) -> None:
    """Add the Staff page, the Team menu and Reassign… to ``window`` (a MainWindow).

    Never raises: a failure is logged and the window carries on without these additions.
    """
    try:
        ownership = _Ownership(window)
        ownership.install()
        window.ownership = ownership  # type: ignore[attr-defined]
    except Exception:  # the window must open even if an addition fails
        log.exception("Adding the ownership pages and menus failed")
