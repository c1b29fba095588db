"""Quick log: a call, visit, e-mail, message, meeting or note in a few keystrokes.

From the customer list: Ctrl+L, type what it was about, Enter — a call is logged. The rest
is one key away, from anywhere in the dialog:

- Alt+C call, Alt+V visit, Alt+E e-mail, Alt+M message (WeChat, WhatsApp, QQ, SMS…),
  Alt+T meeting, Alt+N note, Alt+P complaint (or the letter alone when the kind row has
  the focus);
- Alt+O marks an opportunity (they asked for a quote, want a product);
- Alt+1, Alt+3, Alt+W plan the follow-up tomorrow, in three days or next Monday (Alt+F
  switches it on or off), for the customer's salesperson unless someone else is chosen;
- Ctrl+Enter saves from anywhere, Enter from the one-line fields.

Saving goes through :func:`smbcrm.services.activities.log_activity`. After a visit, when
the service-cases module offers it, a 1–5 satisfaction score can be recorded with it.
"""

from __future__ import annotations

import importlib
import itertools
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError, ValidationError
from smbcrm.models import ActivityKind
from smbcrm.services import activities, customers, my_day
from smbcrm.ui.context import AppContext
from smbcrm.ui.style import ERROR_STYLE, HINT_STYLE, text_width

log = logging.getLogger(__name__)

# The follow-up date offered when the box is ticked by hand.
FOLLOW_UP_DAYS = 7

# The key of each kind, and its button text with that letter marked.
KIND_KEYS: dict[ActivityKind, tuple[str, str]] = {
    ActivityKind.CALL: ("C", "&Call"),
    ActivityKind.VISIT: ("V", "&Visit"),
    ActivityKind.EMAIL: ("E", "&E-mail"),
    ActivityKind.MESSAGE: ("M", "&Message"),
    ActivityKind.MEETING: ("T", "Mee&ting"),
    ActivityKind.NOTE: ("N", "&Note"),
    ActivityKind.COMPLAINT: ("P", "Com&plaint"),
}

# The channel chosen last, offered again: people mostly use one.
_last_channel: str = activities.MESSAGE_CHANNELS[0]


def tr(text: str) -> str:
    return QCoreApplication.translate("ActivityDialog", text)


def satisfaction_recorder() -> Callable[..., Any] | None:
    """``smbcrm.services.cases.record_satisfaction`` when this build has it."""
    try:
        module = importlib.import_module("smbcrm.services.cases")
    except ImportError:
        return None
    recorder = getattr(module, "record_satisfaction", None)
    return recorder if callable(recorder) else None


class KindPicker(QFrame):
    """The kinds as one row of buttons; with the focus, a kind's letter or ←/→ pick one."""

    kind_changed = Signal(object)  # ActivityKind

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kindPicker")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[ActivityKind, QPushButton] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 2, 2, 2)
        row.setSpacing(0)
        for kind, (key, text) in KIND_KEYS.items():
            button = QPushButton(tr(text), self)
            button.setObjectName(f"kind_{kind.value}")
            # The letter stays underlined, but the dialog's own Alt+letter shortcuts pick
            # the kind (they work on macOS too, where Qt has no mnemonics); the picker is
            # one stop in the tab order, not seven.
            button.setShortcut(QKeySequence())
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setProperty("segment", True)
            button.setToolTip(tr("{0} (Alt+{1})").format(text.replace("&", ""), key))
            self._group.addButton(button)
            self.buttons[kind] = button
            row.addWidget(button)
        row.addStretch(1)
        self._group.buttonToggled.connect(self._on_toggled)
        self.buttons[ActivityKind.CALL].setChecked(True)
        self._update_frame(False)

    def kind(self) -> ActivityKind:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def set_kind(self, kind: ActivityKind) -> None:
        self.buttons[kind].setChecked(True)

    def _on_toggled(self, button: QPushButton, checked: bool) -> None:
        if checked:
            self.kind_changed.emit(next(k for k, b in self.buttons.items() if b is button))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text().upper()
        for kind, (key, _text) in KIND_KEYS.items():
            if text == key:
                self.set_kind(kind)
                # Picked: on to the subject, as Tab would.
                self.focusNextChild()
                return
        kinds = list(self.buttons)
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(Qt.Key(event.key()))
        if step is not None:
            self.set_kind(kinds[(kinds.index(self.kind()) + step) % len(kinds)])
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self._update_frame(True)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._update_frame(False)
        super().focusOutEvent(event)

    def _update_frame(self, focused: bool) -> None:
        colour = "#2563eb" if focused else "transparent"
        self.setStyleSheet(f"#kindPicker {{ border: 1px solid {colour}; border-radius: 7px; }}")


