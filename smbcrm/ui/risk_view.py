"""The owner's at-risk screen: who may leave, why, how much is at stake, and acting on it.

The list opens at once on the last assessment kept in memory (``services.risk.cached``)
and a fresh one is worked out on a :class:`~smbcrm.ui.workers.Worker` in the background;
the charts (revenue by month, customers by risk level, won / lost per month) come with it.
Filters (owner, tier, city, reason) work on the rows already in memory. From a row: a
follow-up task for the owner, a reassignment, or opening the customer.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QPieSeries,
    QValueAxis,
)
from PySide6.QtCore import (
    QCoreApplication,
    QLocale,
    QMargins,
    QObject,
    QRectF,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smbcrm.errors import SmbcrmError
from smbcrm.models import Tier
from smbcrm.services import auth, charts_data, ownership, risk
from smbcrm.services.charts_data import MonthValue, WonLost
from smbcrm.services.currencies import load_rates, unconverted_text
from smbcrm.services.money import CURRENCY_SYMBOLS, format_money
from smbcrm.services.permissions import Permission
from smbcrm.services.progress import Progress
from smbcrm.services.risk import RiskLevel, RiskRow, RiskSnapshot
from smbcrm.services.ui_support import owner_filter_choices
from smbcrm.ui.context import AppContext
from smbcrm.ui.follow_ups_view import FollowUpDialog
from smbcrm.ui.list_model import AnyIndex, ListTableModel
from smbcrm.ui.style import ERROR_STYLE
from smbcrm.ui.translation import ui_language
from smbcrm.ui.workers import Worker

log = logging.getLogger(__name__)

LEVEL_COLORS = {
    RiskLevel.HIGH: QColor("#c0392b"),
    RiskLevel.MEDIUM: QColor("#d68910"),
    RiskLevel.LOW: QColor("#7f8c8d"),
    RiskLevel.NONE: QColor("#27ae60"),
}


def tr(text: str) -> str:
    return QCoreApplication.translate("RiskView", text)


def level_label(level: RiskLevel) -> str:
    return {
        RiskLevel.HIGH: tr("High"),
        RiskLevel.MEDIUM: tr("Medium"),
        RiskLevel.LOW: tr("Low"),
        RiskLevel.NONE: tr("Not at risk"),
    }[level]


def reason_label(reason: risk.Reason) -> str:
    return {
        risk.Reason.OVERDUE: tr("Overdue"),
        risk.Reason.DECLINING: tr("Declining"),
        risk.Reason.NO_CONTACT: tr("No contact"),
        risk.Reason.UNASSIGNED: tr("Unassigned"),
        risk.Reason.OWNER_INACTIVE: tr("Salesperson left"),
        risk.Reason.OPEN_COMPLAINT: tr("Open complaint"),
        risk.Reason.SATISFACTION_FALLING: tr("Satisfaction falling"),
    }[reason]


@dataclass(frozen=True)
class RiskScreenData:
    """What one background refresh brings: the assessment and the charts' numbers."""

    snapshot: RiskSnapshot
    revenue: list[MonthValue]
    won_lost: list[WonLost]


def load_screen_data(ctx: AppContext, progress: Progress) -> RiskScreenData:
    """Runs on the worker thread: sessions of its own, no widgets touched."""
    snapshot = risk.refresh(ctx.db, progress=progress, update_tiers=True)
    with ctx.read_session() as session:
        settings = risk.RiskSettings.load(session)
        revenue = charts_data.revenue_by_month(session, snapshot.today, rates=snapshot.rates)
        won_lost = charts_data.won_lost_by_month(
            session, snapshot.today, lost_after_days=settings.lost_after_days
        )
    return RiskScreenData(snapshot, revenue, won_lost)


