"""The Staff page (owners and managers): who works here, their role and how many customers.

Add staff…, Reset password… and Deactivate… (which opens the handover wizard, so nobody
leaves with customers still on them) all go through ``services.auth`` / ``services.ownership``.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.models import Role, User
from smbcrm.services import auth
from smbcrm.services.auth import StaffRow
from smbcrm.services.permissions import ROLE_LABELS
from smbcrm.ui.context import AppContext
from smbcrm.ui.handover_wizard import HandoverWizard
from smbcrm.ui.workers import unexpected_error_text


def tr(text: str) -> str:
    return QCoreApplication.translate("StaffView", text)


class AddStaffDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("addStaffDialog")
        self.setWindowTitle(tr("Add staff member"))
        self.ctx = ctx
        self.login_edit = QLineEdit(self)
        self.name_edit = QLineEdit(self)
        self.role_combo = QComboBox(self)
        for role in Role:
            self.role_combo.addItem(tr(ROLE_LABELS[role]), role)
        self.role_combo.setCurrentIndex(self.role_combo.findData(Role.SALES))
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(tr("Login:"), self.login_edit)
        form.addRow(tr("Full name:"), self.name_edit)
        form.addRow(tr("Role:"), self.role_combo)
        form.addRow(tr("Password:"), self.password_edit)
        form.addRow(self.error_label)
        form.addRow(buttons)

    def save(self) -> None:
        try:
            with self.ctx.unit_of_work() as (session, actor):
                auth.add_staff(
                    session,
                    actor,
                    login=self.login_edit.text(),
                    full_name=self.name_edit.text(),
                    role=self.role_combo.currentData(),
                    password=self.password_edit.text(),
                )
        except (SmbcrmError, SQLAlchemyError) as exc:
            self.error_label.setText(unexpected_error_text(exc))
            return
        self.accept()


class StaffView(QWidget):
    """Emits ``staff_changed`` after an addition or a handover (lists elsewhere may refresh)."""

    staff_changed = Signal()
    status_message = Signal(str)

    COLUMNS = ("Login", "Name", "Role", "Status", "Customers")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staffView")
        self.ctx = ctx
        self.rows: list[StaffRow] = []
        self.wizard: HandoverWizard | None = None
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setObjectName("staffTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.add_button = QPushButton(tr("Add staff…"), self)
        self.add_button.setObjectName("addStaffButton")
        self.deactivate_button = QPushButton(tr("Deactivate…"), self)
        self.deactivate_button.setObjectName("deactivateButton")
        self.deactivate_button.setToolTip(
            tr("Hand their customers, prospects and follow-ups over, then deactivate them")
        )
        self.password_button = QPushButton(tr("Reset password…"), self)
        self.password_button.setObjectName("resetPasswordButton")
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("Staff"), self), 1)
        for button in (self.add_button, self.password_button, self.deactivate_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.add_button.clicked.connect(self.add_staff)
        self.deactivate_button.clicked.connect(lambda: self.deactivate())
        self.password_button.clicked.connect(self.reset_password)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.refresh()

    def refresh(self) -> None:
        try:
            with self.ctx.read_session() as session:
                self.rows = auth.list_staff(session)
        except SQLAlchemyError as exc:
            self.status_message.emit(unexpected_error_text(exc))
            self.rows = []
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            cells = [
                row.login,
                row.full_name,
                tr(ROLE_LABELS[row.role]),
                tr("Active") if row.active else tr("Left"),
                f"{row.customers:,}",
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 4:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if not row.active:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(r, c, item)
        self._update_buttons()

    def selected(self) -> StaffRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        row = self.selected()
        usable = row is not None and row.active and row.id != self.ctx.user_id
        self.deactivate_button.setEnabled(usable)
        self.password_button.setEnabled(row is not None)

    def add_staff(self) -> None:
        dialog = AddStaffDialog(self.ctx, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.refresh()
            self.staff_changed.emit()

    def deactivate(self, user_id: int | None = None) -> HandoverWizard:
        row = self.selected()
        wizard = HandoverWizard(self.ctx, user_id or (row.id if row else None), self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.handed_over.connect(self._after_handover)
        wizard.finished.connect(lambda _code: setattr(self, "wizard", None))
        self.wizard = wizard
        wizard.open()
        return wizard

    def _after_handover(self, _leaver_id: int) -> None:
        self.refresh()
        self.staff_changed.emit()

    def reset_password(self) -> None:
        row = self.selected()
        if row is None:
            return
        password, ok = QInputDialog.getText(
            self,
            tr("Reset password"),
            tr("New password for {name} (at least 8 characters):").format(name=row.full_name),
            QLineEdit.EchoMode.Password,
        )
        if not ok:
            return
        try:
            with self.ctx.unit_of_work() as (session, actor):
                auth.set_password(session, actor, session.get_one(User, row.id), password)
        except (SmbcrmError, SQLAlchemyError) as exc:
            QMessageBox.warning(self, tr("Reset password"), unexpected_error_text(exc))
            return
        self.status_message.emit(tr("{name}'s password was reset.").format(name=row.full_name))

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        super().showEvent(event)
