"""First start: create the company's own book, or look around the demo company first.

Two paths side by side:

* **Create my company** — company name, the owner's name, login and password, and the
  country whose phone numbers are written without a +code. Mistakes are shown under the
  field they concern; ``services.auth.create_company`` does the work.
* **Open the demo company** — built (on a worker thread, with progress and Cancel) in a
  separate file, ``demo.db`` in the data folder, so the real book stays clean. When it is
  ready the demo owner is signed in and the window shows the demo logins.

When accepted, ``database`` and ``user`` say which book was opened and who is signed in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smbcrm.errors import SmbcrmError, ValidationError
from smbcrm.models import Database, User
from smbcrm.services import app_support, auth
from smbcrm.services import database as dbsvc
from smbcrm.services.progress import Progress
from smbcrm.ui.sign_in import choose_database
from smbcrm.ui.workers import ProgressDialog, Worker, unexpected_error_text

# Size of the demo company; tests make it small.
DEMO_CUSTOMERS = 2000
DEMO_ORDERS = 20000

# (ISO code, label) — the country whose numbers people write without a +code.
REGIONS = [
    ("CN", str(QT_TRANSLATE_NOOP("WelcomeDialog", "China (+86)"))),
    ("HK", str(QT_TRANSLATE_NOOP("WelcomeDialog", "Hong Kong (+852)"))),
    ("TW", str(QT_TRANSLATE_NOOP("WelcomeDialog", "Taiwan (+886)"))),
    ("SG", str(QT_TRANSLATE_NOOP("WelcomeDialog", "Singapore (+65)"))),
    ("US", str(QT_TRANSLATE_NOOP("WelcomeDialog", "United States (+1)"))),
    ("GB", str(QT_TRANSLATE_NOOP("WelcomeDialog", "United Kingdom (+44)"))),
    ("DE", str(QT_TRANSLATE_NOOP("WelcomeDialog", "Germany (+49)"))),
]


class _Card(QFrame):
    def __init__(self, object_name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setProperty("card", True)


class WelcomeDialog(QDialog):
    """Shown when the database has no company yet."""

    OTHER_DATABASE = 2  # dialog result: open ``chosen_location`` instead

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeDialog")
        self.db = db
        self.database: Database | None = None
        self.user: User | None = None
        # Shown in the main window once the demo is open (who else can sign in).
        self.notice: str | None = None
        self.worker: Worker | None = None
        self.chosen_location: str | None = None
        self.setWindowTitle(self.tr("Welcome to smbcrm"))

        title = QLabel(self.tr("Welcome to smbcrm"), self)
        title.setObjectName("welcomeTitle")
        intro = QLabel(
            self.tr(
                "Every customer, order and conversation kept in your company's own book — "
                "not in one salesperson's phone or spreadsheet."
            ),
            self,
        )
        intro.setObjectName("welcomeIntro")
        intro.setWordWrap(True)

        cards = QHBoxLayout()
        cards.setSpacing(16)
        create_card, demo_card = self._build_create_card(), self._build_demo_card()
        create_card.setMinimumWidth(500)
        demo_card.setMinimumWidth(320)
        cards.addWidget(create_card, 3)
        cards.addWidget(demo_card, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addLayout(cards)
        # A new computer in a company that already has its book (a file or the team
        # server) must not be pushed into creating a second company.
        self.other_button = QPushButton(
            self.tr("Your company already uses smbcrm? Open its database…"), self
        )
        self.other_button.setObjectName("otherDatabaseButton")
        self.other_button.setFlat(True)
        self.other_button.setAutoDefault(False)
        self.other_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.other_button.clicked.connect(self._choose_other)
        layout.addWidget(self.other_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.company_edit.setFocus()

    # -- the two paths ------------------------------------------------------------------

    def _field(self, name: str, form: QFormLayout, label: str) -> QLineEdit:
        """A line edit with its message underneath (hidden until there is something wrong)."""
        edit = QLineEdit(self)
        edit.setObjectName(f"{name}Edit")
        error = QLabel(self)
        error.setObjectName(f"{name}Error")
        error.setProperty("fieldError", True)
        error.setWordWrap(True)
        error.hide()
        form.addRow(label, self._with_note(edit, error))
        self._errors[name] = error
        edit.textEdited.connect(lambda _text: self._hide_error(error))
        return edit

    def _hide_error(self, label: QLabel) -> None:
        if label.isVisibleTo(self):
            label.hide()
            self._fit_messages()

    def _with_note(self, field: QWidget, note: QLabel) -> QWidget:
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        column.addWidget(field)
        column.addWidget(note)
        return box

    def _build_create_card(self) -> QFrame:
        card = _Card("createCard", self)
        heading = QLabel(self.tr("Create my company"), card)
        heading.setObjectName("cardTitle")
        blurb = QLabel(
            self.tr("Start your own book. You become its owner and can add your staff later."),
            card,
        )
        blurb.setWordWrap(True)
        blurb.setObjectName("hintLabel")
        self._errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.company_edit = self._field("company", form, self.tr("&Company name"))
        self.company_edit.setPlaceholderText(self.tr("e.g. 深圳市华强电子有限公司"))
        self.full_name_edit = self._field("fullName", form, self.tr("Your &full name"))
        self.login_edit = self._field("login", form, self.tr("&Login"))
        self.login_edit.setPlaceholderText(self.tr("e.g. wang.fang"))
        self.password_edit = self._field("password", form, self.tr("&Password"))
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(
            self.tr("at least {0} characters").format(auth.MIN_PASSWORD_LENGTH)
        )
        self.repeat_edit = self._field("repeat", form, self.tr("&Repeat password"))
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.region_combo = QComboBox(card)
        self.region_combo.setObjectName("regionCombo")
        for code, label in REGIONS:
            self.region_combo.addItem(self.tr(label), code)
        region_hint = QLabel(
            self.tr("Numbers written without +code are read as this country's."), card
        )
        region_hint.setObjectName("hintLabel")
        region_hint.setWordWrap(True)
        self.region_hint = region_hint
        form.addRow(self.tr("Phone &numbers"), self._with_note(self.region_combo, region_hint))

        self.create_error = QLabel(card)
        self.create_error.setObjectName("createError")
        self.create_error.setProperty("fieldError", True)
        self.create_error.setWordWrap(True)
        self.create_error.hide()
        self.create_button = QPushButton(self.tr("Create my company"), card)
        self.create_button.setObjectName("createButton")
        self.create_button.setProperty("primary", True)
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.create_company)

        layout = QVBoxLayout(card)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(blurb)
        layout.addSpacing(4)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.create_error)
        layout.addWidget(self.create_button, 0, Qt.AlignmentFlag.AlignRight)
        return card

    def _build_demo_card(self) -> QFrame:
        card = _Card("demoCard", self)
        heading = QLabel(self.tr("Look around first"), card)
        heading.setObjectName("cardTitle")
        text = QLabel(
            self.tr(
                "<p>Open a demo company — a trading business with about {0:,} customers and "
                "{1:,} orders, its sales staff, calls, visits and follow-ups, "
                "with Chinese and English names.</p>"
                "<p>It is kept in a separate file, so your own book stays clean. "
                "Creating it takes a moment.</p>"
            ).format(DEMO_CUSTOMERS, DEMO_ORDERS),
            card,
        )
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.demo_status = QLabel(card)
        self.demo_status.setObjectName("demoStatus")
        self.demo_status.setWordWrap(True)
        self.demo_status.hide()
        self.demo_button = QPushButton(self.tr("Open the demo company"), card)
        self.demo_button.setObjectName("demoButton")
        self.demo_button.setAutoDefault(False)
        self.demo_button.clicked.connect(self.open_demo)
        layout = QVBoxLayout(card)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(text)
        layout.addStretch(1)
        layout.addWidget(self.demo_status)
        layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignRight)
        return card

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_messages()  # the hint under the country needs its wrapped height too

    @Slot()
    def _choose_other(self) -> None:
        location = choose_database(self)
        if location:
            self.chosen_location = location
            self.done(self.OTHER_DATABASE)

    # -- create my company --------------------------------------------------------------

    def _show_errors(self, errors: dict[str, str]) -> None:
        # The service names fields as the domain does; map them to this form's fields.
        names = {"company": "company", "login": "login", "password": "password"}
        first: QLineEdit | None = None
        leftover: list[str] = []
        for key, message in errors.items():
            label = self._errors.get(names.get(key, key))
            if label is None:
                leftover.append(message)
                continue
            label.setText(message)
            label.show()
            edit = self.findChild(QLineEdit, f"{names.get(key, key)}Edit")
            if first is None and edit is not None:
                first = edit
        if leftover:
            self.create_error.setText(" ".join(leftover))
            self.create_error.show()
        if first is not None:
            first.setFocus()
        self._fit_messages()

    def _fit_messages(self) -> None:
        # Qt sizes a window by its layout's minimum, which ignores how tall wrapped text
        # becomes at the real width; messages under the fields would overlap the next row.
        # Ask the layout for the height at this width and make room for it.
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = layout.totalHeightForWidth(self.width())
        self.setMinimumHeight(needed)
        if self.height() != needed:
            self.resize(self.width(), needed)

    def _hide_errors(self) -> None:
        for label in self._errors.values():
            label.hide()
        self.create_error.hide()
        self._fit_messages()

    @Slot()
    def create_company(self) -> None:
        self._hide_errors()
        company = self.company_edit.text()
        login = self.login_edit.text()
        password = self.password_edit.text()
        errors: dict[str, str] = {}
        # Checked here too, so every mistake shows at once, before anything is written.
        if not company.strip():
            errors["company"] = self.tr("Enter your company's name.")
        for check, value in ((auth.validate_login, login), (auth.validate_password, password)):
            try:
                check(value)
            except ValidationError as exc:
                errors.update(exc.field_errors)
        if password != self.repeat_edit.text():
            errors["repeat"] = self.tr(
                "The two passwords differ; type the same password in both fields."
            )
        if errors:
            self._show_errors(errors)
            return
        try:
            owner = auth.create_company(
                self.db,
                company,
                login,
                self.full_name_edit.text(),
                password,
                default_region=str(self.region_combo.currentData()),
            )
        except ValidationError as exc:
            self._show_errors(exc.field_errors)
            return
        except SmbcrmError as exc:
            self.create_error.setText(str(exc))
            self.create_error.show()
            self._fit_messages()
            return
        self.database = self.db
        self.user = owner
        self.accept()

    # -- the demo company ---------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        self.create_button.setEnabled(not busy)
        self.demo_button.setEnabled(not busy)
        self.other_button.setEnabled(not busy)

    def _demo_status(self, message: str, *, error: bool = False) -> None:
        self.demo_status.setText(message)
        self.demo_status.setProperty("fieldError", error)
        self.demo_status.style().unpolish(self.demo_status)
        self.demo_status.style().polish(self.demo_status)
        self.demo_status.show()

    @Slot()
    def open_demo(self) -> None:
        target = app_support.demo_database_path()
        if target.exists():
            try:
                db = dbsvc.open_database(target)
                if dbsvc.has_company(db):
                    self._finish_demo(db)
                    return
                db.dispose()
            except SmbcrmError:
                pass  # an unusable old demo is simply built again
        self._build_demo(target)

    def _build_demo(self, target: Path) -> None:
        customers, orders = DEMO_CUSTOMERS, DEMO_ORDERS

        def job(progress: Progress) -> Any:
            return app_support.build_demo_database(
                target, customers=customers, orders=orders, progress=progress
            )

        self._set_busy(True)
        self.demo_status.hide()
        worker = Worker(job, self)
        worker.finished.connect(lambda _summary: self._demo_built(target))
        worker.cancelled.connect(self._demo_cancelled)
        worker.failed.connect(self._demo_failed)
        self.progress_dialog = ProgressDialog(
            worker, self.tr("Creating the demo company"), self, show_after_ms=0
        )
        self.worker = worker
        worker.start()

    @Slot()
    def _demo_cancelled(self) -> None:
        self._set_busy(False)
        self._demo_status(self.tr("Cancelled: no demo company was created."))

    @Slot(str)
    def _demo_failed(self, message: str) -> None:
        self._set_busy(False)
        self._demo_status(
            self.tr("The demo company could not be created: {0}").format(message), error=True
        )

    def _demo_built(self, target: Path) -> None:
        try:
            db = dbsvc.open_database(target)
        except SmbcrmError as exc:
            self._demo_failed(str(exc))
            return
        self._finish_demo(db)

    def _finish_demo(self, db: Database) -> None:
        try:
            user = app_support.sign_in_demo_owner(db)
            logins = app_support.demo_logins(db)
        except Exception as exc:  # shown in the dialog, never a traceback
            db.dispose()
            self._demo_failed(unexpected_error_text(exc))
            return
        from smbcrm.services.demo import DEMO_PASSWORD

        others = ", ".join(f"{x.login} ({x.role.lower()})" for x in logins if x.login != user.login)
        self.notice = self.tr(
            "This is the demo company, kept in {0}. You are signed in as {1} ({2}). "
            "The other demo staff can sign in too — {3} — all with the password {4}. "
            "To start your own book, choose File ▸ Open database… and a new file name."
        ).format(db.display_name, user.full_name, user.login, others or "-", DEMO_PASSWORD)
        self.database = db
        self.user = user
        self._set_busy(False)
        self.accept()

    def reject(self) -> None:
        if self.worker is not None and self.worker.is_running():
            # Closing while the demo is being built means Cancel; the job cleans up.
            self.worker.cancel()
            return
        super().reject()
