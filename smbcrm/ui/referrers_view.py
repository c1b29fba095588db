"""Top referrers: the customers whose referrals brought the most revenue.

Above, the referrers over a chosen period (all time, last 12 months, this year); below,
whom the selected one referred, each with its revenue all time and over 12 months.
Double-click (or Enter) on either list opens that customer. Read through
``services.referrals``.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.services import referrals
from smbcrm.services.money import format_money
from smbcrm.services.referrals import ReferredCustomer, TopReferrer
from smbcrm.ui.context import AppContext
from smbcrm.ui.customers_model import format_date, status_label
from smbcrm.ui.style import MUTED_COLOR, text_width

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
TOP_COUNT = 50


def tr(text: str) -> str:
    return QCoreApplication.translate("TopReferrers", text)


class _Table(QAbstractTableModel):
    COLUMNS: tuple[str, ...] = ()
    NUMERIC: frozenset[int] = frozenset()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.currency: str | None = None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows())

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def rows(self) -> list[object]:
        raise NotImplementedError

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return tr(self.COLUMNS[section])
        if role == Qt.ItemDataRole.TextAlignmentRole and section in self.NUMERIC:
            return RIGHT
        return None


class ReferrersModel(_Table):
    COLUMNS = (
        "#",
        str(QT_TRANSLATE_NOOP("TopReferrers", "Customer")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "City")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Salesperson")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Referred")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Buying")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Revenue from referrals")),
    )
    RANK, NAME, CITY, OWNER, REFERRED, BUYING, REVENUE = range(7)
    NUMERIC = frozenset({RANK, REFERRED, BUYING, REVENUE})

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[TopReferrer] = []

    def rows(self) -> list[object]:
        return list(self._rows)

    def set_rows(self, result: referrals.TopReferrers) -> None:
        self.beginResetModel()
        self._rows = list(result.rows)
        self.currency = result.currency
        self.endResetModel()

    def row_at(self, row: int) -> TopReferrer | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                str(index.row() + 1),
                row.name,
                row.city or "",
                row.owner or tr("(unassigned)"),
                str(row.referred),
                str(row.buying),
                format_money(row.revenue, self.currency),
            )[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.NUMERIC:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column == self.RANK:
            return MUTED_COLOR
        if role == Qt.ItemDataRole.ToolTipRole and column == self.BUYING:
            return tr("Referred customers who ordered in the period")
        return None


class ReferredModel(_Table):
    COLUMNS = (
        str(QT_TRANSLATE_NOOP("TopReferrers", "Referred customer")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "City")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Status")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Orders")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Last order")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Revenue")),
        str(QT_TRANSLATE_NOOP("TopReferrers", "Last 12 months")),
    )
    NAME, CITY, STATUS, ORDERS, LAST, REVENUE, RECENT = range(7)
    NUMERIC = frozenset({ORDERS, REVENUE, RECENT})

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ReferredCustomer] = []

    def rows(self) -> list[object]:
        return list(self._rows)

    def set_rows(self, result: referrals.Referrals | None) -> None:
        self.beginResetModel()
        self._rows = list(result.customers) if result is not None else []
        self.currency = result.currency if result is not None else None
        self.endResetModel()

    def row_at(self, row: int) -> ReferredCustomer | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                row.name,
                row.city or "",
                status_label(row.status),
                str(row.orders),
                format_date(row.last_order),
                format_money(row.revenue, self.currency),
                format_money(row.revenue_12m, self.currency),
            )[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.NUMERIC:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and not row.orders:
            return MUTED_COLOR
        return None


def _table(model: QAbstractTableModel, name: str, parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 10)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(
        1 if isinstance(model, ReferrersModel) else 0, QHeaderView.ResizeMode.Stretch
    )
    return table


class TopReferrersDialog(QDialog):
    """Non-modal: it can stay open beside the customer list."""

    open_customer = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("topReferrersDialog")
        self.setWindowTitle(tr("Top referrers"))
        self.setModal(False)
        self.ctx = ctx
        self.referrers = ReferrersModel(self)
        self.referred = ReferredModel(self)

        intro = QLabel(
            tr(
                "Customers who brought in other customers, by what those customers have "
                "bought. Thank them, and ask them again."
            ),
            self,
        )
        intro.setObjectName("hintLabel")
        intro.setWordWrap(True)
        self.period = QComboBox(self)
        self.period.setObjectName("referrersPeriod")
        today = date.today()
        self.period.addItem(tr("All time"), None)
        self.period.addItem(tr("Last 12 months"), today - timedelta(days=365))
        self.period.addItem(tr("This year"), date(today.year, 1, 1))
        self.period.currentIndexChanged.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(intro, 1)
        top.addWidget(QLabel(tr("Revenue of:"), self))
        top.addWidget(self.period)

        self.referrers_table = _table(self.referrers, "referrersTable", self)
        self.referred_label = QLabel(self)
        self.referred_label.setObjectName("cardTitle")
        self.referred_table = _table(self.referred, "referredTable", self)
        self.referrers_table.selectionModel().selectionChanged.connect(
            lambda *_a: self._show_referred()
        )
        for table in (self.referrers_table, self.referred_table):
            table.activated.connect(self._on_activated)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 8, 0, 0)
        lower_layout.addWidget(self.referred_label)
        lower_layout.addWidget(self.referred_table, 1)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("referrersSplitter")
        splitter.addWidget(self.referrers_table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("countLabel")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.resize(text_width(self, 150), 620)
        self.reload()

    @Slot()
    def reload(self) -> None:
        since = self.period.currentData()
        try:
            with self.ctx.read_session() as session:
                result = referrals.top_referrers(session, TOP_COUNT, since=since)
        except (SmbcrmError, SQLAlchemyError):
            log.warning("Reading the top referrers failed", exc_info=True)
            self.status_label.setText(tr("The referrers could not be read; try again."))
            return
        self.referrers.set_rows(result)
        if result.rows:
            self.referrers_table.selectRow(0)
            self.status_label.setText(
                tr("{0} customers referred others. Double-click a customer to open it.").format(
                    len(result.rows)
                )
                if len(result.rows) < TOP_COUNT
                else tr("The top {0}. Double-click a customer to open it.").format(TOP_COUNT)
            )
        else:
            self._show_referred()
            self.status_label.setText(
                tr("No customer has a referrer yet: set “Referred by” in the customer form.")
            )

    def selected(self) -> TopReferrer | None:
        rows = self.referrers_table.selectionModel().selectedRows()
        return self.referrers.row_at(rows[0].row()) if rows else None

    def _show_referred(self) -> None:
        referrer = self.selected()
        if referrer is None:
            self.referred.set_rows(None)
            self.referred_label.setText("")
            return
        try:
            with self.ctx.read_session() as session:
                found = referrals.referrals_of(session, referrer.customer_id)
        except (SmbcrmError, SQLAlchemyError):
            log.warning("Reading the referred customers failed", exc_info=True)
            found = None
        self.referred.set_rows(found)
        if found is None:
            self.referred_label.setText(
                tr("Whom {0} referred could not be read.").format(referrer.name)
            )
            return
        self.referred_label.setText(
            tr("{0} referred {1}: {2} in all, {3} in the last 12 months").format(
                referrer.name,
                len(found.customers),
                format_money(found.revenue, found.currency),
                format_money(found.revenue_12m, found.currency),
            )
        )

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        model = index.model()
        row: TopReferrer | ReferredCustomer | None
        if model is self.referrers:
            row = self.referrers.row_at(index.row())
            customer_id = row.customer_id if row is not None else None
        else:
            row = self.referred.row_at(index.row())
            customer_id = row.id if row is not None else None
        if customer_id is not None:
            self.open_customer.emit(customer_id)
