"""Reassign a selection of customers to one person (or the unassigned pool) with one reason.

With a single customer selected, its account team (supporting colleagues) can be set too.
Only staff who may be responsible for customers (``ownership.may_own_customers``: not a
bookkeeper) are offered as the new owner.
The work is done by ``services.ownership``; errors show as one line in the dialog.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.models import Customer
from smbcrm.services import auth, ownership
from smbcrm.ui.context import AppContext
from smbcrm.ui.style import ERROR_STYLE
from smbcrm.ui.workers import unexpected_error_text


def tr(text: str) -> str:
    return QCoreApplication.translate("ReassignDialog", text)


class ReassignDialog(QDialog):
    """Emits ``reassigned(moved count)`` after a successful save."""

    reassigned = Signal(int)

    def __init__(
        self, ctx: AppContext, customer_ids: Sequence[int], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reassignDialog")
        self.ctx = ctx
        self.customer_ids = list(dict.fromkeys(customer_ids))
        count = len(self.customer_ids)
        self.setWindowTitle(tr("Reassign customers"))
        self.setMinimumWidth(460)
        self.intro = QLabel(
            tr("Give the {n} selected customers to:").format(n=count)
            if count != 1
            else tr("Give the selected customer to:"),
            self,
        )
        self.owner_combo = QComboBox(self)
        self.owner_combo.setObjectName("newOwnerCombo")
        self.owner_combo.addItem(tr("Nobody (unassigned pool)"), None)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setObjectName("reassignReason")
        self.reason_edit.setPlaceholderText(tr("Why (kept in each customer's history)"))
        self.team_list = QListWidget(self)
        self.team_list.setObjectName("teamList")
        self.error_label = QLabel(self)
        self.error_label.setObjectName("reassignError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Reassign"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(tr("Salesperson:"), self.owner_combo)
        form.addRow(tr("Reason:"), self.reason_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        self.team_label = QLabel(tr("Account team (supporting colleagues):"), self)
        layout.addWidget(self.team_label)
        layout.addWidget(self.team_list, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self._load()

    def _load(self) -> None:
        team: set[int] = set()
        current: int | None = None
        try:
            with self.ctx.read_session() as session:
                staff = auth.active_staff(session)
                if len(self.customer_ids) == 1:
                    customer = session.get(Customer, self.customer_ids[0])
                    if customer is not None:
                        team = {u.id for u in customer.team}
                        current = customer.owner_id
        except SQLAlchemyError as exc:
            self.error_label.setText(unexpected_error_text(exc))
            staff = []
        for user in staff:
            if ownership.may_own_customers(user):
                self.owner_combo.addItem(user.full_name, user.id)
            # Anyone active may support an account, a bookkeeper included.
            item = QListWidgetItem(user.full_name, self.team_list)
            item.setData(Qt.ItemDataRole.UserRole, user.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if user.id in team else Qt.CheckState.Unchecked
            )
        if current is not None:
            self.owner_combo.setCurrentIndex(max(self.owner_combo.findData(current), 0))
        single = len(self.customer_ids) == 1
        self.team_label.setVisible(single)
        self.team_list.setVisible(single)

    def team_ids(self) -> list[int]:
        return [
            int(self.team_list.item(r).data(Qt.ItemDataRole.UserRole))
            for r in range(self.team_list.count())
            if self.team_list.item(r).checkState() == Qt.CheckState.Checked
        ]

    def save(self) -> None:
        owner = self.owner_combo.currentData()
        try:
            with self.ctx.unit_of_work() as (session, actor):
                result = ownership.bulk_reassign(
                    session,
                    actor,
                    self.customer_ids,
                    int(owner) if owner is not None else None,
                    reason=self.reason_edit.text(),
                )
                if len(self.customer_ids) == 1:
                    ownership.set_account_team(
                        session, actor, self.customer_ids[0], self.team_ids()
                    )
        except (SmbcrmError, SQLAlchemyError) as exc:
            self.error_label.setText(unexpected_error_text(exc))
            return
        self.reassigned.emit(result.moved)
        self.accept()