class RiskTableModel(ListTableModel[RiskRow]):
    """At-risk rows as the service sorted them (revenue at stake first)."""

    CUSTOMER, OWNER, TIER, CITY, LEVEL, REVENUE, LAST_ORDER, REASONS = range(8)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = ui_language()
        self.currency = "CNY"  # the home currency the revenue is in

    def headers(self) -> list[str]:
        return [
            tr("Customer"),
            tr("Owner"),
            tr("Tier"),
            tr("City"),
            tr("Risk"),
            tr("Revenue (12 months)"),
            tr("Last order"),
            tr("Why"),
        ]

    def set_rows(self, rows: list[RiskRow]) -> None:
        self.replace_rows(rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row())
        if row is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.CUSTOMER:
                return row.name
            if col == self.OWNER:
                if row.owner is None:
                    return tr("— nobody —")
                return row.owner if row.owner_active else tr("{0} (left)").format(row.owner)
            if col == self.TIER:
                return row.tier.value if row.tier else ""
            if col == self.CITY:
                return row.city or ""
            if col == self.LEVEL:
                return level_label(row.level)
            if col == self.REVENUE:
                return format_money(row.revenue_12m, self.currency)
            if col == self.LAST_ORDER:
                return row.last_order.isoformat() if row.last_order else tr("never")
            if col == self.REASONS:
                return row.text(self.lang)
        if role == Qt.ItemDataRole.ToolTipRole and col == self.REASONS:
            return "\n".join(risk.explain(r, self.lang) for r in row.reasons)
        if role == Qt.ItemDataRole.ForegroundRole and col == self.LEVEL:
            return LEVEL_COLORS[row.level]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.REVENUE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class RiskSettingsDialog(QDialog):
    """The thresholds behind the reasons, for owners and managers; saved company-wide."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("riskSettingsDialog")
        self.setWindowTitle(tr("At-risk thresholds"))
        self.ctx = ctx
        with ctx.read_session() as session:
            current = risk.RiskSettings.load(session)
            home = load_rates(session).home
        defaults = risk.RiskSettings()

        def days(name: str, value: int, top: int = 3650) -> QSpinBox:
            box = QSpinBox(self)
            box.setObjectName(name)
            box.setRange(0, top)
            box.setSuffix(tr(" days"))
            box.setValue(value)
            return box

        self.overdue_factor = QDoubleSpinBox(self)
        self.overdue_factor.setObjectName("overdueFactor")
        self.overdue_factor.setRange(1.0, 10.0)
        self.overdue_factor.setSingleStep(0.5)
        self.overdue_factor.setDecimals(1)
        self.overdue_factor.setSuffix(" ×")
        self.overdue_factor.setValue(current.overdue_factor)
        self.overdue_min_days = days("overdueMinDays", current.overdue_min_days)
        self.rhythm_min_orders = QSpinBox(self)
        self.rhythm_min_orders.setObjectName("rhythmMinOrders")
        self.rhythm_min_orders.setRange(2, 100)
        self.rhythm_min_orders.setValue(current.rhythm_min_orders)
        self.decline_months = QSpinBox(self)
        self.decline_months.setObjectName("declineMonths")
        self.decline_months.setRange(1, 24)
        self.decline_months.setSuffix(tr(" months"))
        self.decline_months.setValue(current.decline_months)
        self.decline_drop = QSpinBox(self)
        self.decline_drop.setObjectName("declineDrop")
        self.decline_drop.setRange(1, 99)
        self.decline_drop.setSuffix(" %")
        self.decline_drop.setValue(round(current.decline_drop * 100))
        self.decline_min_revenue = QDoubleSpinBox(self)
        self.decline_min_revenue.setObjectName("declineMinRevenue")
        self.decline_min_revenue.setRange(0, 1e9)
        self.decline_min_revenue.setDecimals(0)
        self.decline_min_revenue.setGroupSeparatorShown(True)
        # Revenue is weighed in the home currency, whatever the orders were in.
        self.decline_min_revenue.setPrefix(CURRENCY_SYMBOLS.get(home, home + " "))
        self.decline_min_revenue.setValue(current.decline_min_revenue)
        self.no_contact_days = days("noContactDays", current.no_contact_days)
        self.lost_after_days = days("lostAfterDays", current.lost_after_days)

        form = QFormLayout()
        form.addRow(tr("Overdue after their usual interval"), self.overdue_factor)
        form.addRow(tr("… and at least"), self.overdue_min_days)
        form.addRow(tr("Orders needed to know a rhythm"), self.rhythm_min_orders)
        form.addRow(tr("Declining: compare periods of"), self.decline_months)
        form.addRow(tr("… when spend fell by at least"), self.decline_drop)
        form.addRow(tr("… and the earlier period was worth at least"), self.decline_min_revenue)
        form.addRow(tr("No contact: nothing logged for"), self.no_contact_days)
        form.addRow(tr("Lost (chart): silent for"), self.lost_after_days)
        note = QLabel(
            tr(
                "Defaults: overdue after {0}× their interval and at least {1} days; declining "
                "when the last {2} months fell {3}% or more; no contact after {4} days."
            ).format(
                defaults.overdue_factor,
                defaults.overdue_min_days,
                defaults.decline_months,
                round(defaults.decline_drop * 100),
                defaults.no_contact_days,
            ),
            self,
        )
        note.setWordWrap(True)
        note.setObjectName("riskSettingsNote")
        self.error = QLabel(self)
        self.error.setObjectName("riskSettingsError")
        self.error.setWordWrap(True)
        self.error.setProperty("fieldError", True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self.show_settings(defaults))
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("riskSettingsSave")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    def show_settings(self, settings: risk.RiskSettings) -> None:
        self.overdue_factor.setValue(settings.overdue_factor)
        self.overdue_min_days.setValue(settings.overdue_min_days)
        self.rhythm_min_orders.setValue(settings.rhythm_min_orders)
        self.decline_months.setValue(settings.decline_months)
        self.decline_drop.setValue(round(settings.decline_drop * 100))
        self.decline_min_revenue.setValue(settings.decline_min_revenue)
        self.no_contact_days.setValue(settings.no_contact_days)
        self.lost_after_days.setValue(settings.lost_after_days)

    def chosen(self) -> risk.RiskSettings:
        return risk.RiskSettings(
            overdue_factor=self.overdue_factor.value(),
            overdue_min_days=self.overdue_min_days.value(),
            rhythm_min_orders=self.rhythm_min_orders.value(),
            decline_months=self.decline_months.value(),
            decline_drop=self.decline_drop.value() / 100,
            decline_min_revenue=self.decline_min_revenue.value(),
            no_contact_days=self.no_contact_days.value(),
            lost_after_days=self.lost_after_days.value(),
        )

    @Slot()
    def save(self) -> None:
        try:
            with self.ctx.unit_of_work() as (session, actor):
                risk.save_settings(session, actor, self.chosen())
        except SmbcrmError as exc:  # a ValidationError's text joins its field messages
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


def _chart_font(scale: float = 1.0, *, bold: bool = False) -> QFont:
    """The windows' font, with its Chinese fallbacks, rather than the charts' own default."""
    font = QFont(QApplication.font())
    font.setPointSizeF(max(font.pointSizeF() * scale, 7.0))
    font.setBold(bold)
    return font


def _small_font() -> QFont:
    """Axis labels and legends a size down: twelve months fit under a narrow chart."""
    return _chart_font(0.85)


def _chart(title: str) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    chart.setTitleFont(_chart_font(bold=True))
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    # Axis numbers with the language's digit grouping (8,000 rather than 8000).
    locale = QLocale()
    locale.setNumberOptions(QLocale.NumberOption.DefaultNumberOptions)
    chart.setLocale(locale)
    chart.setLocalizeNumbers(True)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.legend().setFont(_small_font())
    chart.setMargins(QMargins(2, 4, 4, 4))
    # The room around the plot goes to the month labels and the axis titles instead.
    chart.layout().setContentsMargins(0, 0, 0, 0)
    chart.setBackgroundRoundness(0)
    return chart


def month_labels(months: list[str]) -> tuple[list[str], str]:
    """Labels for a chart's months ("2026-03") and the span they cover, for the axis title.

    A year's bars are labelled with their month numbers, which fit side by side in a
    narrow chart; the axis title says which months those are. Longer spans, whose month
    numbers would repeat, keep year and month ("26/03").
    """
    if not months:
        return [], ""
    span = months[0] if len(months) == 1 else f"{months[0]} – {months[-1]}"
    if len(months) <= 12:
        return [str(int(m[5:7])) for m in months], span
    return [m[2:].replace("-", "/") for m in months], span


def month_title(span: str) -> str:
    """The month axis's title, with the months it covers (its labels are month numbers)."""
    return tr("Month ({0})").format(span) if span else tr("Month")


