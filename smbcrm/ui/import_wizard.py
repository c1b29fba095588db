"""The import wizard: any spreadsheet from any system → customers or orders, previewed, undoable.

Four steps over the import services (``smbcrm.services.importing``), each a page of one
stacked dialog with Back / Next / Cancel:

1. **File** — choose the file (or get it dropped on the window), the sheet, the source
   system and what it holds (customers or orders — orders are picked when the columns read
   like an order export); the file is read on a worker, and a file that cannot be read
   says why, in red.
2. **Columns** — every column of the file with sample values and the field it feeds,
   guessed from the header (or taken from a saved mapping); problems keep Next disabled.
3. **Preview** — the plan is built on a worker; every row's outcome and reason in a table
   model (100,000 rows make no widgets), possible duplicates decided per row, rows with
   problems saved to .xlsx to fix.
4. **Done** — after ``apply_plan`` (on a worker, with Cancel: cancelled means nothing was
   written) the counts, the batch, and "Undo this import".

Orders take the same steps: their preview lists every order with its customer and how it
was found (code, phone, e-mail, name) or why none was, and the last page leads to the
unmatched orders.

No rules live here: reading, mapping, matching, writing and undoing are service calls.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QBrush, QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.models import ImportKind, LinkRoute
from smbcrm.models.keys import format_phone
from smbcrm.services import auth
from smbcrm.services.errors import SmbcrmError
from smbcrm.services.importing.apply import BatchResult, apply_plan
from smbcrm.services.importing.fields import SPECS, Field, FieldSpec, fields_for
from smbcrm.services.importing.mapping import (
    Mapping,
    auto_map,
    header_hint,
    mapping_problems,
    save_mapping,
    saved_mapping_names,
)
from smbcrm.services.importing.orders import (
    OrderBatchResult,
    OrderImportPlan,
    OrderOutcome,
    PlannedOrder,
    apply_order_plan,
    build_order_plan,
    looks_like_orders,
)
from smbcrm.services.importing.orders_match import ROUTE_LABELS
from smbcrm.services.importing.plan import (
    CellProblem,
    ImportOptions,
    ImportPlan,
    OnDuplicate,
    Outcome,
    RowPlan,
    apply_decisions,
    build_plan,
)
from smbcrm.services.importing.problems import write_problem_rows
from smbcrm.services.importing.reader import SheetInfo, Table, list_sheets, read_table
from smbcrm.services.importing.service import DEFAULT_SOURCE, choose_mapping
from smbcrm.services.importing.undo import UndoResult
from smbcrm.services.permissions import Permission
from smbcrm.services.progress import Progress
from smbcrm.ui.batches_view import UndoRunner, undo_result_text
from smbcrm.ui.context import AppContext
from smbcrm.ui.workers import ProgressDialog, Worker

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex

KIND = ImportKind.CUSTOMERS  # what a file is imported as unless it reads like orders
FILE_FILTER = "Spreadsheets (*.xlsx *.xlsm *.xls *.csv *.txt)"
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".txt", ".tsv"}
SAMPLE_COUNT = 3
SAMPLE_SCAN_ROWS = 5000  # a column empty this far down shows no samples; fine
SAMPLE_MAX_CHARS = 40

ERROR_STYLE = "QLabel { color: #b3261e; }"
OK_STYLE = "QLabel { color: #1b6e3a; }"
BANNER_STYLE = (
    "QLabel { background: #eef4ff; color: #1e3a8a; border: 1px solid #c9d8f8;"
    " border-radius: 6px; padding: 8px 10px; }"
)
WARNING_STYLE = (
    "QLabel { background: #fff6e0; color: #6b4400; border: 1px solid #f0d9a0;"
    " border-radius: 6px; padding: 8px 10px; }"
)
STOP_STYLE = (
    "QLabel { background: #fdecea; color: #8c1d18; border: 1px solid #f5c2bd;"
    " border-radius: 6px; padding: 8px 10px; }"
)

# (text, background) per outcome: new green, update blue, unchanged grey, duplicate amber,
# error red — the same colours in the chips and in the table.
OUTCOME_COLORS: dict[Outcome, tuple[str, str]] = {
    Outcome.CREATE: ("#17663a", "#e2f4e8"),
    Outcome.UPDATE: ("#1e40af", "#e0eafd"),
    Outcome.UNCHANGED: ("#4b5563", "#eceff3"),
    Outcome.SAME_AS_ROW: ("#4b5563", "#eceff3"),
    Outcome.DUPLICATE: ("#8a5300", "#fff0d4"),
    Outcome.REVIEW: ("#8a5300", "#fff0d4"),
    Outcome.SKIP: ("#4b5563", "#eceff3"),
    Outcome.ERROR: ("#b3261e", "#fdecea"),
}
ALWAYS_SHOWN = (Outcome.CREATE, Outcome.UPDATE, Outcome.UNCHANGED, Outcome.DUPLICATE, Outcome.ERROR)
DECISIONS = (Outcome.CREATE, Outcome.UPDATE, Outcome.SKIP, Outcome.REVIEW)
# Changes that add to a list (a second phone) rather than replace a value.
ADDED_COLUMNS = {"phones", "emails", "tags", "wechat", "contact", "external_id"}


def tr(text: str) -> str:
    return QCoreApplication.translate("ImportWizard", text)


class Step(IntEnum):
    FILE = 0
    MAPPING = 1
    PREVIEW = 2
    SUMMARY = 3


# -- plain helpers (formatting only) --------------------------------------------------------


def display_value(value: object) -> str:
    """A cell or a change as a person reads it: 13800138000.0 → 13800138000, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return tr("yes") if value else tr("no")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, list | tuple | set):
        return ", ".join(display_value(v) for v in value)
    return str(value)


def sample_values(table: Table, limit: int = SAMPLE_COUNT) -> list[list[str]]:
    """The first ``limit`` non-empty values of each column, to recognise it by."""
    width = len(table.header)
    samples: list[list[str]] = [[] for _ in range(width)]
    missing = width
    for cells in table.rows[:SAMPLE_SCAN_ROWS]:
        for i, value in enumerate(cells[:width]):
            column = samples[i]
            if len(column) >= limit:
                continue
            text = display_value(value).strip()
            if text:
                if len(text) > SAMPLE_MAX_CHARS:
                    text = text[: SAMPLE_MAX_CHARS - 1] + "…"
                column.append(text)
                if len(column) == limit:
                    missing -= 1
        if missing == 0:
            break
    return samples


def field_choice_label(spec: FieldSpec) -> str:
    return f"{tr(spec.label)} / {spec.label_zh}"


def plural(count: int, one: str, many: str) -> str:
    return (one if count == 1 else many).format(n=f"{count:,}")


