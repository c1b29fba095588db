"""The import preview's table models: every row's (or order's) outcome, filtered and coloured."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from PySide6.QtCore import (
    Qt,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QWidget,
)

from smbcrm.errors import worded
from smbcrm.models import LinkRoute
from smbcrm.services.importing.fields import Field
from smbcrm.services.importing.orders import (
    OrderImportPlan,
    OrderOutcome,
    PlannedOrder,
)
from smbcrm.services.importing.orders_match import ROUTE_LABELS
from smbcrm.services.importing.plan import (
    ImportPlan,
    Outcome,
    RowPlan,
)
from smbcrm.services.money import format_money
from smbcrm.ui.import_texts import (
    OUTCOME_COLORS,
    display_value,
    outcome_label,
    plural,
    problem_text,
    row_details,
    tr,
)
from smbcrm.ui.list_model import AnyIndex, ListTableModel

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
        text = tr("No customer found: {0}").format(worded(order.reason))
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
        text += tr(" ({0})").format(tr("; ").join(worded(w) for w in warnings))
    return text


class OrderRowsModel(ListTableModel[PlannedOrder]):
    """The plan's orders, optionally filtered; texts are made only for rows on screen."""

    ROWS, OUTCOME, NUMBER, DATE, AMOUNT, DETAILS = range(6)
    HEADERS = ("Row", "Outcome", "Order", "Date", "Amount", "Customer / why")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plan: OrderImportPlan | None = None
        self._filter = OrderFilter.ALL

    @property
    def order_filter(self) -> OrderFilter:
        return self._filter

    def set_plan(self, plan: OrderImportPlan | None) -> None:
        self._plan = plan
        self.replace_rows(self._filtered())

    def set_filter(self, key: OrderFilter) -> None:
        self._filter = key
        self.replace_rows(self._filtered())

    def _filtered(self) -> list[PlannedOrder]:
        if self._plan is None:
            return []
        test = ORDER_FILTER_TESTS[self._filter]
        return [o for o in self._plan.orders if test(o)]

    def order_at(self, position: int) -> PlannedOrder:
        return self._rows[position]

    def headers(self) -> list[str]:
        return [tr(title) for title in self.HEADERS]

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        order = self._rows[index.row()]
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
                return format_money(order.amount, order.currency)
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


class PlanRowsModel(ListTableModel[RowPlan]):
    """The plan's rows, optionally filtered; texts are made only for rows on screen."""

    ROW, OUTCOME, CUSTOMER, DETAILS = range(4)
    HEADERS = ("Row", "Outcome", "Customer (from the file)", "Why / what changes")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plan: ImportPlan | None = None
        self._filter = RowFilter.ALL
        self._staff: dict[int, str] = {}
        self._region = "CN"
        self._name_columns: list[int] = []

    @property
    def row_filter(self) -> RowFilter:
        return self._filter

    def set_plan(self, plan: ImportPlan | None, staff: dict[int, str], region: str) -> None:
        self._plan = plan
        self._staff = staff
        self._region = region
        self._name_columns = plan.mapping.columns_for(Field.NAME) if plan else []
        self.replace_rows(self._filtered())

    def set_filter(self, key: RowFilter) -> None:
        self._filter = key
        self.replace_rows(self._filtered())

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

    def row_at(self, position: int) -> RowPlan:  # a position on screen always has its row
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

    def headers(self) -> list[str]:
        return [tr(title) for title in self.HEADERS]

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
