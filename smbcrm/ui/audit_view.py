"""The audit log window (owners and managers): every change, filterable by who, what kind of
record, date range and text. Reads through ``services.audit_log``; shows at most 500 rows
per query, newest first, and says how many matched."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QCoreApplication, QDate
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError, worded
from smbcrm.services import audit_log
from smbcrm.services.audit_log import ACTION_LABELS, ENTITY_LABELS, AuditQuery, AuditRow
from smbcrm.ui.context import AppContext
from smbcrm.ui.counts import plural
from smbcrm.ui.customers_model import format_datetime
from smbcrm.ui.workers import unexpected_error_text


def tr(text: str) -> str:
    return QCoreApplication.translate("AuditLogDialog", text)


class AuditLogDialog(QDialog):
    COLUMNS = ("When", "Who", "Record", "Customer", "Action", "Changes")

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, customer_id: int | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("auditLogDialog")
        self.setWindowTitle(tr("Audit log"))
        self.resize(1000, 600)
        self.ctx = ctx
        self.customer_id = customer_id
        self.rows: list[AuditRow] = []
        self.names: dict[int, str] = {}
        self.user_filter = QComboBox(self)
        self.user_filter.setObjectName("auditUserFilter")
        self.user_filter.addItem(tr("Everyone"), None)
        self.entity_filter = QComboBox(self)
        self.entity_filter.setObjectName("auditEntityFilter")
        self.entity_filter.addItem(tr("All records"), None)
        for key, label in ENTITY_LABELS.items():
            self.entity_filter.addItem(tr(label), key)
        self.use_dates = QCheckBox(tr("From"), self)
        self.since_edit = QDateEdit(QDate.currentDate().addDays(-30), self)
        self.until_edit = QDateEdit(QDate.currentDate(), self)
        for edit in (self.since_edit, self.until_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")  # as dates read everywhere else
            edit.setEnabled(False)  # until "From" is ticked
            self.use_dates.toggled.connect(edit.setEnabled)
        self.text_edit = QLineEdit(self)
        self.text_edit.setObjectName("auditText")
        self.text_edit.setPlaceholderText(tr("Text in the change or the customer's name"))
        self.text_edit.setClearButtonEnabled(True)
        self.search_button = QPushButton(tr("Search"), self)
        self.search_button.setDefault(True)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("auditCount")
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setObjectName("auditTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        bar = QHBoxLayout()
        bar.addWidget(self.user_filter)
        bar.addWidget(self.entity_filter)
        bar.addWidget(self.use_dates)
        bar.addWidget(self.since_edit)
        bar.addWidget(QLabel(tr("to"), self))
        bar.addWidget(self.until_edit)
        bar.addWidget(self.text_edit, 1)
        bar.addWidget(self.search_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        self.search_button.clicked.connect(self.search)
        self.text_edit.returnPressed.connect(self.search)
        for combo in (self.user_filter, self.entity_filter):
            combo.currentIndexChanged.connect(self.search)
        self.use_dates.toggled.connect(self.search)
        self._load_users()
        self.search()

    def _load_users(self) -> None:
        try:
            with self.ctx.read_session() as session:
                users = audit_log.audit_users(session)
                self.names = audit_log.staff_names(session)
        except SQLAlchemyError as exc:
            self.count_label.setText(unexpected_error_text(exc))
            return
        for user_id, name in users:
            self.user_filter.addItem(name, user_id)

    def query(self) -> AuditQuery:
        since: date | None = None
        until: date | None = None
        if self.use_dates.isChecked():
            since = self.since_edit.date().toPython()  # type: ignore[assignment]
            until = self.until_edit.date().toPython()  # type: ignore[assignment]
        return AuditQuery(
            user_id=self.user_filter.currentData(),
            entity=self.entity_filter.currentData(),
            since=since,
            until=until,
            text=self.text_edit.text(),
            customer_id=self.customer_id,
        )

    def search(self) -> None:
        try:
            with self.ctx.unit_of_work() as (session, actor):
                page = audit_log.audit_log(session, actor, self.query())
        except (SmbcrmError, SQLAlchemyError) as exc:
            self.count_label.setText(unexpected_error_text(exc))
            return
        self.rows = page.rows
        self.table.setRowCount(len(page.rows))
        for r, row in enumerate(page.rows):
            cells = [
                format_datetime(row.at),
                row.user or tr("(system)"),
                f"{tr(row.entity_label)} {row.entity_id}",
                row.customer or "",
                tr(ACTION_LABELS[row.action]),
                _changes_text(row, self.names) or worded(row.summary or ""),
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        shown = len(page.rows)
        self.count_label.setText(
            plural(page.total, tr("{n} change matches."), tr("{n} changes match."))
            if shown == page.total
            else tr("{total} changes match; the newest {shown} are shown.").format(
                total=f"{page.total:,}", shown=shown
            )
        )


def _changes_text(row: AuditRow, names: dict[int, str]) -> str:
    return tr("; ").join(
        tr("{0}: {1} → {2}").format(field, old, new)
        for field, old, new in row.changed_fields(names, tr)
    )