def rows_text(numbers: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    more = "…" if len(numbers) > limit else ""
    return (tr("row {0}") if len(numbers) == 1 else tr("rows {0}")).format(shown + more)


def change_label(column: str) -> str:
    special = {
        "owner_id": tr("Owner"),
        "phones": tr("Phones"),
        "emails": tr("E-mails"),
        "external_id": tr("Customer code"),
        "contact": tr("Contact"),
    }
    if column in special:
        return special[column]
    try:
        return tr(SPECS[Field(column)].label)
    except (ValueError, KeyError):
        return column.replace("_", " ").capitalize()


def change_text(column: str, old: Any, new: Any, staff: dict[int, str], region: str) -> str:
    """'City: 广州 → 深圳', 'Phones: + 139 1234 5678'."""

    def show(value: Any) -> str:
        if column == "owner_id" and isinstance(value, int):
            return staff.get(value, tr("staff #{0}").format(value))
        if column == "phones" and isinstance(value, list):
            return ", ".join(format_phone(str(v), region) for v in value)
        return display_value(value)

    label = change_label(column)
    if column in ADDED_COLUMNS:
        return f"{label}: + {show(new)}"
    return f"{label}: {show(old) or '—'} → {show(new) or '—'}"


def outcome_label(row: RowPlan) -> str:
    if row.outcome == Outcome.DUPLICATE:
        decided = {
            Outcome.CREATE: tr("Duplicate? → new"),
            Outcome.UPDATE: tr("Duplicate? → update"),
            Outcome.SKIP: tr("Duplicate? → skip"),
            Outcome.REVIEW: tr("Duplicate? → review"),
        }
        return decided.get(row.decision or row.outcome, tr("Possible duplicate"))
    if row.outcome == Outcome.SAME_AS_ROW and row.same_as_row is not None:
        return tr("Same as row {0}").format(row.same_as_row)
    return {
        Outcome.CREATE: tr("New"),
        Outcome.UPDATE: tr("Update"),
        Outcome.UNCHANGED: tr("Unchanged"),
        Outcome.SAME_AS_ROW: tr("Same as an earlier row"),
        Outcome.REVIEW: tr("For review"),
        Outcome.SKIP: tr("Skipped"),
        Outcome.ERROR: tr("Error"),
    }[row.outcome]


def problem_text(problem: CellProblem) -> str:
    """ "Column '邮箱': 'x@' is not an e-mail address → write it as name@example.com"."""
    where = tr("Column '{0}'").format(problem.column) if problem.column else tr("Row")
    text = f"{where}: {problem.message.rstrip('.')}"
    return f"{text} → {problem.hint.rstrip('.')}" if problem.hint else text


def row_details(row: RowPlan, staff: dict[int, str], region: str) -> str:
    """Why the row gets its outcome: the problems, or which customer and what changes."""
    if row.outcome == Outcome.ERROR:
        text = "; ".join(problem_text(p) for p in row.problems)
    else:
        parts = [row.reason] if row.reason else []
        if row.changes and row.effective == Outcome.UPDATE:
            parts.append(
                "; ".join(
                    change_text(column, old, new, staff, region)
                    for column, (old, new) in row.changes.items()
                )
            )
        elif row.effective == Outcome.UNCHANGED:
            parts.append(tr("nothing new in this row"))
        text = " — ".join(parts)
    if row.warnings:
        text += " (" + "; ".join(row.warnings) + ")"
    return text


def chip_text(outcome: Outcome, count: int) -> str:
    texts = {
        Outcome.CREATE: ("{n} new", "{n} new"),
        Outcome.UPDATE: ("{n} update", "{n} updates"),
        Outcome.UNCHANGED: ("{n} unchanged", "{n} unchanged"),
        Outcome.SAME_AS_ROW: ("{n} same as an earlier row", "{n} same as an earlier row"),
        Outcome.DUPLICATE: ("{n} possible duplicate", "{n} possible duplicates"),
        Outcome.REVIEW: ("{n} for review", "{n} for review"),
        Outcome.SKIP: ("{n} skipped", "{n} skipped"),
        Outcome.ERROR: ("{n} error", "{n} errors"),
    }
    one, many = texts[outcome]
    return plural(count, tr(one), tr(many))


def chip_style(outcome: Outcome, count: int) -> str:
    color, background = OUTCOME_COLORS[outcome]
    if count == 0:  # an empty category is there to read, not to notice
        color, background = "#9aa3ae", "#f3f4f6"
    return (
        f"QLabel {{ color: {color}; background: {background}; border-radius: 11px;"
        " padding: 3px 11px; font-weight: 600; }"
    )


def describe_table(table: Table, mapping: Mapping) -> str:
    """Where the header was found and what was left out, in one paragraph."""
    name = table.path.name + (f" ▸ {table.sheet}" if table.sheet else "")
    parts = [
        tr("{file}: {rows} to import.").format(
            file=name, rows=plural(len(table.rows), tr("{n} row"), tr("{n} rows"))
        )
    ]
    above = table.header_row - 1
    if above:
        found = tr("Header found on row {row}; {skipped} skipped").format(
            row=table.header_row,
            skipped=plural(
                above, tr("the row above it"), tr("the {n} rows above it (titles, blank lines)")
            ),
        )
    else:
        found = tr("Header on row 1")
    if table.skipped_totals_row:
        found += tr(", and the totals row ({row}) left out").format(row=table.skipped_totals_row)
    parts.append(found + ".")
    if table.encoding:
        delimiters = {",": tr("commas"), ";": tr("semicolons"), "\t": tr("tabs"), "|": tr("bars")}
        parts.append(
            tr("Read as {encoding} text separated by {delimiter}.").format(
                encoding=table.encoding.upper(),
                delimiter=delimiters.get(table.delimiter or ",", repr(table.delimiter)),
            )
        )
    if mapping.name:
        parts.append(tr("Columns set by the saved mapping “{0}”.").format(mapping.name))
    else:
        matched = sum(1 for f in mapping.columns.values() if f is not None)
        if matched:
            parts.append(
                tr(
                    "{matched} of {total} columns recognised by their names; check them below."
                ).format(matched=matched, total=len(table.header))
            )
        else:
            parts.append(
                tr(
                    "No column name was recognised: choose below what each column holds, "
                    "then save the mapping so this file shape maps itself next time."
                )
            )
    return " ".join(parts)


# -- background jobs -----------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    sheets: list[SheetInfo] | None  # None: the sheet list was not read again
    table: Table
    mapping: Mapping
    saved_names: list[str]
    samples: list[list[str]]
    kind: ImportKind = KIND
    guessed: bool = False  # the kind was chosen from the columns, not by the user


@dataclass(frozen=True)
class Preview:
    plan: ImportPlan
    staff: dict[int, str]  # user id → name, to show owner changes


def load_file(
    ctx: AppContext,
    path: Path,
    sheet: str | None,
    with_sheets: bool,
    progress: Progress,
    kind: ImportKind | None = None,
) -> LoadedFile:
    """Read a sheet and guess its mapping (on a worker: big files take a while).

    Without a ``kind`` the header is looked for as either kind, and the file is taken as
    orders when its columns read like an order export (order number, date, amount).
    """
    progress.report(0, 0, tr("Reading {0}…").format(path.name))
    sheets = list_sheets(path) if with_sheets else None
    progress.check()
    if kind is None:
        customers, orders = header_hint(ImportKind.CUSTOMERS), header_hint(ImportKind.ORDERS)
        table = read_table(
            path, sheet, header_hint=lambda cells: max(customers(cells), orders(cells))
        )
        chosen = ImportKind.ORDERS if looks_like_orders(table.header) else ImportKind.CUSTOMERS
    else:
        table = read_table(path, sheet, header_hint=header_hint(kind))
        chosen = kind
    progress.check()
    with ctx.read_session() as session:
        mapping = choose_mapping(session, table, chosen)
        names = saved_mapping_names(session, chosen)
    return LoadedFile(
        path, sheets, table, mapping, names, sample_values(table), chosen, kind is None
    )


def build_preview(
    ctx: AppContext, table: Table, mapping: Mapping, options: ImportOptions, progress: Progress
) -> Preview:
    with ctx.read_session() as session:
        plan: ImportPlan
        if mapping.kind == ImportKind.ORDERS:
            plan = build_order_plan(session, table, mapping, options, progress=progress)
        else:
            plan = build_plan(session, table, mapping, options, progress=progress)
        staff = {row.id: row.full_name for row in auth.list_staff(session)}
    return Preview(plan, staff)


def apply_preview(
    ctx: AppContext, plan: ImportPlan, progress: Progress
) -> BatchResult | OrderBatchResult:
    if isinstance(plan, OrderImportPlan):
        return apply_order_plan(ctx.db, ctx.user_id, plan, progress=progress)
    return apply_plan(ctx.db, ctx.user_id, plan, progress=progress)


# -- the orders preview ----------------------------------------------------------------------


class OrderFilter(Enum):
    ALL = "all"
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    UNMATCHED = "unmatched"
    ERRORS = "errors"


ORDER_FILTER_TESTS: dict[OrderFilter, Callable[[PlannedOrder], bool]] = {
    OrderFilter.ALL: lambda o: True,
    OrderFilter.NEW: lambda o: o.outcome == OrderOutcome.NEW,
    OrderFilter.CHANGED: lambda o: o.outcome == OrderOutcome.CHANGED,
    OrderFilter.UNCHANGED: lambda o: o.outcome == OrderOutcome.UNCHANGED,
    OrderFilter.UNMATCHED: lambda o: o.unmatched,
    OrderFilter.ERRORS: lambda o: o.outcome == OrderOutcome.ERROR,
}
ORDER_COLORS: dict[OrderOutcome, tuple[str, str]] = {
    OrderOutcome.NEW: OUTCOME_COLORS[Outcome.CREATE],
    OrderOutcome.CHANGED: OUTCOME_COLORS[Outcome.UPDATE],
    OrderOutcome.UNCHANGED: OUTCOME_COLORS[Outcome.UNCHANGED],
    OrderOutcome.ERROR: OUTCOME_COLORS[Outcome.ERROR],
}
UNMATCHED_COLORS = OUTCOME_COLORS[Outcome.DUPLICATE]


def order_filter_label(key: OrderFilter) -> str:
    return {
        OrderFilter.ALL: tr("All orders"),
        OrderFilter.NEW: tr("New"),
        OrderFilter.CHANGED: tr("Changed"),
        OrderFilter.UNCHANGED: tr("Unchanged"),
        OrderFilter.UNMATCHED: tr("No customer found"),
        OrderFilter.ERRORS: tr("Errors"),
    }[key]


def order_outcome_label(order: PlannedOrder) -> str:
    return {
        OrderOutcome.NEW: tr("New"),
        OrderOutcome.CHANGED: tr("Changed"),
        OrderOutcome.UNCHANGED: tr("Unchanged"),
        OrderOutcome.ERROR: tr("Error"),
    }[order.outcome]


def order_change_text(column: str, old: Any, new: Any) -> str:
    labels = {
        "order_date": tr("Date"),
        "amount": tr("Amount"),
        "currency": tr("Currency"),
        "status": tr("Status"),
    }
    if column == "lines":
        return tr("Lines: {0} → {1}").format(old, new)
    if column == "customer":
        return tr("now linked to its customer")
    return (
        f"{labels.get(column, column)}: {display_value(old) or '—'} → {display_value(new) or '—'}"
    )


def order_details(order: PlannedOrder) -> str:
    """The customer and how it was found, or why none was; what a re-import changes."""
    if order.outcome == OrderOutcome.ERROR:
        return "; ".join(
            f"{tr('row')} {r.row_number}: {problem_text(p)}" for r in order.rows for p in r.problems
        )
    if order.customer_id is None:
        text = tr("No customer found: {0}").format(order.reason)
    elif order.links_now and order.route is not None:
        text = tr("{name} — same {reason}").format(
            name=order.customer_name or "", reason=order.reason
        )
    else:
        text = tr("{name} (linked before)").format(name=order.customer_name or "")
    if order.changes:
        text += " — " + "; ".join(order_change_text(c, o, n) for c, (o, n) in order.changes.items())
    warnings = [w for r in order.rows for w in r.warnings]
    if warnings:
        text += " (" + "; ".join(warnings) + ")"
    return text


class OrderRowsModel(QAbstractTableModel):
    """The plan's orders, optionally filtered; texts are made only for rows on screen."""

    ROWS, OUTCOME, NUMBER, DATE, AMOUNT, DETAILS = range(6)
    HEADERS = ("Row", "Outcome", "Order", "Date", "Amount", "Customer / why")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plan: OrderImportPlan | None = None
        self._orders: list[PlannedOrder] = []
        self._filter = OrderFilter.ALL

    @property
    def order_filter(self) -> OrderFilter:
        return self._filter

    def set_plan(self, plan: OrderImportPlan | None) -> None:
        self.beginResetModel()
        self._plan = plan
        self._orders = self._filtered()
        self.endResetModel()

    def set_filter(self, key: OrderFilter) -> None:
        self.beginResetModel()
        self._filter = key
        self._orders = self._filtered()
        self.endResetModel()

    def _filtered(self) -> list[PlannedOrder]:
        if self._plan is None:
            return []
        test = ORDER_FILTER_TESTS[self._filter]
        return [o for o in self._plan.orders if test(o)]

    def order_at(self, position: int) -> PlannedOrder:
        return self._orders[position]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._orders)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.HEADERS[section])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._orders):
            return None
        order = self._orders[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == self.ROWS:
                numbers = order.row_numbers
                return str(numbers[0]) + (f"–{numbers[-1]}" if len(numbers) > 1 else "")
            if column == self.OUTCOME:
                return order_outcome_label(order)
            if column == self.NUMBER:
                return order.order_number
            if column == self.DATE:
                return display_value(order.order_date)
            if column == self.AMOUNT:
                if order.amount is None:
                    return ""
                return f"{order.currency} {order.amount:,.2f}"
            text = order_details(order)
            return text.replace("; ", "\n") if role == Qt.ItemDataRole.ToolTipRole else text
        if column == self.OUTCOME and role in (
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.BackgroundRole,
        ):
            color, background = ORDER_COLORS[order.outcome]
            return QBrush(QColor(color if role == Qt.ItemDataRole.ForegroundRole else background))
        if column == self.DETAILS and role == Qt.ItemDataRole.ForegroundRole:
            if order.outcome == OrderOutcome.ERROR:
                return QBrush(QColor(OUTCOME_COLORS[Outcome.ERROR][0]))
            if order.customer_id is None:
                return QBrush(QColor(UNMATCHED_COLORS[0]))
        if column in (self.ROWS, self.AMOUNT) and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def order_chips(plan: OrderImportPlan) -> list[tuple[str, str, int, tuple[str, str]]]:
    """(object name, text, count, colours) for the orders preview's counts."""
    counts = plan.order_counts
    linked = plan.linked_by
    unmatched = len(plan.unmatched_orders)
    chips = [
        (
            "orderChipNew",
            plural(counts[OrderOutcome.NEW], tr("{n} new"), tr("{n} new")),
            counts[OrderOutcome.NEW],
            ORDER_COLORS[OrderOutcome.NEW],
        ),
        (
            "orderChipChanged",
            plural(counts[OrderOutcome.CHANGED], tr("{n} changed"), tr("{n} changed")),
            counts[OrderOutcome.CHANGED],
            ORDER_COLORS[OrderOutcome.CHANGED],
        ),
        (
            "orderChipUnchanged",
            plural(counts[OrderOutcome.UNCHANGED], tr("{n} unchanged"), tr("{n} unchanged")),
            counts[OrderOutcome.UNCHANGED],
            ORDER_COLORS[OrderOutcome.UNCHANGED],
        ),
    ]
    for route in (LinkRoute.CODE, LinkRoute.PHONE, LinkRoute.EMAIL, LinkRoute.NAME):
        chips.append(
            (
                f"orderChipBy{route.name.title()}",
                tr("{n} by {route}").format(n=f"{linked[route]:,}", route=tr(ROUTE_LABELS[route])),
                linked[route],
                ("#1e40af", "#e0eafd"),
            )
        )
    chips.append(
        (
            "orderChipUnmatched",
            plural(unmatched, tr("{n} without customer"), tr("{n} without customer")),
            unmatched,
            UNMATCHED_COLORS,
        )
    )
    chips.append(
        (
            "orderChipErrors",
            plural(counts[OrderOutcome.ERROR], tr("{n} error"), tr("{n} errors")),
            counts[OrderOutcome.ERROR],
            ORDER_COLORS[OrderOutcome.ERROR],
        )
    )
    return chips


def chip_css(count: int, colours: tuple[str, str]) -> str:
    color, background = colours if count else ("#9aa3ae", "#f3f4f6")
    return (
        f"QLabel {{ color: {color}; background: {background}; border-radius: 11px;"
        " padding: 3px 11px; font-weight: 600; }"
    )


# -- the preview's rows ----------------------------------------------------------------------


class RowFilter(Enum):
    ALL = "all"
    NEW = "new"
    UPDATES = "updates"
    DUPLICATES = "duplicates"
    ERRORS = "errors"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


FILTER_TESTS: dict[RowFilter, Callable[[RowPlan], bool]] = {
    RowFilter.ALL: lambda r: True,
    RowFilter.NEW: lambda r: r.effective == Outcome.CREATE,
    RowFilter.UPDATES: lambda r: r.effective == Outcome.UPDATE,
    # Decided duplicates stay listed here, so a decision can be changed.
    RowFilter.DUPLICATES: lambda r: r.outcome == Outcome.DUPLICATE,
    RowFilter.ERRORS: lambda r: r.outcome == Outcome.ERROR,
    RowFilter.UNCHANGED: lambda r: r.effective in (Outcome.UNCHANGED, Outcome.SAME_AS_ROW),
    RowFilter.SKIPPED: lambda r: r.effective in (Outcome.SKIP, Outcome.REVIEW),
}


def filter_label(key: RowFilter) -> str:
    return {
        RowFilter.ALL: tr("All rows"),
        RowFilter.NEW: tr("New"),
        RowFilter.UPDATES: tr("Updates"),
        RowFilter.DUPLICATES: tr("Possible duplicates"),
        RowFilter.ERRORS: tr("Errors"),
        RowFilter.UNCHANGED: tr("Unchanged"),
        RowFilter.SKIPPED: tr("Skipped / for review"),
    }[key]


class PlanRowsModel(QAbstractTableModel):
    """The plan's rows, optionally filtered; texts are made only for rows on screen."""

    ROW, OUTCOME, CUSTOMER, DETAILS = range(4)
    HEADERS = ("Row", "Outcome", "Customer (from the file)", "Why / what changes")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plan: ImportPlan | None = None
        self._rows: list[RowPlan] = []
        self._filter = RowFilter.ALL
        self._staff: dict[int, str] = {}
        self._region = "CN"
        self._name_columns: list[int] = []

    @property
    def row_filter(self) -> RowFilter:
        return self._filter

    def set_plan(self, plan: ImportPlan | None, staff: dict[int, str], region: str) -> None:
        self.beginResetModel()
        self._plan = plan
        self._staff = staff
        self._region = region
        self._name_columns = plan.mapping.columns_for(Field.NAME) if plan else []
        self._rows = self._filtered()
        self.endResetModel()

    def set_filter(self, key: RowFilter) -> None:
        self.beginResetModel()
        self._filter = key
        self._rows = self._filtered()
        self.endResetModel()

    def _filtered(self) -> list[RowPlan]:
        if self._plan is None:
            return []
        if self._filter == RowFilter.ALL:
            return list(self._plan.rows)
        test = FILTER_TESTS[self._filter]
        return [r for r in self._plan.rows if test(r)]

    def refresh(self) -> None:
        """Outcomes changed (decisions): re-filter, or repaint when the rows stay."""
        if self._filter in (RowFilter.ALL, RowFilter.DUPLICATES):
            if self._rows:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(self._rows) - 1, len(self.HEADERS) - 1)
                )
        else:
            self.set_filter(self._filter)

    def row_at(self, position: int) -> RowPlan:
        return self._rows[position]

    def position_of(self, row_number: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.row_number == row_number), -1)

    def customer_name(self, row: RowPlan) -> str:
        name = row.values.scalars.get("name")
        if name:
            return str(name)
        for column in self._name_columns:  # an error row may not have parsed its name
            if column < len(row.raw) and row.raw[column] is not None:
                return display_value(row.raw[column])
        return ""

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.HEADERS[section])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == self.ROW:
                return str(row.row_number)
            if column == self.OUTCOME:
                return outcome_label(row)
            if column == self.CUSTOMER:
                return self.customer_name(row)
            text = row_details(row, self._staff, self._region)
            if role == Qt.ItemDataRole.ToolTipRole:
                return text.replace("; ", "\n")
            return text
        if column == self.OUTCOME and role in (
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.BackgroundRole,
        ):
            color, background = OUTCOME_COLORS[row.effective]
            return QBrush(QColor(color if role == Qt.ItemDataRole.ForegroundRole else background))
        if column == self.ROW and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if (
            column == self.DETAILS
            and role == Qt.ItemDataRole.ForegroundRole
            and row.outcome == Outcome.ERROR
        ):
            return QBrush(QColor(OUTCOME_COLORS[Outcome.ERROR][0]))
        return None


