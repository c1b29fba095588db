"""The Follow-ups page: open tasks to get back to customers, most urgent first.

"Mine" shows the signed-in person's tasks, "Everyone" the whole company's. Overdue tasks
are red and today's are bold. "Mark done" completes the selected task through
``services.activities``; double-clicking a task emits ``open_customer(customer_id)``.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smbcrm.models import Role
from smbcrm.services import activities
from smbcrm.services.activities import FollowUpRow
from smbcrm.services.errors import SmbcrmError
from smbcrm.ui.context import AppContext
from smbcrm.ui.style import OVERDUE_BACKGROUND, OVERDUE_COLOR, short_date

AnyIndex = QModelIndex | QPersistentModelIndex


class FollowUpsModel(QAbstractTableModel):
    """A plain list of open follow-ups (the service caps it at 1,000)."""

    # Marked for translation; translated when shown.
    COLUMNS = (
        str(QT_TRANSLATE_NOOP("FollowUpsModel", "Due")),
        str(QT_TRANSLATE_NOOP("FollowUpsModel", "When")),
        str(QT_TRANSLATE_NOOP("FollowUpsModel", "Task")),
        str(QT_TRANSLATE_NOOP("FollowUpsModel", "Customer")),
        str(QT_TRANSLATE_NOOP("FollowUpsModel", "Assigned to")),
    )
    DUE, WHEN, TASK, CUSTOMER, ASSIGNEE = range(5)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[FollowUpRow] = []
        self._today = date.today()

    def set_rows(self, rows: list[FollowUpRow], today: date) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._today = today
        self.endResetModel()

    def row_at(self, row: int) -> FollowUpRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def overdue_count(self) -> int:
        return sum(1 for r in self._rows if r.due_date < self._today)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(self.COLUMNS[section])
        return None

    def _when(self, due: date) -> str:
        days = (due - self._today).days
        if days < -1:
            return self.tr("{0} days overdue").format(-days)
        if days == -1:
            return self.tr("1 day overdue")
        if days == 0:
            return self.tr("Today")
        if days == 1:
            return self.tr("Tomorrow")
        return self.tr("In {0} days").format(days)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.DUE:
                return short_date(row.due_date)
            if column == self.WHEN:
                return self._when(row.due_date)
            if column == self.TASK:
                return row.title
            if column == self.CUSTOMER:
                return row.customer
            return row.assignee or self.tr("(nobody)")
        overdue = row.due_date < self._today
        # The whole row is tinted; the date columns say it in red. (All-red text on a
        # long overdue list is hard to read.)
        if role == Qt.ItemDataRole.BackgroundRole and overdue:
            return OVERDUE_BACKGROUND
        if role == Qt.ItemDataRole.ForegroundRole and overdue and column in (self.DUE, self.WHEN):
            return OVERDUE_COLOR
        if role == Qt.ItemDataRole.FontRole and row.due_date == self._today:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tr("Double-click to open {0}").format(row.customer)
        return None


class FollowUpsView(QWidget):
    open_customer = Signal(int)
    status_message = Signal(str)
    # (open, overdue) for the shown scope, so the navigation can show a count.
    counts_changed = Signal(int, int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followUpsView")
        self.ctx = ctx
        self.model = FollowUpsModel(self)

        self.mine_button = QPushButton(self.tr("Mine"), self)
        self.mine_button.setObjectName("mineButton")
        self.everyone_button = QPushButton(self.tr("Everyone"), self)
        self.everyone_button.setObjectName("everyoneButton")
        self.scope = QButtonGroup(self)
        for button in (self.mine_button, self.everyone_button):
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setProperty("segment", True)
            self.scope.addButton(button)
        # Managers look after everyone's customers; sales staff after their own.
        manages = ctx.role in (Role.OWNER, Role.MANAGER)
        (self.everyone_button if manages else self.mine_button).setChecked(True)
        self.scope.buttonToggled.connect(self._on_scope)

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("countLabel")
        self.done_button = QPushButton(self.tr("Mark done"), self)
        self.done_button.setObjectName("markDoneButton")
        self.done_button.setEnabled(False)
        self.done_button.clicked.connect(self.mark_done)

        top = QHBoxLayout()
        top.setSpacing(0)
        top.addWidget(self.mine_button)
        top.addWidget(self.everyone_button)
        top.addSpacing(16)
        top.addWidget(self.summary_label)
        top.addStretch(1)
        top.addWidget(self.done_button)

        self.table = QTableView(self)
        self.table.setObjectName("followUpTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(FollowUpsModel.TASK, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (FollowUpsModel.DUE, 110),
            (FollowUpsModel.WHEN, 130),
            (FollowUpsModel.CUSTOMER, 260),
            (FollowUpsModel.ASSIGNEE, 140),
        ):
            header.resizeSection(column, width)
        self.table.activated.connect(self._on_activated)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def showEvent(self, event: QShowEvent) -> None:
        # Tasks are added from the customer page (Log activity): read them afresh each
        # time the page comes to the front. It is one short query.
        self.refresh()
        super().showEvent(event)

    def mine_only(self) -> bool:
        return self.mine_button.isChecked()

    @Slot()
    def refresh(self) -> None:
        assignee = self.ctx.user_id if self.mine_only() else None
        with self.ctx.read_session() as session:
            rows = activities.open_follow_ups(session, assignee_id=assignee)
        self.model.set_rows(rows, date.today())
        self._on_selection()
        total, overdue = self.model.rowCount(), self.model.overdue_count()
        whose = self.tr("Your") if self.mine_only() else self.tr("Everyone's")
        text = self.tr("{0} open follow-ups: {1}, {2} overdue").format(whose, total, overdue)
        self.summary_label.setText(self.tr("{0} open · {1} overdue").format(total, overdue))
        self.status_message.emit(text)
        self.counts_changed.emit(total, overdue)

    def selected(self) -> FollowUpRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    @Slot()
    def mark_done(self) -> None:
        task = self.selected()
        if task is None:
            return
        try:
            with self.ctx.unit_of_work() as (session, actor):
                activities.complete_follow_up(session, actor, task.id)
        except SmbcrmError as exc:
            QMessageBox.warning(self, self.tr("Could not mark it done"), str(exc))
            return
        row = self.table.currentIndex().row()
        self.refresh()
        # Keep the cursor where it was, so several tasks can be ticked off in a row.
        if self.model.rowCount():
            self.table.selectRow(min(row, self.model.rowCount() - 1))
        self.status_message.emit(self.tr("Done: “{0}” for {1}.").format(task.title, task.customer))

    @Slot(QAbstractButton, bool)
    def _on_scope(self, _button: QAbstractButton, checked: bool) -> None:
        if checked:  # the group reports the old button's "off" too; refresh once
            self.refresh()

    @Slot()
    def _on_selection(self, *_args: QItemSelection) -> None:
        self.done_button.setEnabled(self.selected() is not None)

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.open_customer.emit(row.customer_id)
