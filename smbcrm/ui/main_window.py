"""The main window: navigation between Customers, Orders and Follow-ups, menus, status bar.

The window only arranges the pages and routes between them (an order or follow-up opens
its customer on the Customers page). The pages do their own work through the services;
signing out and opening another database are requests the app's launcher carries out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smbcrm import __version__
from smbcrm.models.db import data_dir, sqlite_path
from smbcrm.services import database as dbsvc
from smbcrm.services.errors import SmbcrmError
from smbcrm.services.permissions import ROLE_LABELS
from smbcrm.services.preferences import config_dir
from smbcrm.services.progress import Progress
from smbcrm.ui.context import AppContext
from smbcrm.ui.customers_view import CustomersView
from smbcrm.ui.follow_ups_view import FollowUpsView
from smbcrm.ui.orders_view import OrdersView
from smbcrm.ui.sign_in import choose_database
from smbcrm.ui.style import app_icon
from smbcrm.ui.workers import ProgressDialog, Worker

CUSTOMERS, ORDERS, FOLLOW_UPS = range(3)


def window_settings() -> QSettings:
    """Window sizes and splitters, beside preferences.json (isolated per test run)."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """One signed-in person working in one company's book."""

    sign_out_requested = Signal()
    open_database_requested = Signal(str)
    closed = Signal()

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, persist_state: bool = True
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.ctx = ctx
        # Off for throw-away windows (self-check), so they don't overwrite the user's layout.
        self._persist_state = persist_state
        self.setWindowTitle(self.tr("smbcrm — {0}").format(ctx.company))
        self.setWindowIcon(app_icon())
        self.setMinimumSize(QSize(760, 520))
        self._messages: dict[int, str] = {}
        self._backup_worker: Worker | None = None

        self.customers_view = CustomersView(ctx, self)
        self.orders_view = OrdersView(ctx, self)
        self.follow_ups_view = FollowUpsView(ctx, self)
        self.pages = QStackedWidget(self)
        self.pages.setObjectName("pages")
        for page in (self.customers_view, self.orders_view, self.follow_ups_view):
            self.pages.addWidget(page)

        self.navigation = QListWidget(self)
        self.navigation.setObjectName("navigation")
        self.navigation.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.navigation.setUniformItemSizes(True)
        self.navigation.setSpacing(1)
        # A fixed row height: the style sheet's padding and bold selection would otherwise
        # give rows different heights and let them overlap.
        row_height = self.fontMetrics().height() + 16
        for text in (self.tr("Customers"), self.tr("Orders"), self.tr("Follow-ups")):
            item = QListWidgetItem(text, self.navigation)
            item.setSizeHint(QSize(0, row_height))
        self.navigation.currentRowChanged.connect(self._on_page_chosen)

        self.banner = self._build_banner()
        central = QWidget(self)
        central.setObjectName("central")
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self.banner)
        right.addWidget(self.pages, 1)
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._build_sidebar())
        row.addLayout(right, 1)
        self.setCentralWidget(central)

        self._build_menus()
        self._build_status_bar()

        self.customers_view.status_message.connect(lambda m: self._on_message(CUSTOMERS, m))
        self.orders_view.status_message.connect(lambda m: self._on_message(ORDERS, m))
        self.follow_ups_view.status_message.connect(lambda m: self._on_message(FOLLOW_UPS, m))
        self.orders_view.open_customer.connect(self.open_customer)
        self.follow_ups_view.open_customer.connect(self.open_customer)
        self.follow_ups_view.counts_changed.connect(self._on_follow_up_counts)
        # The overdue count shows in the navigation from the start: an invitation to act.
        self.follow_ups_view.refresh()

        self.navigation.setCurrentRow(CUSTOMERS)
        self.resize(1200, 800)
        if persist_state:
            self._restore_state()

    # -- building -----------------------------------------------------------------------

    def _build_sidebar(self) -> QFrame:
        sidebar = QFrame(self)
        sidebar.setObjectName("sidebar")
        sidebar.setFixedWidth(184)
        company = QLabel(self.ctx.company, sidebar)
        company.setObjectName("sidebarCompany")
        company.setWordWrap(True)
        who = QLabel(f"{self.ctx.full_name}\n{self.tr(ROLE_LABELS[self.ctx.role])}", sidebar)
        who.setObjectName("sidebarUser")
        layout = QVBoxLayout(sidebar)
        layout.setContentsMargins(12, 16, 12, 12)
        layout.setSpacing(12)
        layout.addWidget(company)
        layout.addWidget(self.navigation, 1)
        layout.addWidget(who)
        return sidebar

    def _build_banner(self) -> QFrame:
        banner = QFrame(self)
        banner.setObjectName("banner")
        self.banner_label = QLabel(banner)
        self.banner_label.setObjectName("bannerText")
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(banner)
        close.setObjectName("bannerClose")
        close.setText("✕")
        close.setToolTip(self.tr("Hide this message"))
        close.setAutoRaise(True)
        close.clicked.connect(banner.hide)
        layout = QHBoxLayout(banner)
        layout.setContentsMargins(16, 10, 10, 10)
        layout.addWidget(self.banner_label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        banner.hide()
        return banner

    def _action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        self.open_action = self._action(
            file_menu,
            self.tr("&Open database…"),
            self._open_database,
            QKeySequence.StandardKey.Open,
        )
        self.backup_action = self._action(
            file_menu, self.tr("&Back up database…"), self.back_up_database
        )
        file_menu.addSeparator()
        self.sign_out_action = self._action(
            file_menu, self.tr("&Sign out"), self.sign_out_requested.emit
        )
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, self.tr("&Quit"), self.close, "Ctrl+Q")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        customer_menu = bar.addMenu(self.tr("&Customer"))
        view = self.customers_view
        for action in (view.new_action, view.edit_action, view.log_activity_action):
            customer_menu.addAction(action)
            # From another page, show the customer the command is about.
            action.triggered.connect(self.show_customers)

        view_menu = bar.addMenu(self.tr("&View"))
        self.page_actions = [
            self._action(view_menu, self.tr("&Customers"), self.show_customers, "Ctrl+1"),
            self._action(view_menu, self.tr("&Orders"), self.show_orders, "Ctrl+2"),
            self._action(view_menu, self.tr("&Follow-ups"), self.show_follow_ups, "Ctrl+3"),
        ]
        view_menu.addSeparator()
        self.find_action = self._action(
            view_menu, self.tr("&Find"), self.focus_search, QKeySequence.StandardKey.Find
        )
        self.refresh_action = self._action(view_menu, self.tr("&Refresh"), self.refresh, "F5")
        standard_refresh = QKeySequence.keyBindings(QKeySequence.StandardKey.Refresh)
        self.refresh_action.setShortcuts(
            [QKeySequence("F5"), *(k for k in standard_refresh if k != QKeySequence("F5"))]
        )
        # One window-wide Find and Refresh for every page: the customer page's own
        # actions would otherwise claim the same keys and Qt would run neither.
        view.focus_search_action.setShortcut(QKeySequence())
        view.refresh_action.setShortcut(QKeySequence())

        help_menu = bar.addMenu(self.tr("&Help"))
        about = self._action(help_menu, self.tr("&About smbcrm"), self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        role = self.tr(ROLE_LABELS[self.ctx.role])
        self.user_label = QLabel(f"{self.ctx.full_name} ({self.ctx.login}) · {role}", bar)
        self.user_label.setObjectName("userStatus")
        path = sqlite_path(self.ctx.db.url)
        self.db_label = QLabel(path.name if path else self.ctx.db.display_name, bar)
        self.db_label.setObjectName("databaseStatus")
        self.db_label.setToolTip(self.ctx.db.display_name)
        bar.addPermanentWidget(self.user_label)
        bar.addPermanentWidget(self.db_label)

    # -- pages --------------------------------------------------------------------------

    def current_page(self) -> int:
        return self.pages.currentIndex()

    def show_page(self, page: int) -> None:
        self.navigation.setCurrentRow(page)

    @Slot()
    def show_customers(self) -> None:
        self.show_page(CUSTOMERS)

    @Slot()
    def show_orders(self) -> None:
        self.show_page(ORDERS)

    @Slot()
    def show_follow_ups(self) -> None:
        self.show_page(FOLLOW_UPS)

    @Slot(int)
    def _on_page_chosen(self, page: int) -> None:
        if page < 0:
            return
        self.pages.setCurrentIndex(page)
        self.statusBar().showMessage(self._messages.get(page, ""))
        # Keyboard focus follows the page, so Ctrl+2 and typing searches the orders.
        if not self.navigation.hasFocus():
            self.focus_search()

    @Slot(int)
    def open_customer(self, customer_id: int) -> None:
        self.show_customers()
        self.customers_view.select_customer(customer_id)

    @Slot()
    def focus_search(self) -> None:
        page = self.current_page()
        if page == CUSTOMERS:
            self.customers_view.focus_search_action.trigger()
        elif page == ORDERS:
            self.orders_view.focus_search()
        else:
            self.follow_ups_view.table.setFocus()

    @Slot()
    def refresh(self) -> None:
        page = self.current_page()
        if page == CUSTOMERS:
            self.customers_view.refresh_action.trigger()
        elif page == ORDERS:
            self.orders_view.refresh()
        else:
            self.follow_ups_view.refresh()

    def _on_message(self, page: int, message: str) -> None:
        self._messages[page] = message
        if page == self.current_page():
            self.statusBar().showMessage(message)

    @Slot(int, int)
    def _on_follow_up_counts(self, total: int, overdue: int) -> None:
        item = self.navigation.item(FOLLOW_UPS)
        label = self.tr("Follow-ups")
        item.setText(f"{label}  ({overdue})" if overdue else label)
        item.setToolTip(self.tr("{0} open, {1} overdue").format(total, overdue))

    def show_banner(self, text: str) -> None:
        """A message that stays until dismissed (e.g. the demo logins)."""
        self.banner_label.setText(text)
        self.banner.show()

    # -- file menu ----------------------------------------------------------------------

    @Slot()
    def _open_database(self) -> None:
        location = choose_database(self)
        if location:
            self.open_database_requested.emit(location)

    @Slot()
    def back_up_database(self) -> None:
        db = self.ctx.db
        source = sqlite_path(db.url)
        if source is None:
            try:  # the service explains how team databases are backed up
                dbsvc.backup_sqlite(db, Path("unused"))
            except SmbcrmError as exc:
                QMessageBox.information(self, self.tr("Back up database"), str(exc))
            return
        suggested = source.parent / "backups" / f"{source.stem}-{date.today():%Y%m%d}.db"
        target, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Back up the database to"),
            str(suggested),
            self.tr("smbcrm databases (*.db)"),
        )
        if target:
            self.start_backup(Path(target))

    def start_backup(self, target: Path) -> Worker:
        db = self.ctx.db

        def job(_progress: Progress) -> Path:
            return dbsvc.backup_sqlite(db, target)

        worker = Worker(job, self)
        worker.finished.connect(
            lambda path: self.statusBar().showMessage(self.tr("Backed up to {0}").format(path))
        )
        worker.failed.connect(
            lambda message: QMessageBox.warning(self, self.tr("Backup failed"), message)
        )
        ProgressDialog(worker, self.tr("Backing up the database"), self, cancellable=False)
        self._backup_worker = worker
        worker.start()
        return worker

    # -- help ---------------------------------------------------------------------------

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About smbcrm"), self.about_text())

    def about_text(self) -> str:
        return self.tr(
            "<h3>smbcrm {0}</h3>"
            "<p>The customer book that belongs to the company, not to one salesperson.</p>"
            "<p><b>Database:</b> {1}<br><b>Data folder:</b> {2}<br>"
            "<b>Settings folder:</b> {3}</p>"
        ).format(__version__, self.ctx.db.display_name, data_dir(), config_dir())

    # -- state --------------------------------------------------------------------------

    def _splitters(self) -> list[QSplitter]:
        return [s for s in self.findChildren(QSplitter) if s.objectName()]

    def _restore_state(self) -> None:
        settings = window_settings()
        geometry = settings.value("main/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        for splitter in self._splitters():
            state = settings.value(f"splitters/{splitter.objectName()}")
            if isinstance(state, QByteArray):
                splitter.restoreState(state)

    def save_state(self) -> None:
        settings = window_settings()
        settings.setValue("main/geometry", self.saveGeometry())
        for splitter in self._splitters():
            settings.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._persist_state:
            self.save_state()
        if self._backup_worker is not None and self._backup_worker.is_running():
            self._backup_worker.wait()  # a half-written backup is worse than a short wait
        super().closeEvent(event)
        self.closed.emit()