def money_scale(top: float) -> tuple[int, str]:
    """What to divide a chart's amounts by, so that its axis keeps to four digits, and the
    unit that says so ("{0} thousands", {0} being the currency's symbol)."""
    if top >= 10_000_000:
        return 1_000_000, tr("{0} millions")
    if top >= 10_000:
        return 1_000, tr("{0} thousands")
    return 1, "{0}"


class MonthLabelFitter(QObject):
    """Keeps a bar chart's month labels whole: a size smaller while the bars are too narrow
    for them (Qt would cut them to "…"), the usual size again when the chart is widened.

    Which size fits is Qt's own verdict (``labelsTruncated``), not a measurement of ours.
    """

    def __init__(self, chart: QChart, axis: QBarCategoryAxis) -> None:
        super().__init__(chart)
        self._chart = chart
        self._axis = axis
        self._width = -1.0
        self._sizes = (_small_font(), _chart_font(0.75), _chart_font(0.65))
        # After the layout that reported the new size, not inside it.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fit)
        chart.plotAreaChanged.connect(self._plot_area_changed)

    @Slot(QRectF)
    def _plot_area_changed(self, area: QRectF) -> None:
        # Only a new width changes what fits; a smaller font only makes the plot taller.
        if abs(area.width() - self._width) >= 0.5:
            self._width = area.width()
            self._timer.start()

    @Slot()
    def fit(self) -> None:
        for font in self._sizes:
            self._axis.setLabelsFont(font)
            self._chart.layout().activate()  # lay out now, to read Qt's verdict
            if not self._axis.labelsTruncated():
                return


