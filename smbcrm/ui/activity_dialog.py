"""Log a call, visit, e-mail, message, meeting, note or complaint in a few keystrokes.

Ctrl+L, type the subject, Enter: a call is logged. Details, an "opportunity" mark and a
follow-up date (a week ahead by default) are there when needed; Ctrl+Enter saves from
anywhere, including the details box. Saving goes through
:func:`smbcrm.services.activities.log_activity`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
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

from smbcrm.models import ActivityKind
from smbcrm.services import activities, customers
from smbcrm.services.errors import SmbcrmError, ValidationError
from smbcrm.ui.context import AppContext
from smbcrm.ui.customers_model import activity_kind_label

log = logging.getLogger(__name__)

ERROR_STYLE = "QLabel { color: #c62828; }"
FOLLOW_UP_DAYS = 7


def tr(text: str) -> str:
    return QCoreApplication.translate("ActivityDialog", text)


class ActivityDialog(QDialog):
    """Log one contact with a customer; ``logged_activity_id`` after accept."""

    def __init__(self, ctx: AppContext, customer_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activityDialog")
        self._ctx = ctx
        self._customer_id = customer_id
        self.logged_activity_id: int | None = None
        self.logged_kind: ActivityKind | None = None
        self._build()
        self.setWindowTitle(self._title())
        self.subject_edit.setFocus()

    def _title(self) -> str:
        try:
            with self._ctx.read_session() as session:
                name = customers.get_customer(session, self._customer_id).name
        except (SmbcrmError, SQLAlchemyError):
            return tr("Log activity")
        return tr("Log activity — {name}").format(name=name)

    def _build(self) -> None:
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("kindCombo")
        for kind in ActivityKind:
            self.kind_combo.addItem(activity_kind_label(kind), kind)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(ActivityKind.CALL))

        self.when_edit = QDateTimeEdit(QDateTime.currentDateTime())
        self.when_edit.setObjectName("whenEdit")
        self.when_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when_edit.setCalendarPopup(True)
        self.when_edit.setMaximumDateTime(QDateTime.currentDateTime().addSecs(60))
        self.when_edit.setToolTip(tr("When it happened; change it to log yesterday's visit."))
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.kind_combo, 1)
        kind_row.addWidget(QLabel(tr("When:")))
        kind_row.addWidget(self.when_edit, 1)

        self.subject_edit = QLineEdit()
        self.subject_edit.setObjectName("subjectEdit")
        self.subject_edit.setPlaceholderText(
            tr("What it was about, e.g. 询价 200 units, price list sent")
        )
        self.subject_error = self._error_label("subjectError")
        self.details_edit = QPlainTextEdit()
        self.details_edit.setObjectName("detailsEdit")
        self.details_edit.setPlaceholderText(tr("Details (optional)"))
        self.details_edit.setTabChangesFocus(True)
        self.opportunity_check = QCheckBox(tr("Sales &opportunity: they may buy"))
        self.opportunity_check.setObjectName("opportunityCheck")

        self.follow_up_check = QCheckBox(tr("&Follow up on"))
        self.follow_up_check.setObjectName("followUpCheck")
        self.follow_up_date = QDateEdit(QDate.currentDate().addDays(FOLLOW_UP_DAYS))
        self.follow_up_date.setObjectName("followUpDate")
        self.follow_up_date.setDisplayFormat("yyyy-MM-dd")
        self.follow_up_date.setCalendarPopup(True)
        self.follow_up_date.setMinimumDate(QDate.currentDate())
        self.follow_up_date.setEnabled(False)
        self.follow_up_check.toggled.connect(self.follow_up_date.setEnabled)
        self.follow_up_error = self._error_label("followUpError")
        follow_row = QHBoxLayout()
        follow_row.addWidget(self.follow_up_check)
        follow_row.addWidget(self.follow_up_date)
        follow_row.addStretch(1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        kind_label = QLabel(tr("&Kind:"))
        kind_label.setBuddy(self.kind_combo)
        form.addRow(kind_label, kind_row)
        form.addRow(tr("&Subject:"), self._stacked(self.subject_edit, self.subject_error))
        form.addRow(tr("&Details:"), self.details_edit)
        form.addRow("", self.opportunity_check)
        form.addRow("", self._stacked_layout(follow_row, self.follow_up_error))

        self.form_error = self._error_label("activityFormError")
        self.buttons = QDialogButtonBox()
        self.save_button = QPushButton(tr("&Log it"))
        self.save_button.setObjectName("saveButton")
        self.save_button.setDefault(True)
        self.save_button.setToolTip(tr("Save (Enter in the subject, or Ctrl+Enter anywhere)"))
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.save)

        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)
        # Tab order: subject first, then the rest top to bottom.
        QWidget.setTabOrder(self.subject_edit, self.details_edit)
        QWidget.setTabOrder(self.details_edit, self.opportunity_check)
        QWidget.setTabOrder(self.opportunity_check, self.follow_up_check)
        QWidget.setTabOrder(self.follow_up_check, self.follow_up_date)
        QWidget.setTabOrder(self.follow_up_date, self.kind_combo)
        QWidget.setTabOrder(self.kind_combo, self.when_edit)

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

    def activity_input(self) -> activities.ActivityInput:
        when_local = self.when_edit.dateTime().toPython()
        assert isinstance(when_local, datetime)
        occurred_at = when_local.astimezone(UTC).replace(tzinfo=None)
        follow_up = None
        if self.follow_up_check.isChecked():
            follow_up = self.follow_up_date.date().toPython()
        return activities.ActivityInput(
            kind=ActivityKind(self.kind_combo.currentData()),
            subject=self.subject_edit.text(),
            body=self.details_edit.toPlainText(),
            occurred_at=occurred_at,
            is_opportunity=self.opportunity_check.isChecked(),
            follow_up_on=follow_up,  # type: ignore[arg-type]
        )

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.subject_error.setText(errors.get("subject", ""))
        self.subject_error.setVisible("subject" in errors)
        self.follow_up_error.setText(errors.get("follow_up_on", ""))
        self.follow_up_error.setVisible("follow_up_on" in errors)
        others = [m for k, m in errors.items() if k not in ("subject", "follow_up_on")]
        self.form_error.setText("\n".join(others))
        self.form_error.setVisible(bool(others))

    def save(self) -> bool:
        """Log the activity; True when logged (the dialog is then accepted)."""
        data = self.activity_input()
        try:
            with self._ctx.unit_of_work() as (session, user):
                activity = activities.log_activity(session, user, self._customer_id, data)
                activity_id = activity.id
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
        self.logged_activity_id = activity_id
        self.logged_kind = data.kind
        self.accept()
        return True
