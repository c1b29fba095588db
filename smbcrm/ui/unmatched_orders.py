"""Orders an import could not give a customer, listed by buyer, settled one buyer at a time.

The top table has one row per buyer (the same customer code, e-mail, phone or name + city
in the orders' files) with the number of orders, their total and why no customer matched;
the table below shows that buyer's orders. "Create customer" makes the buyer a customer
from what the file said and links every waiting order of that buyer; "Link to…" opens a
picker that searches the customer book as you type and links the buyer's orders to the
customer chosen. Each is one call to :mod:`smbcrm.services.order_links`.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.services import order_links
from smbcrm.services.customers import CustomerFilter, CustomerRow
from smbcrm.services.money import format_money, format_totals
from smbcrm.services.order_links import LinkResult, UnmatchedBuyer
from smbcrm.services.permissions import Permission
from smbcrm.ui.context import AppContext
from smbcrm.ui.style import EMPTY_STYLE, ERROR_STYLE, HINT_STYLE, OK_STYLE

log = logging.getLogger(__name__)

PICKER_RESULTS = 50
SEARCH_DELAY_MS = 150


def tr(text: str) -> str:
    return QCoreApplication.translate("UnmatchedOrders", text)


def _item(text: str, *, right: bool = False, tip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    item.setToolTip(tip or text)
    return item


class CustomerPicker(QDialog):
    """Find a customer by name, phone, code or contact, as you type; Enter picks the first."""

    def __init__(self, ctx: AppContext, buyer: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customerPicker")
        self.setWindowTitle(tr("Link to a customer"))
        self._ctx = ctx
        self.chosen_id: int | None = None
        hint = QLabel(tr("Link the orders of {0} to:").format(buyer))
        hint.setWordWrap(True)
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("pickerSearch")
        self.search_edit.setPlaceholderText(tr("Name, phone, e-mail, customer code…"))
        self.search_edit.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setObjectName("pickerResults")
        self.status = QLabel()
        self.status.setObjectName("pickerStatus")
        self.status.setStyleSheet(HINT_STYLE)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(tr("&Link"))
        ok.setObjectName("pickerLinkButton")
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(520, 440)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search)
        self.search_edit.textChanged.connect(lambda _t: self._timer.start())
        self.search_edit.returnPressed.connect(self._pick_first)
        self.results.itemDoubleClicked.connect(lambda _i: self.accept())
        self.results.currentRowChanged.connect(self._update_ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.search_edit.setText(buyer)
        self.search()

    @Slot()
    def search(self) -> None:
        """Search now (typing waits a moment first, so every keystroke is not a query)."""
        self._timer.stop()
        text = self.search_edit.text().strip()
        self.results.clear()
        if not text:
            self.status.setText(tr("Type to search the customer book."))
            self._update_ok()
            return
        try:
            with self._ctx.read_session() as session:
                rows: list[CustomerRow] = self._ctx.customer_list.page(
                    session, CustomerFilter(text=text), limit=PICKER_RESULTS
                )
        except (SQLAlchemyError, SmbcrmError):
            log.warning("Customer search failed", exc_info=True)
            self.status.setText(tr("The search could not be done; check the connection."))
            return
        for row in rows:
            parts = [row.name, row.city or "", row.phone, row.owner or tr("unassigned")]
            item = QListWidgetItem(" · ".join(p for p in parts if p) + f"  (ID {row.id})")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.results.addItem(item)
        if rows:
            self.results.setCurrentRow(0)
            self.status.setText(
                tr("{n} found; pick one and press Link.").format(n=len(rows))
                if len(rows) < PICKER_RESULTS
                else tr("More than {n} found: type more to narrow it.").format(n=PICKER_RESULTS)
            )
        else:
            self.status.setText(tr("No customer matches “{0}”.").format(text))
        self._update_ok()

    def _update_ok(self, *_args: object) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.results.currentItem() is not None)

    def _pick_first(self) -> None:
        if self._timer.isActive():
            self.search()
        if self.results.currentItem() is not None:
            self.accept()

    def accept(self) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        self.chosen_id = int(item.data(Qt.ItemDataRole.UserRole))
        super().accept()


class UnmatchedOrdersDialog(QDialog):
    """The waiting orders by buyer, with "Create customer" and "Link to…"."""

    BUYER_COLUMNS = ("Buyer", "Details", "Orders", "Amount", "Last order", "Why no match")
    ORDER_COLUMNS = ("Order", "Date", "Amount", "Status", "Source", "Import")
    changed = Signal()  # orders were linked: lists and counts elsewhere should refresh

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unmatchedOrdersDialog")
        self.setWindowTitle(tr("Unmatched orders"))
        self._ctx = ctx
        self.groups: list[UnmatchedBuyer] = []
        self.picker: CustomerPicker | None = None
        self._may_link = ctx.can(Permission.IMPORT_ORDERS)
        self._may_create = self._may_link and ctx.can(Permission.CREATE_CUSTOMERS)

        title = QLabel(tr("Orders without a customer"))
        title.setObjectName("dialogTitle")
        self.summary = QLabel()
        self.summary.setObjectName("unmatchedSummary")
        self.summary.setWordWrap(True)
        intro = QLabel(
            tr(
                "No customer had these orders' customer code, phone, e-mail or name. Make the "
                "buyer a customer (its other waiting orders come along), or link the orders to "
                "the customer they belong to."
            )
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(HINT_STYLE)

        self.buyers = self._table("buyersTable", self.BUYER_COLUMNS)
        self.buyers.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.orders = self._table("buyerOrdersTable", self.ORDER_COLUMNS)
        self.orders.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.empty_label = QLabel(
            tr("Every imported order has its customer. Nothing is waiting here.")
        )
        self.empty_label.setObjectName("unmatchedEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(EMPTY_STYLE)
        self.empty_label.hide()

        self.create_button = QPushButton(tr("&Create customer"))
        self.create_button.setObjectName("createCustomerButton")
        self.create_button.setToolTip(
            tr("A new customer from what the orders say about the buyer; all its orders linked.")
        )
        self.link_button = QPushButton(tr("&Link to…"))
        self.link_button.setObjectName("linkToButton")
        self.link_button.setToolTip(tr("Link this buyer's orders to a customer in the book."))
        self.close_button = QPushButton(tr("Close"))
        self.close_button.setObjectName("closeButton")
        for button in (self.create_button, self.link_button, self.close_button):
            button.setAutoDefault(False)
        self.message = QLabel()
        self.message.setObjectName("unmatchedMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.link_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.buyers)
        splitter.addWidget(self.orders)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.summary)
        layout.addWidget(intro)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(980, 620)

        self.buyers.itemSelectionChanged.connect(self._show_orders)
        self.create_button.clicked.connect(self.create_customer)
        self.link_button.clicked.connect(self.link_to)
        self.close_button.clicked.connect(self.accept)
        self.reload()

    @staticmethod
    def _table(name: str, columns: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setObjectName(name)
        table.setHorizontalHeaderLabels([tr(c) for c in columns])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setShowGrid(False)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return table

    # -- reading ----------------------------------------------------------------------------
    def reload(self, select_key: str | None = None) -> None:
        try:
            with self._ctx.read_session() as session:
                self.groups = order_links.unmatched_orders(session)
                waiting = order_links.unmatched_count(session)
        except SQLAlchemyError:
            log.warning("Reading the unmatched orders failed", exc_info=True)
            self.show_message(
                tr("The orders could not be read. Check the connection to the database."),
                error=True,
            )
            return
        total = sum(len(g.orders) for g in self.groups)
        if total:
            buyers = len(self.groups)
            text = tr("{orders} of {buyers} wait for a customer.").format(
                orders=tr("1 order") if total == 1 else tr("{n} orders").format(n=f"{total:,}"),
                buyers=tr("1 buyer") if buyers == 1 else tr("{n} buyers").format(n=f"{buyers:,}"),
            )
            if waiting > total:
                text += " " + tr("The latest {n:,} are listed.").format(n=total)
        else:
            text = ""
        self.summary.setText(text)
        self.summary.setVisible(bool(text))
        self.splitter.setVisible(bool(self.groups))
        self.empty_label.setVisible(not self.groups)
        region = self._ctx.region
        self.buyers.setRowCount(0)
        self.buyers.setRowCount(len(self.groups))
        for r, group in enumerate(self.groups):
            last = group.last_order
            values = [
                _item(group.name),
                _item(group.details(region)),
                _item(str(len(group.orders)), right=True),
                _item(format_totals(group.totals), right=True),
                _item(last.isoformat() if last else ""),
                _item(group.reason[:1].upper() + group.reason[1:]),
            ]
            for c, item in enumerate(values):
                self.buyers.setItem(r, c, item)
        self.buyers.resizeColumnsToContents()
        for column, limit in ((0, 260), (1, 260), (5, 420)):
            self.buyers.setColumnWidth(column, min(self.buyers.columnWidth(column) + 16, limit))
        if self.groups:
            keys = [g.key for g in self.groups]
            self.buyers.selectRow(keys.index(select_key) if select_key in keys else 0)
        self._show_orders()

    def selected_group(self) -> UnmatchedBuyer | None:
        rows = self.buyers.selectionModel().selectedRows() if self.groups else []
        if not rows or rows[0].row() >= len(self.groups):
            return None
        return self.groups[rows[0].row()]

    def select_buyer(self, name: str) -> None:
        for r, group in enumerate(self.groups):
            if group.name == name:
                self.buyers.selectRow(r)
                return
        raise LookupError(name)

    @Slot()
    def _show_orders(self) -> None:
        group = self.selected_group()
        orders = group.orders if group else []
        self.orders.setRowCount(0)
        self.orders.setRowCount(len(orders))
        for r, order in enumerate(orders):
            values = [
                _item(order.order_number),
                _item(order.order_date.isoformat()),
                _item(format_money(order.amount, order.currency), right=True),
                _item(order.status or ""),
                _item(order.source_system),
                _item(f"#{order.batch_id}" if order.batch_id else ""),
            ]
            for c, item in enumerate(values):
                self.orders.setItem(r, c, item)
        self.orders.resizeColumnsToContents()
        self.create_button.setEnabled(group is not None and self._may_create)
        self.link_button.setEnabled(group is not None and self._may_link)
        if group is not None and not self._may_create:
            self.create_button.setToolTip(
                tr("Only staff who may create customers can do this; link the orders instead.")
            )

    # -- acting -----------------------------------------------------------------------------
    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _done(self, result: LinkResult) -> None:
        orders = ", ".join(result.linked[:6]) + ("…" if len(result.linked) > 6 else "")
        if result.created:
            text = tr("Created {name}; linked {orders}.").format(
                name=result.customer_name, orders=orders
            )
        else:
            text = tr("Linked {orders} to {name}.").format(orders=orders, name=result.customer_name)
        if result.converted:
            text += " " + tr("{name} was a prospect and is now an active customer.").format(
                name=result.customer_name
            )
        self.reload()
        self.show_message(text)
        self.changed.emit()

    def _fail(self, exc: Exception) -> None:
        if isinstance(exc, SQLAlchemyError):
            log.warning("Linking orders failed", exc_info=True)
            self.show_message(
                tr("Nothing was changed: the database did not accept it. Try again."), error=True
            )
        else:
            self.show_message(str(exc), error=True)

    @Slot()
    def create_customer(self) -> LinkResult | None:
        group = self.selected_group()
        if group is None:
            return None
        try:
            with self._ctx.unit_of_work() as (session, user):
                result = order_links.create_customer_from_order(
                    session, user, group.orders[0].id, region=self._ctx.region
                )
                # The buyer's orders listed together here all go to the new customer.
                rest = [o.id for o in group.orders if o.order_number not in result.linked]
                if rest:
                    more = order_links.link_orders(session, user, rest, result.customer_id)
                    result = LinkResult(
                        result.customer_id,
                        result.customer_name,
                        [*result.linked, *more.linked],
                        converted=False,
                        created=True,
                    )
        except (SmbcrmError, SQLAlchemyError) as exc:
            self._fail(exc)
            return None
        self._done(result)
        return result

    @Slot()
    def link_to(self) -> LinkResult | None:
        group = self.selected_group()
        if group is None:
            return None
        picker = CustomerPicker(self._ctx, group.name, self)
        self.picker = picker
        try:
            if picker.exec() != QDialog.DialogCode.Accepted or picker.chosen_id is None:
                return None
            return self.link_group(group, picker.chosen_id)
        finally:
            self.picker = None
            picker.deleteLater()

    def link_group(self, group: UnmatchedBuyer, customer_id: int) -> LinkResult | None:
        try:
            with self._ctx.unit_of_work() as (session, user):
                result = order_links.link_orders(
                    session, user, [o.id for o in group.orders], customer_id
                )
        except (SmbcrmError, SQLAlchemyError) as exc:
            self._fail(exc)
            return None
        self._done(result)
        return result


def open_unmatched_orders(ctx: AppContext, parent: QWidget | None) -> UnmatchedOrdersDialog:
    dialog = UnmatchedOrdersDialog(ctx, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
