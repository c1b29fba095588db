"""Service promises per category and the working calendar, for owners and managers.

Three tabs: the promises (first response and resolution in minutes, hours or working
days, and how early to warn), the working hours of each weekday (with an optional lunch
break) and the company's time zone, and the holidays and make-up working days. One Save
writes everything through ``services.cases`` and ``services.working_time`` in a single
unit of work; a mistake is shown and nothing is written.

"Working days" are counted with the working day as set on the Hours tab when saving.
Cases already open keep the due times they were given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QCoreApplication, QDate, Qt, QTime, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from smbcrm.errors import SmbcrmError, ValidationError
from smbcrm.services import cases
from smbcrm.services.cases import PromiseInput
from smbcrm.services.working_time import (
    WEEKDAY_NAMES,
    WorkingCalendar,
    save_calendar,
    timezone_names,
)
from smbcrm.ui.context import AppContext

MINUTES, HOURS, DAYS = "min", "h", "d"
UNIT_LABELS = {MINUTES: "minutes", HOURS: "hours", DAYS: "working days"}
# The shared style sheet rounds spin boxes but leaves no room for their arrows.
SPIN_STYLE = (
    "QSpinBox { padding-right: 20px; } QSpinBox::up-button, QSpinBox::down-button { width: 18px; }"
)


def tr(text: str) -> str:
    return QCoreApplication.translate("ServiceSettings", text)


@dataclass
class PromiseDraft:
    """A promise as edited: times kept in the unit shown until saved."""

    id: int | None
    category: str
    response: tuple[int, str] | None
    resolution: tuple[int, str] | None
    warn_minutes: int

    @staticmethod
    def split(minutes: int | None, day_minutes: int) -> tuple[int, str] | None:
        if not minutes:
            return None
        if day_minutes and minutes % day_minutes == 0:
            return minutes // day_minutes, DAYS
        if minutes % 60 == 0:
            return minutes // 60, HOURS
        return minutes, MINUTES

    @staticmethod
    def minutes(value: tuple[int, str] | None, day_minutes: int) -> int | None:
        if value is None or value[0] <= 0:
            return None
        amount, unit = value
        return amount * {MINUTES: 1, HOURS: 60, DAYS: day_minutes}[unit]


class DurationEdit(QWidget):
    """A number and its unit; 0 means "no promise"."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.amount = QSpinBox(self)
        self.amount.setObjectName(f"{name}Amount")
        self.amount.setRange(0, 9999)
        self.amount.setSpecialValueText(tr("no promise"))
        self.amount.setStyleSheet(SPIN_STYLE)
        self.amount.setMinimumWidth(120)
        self.unit = QComboBox(self)
        self.unit.setObjectName(f"{name}Unit")
        for key, label in UNIT_LABELS.items():
            self.unit.addItem(tr(label), key)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.amount)
        row.addWidget(self.unit)
        row.addStretch(1)

    def value(self) -> tuple[int, str] | None:
        if self.amount.value() <= 0:
            return None
        return self.amount.value(), str(self.unit.currentData())

    def set_value(self, value: tuple[int, str] | None) -> None:
        amount, unit = value if value is not None else (0, HOURS)
        self.amount.setValue(amount)
        self.unit.setCurrentIndex(max(self.unit.findData(unit), 0))