def whole_number_ticks(axis: QValueAxis, top: float) -> None:
    """From 0 to a round number above ``top``, ticks on whole numbers only: a range of 0-1
    in five ticks would read 0, 0, 0, 1, 1 with the labels' "%.0f"."""
    axis.setRange(0, top if top > 0 else 1)
    axis.applyNiceNumbers()
    highest = max(math.ceil(axis.max()), 1)
    axis.setRange(0, highest)
    if highest < axis.tickCount() - 1:
        axis.setTickCount(highest + 1)


def _show_chart(view: QChartView, chart: QChart) -> None:
    """Put ``chart`` in ``view``; the view gives up the one it showed, so it goes."""
    old = view.chart()
    view.setChart(chart)
    if old is not None:
        old.deleteLater()


class RiskView(QWidget):
    """At-risk customers, filterable, with actions and the three charts."""

    open_customer = Signal(int)
    status_message = Signal(str)
    # Emitted when a background refresh has been shown (tests wait for it).
    refreshed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("riskView")
        self.ctx = ctx
        self._worker: Worker | None = None
        self._rows: list[RiskRow] = []
        self.follow_up_dialog: FollowUpDialog | None = None
        self._may_reassign = ctx.can(Permission.REASSIGN)

        title = QLabel(tr("Customers at risk"), self)
        title.setObjectName("pageTitle")
        self.owner_filter = self._combo("riskOwnerFilter", tr("Every owner"))
        self.tier_filter = self._combo("riskTierFilter", tr("Every tier"))
        for tier in Tier:
            self.tier_filter.addItem(tr("Tier {0}").format(tier.value), tier.value)
        self.tier_filter.setToolTip(
            tr(
                "Tiers by revenue in the last 12 months: A brings the first 80% of revenue, "
                "B the next 15%, C the rest."
            )
        )
        self.city_filter = self._combo("riskCityFilter", tr("Every city"))
        self.reason_filter = self._combo("riskReasonFilter", tr("Every reason"))
        for reason in risk.Reason:
            self.reason_filter.addItem(reason_label(reason), reason.value)
        self.find_box = QLineEdit(self)
        self.find_box.setObjectName("riskFind")
        self.find_box.setPlaceholderText(tr("Find name, owner or city…"))
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setMinimumWidth(210)
        self.find_box.setMaximumWidth(260)
        self.find_box.textChanged.connect(self.apply_filters)
        self.settings_button = QPushButton(tr("Thresholds…"), self)
        self.settings_button.setObjectName("riskSettings")
        self.settings_button.setToolTip(
            tr("When a customer counts as overdue, declining or silent")
        )
        self.settings_button.clicked.connect(self.edit_settings)
        self.settings_button.setVisible(ctx.can(Permission.MANAGE_SETTINGS))
        self.settings_dialog: RiskSettingsDialog | None = None
        self.refresh_button = QPushButton(tr("Refresh"), self)
        self.refresh_button.setObjectName("riskRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.updated_label = QLabel(self)
        self.updated_label.setObjectName("riskUpdated")
        filters = QHBoxLayout()
        filters.addWidget(title)
        filters.addSpacing(12)
        for combo in (self.owner_filter, self.tier_filter, self.city_filter, self.reason_filter):
            filters.addWidget(combo)
            combo.currentIndexChanged.connect(self.apply_filters)
        filters.addWidget(self.find_box)
        filters.addStretch(1)
        filters.addWidget(self.settings_button)
        filters.addWidget(self.refresh_button)

        self.model = RiskTableModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("riskTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in enumerate((220, 110, 40, 80, 70, 150, 90)):
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(RiskTableModel.TIER, QHeaderView.ResizeMode.Fixed)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_actions())

        self.follow_up_button = QPushButton(tr("Follow-up task…"), self)
        self.follow_up_button.setObjectName("riskFollowUp")
        self.follow_up_button.clicked.connect(self.create_follow_up)
        self.reassign_button = QPushButton(tr("Reassign…"), self)
        self.reassign_button.setObjectName("riskReassign")
        self.reassign_button.clicked.connect(self.reassign_selected)
        self.reassign_button.setVisible(self._may_reassign)
        self.open_button = QPushButton(tr("Open customer"), self)
        self.open_button.setObjectName("riskOpen")
        self.open_button.clicked.connect(self.open_selected)
        self.summary = QLabel(self)
        self.summary.setObjectName("riskSummary")
        # Sales in a currency without an exchange rate are not in the revenue shown.
        self.unconverted = QLabel(self)
        self.unconverted.setObjectName("riskUnconverted")
        self.unconverted.setStyleSheet(ERROR_STYLE)
        self.unconverted.setWordWrap(True)
        self.unconverted.hide()
        # When the figures were worked out, beside what they say (the filter row is full).
        actions = QHBoxLayout()
        actions.addWidget(self.summary)
        actions.addSpacing(12)
        actions.addWidget(self.updated_label)
        actions.addStretch(1)
        for button in (self.follow_up_button, self.reassign_button, self.open_button):
            actions.addWidget(button)

        self.revenue_view = self._chart_view("riskRevenueChart")
        self.levels_view = self._chart_view("riskLevelsChart")
        self.won_lost_view = self._chart_view("riskWonLostChart")
        charts = QWidget(self)
        chart_row = QHBoxLayout(charts)
        chart_row.setContentsMargins(0, 0, 0, 0)
        for view in (self.revenue_view, self.levels_view, self.won_lost_view):
            chart_row.addWidget(view, 1)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(actions)
        top_layout.addWidget(self.unconverted)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("riskSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(charts)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        self._load_owners()
        self._update_actions()
        cached = risk.cached(ctx.db)
        if cached is not None:
            self.show_snapshot(cached)
        else:
            self.summary.setText(tr("Working out who is at risk…"))

    # -- building -----------------------------------------------------------------------

    def _combo(self, name: str, everything: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.addItem(everything, None)
        return combo

    def _chart_view(self, name: str) -> QChartView:
        view = QChartView(self)
        view.setObjectName(name)
        view.setRenderHint(QPainter.RenderHint.Antialiasing)
        view.setMinimumHeight(220)
        return view

    def _load_owners(self) -> None:
        try:
            with self.ctx.read_session() as session:
                choices = owner_filter_choices(session)
        except SmbcrmError as exc:
            self.status_message.emit(str(exc))
            return
        for choice in choices:
            label = choice.full_name if choice.active else tr("{0} (left)").format(choice.full_name)
            self.owner_filter.addItem(label, choice.id)

    # -- data ---------------------------------------------------------------------------

    @Slot()
    def edit_settings(self) -> RiskSettingsDialog:
        """Open the thresholds; saving them re-judges every customer in the background."""
        dialog = RiskSettingsDialog(self.ctx, self)
        dialog.accepted.connect(self.refresh)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def focus_search(self) -> None:
        self.find_box.setFocus()
        self.find_box.selectAll()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._worker is None:
            self.refresh()

    @Slot()
    def refresh(self) -> Worker | None:
        """Work out a fresh assessment in the background; the list stays usable meanwhile."""
        if self._worker is not None and self._worker.is_running():
            return self._worker
        ctx = self.ctx
        worker = Worker(lambda progress: load_screen_data(ctx, progress), self)
        worker.finished.connect(self._on_loaded)
        worker.failed.connect(self._on_failed)
        self._worker = worker
        self.refresh_button.setEnabled(False)
        self.updated_label.setText(tr("Updating…"))
        worker.start()
        return worker

    @Slot(object)
    def _on_loaded(self, data: RiskScreenData) -> None:
        self.refresh_button.setEnabled(True)
        self.show_snapshot(data.snapshot)
        self._draw_revenue(data.revenue)
        self._draw_won_lost(data.won_lost)
        self.refreshed.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.refresh_button.setEnabled(True)
        self.updated_label.setText(tr("Not updated"))
        self.status_message.emit(message)
        QMessageBox.warning(self, tr("Could not work out the customers at risk"), message)

    def show_snapshot(self, snapshot: RiskSnapshot) -> None:
        self._rows = list(snapshot.rows)
        self.model.currency = snapshot.currency
        self.unconverted.setText(unconverted_text(snapshot.unconverted))
        self.unconverted.setVisible(bool(snapshot.unconverted))
        self.updated_label.setText(
            tr("Updated {0}").format(snapshot.computed_at.strftime("%Y-%m-%d %H:%M"))
        )
        current = self.city_filter.currentData()
        cities = sorted({r.city for r in self._rows if r.city and r.at_risk})
        self.city_filter.blockSignals(True)
        while self.city_filter.count() > 1:
            self.city_filter.removeItem(1)
        for city in cities:
            self.city_filter.addItem(city, city)
        self.city_filter.setCurrentIndex(max(self.city_filter.findData(current), 0))
        self.city_filter.blockSignals(False)
        self._draw_levels(snapshot)
        self.apply_filters()

    @Slot()
    def apply_filters(self) -> None:
        rows = risk.filter_rows(
            self._rows,
            owner_id=self.owner_filter.currentData(),
            tier=self.tier_filter.currentData(),
            city=self.city_filter.currentData(),
            reason=self.reason_filter.currentData(),
            text=self.find_box.text(),
        )
        self.model.set_rows(rows)
        total = sum(r.revenue_12m for r in rows)
        text = tr("{0} customers at risk · {1} revenue in the last 12 months").format(
            len(rows), format_money(total, self.model.currency)
        )
        self.summary.setText(text)
        self.status_message.emit(text)
        self._update_actions()

    # -- charts -------------------------------------------------------------------------

    def _draw_revenue(self, months: list[MonthValue]) -> None:
        labels, span = month_labels([m.month for m in months])
        symbol = CURRENCY_SYMBOLS.get(self.model.currency, self.model.currency)
        divisor, unit = money_scale(max((m.value for m in months), default=0))
        chart = _chart(tr("Revenue by month"))
        bars = QBarSet(tr("Revenue"))
        bars.setColor(QColor("#2e86c1"))
        for m in months:
            bars.append(m.value / divisor)
        series = QBarSeries()
        series.append(bars)
        chart.addSeries(series)
        self._axes(chart, series, labels, month_title(span), unit.format(symbol))
        chart.legend().hide()  # one series: the title says what the bars are
        _show_chart(self.revenue_view, chart)

    def _draw_levels(self, snapshot: RiskSnapshot) -> None:
        chart = _chart(tr("Customers by risk level"))
        series = QPieSeries()
        for level, count in charts_data.customers_by_level(snapshot.rows).items():
            if count:
                part = series.append(f"{level_label(level)} ({count})", count)
                part.setColor(LEVEL_COLORS[level])
        chart.addSeries(series)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)
        _show_chart(self.levels_view, chart)

    def _draw_won_lost(self, months: list[WonLost]) -> None:
        labels, span = month_labels([m.month for m in months])
        chart = _chart(tr("Customers won / lost per month"))
        won = QBarSet(tr("Won"))
        won.setColor(QColor("#27ae60"))
        lost = QBarSet(tr("Lost"))
        lost.setColor(QColor("#c0392b"))
        for m in months:
            won.append(m.won)
            lost.append(m.lost)
        series = QBarSeries()
        series.append(won)
        series.append(lost)
        chart.addSeries(series)
        self._axes(chart, series, labels, month_title(span), tr("Customers"))
        _show_chart(self.won_lost_view, chart)

    def _axes(
        self, chart: QChart, series: QBarSeries, labels: list[str], x_title: str, y_title: str
    ) -> None:
        x = QBarCategoryAxis()
        x.append(labels)
        y = QValueAxis()
        y.setLabelFormat("%.0f")
        for axis, title in ((x, x_title), (y, y_title)):
            axis.setLabelsFont(_small_font())
            axis.setTitleText(title)
            axis.setTitleFont(_small_font())
            axis.setTitleBrush(QColor("#4b5563"))
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        top = max((s.at(i) for s in series.barSets() for i in range(s.count())), default=0.0)
        whole_number_ticks(y, top)
        MonthLabelFitter(chart, x)

    # -- actions ------------------------------------------------------------------------

    def selected(self) -> RiskRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _update_actions(self) -> None:
        has = self.selected() is not None
        for button in (self.follow_up_button, self.reassign_button, self.open_button):
            button.setEnabled(has)

    @Slot()
    def open_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_customer.emit(row.id)

    @Slot()
    def create_follow_up(self) -> FollowUpDialog | None:
        """Open the follow-up dialog for the selected customer (window-modal, not blocking)."""
        row = self.selected()
        if row is None:
            return None
        lang = ui_language()
        first = risk.explain(row.reasons[0], lang) if row.reasons else ""
        dialog = FollowUpDialog(
            self.ctx,
            row.id,
            row.name,
            title=tr("Check in: {0}").format(first) if first else "",
            # Every reason, for whoever picks the task up later.
            notes=row.text(lang) if len(row.reasons) > 1 else "",
            # A salesperson who has left cannot take it: then the one planning it does.
            assignee_id=row.owner_id if row.owner_active else self.ctx.user_id,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: self.status_message.emit(
                tr("Follow-up for {0} due {1} saved.").format(
                    row.name, dialog.due_edit.date().toString(Qt.DateFormat.ISODate)
                )
            )
        )
        self.follow_up_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def reassign_selected(self) -> None:
        row = self.selected()
        if row is None or not self._may_reassign:
            return
        with self.ctx.read_session() as session:
            staff = [
                (u.id, u.full_name)
                for u in auth.active_staff(session)
                if ownership.may_own_customers(u)
            ]
        names = [name for _id, name in staff]
        current = next((i for i, (uid, _n) in enumerate(staff) if uid == row.owner_id), 0)
        name, ok = QInputDialog.getItem(
            self,
            tr("Reassign {0}").format(row.name),
            tr("Who looks after {0} from now on?").format(row.name),
            names,
            current,
            False,
        )
        if ok and name:
            self.reassign(row.id, staff[names.index(name)][0])

    def reassign(self, customer_id: int, to_user_id: int) -> bool:
        try:
            with self.ctx.unit_of_work() as (session, actor):
                changed = risk.reassign(session, actor, customer_id, to_user_id)
        except SmbcrmError as exc:
            QMessageBox.warning(self, tr("Could not reassign"), str(exc))
            return False
        if changed:
            self.status_message.emit(tr("Reassigned; the list updates in a moment."))
            self.refresh()
        return changed


def default_due(today: date | None = None) -> date:
    return (today or date.today()) + timedelta(days=3)