# -- pages -----------------------------------------------------------------------------------


def _label(object_name: str, style: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(wrap)
    if style:
        label.setStyleSheet(style)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("dialogTitle")
    return label


class FilePage(QWidget):
    """Step 1: the file, its sheet, the system it comes from and what it holds."""

    choose_requested = Signal()
    sheet_chosen = Signal(str)
    kind_chosen = Signal(object)  # ImportKind, chosen by the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filePage")
        self.source_touched = False
        self.permission_label = _label("permissionMessage", STOP_STYLE)
        self.permission_label.hide()
        intro = _label("hintLabel")
        intro.setText(
            tr(
                "Choose an Excel or CSV file from any system — the accounting software, a "
                "salesperson's own list, a trade-show list. Titles above the table and a totals "
                "row below it are recognised. Nothing is written until you confirm the preview."
            )
        )
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("pathEdit")
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText(tr("No file yet: choose one, or drop it on this window"))
        self.choose_button = QPushButton(tr("&Choose file…"))
        self.choose_button.setObjectName("chooseFileButton")
        self.choose_button.setAutoDefault(False)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.choose_button)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setObjectName("sheetCombo")
        self.sheet_combo.setMinimumContentsLength(24)
        self.sheet_combo.hide()  # until a workbook's sheets are known
        self.sheet_note = _label("sheetNote")
        self.sheet_note.setStyleSheet("QLabel { color: #6b7280; }")
        self.sheet_note.setText(tr("Shown once the file is read"))
        sheet_row = QHBoxLayout()
        sheet_row.addWidget(self.sheet_combo)
        sheet_row.addWidget(self.sheet_note, 1)
        self.source_edit = QLineEdit(DEFAULT_SOURCE)
        self.source_edit.setObjectName("sourceEdit")
        self.source_edit.setMaxLength(64)
        self.source_edit.setPlaceholderText(tr("e.g. 金蝶, Kingdee, trade show 2024"))
        source_hint = _label("sourceHint")
        source_hint.setStyleSheet("QLabel { color: #6b7280; }")
        source_hint.setText(
            tr(
                "The system the rows come from. Customer codes are remembered per system, so "
                "importing a newer export from the same system updates those customers "
                "instead of adding them again."
            )
        )
        source_box = QVBoxLayout()
        source_box.setSpacing(3)
        source_box.addWidget(self.source_edit)
        source_box.addWidget(source_hint)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("kindCombo")
        self.kind_combo.addItem(tr("Customers (and their contacts)"), ImportKind.CUSTOMERS.value)
        self.kind_combo.addItem(tr("Orders (linked to their customers)"), ImportKind.ORDERS.value)
        self.kind_note = _label("kindNote")
        self.kind_note.setStyleSheet("QLabel { color: #6b7280; }")
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.kind_combo)
        kind_row.addWidget(self.kind_note, 1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setVerticalSpacing(12)
        form.addRow(tr("File:"), path_row)
        form.addRow(tr("Sheet:"), sheet_row)
        form.addRow(tr("Source system:"), source_box)
        form.addRow(tr("Import:"), kind_row)

        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("readingProgress")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumHeight(8)
        self.busy_bar.hide()
        self.status_label = _label("fileStatus")
        self.error_label = _label("fileError", STOP_STYLE)
        self.error_label.hide()

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(_title(tr("Import customers or orders from a spreadsheet")))
        layout.addWidget(intro)
        layout.addWidget(self.permission_label)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(self.busy_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)
        layout.addStretch(1)

        self.choose_button.clicked.connect(self.choose_requested)
        self.sheet_combo.activated.connect(self._on_sheet_activated)
        self.source_edit.textEdited.connect(self._on_source_edited)
        self.kind_combo.activated.connect(self._on_kind_activated)

    def _on_source_edited(self, _text: str) -> None:
        self.source_touched = True

    def _on_kind_activated(self, index: int) -> None:
        self.kind_note.setText("")
        self.kind_chosen.emit(ImportKind(self.kind_combo.itemData(index)))

    @property
    def kind(self) -> ImportKind:
        return ImportKind(self.kind_combo.currentData())

    def show_kind(self, kind: ImportKind, *, guessed: bool = False) -> None:
        self.kind_combo.setCurrentIndex(max(self.kind_combo.findData(kind.value), 0))
        self.kind_note.setText(
            tr("The columns look like an order export.")
            if guessed and kind == ImportKind.ORDERS
            else ""
        )

    def allow_kinds(self, kinds: list[ImportKind]) -> None:
        """Only these kinds can be chosen (a bookkeeper imports orders, not customers)."""
        model = self.kind_combo.model()
        for row in range(self.kind_combo.count()):
            item = model.item(row)  # type: ignore[attr-defined]
            item.setEnabled(ImportKind(self.kind_combo.itemData(row)) in kinds)
        if self.kind not in kinds and kinds:
            self.show_kind(kinds[0])

    def _on_sheet_activated(self, index: int) -> None:
        name = self.sheet_combo.itemData(index)
        if isinstance(name, str):
            self.sheet_chosen.emit(name)

    def source_system(self) -> str:
        return self.source_edit.text().strip() or DEFAULT_SOURCE

    def deny(self, reason: str) -> None:
        self.permission_label.setText(reason)
        self.permission_label.show()
        for widget in (self.choose_button, self.sheet_combo, self.source_edit, self.kind_combo):
            widget.setEnabled(False)

    def show_reading(self, path: Path, *, new_file: bool) -> None:
        if new_file:
            self.sheet_combo.clear()
            self.sheet_combo.hide()
            self.sheet_note.setText("")
        self.path_edit.setText(str(path))
        self.path_edit.setToolTip(str(path))
        self.busy_bar.show()
        self.status_label.setText(tr("Reading {0}…").format(path.name))
        self.status_label.show()
        self.error_label.hide()

    def show_error(self, message: str) -> None:
        if self.sheet_combo.isHidden() and not self.sheet_note.text():
            self.sheet_note.setText("—")
        self.busy_bar.hide()
        self.status_label.hide()
        self.error_label.setText(message)
        self.error_label.show()

    def show_loaded(self, loaded: LoadedFile) -> None:
        table = loaded.table
        self.busy_bar.hide()
        if loaded.sheets is not None:
            self.sheet_combo.clear()
            for sheet in loaded.sheets:
                text = sheet.name
                if sheet.rows is not None:
                    text += "  " + plural(sheet.rows, tr("({n} row)"), tr("({n} rows)"))
                self.sheet_combo.addItem(text, sheet.name)
        is_csv = table.encoding is not None
        self.sheet_combo.setVisible(not is_csv)
        self.sheet_combo.setEnabled(not is_csv and self.sheet_combo.count() > 1)
        if table.sheet is not None:
            self.sheet_combo.setCurrentIndex(max(self.sheet_combo.findData(table.sheet), 0))
        if is_csv:
            self.sheet_note.setText(tr("CSV file: one table"))
        elif loaded.sheets is not None:  # a new workbook, not a sheet the user picked
            self.sheet_note.setText(
                tr("The first sheet with a table was chosen.")
                if self.sheet_combo.count() > 1
                else ""
            )
        else:
            self.sheet_note.setText("")
        if not table.rows:
            self.show_error(
                tr(
                    "{file}{sheet} has column names on row {row} but no rows under them. "
                    "Choose the sheet that holds the data, or check the file."
                ).format(
                    file=table.path.name,
                    sheet=f" ▸ {table.sheet}" if table.sheet else "",
                    row=table.header_row,
                )
            )
            return
        self.error_label.hide()
        self.status_label.setText(
            tr("Found {rows} with {columns} (column names on row {row}).").format(
                rows=plural(len(table.rows), tr("{n} row"), tr("{n} rows")),
                columns=plural(len(table.header), tr("{n} column"), tr("{n} columns")),
                row=table.header_row,
            )
        )
        self.status_label.show()


class MappingPage(QWidget):
    """Step 2: which field each column feeds, and how the import behaves."""

    changed = Signal()
    saved_mapping_chosen = Signal(str)  # "" = automatic
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mappingPage")
        self.combos: list[QComboBox] = []
        self.kind = KIND
        self.mapping_name: str | None = None
        self._table: Table | None = None
        self._notes: list[str] = []

        self.banner = _label("headerBanner", BANNER_STYLE)
        self.saved_combo = QComboBox()
        self.saved_combo.setObjectName("savedMappingCombo")
        self.saved_combo.setMinimumContentsLength(22)
        self.save_mapping_button = QPushButton(tr("&Save mapping as…"))
        self.save_mapping_button.setObjectName("saveMappingButton")
        self.save_mapping_button.setAutoDefault(False)
        self.save_mapping_button.setToolTip(
            tr("Remember these choices: files with the same columns will map themselves.")
        )
        saved_row = QHBoxLayout()
        saved_row.addWidget(QLabel(tr("Mapping:")))
        saved_row.addWidget(self.saved_combo)
        saved_row.addStretch(1)
        saved_row.addWidget(self.save_mapping_button)

        self.table = QTableWidget(0, 3)
        self.table.setObjectName("mappingTable")
        self.table.setHorizontalHeaderLabels(
            [tr("Column in the file"), tr("First values"), tr("Import into")]
        )
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.problems_label = _label("mappingProblems", STOP_STYLE)
        self.problems_label.hide()
        self.message_label = _label("mappingMessage")
        self.message_label.hide()

        self.on_duplicate_combo = QComboBox()
        self.on_duplicate_combo.setObjectName("onDuplicateCombo")
        for policy, text in (
            (OnDuplicate.UPDATE, tr("Update the existing customer")),
            (OnDuplicate.CREATE, tr("Add a new customer anyway")),
            (OnDuplicate.SKIP, tr("Skip the row")),
            (OnDuplicate.REVIEW, tr("Set the row aside for review")),
        ):
            self.on_duplicate_combo.addItem(text, policy.value)
        self.on_duplicate_combo.setToolTip(
            tr(
                "For rows that match a customer by e-mail, phone or name. A row with the same "
                "customer code from the same system always updates its customer."
            )
        )
        self.all_or_nothing_check = QCheckBox(tr("All or nothing (only if every row is fine)"))
        self.all_or_nothing_check.setObjectName("allOrNothingCheck")
        self.day_first_check = QCheckBox(tr("Dates are day first (05.03.2024 = 5 March)"))
        self.day_first_check.setObjectName("dayFirstCheck")
        self.create_staff_check = QCheckBox(tr("Create unknown salespeople"))
        self.create_staff_check.setObjectName("createStaffCheck")
        self.create_staff_check.setToolTip(
            tr(
                "A name in the owner column that matches nobody becomes a new sales account "
                "(without a password). Otherwise those customers go to the unassigned pool."
            )
        )
        options = QGroupBox(tr("Options"))
        options_layout = QVBoxLayout(options)
        duplicate_row = QHBoxLayout()
        self.duplicate_label = QLabel(tr("When a row matches an existing customer:"))
        duplicate_row.addWidget(self.duplicate_label)
        duplicate_row.addWidget(self.on_duplicate_combo)
        duplicate_row.addStretch(1)
        checks_row = QHBoxLayout()
        checks_row.setSpacing(24)
        for box in (self.all_or_nothing_check, self.day_first_check, self.create_staff_check):
            checks_row.addWidget(box)
        checks_row.addStretch(1)
        options_layout.addLayout(duplicate_row)
        options_layout.addLayout(checks_row)

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(_title(tr("Match the columns")))
        layout.addWidget(self.banner)
        layout.addLayout(saved_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.message_label)
        layout.addWidget(options)

        self.saved_combo.activated.connect(self._on_saved_activated)
        self.save_mapping_button.clicked.connect(self.save_requested)
        for box in (self.all_or_nothing_check, self.day_first_check, self.create_staff_check):
            box.toggled.connect(self.changed)
        self.on_duplicate_combo.currentIndexChanged.connect(self.changed)

    # -- filling ----------------------------------------------------------------------------
    def _field_combo(self, column: int) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"fieldCombo{column}")
        combo.addItem(tr("— Ignore —"), None)
        for spec in fields_for(self.kind):
            combo.addItem(field_choice_label(spec), spec.field.value)
        combo.setMaxVisibleItems(20)
        combo.currentIndexChanged.connect(lambda _i, c=column: self._on_combo_changed(c))
        return combo

    def set_file(self, loaded: LoadedFile) -> None:
        table = loaded.table
        self._table = table
        self.kind = loaded.kind
        # Orders never create customers or staff: those choices are for customer files.
        is_orders = loaded.kind == ImportKind.ORDERS
        for widget in (self.duplicate_label, self.on_duplicate_combo, self.create_staff_check):
            widget.setVisible(not is_orders)
        self.combos = []
        self.table.clearContents()
        self.table.setRowCount(len(table.header))
        for i, name in enumerate(table.header):
            header_item = QTableWidgetItem(name)
            font = header_item.font()
            font.setBold(True)
            header_item.setFont(font)
            self.table.setItem(i, 0, header_item)
            samples = loaded.samples[i] if i < len(loaded.samples) else []
            sample_item = QTableWidgetItem("   ·   ".join(samples) or tr("(empty)"))
            sample_item.setToolTip("\n".join(samples))
            sample_item.setForeground(QBrush(QColor("#4b5563" if samples else "#9aa3ae")))
            self.table.setItem(i, 1, sample_item)
            combo = self._field_combo(i)
            self.combos.append(combo)
            self.table.setCellWidget(i, 2, combo)
        if self.combos:
            width = max(c.sizeHint().width() for c in self.combos) + 12
            self.table.setColumnWidth(2, max(width, 240))
            self.table.verticalHeader().setDefaultSectionSize(
                self.combos[0].sizeHint().height() + 8
            )
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(0, min(max(self.table.columnWidth(0) + 16, 140), 260))
        self.set_saved_names(loaded.saved_names, loaded.mapping.name)
        self.apply_mapping(loaded.mapping)
        self.message_label.hide()

    def set_saved_names(self, names: list[str], selected: str | None) -> None:
        self.saved_combo.blockSignals(True)
        self.saved_combo.clear()
        self.saved_combo.addItem(tr("Automatic (from the column names)"), "")
        for name in names:
            self.saved_combo.addItem(tr("Saved: {0}").format(name), name)
        self.saved_combo.setCurrentIndex(max(self.saved_combo.findData(selected or ""), 0))
        self.saved_combo.blockSignals(False)

    def apply_mapping(self, mapping: Mapping) -> None:
        self.mapping_name = mapping.name
        self._notes = list(mapping.notes)
        for i, combo in enumerate(self.combos):
            target = mapping.columns.get(i)
            combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findData(target.value if target else None), 0))
            combo.blockSignals(False)
            self._mark_column(i)
        if self._table is not None:
            self.banner.setText(describe_table(self._table, mapping))
        self.changed.emit()

    def _on_combo_changed(self, column: int) -> None:
        self._mark_column(column)
        self.changed.emit()

    def _mark_column(self, column: int) -> None:
        """Ignored columns are greyed, so the eye finds what will be imported."""
        item = self.table.item(column, 0)
        if item is not None:
            ignored = self.combos[column].currentData() is None
            item.setForeground(QBrush(QColor("#9aa3ae" if ignored else "#1f2933")))

    def _on_saved_activated(self, index: int) -> None:
        self.saved_mapping_chosen.emit(str(self.saved_combo.itemData(index) or ""))

    # -- reading ----------------------------------------------------------------------------
    def combo_for(self, header: str) -> QComboBox:
        assert self._table is not None
        return self.combos[self._table.header.index(header)]

    def current_mapping(self, source_system: str) -> Mapping:
        columns: dict[int, Field | None] = {}
        for i, combo in enumerate(self.combos):
            value = combo.currentData()
            columns[i] = Field(value) if value else None
        return Mapping(
            kind=self.kind,
            columns=columns,
            source_system=source_system,
            name=self.mapping_name,
            notes=list(self._notes),
        )

    def options(self, region: str) -> ImportOptions:
        return ImportOptions(
            on_duplicate=OnDuplicate(self.on_duplicate_combo.currentData()),
            all_or_nothing=self.all_or_nothing_check.isChecked(),
            day_first=self.day_first_check.isChecked(),
            create_missing_staff=self.create_staff_check.isChecked(),
            region=region,
        )

    def show_problems(self, problems: list[str]) -> None:
        self.problems_label.setText("\n".join(problems))
        self.problems_label.setVisible(bool(problems))

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))


