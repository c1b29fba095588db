"""Rows an import left for a person to decide, decided one (or a few) at a time.

An import that finds a row looking like a customer already in the book, without being sure,
leaves the row for review (``smbcrm.services.importing.review``). This dialog lists them —
the row as it was in the file and the customer it looks like — and offers the three
decisions: create a new customer, add the row to that customer, or skip it. Each decision is
one service call; the row then leaves the list and :attr:`ReviewDialog.decided` fires so the
customer list can refresh.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.services.importing.review import (
    ReviewDecision,
    ReviewRow,
    pending_reviews,
    resolve_review,
)
from smbcrm.services.permissions import Permission
from smbcrm.ui.context import AppContext
from smbcrm.ui.style import EMPTY_STYLE, ERROR_STYLE, HINT_STYLE, OK_STYLE

log = logging.getLogger(__name__)

# A candidate's name in the "Add to …" button is cut to this many characters.
BUTTON_NAME_CHARS = 28
# Widest a column grows to fit its text (in Latin digits); longer text wraps.
COLUMN_CHARS = {0: 26, 2: 26, 3: 40, 4: 26}
WHY_CHARS = 40  # "Why" keeps its text's width up to this before the others are narrowed


def tr(text: str) -> str:
    return QCoreApplication.translate("ReviewDialog", text)


def _elided(text: str, limit: int = BUTTON_NAME_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def reason_text(row: ReviewRow) -> str:
    """The service's reason, without the candidate's name it starts with (shown beside)."""
    prefix = f"{row.candidate_name}: "
    if row.candidate_name and row.reason.startswith(prefix):
        rest = row.reason[len(prefix) :]
        return rest[:1].upper() + rest[1:]
    return row.reason


class ReviewDialog(QDialog):
    """The rows waiting for review, with "Create new customer", "Add to …" and "Skip"."""

    COLUMNS = ("File", "Row", "Name in the file", "Details", "Looks like", "Why")
    FILE, ROW, NAME, DETAILS, CANDIDATE, REASON = range(len(COLUMNS))

    # After each decision: the customer the row went to, or 0 when it was skipped.
    decided = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewDialog")
        self.setWindowTitle(tr("Rows to review"))
        self._ctx = ctx
        self._may_decide = ctx.can(Permission.IMPORT_CUSTOMERS)
        self._rows: list[ReviewRow] = []

        self.intro = QLabel(
            tr(
                "These rows from imports look like customers already in the book. For each, "
                "create a new customer, add the row to the customer it looks like, or skip it."
            )
        )
        self.intro.setObjectName("reviewIntro")
        self.intro.setWordWrap(True)

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("reviewTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        # Details and reasons can be long: they wrap rather than hide behind "…".
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        # Rows grow to their wrapped text, also when the dialog is resized.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(self.ROW, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        self.empty_label = QLabel(tr("Nothing waiting for review."))
        self.empty_label.setObjectName("reviewEmptyLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(EMPTY_STYLE)
        self.empty_label.hide()

        self.count_label = QLabel()
        self.count_label.setObjectName("reviewCount")
        self.count_label.setStyleSheet(HINT_STYLE)
        self.message = QLabel()
        self.message.setObjectName("reviewMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        self.create_button = QPushButton(tr("&Create new customer"))
        self.create_button.setObjectName("createButton")
        self.add_button = QPushButton(tr("&Add to the customer it looks like"))
        self.add_button.setObjectName("addToMatchButton")
        self.skip_button = QPushButton(tr("&Skip"))
        self.skip_button.setObjectName("skipButton")
        self.close_button = QPushButton(tr("Close"))
        self.close_button.setObjectName("closeButton")
        for button in (self.create_button, self.add_button, self.skip_button):
            button.setAutoDefault(False)
        self.close_button.setDefault(True)

        decisions = QHBoxLayout()
        decisions.addWidget(self.create_button)
        decisions.addWidget(self.add_button)
        decisions.addWidget(self.skip_button)
        decisions.addStretch(1)
        decisions.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.count_label)
        layout.addWidget(self.message)
        layout.addLayout(decisions)
        self.setMinimumSize(720, 360)
        self.resize(1080, 480)

        self.create_button.clicked.connect(lambda: self.decide(ReviewDecision.CREATE))
        self.add_button.clicked.connect(lambda: self.decide(ReviewDecision.UPDATE))
        self.skip_button.clicked.connect(lambda: self.decide(ReviewDecision.SKIP))
        self.close_button.clicked.connect(self.accept)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.reload()

    # -- data ---------------------------------------------------------------------------
    @property
    def rows(self) -> list[ReviewRow]:
        return list(self._rows)

    def reload(self) -> None:
        """Read the rows still waiting (someone else may have decided some meanwhile)."""
        try:
            with self._ctx.read_session() as session:
                rows = pending_reviews(session)
        except (SQLAlchemyError, SmbcrmError):
            log.warning("Reading the rows to review failed", exc_info=True)
            rows = []
            self._show_message(
                tr("The rows to review could not be read. Check the connection to the database."),
                error=True,
            )
        self._rows = rows
        self.table.setRowCount(0)
        self.table.setRowCount(len(rows))
        for position, row in enumerate(rows):
            self._fill(position, row)
        self._size_columns()
        if rows:
            self.table.selectRow(0)
        self._after_change()

    def _fill(self, position: int, row: ReviewRow) -> None:
        cells = (
            row.file_name,
            str(row.row_number),
            row.name or tr("(no name)"),
            row.details,
            row.candidate_name or "—",
            reason_text(row),
        )
        tips = (
            tr("Import batch {0}").format(row.batch_id),
            "",
            row.name,
            row.details,
            row.candidate_name or tr("No customer to add this row to; create it or skip it."),
            row.reason,
        )
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if tips[column]:
                item.setToolTip(tips[column])
            if column == self.ROW:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(position, column, item)

    def _size_columns(self) -> None:
        """Fit the columns to their text; when that is too wide for the table, the longest
        columns are held to a width (their text wraps) and "Why" takes what is left."""
        table = self.table
        table.setWordWrap(False)  # else the text's width is measured wrapped to the old one
        table.resizeColumnsToContents()
        table.setWordWrap(True)
        # Not averageCharWidth(): with a CJK fallback font that is twice a Latin letter.
        char = self.fontMetrics().horizontalAdvance("0")
        why = min(table.columnWidth(self.REASON), WHY_CHARS * char)
        available = table.viewport().width() - why
        for column in (self.DETAILS, self.NAME, self.CANDIDATE, self.FILE):
            if sum(table.columnWidth(c) for c in range(self.REASON)) <= available:
                break
            table.setColumnWidth(
                column, min(table.columnWidth(column), COLUMN_CHARS[column] * char)
            )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not event.spontaneous():
            # Once the layout has given the table its real width.
            QTimer.singleShot(0, self._size_columns)

    def selected_positions(self) -> list[int]:
        model = self.table.selectionModel()
        return sorted(
            index.row() for index in model.selectedRows() if index.row() < len(self._rows)
        )

    def selected_rows(self) -> list[ReviewRow]:
        return [self._rows[p] for p in self.selected_positions()]

    def select_row(self, position: int) -> None:
        self.table.clearSelection()
        self.table.selectRow(position)

    # -- decisions ----------------------------------------------------------------------
    def decide(self, decision: ReviewDecision) -> None:
        """Apply ``decision`` to every selected row, one service call each."""
        chosen = self.selected_rows()
        if not chosen or not self._may_decide:
            return
        if decision == ReviewDecision.UPDATE and any(r.candidate_id is None for r in chosen):
            return
        first = self.selected_positions()[0]
        done: list[str] = []
        error = ""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            for row in chosen:
                try:
                    customer_id = resolve_review(self._ctx.db, self._ctx.user_id, row.id, decision)
                except SmbcrmError as exc:
                    error = str(exc)
                    break
                except SQLAlchemyError:
                    log.warning("Deciding review row %s failed", row.id, exc_info=True)
                    error = tr(
                        "The decision could not be saved. Check the connection to the database."
                    )
                    break
                self._remove(row)
                done.append(self._done_text(decision, row))
                self.decided.emit(customer_id or 0)
        finally:
            QApplication.restoreOverrideCursor()
        if error:
            # The list may be stale (someone else decided a row): read it again.
            self.reload()
            prefix = tr("Row {0}: ").format(chosen[len(done)].row_number)
            self._show_message(prefix + error, error=True)
        else:
            if len(done) == 1:
                self._show_message(done[0], ok=True)
            else:
                self._show_message(self._many_done_text(decision, len(done)), ok=True)
            if self._rows:
                self.select_row(min(first, len(self._rows) - 1))
        self._after_change()

    def _remove(self, row: ReviewRow) -> None:
        position = self._rows.index(row)
        del self._rows[position]
        self.table.removeRow(position)

    @staticmethod
    def _done_text(decision: ReviewDecision, row: ReviewRow) -> str:
        name = row.name or tr("row {0}").format(row.row_number)
        if decision == ReviewDecision.CREATE:
            return tr("Created the customer {name} from row {row} of {file}.").format(
                name=name, row=row.row_number, file=row.file_name
            )
        if decision == ReviewDecision.UPDATE:
            return tr("Added row {row} of {file} to {customer}.").format(
                row=row.row_number, file=row.file_name, customer=row.candidate_name or ""
            )
        return tr("Skipped row {row} of {file}.").format(row=row.row_number, file=row.file_name)

    @staticmethod
    def _many_done_text(decision: ReviewDecision, count: int) -> str:
        if decision == ReviewDecision.CREATE:
            return tr("Created {0} new customers.").format(count)
        if decision == ReviewDecision.UPDATE:
            return tr("Added {0} rows to the customers they look like.").format(count)
        return tr("Skipped {0} rows.").format(count)

    # -- state --------------------------------------------------------------------------
    def _after_change(self) -> None:
        empty = not self._rows
        self.intro.setVisible(not empty)
        self.table.setVisible(not empty)
        self.empty_label.setVisible(empty)
        for button in (self.create_button, self.add_button, self.skip_button):
            button.setVisible(not empty)
        count = len(self._rows)
        self.count_label.setText(
            tr("1 row waiting for review.")
            if count == 1
            else tr("{0} rows waiting for review.").format(count)
        )
        self.count_label.setVisible(not empty)
        self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        chosen = self.selected_rows()
        if not self._may_decide:
            reason = tr("Only an owner or a manager can decide rows from imports.")
        elif not chosen:
            reason = tr("Select the rows to decide.")
        else:
            reason = ""
        for button in (self.create_button, self.add_button, self.skip_button):
            button.setEnabled(not reason)
            button.setToolTip(reason)
        if reason:
            self.add_button.setText(tr("&Add to the customer it looks like"))
            return
        self.create_button.setToolTip(tr("Make a new customer from the row as it is in the file."))
        self.skip_button.setToolTip(tr("Leave the row out; nothing is changed."))
        candidates = {r.candidate_name for r in chosen}
        if any(r.candidate_id is None for r in chosen):
            self.add_button.setText(tr("&Add to the customer it looks like"))
            self.add_button.setEnabled(False)
            self.add_button.setToolTip(
                tr("A selected row has no customer to add it to; create it or skip it.")
            )
        elif len(candidates) == 1:
            name = next(iter(candidates)) or ""
            self.add_button.setText(tr("&Add to {0}").format(_elided(name)))
            self.add_button.setToolTip(
                tr("Add the row's phones, emails and other details to {0}.").format(name)
            )
        else:
            self.add_button.setText(tr("&Add each to the customer it looks like"))
            self.add_button.setToolTip(
                tr("Add each row's details to the customer shown under Looks like.")
            )

    def _show_message(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else OK_STYLE if ok else "")
        self.message.setText(text)
        self.message.setVisible(bool(text))
