"""The customer list: find a customer as you type, see everything about them, act on them.

A search box (debounced, so typing stays smooth at 100,000 customers), status / owner / tier
filters, the lazily loaded :class:`CustomerTableModel` and, to the right, the
:class:`CustomerDetailPane`. The actions (new, edit, log activity, find, refresh) are exposed
as attributes so the main window can put them in its menus and toolbar.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QEvent, QItemSelection, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.models import CustomerStatus, Tier
from smbcrm.services import customers
from smbcrm.services.customers import UNASSIGNED, CustomerFilter
from smbcrm.services.permissions import Permission
from smbcrm.services.ui_support import owner_filter_choices
from smbcrm.ui.activity_dialog import ActivityDialog
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_detail import CustomerDetailPane
from smbcrm.ui.customer_dialog import CustomerDialog
from smbcrm.ui.customers_model import (
    CustomerColumn,
    CustomerTableModel,
    activity_kind_label,
    status_label,
)

log = logging.getLogger(__name__)


def tr(text: str) -> str:
    return QCoreApplication.translate("CustomersView", text)


class CustomerTable(QTableView):
    """The list itself; Enter or a double-click asks to open the customer."""

    open_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.open_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class CustomersView(QWidget):
    """Search, filter and browse customers; edit them and log what happened."""

    SEARCH_DELAY_MS = 200
    # Below this width the search box takes a row of its own above the filters.
    NARROW_WIDTH = 860
    DETAIL_DELAY_MS = 60  # arrowing through the list does not read every customer passed

    status_message = Signal(str)
    # A customer was created or changed here (other views may want to refresh).
    customer_saved = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customersView")
        self.ctx = ctx
        self.model = CustomerTableModel(ctx.customer_list, ctx.read_session, self)
        self._restore_id: int | None = None
        self._sized = False
        self._may_create = ctx.can(Permission.CREATE_CUSTOMERS)

        self._build_filters()
        self._build_table()
        self.detail = CustomerDetailPane(ctx)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("customerSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._filter_bar)
        layout.addWidget(self.splitter, 1)

        self._build_actions()
        for action in (self.edit_action, self.log_activity_action):
            self.detail.add_header_action(action)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(self.SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(self.DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(self._show_current_in_detail)
        self._wire()

        self._fill_owner_filter()
        self.model.reload()
        self.model.warm_up_search()

    # -- building -------------------------------------------------------------------------
    def _build_filters(self) -> None:
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("customerSearch")
        self.search_edit.setPlaceholderText(tr("Search name, contact, phone, e-mail, city…"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setToolTip(
            tr(
                "Type part of a name (2 Chinese characters are enough), a contact, a phone "
                "written any way, an e-mail or a city. Several words must all match. "
                "Enter or ↓ moves to the list."
            )
        )
        self.search_edit.installEventFilter(self)

        self.status_filter = QComboBox()
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.addItem(tr("All statuses"), None)
        for status in CustomerStatus:
            self.status_filter.addItem(status_label(status), status)

        self.owner_filter = QComboBox()
        self.owner_filter.setObjectName("ownerFilter")
        self.owner_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

        self.tier_filter = QComboBox()
        self.tier_filter.setObjectName("tierFilter")
        self.tier_filter.addItem(tr("All tiers"), None)
        for tier in Tier:
            self.tier_filter.addItem(tr("Tier {tier}").format(tier=tier.value), tier)

        self.archived_check = QCheckBox(tr("Archived too"))
        self.archived_check.setObjectName("showArchived")
        self.archived_check.setToolTip(tr("Also list archived customers (shown greyed)."))

        self.count_label = QLabel()
        self.count_label.setObjectName("customerCount")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self._filter_bar = QGridLayout()
        self._filters_narrow: bool | None = None
        self._arrange_filters(narrow=False)

    def _arrange_filters(self, narrow: bool) -> None:
        """One row of search and filters; in a narrow window the search box gets a row of
        its own, so it stays wide enough to read what was typed."""
        if narrow == self._filters_narrow:
            return
        self._filters_narrow = narrow
        bar = self._filter_bar
        filters = [self.status_filter, self.owner_filter, self.tier_filter, self.archived_check]
        for widget in [self.search_edit, *filters, self.count_label]:
            bar.removeWidget(widget)
        for column in range(len(filters) + 2):
            bar.setColumnStretch(column, 0)
        if narrow:
            bar.addWidget(self.search_edit, 0, 0, 1, len(filters) + 1)
            for column, widget in enumerate([*filters, self.count_label]):
                bar.addWidget(widget, 1, column)
            bar.setColumnStretch(len(filters), 1)
        else:
            for column, widget in enumerate([self.search_edit, *filters, self.count_label]):
                bar.addWidget(widget, 0, column)
            bar.setColumnStretch(0, 3)
            bar.setColumnStretch(len(filters) + 1, 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._arrange_filters(event.size().width() < self.NARROW_WIDTH)
        super().resizeEvent(event)

    def _build_table(self) -> None:
        table = CustomerTable()
        table.setObjectName("customerTable")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSortIndicator(CustomerColumn.NAME, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
        metrics = table.fontMetrics()
        samples = {
            CustomerColumn.NAME: "深圳市华强电子科技有限公司",
            CustomerColumn.CONTACT: "Amelia Green",
            CustomerColumn.PHONE: "+49 1517 59101234",
            CustomerColumn.EMAIL: "sales@example.com",
            CustomerColumn.CITY: "Singapore",
            CustomerColumn.OWNER: "Tom Baker",
            CustomerColumn.STATUS: "Prospect",
            CustomerColumn.TIER: "Tier",
            CustomerColumn.UPDATED: "2026-01-15",
        }
        for column, sample in samples.items():
            table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 16)
        self.table = table

    def _build_actions(self) -> None:
        def action(text: str, shortcut: QKeySequence, tip: str, name: str) -> QAction:
            act = QAction(text, self)
            act.setObjectName(name)
            act.setShortcut(shortcut)
            act.setToolTip(f"{tip} ({shortcut.toString(QKeySequence.SequenceFormat.NativeText)})")
            act.setStatusTip(tip)
            self.addAction(act)
            return act

        self.new_action = action(
            tr("&New customer…"),
            QKeySequence(QKeySequence.StandardKey.New),
            tr("Add a customer or prospect"),
            "newCustomerAction",
        )
        self.edit_action = action(
            tr("&Edit customer…"),
            QKeySequence("Ctrl+E"),
            tr("Change the selected customer"),
            "editCustomerAction",
        )
        self.log_activity_action = action(
            tr("&Log activity…"),
            QKeySequence("Ctrl+L"),
            tr("Record a call, visit or note with the selected customer"),
            "logActivityAction",
        )
        self.focus_search_action = action(
            tr("&Find customer"),
            QKeySequence(QKeySequence.StandardKey.Find),
            tr("Search customers by name, contact, phone, e-mail or city"),
            "findCustomerAction",
        )
        self.refresh_action = action(
            tr("&Refresh"),
            QKeySequence(QKeySequence.StandardKey.Refresh),
            tr("Read the customer list again (see changes made on other computers)"),
            "refreshCustomersAction",
        )
        if self.refresh_action.shortcut() != QKeySequence("F5"):
            self.refresh_action.setShortcuts([QKeySequence("F5"), *self.refresh_action.shortcuts()])
        self.new_action.setEnabled(self._may_create)
        if not self._may_create:
            self.new_action.setToolTip(
                tr("Your role may not add customers; ask an owner or manager.")
            )
        self.edit_action.setEnabled(False)
        self.log_activity_action.setEnabled(False)

    def _wire(self) -> None:
        self.search_edit.textChanged.connect(self._on_search_text_changed)
        self.search_edit.returnPressed.connect(self._on_search_return)
        for combo in (self.status_filter, self.owner_filter, self.tier_filter):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.archived_check.toggled.connect(self.apply_filter)
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._restore_selection)
        self.model.counts_changed.connect(self._show_counts)
        self.model.load_failed.connect(self.status_message)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._on_selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.edit_customer())
        self.table.open_requested.connect(self.edit_customer)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._keep_sortable_indicator)
        self.new_action.triggered.connect(self.new_customer)
        self.edit_action.triggered.connect(lambda _checked=False: self.edit_customer())
        self.log_activity_action.triggered.connect(self.log_activity)
        self.focus_search_action.triggered.connect(self.focus_search)
        self.refresh_action.triggered.connect(self.refresh)

    def _fill_owner_filter(self) -> None:
        current = self.owner_filter.currentData()
        self.owner_filter.blockSignals(True)
        try:
            self.owner_filter.clear()
            self.owner_filter.addItem(tr("All owners"), None)
            self.owner_filter.addItem(tr("My customers"), self.ctx.user_id)
            self.owner_filter.addItem(tr("Unassigned pool"), UNASSIGNED)
            try:
                with self.ctx.read_session() as session:
                    staff = owner_filter_choices(session)
            except SQLAlchemyError:
                log.warning("Reading the staff list failed", exc_info=True)
                staff = []
            self.owner_filter.insertSeparator(self.owner_filter.count())
            for member in staff:
                if member.id == self.ctx.user_id:
                    continue
                # Someone who left but still holds customers: a book to hand over.
                label = member.full_name if member.active else tr("{name} (left)")
                self.owner_filter.addItem(label.format(name=member.full_name), member.id)
            index = self.owner_filter.findData(current) if current is not None else 0
            self.owner_filter.setCurrentIndex(max(index, 0))
        finally:
            self.owner_filter.blockSignals(False)

    # -- filtering ------------------------------------------------------------------------
    def current_filter(self) -> CustomerFilter:
        return CustomerFilter(
            text=self.search_edit.text(),
            status=self.status_filter.currentData(),
            owner_id=self.owner_filter.currentData(),
            tier=self.tier_filter.currentData(),
            include_archived=self.archived_check.isChecked(),
        )

    def _on_search_text_changed(self, _text: str) -> None:
        self._search_timer.start()  # restarts: the filter runs once typing pauses

    def _on_search_return(self) -> None:
        if self._search_timer.isActive() or self.model.customer_filter != self.current_filter():
            self.apply_filter()
        if self.model.rowCount():
            self.table.setFocus()
            if not self.table.selectionModel().hasSelection():
                self.table.selectRow(0)

    def apply_filter(self) -> None:
        """Run the filter now (the search box does this by itself once typing pauses)."""
        self._search_timer.stop()
        wanted = self.current_filter()
        if wanted != self.model.customer_filter:
            self.model.set_filter(wanted)

    def _show_counts(self, matching: int, total: int) -> None:
        flt = self.model.customer_filter
        filtered = flt != CustomerFilter(include_archived=flt.include_archived)
        if filtered:
            shown = f"{matching:,}" if self.model.matching_is_exact else f"{matching:,}+"
            text = tr("{matching} of {total} match").format(matching=shown, total=f"{total:,}")
        elif total == 1:
            text = tr("1 customer")
        else:
            text = tr("{total} customers").format(total=f"{total:,}")
        self.count_label.setText(text)

    def _keep_sortable_indicator(self, section: int, _order: Qt.SortOrder) -> None:
        if self.model.is_sortable(section):
            return
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)
        header.blockSignals(False)
        self.status_message.emit(
            tr("The list cannot be sorted by this column; showing it sorted as before.")
        )

    # -- selection ------------------------------------------------------------------------
    def current_customer_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.customer_id_at(rows[0].row())

    def _remember_selection(self) -> None:
        self._restore_id = self.current_customer_id()

    def _restore_selection(self) -> None:
        wanted = self._restore_id
        self._restore_id = None
        row = self.model.row_of(wanted) if wanted is not None else None
        if row is None and self.model.rowCount():
            row = 0
        if row is None:
            self._update_actions(None)
            self.detail.show_customer(None)
            return
        self._select_row(row)

    def _select_row(self, row: int, *, centre: bool = False) -> None:
        index = self.model.index(row, CustomerColumn.NAME)
        self.table.selectionModel().setCurrentIndex(
            index,
            self.table.selectionModel().SelectionFlag.ClearAndSelect
            | self.table.selectionModel().SelectionFlag.Rows,
        )
        hint = QAbstractItemView.ScrollHint
        self.table.scrollTo(index, hint.PositionAtCenter if centre else hint.EnsureVisible)

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        customer_id = self.current_customer_id()
        self._update_actions(customer_id)
        if customer_id != self.detail.customer_id or customer_id is None:
            self._detail_timer.start()

    def _show_current_in_detail(self) -> None:
        customer_id = self.current_customer_id()
        if customer_id != self.detail.customer_id or self.detail.detail is None:
            self.detail.show_customer(customer_id)

    def _update_actions(self, customer_id: int | None) -> None:
        self.edit_action.setEnabled(customer_id is not None)
        self.log_activity_action.setEnabled(customer_id is not None)

    def select_customer(self, customer_id: int) -> bool:
        """Select and show a customer; clears the filters if they hide it. False if unlisted."""
        row = self.model.load_until(customer_id)
        if row is None:
            name = self._customer_name(customer_id)
            if name is None:
                return False
            self._search_for(name)
            row = self.model.load_until(customer_id)
            self.status_message.emit(
                tr("Filters cleared to show {name}; clear the search to see everyone.").format(
                    name=name
                )
            )
        self._detail_timer.stop()
        if row is None:  # archived, or merged away: still show it on the right
            self.table.clearSelection()
            self.detail.show_customer(customer_id)
            self._update_actions(self.detail.customer_id)
            return False
        self._select_row(row, centre=True)
        self._detail_timer.stop()
        self.detail.show_customer(customer_id)
        return True

    def _customer_name(self, customer_id: int) -> str | None:
        try:
            with self.ctx.read_session() as session:
                return customers.get_customer(session, customer_id).name
        except (SmbcrmError, SQLAlchemyError):
            return None

    def _search_for(self, text: str) -> None:
        """Show the customers found by ``text``, all filters cleared."""
        for widget in (self.search_edit, self.status_filter, self.owner_filter, self.tier_filter):
            widget.blockSignals(True)
        try:
            self.search_edit.setText(text)
            self.status_filter.setCurrentIndex(0)
            self.owner_filter.setCurrentIndex(0)
            self.tier_filter.setCurrentIndex(0)
        finally:
            for widget in (
                self.search_edit,
                self.status_filter,
                self.owner_filter,
                self.tier_filter,
            ):
                widget.blockSignals(False)
        self.apply_filter()

    # -- actions --------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def refresh(self) -> None:
        self._fill_owner_filter()
        self._search_timer.stop()
        self.model.reload(self.current_filter())
        self.detail.reload()
        self.status_message.emit(tr("Customer list refreshed."))

    def new_customer(self) -> CustomerDialog | None:
        """Open the new-customer form (window-modal); the dialog is returned for callers."""
        if not self._may_create:
            return None
        return self._open_customer_dialog(None)

    def edit_customer(self, customer_id: int | None = None) -> CustomerDialog | None:
        customer_id = customer_id if customer_id is not None else self.current_customer_id()
        if customer_id is None:
            return None
        return self._open_customer_dialog(customer_id)

    def _open_customer_dialog(self, customer_id: int | None) -> CustomerDialog:
        dialog = CustomerDialog(self.ctx, customer_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._after_save(dialog, is_new=customer_id is None))
        dialog.open_customer_requested.connect(self.select_customer)  # "Open" on a look-alike
        dialog.open()
        return dialog

    def _after_save(self, dialog: CustomerDialog, *, is_new: bool) -> None:
        customer_id = dialog.saved_customer_id
        if customer_id is None:
            return
        self.model.reload()
        self.select_customer(customer_id)
        name = dialog.saved_customer_name or ""
        message = tr("Added {name}.") if is_new else tr("Saved {name}.")
        self.status_message.emit(message.format(name=name))
        self.customer_saved.emit(customer_id)

    def log_activity(self) -> ActivityDialog | None:
        customer_id = self.current_customer_id() or self.detail.customer_id
        if customer_id is None:
            return None
        dialog = ActivityDialog(self.ctx, customer_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._after_activity(dialog, customer_id))
        dialog.open()
        return dialog

    def _after_activity(self, dialog: ActivityDialog, customer_id: int) -> None:
        if self.detail.customer_id == customer_id:
            self.detail.reload()
            self.detail.tabs.setCurrentWidget(self.detail.activities_tab)
        kind = activity_kind_label(dialog.logged_kind) if dialog.logged_kind else ""
        name = self.detail.detail.name if self.detail.detail else ""
        self.status_message.emit(tr("Logged {kind} with {name}.").format(kind=kind, name=name))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized:
            # First show: the list gets what its columns need, the detail pane the rest.
            self._sized = True
            header = self.table.horizontalHeader()
            wanted = header.length() + self.table.verticalScrollBar().sizeHint().width() + 4
            total = self.splitter.width()
            list_width = max(min(wanted, int(total * 0.62)), int(total * 0.5))
            self.splitter.setSizes([list_width, total - list_width])

    # -- keys -----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Down and self.model.rowCount():
                self._on_search_return()
                return True
            if event.key() == Qt.Key.Key_Escape and self.search_edit.text():
                self.search_edit.clear()
                self.apply_filter()
                return True
        return super().eventFilter(watched, event)
