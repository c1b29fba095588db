"""The customer list as a Qt table model: pages of 200 rows, filtered and sorted by the database.

A thin adapter over :class:`smbcrm.services.customers.CustomerList`: only the first page is
read when the list opens (so 100,000 customers open as fast as 100); the view asks for more
pages as the user scrolls (``canFetchMore``/``fetchMore``). Sorting and filtering re-query.

Also home of the small formatting helpers the customer widgets share (status words, money,
local times), so every screen writes them the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QFont, QGuiApplication, QPalette
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from smbcrm.models import ActivityKind, CustomerKind, CustomerStatus, Tier
from smbcrm.services.customers import CustomerFilter, CustomerList, CustomerRow, SortColumn
from smbcrm.services.ui_support import count_all_customers, customer_position

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex


def tr(text: str) -> str:
    return QCoreApplication.translate("CustomerTableModel", text)


# ---------------------------------------------------------------------------------------
# Words and formats shared by the customer widgets


def status_label(status: CustomerStatus) -> str:
    return {
        CustomerStatus.PROSPECT: tr("Prospect"),
        CustomerStatus.ACTIVE: tr("Active"),
        CustomerStatus.LAPSED: tr("Lapsed"),
    }[status]


def kind_label(kind: CustomerKind) -> str:
    return {CustomerKind.COMPANY: tr("Company"), CustomerKind.PERSON: tr("Person")}[kind]


def activity_kind_label(kind: ActivityKind | str) -> str:
    labels = {
        ActivityKind.CALL: tr("Call"),
        ActivityKind.VISIT: tr("Visit"),
        ActivityKind.EMAIL: tr("E-mail"),
        ActivityKind.MESSAGE: tr("Message"),
        ActivityKind.MEETING: tr("Meeting"),
        ActivityKind.NOTE: tr("Note"),
        ActivityKind.COMPLAINT: tr("Complaint"),
    }
    try:
        return labels[ActivityKind(kind)]
    except ValueError:
        return str(kind).title()


def tier_label(tier: Tier | None) -> str:
    return tier.value if tier is not None else ""


def local_datetime(utc_naive: datetime) -> datetime:
    """Stored times are naive UTC; people read them in their own time zone."""
    return utc_naive.replace(tzinfo=UTC).astimezone()


def format_datetime(utc_naive: datetime | None) -> str:
    if utc_naive is None:
        return ""
    return local_datetime(utc_naive).strftime("%Y-%m-%d %H:%M")


def format_date(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


# ---------------------------------------------------------------------------------------
# The model


class CustomerColumn(IntEnum):
    NAME = 0
    CONTACT = 1
    PHONE = 2
    EMAIL = 3
    CITY = 4
    OWNER = 5
    STATUS = 6
    TIER = 7
    UPDATED = 8


def column_title(column: CustomerColumn) -> str:
    return {
        CustomerColumn.NAME: tr("Name"),
        CustomerColumn.CONTACT: tr("Contact"),
        CustomerColumn.PHONE: tr("Phone"),
        CustomerColumn.EMAIL: tr("E-mail"),
        CustomerColumn.CITY: tr("City"),
        CustomerColumn.OWNER: tr("Owner"),
        CustomerColumn.STATUS: tr("Status"),
        CustomerColumn.TIER: tr("Tier"),
        CustomerColumn.UPDATED: tr("Updated"),
    }[column]


# Columns the database can sort by (the others have no sort index).
SORT_COLUMNS: dict[CustomerColumn, SortColumn] = {
    CustomerColumn.NAME: SortColumn.NAME,
    CustomerColumn.PHONE: SortColumn.PHONE,
    CustomerColumn.CITY: SortColumn.CITY,
    CustomerColumn.OWNER: SortColumn.OWNER,
    CustomerColumn.STATUS: SortColumn.STATUS,
    CustomerColumn.TIER: SortColumn.TIER,
    CustomerColumn.UPDATED: SortColumn.UPDATED,
}

SessionFactory = Callable[[], Session]


class CustomerTableModel(QAbstractTableModel):
    """Customers matching a :class:`CustomerFilter`, read a page at a time."""

    PAGE_SIZE = 200
    # load_until() reads at most this many extra rows, in lists of at most this many matches.
    LOAD_AHEAD_LIMIT = 2000
    POSITION_LOOKUP_LIMIT = 20000
    WARM_UP_DELAY_MS = 500

    # (customers matching the filter, all live customers) after every (re)load.
    counts_changed = Signal(int, int)
    # A message a person can act on, when the database could not be read.
    load_failed = Signal(str)

    def __init__(
        self,
        customer_list: CustomerList,
        open_session: SessionFactory,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._customer_list = customer_list
        self._open_session = open_session
        self._filter = CustomerFilter()
        self._sort_column = CustomerColumn.NAME
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._rows: list[CustomerRow] = []
        self._matching = 0
        self._total: int | None = None  # all live customers; None until counted
        self._total_include_archived = False
        self._exhausted = True
        # False when a search matched more than it counted ("10,000+ match").
        self._matching_exact = True

    # -- state ----------------------------------------------------------------------------
    @property
    def customer_filter(self) -> CustomerFilter:
        return self._filter

    @property
    def sort_column(self) -> CustomerColumn:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    @property
    def matching_count(self) -> int:
        return self._matching

    @property
    def matching_is_exact(self) -> bool:
        return self._matching_exact

    @property
    def total_count(self) -> int:
        return self._total or 0

    @staticmethod
    def is_sortable(column: int) -> bool:
        return column in SORT_COLUMNS

    def customer_row(self, row: int) -> CustomerRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def customer_id_at(self, row: int) -> int | None:
        found = self.customer_row(row)
        return found.id if found is not None else None

    def row_of(self, customer_id: int) -> int | None:
        """Row of a customer among the rows loaded so far."""
        return next((i for i, r in enumerate(self._rows) if r.id == customer_id), None)

    # -- loading --------------------------------------------------------------------------
    def reload(self, customer_filter: CustomerFilter | None = None) -> None:
        """Read the first page and both counts again (on opening, F5, after a save)."""
        self._customer_list.index.touch()
        if customer_filter is not None:
            self._filter = customer_filter
        self._reset(count_matching=True, count_all=True)

    def set_filter(self, customer_filter: CustomerFilter) -> None:
        """Show the customers matching ``customer_filter``, from the first page."""
        self._filter = customer_filter
        self._reset(count_matching=True, count_all=self._total is None)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Let the database sort; columns without a sort index are left as they are."""
        if not self.is_sortable(column):
            return
        new_column = CustomerColumn(column)
        if (new_column, order) == (self._sort_column, self._sort_order):
            return
        self._sort_column = new_column
        self._sort_order = order
        self._reset(count_matching=False, count_all=False)

    def _page(self, session: Session, offset: int, limit: int) -> list[CustomerRow]:
        return self._customer_list.page(
            session,
            self._filter,
            sort=SORT_COLUMNS[self._sort_column],
            descending=self._sort_order == Qt.SortOrder.DescendingOrder,
            offset=offset,
            limit=limit,
        )

    def _reset(self, *, count_matching: bool, count_all: bool) -> None:
        self.beginResetModel()
        try:
            self._load_first_page(count_matching=count_matching, count_all=count_all)
        finally:
            self.endResetModel()
        self.counts_changed.emit(self._matching, self.total_count)

    def _load_first_page(self, *, count_matching: bool, count_all: bool) -> None:
        flt = self._filter
        everyone = CustomerFilter(include_archived=flt.include_archived)
        matching, total = self._matching, self._total
        if self._total_include_archived != flt.include_archived:
            total = None  # counted for the other archived setting
        try:
            with self._open_session() as session:
                rows = self._page(session, 0, self.PAGE_SIZE)
                if flt == everyone:
                    self._matching_exact = True
                    if count_matching or count_all or total is None:
                        total = count_all_customers(session, include_archived=flt.include_archived)
                    matching = total
                else:
                    if count_matching:
                        matching, self._matching_exact = self._customer_list.counted(session, flt)
                    if flt.text.strip() and not flt.include_archived:
                        # The search has just refreshed its in-memory index of live customers.
                        total = len(self._customer_list.index)
                    elif count_all or total is None:
                        total = count_all_customers(session, include_archived=flt.include_archived)
        except SQLAlchemyError as exc:
            self._report(exc)
            rows, matching, total = [], 0, None
        self._rows = rows
        self._matching = max(matching, len(rows))
        self._total = total
        self._total_include_archived = flt.include_archived
        self._exhausted = len(rows) < self.PAGE_SIZE

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid():
            return False
        return not self._exhausted

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        self._append(self.PAGE_SIZE)

    def _append(self, limit: int) -> None:
        try:
            with self._open_session() as session:
                more = self._page(session, len(self._rows), limit)
        except SQLAlchemyError as exc:
            self._report(exc)
            self._exhausted = True
            return
        if len(more) < limit:
            self._exhausted = True
        if not more:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()

    def load_until(self, customer_id: int) -> int | None:
        """Make sure the customer's row is loaded, reading pages as needed; its row or None.

        None when the customer does not match the current filter, or sits so far down a
        long list that reading every page before it would keep the user waiting.
        """
        row = self.row_of(customer_id)
        if row is not None:
            return row
        if self._matching > self.POSITION_LOOKUP_LIMIT:
            return None
        try:
            with self._open_session() as session:
                position = customer_position(
                    session,
                    self._customer_list,
                    self._filter,
                    customer_id,
                    sort=SORT_COLUMNS[self._sort_column],
                    descending=self._sort_order == Qt.SortOrder.DescendingOrder,
                )
        except SQLAlchemyError as exc:
            self._report(exc)
            return None
        if position is None or position - len(self._rows) >= self.LOAD_AHEAD_LIMIT:
            return None
        if position >= len(self._rows) and not self._exhausted:
            missing = position + 1 - len(self._rows)
            pages = -(-missing // self.PAGE_SIZE)
            self._append(pages * self.PAGE_SIZE)
        return self.row_of(customer_id)

    def warm_up_search(self) -> None:
        """Read the search index on a background thread, so the first keystroke need not wait.

        Only a head start: a search that comes first simply waits for (or does) the load.
        """
        # Not before the window has painted its first page: the load competes for the GIL.
        QTimer.singleShot(self.WARM_UP_DELAY_MS, self, self._start_warm_up)

    def _start_warm_up(self) -> None:
        thread = threading.Thread(target=self._warm_up, name="customer-search-warm-up", daemon=True)
        thread.start()

    def _warm_up(self) -> None:
        # Runs on a plain thread: touches no Qt object, only the service's thread-safe index.
        try:
            with self._open_session() as session:
                index = self._customer_list.index
                index.refresh(session)
                index.matching_ids([])  # builds the text it scans
        except Exception:  # the search will load the index itself
            log.debug("Search index warm-up failed", exc_info=True)

    def _report(self, exc: SQLAlchemyError) -> None:
        log.warning("Reading the customer list failed", exc_info=exc)
        self.load_failed.emit(
            tr(
                "The customer list could not be read from the database ({reason}). "
                "Check the connection to the database, then press F5 to try again."
            ).format(reason=type(exc.orig if hasattr(exc, "orig") else exc).__name__)
        )

    # -- Qt model interface ---------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(CustomerColumn)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(CustomerColumn):
            return None
        column = CustomerColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return column_title(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column in SORT_COLUMNS:
                return tr("Click to sort by {column}").format(column=column_title(column).lower())
            return tr("This column cannot be sorted")
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.customer_row(index.row())
        if row is None:
            return None
        column = CustomerColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            unassigned = column == CustomerColumn.OWNER and not row.owner
            if row.archived or unassigned:
                palette = QGuiApplication.palette()
                return QBrush(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
            return None
        if role == Qt.ItemDataRole.FontRole and row.archived:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == CustomerColumn.TIER:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    @staticmethod
    def _display(row: CustomerRow, column: CustomerColumn) -> str:
        if column == CustomerColumn.NAME:
            return row.name
        if column == CustomerColumn.CONTACT:
            return row.contact or ""
        if column == CustomerColumn.PHONE:
            return row.phone
        if column == CustomerColumn.EMAIL:
            return row.email or ""
        if column == CustomerColumn.CITY:
            return row.city or ""
        if column == CustomerColumn.OWNER:
            return row.owner or tr("Unassigned")
        if column == CustomerColumn.STATUS:
            return status_label(row.status)
        if column == CustomerColumn.TIER:
            return tier_label(row.tier)
        return format_date(local_datetime(row.updated_at).date())

    def _tooltip(self, row: CustomerRow, column: CustomerColumn) -> str:
        if column == CustomerColumn.NAME:
            lines = [row.name, f"{kind_label(row.kind)} · {status_label(row.status)}"]
            if row.archived:
                lines.append(tr("Archived: hidden from the list unless archived ones are shown."))
            return "\n".join(lines)
        if column == CustomerColumn.OWNER and not row.owner:
            return tr("In the unassigned pool: no salesperson is responsible yet.")
        if column == CustomerColumn.UPDATED:
            return tr("Last changed {when}").format(when=format_datetime(row.updated_at))
        return self._display(row, column)
