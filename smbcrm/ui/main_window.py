"""The main window: navigation between Customers, Orders and Follow-ups, menus, status bar.

The window only arranges the pages and routes between them (an order or follow-up opens
its customer on the Customers page). The pages do their own work through the services;
signing out and opening another database are requests the app's launcher carries out.

The Import menu opens the import wizard, the import history and the rows an import left
for review; a spreadsheet dropped on the window opens the wizard on it. Whatever those
change, the customer list is refreshed afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QKeySequence,
)
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
from sqlalchemy.exc import SQLAlchemyError

from smbcrm import __version__
from smbcrm.errors import SmbcrmError
from smbcrm.models.db import data_dir, sqlite_path
from smbcrm.services import database as dbsvc
from smbcrm.services.importing.review import pending_reviews
from smbcrm.services.permissions import ROLE_LABELS, Permission
from smbcrm.services.preferences import Preferences, config_dir
from smbcrm.services.progress import Progress
from smbcrm.ui.batches_view import BatchesDialog
from smbcrm.ui.context import AppContext
from smbcrm.ui.currency_dialog import CurrencyDialog
from smbcrm.ui.customers_view import CustomersView
from smbcrm.ui.follow_ups_view import FollowUpsView
from smbcrm.ui.import_wizard import ImportWizard
from smbcrm.ui.orders_view import OrdersView
from smbcrm.ui.review_dialog import ReviewDialog
from smbcrm.ui.sign_in import choose_database
from smbcrm.ui.style import app_icon
from smbcrm.ui.translation import LANGUAGES, effective_language
from smbcrm.ui.workers import ProgressDialog, Worker

log = logging.getLogger(__name__)

CUSTOMERS, ORDERS, FOLLOW_UPS = range(3)
# What can be dropped on the window to import (the wizard's file dialog offers the same).
IMPORT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")
# More pending rows than this show as "1000+" in the menu (the count is a full read).
REVIEW_COUNT_LIMIT = 1000
DROP_MESSAGE_MS = 10_000


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
        self._may_import = ctx.can(Permission.IMPORT_CUSTOMERS)
        self._may_see_imports = self._may_import or ctx.can(Permission.IMPORT_ORDERS)
        # The open import dialogs, if any (each deletes itself when closed).
        self.import_wizard: ImportWizard | None = None
        self.batches_dialog: BatchesDialog | None = None
        self.review_dialog: ReviewDialog | None = None
        self._import_message = ""
        self._import_refresh = QTimer(self)
        self._import_refresh.setSingleShot(True)
        self._import_refresh.setInterval(0)
        self._import_refresh.timeout.connect(self._refresh_after_import)

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
        # A spreadsheet dropped anywhere on the window opens the import wizard on it.
        self.setAcceptDrops(True)

        self.customers_view.status_message.connect(lambda m: self._on_message(CUSTOMERS, m))
        self.orders_view.status_message.connect(lambda m: self._on_message(ORDERS, m))
        self.follow_ups_view.status_message.connect(lambda m: self._on_message(FOLLOW_UPS, m))
        self.orders_view.open_customer.connect(self.open_customer)
        self.follow_ups_view.open_customer.connect(self.open_customer)
        self.follow_ups_view.counts_changed.connect(self._on_follow_up_counts)
        # The overdue count shows in the navigation from the start: an invitation to act.
        self.follow_ups_view.refresh()

        # Features that add their own pages and menus (each only adds, never raises).
        from smbcrm.ui.cases_integration import install_cases
        from smbcrm.ui.duplicates_integration import install_duplicates
        from smbcrm.ui.export_integration import install_export
        from smbcrm.ui.orders_integration import install_orders_import
        from smbcrm.ui.ownership_integration import install_ownership
        from smbcrm.ui.reminders import install_reminders
        from smbcrm.ui.risk_integration import install_risk

        install_risk(self)
        install_duplicates(self)
        install_cases(self)
        install_orders_import(self)
        install_reminders(self)
        install_ownership(self)
        install_export(self)
        # Help stays the last menu, after the menus the features added.
        self.menuBar().removeAction(self.help_menu.menuAction())
        self.menuBar().addAction(self.help_menu.menuAction())

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
        self.currencies_action = self._action(
            file_menu, self.tr("&Currencies and exchange rates…"), self.edit_currencies
        )
        self.currencies_action.setObjectName("currenciesAction")
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

        self._build_import_menu()

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

        view_menu.addSeparator()
        language_menu = view_menu.addMenu(self.tr("&Language"))
        language_menu.setObjectName("languageMenu")
        chosen = effective_language(Preferences.load().language)
        group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, name in LANGUAGES.items():
            action = QAction(name, self)
            action.setCheckable(True)
            action.setChecked(code == chosen)
            action.triggered.connect(lambda _checked=False, c=code: self.choose_language(c))
            group.addAction(action)
            language_menu.addAction(action)
            self.language_actions[code] = action

        help_menu = bar.addMenu(self.tr("&Help"))
        self.help_menu = help_menu
        about = self._action(help_menu, self.tr("&About smbcrm"), self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)

    def _build_import_menu(self) -> None:
        menu = self.menuBar().addMenu(self.tr("&Import"))
        menu.setObjectName("importMenu")
        self.import_menu = menu
        self.import_action = self._action(
            menu, self.tr("&Import customers…"), lambda: self.open_import_wizard(), "Ctrl+I"
        )
        self.import_action.setObjectName("importCustomersAction")
        self.import_action.setStatusTip(
            self.tr("Bring customers in from an Excel or CSV file, with a preview first.")
        )
        self.review_action = self._action(menu, self.tr("Rows to &review…"), self.open_review)
        self.review_action.setObjectName("reviewRowsAction")
        self.review_action.setStatusTip(
            self.tr("Decide the rows an import left because they look like existing customers.")
        )
        menu.addSeparator()
        self.import_history_action = self._action(
            menu, self.tr("Import &history…"), self.open_import_history
        )
        self.import_history_action.setObjectName("importHistoryAction")
        self.import_history_action.setStatusTip(self.tr("Every import so far, and undoing one."))
        self.import_actions = [self.import_action, self.review_action, self.import_history_action]
        # Only owners and managers import customers (the services refuse anyone else
        # anyway); a bookkeeper, who imports orders, still sees and undoes those imports.
        for action in self.import_actions:
            action.setEnabled(self._may_import)
        self.import_history_action.setEnabled(self._may_see_imports)
        menu.menuAction().setVisible(self._may_see_imports)
        menu.aboutToShow.connect(self.update_review_count)
        self.update_review_count()

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
        elif page == FOLLOW_UPS:
            self.follow_ups_view.table.setFocus()
        else:
            # Pages added by the integrations (at risk, duplicates…) offer the same two hooks.
            find = getattr(self.pages.currentWidget(), "focus_search", None)
            if callable(find):
                find()

    @Slot()
    def refresh(self) -> None:
        page = self.current_page()
        if page == CUSTOMERS:
            self.customers_view.refresh_action.trigger()
        elif page == ORDERS:
            self.orders_view.refresh()
        elif page == FOLLOW_UPS:
            self.follow_ups_view.refresh()
        else:
            again = getattr(self.pages.currentWidget(), "refresh", None)
            if callable(again):
                again()

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

    # -- import -------------------------------------------------------------------------

    def pending_review_count(self) -> int:
        """How many imported rows wait for a decision (0 when they cannot be read)."""
        if not self._may_import:
            return 0
        try:
            with self.ctx.read_session() as session:
                return len(pending_reviews(session, limit=REVIEW_COUNT_LIMIT + 1))
        except (SQLAlchemyError, SmbcrmError):
            log.warning("Counting the rows to review failed", exc_info=True)
            return 0

    @Slot()
    def update_review_count(self) -> int:
        """Show the number of rows waiting for review in the menu; returns it."""
        count = self.pending_review_count()
        if count > REVIEW_COUNT_LIMIT:
            text = self.tr("Rows to &review ({0}+)…").format(REVIEW_COUNT_LIMIT)
        elif count:
            text = self.tr("Rows to &review ({0})…").format(count)
        else:
            text = self.tr("Rows to &review…")
        self.review_action.setText(text)
        return count

    def open_import_wizard(self, path: Path | None = None) -> ImportWizard | None:
        """The import wizard (window-modal), on ``path`` when one is given."""
        if not self._may_import:
            return None
        wizard = self.import_wizard
        if wizard is not None:  # already open: a new file goes to it
            if path is not None:
                wizard.set_path(path)
            wizard.raise_()
            wizard.activateWindow()
            return wizard
        wizard = ImportWizard(self.ctx, path, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.imported.connect(self._on_imported)
        wizard.undone.connect(self._on_import_undone)
        wizard.finished.connect(lambda _code: self._forget("import_wizard"))
        self.import_wizard = wizard
        wizard.open()
        return wizard

    @Slot()
    def open_import_history(self) -> BatchesDialog | None:
        if not self._may_see_imports:
            return None
        if self.batches_dialog is not None:
            self.batches_dialog.reload()
            self.batches_dialog.raise_()
            return self.batches_dialog
        dialog = BatchesDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.undone.connect(self._on_import_undone)
        dialog.finished.connect(lambda _code: self._forget("batches_dialog"))
        self.batches_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def open_review(self) -> ReviewDialog | None:
        if not self._may_import:
            return None
        if self.review_dialog is not None:
            self.review_dialog.reload()
            self.review_dialog.raise_()
            return self.review_dialog
        dialog = ReviewDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.decided.connect(self._on_review_decided)
        dialog.finished.connect(lambda _code: self._forget("review_dialog"))
        self.review_dialog = dialog
        dialog.open()
        return dialog

    def _forget(self, attribute: str) -> None:
        setattr(self, attribute, None)
        self.update_review_count()

    def _after_import_change(self, message: str) -> None:
        """Refresh the customer list and the review count, then say what happened.

        Once per turn of the event loop: deciding 200 review rows at once is one refresh.
        """
        self._import_message = message
        self._import_refresh.start()

    @Slot()
    def _refresh_after_import(self) -> None:
        message = self._import_message
        self.customers_view.refresh()
        count = self.update_review_count()
        if count:
            message += " " + self.tr(
                "Rows waiting for review: {0} (Import › Rows to review)."
            ).format(count)
        # The customers page keeps the message; the status bar shows it whatever the page.
        self._messages[CUSTOMERS] = message
        self.statusBar().showMessage(message)

    @Slot(int)
    def _on_imported(self, batch_id: int) -> None:
        self._after_import_change(
            self.tr("Import batch {0} is in; the customer list is up to date.").format(batch_id)
        )

    @Slot(int)
    def _on_import_undone(self, batch_id: int) -> None:
        self._after_import_change(
            self.tr("Import batch {0} was undone; the customer list is up to date.").format(
                batch_id
            )
        )

    @Slot(int)
    def _on_review_decided(self, customer_id: int) -> None:
        self._after_import_change(
            self.tr("Review decisions saved; the customer list is up to date.")
            if customer_id
            else self.tr("Skipped; nothing was changed.")
        )

    # -- drag and drop ------------------------------------------------------------------

    def dropped_file(self, event: QDragEnterEvent | QDropEvent) -> tuple[Path | None, str]:
        """The spreadsheet a drag carries, or why it cannot be imported."""
        urls = event.mimeData().urls() if event.mimeData() is not None else []
        local = [u for u in urls if u.isLocalFile()]
        if not local:
            return None, self.import_kinds_message()
        if len(local) > 1:
            return None, self.tr("Drop one file at a time to import it.")
        path = Path(local[0].toLocalFile())
        if path.suffix.lower() not in IMPORT_SUFFIXES:
            return None, self.tr("{0} cannot be imported. {1}").format(
                path.name, self.import_kinds_message()
            )
        if not self._may_import and not self.ctx.can(Permission.IMPORT_ORDERS):
            return None, self.tr(
                "Only an owner or a manager can import customers, and a bookkeeper orders. "
                "Ask one of them to import {0} for you."
            ).format(path.name)
        return path, ""

    def import_kinds_message(self) -> str:
        kinds = ", ".join(IMPORT_SUFFIXES)
        return self.tr("Only spreadsheets can be imported: Excel or CSV files ({0}).").format(kinds)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not event.mimeData().hasUrls():
            event.ignore()
            return
        path, reason = self.dropped_file(event)
        if path is None:
            # Refused here, so the drop never comes: say why now.
            self.statusBar().showMessage(reason, DROP_MESSAGE_MS)
            event.ignore()
            return
        message = (
            self.tr("Drop {0} to import customers from it.")
            if self._may_import
            else self.tr("Drop {0} to import orders from it.")
        )
        self.statusBar().showMessage(message.format(path.name), DROP_MESSAGE_MS)
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path, reason = self.dropped_file(event)
        if path is None:
            self.statusBar().showMessage(reason, DROP_MESSAGE_MS)
            event.ignore()
            return
        event.acceptProposedAction()
        self._restore_page_message()
        if self._may_import:
            self.open_import_wizard(path)
            return
        # A bookkeeper imports orders: the orders import's wizard reads the file.
        orders_import = getattr(self, "orders_import", None)
        wizard = orders_import.open_wizard() if orders_import is not None else None
        if wizard is not None:
            wizard.set_path(path)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._restore_page_message()  # "Drop … to import" no longer applies
        super().dragLeaveEvent(event)

    def _restore_page_message(self) -> None:
        self.statusBar().showMessage(self._messages.get(self.current_page(), ""))

    # -- file menu ----------------------------------------------------------------------

    @Slot()
    def _open_database(self) -> None:
        location = choose_database(self)
        if location:
            self.open_database_requested.emit(location)

    def choose_language(self, language: str) -> None:
        """Keep the person's language; windows show it from the next start."""
        preferences = Preferences.load()
        if preferences.language == language:
            return
        preferences.language = language
        preferences.save()
        # Said in both languages: the person may not read the one the window is in.
        QMessageBox.information(
            self,
            self.tr("Language"),
            "smbcrm will be in English the next time it starts.\nsmbcrm 下次启动时将使用英文界面。"
            if language == "en"
            else "smbcrm 下次启动时将使用中文界面。\n"
            "smbcrm will be in Chinese the next time it starts.",
        )

    @Slot()
    def edit_currencies(self) -> CurrencyDialog:
        """The home currency and exchange rates; saving them re-adds up revenue where shown."""
        dialog = CurrencyDialog(self.ctx, self)
        risk_page = getattr(self, "risk_view", None)
        if risk_page is not None:
            dialog.saved.connect(risk_page.refresh)
        self.currency_dialog = dialog
        dialog.open()
        return dialog

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
