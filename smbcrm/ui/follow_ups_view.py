"""My day: the follow-ups due — overdue, today, the next 7 days — and the open opportunities.

The Tasks tab groups the signed-in person's open follow-ups (owners and managers can look
at someone else's, everyone's or the unassigned pool's). Each task is finished or put off
in one click, from the links in its row or from the buttons above (keys: D done,
T tomorrow, W next week, R another day); "Undo" takes a "done" back. Double-click or Enter
opens the customer.

The Opportunities tab lists logged contacts marked "opportunity" that nobody has followed
up yet (see :mod:`smbcrm.services.my_day` for when one counts as open), with "Follow up…"
to plan a task from one and "Done" when it has been dealt with.

Owners and managers set the after-sales follow-ups from here (After-sales calls…).
Everything goes through ``services.my_day`` and ``services.after_sales``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractItemModel,
    QCoreApplication,
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCalendarWidget,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError, ValidationError
from smbcrm.services import after_sales, my_day
from smbcrm.services.after_sales import AfterSaleScope, AfterSalesSettings
from smbcrm.services.my_day import DueCounts, Opportunity, OpportunityStatus, Person, Task
from smbcrm.services.permissions import Permission
from smbcrm.ui.context import AppContext
from smbcrm.ui.customers_model import format_datetime
from smbcrm.ui.list_model import AnyIndex, ListTableModel
from smbcrm.ui.style import MUTED_COLOR, OVERDUE_BACKGROUND, OVERDUE_COLOR, text_width

log = logging.getLogger(__name__)


DONE, TOMORROW, NEXT_WEEK, PICK_DATE = "done", "tomorrow", "next week", "pick date"
LINK_COLOR = QColor("#1d4ed8")
DONE_COLOR = QColor("#15803d")


def tr(text: str) -> str:
    return QCoreApplication.translate("MyDay", text)


def due_text(due: date, today: date) -> str:
    """ "3 days overdue", "Today", "Tomorrow", "In 4 days"."""
    days = (due - today).days
    if days < -1:
        return tr("{0} days overdue").format(-days)
    if days == -1:
        return tr("1 day overdue")
    if days == 0:
        return tr("Today")
    if days == 1:
        return tr("Tomorrow")
    return tr("In {0} days").format(days)


def day_label(day: date) -> str:
    """ "Fri 2026-11-20": the weekday matters when planning calls."""
    return f"{tr(day.strftime('%a'))} {day.isoformat()}"


# ---------------------------------------------------------------------------------------
# The tasks, grouped


@dataclass
class _Group:
    key: str
    title: str
    tasks: list[Task]
    total: int


class MyDayModel(QAbstractItemModel):
    """Three groups (overdue, today, upcoming), their tasks below them."""

    COLUMNS = (
        str(QT_TRANSLATE_NOOP("MyDay", "Customer")),
        str(QT_TRANSLATE_NOOP("MyDay", "Task")),
        str(QT_TRANSLATE_NOOP("MyDay", "Due")),
        str(QT_TRANSLATE_NOOP("MyDay", "When")),
        str(QT_TRANSLATE_NOOP("MyDay", "Assigned to")),
        str(QT_TRANSLATE_NOOP("MyDay", "Do it")),
    )
    CUSTOMER, TASK, DUE, WHEN, ASSIGNEE, ACTIONS = range(6)
    OVERDUE, TODAY, UPCOMING = range(3)
    # internalId of a group row; a task's is its group's row + 1.
    _GROUP_ID = 0

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.today = date.today()
        self.groups: list[_Group] = []
        # Groups the person folded away (the view keeps them folded across refreshes).
        self.collapsed: set[int] = set()
        self.set_day(my_day.MyDay(self.today, [], [], [], 0))

    def set_day(self, day: my_day.MyDay) -> None:
        self.beginResetModel()
        self.today = day.today
        self.groups = [
            _Group("overdue", tr("Overdue"), day.overdue, day.overdue_total),
            _Group("today", tr("Today"), day.due_today, len(day.due_today)),
            _Group(
                "upcoming",
                tr("Next {0} days").format(my_day.UPCOMING_DAYS),
                day.upcoming,
                len(day.upcoming),
            ),
        ]
        self.endResetModel()

    # -- lookups ------------------------------------------------------------------------
    def task_at(self, index: AnyIndex) -> Task | None:
        if not index.isValid() or index.internalId() == self._GROUP_ID:
            return None
        tasks = self.groups[index.internalId() - 1].tasks
        return tasks[index.row()] if 0 <= index.row() < len(tasks) else None

    def group_index(self, group: int) -> QModelIndex:
        return self.index(group, 0)

    def task_index(self, task_id: int, column: int = 0) -> QModelIndex:
        for g, group in enumerate(self.groups):
            for row, task in enumerate(group.tasks):
                if task.id == task_id:
                    return self.createIndex(row, column, g + 1)
        return QModelIndex()

    def tasks(self, group: int) -> list[Task]:
        return self.groups[group].tasks

    def all_tasks(self) -> list[Task]:
        return [task for group in self.groups for task in group.tasks]

    # -- the model ----------------------------------------------------------------------
    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, self._GROUP_ID)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == self._GROUP_ID:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, self._GROUP_ID)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self.groups)
        if parent.internalId() == self._GROUP_ID and parent.column() == 0:
            return len(self.groups[parent.row()].tasks)
        return 0

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.internalId() == self._GROUP_ID:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.COLUMNS[section])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if index.internalId() == self._GROUP_ID:
            return self._group_data(index.row(), index.column(), role)
        task = self.task_at(index)
        return None if task is None else self._task_data(task, index.column(), role)

    def _group_data(self, row: int, column: int, role: int) -> object:
        group = self.groups[row]
        if column != 0:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if not group.total:
                return tr("{0} — nothing").format(group.title)
            arrow = "▸" if row in self.collapsed else "▾"
            if group.total > len(group.tasks):
                return tr("{0} {1} — {2} (the oldest {3} are listed)").format(
                    arrow, group.title, group.total, len(group.tasks)
                )
            return f"{arrow} {group.title} — {group.total}"
        if role == Qt.ItemDataRole.ToolTipRole and group.tasks:
            return tr("Click to show or hide these tasks")
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            if not group.total:
                return MUTED_COLOR
            if row == self.OVERDUE:
                return OVERDUE_COLOR
        return None

    def _task_data(self, task: Task, column: int, role: int) -> object:
        overdue = task.due_date < self.today
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.CUSTOMER:
                return task.customer
            if column == self.TASK:
                return task.title
            if column == self.DUE:
                return day_label(task.due_date)
            if column == self.WHEN:
                return due_text(task.due_date, self.today)
            if column == self.ASSIGNEE:
                return task.assignee or tr("(nobody)")
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.CUSTOMER:
                where = f" ({task.city})" if task.city else ""
                return tr("{0}{1} — double-click to open").format(task.customer, where)
            if column == self.TASK and task.notes:
                return f"{task.title}\n\n{task.notes}"
            return None
        # The row is tinted, the date words say it in red (all-red rows are hard to read).
        if role == Qt.ItemDataRole.BackgroundRole and overdue:
            return OVERDUE_BACKGROUND
        if role == Qt.ItemDataRole.ForegroundRole:
            if overdue and column in (self.DUE, self.WHEN):
                return OVERDUE_COLOR
            if column == self.ASSIGNEE and task.assignee is None:
                return MUTED_COLOR
        if role == Qt.ItemDataRole.FontRole and task.due_date == self.today and column == self.WHEN:
            font = QFont()
            font.setBold(True)
            return font
        return None


class RowActionsDelegate(QStyledItemDelegate):
    """Paints "Done · Tomorrow · Next week · Date…" as links in a task row; one click acts."""

    triggered = Signal(QModelIndex, str)

    LINKS = (
        (DONE, str(QT_TRANSLATE_NOOP("MyDay", "✓ Done"))),
        (TOMORROW, str(QT_TRANSLATE_NOOP("MyDay", "Tomorrow"))),
        (NEXT_WEEK, str(QT_TRANSLATE_NOOP("MyDay", "Next week"))),
        (PICK_DATE, str(QT_TRANSLATE_NOOP("MyDay", "Date…"))),
    )
    GAP = 14
    PADDING = 6

    def __init__(self, model: MyDayModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.hovered: tuple[QPersistentModelIndex, str] | None = None

    @staticmethod
    def link_font(base: QFont, action: str, hovered: bool = False) -> QFont:
        font = QFont(base)
        font.setBold(action == DONE)
        font.setUnderline(hovered)
        return font

    @classmethod
    def width_for(cls, base: QFont) -> int:
        """The room the links need in a row with this font."""
        widths = [
            QFontMetrics(cls.link_font(base, action)).horizontalAdvance(tr(text))
            for action, text in cls.LINKS
        ]
        return sum(widths) + cls.GAP * (len(widths) - 1) + 2 * cls.PADDING

    def link_rects(self, option: QStyleOptionViewItem) -> list[tuple[str, QRect]]:
        rect: QRect = option.rect
        x = rect.left() + self.PADDING
        rects = []
        for action, text in self.LINKS:
            metrics = QFontMetrics(self.link_font(option.font, action))
            width = metrics.horizontalAdvance(tr(text))
            rects.append((action, QRect(x, rect.top(), width, rect.height())))
            x += width + self.GAP
        return rects

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        hint = super().sizeHint(option, index)
        rects = self.link_rects(option)
        width = rects[-1][1].right() - option.rect.left() + 8 if rects else 0
        return QSize(max(hint.width(), width), hint.height())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().paint(painter, option, index)
        if self._model.task_at(index) is None:
            return
        painter.save()
        for action, rect in self.link_rects(option):
            text = tr(dict(self.LINKS)[action])
            hovered = self.hovered is not None and self.hovered == (
                QPersistentModelIndex(index),
                action,
            )
            painter.setFont(self.link_font(option.font, action, hovered))
            painter.setPen(DONE_COLOR if action == DONE else LINK_COLOR)
            painter.drawText(
                rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text
            )
        painter.restore()

    def action_at(self, option: QStyleOptionViewItem, pos: QPoint) -> str | None:
        for action, rect in self.link_rects(option):
            if rect.adjusted(-4, 0, 4, 0).contains(pos):
                return action
        return None

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: AnyIndex,
    ) -> bool:
        if self._model.task_at(index) is None:
            return False
        if event.type() == QEvent.Type.MouseMove:
            assert isinstance(event, QMouseEvent)
            action = self.action_at(option, event.position().toPoint())
            self.hovered = (QPersistentModelIndex(index), action) if action else None
            return False
        if event.type() == QEvent.Type.MouseButtonRelease:
            assert isinstance(event, QMouseEvent)
            if event.button() != Qt.MouseButton.LeftButton:
                return False
            action = self.action_at(option, event.position().toPoint())
            if action is not None:
                self.triggered.emit(
                    self._model.index(index.row(), index.column(), index.parent()), action
                )
                return True
        return False


# ---------------------------------------------------------------------------------------
# Dialogs: a new follow-up, the after-sales setting


class FollowUpDialog(QDialog):
    """Plan a task for a customer (from an opportunity: linked to that contact).

    My day, the opportunities list and the at-risk list all plan follow-ups with it.
    """

    def __init__(
        self,
        ctx: AppContext,
        customer_id: int,
        customer: str,
        *,
        title: str = "",
        activity_id: int | None = None,
        assignee_id: int | None = None,
        notes: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("followUpDialog")
        self.setWindowTitle(tr("Follow up with {0}").format(customer))
        self.ctx = ctx
        self.customer_id = customer_id
        self.activity_id = activity_id
        self.task_id: int | None = None
        self.title_edit = QLineEdit(title[: my_day.TITLE_MAX], self)
        self.title_edit.setObjectName("followUpTitle")
        self.title_edit.setMaxLength(my_day.TITLE_MAX)
        self.title_edit.setCursorPosition(0)  # a long title shows its start
        today = date.today()
        self.due_edit = QDateEdit(_qdate(my_day.tomorrow(today)), self)
        self.due_edit.setObjectName("followUpDue")
        self.due_edit.setDisplayFormat("ddd yyyy-MM-dd")
        self.due_edit.setCalendarPopup(True)
        self.due_edit.setMinimumDate(QDate.currentDate())
        picks = QHBoxLayout()
        picks.setSpacing(0)
        picks.addWidget(self.due_edit)
        picks.addSpacing(8)
        for text, due in (
            (tr("Today"), today),
            (tr("+1 day"), my_day.tomorrow(today)),
            (tr("+3 days"), date.fromordinal(today.toordinal() + 3)),
            (tr("Next week"), my_day.next_week(today)),
        ):
            button = QPushButton(text, self)
            button.setProperty("segment", True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(_bind(self.due_edit.setDate, _qdate(due)))
            picks.addWidget(button)
        picks.addStretch(1)
        self.assignee = QComboBox(self)
        self.assignee.setObjectName("followUpAssignee")
        self.assignee.addItem(tr("The customer's salesperson"), None)
        with ctx.read_session() as session:
            for person in my_day.person_choices(session):
                self.assignee.addItem(person.full_name, person.id)
        if assignee_id is not None:
            self.assignee.setCurrentIndex(max(self.assignee.findData(assignee_id), 0))
        self.notes_edit = QLineEdit(notes, self)
        self.notes_edit.setCursorPosition(0)
        self.notes_edit.setObjectName("followUpNotes")
        self.notes_edit.setPlaceholderText(tr("Anything to remember (optional)"))
        self.error = QLabel(self)
        self.error.setObjectName("followUpError")
        self.error.setWordWrap(True)
        self.error.setProperty("fieldError", True)
        self.error.hide()
        form = QFormLayout()
        form.addRow(tr("Task:"), self.title_edit)
        form.addRow(tr("Due:"), picks)
        form.addRow(tr("For:"), self.assignee)
        form.addRow(tr("Notes:"), self.notes_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("followUpSave")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(text_width(self, 90))

    @Slot()
    def save(self) -> None:
        due = self.due_edit.date().toPython()
        assert isinstance(due, date)
        try:
            with self.ctx.unit_of_work() as (session, actor):
                task = my_day.schedule(
                    session,
                    actor,
                    self.customer_id,
                    title=self.title_edit.text(),
                    due=due,
                    assignee_id=self.assignee.currentData(),
                    notes=self.notes_edit.text(),
                    activity_id=self.activity_id,
                )
                self.task_id = task.id
        except SmbcrmError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


class AfterSalesDialog(QDialog):
    """The company's after-sales follow-up setting (owners and managers)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("afterSalesDialog")
        self.setWindowTitle(tr("After-sales calls"))
        self.ctx = ctx
        with ctx.read_session() as session:
            current = AfterSalesSettings.load(session)
        intro = QLabel(
            tr(
                "Plan a follow-up call a few days after an order comes in, for the customer's "
                "salesperson (or the unassigned pool), so nobody has to remember it. It "
                "applies to orders imported from now on; one call per order, however often "
                "the orders are imported."
            ),
            self,
        )
        intro.setWordWrap(True)
        intro.setObjectName("hintLabel")
        self.enabled_check = QCheckBox(tr("Plan an after-sales call"), self)
        self.enabled_check.setObjectName("afterSalesEnabled")
        self.days_spin = QSpinBox(self)
        self.days_spin.setObjectName("afterSalesDays")
        self.days_spin.setRange(1, after_sales.MAX_DAYS)
        self.days_spin.setSuffix(tr(" days after the order"))
        self.days_spin.setValue(current.days or 7)
        self.every_radio = QRadioButton(tr("after every order"), self)
        self.every_radio.setObjectName("afterSalesEvery")
        self.first_radio = QRadioButton(tr("after the first order of a new customer only"), self)
        self.first_radio.setObjectName("afterSalesFirst")
        (
            self.first_radio if current.scope == AfterSaleScope.FIRST_ORDER else self.every_radio
        ).setChecked(True)
        self.enabled_check.toggled.connect(self._on_enabled)
        self.enabled_check.setChecked(current.enabled)
        self._on_enabled(current.enabled)
        self.error = QLabel(self)
        self.error.setProperty("fieldError", True)
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addWidget(self.enabled_check)
        indented = QVBoxLayout()
        indented.setContentsMargins(24, 0, 0, 0)
        indented.addWidget(self.days_spin, 0, Qt.AlignmentFlag.AlignLeft)
        indented.addWidget(self.every_radio)
        indented.addWidget(self.first_radio)
        layout.addLayout(indented)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(text_width(self, 80))

    def _on_enabled(self, on: bool) -> None:
        for widget in (self.days_spin, self.every_radio, self.first_radio):
            widget.setEnabled(on)

    def settings(self) -> AfterSalesSettings:
        scope = (
            AfterSaleScope.FIRST_ORDER
            if self.first_radio.isChecked()
            else AfterSaleScope.EVERY_ORDER
        )
        return AfterSalesSettings(
            self.days_spin.value() if self.enabled_check.isChecked() else 0, scope
        )

    @Slot()
    def save(self) -> None:
        try:
            with self.ctx.unit_of_work() as (session, actor):
                after_sales.save_after_sales_settings(session, actor, self.settings())
        except SmbcrmError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _bind(function: Callable[[Any], object], value: Any) -> Callable[[], None]:
    def call() -> None:
        function(value)

    return call