class ActivityDialog(QDialog):
    """Log one contact with a customer; ``logged_activity_id`` after accept."""

    def __init__(self, ctx: AppContext, customer_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activityDialog")
        self._ctx = ctx
        self._customer_id = customer_id
        self.logged_activity_id: int | None = None
        self.logged_kind: ActivityKind | None = None
        self.logged_follow_up: date | None = None
        self._record_satisfaction = satisfaction_recorder()
        name, owner_id = self._customer()
        self._build(owner_id)
        self.setWindowTitle(
            tr("Log activity — {name}").format(name=name) if name else tr("Log activity")
        )
        self._on_kind(self.kind())
        self.subject_edit.setFocus()

    def _customer(self) -> tuple[str | None, int | None]:
        """Name for the title; the salesperson the follow-up goes to by default."""
        try:
            with self._ctx.read_session() as session:
                customer = customers.get_customer(session, self._customer_id)
                owner = customer.owner
                return customer.name, owner.id if owner is not None and owner.active else None
        except (SmbcrmError, SQLAlchemyError):
            return None, None

    # -- building -------------------------------------------------------------------------

    def _build(self, owner_id: int | None) -> None:
        self.kind_picker = KindPicker(self)
        self.kind_picker.kind_changed.connect(self._on_kind)
        self.kind_hint = QLabel(
            tr("Alt + C call · V visit · E e-mail · M message · T meeting · N note · P complaint"),
            self,
        )
        self.kind_hint.setObjectName("kindHint")
        self.kind_hint.setStyleSheet(HINT_STYLE)

        self.when_edit = QDateTimeEdit(QDateTime.currentDateTime(), self)
        self.when_edit.setObjectName("whenEdit")
        self.when_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when_edit.setCalendarPopup(True)
        self.when_edit.setMaximumDateTime(QDateTime.currentDateTime().addSecs(60))
        self.when_edit.setToolTip(tr("When it happened; change it to log yesterday's visit."))
        self.channel_combo = QComboBox(self)
        self.channel_combo.setObjectName("channelCombo")
        self.channel_combo.addItems(list(activities.MESSAGE_CHANNELS))
        self.channel_combo.setEditable(True)  # another app: type its name
        self.channel_combo.setCurrentText(_last_channel)
        self.channel_label = QLabel(tr("Channe&l:"), self)
        self.channel_label.setBuddy(self.channel_combo)
        when_row = QHBoxLayout()
        when_row.addWidget(self.when_edit)
        when_row.addSpacing(12)
        when_row.addWidget(self.channel_label)
        when_row.addWidget(self.channel_combo)
        when_row.addStretch(1)

        self.subject_edit = QLineEdit(self)
        self.subject_edit.setObjectName("subjectEdit")
        self.subject_edit.setPlaceholderText(tr("What it was about, e.g. 询价, price list sent"))
        self.subject_error = self._error_label("subjectError")
        self.wanted_edit = QLineEdit(self)
        self.wanted_edit.setObjectName("wantedEdit")
        self.wanted_edit.setMaxLength(activities.WANTED_MAX)
        self.wanted_edit.setPlaceholderText(
            tr("In their words: a quote for 200 units, samples of the blue model… (optional)")
        )
        self.wanted_error = self._error_label("wantedError")
        self.details_edit = QPlainTextEdit(self)
        self.details_edit.setObjectName("detailsEdit")
        self.details_edit.setPlaceholderText(tr("Details (optional)"))
        self.details_edit.setTabChangesFocus(True)
        self.details_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 14)
        self.opportunity_check = QCheckBox(
            tr("Opportunity: they asked for a quote or want a product  (Alt+O)"), self
        )
        self.opportunity_check.setObjectName("opportunityCheck")

        self.follow_up_check = QCheckBox(tr("Follow up on"), self)
        self.follow_up_check.setObjectName("followUpCheck")
        self.follow_up_check.setToolTip(tr("Plan the next step (Alt+F)"))
        self.follow_up_date = QDateEdit(QDate.currentDate().addDays(FOLLOW_UP_DAYS), self)
        self.follow_up_date.setObjectName("followUpDate")
        self.follow_up_date.setDisplayFormat("ddd yyyy-MM-dd")
        self.follow_up_date.setCalendarPopup(True)
        self.follow_up_date.setMinimumDate(QDate.currentDate())
        self.follow_up_error = self._error_label("followUpError")
        today = date.today()
        self.quick_picks: list[tuple[QPushButton, date]] = []
        follow_row = QHBoxLayout()
        follow_row.setSpacing(0)
        follow_row.addWidget(self.follow_up_check)
        follow_row.addSpacing(6)
        follow_row.addWidget(self.follow_up_date)
        follow_row.addSpacing(8)
        for text, key, due, name in (
            (tr("+1 day"), "Alt+1", my_day.tomorrow(today), "plusOneDay"),
            (tr("+3 days"), "Alt+3", date.fromordinal(today.toordinal() + 3), "plusThreeDays"),
            (tr("Next week"), "Alt+W", my_day.next_week(today), "nextWeek"),
        ):
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.setProperty("segment", True)
            # Clicked or pressed (its Alt key), the focus stays where the typing is.
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip(tr("Follow up on {0} ({1})").format(due.strftime("%a %Y-%m-%d"), key))
            button.clicked.connect(self._planner(due))
            self._shortcut(key, self._planner(due))
            self.quick_picks.append((button, due))
            follow_row.addWidget(button)
        follow_row.addStretch(1)

        self.assignee_combo = QComboBox(self)
        self.assignee_combo.setObjectName("assigneeCombo")
        with self._ctx.read_session() as session:
            staff = my_day.person_choices(session)
        for person in staff:
            self.assignee_combo.addItem(person.full_name, person.id)
        chosen = owner_id if owner_id is not None else self._ctx.user_id
        self.assignee_combo.setCurrentIndex(max(self.assignee_combo.findData(chosen), 0))
        self.assignee_combo.setToolTip(tr("Who does the follow-up: the customer's salesperson"))
        self.assignee_label = QLabel(tr("Assi&gned to:"), self)
        self.assignee_label.setBuddy(self.assignee_combo)
        assignee_row = QHBoxLayout()
        assignee_row.addWidget(self.assignee_label)
        assignee_row.addWidget(self.assignee_combo)
        assignee_row.addStretch(1)
        self.follow_up_check.toggled.connect(self._on_follow_up_toggled)
        self._on_follow_up_toggled(False)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(tr("Kind:"), self.kind_picker)
        form.addRow("", self.kind_hint)
        when_label = QLabel(tr("W&hen:"), self)
        when_label.setBuddy(self.when_edit)
        form.addRow(when_label, when_row)
        form.addRow(
            self._buddy(tr("&Subject:"), self.subject_edit),
            self._stacked(self.subject_edit, self.subject_error),
        )
        form.addRow(
            self._buddy(tr("What they w&anted:"), self.wanted_edit),
            self._stacked(self.wanted_edit, self.wanted_error),
        )
        form.addRow(self._buddy(tr("&Details:"), self.details_edit), self.details_edit)
        form.addRow("", self.opportunity_check)
        form.addRow("", self._stacked_layout(follow_row, self.follow_up_error))
        form.addRow("", assignee_row)
        self.form = form
        self._build_satisfaction(form)

        self.form_error = self._error_label("activityFormError")
        self.buttons = QDialogButtonBox(self)
        self.save_button = QPushButton(tr("Log it"), self)
        self.save_button.setObjectName("saveButton")
        self.save_button.setDefault(True)
        self.save_button.setToolTip(tr("Save (Enter in a one-line field, or Ctrl+Enter anywhere)"))
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        # Some desktops write it "&Cancel": that Alt+C would clash with Alt+C for a call.
        cancel.setText(tr("Cancel"))
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            self._shortcut(keys, self.save)
        for kind, (key, _text) in KIND_KEYS.items():
            self._shortcut(f"Alt+{key}", self._kind_setter(kind))
        self._shortcut("Alt+O", self.opportunity_check.toggle)
        self._shortcut("Alt+F", self.follow_up_check.toggle)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)
        # As wide as the kind buttons need, and room for a sentence in the subject.
        wide = text_width(self, 100)
        self.setMinimumWidth(max(layout.sizeHint().width(), wide))
        # Tab order: what is typed first, then the choices, the kind row last.
        order: list[QWidget] = [
            self.subject_edit,
            self.wanted_edit,
            self.details_edit,
            self.opportunity_check,
            self.follow_up_check,
            self.follow_up_date,
            self.assignee_combo,
        ]
        if self.satisfaction_combo is not None and self.satisfaction_comment is not None:
            order += [self.satisfaction_combo, self.satisfaction_comment]
        order += [self.kind_picker, self.when_edit, self.channel_combo]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    def _build_satisfaction(self, form: QFormLayout) -> None:
        """After a visit: how satisfied the customer was (only if cases are in this build)."""
        self.satisfaction_combo: QComboBox | None = None
        self.satisfaction_comment: QLineEdit | None = None
        self._satisfaction_row: QWidget | None = None
        if self._record_satisfaction is None:
            return
        combo = QComboBox(self)
        combo.setObjectName("satisfactionCombo")
        combo.addItem(tr("Not asked"), None)
        for score, words in (
            (5, tr("5 – very satisfied")),
            (4, tr("4 – satisfied")),
            (3, tr("3 – neutral")),
            (2, tr("2 – unsatisfied")),
            (1, tr("1 – very unsatisfied")),
        ):
            combo.addItem(words, score)
        comment = QLineEdit(self)
        comment.setObjectName("satisfactionComment")
        comment.setPlaceholderText(tr("What they said (optional)"))
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(combo)
        row.addWidget(comment, 1)
        label = QLabel(tr("&Rating:"), self)
        label.setBuddy(combo)
        label.setToolTip(tr("How satisfied was the customer? 1 to 5"))
        form.addRow(label, box)
        self.satisfaction_combo, self.satisfaction_comment = combo, comment
        self._satisfaction_row = box

    def _planner(self, due: date) -> Callable[[], None]:
        def plan() -> None:
            self.plan_follow_up(due)

        return plan

    def _kind_setter(self, kind: ActivityKind) -> Callable[[], None]:
        def pick() -> None:
            self.set_kind(kind)

        return pick

    def _shortcut(self, keys: str, slot: Callable[[], object]) -> QShortcut:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
        return shortcut

    def _buddy(self, text: str, widget: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(widget)
        return label

    @staticmethod
    def _error_label(object_name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(object_name)
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.hide()
        return label

    @staticmethod
    def _stacked(widget: QWidget, error: QLabel) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        layout.addWidget(error)
        return box

    @staticmethod
    def _stacked_layout(row: QHBoxLayout, error: QLabel) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(error)
        return box

    # -- state ----------------------------------------------------------------------------

    def kind(self) -> ActivityKind:
        return self.kind_picker.kind()

    def set_kind(self, kind: ActivityKind) -> None:
        self.kind_picker.set_kind(kind)

    def _on_kind(self, kind: ActivityKind) -> None:
        is_message = kind == ActivityKind.MESSAGE
        self.channel_label.setVisible(is_message)
        self.channel_combo.setVisible(is_message)
        if self._satisfaction_row is not None:
            self.form.setRowVisible(self._satisfaction_row, kind == ActivityKind.VISIT)

    def _on_follow_up_toggled(self, on: bool) -> None:
        self.follow_up_date.setEnabled(on)
        self.assignee_combo.setEnabled(on)
        self.assignee_label.setEnabled(on)

    def plan_follow_up(self, due: date) -> None:
        """A quick pick: follow up on ``due`` (the box is ticked, the focus stays)."""
        self.follow_up_date.setDate(QDate(due.year, due.month, due.day))
        self.follow_up_check.setChecked(True)

    def activity_input(self) -> activities.ActivityInput:
        when_local = self.when_edit.dateTime().toPython()
        assert isinstance(when_local, datetime)
        occurred_at = when_local.astimezone(UTC).replace(tzinfo=None)
        kind = self.kind()
        follow_up: date | None = None
        title = None
        assignee = None
        if self.follow_up_check.isChecked():
            picked = self.follow_up_date.date().toPython()
            assert isinstance(picked, date)
            follow_up = picked
            about = self.wanted_edit.text().strip() or self.subject_edit.text().strip()
            title = tr("Follow up: {0}").format(about)[:300] if about else None
            assignee = self.assignee_combo.currentData()
        return activities.ActivityInput(
            kind=kind,
            subject=self.subject_edit.text(),
            body=self.details_edit.toPlainText(),
            occurred_at=occurred_at,
            is_opportunity=self.opportunity_check.isChecked(),
            wanted=self.wanted_edit.text(),
            channel=self.channel_combo.currentText() if kind == ActivityKind.MESSAGE else None,
            follow_up_on=follow_up,
            follow_up_title=title,
            follow_up_assignee_id=assignee,
        )

    def _satisfaction(self) -> tuple[int, str | None] | None:
        if self.satisfaction_combo is None or self.kind() != ActivityKind.VISIT:
            return None
        score = self.satisfaction_combo.currentData()
        if score is None:
            return None
        comment = self.satisfaction_comment.text().strip() if self.satisfaction_comment else ""
        return int(score), comment or None

    def _show_errors(self, errors: dict[str, str]) -> None:
        shown = {"subject": self.subject_error, "wanted": self.wanted_error}
        shown["follow_up_on"] = self.follow_up_error
        for key, label in shown.items():
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)
        others = [m for k, m in errors.items() if k not in shown]
        self.form_error.setText("\n".join(others))
        self.form_error.setVisible(bool(others))

    def save(self) -> bool:
        """Log the activity; True when logged (the dialog is then accepted)."""
        global _last_channel
        data = self.activity_input()
        rating = self._satisfaction()
        try:
            with self._ctx.unit_of_work() as (session, user):
                activity = activities.log_activity(session, user, self._customer_id, data)
                activity_id = activity.id
                if rating is not None and self._record_satisfaction is not None:
                    self._record_satisfaction(
                        session,
                        user,
                        self._customer_id,
                        rating[0],
                        rating[1],
                        activity_id=activity_id,
                    )
        except ValidationError as exc:
            self._show_errors(exc.field_errors)
            if "subject" in exc.field_errors:
                self.subject_edit.setFocus()
            return False
        except SmbcrmError as exc:
            QMessageBox.warning(self, tr("The activity was not logged"), str(exc))
            return False
        except SQLAlchemyError:
            log.exception("Logging an activity failed")
            QMessageBox.warning(
                self,
                tr("The activity was not logged"),
                tr(
                    "The database did not accept it, so nothing was saved. Try again; if it "
                    "keeps failing, check the connection to the database."
                ),
            )
            return False
        if data.channel:
            _last_channel = data.channel
        self.logged_activity_id = activity_id
        self.logged_kind = data.kind
        self.logged_follow_up = data.follow_up_on
        self.accept()
        return True
