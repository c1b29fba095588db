"""The Orders page: every order, newest first, searchable by number or customer.

``OrdersModel`` is a thin, lazy adapter over ``services.orders``: it knows the row count
and fetches a page of rows only when the view paints it, so a million orders open
instantly. Double-clicking an order emits ``open_customer(customer_id)``.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smbcrm.models import is_cancelled_status
from smbcrm.services import orders as ordersvc
from smbcrm.services.money import format_money
from smbcrm.services.orders import OrderRow
from smbcrm.ui.context import AppContext
from smbcrm.ui.style import MUTED_COLOR, short_date

PAGE_SIZE = 200
PAGES_CACHED = 25
SEARCH_DELAY_MS = 250  # wait for a pause in typing before searching

AnyIndex = QModelIndex | QPersistentModelIndex


class OrdersModel(QAbstractTableModel):
    """Orders matching ``text``; rows are fetched a page at a time as they are shown."""

    # Marked for translation; translated when shown.
    COLUMNS = (
        str(QT_TRANSLATE_NOOP("OrdersModel", "Date")),
        str(QT_TRANSLATE_NOOP("OrdersModel", "Order no.")),
        str(QT_TRANSLATE_NOOP("OrdersModel", "Customer")),
        str(QT_TRANSLATE_NOOP("OrdersModel", "Amount")),
        str(QT_TRANSLATE_NOOP("OrdersModel", "Status")),
        str(QT_TRANSLATE_NOOP("OrdersModel", "Source")),
    )
    DATE, NUMBER, CUSTOMER, AMOUNT, STATUS, SOURCE = range(6)
    ORDER_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._text = ""
        self._count = 0
        self._pages: OrderedDict[int, list[OrderRow]] = OrderedDict()

    @property
    def text(self) -> str:
        return self._text

    def set_search(self, text: str) -> None:
        self._text = text.strip()
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._pages.clear()
        with self._ctx.read_session() as session:
            self._count = ordersvc.order_count(session, self._text)
        self.endResetModel()

    def total(self) -> int:
        return self._count

    def order_at(self, row: int) -> OrderRow | None:
        if not 0 <= row < self._count:
            return None
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            with self._ctx.read_session() as session:
                page = ordersvc.order_page(
                    session, self._text, offset=page_no * PAGE_SIZE, limit=PAGE_SIZE
                )
            self._pages[page_no] = page
            while len(self._pages) > PAGES_CACHED:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        offset = row - page_no * PAGE_SIZE
        return page[offset] if offset < len(page) else None

    # -- QAbstractTableModel ------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.tr(self.COLUMNS[section])
            if role == Qt.ItemDataRole.TextAlignmentRole and section == self.AMOUNT:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        order = self.order_at(index.row())
        if order is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(order, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.AMOUNT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and (
            column == self.SOURCE or is_cancelled_status(order.status)
        ):
            return MUTED_COLOR  # a cancelled order is listed, greyed: it is no sale
        cancelled_tip = role == Qt.ItemDataRole.ToolTipRole and column != self.CUSTOMER
        if cancelled_tip and is_cancelled_status(order.status):
            return self.tr("Cancelled: not counted in revenue, tiers or the at-risk review")
        if role == Qt.ItemDataRole.ToolTipRole and column == self.CUSTOMER:
            if order.customer_id is None:
                return self.tr("Not linked to a customer yet")
            return self.tr("Double-click to open {0}").format(order.customer)
        if role == self.ORDER_ROLE:
            return order
        return None

    def _display(self, order: OrderRow, column: int) -> str:
        if column == self.DATE:
            return short_date(order.order_date)
        if column == self.NUMBER:
            return order.order_number
        if column == self.CUSTOMER:
            return order.customer or self.tr("(no customer)")
        if column == self.AMOUNT:
            return format_money(order.amount, order.currency)
        if column == self.STATUS:
            return order.status or ""
        return order.source_system


class OrdersView(QWidget):
    """Search box above a lazy order table."""

    open_customer = Signal(int)
    status_message = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ordersView")
        self.ctx = ctx
        self.model = OrdersModel(ctx, self)

        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("orderSearch")
        self.search_edit.setPlaceholderText(
            self.tr("Search orders by number or customer (name, phone, e-mail)…")
        )
        self.search_edit.setClearButtonEnabled(True)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("countLabel")
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.count_label)

        self.table = QTableView(self)
        self.table.setObjectName("orderTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        # Fixed row height: the view never measures rows, so it never fetches them all.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(OrdersModel.CUSTOMER, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in (
            (OrdersModel.DATE, 110),
            (OrdersModel.NUMBER, 150),
            (OrdersModel.AMOUNT, 140),
            (OrdersModel.STATUS, 110),
            (OrdersModel.SOURCE, 120),
        ):
            header.resizeSection(column, width)
        # "activated" is a double-click (or Enter) in every style smbcrm uses.
        self.table.activated.connect(self._on_activated)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search_edit.textChanged.connect(self._search_timer.start)

        self._loaded = False

    def showEvent(self, event: QShowEvent) -> None:
        # Query only when first shown: a session that never opens Orders costs nothing.
        if not self._loaded:
            self.refresh()
        super().showEvent(event)

    @Slot()
    def refresh(self) -> None:
        self._loaded = True
        self.model.refresh()
        self._report()

    @Slot()
    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    @Slot()
    def _apply_search(self) -> None:
        self._loaded = True
        self.model.set_search(self.search_edit.text())
        self._report()

    def _report(self) -> None:
        total = self.model.total()
        if self.model.text:
            text = self.tr("{0:,} orders match “{1}”").format(total, self.model.text)
        else:
            text = self.tr("{0:,} orders").format(total)
        self.count_label.setText(text)
        self.status_message.emit(text)

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        order = self.model.order_at(index.row())
        if order is not None and order.customer_id is not None:
            self.open_customer.emit(order.customer_id)

    def selected_order(self) -> OrderRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.order_at(rows[0].row()) if rows else None
