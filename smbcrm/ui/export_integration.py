"""Adds the Export menu to the main window, without the main window knowing about exports.

``install_export(window)`` is called once from ``MainWindow.__init__``; the menu's actions
are disabled for users who may not export (the service refuses them anyway).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from smbcrm.services.export import ExportKind, available_kinds
from smbcrm.services.permissions import Permission
from smbcrm.ui.context import AppContext
from smbcrm.ui.export_dialog import ExportDialog


def _tr(text: str) -> str:
    return QCoreApplication.translate("Export", text)


def open_export_dialog(
    window: QMainWindow, ctx: AppContext, kind: ExportKind | None = None
) -> ExportDialog:
    dialog = ExportDialog(ctx, window, kind)
    dialog.show()
    window.export_dialog = dialog  # type: ignore[attr-defined]  # kept alive, found by tests
    return dialog


def install_export(window: QMainWindow) -> None:
    ctx: AppContext = window.ctx  # type: ignore[attr-defined]
    menu = window.menuBar().addMenu(_tr("E&xport"))
    menu.setObjectName("exportMenu")
    allowed = ctx.can(Permission.EXPORT)
    labels = {
        ExportKind.CUSTOMERS: _tr("&Customers…"),
        ExportKind.ORDERS: _tr("&Orders…"),
        ExportKind.STATEMENT: _tr("Customer &statement…"),
        ExportKind.REVENUE: _tr("&Revenue by month…"),
        ExportKind.AT_RISK: _tr("Customers at &risk…"),
        ExportKind.IMPORT_PROBLEMS: _tr("Import &problems…"),
    }
    actions: list[QAction] = []
    for kind in available_kinds():
        action = QAction(labels[kind], window)
        action.setObjectName(f"export_{kind.value.replace('-', '_')}")
        action.triggered.connect(lambda _=False, k=kind: open_export_dialog(window, ctx, k))
        menu.addAction(action)
        actions.append(action)
    for action in actions:
        action.setEnabled(allowed)
        if not allowed:
            action.setStatusTip(_tr("Only owners, managers and bookkeepers may export."))
    window.export_menu = menu  # type: ignore[attr-defined]
    window.export_actions = actions  # type: ignore[attr-defined]