class PreviewPage(QWidget):
    """Step 3: what every row will do, and the decisions a person must make."""

    cancel_requested = Signal()
    save_problems_requested = Signal()
    decided = Signal(object)  # Outcome, for the selected possible duplicates

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewPage")
        self.model = PlanRowsModel(self)

        self.progress_label = _label("previewProgressLabel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("previewProgress")
        self.progress_bar.setRange(0, 0)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setObjectName("cancelPreviewButton")
        self.cancel_button.setAutoDefault(False)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        progress_layout = QVBoxLayout(self.progress_box)
        progress_layout.setContentsMargins(0, 0, 0, 0)
        progress_layout.addWidget(self.progress_label)
        progress_layout.addLayout(progress_row)

        self.summary_label = _label("previewSummary", wrap=False)
        self.chips: dict[Outcome, QLabel] = {}
        chips_row = QHBoxLayout()
        chips_row.setSpacing(6)
        chips_row.addWidget(self.summary_label)
        for outcome in Outcome:
            chip = QLabel()
            chip.setObjectName(f"chip{outcome.name.title().replace('_', '')}")
            chip.hide()
            self.chips[outcome] = chip
            chips_row.addWidget(chip)
        chips_row.addStretch(1)
        self.staff_label = _label("unknownStaffLabel", WARNING_STYLE)
        self.staff_label.hide()
        self.message_label = _label("previewMessage")
        self.message_label.hide()

        self.filter_combo = QComboBox()
        self.filter_combo.setObjectName("rowFilterCombo")
        for key in RowFilter:
            self.filter_combo.addItem(filter_label(key), key.value)
        self.filter_combo.setMinimumContentsLength(22)
        self.save_problems_button = QPushButton(tr("Save rows with &problems…"))
        self.save_problems_button.setObjectName("saveProblemsButton")
        self.save_problems_button.setAutoDefault(False)
        self.save_problems_button.setToolTip(
            tr(
                "An Excel file of those rows with a Problem column: fix them there, import it again."
            )
        )
        filter_row = QHBoxLayout()
        self.show_label = QLabel(tr("Show:"))
        filter_row.addWidget(self.show_label)
        filter_row.addWidget(self.filter_combo)
        filter_row.addStretch(1)
        filter_row.addWidget(self.save_problems_button)

        self.table = QTableView()
        self.table.setObjectName("previewTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        vertical = self.table.verticalHeader()
        vertical.hide()
        # Fixed heights: 100,000 rows are never measured.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._size_columns()

        self.decision_actions: dict[Outcome, QAction] = {}
        self.decision_buttons: dict[Outcome, QPushButton] = {}
        decision_row = QHBoxLayout()
        self.decision_label = QLabel(tr("Possible duplicates selected above:"))
        decision_row.addWidget(self.decision_label)
        for outcome, text, name in (
            (Outcome.CREATE, tr("Create new"), "decideCreateButton"),
            (Outcome.UPDATE, tr("Update the match"), "decideUpdateButton"),
            (Outcome.SKIP, tr("Skip"), "decideSkipButton"),
            (Outcome.REVIEW, tr("Leave for review"), "decideReviewButton"),
        ):
            button = QPushButton(text)
            button.setObjectName(name)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _c=False, o=outcome: self.decided.emit(o))
            decision_row.addWidget(button)
            self.decision_buttons[outcome] = button
            action = QAction(text, self)
            action.triggered.connect(lambda _c=False, o=outcome: self.decided.emit(o))
            self.decision_actions[outcome] = action
        decision_row.addStretch(1)
        self.decision_box = QWidget()
        self.decision_box.setObjectName("decisionBox")
        self.decision_box.setLayout(decision_row)
        decision_row.setContentsMargins(0, 0, 0, 0)
        self.decision_hint = _label("decisionHint")
        self.decision_hint.setStyleSheet("QLabel { color: #6b7280; }")
        self.decision_hint.setText(
            tr(
                "A possible duplicate you do not decide is not imported: it is set aside for "
                "review with the batch. Select rows (Shift/Ctrl for several) or right-click."
            )
        )

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(_title(tr("Check what will happen")))
        layout.addWidget(self.progress_box)
        layout.addLayout(chips_row)
        layout.addWidget(self.staff_label)
        layout.addWidget(self.message_label)
        layout.addLayout(filter_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.decision_box)
        layout.addWidget(self.decision_hint)
        self.orders_box = self._build_orders_box()
        self.orders_box.hide()
        layout.addWidget(self.orders_box, 1)

        self.cancel_button.clicked.connect(self.cancel_requested)
        self.save_problems_button.clicked.connect(self.save_problems_requested)
        self.filter_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.table.customContextMenuRequested.connect(self._context_menu)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._update_decisions)
        self.model.modelReset.connect(self._update_decisions)

    def _build_orders_box(self) -> QWidget:
        """The orders preview: counts by outcome and route, and every order."""
        box = QWidget()
        box.setObjectName("ordersPreview")
        self.order_model = OrderRowsModel(self)
        self.order_chips_row = QHBoxLayout()
        self.order_chips_row.setSpacing(6)
        self.order_chips: dict[str, QLabel] = {}
        self.order_filter_combo = QComboBox()
        self.order_filter_combo.setObjectName("orderFilterCombo")
        for key in OrderFilter:
            self.order_filter_combo.addItem(order_filter_label(key), key.value)
        self.order_filter_combo.setMinimumContentsLength(22)
        self.order_filter_combo.currentIndexChanged.connect(
            lambda i: self.order_model.set_filter(OrderFilter(self.order_filter_combo.itemData(i)))
        )
        self.order_save_problems_button = QPushButton(tr("Save rows with &problems…"))
        self.order_save_problems_button.setObjectName("orderSaveProblemsButton")
        self.order_save_problems_button.setAutoDefault(False)
        self.order_save_problems_button.clicked.connect(self.save_problems_requested)
        filter_row = QHBoxLayout()
        filter_row.addWidget(QLabel(tr("Show:")))
        filter_row.addWidget(self.order_filter_combo)
        filter_row.addStretch(1)
        filter_row.addWidget(self.order_save_problems_button)
        self.order_table = QTableView()
        self.order_table.setObjectName("orderPreviewTable")
        self.order_table.setModel(self.order_model)
        self.order_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.order_table.setAlternatingRowColors(True)
        self.order_table.setShowGrid(False)
        self.order_table.setWordWrap(False)
        self.order_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        vertical = self.order_table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.order_table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        metrics = self.order_table.fontMetrics()
        for column, sample in (
            (OrderRowsModel.ROWS, "Row 00000–00000"),
            (OrderRowsModel.OUTCOME, "Unchanged"),
            (OrderRowsModel.NUMBER, "SO-2026-000123"),
            (OrderRowsModel.DATE, "2026-03-02"),
            (OrderRowsModel.AMOUNT, "CNY 1,234,567.00"),
        ):
            self.order_table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 20)
        self.order_hint = _label("orderHint")
        self.order_hint.setStyleSheet("QLabel { color: #6b7280; }")
        self.order_hint.setText(
            tr(
                "Orders are linked to customers by the source system's customer code, then an "
                "exact phone or e-mail, then the same name (and city). Orders without a "
                "customer are imported too and wait under Import › Unmatched orders."
            )
        )
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.order_chips_row)
        layout.addLayout(filter_row)
        layout.addWidget(self.order_table, 1)
        layout.addWidget(self.order_hint)
        return box

    def _customer_widgets(self) -> list[QWidget]:
        return [
            self.show_label,
            self.filter_combo,
            self.save_problems_button,
            self.table,
            *self.chips.values(),
        ]

    def show_order_plan(self, plan: OrderImportPlan) -> None:
        self.progress_box.hide()
        for widget in self._customer_widgets():
            widget.hide()
        self.decision_box.hide()
        self.decision_hint.hide()
        self.staff_label.hide()
        self.orders_box.show()
        self.order_model.set_plan(plan)
        orders = len(plan.orders)
        self.summary_label.setText(
            plural(len(plan.rows), tr("{n} row"), tr("{n} rows"))
            + ", "
            + plural(orders, tr("{n} order:"), tr("{n} orders:"))
        )
        self.summary_label.show()
        while self.order_chips_row.count():
            item = self.order_chips_row.takeAt(0)
            old = item.widget() if item is not None else None
            if old is not None:
                old.deleteLater()
        self.order_chips = {}
        for name, text, count, colours in order_chips(plan):
            chip = QLabel(text)
            chip.setObjectName(name)
            chip.setStyleSheet(chip_css(count, colours))
            self.order_chips_row.addWidget(chip)
            self.order_chips[name] = chip
        self.order_chips_row.addStretch(1)
        sizes = {
            key: sum(1 for o in plan.orders if ORDER_FILTER_TESTS[key](o)) for key in OrderFilter
        }
        for i, key in enumerate(OrderFilter):
            self.order_filter_combo.setItemText(i, f"{order_filter_label(key)} ({sizes[key]:,})")
        self.order_save_problems_button.setEnabled(bool(plan.error_rows))
        if sizes[OrderFilter.ERRORS] and sizes[OrderFilter.ERRORS] == orders:
            self.set_order_filter(OrderFilter.ERRORS)

    def set_order_filter(self, key: OrderFilter) -> None:
        self.order_filter_combo.setCurrentIndex(self.order_filter_combo.findData(key.value))

    def _size_columns(self) -> None:
        """Room for the reason: it is what a person reads (widths in Latin letters)."""
        metrics = self.table.fontMetrics()
        for column, sample in (
            (PlanRowsModel.ROW, "Row 00000"),
            (PlanRowsModel.OUTCOME, "Duplicate? → update"),
            (PlanRowsModel.CUSTOMER, "Harbor Lights Trading Co., Ltd."),
        ):
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 24)

    # -- states -----------------------------------------------------------------------------
    def show_building(self, kind: ImportKind = KIND) -> None:
        self.model.set_plan(None, {}, "CN")
        self.order_model.set_plan(None)
        is_orders = kind == ImportKind.ORDERS
        self.orders_box.setVisible(is_orders)
        for widget in (self.show_label, self.filter_combo, self.save_problems_button, self.table):
            widget.setVisible(not is_orders)
        self.progress_box.show()
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText(
            tr("Checking every order and looking for its customer…")
            if is_orders
            else tr("Checking every row against the customer book…")
        )
        self.cancel_button.setEnabled(True)
        for widget in (self.summary_label, self.staff_label, self.message_label):
            widget.hide()
        for chip in self.chips.values():
            chip.hide()
        self.save_problems_button.setEnabled(False)
        self.order_save_problems_button.setEnabled(False)
        self.filter_combo.setEnabled(False)
        self.decision_box.hide()
        self.decision_hint.hide()

    def show_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))
            self.progress_label.setText(
                tr("{message} {done} of {total} rows").format(
                    message=message, done=f"{done:,}", total=f"{total:,}"
                )
            )
        elif message:
            self.progress_label.setText(message)

    def show_plan(self, plan: ImportPlan, staff: dict[int, str], region: str) -> None:
        self.progress_box.hide()
        self.model.set_plan(plan, staff, region)
        self._size_columns()
        self.filter_combo.setEnabled(True)
        has_duplicates = any(r.outcome == Outcome.DUPLICATE for r in plan.rows)
        self.decision_box.setVisible(has_duplicates)
        self.decision_hint.setVisible(has_duplicates)
        self.save_problems_button.setEnabled(bool(plan.error_rows))
        self.show_counts(plan)
        self._show_staff(plan)

    def show_counts(self, plan: ImportPlan) -> None:
        counts = Counter(r.effective for r in plan.rows)
        self.summary_label.setText(plural(len(plan.rows), tr("{n} row:"), tr("{n} rows:")))
        self.summary_label.show()
        for outcome, chip in self.chips.items():
            count = counts.get(outcome, 0)
            chip.setText(chip_text(outcome, count))
            chip.setStyleSheet(chip_style(outcome, count))
            chip.setVisible(outcome in ALWAYS_SHOWN or count > 0)
        # One pass over the rows: a plan may hold 100,000 of them.
        duplicates = sum(1 for r in plan.rows if r.outcome == Outcome.DUPLICATE)
        sizes = {
            RowFilter.ALL: len(plan.rows),
            RowFilter.NEW: counts[Outcome.CREATE],
            RowFilter.UPDATES: counts[Outcome.UPDATE],
            RowFilter.DUPLICATES: duplicates,
            RowFilter.ERRORS: counts[Outcome.ERROR],
            RowFilter.UNCHANGED: counts[Outcome.UNCHANGED] + counts[Outcome.SAME_AS_ROW],
            RowFilter.SKIPPED: counts[Outcome.SKIP] + counts[Outcome.REVIEW],
        }
        for i, key in enumerate(RowFilter):
            self.filter_combo.setItemText(i, f"{filter_label(key)} ({sizes[key]:,})")

    def _show_staff(self, plan: ImportPlan) -> None:
        unknown = plan.unknown_staff
        if not unknown:
            self.staff_label.hide()
            return
        names = "; ".join(f"{name} ({rows_text(rows)})" for name, rows in unknown.items())
        if plan.options.create_missing_staff:
            text = tr(
                "New sales staff will be created for: {names}. They cannot sign in until an "
                "owner or manager gives them a password."
            ).format(names=names)
        else:
            text = tr(
                "No staff member has these names: {names}. Those customers will go to the "
                "unassigned pool. To add them as sales staff instead, go Back and tick "
                "“Create unknown salespeople”, or add them under Staff first."
            ).format(names=names)
        self.staff_label.setText(text)
        self.staff_label.show()

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def show_failure(self, text: str) -> None:
        self.progress_box.hide()
        self.show_message(text, error=True)

    # -- filter and decisions ---------------------------------------------------------------
    def _on_filter_changed(self, index: int) -> None:
        self.model.set_filter(RowFilter(self.filter_combo.itemData(index)))

    def set_filter(self, key: RowFilter) -> None:
        self.filter_combo.setCurrentIndex(self.filter_combo.findData(key.value))

    def selected_rows(self) -> list[RowPlan]:
        return [
            self.model.row_at(index.row())
            for index in self.table.selectionModel().selectedRows()
            if index.row() < self.model.rowCount()
        ]

    def selected_duplicates(self) -> list[RowPlan]:
        return [r for r in self.selected_rows() if r.outcome == Outcome.DUPLICATE]

    def _update_decisions(self) -> None:
        enabled = bool(self.selected_duplicates())
        for button in self.decision_buttons.values():
            button.setEnabled(enabled)
        for action in self.decision_actions.values():
            action.setEnabled(enabled)

    def _context_menu(self, pos: QPoint) -> None:
        if not self.selected_duplicates():
            return
        menu = QMenu(self)
        for action in self.decision_actions.values():
            menu.addAction(action)
        menu.popup(self.table.viewport().mapToGlobal(pos))


