"""The Cases page: complaints, requests and questions, and whether their promises are kept.

Open cases are listed most urgent first: past their promise (red), due soon (amber), then
on time. "Mine", "Overdue" and "All" narrow or widen the list; a category and a search
box narrow it further. From a row: open the case, record a response, resolve it (with the
customer's satisfaction), or open the customer. Owners and managers also reach the
promises and working hours (``ServiceSettingsDialog``) and the service figures
(:class:`ServiceFiguresDialog`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from PySide6.QtCore import (
    QCoreApplication,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from smbcrm.errors import SmbcrmError
from smbcrm.models import Role, utcnow
from smbcrm.services import cases
from smbcrm.services.cases import CaseFilter, CaseRow, CaseScope, CaseState, FigureGroup
from smbcrm.services.permissions import Permission
from smbcrm.services.working_time import WorkingCalendar, describe_minutes
from smbcrm.ui.case_dialog import (
    CaseDialog,
    ResolveDialog,
    ResponseDialog,
    due_text,
    local_text,
    state_colors,
    state_label,
)
from smbcrm.ui.context import AppContext
from smbcrm.ui.list_model import AnyIndex, ListTableModel
from smbcrm.ui.style import HINT_STYLE
from smbcrm.ui.translation import ui_language


def tr(text: str) -> str:
    return QCoreApplication.translate("CasesView", text)


class CasesModel(ListTableModel[CaseRow]):
    """Case rows as the service sorted them; the state decides the colours."""

    (
        NUMBER,
        STATE,
        TITLE,
        CUSTOMER,
        CATEGORY,
        SEVERITY,
        ASSIGNEE,
        OPENED,
        RESPOND_BY,
        RESOLVE_BY,
    ) = range(10)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.calendar = WorkingCalendar()
        self.now = utcnow()

    def headers(self) -> list[str]:
        return [
            "#",
            tr("State"),
            tr("Case"),
            tr("Customer"),
            tr("Category"),
            tr("Severity"),
            tr("Assigned to"),
            tr("Opened"),
            tr("Respond by"),
            tr("Resolve by"),
        ]

    def set_rows(self, rows: list[CaseRow], calendar: WorkingCalendar, now: datetime) -> None:
        self.calendar = calendar
        self.now = now
        self.replace_rows(rows)

    def row_of(self, case_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.id == case_id), None)

    def _display(self, row: CaseRow, col: int) -> str:
        cal = self.calendar
        if col == self.NUMBER:
            return str(row.id)
        if col == self.STATE:
            return state_label(row.state)
        if col == self.TITLE:
            return row.title
        if col == self.CUSTOMER:
            return row.customer
        if col == self.CATEGORY:
            return row.category
        if col == self.SEVERITY:
            return tr(cases.SEVERITY_LABELS[row.severity])
        if col == self.ASSIGNEE:
            return row.assignee or tr("(nobody)")
        if col == self.OPENED:
            return local_text(cal, row.opened_at, short=True)
        if col == self.RESPOND_BY:
            if row.response_due_at is None:
                return ""
            return due_text(
                cal, row.response_due_at, self.now, met=row.first_response_at, short=True
            )
        if col == self.RESOLVE_BY:
            if row.resolution_due_at is None:
                return ""
            return due_text(cal, row.resolution_due_at, self.now, met=row.resolved_at, short=True)
        return ""

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        color, background = state_colors(row.state)
        if role == Qt.ItemDataRole.BackgroundRole and background is not None:
            return background  # the whole row: overdue red, due soon amber
        if role == Qt.ItemDataRole.ForegroundRole and color is not None:
            urgent = row.state.overdue or row.state == CaseState.DUE_SOON
            if col == self.STATE or (
                urgent
                and (
                    (col == self.RESPOND_BY and row.first_response_at is None)
                    or col == self.RESOLVE_BY
                )
            ):
                return color
        if role == Qt.ItemDataRole.FontRole and col == self.STATE and row.state.overdue:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.NUMBER:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tr("{0} — {1}. Double-click to open the case.").format(
                tr(cases.KIND_LABELS[row.kind]), row.title
            )
        return None


SCOPES = (
    (CaseScope.OPEN, "Open"),
    (CaseScope.MINE, "Mine"),
    (CaseScope.OVERDUE, "Overdue"),
    (CaseScope.ALL, "All"),
)


class CasesView(QWidget):
    open_customer = Signal(int)
    status_message = Signal(str)
    counts_changed = Signal(int, int)  # open, overdue (for the navigation entry)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("casesView")
        self.ctx = ctx
        self.dialog: QDialog | None = None
        self._may_settle = ctx.can(Permission.MANAGE_SETTINGS)
        self._loaded = False

        title = QLabel(tr("Cases"), self)
        title.setObjectName("pageTitle")
        self.scope_buttons: dict[CaseScope, QPushButton] = {}
        self.scope = QButtonGroup(self)
        scope_row = QHBoxLayout()
        scope_row.setSpacing(0)
        for scope, text in SCOPES:
            button = QPushButton(tr(text), self)
            button.setObjectName(f"casesScope_{scope.value}")
            button.setCheckable(True)
            button.setProperty("segment", True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            self.scope.addButton(button)
            self.scope_buttons[scope] = button
            scope_row.addWidget(button)
        manages = ctx.role in (Role.OWNER, Role.MANAGER)
        self.scope_buttons[CaseScope.OPEN if manages else CaseScope.MINE].setChecked(True)
        self.scope.buttonToggled.connect(lambda _b, on: on and self.refresh())
        self.category_filter = QComboBox(self)
        self.category_filter.setObjectName("casesCategory")
        self.category_filter.addItem(tr("Every category"), None)
        self.category_filter.setMinimumWidth(150)
        self.category_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.find_box = QLineEdit(self)
        self.find_box.setObjectName("casesFind")
        self.find_box.setPlaceholderText(tr("Find case, customer or #number…"))
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setMinimumWidth(180)
        self._find_timer = QTimer(self)
        self._find_timer.setSingleShot(True)
        self._find_timer.setInterval(200)
        self._find_timer.timeout.connect(self.refresh)
        self.find_box.textChanged.connect(lambda _t: self._find_timer.start())
        self.settings_button = QPushButton(tr("Promises && hours…"), self)
        self.settings_button.setObjectName("casesSettings")
        self.settings_button.setToolTip(
            tr("Service promises per category, working hours, holidays")
        )
        self.settings_button.clicked.connect(self.edit_settings)
        self.settings_button.setVisible(self._may_settle)
        self.figures_button = QPushButton(tr("Figures…"), self)
        self.figures_button.setObjectName("casesFigures")
        self.figures_button.setToolTip(tr("First-contact resolution, response times, repeats"))
        self.figures_button.clicked.connect(self.show_figures)
        self.figures_button.setVisible(self._may_settle)
        self.new_button = QPushButton(tr("New case…"), self)
        self.new_button.setObjectName("casesNew")
        self.new_button.setProperty("primary", True)
        self.new_button.clicked.connect(lambda: self.new_case())

        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addLayout(scope_row)
        top.addSpacing(8)
        top.addWidget(self.category_filter)
        top.addWidget(self.find_box, 1)  # takes what room is left
        top.addWidget(self.settings_button)
        top.addWidget(self.figures_button)
        top.addWidget(self.new_button)

        self.model = CasesModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("casesTable")
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
        # The case's title keeps a readable width however narrow the window: the table
        # scrolls sideways instead, and a wide window's extra room goes to the last column.
        header.setStretchLastSection(True)
        widths = {
            CasesModel.NUMBER: 40,
            CasesModel.TITLE: 220,
            CasesModel.STATE: 138,
            CasesModel.CUSTOMER: 175,
            CasesModel.CATEGORY: 120,
            CasesModel.SEVERITY: 72,
            CasesModel.ASSIGNEE: 96,
            CasesModel.OPENED: 92,
            CasesModel.RESPOND_BY: 165,
            CasesModel.RESOLVE_BY: 170,
        }
        for column, width in widths.items():
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_actions())

        self.summary = QLabel(self)
        self.summary.setObjectName("countLabel")
        self.open_button = QPushButton(tr("Open case…"), self)
        self.open_button.setObjectName("casesOpen")
        self.open_button.clicked.connect(lambda: self.open_selected())
        self.respond_button = QPushButton(tr("Record response…"), self)
        self.respond_button.setObjectName("casesRespond")
        self.respond_button.clicked.connect(lambda: self.respond_selected())
        self.resolve_button = QPushButton(tr("Resolve…"), self)
        self.resolve_button.setObjectName("casesResolve")
        self.resolve_button.clicked.connect(lambda: self.resolve_selected())
        self.customer_button = QPushButton(tr("Open customer"), self)
        self.customer_button.setObjectName("casesCustomer")
        self.customer_button.clicked.connect(self.open_selected_customer)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        for button in (
            self.open_button,
            self.respond_button,
            self.resolve_button,
            self.customer_button,
        ):
            bottom.addWidget(button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._update_actions()

    # -- data -------------------------------------------------------------------------

    def current_scope(self) -> CaseScope:
        return next(s for s, b in self.scope_buttons.items() if b.isChecked())

    def set_scope(self, scope: CaseScope) -> None:
        self.scope_buttons[scope].setChecked(True)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def focus_search(self) -> None:
        self.find_box.setFocus()
        self.find_box.selectAll()

    @Slot()
    def refresh(self) -> None:
        """Read the cases again (a few hundred open ones at most: quick enough to do here)."""
        selected = self.selected()
        scope = self.current_scope()
        now = utcnow()
        try:
            with self.ctx.read_session() as session:
                calendar = WorkingCalendar.load(session)
                self._fill_categories(cases.category_choices(session))
                rows = cases.list_cases(
                    session,
                    CaseFilter(
                        scope=scope,
                        user_id=self.ctx.user_id,
                        category=self.category_filter.currentData(),
                        text=self.find_box.text(),
                    ),
                    now=now,
                    calendar=calendar,
                )
                counts = cases.case_counts(session, self.ctx.user_id, now=now)
        except SmbcrmError as exc:
            self.status_message.emit(str(exc))
            return
        self._loaded = True
        self.model.set_rows(rows, calendar, now)
        if selected is not None:
            self.select_case(selected.id)
        self._show_summary(rows, counts)
        self.counts_changed.emit(counts.open, counts.overdue)
        self._update_actions()

    def _fill_categories(self, categories: list[str]) -> None:
        current = self.category_filter.currentData()
        known = [self.category_filter.itemData(i) for i in range(1, self.category_filter.count())]
        if known == categories:
            return
        self.category_filter.blockSignals(True)
        while self.category_filter.count() > 1:
            self.category_filter.removeItem(1)
        for name in categories:
            self.category_filter.addItem(name, name)
        self.category_filter.setCurrentIndex(max(self.category_filter.findData(current), 0))
        self.category_filter.blockSignals(False)

    def _show_summary(self, rows: list[CaseRow], counts: cases.CaseCounts) -> None:
        text = tr("{0} shown · {1} open · {2} past their promise · {3} due soon").format(
            len(rows), counts.open, counts.overdue, counts.due_soon
        )
        self.summary.setText(text)
        self.status_message.emit(text)

    # -- selection and actions -----------------------------------------------------

    def selected(self) -> CaseRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select_case(self, case_id: int) -> bool:
        row = self.model.row_of(case_id)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    def _update_actions(self) -> None:
        row = self.selected()
        self.open_button.setEnabled(row is not None)
        self.customer_button.setEnabled(row is not None)
        self.respond_button.setEnabled(row is not None and row.is_open)
        self.resolve_button.setEnabled(row is not None and row.is_open)

    def _show_dialog(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.refresh())
        self.dialog = dialog
        dialog.open()
        return dialog

    def new_case(self, customer_id: int | None = None) -> CaseDialog:
        dialog = CaseDialog(self.ctx, customer_id=customer_id, parent=self)
        dialog.saved.connect(self._after_save)
        self._show_dialog(dialog)
        return dialog

    def _after_save(self, case_id: int) -> None:
        self.refresh()
        if not self.select_case(case_id):
            # A filter hides it (e.g. "Mine" for a case given to a colleague): show all open.
            self.find_box.clear()
            self.category_filter.setCurrentIndex(0)
            self.set_scope(CaseScope.OPEN)
            self.refresh()
            self.select_case(case_id)
        self.status_message.emit(tr("Case #{0} saved.").format(case_id))

    def open_case(self, case_id: int) -> CaseDialog:
        dialog = CaseDialog(self.ctx, case_id, parent=self)
        dialog.saved.connect(lambda _id: self.refresh())
        self._show_dialog(dialog)
        return dialog

    def open_selected(self) -> CaseDialog | None:
        row = self.selected()
        return self.open_case(row.id) if row is not None else None

    def respond_selected(self) -> ResponseDialog | None:
        row = self.selected()
        if row is None or not row.is_open:
            return None
        dialog = ResponseDialog(self.ctx, row.id, self.model.calendar, self)
        self._show_dialog(dialog)
        return dialog

    def resolve_selected(self) -> ResolveDialog | None:
        row = self.selected()
        if row is None or not row.is_open:
            return None
        dialog = ResolveDialog(self.ctx, row.id, self)
        dialog.accepted.connect(
            lambda: self.status_message.emit(tr("Case #{0} resolved.").format(row.id))
        )
        self._show_dialog(dialog)
        return dialog

    @Slot()
    def open_selected_customer(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_customer.emit(row.customer_id)

    @Slot()
    def edit_settings(self) -> QDialog | None:
        if not self._may_settle:
            return None
        from smbcrm.ui.service_settings_dialog import ServiceSettingsDialog

        return self._show_dialog(ServiceSettingsDialog(self.ctx, self))

    @Slot()
    def show_figures(self) -> ServiceFiguresDialog | None:
        if not self._may_settle:
            return None
        dialog = ServiceFiguresDialog(self.ctx, self)
        self._show_dialog(dialog)
        return dialog


# ---------------------------------------------------------------------------------------
# Figures for the owner

PERIODS = (
    ("Last 30 days", 30),
    ("Last 90 days", 90),
    ("Last 12 months", 365),
)


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


class ServiceFiguresDialog(QDialog):
    """How well promises are kept: overall, by category and by person, and who complains again."""

    # Times are medians in working time; "in time" is the share of promises kept.
    COLUMNS = (
        "Cases",
        "Complaints",
        "Resolved",
        "First contact",
        "1st response",
        "Response promise",
        "Answered in time",
        "Resolution",
        "Resolution promise",
        "Resolved in time",
        "Repeats",
        "Rating",
    )

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serviceFiguresDialog")
        self.setWindowTitle(tr("Service figures"))
        self.ctx = ctx
        self.period = QComboBox(self)
        self.period.setObjectName("figuresPeriod")
        for text, days in PERIODS:
            self.period.addItem(tr(text), days)
        self.period.setCurrentIndex(1)
        self.period.currentIndexChanged.connect(lambda _i: self.load())
        self.note = QLabel(self)
        self.note.setObjectName("figuresNote")
        self.note.setStyleSheet(HINT_STYLE)
        self.tiles: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        tiles = QGridLayout()
        for i, (key, caption) in enumerate(
            (
                ("cases", tr("Cases opened")),
                ("first_contact", tr("Resolved at first contact")),
                ("response", tr("First response, median")),
                ("resolution", tr("Resolution, median")),
                ("repeats", tr("Repeat complaints")),
                ("satisfaction", tr("Satisfaction")),
            )
        ):
            value = QLabel("—", self)
            value.setObjectName(f"figure_{key}")
            value.setStyleSheet("font-size: 18px; font-weight: 600;")
            label = QLabel(caption, self)
            label.setStyleSheet(HINT_STYLE)
            tiles.addWidget(value, 0, i)
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            tiles.addWidget(label, 1, i)
            tiles.setColumnStretch(i, 1)
            self.tiles[key] = value
            self.captions[key] = label
        self.by_category = self._table("figuresByCategory", tr("Category"))
        self.by_person = self._table("figuresByPerson", tr("Person"))
        self.repeats = QTableWidget(0, 4, self)
        self.repeats.setObjectName("figuresRepeats")
        self.repeats.setHorizontalHeaderLabels(
            [tr("Customer"), tr("Complaints"), tr("Of them repeats"), tr("Last one")]
        )
        self._tidy(self.repeats)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.by_category, tr("By category"))
        self.tabs.addTab(self.by_person, tr("By person"))
        self.tabs.addTab(self.repeats, tr("Customers complaining again"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        head = QHBoxLayout()
        head.addWidget(QLabel(tr("Cases opened in the"), self))
        head.addWidget(self.period)
        head.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(tiles)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self.resize(1260, 560)
        self.figures: cases.ServiceFigures | None = None
        self.load()

    def _table(self, name: str, first: str) -> QTableWidget:
        table = QTableWidget(0, len(self.COLUMNS) + 1, self)
        table.setObjectName(name)
        table.setHorizontalHeaderLabels([first, *(tr(c) for c in self.COLUMNS)])
        self._tidy(table)
        return table

    def _tidy(self, table: QTableWidget) -> None:
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    @Slot()
    def load(self) -> None:
        days = int(self.period.currentData())
        today = date.today()
        try:
            with self.ctx.read_session() as session:
                calendar = WorkingCalendar.load(session)
                figures = cases.service_figures(
                    session,
                    today - timedelta(days=days - 1),
                    today + timedelta(days=1),
                    calendar=calendar,
                )
        except SmbcrmError as exc:
            QMessageBox.warning(self, tr("Could not work out the figures"), str(exc))
            return
        self.figures = figures
        day = figures.day_minutes
        overall = figures.overall
        self.note.setText(
            tr("Times are working time (a working day is {0} h).").format(f"{day / 60:g}")
        )
        self.tiles["cases"].setText(str(overall.cases))
        self.tiles["first_contact"].setText(percent(overall.first_contact_share))
        for key, median, promised, kept in (
            ("response", overall.median_response, overall.promised_response, overall.response_kept),
            (
                "resolution",
                overall.median_resolution,
                overall.promised_resolution,
                overall.resolution_kept,
            ),
        ):
            self.tiles[key].setText(
                describe_minutes(median, day, lang=ui_language()) if median is not None else "—"
            )
            self.captions[key].setText(self._caption(key, promised, kept, day))
        self.tiles["repeats"].setText(str(overall.repeat_complaints))
        self.tiles["satisfaction"].setText(
            "—"
            if overall.average_satisfaction is None
            else f"{overall.average_satisfaction:.1f} / 5"
        )
        self._fill(self.by_category, figures.by_category, day)
        self._fill(self.by_person, figures.by_person, day)
        self.repeats.setRowCount(len(figures.repeat_customers))
        for r, repeat in enumerate(figures.repeat_customers):
            for c, value in enumerate(
                (
                    repeat.name,
                    str(repeat.complaints),
                    str(repeat.repeats),
                    local_text(calendar, repeat.last_opened),
                )
            ):
                self.repeats.setItem(r, c, QTableWidgetItem(value))

    def _caption(self, key: str, promised: float | None, kept: float | None, day: int) -> str:
        text = tr("First response, median") if key == "response" else tr("Resolution, median")
        if promised is not None:
            text += "\n" + tr("promised {0}; {1} in time").format(
                describe_minutes(promised, day, lang=ui_language()), percent(kept)
            )
        return text

    def _fill(self, table: QTableWidget, groups: list[FigureGroup], day: int) -> None:
        table.setRowCount(len(groups))
        for r, g in enumerate(groups):
            values = (
                g.label,
                str(g.cases),
                str(g.complaints),
                str(g.resolved),
                percent(g.first_contact_share),
                describe_minutes(g.median_response, day, lang=ui_language()),
                describe_minutes(g.promised_response, day, lang=ui_language()),
                percent(g.response_kept),
                describe_minutes(g.median_resolution, day, lang=ui_language()),
                describe_minutes(g.promised_resolution, day, lang=ui_language()),
                percent(g.resolution_kept),
                str(g.repeat_complaints),
                "—" if g.average_satisfaction is None else f"{g.average_satisfaction:.1f}",
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(r, c, item)
