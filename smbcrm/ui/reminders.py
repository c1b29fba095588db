"""Reminders of follow-ups that are due, and the rest of My day's place in the main window.

``install_reminders(window)`` is called once from ``MainWindow.__init__``. It

- names the Follow-ups page "My day" and keeps the signed-in person's counts in its
  navigation entry ("My day  4": overdue plus due today; the tooltip says which);
- adds Customer › Top referrers… (the customers whose referrals brought the most);
- starts :class:`Reminders`: when the app starts, and then every minute, one cheap query
  looks for the person's tasks that are due. Tasks not reminded of before bring up a
  reminder — "3 follow-ups due today, 1 overdue" — as a tray message when the app has a
  tray icon, else as a small note in the window's corner that stays until closed or
  acted on. A task is reminded of once per session; one the person planned for today
  themselves while the app ran is not news and brings none. At midnight My day moves on
  by itself (today's tasks become overdue, tomorrow's are due).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QToolButton,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import worded
from smbcrm.models import utcnow
from smbcrm.services import my_day
from smbcrm.services.my_day import DueCounts, DueTask
from smbcrm.ui.referrers_view import TopReferrersDialog

if TYPE_CHECKING:
    from smbcrm.ui.main_window import MainWindow

log = logging.getLogger(__name__)

CHECK_EVERY_MS = 60_000
TOAST_MARGIN = 16


def tr(text: str) -> str:
    return QCoreApplication.translate("Reminders", text)


class ReminderToast(QFrame):
    """A small note in the window's bottom-right corner: the reminder and "Open My day"."""

    def __init__(self, parent: QWidget, open_my_day: Callable[[], None]) -> None:
        super().__init__(parent)
        self.setObjectName("reminderToast")
        self.setStyleSheet(
            "#reminderToast { background: #fff8e1; border: 1px solid #e9cf7b;"
            " border-radius: 8px; }"
            "#reminderToast QLabel { color: #5b4a12; background: transparent; }"
        )
        self.label = QLabel(self)
        self.label.setObjectName("reminderText")
        self.open_button = QPushButton(tr("Open My day"), self)
        self.open_button.setObjectName("reminderOpen")
        self.open_button.setProperty("primary", True)
        self.open_button.clicked.connect(open_my_day)
        self.open_button.clicked.connect(self.hide)
        close = QToolButton(self)
        close.setObjectName("reminderClose")
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip(tr("Hide this reminder"))
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 10, 8, 10)
        row.setSpacing(10)
        row.addWidget(self.label, 1)
        row.addWidget(self.open_button)
        row.addWidget(close)
        parent.installEventFilter(self)
        self.hide()

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.adjustSize()
        self._place()
        self.show()
        self.raise_()

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        size = self.sizeHint()
        self.resize(size)
        self.move(
            max(parent.width() - size.width() - TOAST_MARGIN, 0),
            max(parent.height() - size.height() - TOAST_MARGIN, 0),
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._place()
        return super().eventFilter(watched, event)


class Reminders(QObject):
    """Looks for due tasks every minute; reminds of each task once."""

    def __init__(
        self,
        window: MainWindow,
        *,
        clock: Callable[[], date] = date.today,
        interval_ms: int = CHECK_EVERY_MS,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.clock = clock
        self.started_at: datetime = utcnow()
        self.reminded: set[int] = set()
        self.last_text = ""
        self.shown = 0
        self._day = clock()
        self.toast = ReminderToast(window.centralWidget() or window, window.show_follow_ups)
        window.navigation.currentRowChanged.connect(self._on_page)
        self.timer = QTimer(self)
        self.timer.setObjectName("reminderTimer")
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tray(self) -> QSystemTrayIcon | None:
        """The app's tray icon, when it has one that shows messages."""
        for icon in self.window.findChildren(QSystemTrayIcon):
            if icon.isVisible() and QSystemTrayIcon.supportsMessages():
                return icon
        return None

    @Slot()
    def tick(self) -> None:
        view = self.window.follow_ups_view
        today = self.clock()
        if today != self._day:
            # Midnight: the groups move on a day, whether or not the page is showing.
            self._day = today
            view.clock = self.clock
            view.refresh()
        else:
            view.refresh_counts()
        self.check()

    def _already_known(self, task: DueTask, today: date) -> bool:
        """Planned for today (or earlier) by this person since the app started."""
        return (
            task.created_by_id == self.window.ctx.user_id
            and task.created_at >= self.started_at
            and task.due_date <= today
        )

    @Slot()
    def check(self) -> str:
        """Remind of tasks that fell due since the last look; returns the text shown."""
        today = self.clock()
        try:
            with self.window.ctx.read_session() as session:
                due = my_day.due_tasks(session, self.window.ctx.user_id, today=today)
        except SQLAlchemyError:
            log.warning("Looking for due follow-ups failed", exc_info=True)
            return ""
        new = [t for t in due if t.id not in self.reminded and not self._already_known(t, today)]
        self.reminded.update(t.id for t in due)
        if not new:
            return ""
        counts = DueCounts(
            overdue=sum(1 for t in due if t.due_date < today),
            today=sum(1 for t in due if t.due_date == today),
            upcoming=0,
        )
        text = my_day.reminder_text(counts.overdue, counts.today)
        self.show(text)
        return text

    def show(self, text: str) -> None:
        self.last_text = text
        self.shown += 1
        text = worded(text)
        tray = self.tray()
        if tray is not None:
            tray.showMessage(
                tr("smbcrm — My day"), text, QSystemTrayIcon.MessageIcon.Information, 15_000
            )
            return
        self.toast.show_text(tr("{0}.").format(text))

    def _on_page(self, page: int) -> None:
        if self.window.pages.widget(page) is self.window.follow_ups_view:
            self.toast.hide()  # they are looking at it


def _nav_text(counts: DueCounts) -> tuple[str, str]:
    label = QCoreApplication.translate("MainWindow", "My day")
    text = f"{label}  ({counts.due})" if counts.due else label
    tip = tr("{0} overdue, {1} due today, {2} in the next {3} days").format(
        counts.overdue, counts.today, counts.upcoming, my_day.UPCOMING_DAYS
    )
    return text, tip


def _customer_menu(window: MainWindow) -> QMenu | None:
    """The menu that holds the customer page's commands (found by one of them)."""
    wanted = window.customers_view.log_activity_action
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and wanted in menu.actions():
            return menu
    return None


def open_top_referrers(window: MainWindow) -> TopReferrersDialog:
    dialog: TopReferrersDialog | None = getattr(window, "top_referrers_dialog", None)
    if dialog is not None and dialog.isVisible():
        dialog.reload()
        dialog.raise_()
        dialog.activateWindow()
        return dialog
    dialog = TopReferrersDialog(window.ctx, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open_customer.connect(window.open_customer)
    dialog.destroyed.connect(lambda *_a: setattr(window, "top_referrers_dialog", None))
    window.top_referrers_dialog = dialog  # type: ignore[attr-defined]
    dialog.show()
    return dialog


def install_reminders(window: MainWindow) -> Reminders:
    view = window.follow_ups_view
    index = window.pages.indexOf(view)
    item = window.navigation.item(index)

    def show_counts(counts: DueCounts) -> None:
        text, tip = _nav_text(counts)
        item.setText(text)
        item.setToolTip(tip)

    # Connected after the window's own handler, so this label is the one that stays.
    view.day_counts_changed.connect(show_counts)
    show_counts(view.day_counts)
    for action in getattr(window, "page_actions", []):
        if action.shortcut().toString() == "Ctrl+3":
            action.setText(QCoreApplication.translate("MainWindow", "&My day"))

    menu = _customer_menu(window)
    if menu is not None:
        menu.addSeparator()
        referrers = QAction(tr("Top &referrers…"), window)
        referrers.setObjectName("topReferrersAction")
        referrers.setStatusTip(tr("The customers whose referrals brought the most revenue"))
        referrers.triggered.connect(lambda: open_top_referrers(window))
        menu.addAction(referrers)
        window.top_referrers_action = referrers  # type: ignore[attr-defined]

    reminders = Reminders(window)
    window.reminders = reminders  # type: ignore[attr-defined]
    # Once the window is up: what is due today, and what was left from before.
    QTimer.singleShot(0, reminders.check)
    return reminders
