"""Starting the desktop app: which database, welcome or sign-in, then the main window.

``run_app`` is what ``smbcrm`` runs with no command: it sets up the QApplication (name,
icon, style, fonts, a friendly excepthook) and calls ``launch``, which does the rest and
returns the main window without entering the event loop — so tests drive the very same
flow by passing ``run_dialog`` (how each modal dialog is answered).

The :class:`Launcher` stays alive while the app runs: "Sign out" and "Open database…" in
the main window come back to it and it goes through the flow again.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm import __version__
from smbcrm.errors import DatabaseError, SmbcrmError
from smbcrm.models import Database, User
from smbcrm.services import app_support
from smbcrm.services import database as dbsvc
from smbcrm.services.preferences import Preferences
from smbcrm.ui.context import AppContext
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.sign_in import SignInDialog, choose_database
from smbcrm.ui.style import apply_style, text_width
from smbcrm.ui.translation import effective_language, install_language
from smbcrm.ui.welcome import WelcomeDialog
from smbcrm.ui.workers import unexpected_error_text

RunDialog = Callable[[QDialog], int]


def _tr(text: str) -> str:
    return QCoreApplication.translate("App", text)


def _exec(dialog: QDialog) -> int:
    return dialog.exec()


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, set up once: names (for settings), icon, style and fonts."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QCoreApplication.setOrganizationName("smbcrm")
    QCoreApplication.setApplicationName("smbcrm")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationDisplayName("smbcrm")
    app.setDesktopFileName("smbcrm")
    # Before any window exists: every text is translated as it is made.
    install_language(app, effective_language(Preferences.load().language))
    apply_style(app)
    return app


# -- unexpected errors ------------------------------------------------------------------

_showing_error = False


def friendly_message(exc: BaseException) -> str:
    """What the person reads for an exception nobody caught; the traceback goes to the log."""
    return unexpected_error_text(exc)


def show_unexpected_error(exc: BaseException, parent: QWidget | None = None) -> None:
    global _showing_error
    message = friendly_message(exc)
    if _showing_error:  # an error while showing an error: log only, never a cascade
        return
    _showing_error = True
    try:
        QMessageBox.warning(parent, _tr("Something went wrong"), message)
    finally:
        _showing_error = False


def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    exc.__traceback__ = tb
    if QApplication.instance() is None:
        sys.stderr.write("".join(traceback.format_exception(kind, exc, tb)))
        return
    show_unexpected_error(exc, QApplication.activeWindow())


def install_excepthook() -> None:
    # Exceptions escaping Qt slots reach sys.excepthook; without this they would only be
    # printed to a console the person never sees.
    sys.excepthook = excepthook


# -- the start-up flow --------------------------------------------------------------------


class Launcher(QObject):
    """Opens a database, signs someone in and shows the main window; again on sign-out."""

    def __init__(
        self,
        *,
        run_dialog: RunDialog = _exec,
        quit_app: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.run_dialog = run_dialog
        self.quit_app = quit_app
        self.window: MainWindow | None = None
        self.db: Database | None = None
        self._switching = False
        self.upgrade_notice: QDialog | None = None

    # Opening ---------------------------------------------------------------------------

    def open_database(self, location: str | None) -> Database | None:
        """Open (and upgrade) the database; on failure let the person choose another."""
        while True:
            try:
                return dbsvc.open_database(location, before_upgrade=self._show_upgrade_notice)
            except DatabaseError as exc:
                message = str(exc)
            except (SQLAlchemyError, ValueError, OSError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                message = _tr(
                    "Cannot open the database {0}: {1}. Check the file name or server address."
                ).format(location or _tr("(default)"), reason or type(exc).__name__)
            finally:
                self._close_upgrade_notice()
            location = self._ask_for_another(message, location)
            if location is None:
                return None

    def _show_upgrade_notice(self) -> None:
        """Said before a one-time upgrade, which can take a minute on a large book."""
        notice = QDialog()
        notice.setObjectName("upgradeNotice")
        notice.setWindowTitle("smbcrm")
        text = QLabel(
            _tr(
                "Upgrading the database for this version of smbcrm. A backup copy is made "
                "first. On a large book this takes a minute; the window opens when it is done."
            ),
            notice,
        )
        text.setWordWrap(True)
        layout = QVBoxLayout(notice)
        layout.addWidget(text)
        notice.setMinimumWidth(text_width(notice, 52))
        notice.show()
        # The upgrade runs right after on this thread: draw the notice before it starts.
        QApplication.processEvents()
        self.upgrade_notice = notice

    def _close_upgrade_notice(self) -> None:
        if self.upgrade_notice is not None:
            self.upgrade_notice.close()
            self.upgrade_notice.deleteLater()
            self.upgrade_notice = None

    def _ask_for_another(self, message: str, current: str | None) -> str | None:
        box = QMessageBox(QMessageBox.Icon.Warning, _tr("Cannot open the database"), message)
        box.setObjectName("databaseErrorBox")
        choose = box.addButton(_tr("Choose another file…"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(_tr("Quit"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(choose)
        self.run_dialog(box)
        if box.clickedButton() is not choose:
            return None
        return choose_database(None, current)

    # Signing in ------------------------------------------------------------------------

    def start(self, location: str | None, login: str | None = None) -> MainWindow | None:
        """The whole flow; None when the person gave up (closed a dialog, chose Quit)."""
        prefs = Preferences.load()
        while True:
            db = self.open_database(location)
            if db is None:
                return None
            if not dbsvc.has_company(db):
                welcome = WelcomeDialog(db)
                result = self.run_dialog(welcome)
                if result == WelcomeDialog.OTHER_DATABASE and welcome.chosen_location:
                    db.dispose()
                    location, login = welcome.chosen_location, None
                    continue
                if result != QDialog.DialogCode.Accepted:
                    db.dispose()
                    return None
                assert welcome.database is not None and welcome.user is not None
                if welcome.database is not db:
                    db.dispose()  # the demo lives in its own file
                return self._signed_in(welcome.database, welcome.user, prefs, welcome.notice)
            remembered = login or app_support.last_login(db, prefs)
            hint = None
            if dbsvc.is_demo(db):
                from smbcrm.services.demo import DEMO_PASSWORD

                hint = _tr("Demo company: every demo login uses the password {0}.").format(
                    DEMO_PASSWORD
                )
            dialog = SignInDialog(db, dbsvc.company_name(db) or "", remembered, hint=hint)
            result = self.run_dialog(dialog)
            if result == SignInDialog.OTHER_DATABASE and dialog.chosen_location:
                db.dispose()
                location, login = dialog.chosen_location, None
                continue
            if result != QDialog.DialogCode.Accepted or dialog.user is None:
                db.dispose()
                return None
            return self._signed_in(db, dialog.user, prefs, None)

    def _signed_in(
        self, db: Database, user: User, prefs: Preferences, notice: str | None
    ) -> MainWindow:
        app_support.remember_sign_in(db, user.login, prefs)
        ctx = AppContext.for_user(db, user, dbsvc.company_name(db) or "")
        window = MainWindow(ctx)
        if notice:
            window.show_banner(notice)
        window.sign_out_requested.connect(self._sign_out)
        window.open_database_requested.connect(self._switch_database)
        window.closed.connect(self._window_closed)
        self.window, self.db = window, db
        window.show()
        return window

    # Coming back from the main window ----------------------------------------------------

    def _leave_window(self) -> str | None:
        """Close the current window and its database; returns that database's location."""
        window, db = self.window, self.db
        # The full address (with a server password, if any) stays in memory only.
        location = db.url.render_as_string(hide_password=False) if db is not None else None
        if db is not None and db.is_sqlite:
            location = app_support.database_key(db)
        self._switching = True
        try:
            if window is not None:
                window.close()
                window.deleteLater()
        finally:
            self._switching = False
        if db is not None:
            db.dispose()
        self.window, self.db = None, None
        return location

    @Slot()
    def _sign_out(self) -> None:
        location = self._leave_window()
        # Let the old window finish closing before the sign-in dialog takes over.
        QTimer.singleShot(0, lambda: self._restart(location))

    @Slot(str)
    def _switch_database(self, location: str) -> None:
        self._leave_window()
        QTimer.singleShot(0, lambda: self._restart(location))

    def _restart(self, location: str | None) -> None:
        if self.start(location) is None:
            self._quit()

    @Slot()
    def _window_closed(self) -> None:
        if not self._switching:
            if self.db is not None:
                self.db.dispose()
            self.window, self.db = None, None
            self._quit()

    def _quit(self) -> None:
        if self.quit_app is not None:
            self.quit_app()