class _DayRow:
    """One weekday: works or not, from–to, and an optional lunch break."""

    def __init__(self, parent: QWidget, index: int) -> None:
        name = WEEKDAY_NAMES[index]
        self.works = QCheckBox(tr(name), parent)
        self.works.setObjectName(f"works{index}")
        self.start = self._time(parent, f"start{index}")
        self.end = self._time(parent, f"end{index}")
        self.lunch = QCheckBox(tr("Lunch break"), parent)
        self.lunch.setObjectName(f"lunch{index}")
        self.lunch_start = self._time(parent, f"lunchStart{index}")
        self.lunch_end = self._time(parent, f"lunchEnd{index}")
        self.works.toggled.connect(self._enable)
        self.lunch.toggled.connect(self._enable)

    @staticmethod
    def _time(parent: QWidget, name: str) -> QTimeEdit:
        edit = QTimeEdit(parent)
        edit.setObjectName(name)
        edit.setDisplayFormat("HH:mm")
        return edit

    def _enable(self) -> None:
        works = self.works.isChecked()
        for widget in (self.start, self.end, self.lunch):
            widget.setEnabled(works)
        for widget in (self.lunch_start, self.lunch_end):
            widget.setEnabled(works and self.lunch.isChecked())

    def show(self, periods: tuple[tuple[int, int], ...]) -> None:
        def at(minute: int) -> QTime:
            return QTime(min(minute // 60, 23), minute % 60 if minute < 1440 else 59)

        self.works.setChecked(bool(periods))
        first = periods[0] if periods else (9 * 60, 18 * 60)
        last = periods[-1] if periods else first
        self.start.setTime(at(first[0]))
        self.end.setTime(at(last[1]))
        self.lunch.setChecked(len(periods) >= 2)
        self.lunch_start.setTime(at(first[1] if len(periods) >= 2 else 12 * 60))
        self.lunch_end.setTime(at(periods[1][0] if len(periods) >= 2 else 13 * 60))
        self._enable()

    def periods(self) -> tuple[tuple[int, int], ...]:
        if not self.works.isChecked():
            return ()

        def minute(edit: QTimeEdit) -> int:
            t = edit.time()
            return t.hour() * 60 + t.minute()

        start, end = minute(self.start), minute(self.end)
        if self.lunch.isChecked():
            return ((start, minute(self.lunch_start)), (minute(self.lunch_end), end))
        return ((start, end),)


class _DateList(QWidget):
    """A list of dates with a date picker, Add and Remove."""

    def __init__(self, name: str, title: str, hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        heading = QLabel(f"<b>{title}</b>", self)
        note = QLabel(hint, self)
        note.setWordWrap(True)
        note.setStyleSheet("color: #6b7280")
        self.list = QListWidget(self)
        self.list.setObjectName(f"{name}List")
        self.picker = QDateEdit(QDate.currentDate(), self)
        self.picker.setObjectName(f"{name}Picker")
        self.picker.setCalendarPopup(True)
        self.picker.setDisplayFormat("yyyy-MM-dd (ddd)")
        self.picker.setStyleSheet(
            "QDateEdit { padding-right: 22px; } QDateEdit::drop-down { width: 20px; }"
        )
        self.add_button = QPushButton(tr("Add"), self)
        self.add_button.setObjectName(f"{name}Add")
        self.add_button.clicked.connect(self.add_picked)
        self.remove_button = QPushButton(tr("Remove"), self)
        self.remove_button.setObjectName(f"{name}Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(self.picker, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(self.list, 1)

    def set_dates(self, dates: frozenset[date]) -> None:
        self.list.clear()
        for day in sorted(dates):
            self.add(day)

    def add(self, day: date) -> None:
        if day in self.dates():
            return
        item = QListWidgetItem(day.strftime("%Y-%m-%d  %a"))
        item.setData(Qt.ItemDataRole.UserRole, day.isoformat())
        self.list.addItem(item)
        self.list.sortItems()

    @Slot()
    def add_picked(self) -> None:
        picked = self.picker.date().toPython()
        assert isinstance(picked, date)
        self.add(picked)

    @Slot()
    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))

    def dates(self) -> frozenset[date]:
        return frozenset(
            date.fromisoformat(str(self.list.item(i).data(Qt.ItemDataRole.UserRole)))
            for i in range(self.list.count())
        )


class ServiceSettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serviceSettingsDialog")
        self.setWindowTitle(tr("Service promises and working hours"))
        self.ctx = ctx
        with ctx.read_session() as session:
            calendar = WorkingCalendar.load(session)
            day = calendar.day_minutes
            self.drafts = [
                PromiseDraft(
                    p.id,
                    p.category,
                    PromiseDraft.split(p.first_response_minutes, day),
                    PromiseDraft.split(p.resolution_minutes, day),
                    p.warn_minutes,
                )
                for p in cases.list_promises(session)
            ]
        self._original_ids = {d.id for d in self.drafts if d.id is not None}
        self._showing: PromiseDraft | None = None

        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._promises_tab(), tr("Promises"))
        self.tabs.addTab(self._hours_tab(calendar), tr("Working hours"))
        self.tabs.addTab(self._holidays_tab(calendar), tr("Holidays"))
        self.error = QLabel(self)
        self.error.setObjectName("serviceSettingsError")
        self.error.setWordWrap(True)
        self.error.setProperty("fieldError", True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("serviceSettingsSave")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(760, 520)
        self._fill_list()

    # -- promises ---------------------------------------------------------------------

    def _promises_tab(self) -> QWidget:
        tab = QWidget(self)
        self.promise_list = QListWidget(tab)
        self.promise_list.setObjectName("promiseList")
        self.promise_list.setMaximumWidth(240)
        self.promise_list.currentRowChanged.connect(self._show_draft)
        self.add_button = QPushButton(tr("Add category"), tab)
        self.add_button.setObjectName("promiseAdd")
        self.add_button.clicked.connect(self.add_promise)
        self.remove_button = QPushButton(tr("Remove"), tab)
        self.remove_button.setObjectName("promiseRemove")
        self.remove_button.clicked.connect(self.remove_promise)
        self.category = QLineEdit(tab)
        self.category.setObjectName("promiseCategory")
        self.category.setPlaceholderText(tr("e.g. 送货 Delivery"))
        self.category.setMaxLength(100)
        self.response = DurationEdit("promiseResponse", tab)
        self.resolution = DurationEdit("promiseResolution", tab)
        self.warn = QSpinBox(tab)
        self.warn.setObjectName("promiseWarn")
        self.warn.setRange(0, 60 * 24)
        self.warn.setSingleStep(15)
        self.warn.setSuffix(tr(" working minutes before"))
        self.warn.setStyleSheet(SPIN_STYLE)
        for signal in (
            self.category.textEdited,
            self.response.amount.valueChanged,
            self.response.unit.currentIndexChanged,
            self.resolution.amount.valueChanged,
            self.resolution.unit.currentIndexChanged,
            self.warn.valueChanged,
        ):
            signal.connect(self._store_draft)
        form = QFormLayout()
        form.addRow(tr("Category"), self.category)
        form.addRow(tr("First response within"), self.response)
        form.addRow(tr("Resolved within"), self.resolution)
        form.addRow(tr("Warn"), self.warn)
        note = QLabel(
            tr(
                "Times count working hours only (see the Working hours tab): "
                "“4 hours” on a Friday at 16:00 falls due on Monday at 11:00. Cases already "
                "open keep the due times they were given."
            ),
            tab,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #6b7280")
        self.editor = QWidget(tab)
        editor_layout = QVBoxLayout(self.editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addLayout(form)
        editor_layout.addWidget(note)
        editor_layout.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.promise_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)
        layout = QHBoxLayout(tab)
        layout.addLayout(left)
        layout.addWidget(self.editor, 1)
        return tab

    def _fill_list(self, select: int = 0) -> None:
        self.promise_list.blockSignals(True)
        self.promise_list.clear()
        for draft in self.drafts:
            self.promise_list.addItem(draft.category or tr("(new category)"))
        self.promise_list.blockSignals(False)
        if self.drafts:
            self.promise_list.setCurrentRow(min(select, len(self.drafts) - 1))
            self._show_draft(self.promise_list.currentRow())
        else:
            self._show_draft(-1)

    @Slot(int)
    def _show_draft(self, row: int) -> None:
        draft = self.drafts[row] if 0 <= row < len(self.drafts) else None
        self._showing = None
        self.editor.setEnabled(draft is not None)
        self.remove_button.setEnabled(draft is not None)
        self.category.setText(draft.category if draft else "")
        self.response.set_value(draft.response if draft else None)
        self.resolution.set_value(draft.resolution if draft else None)
        self.warn.setValue(draft.warn_minutes if draft else cases.DEFAULT_WARN_MINUTES)
        self._showing = draft

    @Slot()
    def _store_draft(self) -> None:
        draft = self._showing
        if draft is None:
            return
        draft.category = self.category.text()
        draft.response = self.response.value()
        draft.resolution = self.resolution.value()
        draft.warn_minutes = self.warn.value()
        item = self.promise_list.currentItem()
        if item is not None:
            item.setText(draft.category.strip() or tr("(new category)"))

    @Slot()
    def add_promise(self) -> PromiseDraft:
        draft = PromiseDraft(None, "", (4, HOURS), (2, DAYS), cases.DEFAULT_WARN_MINUTES)
        self.drafts.append(draft)
        self._fill_list(len(self.drafts) - 1)
        self.tabs.setCurrentIndex(0)
        self.category.setFocus()
        return draft

    @Slot()
    def remove_promise(self) -> None:
        row = self.promise_list.currentRow()
        if 0 <= row < len(self.drafts):
            del self.drafts[row]
            self._fill_list(row)

    # -- hours and holidays -----------------------------------------------------------

    def _hours_tab(self, calendar: WorkingCalendar) -> QWidget:
        tab = QWidget(self)
        grid = QGridLayout()
        grid.addWidget(QLabel(tr("<b>Day</b>"), tab), 0, 0)
        grid.addWidget(QLabel(tr("<b>From</b>"), tab), 0, 1)
        grid.addWidget(QLabel(tr("<b>To</b>"), tab), 0, 2)
        grid.addWidget(QLabel(tr("<b>Break</b>"), tab), 0, 3, 1, 3)
        self.days: list[_DayRow] = []
        for index in range(7):
            row = _DayRow(tab, index)
            row.show(calendar.hours[index])
            for col, widget in enumerate(
                (row.works, row.start, row.end, row.lunch, row.lunch_start, row.lunch_end)
            ):
                grid.addWidget(widget, index + 1, col)
            self.days.append(row)
        grid.setColumnStretch(6, 1)
        self.timezone = QComboBox(tab)
        self.timezone.setObjectName("serviceTimezone")
        self.timezone.setEditable(True)
        self.timezone.addItems(timezone_names())
        self.timezone.setCurrentText(calendar.timezone)
        self.timezone.setMinimumWidth(240)
        zone_row = QHBoxLayout()
        zone_row.addWidget(QLabel(tr("Time zone of the working hours"), tab))
        zone_row.addWidget(self.timezone)
        zone_row.addStretch(1)
        note = QLabel(
            tr(
                "A make-up working day on a weekend keeps the hours of a normal working day "
                "(the first weekday with hours)."
            ),
            tab,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #6b7280")
        layout = QVBoxLayout(tab)
        layout.addLayout(grid)
        layout.addSpacing(8)
        layout.addLayout(zone_row)
        layout.addWidget(note)
        layout.addStretch(1)
        return tab

    def _holidays_tab(self, calendar: WorkingCalendar) -> QWidget:
        tab = QWidget(self)
        self.holidays = _DateList(
            "holidays",
            tr("Holidays"),
            tr("No work on these dates, even on a weekday (e.g. 2026-10-01)."),
            tab,
        )
        self.holidays.set_dates(calendar.holidays)
        self.makeup_days = _DateList(
            "makeupDays",
            tr("Make-up working days"),
            tr("Weekend dates worked instead of a holiday (调休)."),
            tab,
        )
        self.makeup_days.set_dates(calendar.makeup_days)
        layout = QHBoxLayout(tab)
        layout.addWidget(self.holidays, 1)
        layout.addSpacing(12)
        layout.addWidget(self.makeup_days, 1)
        return tab

    def chosen_calendar(self) -> WorkingCalendar:
        return WorkingCalendar(
            hours=tuple(day.periods() for day in self.days),
            holidays=self.holidays.dates(),
            makeup_days=self.makeup_days.dates(),
            timezone=self.timezone.currentText().strip(),
        )

    # -- saving -----------------------------------------------------------------------

    def _fail(self, message: str, tab: int) -> None:
        self.error.setText(message)
        self.error.show()
        self.tabs.setCurrentIndex(tab)

    @Slot()
    def save(self) -> None:
        self._store_draft()
        calendar = self.chosen_calendar()
        try:
            calendar.validate()
        except ValidationError as exc:
            tab = 2 if "makeup_days" in exc.field_errors else 1
            self._fail(str(exc), tab)
            return
        day = calendar.day_minutes
        kept = {d.id for d in self.drafts if d.id is not None}
        current = ""
        saved_ids: list[int] = []
        try:
            with self.ctx.unit_of_work() as (session, actor):
                save_calendar(session, actor, calendar)
                for promise_id in self._original_ids - kept:
                    cases.delete_promise(session, actor, promise_id)
                for draft in self.drafts:
                    current = draft.category.strip()
                    saved = cases.save_promise(
                        session,
                        actor,
                        PromiseInput(
                            draft.category,
                            PromiseDraft.minutes(draft.response, day),
                            PromiseDraft.minutes(draft.resolution, day),
                            draft.warn_minutes,
                        ),
                        draft.id,
                    )
                    saved_ids.append(saved.id)
        except SmbcrmError as exc:
            # Nothing was written: the drafts stay as they are, to be corrected.
            where = tr("Promise for “{0}”: ").format(current) if current else ""
            self._fail(where + str(exc), 0)
            return
        for draft, saved_id in zip(self.drafts, saved_ids, strict=True):
            draft.id = saved_id
        self.accept()
