"""Signing in to a company's book, and choosing another database file or team server.

``SignInDialog`` checks the password through ``services.auth.sign_in`` and shows the
service's own message (wrong password, locked, deactivated) under the form. "Open another
database…" ends the dialog with ``OTHER_DATABASE`` and the chosen location, which the app
then opens instead.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smbcrm.errors import AuthenticationError, SmbcrmError
from smbcrm.models import Database, User
from smbcrm.models.db import data_dir
from smbcrm.services import auth


class SignInDialog(QDialog):
    """Login and password for one database; ``user`` is set when accepted."""

    OTHER_DATABASE = 2  # dialog result: open ``chosen_location`` instead

    def __init__(
        self,
        db: Database,
        company_name: str,
        last_login: str | None,
        parent: QWidget | None = None,
        *,
        hint: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.db = db
        self.user: User | None = None
        self.chosen_location: str | None = None
        self.setWindowTitle(self.tr("Sign in — smbcrm"))
        self.setMinimumWidth(440)

        title = QLabel(company_name, self)
        title.setObjectName("dialogTitle")
        title.setWordWrap(True)
        where = QLabel(self.tr("Book: {0}").format(db.display_name), self)
        where.setObjectName("hintLabel")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.login_edit = QLineEdit(self)
        self.login_edit.setObjectName("loginEdit")
        self.login_edit.setText(last_login or "")
        self.login_edit.setPlaceholderText(self.tr("e.g. wang.fang"))
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("passwordEdit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(self.tr("&Login"), self.login_edit)
        form.addRow(self.tr("&Password"), self.password_edit)

        self.error_label = QLabel(self)
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        self.hint_label = QLabel(hint or "", self)
        self.hint_label.setObjectName("hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setVisible(bool(hint))

        self.other_button = QPushButton(self.tr("Open another database…"), self)
        self.other_button.setObjectName("otherDatabaseButton")
        self.other_button.setFlat(True)
        self.other_button.setAutoDefault(False)
        self.other_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.other_button.clicked.connect(self._choose_other)

        self.buttons = QDialogButtonBox(self)
        self.sign_in_button = self.buttons.addButton(
            self.tr("Sign in"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.try_sign_in)
        self.buttons.rejected.connect(self.reject)

        bottom = QHBoxLayout()
        bottom.addWidget(self.other_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.hint_label)
        layout.addSpacing(6)
        layout.addLayout(bottom)

        self.login_edit.textEdited.connect(self._clear_error)
        self.password_edit.textEdited.connect(self._clear_error)
        # The login is usually remembered: start where the typing is needed.
        (self.password_edit if last_login else self.login_edit).setFocus()

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    @Slot()
    def _clear_error(self) -> None:
        self.error_label.hide()

    @Slot()
    def try_sign_in(self) -> None:
        login = self.login_edit.text().strip()
        password = self.password_edit.text()
        if not login:
            self._show_error(self.tr("Enter your login."))
            self.login_edit.setFocus()
            return
        if not password:
            self._show_error(self.tr("Enter your password."))
            self.password_edit.setFocus()
            return
        try:
            with self.db.session() as session:
                self.user = auth.sign_in(session, login, password)
        except AuthenticationError as exc:
            self._show_error(str(exc))
            self.password_edit.selectAll()
            self.password_edit.setFocus()
            return
        except SmbcrmError as exc:
            self._show_error(str(exc))
            return
        self.accept()

    @Slot()
    def _choose_other(self) -> None:
        location = choose_database(self)
        if location:
            self.chosen_location = location
            self.done(self.OTHER_DATABASE)


class OpenDatabaseDialog(QDialog):
    """A database file (picked or typed) or a team server address (postgresql://…)."""

    def __init__(self, parent: QWidget | None = None, *, current: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("openDatabaseDialog")
        self.setWindowTitle(self.tr("Open a database"))
        self.setMinimumWidth(520)
        intro = QLabel(
            self.tr(
                "Choose an smbcrm database file, or a new file name to start a new book. "
                "For the team database, type the server address the owner gave you, "
                "e.g. postgresql://user:password@server/smbcrm"
            ),
            self,
        )
        intro.setWordWrap(True)
        self.location_edit = QLineEdit(current or "", self)
        self.location_edit.setObjectName("locationEdit")
        self.location_edit.setPlaceholderText(self.tr("File path or postgresql://…"))
        browse = QPushButton(self.tr("Browse…"), self)
        browse.setObjectName("browseButton")
        browse.setAutoDefault(False)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.location_edit, 1)
        row.addWidget(browse)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("errorLabel")
        self.error_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept_if_given)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    @Slot()
    def _browse(self) -> None:
        start = self.location_edit.text().strip()
        if not start or "://" in start:
            start = str(data_dir())
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Choose a database file"),
            start,
            self.tr("smbcrm databases (*.db *.sqlite);;All files (*)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.location_edit.setText(path)

    @Slot()
    def _accept_if_given(self) -> None:
        text = self.location_edit.text().strip()
        if not text:
            self.error_label.setText(self.tr("Choose a file or type a server address."))
            self.error_label.show()
            return
        if "://" in text and not text.lower().startswith(("postgresql://", "postgres://")):
            self.error_label.setText(
                self.tr("A server address starts with postgresql:// — check what you typed.")
            )
            self.error_label.show()
            return
        self.accept()

    def location(self) -> str:
        return self.location_edit.text().strip()


def choose_database(parent: QWidget | None = None, current: str | None = None) -> str | None:
    """Ask for another database; None if the person changed their mind."""
    dialog = OpenDatabaseDialog(parent, current=current)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        return dialog.location()
    return None