def launch(
    db_location: str | None,
    login: str | None,
    *,
    run_dialog: RunDialog = _exec,
    quit_app: Callable[[], None] | None = None,
) -> MainWindow | None:
    """Open the right database, welcome or sign in, and show the main window.

    ``db_location``: as given on the command line; else the last one used; else the
    default file. Returns the window (already shown) or None if the person gave up.
    """
    app = create_application()
    location = db_location or app_support.remembered_database()
    launcher = Launcher(run_dialog=run_dialog, quit_app=quit_app, parent=app)
    return launcher.start(location, login)


def run_app(db_location: str | None, login: str | None) -> int:
    app = create_application()
    install_excepthook()
    # The launcher decides when to quit: closing the window for "Sign out" must not.
    app.setQuitOnLastWindowClosed(False)
    window = launch(db_location, login, quit_app=app.quit)
    if window is None:
        return 0
    return app.exec()


def self_check_window(db: Database, user_id: int) -> str:
    """Build the real main window offscreen for ``user_id``, draw it once, close it."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = create_application()
    with db.new_session() as session:
        user = session.get_one(User, user_id)
        ctx = AppContext.for_user(db, user, dbsvc.company_name(db) or "")
    window = MainWindow(ctx, persist_state=False)
    try:
        window.resize(1200, 800)
        window.show()
        app.processEvents()
        pixmap = window.grab()
        if pixmap.isNull():
            raise SmbcrmError("The main window could not be drawn (empty picture).")
        size = window.size()
        return f"main window {size.width()}x{size.height()}"
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