class SummaryPage(QWidget):
    """Step 4: what the import did, and the way back."""

    undo_requested = Signal()
    save_problems_requested = Signal()
    unmatched_requested = Signal()

    COUNTS = (
        ("created", "Created", Outcome.CREATE),
        ("updated", "Updated", Outcome.UPDATE),
        ("unchanged", "Unchanged", Outcome.UNCHANGED),
        ("skipped", "Skipped", Outcome.SKIP),
        ("review", "For review", Outcome.DUPLICATE),
        ("errors", "Errors", Outcome.ERROR),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryPage")
        self.title = _title(tr("Import finished"))
        self.title.setObjectName("summaryTitle")
        self.title.setStyleSheet("QLabel { font-size: 15pt; font-weight: 600; }")
        self.batch_label = _label("summaryBatch")
        self.count_labels: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        for column, (key, text, outcome) in enumerate(self.COUNTS):
            card = QFrame()
            card.setProperty("card", True)
            card.setObjectName(f"summaryCard_{key}")
            card_layout = QVBoxLayout(card)
            number = QLabel("0")
            number.setObjectName(f"summary{key.title()}")
            color = OUTCOME_COLORS[outcome][0]
            number.setStyleSheet(f"QLabel {{ font-size: 20pt; font-weight: 600; color: {color}; }}")
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption = QLabel(tr(text))
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setStyleSheet("QLabel { color: #4b5563; }")
            card_layout.addWidget(number)
            card_layout.addWidget(caption)
            grid.addWidget(card, 0, column)
            self.count_labels[key] = number
        self.cards = QWidget()
        self.cards.setLayout(grid)
        grid.setContentsMargins(0, 0, 0, 0)
        self.orders_label = _label("summaryOrders")
        self.orders_label.setTextFormat(Qt.TextFormat.RichText)
        self.orders_label.hide()
        self.unmatched_button = QPushButton(tr("Review &unmatched orders…"))
        self.unmatched_button.setObjectName("reviewUnmatchedButton")
        self.unmatched_button.setAutoDefault(False)
        self.unmatched_button.setToolTip(
            tr("Create customers from the orders no customer matched, or link them by hand.")
        )
        self.unmatched_button.hide()
        self.details_label = _label("summaryDetails")
        self.undone_label = _label("undoneLabel", WARNING_STYLE)
        self.undone_label.hide()
        self.message_label = _label("summaryMessage")
        self.message_label.hide()
        self.undo_button = QPushButton(tr("&Undo this import"))
        self.undo_button.setObjectName("undoImportButton")
        self.undo_button.setAutoDefault(False)
        self.undo_button.setToolTip(
            tr("Remove the customers this import created and put back what it changed.")
        )
        self.save_problems_button = QPushButton(tr("Save rows with &problems…"))
        self.save_problems_button.setObjectName("summarySaveProblemsButton")
        self.save_problems_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.save_problems_button)
        buttons.addWidget(self.unmatched_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(self.title)
        layout.addWidget(self.batch_label)
        layout.addWidget(self.cards)
        layout.addWidget(self.orders_label)
        layout.addWidget(self.details_label)
        layout.addWidget(self.undone_label)
        layout.addWidget(self.message_label)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self.undo_button.clicked.connect(self.undo_requested)
        self.save_problems_button.clicked.connect(self.save_problems_requested)
        self.unmatched_button.clicked.connect(self.unmatched_requested)

    def show_order_result(self, result: OrderBatchResult, plan: OrderImportPlan) -> None:
        self.title.setText(tr("Orders imported"))
        self.cards.hide()
        where = plan.path.name + (f" ▸ {plan.sheet}" if plan.sheet else "")
        self.batch_label.setText(
            tr("Batch {batch} · {file} · source “{source}”").format(
                batch=result.batch_id, file=where, source=plan.source_system
            )
        )
        routes = ", ".join(
            tr("{n} by {route}").format(n=f"{count:,}", route=tr(ROUTE_LABELS[route]))
            for route, count in result.linked.items()
            if count
        )
        lines = [
            tr("<b>{new}</b> new, {changed} changed, {unchanged} unchanged.").format(
                new=plural(result.created, tr("{n} order"), tr("{n} orders")),
                changed=f"{result.changed:,}",
                unchanged=f"{result.unchanged:,}",
            ),
            tr("Linked to their customers: {n}").format(n=f"{result.linked_total:,}")
            + (f" ({routes})." if routes else "."),
        ]
        if result.conversions:
            lines.append(
                plural(
                    result.conversions,
                    tr("{n} prospect got a first order and is now an active customer."),
                    tr("{n} prospects got a first order and are now active customers."),
                )
            )
        if result.unmatched:
            lines.append(
                "<span style='color:#8a5300'>"
                + plural(
                    result.unmatched,
                    tr("{n} order has no customer yet: create its customer or link it by hand."),
                    tr(
                        "{n} orders have no customer yet: create their customers or link them by hand."
                    ),
                )
                + "</span>"
            )
        if result.errors:
            lines.append(
                "<span style='color:#b3261e'>"
                + plural(
                    result.errors,
                    tr(
                        "{n} row had a problem and was not imported: save it, fix it, import it again."
                    ),
                    tr(
                        "{n} rows had problems and were not imported: save them, fix them, import them again."
                    ),
                )
                + "</span>"
            )
        self.orders_label.setText("<br>".join(lines))
        self.orders_label.show()
        self.details_label.hide()
        self.unmatched_button.setVisible(result.unmatched > 0)
        self.save_problems_button.setEnabled(result.errors > 0)
        self.undo_button.setEnabled(True)
        self.undo_button.setToolTip(
            tr(
                "Remove the orders this import added, put back what it changed, and make "
                "customers it converted prospects again."
            )
        )
        self.undone_label.hide()
        self.message_label.hide()

    def show_result(self, result: BatchResult, plan: ImportPlan) -> None:
        self.title.setText(tr("Import finished"))
        self.cards.show()
        self.orders_label.hide()
        self.unmatched_button.hide()
        values = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged + result.same_as_row,
            "skipped": result.skipped,
            "review": result.review,
            "errors": result.errors,
        }
        for key, value in values.items():
            self.count_labels[key].setText(f"{value:,}")
        where = plan.path.name + (f" ▸ {plan.sheet}" if plan.sheet else "")
        self.batch_label.setText(
            tr("Batch {batch} · {file} · source “{source}”").format(
                batch=result.batch_id, file=where, source=plan.source_system
            )
        )
        details = []
        if result.same_as_row:
            details.append(
                plural(
                    result.same_as_row,
                    tr("{n} row repeated a customer of an earlier row and was merged into it."),
                    tr("{n} rows repeated customers of earlier rows and were merged into them."),
                )
            )
        if result.review:
            details.append(
                plural(
                    result.review,
                    tr(
                        "{n} possible duplicate was set aside, not imported: decide it in the "
                        "preview of a new import of this file, or add it by hand."
                    ),
                    tr(
                        "{n} possible duplicates were set aside, not imported: decide them in "
                        "the preview of a new import of this file, or add them by hand."
                    ),
                )
            )
        if result.errors:
            details.append(
                tr("Rows with errors were not imported: save them, fix them, import them again.")
            )
        if result.created_staff:
            details.append(
                tr("New sales staff: {0}. Give them a password under Staff.").format(
                    ", ".join(result.created_staff)
                )
            )
        self.details_label.setText(" ".join(details))
        self.details_label.setVisible(bool(details))
        self.save_problems_button.setEnabled(result.errors > 0)
        self.undo_button.setEnabled(True)
        self.undone_label.hide()
        self.message_label.hide()

    def show_undone(self, result: UndoResult) -> None:
        self.title.setText(tr("Import undone"))
        if self.orders_label.isVisible():
            text = tr(
                "Import batch {batch} was undone: {orders} removed, {changed} put back as they "
                "were, {prospects} prospects again."
            ).format(
                batch=result.batch_id,
                orders=plural(result.orders_removed, tr("{n} order"), tr("{n} orders")),
                changed=f"{result.orders_restored:,}",
                prospects=f"{result.restored:,}",
            )
            if result.kept_active:
                text += " " + tr(
                    "Still customers (changed since, or with other orders): {0}."
                ).format(", ".join(result.kept_active[:5]))
            self.undone_label.setText(text)
            self.unmatched_button.hide()
        else:
            self.undone_label.setText(undo_result_text(result))
        self.undone_label.show()
        self.undo_button.setEnabled(False)

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))


