"""Adds order imports to the main window's Import menu.

``install_orders_import(window)`` is called once from ``MainWindow.__init__``. It adds
"Import orders…" (the import wizard, set to orders) and "Unmatched orders…" (with how many
wait) to the Import menu. A bookkeeper — who imports orders but not customers — gets the
menu with just these two. After orders are imported or linked, the customer and order
lists refresh.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.models import ImportKind
from smbcrm.services import order_links
from smbcrm.services.permissions import Permission
from smbcrm.ui.import_wizard import ImportWizard
from smbcrm.ui.unmatched_orders import UnmatchedOrdersDialog

if TYPE_CHECKING:
    from smbcrm.ui.main_window import MainWindow

log = logging.getLogger(__name__)
COUNT_LIMIT = 100_000


def tr(text: str) -> str:
    return QCoreApplication.translate("OrdersImport", text)


class OrdersImport:
    """What install_orders_import added, kept on the window as ``window.orders_import``."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.wizard: ImportWizard | None = None
        self._wired: set[int] = set()  # wizards whose changes refresh the lists already
        self.unmatched_dialog: UnmatchedOrdersDialog | None = None
        menu = window.import_menu
        first = menu.actions()[1] if len(menu.actions()) > 1 else None
        self.import_action = QAction(tr("Import &orders…"), window)
        self.import_action.setObjectName("importOrdersAction")
        self.import_action.setStatusTip(
            tr("Bring orders in from the accounting system's export; each finds its customer.")
        )
        self.unmatched_action = QAction(tr("&Unmatched orders…"), window)
        self.unmatched_action.setObjectName("unmatchedOrdersAction")
        self.unmatched_action.setStatusTip(
            tr("Orders no customer matched: create their customers or link them by hand.")
        )
        # Next to "Import customers…", before the review and history entries.
        menu.insertAction(first, self.import_action)  # type: ignore[arg-type]
        menu.insertAction(first, self.unmatched_action)  # type: ignore[arg-type]
        self.import_action.triggered.connect(self.open_wizard)
        self.unmatched_action.triggered.connect(self.open_unmatched)
        menu.aboutToShow.connect(self.update_count)
        may = window.ctx.can(Permission.IMPORT_ORDERS)
        self.import_action.setEnabled(may)
        self.unmatched_action.setEnabled(may)
        if may:
            menu.menuAction().setVisible(True)
        self.update_count()

    def unmatched_count(self) -> int:
        try:
            with self.window.ctx.read_session() as session:
                return order_links.unmatched_count(session)
        except SQLAlchemyError:
            log.warning("Counting the unmatched orders failed", exc_info=True)
            return 0

    def update_count(self) -> int:
        count = self.unmatched_count() if self.unmatched_action.isEnabled() else 0
        self.unmatched_action.setText(
            tr("&Unmatched orders ({0})…").format(f"{count:,}")
            if count
            else tr("&Unmatched orders…")
        )
        return count

    def open_wizard(self) -> ImportWizard | None:
        """The import wizard set to orders (the window's own wizard when it may import)."""
        window = self.window
        if not self.import_action.isEnabled():
            return None
        wizard = window.import_wizard or self.wizard
        if wizard is None and window.ctx.can(Permission.IMPORT_CUSTOMERS):
            wizard = window.open_import_wizard()
        if wizard is None:
            wizard = ImportWizard(window.ctx, None, window, kind=ImportKind.ORDERS)
            wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            wizard.imported.connect(window._on_imported)
            wizard.undone.connect(window._on_import_undone)
            wizard.finished.connect(lambda _code: setattr(self, "wizard", None))
            self.wizard = wizard
            wizard.open()
        wizard.set_kind(ImportKind.ORDERS)
        if id(wizard) not in self._wired:
            self._wired.add(id(wizard))
            wizard.imported.connect(self._refresh_lists)
            wizard.undone.connect(self._refresh_lists)
            wizard.unmatched_changed.connect(self._refresh_lists)
            key = id(wizard)
            wizard.destroyed.connect(lambda _o=None: self._wired.discard(key))
        wizard.raise_()
        return wizard

    def open_unmatched(self) -> UnmatchedOrdersDialog | None:
        if not self.unmatched_action.isEnabled():
            return None
        if self.unmatched_dialog is not None:
            self.unmatched_dialog.reload()
            self.unmatched_dialog.raise_()
            return self.unmatched_dialog
        dialog = UnmatchedOrdersDialog(self.window.ctx, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(self._refresh_lists)
        dialog.finished.connect(lambda _code: setattr(self, "unmatched_dialog", None))
        self.unmatched_dialog = dialog
        dialog.open()
        return dialog

    def _refresh_lists(self, *_args: object) -> None:
        window = self.window
        window.orders_view.refresh()
        window.customers_view.refresh()
        self.update_count()


def install_orders_import(window: MainWindow) -> None:
    window.orders_import = OrdersImport(window)  # type: ignore[attr-defined]
