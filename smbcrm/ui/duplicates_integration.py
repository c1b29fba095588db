"""Adds duplicates and merging to the main window; the window calls ``install_duplicates``.

For owners and managers (``Permission.MERGE``) it adds: a "Duplicates" page in the
navigation whose label counts the pairs waiting for a decision; under the Customer menu
"Merge selected customers…", "Find duplicates…", "Review duplicates" and "Merge history…";
multi-row selection in the customer list with Merge… in its right-click menu. After a merge
or an undo the customer list is refreshed and shows the customer that was kept. Whatever it
cannot find on the window it leaves out, and a failure never stops the window opening.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListWidgetItem, QMenu, QMessageBox
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.services import duplicates
from smbcrm.services.merge import MergeResult, UndoMergeResult
from smbcrm.services.permissions import Permission
from smbcrm.ui.duplicates_view import DuplicatesView
from smbcrm.ui.merge_dialog import MergeDialog, MergeHistoryDialog

if TYPE_CHECKING:
    from smbcrm.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def tr(text: str) -> str:
    return QCoreApplication.translate("Duplicates", text)


class DuplicatesIntegration:
    """What install_duplicates added, kept on the window as ``window.duplicates``."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.ctx = window.ctx
        self.view = DuplicatesView(self.ctx, window)
        self.page: int | None = None
        self.nav_item: QListWidgetItem | None = None
        self.merge_dialog: MergeDialog | None = None
        self.history_dialog: MergeHistoryDialog | None = None
        self.actions: dict[str, QAction] = {}

    # -- installing ---------------------------------------------------------------------

    def install(self) -> None:
        self._add_page()
        self._add_actions()
        self._add_to_customer_list()
        self.show_count(self.read_count())

    def _add_page(self) -> None:
        window = self.window
        if window.pages.count() != window.navigation.count():
            return  # pages and navigation rows must share indexes
        index = window.pages.addWidget(self.view)
        item = QListWidgetItem(tr("Duplicates"))
        first = window.navigation.item(0)
        if first is not None:
            item.setSizeHint(first.sizeHint())
        window.navigation.insertItem(index, item)
        self.page = index
        self.nav_item = item
        view = self.view
        view.open_customer.connect(window.open_customer)
        view.status_message.connect(lambda message: window._on_message(index, message))
        view.queue_count_changed.connect(self.show_count)
        view.customers_changed.connect(self._after_customers_changed)

    def _add_actions(self) -> None:
        merge = self._action(
            "merge", tr("&Merge selected customers…"), self.merge_selected, "Ctrl+Shift+M"
        )
        merge.setStatusTip(tr("Merge the customers selected in the list into one"))
        merge.setEnabled(False)
        find = self._action("find", tr("Find &duplicates…"), self.find_duplicates)
        find.setStatusTip(tr("Scan every customer for possible duplicates"))
        review = self._action("review", tr("Review d&uplicates"), self.show_page)
        review.setStatusTip(tr("Decide the possible duplicates found so far"))
        history = self._action("history", tr("Merge &history…"), self.open_history)
        history.setStatusTip(tr("Every merge so far, and undoing one"))
        menu = self.customer_menu()
        if menu is None:
            return
        menu.addSeparator()
        for key in ("merge", "find", "review", "history"):
            menu.addAction(self.actions[key])
        menu.aboutToShow.connect(self.update_merge_action)

    def _action(
        self, key: str, text: str, slot: Callable[[], object], shortcut: str | None = None
    ) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"{key}DuplicatesAction")
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        self.actions[key] = action
        return action

    def customer_menu(self) -> QMenu | None:
        """The menu holding "New customer…" (the window's Customer menu)."""
        new_action = self.window.customers_view.new_action
        for action in self.window.menuBar().actions():
            menu = action.menu()
            if isinstance(menu, QMenu) and new_action in menu.actions():
                return menu
        return None

    def _add_to_customer_list(self) -> None:
        view = self.window.customers_view
        table = view.table
        # Several customers can be selected (Ctrl/Shift-click) and merged in one step.
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.selectionModel().selectionChanged.connect(lambda *_a: self.update_merge_action())
        view.model.modelReset.connect(self.update_merge_action)
        policy = table.contextMenuPolicy()
        if policy == Qt.ContextMenuPolicy.DefaultContextMenu:
            # The right-click menu lists the table's actions: the usual ones, then Merge….
            table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
            for action in (view.new_action, view.edit_action, view.log_activity_action):
                table.addAction(action)
            separator = QAction(table)
            separator.setSeparator(True)
            table.addAction(separator)
            policy = Qt.ContextMenuPolicy.ActionsContextMenu
        if policy == Qt.ContextMenuPolicy.ActionsContextMenu:
            table.addAction(self.actions["merge"])

    # -- the count ----------------------------------------------------------------------

    def read_count(self) -> int:
        try:
            with self.ctx.read_session() as session:
                return duplicates.queue_count(session)
        except (SmbcrmError, SQLAlchemyError):
            log.warning("Counting the possible duplicates failed", exc_info=True)
            return 0

    def show_count(self, count: int) -> None:
        item = self.nav_item
        if item is None:
            return
        label = tr("Duplicates")
        item.setText(f"{label}  ({count:,})" if count else label)
        item.setToolTip(
            tr("{n} possible duplicates wait for a decision").format(n=f"{count:,}")
            if count
            else tr("No possible duplicates wait for a decision")
        )

    # -- actions ------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        view = self.window.customers_view
        rows = sorted({index.row() for index in view.table.selectionModel().selectedRows()})
        ids = (view.model.customer_id_at(row) for row in rows)
        return [int(i) for i in ids if i is not None]

    def update_merge_action(self) -> None:
        action = self.actions.get("merge")
        if action is not None:
            action.setEnabled(len(self.selected_ids()) >= 2)

    def show_page(self) -> None:
        if self.page is not None:
            self.window.show_page(self.page)
        else:
            self.view.show()
            self.view.raise_()

    def find_duplicates(self) -> None:
        self.show_page()
        self.view.find_duplicates()

    def merge_selected(self) -> MergeDialog | None:
        ids = self.selected_ids()
        if len(ids) < 2:
            QMessageBox.information(
                self.window,
                tr("Merge customers"),
                tr(
                    "Select two or more customers in the list first (Ctrl- or Shift-click), "
                    "then choose Merge."
                ),
            )
            return None
        dialog = MergeDialog(self.ctx, ids, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.merged.connect(lambda result: self._after_merge(dialog.result_text, result))
        dialog.finished.connect(lambda _code: setattr(self, "merge_dialog", None))
        self.merge_dialog = dialog
        dialog.open()
        return dialog

    def open_history(self) -> MergeHistoryDialog:
        if self.history_dialog is not None:
            self.history_dialog.reload()
            self.history_dialog.raise_()
            return self.history_dialog
        dialog = MergeHistoryDialog(self.ctx, parent=self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.undone.connect(self._after_undo)
        dialog.open_customer.connect(self.window.open_customer)
        dialog.finished.connect(lambda _code: setattr(self, "history_dialog", None))
        self.history_dialog = dialog
        dialog.open()
        return dialog

    # -- afterwards ---------------------------------------------------------------------

    def _after_merge(self, text: str, result: MergeResult) -> None:
        self.view.reload()  # pairs between the merged customers are gone
        self._after_customers_changed(result.survivor_id)
        self.window.statusBar().showMessage(text)

    def _after_undo(self, result: UndoMergeResult) -> None:
        self.view.reload()
        self._after_customers_changed(result.restored_ids[0] if result.restored_ids else 0)

    def _after_customers_changed(self, customer_id: int) -> None:
        """Refresh the list; show the customer kept (or restored) when on the Customers page."""
        view = self.window.customers_view
        view.refresh()
        if customer_id and self.window.current_page() == self.window.pages.indexOf(view):
            view.select_customer(customer_id)


def install_duplicates(window: MainWindow) -> None:
    """Add the Duplicates page and the merge commands to ``window``, for MERGE roles only.

    Never raises: a failure is logged and the window carries on without these additions.
    """
    try:
        if not window.ctx.can(Permission.MERGE):
            return
        integration = DuplicatesIntegration(window)
        integration.install()
        window.duplicates = integration  # type: ignore[attr-defined]
    except Exception:  # the window must open even if an addition fails
        log.exception("Adding the duplicates page and merge commands failed")