# -- the wizard ------------------------------------------------------------------------------


class ImportWizard(QDialog):
    """Import customers or orders from a spreadsheet: file → columns → preview → import."""

    imported = Signal(int)  # batch id: the customer list should refresh
    undone = Signal(int)  # batch id of an import undone from the summary
    unmatched_changed = Signal()  # orders were linked from the unmatched-orders window

    STEP_NAMES = ("File", "Columns", "Preview", "Done")

    def __init__(
        self,
        ctx: AppContext,
        path: Path | None = None,
        parent: QWidget | None = None,
        *,
        kind: ImportKind | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importWizard")
        self.setWindowTitle(tr("Import from a spreadsheet"))
        self.setAcceptDrops(True)
        self._ctx = ctx
        self._loaded: LoadedFile | None = None
        self._mapped: LoadedFile | None = None  # the file the mapping page shows
        self._path: Path | None = None
        self._plan: ImportPlan | None = None
        self._staff: dict[int, str] = {}
        self.batch_result: BatchResult | OrderBatchResult | None = None
        self.read_worker: Worker | None = None
        self.preview_worker: Worker | None = None
        self.apply_worker: Worker | None = None
        self.progress_dialog: ProgressDialog | None = None
        self.undo_runner: UndoRunner | None = None
        self.problems_worker: Worker | None = None
        self._problems: list[str] = []
        # Owners and managers import both; a bookkeeper imports orders only.
        self.allowed_kinds = [
            k
            for k, permission in (
                (ImportKind.CUSTOMERS, Permission.IMPORT_CUSTOMERS),
                (ImportKind.ORDERS, Permission.IMPORT_ORDERS),
            )
            if ctx.can(permission)
        ]
        self._may_import = bool(self.allowed_kinds)
        # The kind the user chose; None lets the file's columns decide.
        self._kind: ImportKind | None = kind
        if len(self.allowed_kinds) == 1:
            self._kind = self.allowed_kinds[0]
        self.unmatched_dialog: QDialog | None = None

        self._build()
        self._wire()
        self.file_page.allow_kinds(self.allowed_kinds)
        if self._kind is not None:
            self.file_page.show_kind(self._kind)
        if not self._may_import:
            self.file_page.deny(
                tr(
                    "Only an owner or a manager can import customers. Ask one of them to import "
                    "this file for you, or to change your role under Staff."
                )
            )
        self._go(Step.FILE)
        (self.file_page.choose_button if self._may_import else self.cancel_button).setFocus()
        if path is not None:
            self.set_path(Path(path))

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.step_labels: list[QLabel] = []
        steps = QHBoxLayout()
        steps.setSpacing(4)
        for i, name in enumerate(self.STEP_NAMES):
            if i:
                arrow = QLabel("›")
                arrow.setStyleSheet("QLabel { color: #9aa3ae; }")
                steps.addWidget(arrow)
            label = QLabel(f"{i + 1}  {tr(name)}")
            label.setObjectName(f"stepLabel{i}")
            self.step_labels.append(label)
            steps.addWidget(label)
        steps.addStretch(1)

        self.file_page = FilePage()
        self.mapping_page = MappingPage()
        self.preview_page = PreviewPage()
        self.summary_page = SummaryPage()
        self.stack = QStackedWidget()
        self.stack.setObjectName("wizardPages")
        for page in (self.file_page, self.mapping_page, self.preview_page, self.summary_page):
            self.stack.addWidget(page)

        self.back_button = QPushButton(tr("‹ &Back"))
        self.back_button.setObjectName("backButton")
        self.back_button.setAutoDefault(False)
        self.next_button = QPushButton(tr("&Next ›"))
        self.next_button.setObjectName("nextButton")
        self.next_button.setDefault(True)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAutoDefault(False)
        self.next_hint = _label("nextHint", wrap=True)
        self.next_hint.setStyleSheet("QLabel { color: #6b7280; }")
        buttons = QHBoxLayout()
        buttons.addWidget(self.next_hint, 1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        buttons.addWidget(self.cancel_button)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("QFrame { color: #dde1e7; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addLayout(steps)
        layout.addWidget(line)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)
        # Wide enough for the mapping table and a preview reason without scrolling sideways.
        self.setMinimumSize(820, 560)
        self.resize(1040, 720)

    def _wire(self) -> None:
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.cancel_button.clicked.connect(self.reject)
        self.file_page.choose_requested.connect(self.choose_file)
        self.file_page.sheet_chosen.connect(self._on_sheet_chosen)
        self.file_page.kind_chosen.connect(self.set_kind)
        self.mapping_page.changed.connect(self._check_mapping)
        self.mapping_page.saved_mapping_chosen.connect(self._on_saved_mapping_chosen)
        self.mapping_page.save_requested.connect(self.save_mapping_as)
        self.preview_page.cancel_requested.connect(self._cancel_preview)
        self.preview_page.save_problems_requested.connect(self.save_problem_rows)
        self.preview_page.decided.connect(self.decide)
        self.summary_page.undo_requested.connect(self.undo_import)
        self.summary_page.unmatched_requested.connect(self.open_unmatched)
        self.summary_page.save_problems_requested.connect(self.save_problem_rows)

    # -- navigation -------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return Step(self.stack.currentIndex())

    @property
    def plan(self) -> ImportPlan | None:
        return self._plan

    def _go(self, step: Step) -> None:
        self.stack.setCurrentIndex(step)
        for i, label in enumerate(self.step_labels):
            if i == step:
                style = "QLabel { color: #1e40af; font-weight: 600; }"
            elif i < step:
                style = "QLabel { color: #374151; }"
            else:
                style = "QLabel { color: #9aa3ae; }"
            label.setStyleSheet(style)
        self._update_buttons()

    def _busy(self, worker: Worker | None) -> bool:
        return worker is not None and worker.is_running()

    def _update_buttons(self) -> None:
        step = self.step
        hint = ""
        self.back_button.setVisible(step in (Step.MAPPING, Step.PREVIEW))
        self.next_button.setVisible(step != Step.SUMMARY)
        self.cancel_button.setText(tr("Close") if step == Step.SUMMARY else tr("Cancel"))
        self.cancel_button.setDefault(step == Step.SUMMARY)
        self.next_button.setText(tr("&Import") if step == Step.PREVIEW else tr("&Next ›"))
        if step == Step.FILE:
            ready = (
                self._may_import
                and self._loaded is not None
                and bool(self._loaded.table.rows)
                and not self._busy(self.read_worker)
            )
            if self._may_import and not ready and not self._busy(self.read_worker):
                if self.file_page.error_label.isVisible():
                    hint = tr("Choose another file (or sheet) to go on.")
                elif self._loaded is None:
                    hint = tr("Choose a file to go on.")
        elif step == Step.MAPPING:
            ready = not self._problems
            if not ready:
                hint = tr("Fix the problem shown under the table to go on.")
        elif step == Step.PREVIEW:
            plan = self._plan
            ready = plan is not None and not self._busy(self.preview_worker) and self._writes(plan)
            if plan is not None and not ready:
                hint = tr("Nothing to import: every row is unchanged, skipped or has an error.")
            elif isinstance(plan, OrderImportPlan):
                counts_o = plan.order_counts
                hint = tr("Import writes {new} and {changed} as one batch you can undo.").format(
                    new=plural(
                        counts_o[OrderOutcome.NEW], tr("{n} new order"), tr("{n} new orders")
                    ),
                    changed=plural(
                        counts_o[OrderOutcome.CHANGED], tr("{n} change"), tr("{n} changes")
                    ),
                )
            elif plan is not None:
                counts = Counter(r.effective for r in plan.rows)
                hint = tr("Import writes {new} and {updates} as one batch you can undo.").format(
                    new=plural(
                        counts[Outcome.CREATE], tr("{n} new customer"), tr("{n} new customers")
                    ),
                    updates=plural(counts[Outcome.UPDATE], tr("{n} update"), tr("{n} updates")),
                )
        else:
            ready = False
        self.next_button.setEnabled(ready)
        self.next_hint.setText(hint)

    @staticmethod
    def _writes(plan: ImportPlan) -> bool:
        """Whether applying would write anything (new staff can turn rows into updates)."""
        if isinstance(plan, OrderImportPlan):
            counts = plan.order_counts
            return bool(counts[OrderOutcome.NEW] or counts[OrderOutcome.CHANGED])
        return any(
            r.effective in (Outcome.CREATE, Outcome.UPDATE, Outcome.DUPLICATE, Outcome.REVIEW)
            for r in plan.rows
        ) or bool(plan.unknown_staff and plan.options.create_missing_staff)

    @Slot()
    def next(self) -> None:
        if not self.next_button.isEnabled():
            return
        step = self.step
        if step == Step.FILE and self._loaded is not None:
            if self._mapped is not self._loaded:
                self.mapping_page.set_file(self._loaded)
                self._mapped = self._loaded
            self._go(Step.MAPPING)
            self._check_mapping()
        elif step == Step.MAPPING:
            self._go(Step.PREVIEW)
            self._start_preview()
        elif step == Step.PREVIEW:
            self._start_apply()

    @Slot()
    def back(self) -> None:
        step = self.step
        if step == Step.MAPPING:
            self._go(Step.FILE)
        elif step == Step.PREVIEW:
            self._cancel_preview()

    def reject(self) -> None:
        if self._busy(self.apply_worker):
            return  # the progress dialog's Cancel stops an import; closing must not
        for worker in (self.read_worker, self.preview_worker):
            if worker is not None and worker.is_running():
                worker.cancel()
        if self.step == Step.SUMMARY:
            self.accept()
            return
        super().reject()

    # -- step 1: the file -------------------------------------------------------------------
    @Slot()
    def choose_file(self) -> None:
        start = str(self._path.parent) if self._path else str(Path.home())
        name, _filter = QFileDialog.getOpenFileName(
            self, tr("Choose a spreadsheet to import"), start, tr(FILE_FILTER)
        )
        if name:
            self.set_path(Path(name))

    def set_path(self, path: Path) -> None:
        """Read ``path`` (also what the main window calls for a file dropped on it)."""
        self._path = path
        self._loaded = None
        self.file_page.path_edit.setText(str(path))
        if not self._may_import:
            self._update_buttons()
            return
        self._go(Step.FILE)
        self._start_read(path, None, with_sheets=True)

    @property
    def kind(self) -> ImportKind:
        """What the file is imported as (customers or orders)."""
        if self._loaded is not None:
            return self._loaded.kind
        return self._kind or self.file_page.kind

    @Slot(object)
    def set_kind(self, kind: ImportKind) -> None:
        """The user says what the file holds: read it again as that (columns re-guessed)."""
        if kind not in self.allowed_kinds:
            return
        self._kind = kind
        self.file_page.show_kind(kind)
        if self._path is not None and (self._loaded is None or self._loaded.kind != kind):
            sheet = self._loaded.table.sheet if self._loaded is not None else None
            self._mapped = None
            self._start_read(self._path, sheet, with_sheets=self._loaded is None)

    @Slot(str)
    def _on_sheet_chosen(self, sheet: str) -> None:
        if self._path is not None and (self._loaded is None or self._loaded.table.sheet != sheet):
            self._start_read(self._path, sheet, with_sheets=False)

    def _start_read(self, path: Path, sheet: str | None, *, with_sheets: bool) -> None:
        if self.read_worker is not None and self.read_worker.is_running():
            self.read_worker.cancel()  # its late answer is ignored below
        ctx = self._ctx
        kind = self._kind
        worker = Worker(
            lambda progress: load_file(ctx, path, sheet, with_sheets, progress, kind), self
        )
        worker.finished.connect(lambda loaded, w=worker: self._on_file_loaded(w, loaded))
        worker.failed.connect(lambda message, w=worker: self._on_read_failed(w, message))
        worker.ended.connect(self._update_buttons)
        self.read_worker = worker
        self._loaded = None
        self.file_page.show_reading(path, new_file=with_sheets)
        worker.start()
        self._update_buttons()

    def _on_file_loaded(self, worker: Worker, loaded: LoadedFile) -> None:
        if worker is not self.read_worker:
            return
        self._loaded = loaded
        self.file_page.show_loaded(loaded)
        self.file_page.show_kind(loaded.kind, guessed=loaded.guessed)
        if loaded.kind not in self.allowed_kinds:
            self._loaded = None
            self.file_page.show_error(
                tr(
                    "{file} looks like a customer list, and only an owner or a manager can "
                    "import customers. Choose an order export, or ask one of them."
                ).format(file=loaded.path.name)
            )
            self._update_buttons()
            return
        if not self.file_page.source_touched:
            # A saved mapping knows its system; otherwise the default, not the last file's.
            self.file_page.source_edit.setText(
                loaded.mapping.source_system if loaded.mapping.name else DEFAULT_SOURCE
            )
        self._update_buttons()

    def _on_read_failed(self, worker: Worker, message: str) -> None:
        if worker is not self.read_worker:
            return
        self._loaded = None
        self.file_page.show_error(message)
        self._update_buttons()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_path(event)
        if path is not None:
            event.acceptProposedAction()
            self.set_path(path)

    def _dropped_path(self, event: QDragEnterEvent | QDropEvent) -> Path | None:
        if self.step != Step.FILE or not self._may_import:
            return None
        urls = event.mimeData().urls()
        if len(urls) != 1 or not urls[0].isLocalFile():
            return None
        path = Path(urls[0].toLocalFile())
        return path if path.suffix.lower() in SPREADSHEET_SUFFIXES else None

    # -- step 2: the mapping ----------------------------------------------------------------
    def current_mapping(self) -> Mapping:
        return self.mapping_page.current_mapping(self.file_page.source_system())

    @Slot()
    def _check_mapping(self) -> None:
        if self._mapped is None:
            return
        self._problems = [tr(p) for p in mapping_problems(self.current_mapping())]
        self.mapping_page.show_problems(self._problems)
        self._update_buttons()

    @Slot(str)
    def _on_saved_mapping_chosen(self, name: str) -> None:
        loaded = self._mapped
        if loaded is None:
            return
        try:
            if name:
                with self._ctx.read_session() as session:
                    mapping = choose_mapping(session, loaded.table, loaded.kind, mapping_name=name)
            else:
                mapping = auto_map(loaded.table.header, loaded.kind)
        except SmbcrmError as exc:
            self.mapping_page.show_message(str(exc), error=True)
            return
        except SQLAlchemyError:
            log.warning("Reading saved mapping %r failed", name, exc_info=True)
            self.mapping_page.show_message(
                tr("The saved mapping could not be read. Check the connection to the database."),
                error=True,
            )
            return
        self.mapping_page.apply_mapping(mapping)
        if mapping.name and not self.file_page.source_touched:
            self.file_page.source_edit.setText(mapping.source_system)
        self.mapping_page.show_message("")

    @Slot()
    def save_mapping_as(self) -> None:
        loaded = self._mapped
        if loaded is None:
            return
        mapping = self.current_mapping()
        name, ok = QInputDialog.getText(
            self,
            tr("Save the column mapping"),
            tr("Name for this mapping (e.g. the system the file comes from):"),
            QLineEdit.EchoMode.Normal,
            mapping.name or self.file_page.source_system(),
        )
        if not ok:
            return
        try:
            with self._ctx.unit_of_work() as (session, user):
                saved = save_mapping(session, user, name, loaded.table.header, mapping)
                saved_name = saved.name
                names = saved_mapping_names(session, mapping.kind)
        except SmbcrmError as exc:
            self.mapping_page.show_message(str(exc), error=True)
            return
        except SQLAlchemyError:
            log.warning("Saving mapping %r failed", name, exc_info=True)
            self.mapping_page.show_message(
                tr("The mapping was not saved: the database did not accept it. Try again."),
                error=True,
            )
            return
        self.mapping_page.mapping_name = saved_name
        self.mapping_page.set_saved_names(names, saved_name)
        self.mapping_page.show_message(
            tr(
                "Saved as “{0}”. Files with these columns will be matched this way next time."
            ).format(saved_name)
        )

    # -- step 3: the preview ----------------------------------------------------------------
    def _start_preview(self) -> None:
        loaded = self._mapped
        if loaded is None:
            return
        ctx, table = self._ctx, loaded.table
        mapping = self.current_mapping()
        options = self.mapping_page.options(ctx.region)
        self._plan = None
        self.preview_page.show_building(mapping.kind)
        worker = Worker(
            lambda progress: build_preview(ctx, table, mapping, options, progress), self
        )
        worker.progressed.connect(self.preview_page.show_progress)
        worker.finished.connect(lambda preview, w=worker: self._on_preview_built(w, preview))
        worker.failed.connect(lambda message, w=worker: self._on_preview_failed(w, message))
        worker.ended.connect(self._update_buttons)
        self.preview_worker = worker
        worker.start()
        self._update_buttons()

    def _on_preview_built(self, worker: Worker, preview: Preview) -> None:
        if worker is not self.preview_worker or self.step != Step.PREVIEW:
            return
        self._plan = preview.plan
        self._staff = preview.staff
        if isinstance(preview.plan, OrderImportPlan):
            self.preview_page.show_order_plan(preview.plan)
            self._update_buttons()
            return
        self.preview_page.show_plan(preview.plan, preview.staff, self._ctx.region)
        if preview.plan.error_rows and not any(
            r.outcome != Outcome.ERROR for r in preview.plan.rows
        ):
            self.preview_page.set_filter(RowFilter.ERRORS)
        self._update_buttons()

    def _on_preview_failed(self, worker: Worker, message: str) -> None:
        if worker is not self.preview_worker:
            return
        self.preview_page.show_failure(tr("The preview could not be made: {0}").format(message))

    @Slot()
    def _cancel_preview(self) -> None:
        """Back to the columns; a preview still being made is abandoned (nothing is written)."""
        worker = self.preview_worker
        was_running = worker is not None and worker.is_running()
        if worker is not None and was_running:
            worker.cancel()
        self.preview_worker = None
        self._plan = None
        self._go(Step.MAPPING)
        if was_running:
            self.mapping_page.show_message(tr("Preview cancelled: nothing was written."))

    @Slot(object)
    def decide(self, decision: Outcome) -> None:
        plan = self._plan
        if plan is None:
            return
        rows = self.preview_page.selected_duplicates()
        if not rows:
            return
        apply_decisions(plan, {r.row_number: decision for r in rows})
        self.preview_page.model.refresh()
        self.preview_page.show_counts(plan)
        self._update_buttons()

    # -- applying ---------------------------------------------------------------------------
    def _start_apply(self) -> None:
        plan = self._plan
        if plan is None or self._busy(self.apply_worker):
            return
        db, actor_id = self._ctx.db, self._ctx.user_id
        self.preview_page.show_message("")
        if isinstance(plan, OrderImportPlan):
            ctx = self._ctx
            worker = Worker(lambda progress: apply_preview(ctx, plan, progress), self)
            title = tr("Importing orders")
        else:
            worker = Worker(
                lambda progress: apply_plan(db, actor_id, plan, progress=progress), self
            )
            title = tr("Importing customers")
        worker.finished.connect(self._on_applied)
        worker.cancelled.connect(self._on_apply_cancelled)
        worker.failed.connect(self._on_apply_failed)
        worker.ended.connect(self._update_buttons)
        self.progress_dialog = ProgressDialog(worker, title, self)
        self.apply_worker = worker
        self.next_button.setEnabled(False)
        worker.start()

    @Slot(object)
    def _on_applied(self, result: BatchResult | OrderBatchResult) -> None:
        assert self._plan is not None
        self.batch_result = result
        if isinstance(result, OrderBatchResult):
            assert isinstance(self._plan, OrderImportPlan)
            self.summary_page.show_order_result(result, self._plan)
        else:
            self.summary_page.show_result(result, self._plan)
        self._go(Step.SUMMARY)
        self.imported.emit(result.batch_id)

    @Slot()
    def _on_apply_cancelled(self) -> None:
        self.preview_page.show_message(tr("Cancelled: nothing was imported."))

    @Slot(str)
    def _on_apply_failed(self, message: str) -> None:
        shown = (
            message
            if "nothing was imported" in message.lower()
            else tr("Nothing was imported: {0}").format(message)
        )
        self.preview_page.show_message(shown, error=True)
        QMessageBox.warning(self, tr("Nothing was imported"), message)

    # -- rows with problems -----------------------------------------------------------------
    @Slot()
    def save_problem_rows(self) -> None:
        plan = self._plan
        if plan is None or not plan.error_rows:
            return
        suggested = plan.path.with_name(f"{plan.path.stem} - problems.xlsx")
        name, _filter = QFileDialog.getSaveFileName(
            self, tr("Save rows with problems"), str(suggested), tr("Excel workbook (*.xlsx)")
        )
        if not name:
            return
        target = Path(name)
        if target.suffix.lower() != ".xlsx":
            target = target.with_name(target.name + ".xlsx")
        page: PreviewPage | SummaryPage = (
            self.summary_page if self.step == Step.SUMMARY else self.preview_page
        )

        def saved(count: int) -> None:
            page.show_message(
                tr(
                    "Saved {rows} to {path}. The Problem column says what to fix in each; "
                    "then import that file again."
                ).format(
                    rows=plural(count, tr("{n} row with problems"), tr("{n} rows with problems")),
                    path=target,
                )
            )

        worker = Worker(lambda _progress: write_problem_rows(plan, target), self)
        worker.finished.connect(saved)
        worker.failed.connect(
            lambda message: page.show_message(
                tr("The rows were not saved: {0}").format(message), error=True
            )
        )
        ProgressDialog(worker, tr("Saving rows with problems"), self, cancellable=False)
        self.problems_worker = worker
        worker.start()

    # -- undo -------------------------------------------------------------------------------
    @Slot()
    def undo_import(self) -> None:
        result = self.batch_result
        if result is None or (self.undo_runner is not None and self.undo_runner.is_running()):
            return
        runner = UndoRunner(self._ctx, result.batch_id, self)
        runner.undone.connect(self._on_undone)
        runner.kept.connect(lambda: self.summary_page.show_message(tr("The import was kept.")))
        runner.failed.connect(
            lambda message: self.summary_page.show_message(
                tr("The import was not undone: {0}").format(message), error=True
            )
        )
        self.undo_runner = runner
        self.summary_page.show_message("")
        runner.start()

    @Slot(object)
    def _on_undone(self, result: UndoResult) -> None:
        self.summary_page.show_undone(result)
        self.undone.emit(result.batch_id)

    # -- unmatched orders --------------------------------------------------------------------
    @Slot()
    def open_unmatched(self) -> QDialog:
        """The window of orders without a customer (one at a time)."""
        from smbcrm.ui.unmatched_orders import UnmatchedOrdersDialog

        if self.unmatched_dialog is not None:
            self.unmatched_dialog.raise_()
            return self.unmatched_dialog
        dialog = UnmatchedOrdersDialog(self._ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(self.unmatched_changed)
        dialog.finished.connect(lambda _code: setattr(self, "unmatched_dialog", None))
        self.unmatched_dialog = dialog
        dialog.open()
        return dialog
