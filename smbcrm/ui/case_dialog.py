"""Opening and working a service case: the case form, a response, resolving with the
customer's satisfaction in the same step.

* :class:`CaseDialog` opens a new case (customer picked by typing, category from the
  promises or typed freely) or edits one, showing its due times and where it stands;
  from there a response is recorded, the case resolved or reopened.
* :class:`ResponseDialog` logs a contact on the case (it becomes the first response if it
  is the first) through ``services.cases.record_response``.
* :class:`ResolveDialog` resolves with the resolution text, "resolved on first contact"
  and a 1–5 satisfaction score with the customer's words, in one save.

Times are shown in the company's time zone (the working calendar's), as "2026-11-23 14:00".
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import (
    QCoreApplication,
    QDate,
    QDateTime,
    QTime,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smbcrm.errors import SmbcrmError, ValidationError
from smbcrm.models import (
    ActivityKind,
    Case,
    CaseKind,
    CaseSeverity,
    CaseStatus,
    Customer,
    utcnow,
)
from smbcrm.services import auth, cases
from smbcrm.services.activities import ACTIVITY_LABELS
from smbcrm.services.cases import CaseInput, CaseState
from smbcrm.services.working_time import WorkingCalendar, describe_minutes, working_minutes_between
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_picker import CustomerPicker
from smbcrm.ui.style import HINT_STYLE
from smbcrm.ui.translation import ui_language

AMBER = QColor("#9a6700")
AMBER_BACKGROUND = QColor("#fff4d6")
RED = QColor("#b3261e")
RED_BACKGROUND = QColor("#fdf1f0")
GREEN = QColor("#1e7b34")

SCORE_WORDS = {
    1: "Very unhappy",
    2: "Unhappy",
    3: "Neutral",
    4: "Happy",
    5: "Very happy",
}


def tr(text: str) -> str:
    return QCoreApplication.translate("CaseDialog", text)


def state_label(state: CaseState) -> str:
    return tr(cases.STATE_LABELS[state])


def state_colors(state: CaseState) -> tuple[QColor | None, QColor | None]:
    """(text colour, background) that says how urgent a state is."""
    if state.overdue:
        return RED, RED_BACKGROUND
    if state == CaseState.DUE_SOON:
        return AMBER, AMBER_BACKGROUND
    if state == CaseState.RESOLVED_LATE:
        return RED, None
    if state == CaseState.RESOLVED:
        return GREEN, None
    return None, None


def local_text(calendar: WorkingCalendar, moment: datetime | None, *, short: bool = False) -> str:
    """A stored (naive UTC) moment as company-local "YYYY-MM-DD HH:MM" ("MM-DD HH:MM" when
    ``short`` and in the current year, for lists)."""
    if moment is None:
        return ""
    local = calendar.to_local(moment)
    if short and local.year == calendar.to_local(utcnow()).year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def due_text(
    calendar: WorkingCalendar,
    due: datetime | None,
    now: datetime,
    *,
    met: datetime | None,
    short: bool = False,
) -> str:
    """ "2026-11-24 11:00 (in 2 h)", "… (3 h overdue)", "… ✓" once met in time."""
    if due is None:
        return tr("no promise")
    when = local_text(calendar, due, short=short)
    if met is not None:
        return f"{when}  ✓" if met <= due else tr("{0}  (met late)").format(when)
    left = working_minutes_between(now, due, calendar)
    span = describe_minutes(abs(left), calendar.day_minutes, lang=ui_language())
    if left > 0:
        return tr("{0}  (in {1})").format(when, span)
    if now < due:
        return tr("{0}  (due now)").format(when)
    if left == 0:  # missed, with no working time gone by since (evening, weekend)
        return tr("{0}  (missed)").format(when)
    late = tr("{0} late") if short else tr("{0} overdue")
    return f"{when}  ({late.format(span)})"


def promise_text(promise: object, day_minutes: int) -> str:
    if promise is None:
        return tr("No service promise for this category.")
    response = getattr(promise, "first_response_minutes", None)
    resolution = getattr(promise, "resolution_minutes", None)
    parts = []
    if response:
        parts.append(
            tr("first response within {0}").format(
                describe_minutes(response, day_minutes, lang=ui_language())
            )
        )
    if resolution:
        parts.append(
            tr("resolved within {0}").format(
                describe_minutes(resolution, day_minutes, lang=ui_language())
            )
        )
    return tr("Promise: {0}.").format(", ".join(parts))


def _error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setProperty("fieldError", True)
    label.hide()
    return label


class CaseDialog(QDialog):
    """Open a new case, or see and edit one; due times and state for an existing case."""

    saved = Signal(int)  # the case id, after any change (save, response, resolve, reopen)

    def __init__(
        self,
        ctx: AppContext,
        case_id: int | None = None,
        *,
        customer_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("caseDialog")
        self.ctx = ctx
        self.case_id = case_id
        self.version: int | None = None
        self.child_dialog: QDialog | None = None
        with ctx.read_session() as session:
            self.calendar = WorkingCalendar.load(session)
            self.promises = cases.promises_by_category(session)
            categories = cases.category_choices(session)
            staff = [(u.id, u.full_name) for u in auth.active_staff(session)]
            case = cases.get_case(session, case_id) if case_id is not None else None
            customer = (
                session.get(Customer, case.customer_id if case else customer_id)
                if (case or customer_id)
                else None
            )
            customer_name = customer.name if customer else ""
        self.setWindowTitle(tr("Case #{0}").format(case_id) if case_id else tr("New case"))

        self.customer = CustomerPicker(ctx, self)
        self.customer.setObjectName("caseCustomer")
        if customer is not None:
            self.customer.set_customer(customer.id, customer_name)
        self.kind = QComboBox(self)
        self.kind.setObjectName("caseKind")
        for kind in CaseKind:
            self.kind.addItem(tr(cases.KIND_LABELS[kind]), kind.value)
        self.category = QComboBox(self)
        self.category.setObjectName("caseCategory")
        self.category.setEditable(True)
        self.category.addItem("")
        self.category.addItems(categories)
        editor = self.category.lineEdit()
        if editor is not None:
            editor.setPlaceholderText(tr("Choose or type a category"))
        self.category.currentTextChanged.connect(self._show_promise)
        self.severity = QComboBox(self)
        self.severity.setObjectName("caseSeverity")
        for severity in CaseSeverity:
            self.severity.addItem(tr(cases.SEVERITY_LABELS[severity]), severity.value)
        self.severity.setCurrentIndex(self.severity.findData(CaseSeverity.NORMAL.value))
        self.assignee = QComboBox(self)
        self.assignee.setObjectName("caseAssignee")
        self.assignee.addItem(tr("The customer's salesperson"), None)
        for uid, name in staff:
            self.assignee.addItem(name, uid)
        self.title_edit = QLineEdit(self)
        self.title_edit.setObjectName("caseTitle")
        self.title_edit.setMaxLength(300)
        self.title_edit.setPlaceholderText(tr("In a few words: what is wrong or wanted"))
        self.description = QPlainTextEdit(self)
        self.description.setObjectName("caseDescription")
        self.description.setPlaceholderText(tr("What the customer said, order numbers, photos…"))
        self.description.setMinimumHeight(90)
        self.promise_label = QLabel(self)
        self.promise_label.setObjectName("casePromise")
        self.promise_label.setWordWrap(True)
        self.promise_label.setStyleSheet(HINT_STYLE)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(tr("Customer"), self.customer)
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.kind)
        kind_row.addSpacing(12)
        kind_row.addWidget(QLabel(tr("Severity"), self))
        kind_row.addWidget(self.severity)
        kind_row.addStretch(1)
        form.addRow(tr("Kind"), kind_row)
        form.addRow(tr("Category"), self.category)
        form.addRow("", self.promise_label)
        form.addRow(tr("Assigned to"), self.assignee)
        form.addRow(tr("Title"), self.title_edit)
        form.addRow(tr("Description"), self.description)

        self.times = QGroupBox(tr("Times (company time, {0})").format(self.calendar.timezone), self)
        self.times.setObjectName("caseTimes")
        times_form = QFormLayout(self.times)
        self.state_label = QLabel(self.times)
        self.state_label.setObjectName("caseState")
        self.opened_label = QLabel(self.times)
        self.opened_label.setObjectName("caseOpened")
        self.response_due_label = QLabel(self.times)
        self.response_due_label.setObjectName("caseResponseDue")
        self.resolution_due_label = QLabel(self.times)
        self.resolution_due_label.setObjectName("caseResolutionDue")
        self.resolved_label = QLabel(self.times)
        self.resolved_label.setObjectName("caseResolved")
        self.resolved_label.setWordWrap(True)
        self.state_label.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        times_form.addRow(tr("State"), self.state_label)
        times_form.addRow(tr("Opened"), self.opened_label)
        times_form.addRow(tr("Respond by"), self.response_due_label)
        times_form.addRow(tr("Resolve by"), self.resolution_due_label)
        times_form.addRow(tr("Resolved"), self.resolved_label)

        self.error = _error_label(self, "caseError")
        self.respond_button = QPushButton(tr("Record response…"), self)
        self.respond_button.setObjectName("caseRespond")
        self.respond_button.clicked.connect(self.record_response)
        self.resolve_button = QPushButton(tr("Resolve…"), self)
        self.resolve_button.setObjectName("caseResolve")
        self.resolve_button.clicked.connect(self.resolve)
        self.reopen_button = QPushButton(tr("Reopen"), self)
        self.reopen_button.setObjectName("caseReopen")
        self.reopen_button.clicked.connect(self.reopen)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("caseSave")
        self.save_button.setText(tr("Open case") if case_id is None else tr("Save"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        for button in (self.respond_button, self.resolve_button, self.reopen_button):
            bottom.addWidget(button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.times)
        layout.addWidget(self.error)
        layout.addLayout(bottom)
        self.setMinimumWidth(620)

        if case is not None:
            self._show_case(case)
        else:
            self.times.hide()
            for button in (self.respond_button, self.resolve_button, self.reopen_button):
                button.hide()
            self._show_promise(self.category.currentText())
        if customer is None:
            self.customer.setFocus()
        else:
            self.title_edit.setFocus()

    # -- showing ----------------------------------------------------------------------

    def _show_case(self, case: Case) -> None:
        self.version = case.version
        self.kind.setCurrentIndex(max(self.kind.findData(case.kind.value), 0))
        self.severity.setCurrentIndex(max(self.severity.findData(case.severity.value), 0))
        if self.category.findText(case.category) < 0:
            self.category.addItem(case.category)
        self.category.setCurrentText(case.category)
        index = self.assignee.findData(case.assignee_id)
        if index < 0 and case.assignee is not None:
            self.assignee.addItem(
                tr("{0} (left)").format(case.assignee.full_name), case.assignee_id
            )
            index = self.assignee.count() - 1
        self.assignee.setCurrentIndex(max(index, 0))
        self.title_edit.setText(case.title)
        self.description.setPlainText(case.description or "")
        self._show_times(case)
        is_open = case.status == CaseStatus.OPEN
        self.respond_button.setVisible(is_open)
        self.resolve_button.setVisible(is_open)
        self.reopen_button.setVisible(not is_open)

    def _show_times(self, case: Case) -> None:
        cal, now = self.calendar, utcnow()
        promise = self.promises.get(cases.clean_category(case.category).casefold())
        warn = promise.warn_minutes if promise is not None else cases.DEFAULT_WARN_MINUTES
        state = cases.case_state(case, now, warn_minutes=warn, calendar=cal)
        self.state = state
        color, background = state_colors(state)
        css = ""
        if color is not None:
            css += f"color: {color.name()}; font-weight: 600;"
        if background is not None:
            css += f"background: {background.name()}; padding: 2px 6px; border-radius: 3px;"
        self.state_label.setText(state_label(state))
        self.state_label.setStyleSheet(css)
        self.opened_label.setText(local_text(cal, case.opened_at))
        response = due_text(cal, case.response_due_at, now, met=case.first_response_at)
        if case.first_response_at is not None:
            response += "\n" + tr("answered {0}").format(local_text(cal, case.first_response_at))
        self.response_due_label.setText(response)
        self.resolution_due_label.setText(
            due_text(cal, case.resolution_due_at, now, met=case.resolved_at)
        )
        if case.status == CaseStatus.RESOLVED:
            first = tr(" — on first contact") if case.resolved_on_first_contact else ""
            self.resolved_label.setText(
                f"{local_text(cal, case.resolved_at)}{first}\n{case.resolution or ''}".strip()
            )
        else:
            self.resolved_label.setText(tr("not yet"))
        self._show_promise(case.category)

    @Slot(str)
    def _show_promise(self, category: str) -> None:
        promise = self.promises.get(cases.clean_category(category).casefold())
        text = promise_text(promise, self.calendar.day_minutes)
        if self.case_id is None and promise is not None:
            respond, resolve = cases.due_times(utcnow(), promise, self.calendar)
            due = [
                tr("respond by {0}").format(local_text(self.calendar, respond)) if respond else "",
                tr("resolve by {0}").format(local_text(self.calendar, resolve)) if resolve else "",
            ]
            text += " " + tr("Opened now: {0}.").format(", ".join(d for d in due if d))
        self.promise_label.setText(text)

    def _input(self) -> CaseInput:
        return CaseInput(
            customer_id=self.customer.customer_id() or 0,
            title=self.title_edit.text(),
            kind=CaseKind(self.kind.currentData()),
            category=self.category.currentText(),
            severity=CaseSeverity(self.severity.currentData()),
            description=self.description.toPlainText(),
            assignee_id=self.assignee.currentData(),
        )

    def _fail(self, exc: SmbcrmError) -> None:
        if isinstance(exc, ValidationError) and "customer_id" in exc.field_errors:
            self.customer.setFocus()
        self.error.setText(str(exc))
        self.error.show()

    # -- actions ----------------------------------------------------------------------

    @Slot()
    def save(self) -> None:
        if self.customer.customer_id() is None:
            self._fail(
                ValidationError(
                    {
                        "customer_id": "Choose the customer from the list that drops down as you type."
                    }
                )
            )
            return
        try:
            with self.ctx.unit_of_work() as (session, actor):
                data = self._input()
                if self.case_id is None:
                    case = cases.open_case(session, actor, data)
                else:
                    case = cases.update_case(
                        session, actor, self.case_id, data, expected_version=self.version
                    )
                self.case_id = case.id
        except SmbcrmError as exc:
            self._fail(exc)
            return
        self.saved.emit(self.case_id)
        self.accept()

    def _reload(self) -> None:
        if self.case_id is None:
            return
        with self.ctx.read_session() as session:
            case = cases.get_case(session, self.case_id)
            self._show_case(case)
        self.error.hide()
        self.saved.emit(self.case_id)

    @Slot()
    def record_response(self) -> ResponseDialog | None:
        if self.case_id is None:
            return None
        dialog = ResponseDialog(self.ctx, self.case_id, self.calendar, self)
        dialog.accepted.connect(self._reload)
        self.child_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def resolve(self) -> ResolveDialog | None:
        if self.case_id is None:
            return None
        dialog = ResolveDialog(self.ctx, self.case_id, self)
        dialog.accepted.connect(self._reload)
        self.child_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def reopen(self) -> None:
        if self.case_id is None:
            return
        try:
            with self.ctx.unit_of_work() as (session, actor):
                cases.reopen_case(session, actor, self.case_id, expected_version=self.version)
        except SmbcrmError as exc:
            self._fail(exc)
            return
        self._reload()


RESPONSE_KINDS = (
    ActivityKind.CALL,
    ActivityKind.MESSAGE,
    ActivityKind.EMAIL,
    ActivityKind.VISIT,
    ActivityKind.MEETING,
)


class ResponseDialog(QDialog):
    """A call, message, e-mail or visit made for the case; logged in the customer's history."""

    def __init__(
        self,
        ctx: AppContext,
        case_id: int,
        calendar: WorkingCalendar,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("caseResponseDialog")
        self.setWindowTitle(tr("Response to case #{0}").format(case_id))
        self.ctx = ctx
        self.case_id = case_id
        self.calendar = calendar
        self.kind = QComboBox(self)
        self.kind.setObjectName("responseKind")
        for kind in RESPONSE_KINDS:
            self.kind.addItem(tr(ACTIVITY_LABELS[kind]), kind.value)
        local_now = calendar.to_local(utcnow())
        self.when = QDateTimeEdit(_qdatetime(local_now), self)
        self.when.setObjectName("responseWhen")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setMaximumDateTime(_qdatetime(local_now.replace(hour=23, minute=59)))
        self.note = QPlainTextEdit(self)
        self.note.setObjectName("responseNote")
        self.note.setPlaceholderText(tr("What you told the customer, what happens next"))
        self.error = _error_label(self, "responseError")
        form = QFormLayout()
        form.addRow(tr("How"), self.kind)
        form.addRow(tr("When ({0})").format(calendar.timezone), self.when)
        form.addRow(tr("Note"), self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("responseSave")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    @Slot()
    def save(self) -> None:
        local = self.when.dateTime().toPython()
        assert isinstance(local, datetime)
        try:
            with self.ctx.unit_of_work() as (session, actor):
                cases.record_response(
                    session,
                    actor,
                    self.case_id,
                    self.note.toPlainText(),
                    kind=ActivityKind(self.kind.currentData()),
                    at=self.calendar.to_utc(local),
                )
        except SmbcrmError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


class SatisfactionStars(QWidget):
    """Five stars: click the third for a 3; click it again for no score."""

    changed = Signal(int)  # 0 = no score

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("satisfactionStars")
        self.value = 0
        self.buttons: list[QToolButton] = []
        group = QButtonGroup(self)
        group.setExclusive(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        for score in range(1, 6):
            button = QToolButton(self)
            button.setObjectName(f"star{score}")
            button.setText("☆")
            button.setAutoRaise(True)
            button.setToolTip(f"{score} – {tr(SCORE_WORDS[score])}")
            button.setStyleSheet("font-size: 20px; color: #d4a017; padding: 0 2px;")
            button.clicked.connect(
                lambda _checked=False, s=score: self.set_value(0 if s == self.value else s)
            )
            group.addButton(button)
            row.addWidget(button)
            self.buttons.append(button)
        self.words = QLabel(tr("Not asked"), self)
        self.words.setObjectName("satisfactionWords")
        self.words.setMinimumWidth(110)
        row.addSpacing(8)
        row.addWidget(self.words)
        row.addStretch(1)

    def set_value(self, value: int) -> None:
        self.value = value
        for score, button in enumerate(self.buttons, start=1):
            button.setText("★" if score <= value else "☆")
        self.words.setText(tr(SCORE_WORDS[value]) if value else tr("Not asked"))
        self.changed.emit(value)


class ResolveDialog(QDialog):
    """Resolve a case and, if the customer said, record their satisfaction in the same save."""

    def __init__(self, ctx: AppContext, case_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caseResolveDialog")
        self.setWindowTitle(tr("Resolve case #{0}").format(case_id))
        self.ctx = ctx
        self.case_id = case_id
        with ctx.read_session() as session:
            case = cases.get_case(session, case_id)
            self.version = case.version
            guess = cases.first_contact_guess(session, case, utcnow())
            title = case.title
            customer = case.customer.name
        heading = QLabel(f"<b>{_escape(title)}</b><br>{_escape(customer)}", self)
        heading.setWordWrap(True)
        self.resolution = QPlainTextEdit(self)
        self.resolution.setObjectName("resolutionText")
        self.resolution.setPlaceholderText(
            tr("How it was resolved: replaced, refunded, explained…")
        )
        self.resolution.setMinimumHeight(80)
        self.first_contact = QCheckBox(tr("Resolved on first contact"), self)
        self.first_contact.setObjectName("resolvedFirstContact")
        self.first_contact.setChecked(guess)
        self.first_contact.setToolTip(
            tr("Ticked for you when at most one contact was logged and it was within the hour.")
        )
        self.stars = SatisfactionStars(self)
        self.comment = QLineEdit(self)
        self.comment.setObjectName("satisfactionComment")
        self.comment.setPlaceholderText(tr("The customer's words (optional)"))
        self.comment.setEnabled(False)
        self.stars.changed.connect(lambda value: self.comment.setEnabled(value > 0))
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #d5d9df")
        self.error = _error_label(self, "resolveError")
        form = QFormLayout()
        form.addRow(tr("Resolution"), self.resolution)
        form.addRow("", self.first_contact)
        form.addRow(line)
        form.addRow(tr("Customer satisfaction"), self.stars)
        form.addRow(tr("Comment"), self.comment)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.save_button.setObjectName("resolveSave")
        self.save_button.setText(tr("Resolve"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    @Slot()
    def save(self) -> None:
        score = self.stars.value or None
        try:
            with self.ctx.unit_of_work() as (session, actor):
                cases.resolve_case(
                    session,
                    actor,
                    self.case_id,
                    self.resolution.toPlainText(),
                    first_contact=self.first_contact.isChecked(),
                    score=score,
                    comment=self.comment.text() if score else None,
                    expected_version=self.version,
                )
        except SmbcrmError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


def _qdatetime(moment: datetime) -> QDateTime:
    return QDateTime(
        QDate(moment.year, moment.month, moment.day), QTime(moment.hour, moment.minute)
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
