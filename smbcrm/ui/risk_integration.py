"""Adds the "At risk" page to the main window, for owners and managers only.

``install_risk(window)`` is called once from ``MainWindow.__init__``; it appends the page
and its navigation entry at the same index and routes "open customer" and status messages
through the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QListWidgetItem

from smbcrm.models import Role
from smbcrm.ui.risk_view import RiskView

if TYPE_CHECKING:
    from smbcrm.ui.main_window import MainWindow

RISK_ROLES = (Role.OWNER, Role.MANAGER)


def install_risk(window: MainWindow) -> None:
    if window.ctx.role not in RISK_ROLES:
        return
    view = RiskView(window.ctx, window)
    index = window.pages.addWidget(view)
    item = QListWidgetItem(QCoreApplication.translate("MainWindow", "At risk"))
    first = window.navigation.item(0)
    if first is not None:
        item.setSizeHint(first.sizeHint())
    # Navigation rows and pages share indexes: the entry goes where the page went.
    window.navigation.insertItem(index, item)
    view.open_customer.connect(window.open_customer)
    view.status_message.connect(lambda message: window._on_message(index, message))
    window.risk_view = view  # type: ignore[attr-defined]