# ---------------------------------------------------------------------------------------
# Opportunities


class OpportunitiesModel(ListTableModel[Opportunity]):
    COLUMNS = (
        str(QT_TRANSLATE_NOOP("MyDay", "When")),
        str(QT_TRANSLATE_NOOP("MyDay", "Customer")),
        str(QT_TRANSLATE_NOOP("MyDay", "What they wanted")),
        str(QT_TRANSLATE_NOOP("MyDay", "Logged by")),
        str(QT_TRANSLATE_NOOP("MyDay", "Next step")),
    )
    WHEN, CUSTOMER, WANTED, BY, NEXT = range(5)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.today = date.today()

    def headers(self) -> list[str]:
        return [tr(title) for title in self.COLUMNS]

    def set_rows(self, rows: list[Opportunity], today: date) -> None:
        self.today = today
        self.replace_rows(rows)

    def _next_step(self, row: Opportunity) -> str:
        if row.status == OpportunityStatus.WON:
            return tr("Ordered on {0}").format(row.last_order.isoformat() if row.last_order else "")
        if row.status == OpportunityStatus.CLOSED:
            return tr("Followed up")
        if row.next_follow_up is not None:
            return tr("Follow-up {0}").format(due_text(row.next_follow_up, self.today).lower())
        return tr("Nothing planned")

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.WHEN:
                return format_datetime(row.occurred_at)
            if column == self.CUSTOMER:
                return row.customer
            if column == self.WANTED:
                return row.wanted
            if column == self.BY:
                return row.logged_by or ""
            return self._next_step(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.WANTED and row.subject != row.wanted:
                return tr("{0}\n\nLogged as: {1}").format(row.wanted, row.subject)
            if column == self.CUSTOMER:
                owner = row.owner or tr("nobody (unassigned)")
                return tr("Salesperson: {0}. Double-click to open.").format(owner)
        if role == Qt.ItemDataRole.ForegroundRole:
            if not row.is_open:
                return MUTED_COLOR
            # A follow-up that is late needs a look; "nothing planned" is the list's point.
            if column == self.NEXT and row.next_follow_up and row.next_follow_up < self.today:
                return OVERDUE_COLOR
        return None


# ---------------------------------------------------------------------------------------
# The page


class FollowUpsView(QWidget):
    """The "My day" page."""

    open_customer = Signal(int)
    status_message = Signal(str)
    # (open in the next days, overdue) of the signed-in person, for the navigation.
    counts_changed = Signal(int, int)
    # The signed-in person's DueCounts, after every refresh.
    day_counts_changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followUpsView")
        self.ctx = ctx
        # The desktop's date; replaced in tests to cross midnight.
        self.clock: Callable[[], date] = date.today
        self.day_counts = DueCounts(0, 0, 0)
        self.model = MyDayModel(self)
        self.opportunities_model = OpportunitiesModel(self)
        self._last_done: Task | None = None
        self._manages = my_day.may_look_at_others(ctx.role)

        self.title_label = QLabel(tr("My day"), self)
        self.title_label.setObjectName("dialogTitle")
        self.date_label = QLabel(self)
        self.date_label.setObjectName("hintLabel")
        self.person_combo = QComboBox(self)
        self.person_combo.setObjectName("personCombo")
        self.person_combo.setToolTip(tr("Whose tasks and opportunities to show"))
        self._fill_people()
        self.person_combo.setVisible(self._manages)
        self.person_combo.currentIndexChanged.connect(self.refresh)
        self.settings_button = QPushButton(tr("After-sales calls…"), self)
        self.settings_button.setObjectName("afterSalesButton")
        self.settings_button.setToolTip(
            tr("Plan a follow-up call a few days after each order, by itself")
        )
        self.settings_button.setVisible(ctx.can(Permission.MANAGE_SETTINGS))
        self.settings_button.clicked.connect(self.open_after_sales_settings)
        top = QHBoxLayout()
        top.addWidget(self.title_label)
        top.addSpacing(12)
        top.addWidget(self.date_label, 0, Qt.AlignmentFlag.AlignBottom)
        top.addStretch(1)
        top.addWidget(self.person_combo)
        top.addWidget(self.settings_button)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("myDayTabs")
        self.tabs.addTab(self._build_tasks_tab(), tr("Tasks"))
        self.tabs.addTab(self._build_opportunities_tab(), tr("Opportunities"))
        self.tabs.currentChanged.connect(lambda _i: self._update_buttons())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

    # -- building -----------------------------------------------------------------------

    def _fill_people(self) -> None:
        combo = self.person_combo
        combo.addItem(tr("My tasks"), self.ctx.user_id)
        if not self._manages:
            return
        combo.addItem(tr("Everyone"), my_day.EVERYONE)
        combo.addItem(tr("Unassigned"), my_day.UNASSIGNED)
        try:
            with self.ctx.read_session() as session:
                people = my_day.person_choices(session)
        except SQLAlchemyError:
            log.warning("Reading the staff list failed", exc_info=True)
            people = []
        others = [p for p in people if p.id != self.ctx.user_id]
        if others:
            combo.insertSeparator(combo.count())
        for person in others:
            combo.addItem(person.full_name, person.id)

    def _button(self, text: str, name: str, tip: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setEnabled(False)
        button.clicked.connect(slot)
        return button

    def _build_tasks_tab(self) -> QWidget:
        page = QWidget(self)
        self.done_button = self._button(
            tr("✓ Done"), "markDoneButton", tr("Tick the task off (D)"), self.mark_done
        )
        self.done_button.setProperty("primary", True)
        self.tomorrow_button = self._button(
            tr("Tomorrow"), "tomorrowButton", tr("Put it off to tomorrow (T)"), self.to_tomorrow
        )
        self.next_week_button = self._button(
            tr("Next week"),
            "nextWeekButton",
            tr("Put it off to next Monday (W)"),
            self.to_next_week,
        )
        self.pick_date_button = self._button(
            tr("Another day…"), "pickDateButton", tr("Choose the day (R)"), self.pick_date
        )
        self.undo_button = QPushButton(self)
        self.undo_button.setObjectName("undoDoneButton")
        self.undo_button.setFlat(True)
        self.undo_button.hide()
        self.undo_button.clicked.connect(self.undo_done)
        self.summary_label = QLabel(page)
        self.summary_label.setObjectName("countLabel")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for button in (
            self.done_button,
            self.tomorrow_button,
            self.next_week_button,
            self.pick_date_button,
        ):
            bar.addWidget(button)
        bar.addWidget(self.undo_button)
        bar.addStretch(1)
        bar.addWidget(self.summary_label)

        tree = QTreeView(page)
        tree.setObjectName("myDayTree")
        tree.setModel(self.model)
        tree.setRootIsDecorated(False)
        tree.setExpandsOnDoubleClick(False)
        tree.setUniformRowHeights(True)
        tree.setAllColumnsShowFocus(True)
        tree.setMouseTracking(True)
        tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        tree.setIndentation(12)
        self.actions_delegate = RowActionsDelegate(self.model, tree)
        self.actions_delegate.triggered.connect(self._on_row_action)
        tree.setItemDelegateForColumn(MyDayModel.ACTIONS, self.actions_delegate)
        header = tree.header()
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(MyDayModel.TASK, QHeaderView.ResizeMode.Stretch)
        metrics = self.fontMetrics()
        for column, sample in (
            (MyDayModel.CUSTOMER, "x" * 30),
            (MyDayModel.DUE, "Wed 2026-11-25"),
            (MyDayModel.WHEN, "30 days overdue"),
            (MyDayModel.ASSIGNEE, "x" * 16),
        ):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 20)
        header.resizeSection(MyDayModel.ACTIONS, RowActionsDelegate.width_for(tree.font()) + 24)
        tree.activated.connect(self._on_activated)
        tree.clicked.connect(self._on_clicked)
        # (``table``: the main window puts the keyboard focus here when the page opens.)
        self.table = tree
        self.model.modelReset.connect(self._after_reset)
        tree.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        for key, slot in (
            ("D", self.mark_done),
            ("Space", self.mark_done),
            ("T", self.to_tomorrow),
            ("W", self.to_next_week),
            ("R", self.pick_date),
        ):
            shortcut = QShortcut(QKeySequence(key), tree)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(tree, 1)
        return page

    def _build_opportunities_tab(self) -> QWidget:
        page = QWidget(self)
        self.follow_up_button = self._button(
            tr("Follow up…"),
            "opportunityFollowUpButton",
            tr("Plan a follow-up about it"),
            self.follow_up_opportunity,
        )
        self.follow_up_button.setProperty("primary", True)
        self.opportunity_done_button = self._button(
            tr("✓ Done"),
            "opportunityDoneButton",
            tr("Someone got back to them: take it off the list"),
            self.close_opportunity,
        )
        self.show_closed_check = QCheckBox(tr("Show ordered and followed-up ones too"), page)
        self.show_closed_check.setObjectName("showClosedOpportunities")
        self.show_closed_check.toggled.connect(self.refresh_opportunities)
        hint = QLabel(
            tr(
                "Contacts marked “opportunity” that nobody followed up and that no order came after."
            ),
            page,
        )
        hint.setObjectName("hintLabel")
        hint.setWordWrap(True)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.follow_up_button)
        bar.addWidget(self.opportunity_done_button)
        bar.addStretch(1)
        bar.addWidget(self.show_closed_check)

        table = QTableView(page)
        table.setObjectName("opportunitiesTable")
        table.setModel(self.opportunities_model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(OpportunitiesModel.WANTED, QHeaderView.ResizeMode.Stretch)
        metrics = self.fontMetrics()
        for column, sample in (
            (OpportunitiesModel.WHEN, "2026-11-23 10:00xx"),
            (OpportunitiesModel.CUSTOMER, "x" * 34),
            (OpportunitiesModel.BY, "x" * 14),
            (OpportunitiesModel.NEXT, "Follow-up 12 days overdue"),
        ):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 20)
        table.activated.connect(self._on_opportunity_activated)
        table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.opportunities_table = table

        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(hint)
        layout.addWidget(table, 1)
        return page

    # -- reading ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        # Tasks come from other pages and other desktops: read afresh each time the page
        # comes to the front (a few short queries).
        self.refresh()
        super().showEvent(event)

    def focus_search(self) -> None:
        """Ctrl+F on this page: the keyboard goes to the task list."""
        self.table.setFocus()

    def person(self) -> Person:
        data = self.person_combo.currentData()
        return data if data is not None else self.ctx.user_id

    def mine_only(self) -> bool:
        return self.person() == self.ctx.user_id

    @Slot()
    def refresh(self) -> None:
        today = self.clock()
        selected = self.selected()
        try:
            with self.ctx.read_session() as session:
                day = my_day.my_day(session, self.person(), today=today)
        except SQLAlchemyError:
            log.warning("Reading My day failed", exc_info=True)
            self.status_message.emit(tr("My day could not be read; check the connection (F5)."))
            return
        self.model.set_day(day)
        # One's own list needs no "Assigned to".
        self.table.setColumnHidden(MyDayModel.ASSIGNEE, self.mine_only())
        if selected is not None:
            self.select_task(selected.id)
        self.date_label.setText(f"{tr(today.strftime('%A'))} {today.isoformat()}")
        counts = my_day.DueCounts(day.overdue_total, len(day.due_today), len(day.upcoming))
        self.summary_label.setText(
            tr("{0} overdue · {1} today · {2} in the next {3} days").format(
                counts.overdue, counts.today, counts.upcoming, my_day.UPCOMING_DAYS
            )
        )
        self.tabs.setTabText(0, tr("Tasks ({0})").format(counts.due) if counts.due else tr("Tasks"))
        whose = tr("Your") if self.mine_only() else tr("Shown")
        self.status_message.emit(
            tr("{0} follow-ups: {1} overdue, {2} due today, {3} in the next {4} days.").format(
                whose, counts.overdue, counts.today, counts.upcoming, my_day.UPCOMING_DAYS
            )
        )
        self.refresh_opportunities()
        if self.mine_only():
            self._set_day_counts(counts)
        else:
            self.refresh_counts()

    @Slot()
    def refresh_counts(self) -> DueCounts:
        """The signed-in person's counts alone (one grouped query): the navigation's."""
        try:
            with self.ctx.read_session() as session:
                counts = my_day.due_counts(session, self.ctx.user_id, today=self.clock())
        except SQLAlchemyError:
            log.warning("Counting follow-ups failed", exc_info=True)
            return self.day_counts
        self._set_day_counts(counts)
        return counts

    def _set_day_counts(self, counts: DueCounts) -> None:
        self.day_counts = counts
        self.counts_changed.emit(counts.due + counts.upcoming, counts.overdue)
        self.day_counts_changed.emit(counts)

    @Slot()
    def refresh_opportunities(self) -> None:
        try:
            with self.ctx.unit_of_work() as (session, actor):
                rows = my_day.opportunities(
                    session,
                    actor,
                    open_only=not self.show_closed_check.isChecked(),
                    person=self.person(),
                )
        except (SmbcrmError, SQLAlchemyError):
            log.warning("Reading the opportunities failed", exc_info=True)
            rows = []
        self.opportunities_model.set_rows(rows, self.clock())
        open_count = sum(1 for r in rows if r.is_open)
        self.tabs.setTabText(
            1, tr("Opportunities ({0})").format(open_count) if open_count else tr("Opportunities")
        )
        self._update_buttons()

    def _after_reset(self) -> None:
        tree = self.table
        for group in range(self.model.rowCount()):
            tree.setFirstColumnSpanned(group, QModelIndex(), True)
            tree.setExpanded(self.model.group_index(group), group not in self.model.collapsed)

    @Slot(QModelIndex)
    def _on_clicked(self, index: QModelIndex) -> None:
        """A click on a group's heading folds it away or shows it again."""
        if not index.isValid() or index.parent().isValid():
            return
        group = index.row()
        collapsed = self.model.collapsed
        if group in collapsed:
            collapsed.discard(group)
        else:
            collapsed.add(group)
        self.table.setExpanded(self.model.group_index(group), group not in collapsed)
        self.model.dataChanged.emit(index, index)

    # -- selection ----------------------------------------------------------------------

    def selected(self) -> Task | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.task_at(rows[0]) if rows else None

    def select_task(self, task_id: int) -> bool:
        index = self.model.task_index(task_id)
        if not index.isValid():
            return False
        self.table.setCurrentIndex(index)
        return True

    def _select_near(self, index: QModelIndex) -> None:
        """After a task left its place: the next one in that group, else the one before."""
        group, row = index.parent().row(), index.row()
        for g in [group, *range(group + 1, 3), *range(group - 1, -1, -1)]:
            tasks = self.model.tasks(g) if 0 <= g < 3 else []
            if tasks:
                pick = tasks[min(row, len(tasks) - 1)] if g == group else tasks[0]
                self.select_task(pick.id)
                return

    def _update_buttons(self) -> None:
        task = self.selected()
        for button in (
            self.done_button,
            self.tomorrow_button,
            self.next_week_button,
            self.pick_date_button,
        ):
            button.setEnabled(task is not None)
        opportunity = self.selected_opportunity()
        self.follow_up_button.setEnabled(opportunity is not None and opportunity.is_open)
        self.opportunity_done_button.setEnabled(opportunity is not None and opportunity.is_open)

    # -- acting on tasks ----------------------------------------------------------------

    def _act(self, task: Task, change: Callable[[Any, Any], object], failed: str) -> bool:
        index = self.model.task_index(task.id)
        try:
            with self.ctx.unit_of_work() as (session, actor):
                change(session, actor)
        except ValidationError as exc:
            QMessageBox.information(self, failed, str(exc))
            return False
        except SmbcrmError as exc:
            QMessageBox.warning(self, failed, str(exc))
            return False
        except SQLAlchemyError:
            log.exception("Changing a follow-up failed")
            QMessageBox.warning(
                self, failed, tr("The database did not take the change; try again (F5).")
            )
            return False
        self.refresh()
        if not self.select_task(task.id) and index.isValid():
            self._select_near(index)
        self.table.setFocus()
        return True

    @Slot()
    def mark_done(self, task: Task | None = None) -> bool:
        task = task or self.selected()
        if task is None:
            return False
        done = self._act(
            task,
            lambda session, actor: my_day.complete(session, actor, task.id),
            tr("Could not mark it done"),
        )
        if done:
            self._last_done = task
            self.undo_button.setText(tr("Undo “done”"))
            self.undo_button.setToolTip(tr("Open “{0}” again").format(task.title))
            self.undo_button.show()
            self.status_message.emit(tr("Done: “{0}” for {1}.").format(task.title, task.customer))
        return done

    @Slot()
    def undo_done(self) -> bool:
        task = self._last_done
        if task is None:
            return False
        reopened = self._act(
            task,
            lambda session, actor: my_day.reopen(session, actor, task.id),
            tr("Could not undo"),
        )
        if reopened:
            self._last_done = None
            self.undo_button.hide()
            self.status_message.emit(tr("“{0}” is open again.").format(task.title))
        return reopened

    def reschedule(self, due: date, task: Task | None = None) -> bool:
        task = task or self.selected()
        if task is None:
            return False
        today = self.clock()
        moved = self._act(
            task,
            lambda session, actor: my_day.reschedule(session, actor, task.id, due, today=today),
            tr("Could not move it"),
        )
        if moved:
            self.status_message.emit(tr("“{0}” moved to {1}.").format(task.title, day_label(due)))
        return moved

    @Slot()
    def to_tomorrow(self, task: Task | None = None) -> bool:
        return self.reschedule(my_day.tomorrow(self.clock()), task)

    @Slot()
    def to_next_week(self, task: Task | None = None) -> bool:
        return self.reschedule(my_day.next_week(self.clock()), task)

    @Slot()
    def pick_date(self, task: Task | None = None, at: QPoint | None = None) -> QMenu | None:
        """A calendar under the button (or at ``at``); a click on a day moves the task."""
        task = task or self.selected()
        if task is None:
            return None
        menu = QMenu(self)
        menu.setObjectName("pickDateMenu")
        calendar = QCalendarWidget(menu)
        calendar.setObjectName("pickDateCalendar")
        today = self.clock()
        calendar.setMinimumDate(_qdate(today))
        calendar.setSelectedDate(_qdate(max(task.due_date, my_day.tomorrow(today))))
        calendar.setGridVisible(False)
        action = QWidgetAction(menu)
        action.setDefaultWidget(calendar)
        menu.addAction(action)

        def chosen(day: QDate) -> None:
            menu.close()
            picked = day.toPython()
            assert isinstance(picked, date)
            self.reschedule(picked, task)

        calendar.clicked.connect(chosen)
        calendar.activated.connect(chosen)
        self.date_menu = menu
        where = at or self.pick_date_button.mapToGlobal(self.pick_date_button.rect().bottomLeft())
        menu.popup(where)
        calendar.setFocus()
        return menu

    @Slot(QModelIndex, str)
    def _on_row_action(self, index: QModelIndex, action: str) -> None:
        task = self.model.task_at(index)
        if task is None:
            return
        self.table.setCurrentIndex(index)
        if action == DONE:
            self.mark_done(task)
        elif action == TOMORROW:
            self.to_tomorrow(task)
        elif action == NEXT_WEEK:
            self.to_next_week(task)
        else:
            rect = self.table.visualRect(index)
            self.pick_date(task, self.table.viewport().mapToGlobal(rect.bottomLeft()))

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        task = self.model.task_at(index)
        if task is not None and index.column() != MyDayModel.ACTIONS:
            self.open_customer.emit(task.customer_id)

    # -- acting on opportunities ----------------------------------------------------------

    def selected_opportunity(self) -> Opportunity | None:
        rows = self.opportunities_table.selectionModel().selectedRows()
        return self.opportunities_model.row_at(rows[0].row()) if rows else None

    @Slot()
    def follow_up_opportunity(self) -> FollowUpDialog | None:
        row = self.selected_opportunity()
        if row is None:
            return None
        dialog = FollowUpDialog(
            self.ctx,
            row.customer_id,
            row.customer,
            title=tr("Follow up: {0}").format(row.wanted),
            activity_id=row.activity_id,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def planned() -> None:
            self.refresh()
            self.status_message.emit(tr("Follow-up planned for {0}.").format(row.customer))

        dialog.accepted.connect(planned)
        self.follow_up_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def close_opportunity(self) -> bool:
        row = self.selected_opportunity()
        if row is None:
            return False
        current = self.opportunities_table.currentIndex().row()
        try:
            with self.ctx.unit_of_work() as (session, actor):
                my_day.close_opportunity(session, actor, row.activity_id)
        except SmbcrmError as exc:
            QMessageBox.warning(self, tr("Could not mark it done"), str(exc))
            return False
        self.refresh()
        count = self.opportunities_model.rowCount()
        if count:
            self.opportunities_table.selectRow(min(current, count - 1))
        self.status_message.emit(tr("Followed up: {0} ({1}).").format(row.customer, row.wanted))
        return True

    @Slot(QModelIndex)
    def _on_opportunity_activated(self, index: QModelIndex) -> None:
        row = self.opportunities_model.row_at(index.row())
        if row is not None:
            self.open_customer.emit(row.customer_id)

    # -- settings -----------------------------------------------------------------------

    @Slot()
    def open_after_sales_settings(self) -> AfterSalesDialog | None:
        if not self.ctx.can(Permission.MANAGE_SETTINGS):
            return None
        dialog = AfterSalesDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: self.status_message.emit(tr("After-sales calls saved for the whole company."))
        )
        self.after_sales_dialog = dialog
        dialog.open()
        return dialog
