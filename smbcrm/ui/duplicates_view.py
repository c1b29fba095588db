"""The duplicate review queue: customers that may be one, and a person's decision on each.

"Find duplicates" runs :func:`smbcrm.services.duplicates.scan_duplicates` over the whole
book on a :class:`~smbcrm.ui.workers.Worker` with progress and Cancel (a cancelled scan
writes nothing, so the queue stays as it was). The queue lists the pairs it found — how
alike, both customers with their city, phone and owner, and why in words — and shows the
selected pair side by side. For each pair: Merge… (the merge window on the two), Not the
same (remembered: never proposed again) or Decide later. After a decision the next pair is
selected, so a queue can be worked through from the keyboard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError, worded
from smbcrm.models import DuplicateStatus
from smbcrm.models.keys import fold_text
from smbcrm.services import duplicates
from smbcrm.services.duplicates import PairSide, QueuedPair, ScanResult
from smbcrm.services.merge import MergeResult, UndoMergeResult
from smbcrm.services.permissions import Permission
from smbcrm.ui import counts
from smbcrm.ui.context import AppContext
from smbcrm.ui.counts import plural
from smbcrm.ui.customers_model import kind_label, status_label
from smbcrm.ui.list_model import AnyIndex, ListTableModel
from smbcrm.ui.merge_dialog import MergeDialog, MergeHistoryDialog
from smbcrm.ui.style import EMPTY_STYLE, HINT_STYLE, text_width
from smbcrm.ui.workers import ProgressDialog, Worker

log = logging.getLogger(__name__)

MUTED = QColor("#6b7280")
DIFFERS_BACKGROUND = QColor("#fff4d6")
SCORE_COLORS = ((90.0, QColor("#b3261e")), (80.0, QColor("#b45309")), (0.0, QColor("#4b5563")))


def tr(text: str) -> str:
    return QCoreApplication.translate("DuplicatesView", text)


def pair_status_label(status: DuplicateStatus) -> str:
    return {
        DuplicateStatus.OPEN: tr("Open"),
        DuplicateStatus.LATER: tr("Later"),
        DuplicateStatus.NOT_SAME: tr("Not the same"),
        DuplicateStatus.MERGED: tr("Merged"),
    }[status]


def side_details(side: PairSide) -> str:
    """City · phone · owner, in one line under the name."""
    parts = [side.city or "", side.phone or "", side.owner or tr("unassigned")]
    return " · ".join(p for p in parts if p)


def score_text(score: float) -> str:
    return f"{score:.0f}%"


def score_color(score: float) -> QColor:
    return next(color for floor, color in SCORE_COLORS if score >= floor)


def why_text(reasons: tuple[str, ...]) -> str:
    """The two strongest reasons on two lines; how many more there are (all in the tooltip)."""
    if len(reasons) <= 2:
        return "\n".join(reasons)
    more = tr("(+{n} more)").format(n=len(reasons) - 2)
    return f"{reasons[0]}\n{reasons[1]} {more}"


def scan_summary(result: ScanResult) -> str:
    text = tr("{scanned} checked in {seconds} s: {queued} to review.").format(
        scanned=counts.customers(result.customers_scanned),
        seconds=f"{result.seconds:.1f}",
        queued=plural(result.queued, tr("{n} possible duplicate"), tr("{n} possible duplicates")),
    )
    if result.suppressed:
        text += " " + plural(
            result.suppressed,
            tr("{n} pair marked “not the same” before was left out."),
            tr("{n} pairs marked “not the same” before were left out."),
        )
    for note in result.book_notes:
        text += " " + worded(note)
    return text


class PairTableModel(ListTableModel[QueuedPair]):
    """The queued pairs, in the service's order (open by score, then those left for later)."""

    SCORE, FIRST, SECOND, WHY, STATUS = range(5)
    # The two customer columns carry the side as their user data (0 first, 1 second).
    SIDE_ROLE = Qt.ItemDataRole.UserRole + 1

    def headers(self) -> list[str]:
        return [tr("Alike"), tr("Customer"), tr("May be the same as"), tr("Why"), tr("Status")]

    def set_pairs(self, pairs: list[QueuedPair]) -> None:
        self.replace_rows(pairs)

    def pair_at(self, row: int) -> QueuedPair | None:
        return self.row_at(row)

    def row_of(self, pair_id: int) -> int | None:
        return next((i for i, p in enumerate(self._rows) if p.pair_id == pair_id), None)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        pair = self.pair_at(index.row())
        if pair is None:
            return None
        col = index.column()
        side = pair.a if col == self.FIRST else pair.b if col == self.SECOND else None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.SCORE:
                return score_text(pair.score)
            if side is not None:
                return f"{side.name}\n{side_details(side)}"
            if col == self.WHY:
                return why_text(tuple(map(worded, pair.reasons)))
            if col == self.STATUS:
                return pair_status_label(pair.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            if side is not None:
                return tr("{name}\n{details}\n{orders} · double-click to open").format(
                    name=side.name,
                    details=side_details(side),
                    orders=counts.orders(side.order_count),
                )
            if col == self.WHY:
                return "\n".join(map(worded, pair.reasons))
        if role == self.SIDE_ROLE and side is not None:
            return 0 if side is pair.a else 1
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == self.SCORE:
                return score_color(pair.score)
            if col == self.STATUS and pair.status != DuplicateStatus.OPEN:
                return MUTED
        if role == Qt.ItemDataRole.FontRole and col == self.SCORE:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.SCORE, self.STATUS):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class TwoLineDelegate(QStyledItemDelegate):
    """A customer cell: the name on the first line, city · phone · owner muted below."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        name, _, details = text.partition("\n")
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = opt.rect.adjusted(6, 3, -6, -3)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        text_color = palette.highlightedText().color() if selected else palette.text().color()
        metrics = opt.fontMetrics
        line = metrics.height()
        painter.save()
        bold = QFont(opt.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_color)
        top = QRect(rect.left(), rect.top(), rect.width(), line)
        elided = painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(
            top, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided
        )
        painter.setFont(opt.font)
        painter.setPen(text_color if selected else MUTED)
        bottom = QRect(rect.left(), rect.top() + line + 2, rect.width(), line)
        elided = metrics.elidedText(details, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(
            bottom, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        metrics = option.fontMetrics
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        width = max((metrics.horizontalAdvance(part) for part in text.split("\n")), default=0)
        return QSize(width + 16, metrics.height() * 2 + 10)


class PairComparison(QTableWidget):
    """The selected pair side by side: one row per field, the rows that differ highlighted."""

    FIELDS = ("name", "kind", "status", "city", "phone", "email", "owner", "orders")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(len(self.FIELDS), 2, parent)
        self.setObjectName("pairComparison")
        self.setVerticalHeaderLabels(
            [
                tr("Name"),
                tr("Kind"),
                tr("Status"),
                tr("City"),
                tr("Phone"),
                tr("E-mail"),
                tr("Owner"),
                tr("Orders"),
            ]
        )
        self.horizontalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.pair: QueuedPair | None = None

    @staticmethod
    def values(side: PairSide) -> list[str]:
        return [
            side.name,
            kind_label(side.kind),
            status_label(side.status),
            side.city or "",
            side.phone or "",
            side.email or "",
            side.owner or tr("— unassigned —"),
            f"{side.order_count:,}",
        ]

    def show_pair(self, pair: QueuedPair | None) -> None:
        self.pair = pair
        self.clearContents()
        if pair is None:
            return
        first, second = self.values(pair.a), self.values(pair.b)
        for row, (left, right) in enumerate(zip(first, second, strict=True)):
            # Even a difference in case or spacing is one the merge has to choose between.
            differs = left.strip() != right.strip()
            for col, value in enumerate((left, right)):
                item = QTableWidgetItem(value or "—")
                if not value:
                    item.setForeground(MUTED)
                if differs:
                    item.setBackground(DIFFERS_BACKGROUND)
                if row == 0:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.setItem(row, col, item)

    def texts(self) -> list[tuple[str, str]]:
        """What each row shows (for tests and the screen reader)."""
        out = []
        for row in range(self.rowCount()):
            left, right = self.item(row, 0), self.item(row, 1)
            out.append((left.text() if left else "", right.text() if right else ""))
        return out


class DuplicatesView(QWidget):
    """The review queue page, with Find duplicates, the comparison and the decisions."""

    open_customer = Signal(int)
    status_message = Signal(str)
    # How many pairs wait for a decision (open), after every reload.
    queue_count_changed = Signal(int)
    # Customers were merged or a merge undone: the customer list needs a refresh.
    customers_changed = Signal(int)
    # A scan has been shown (tests wait for it).
    scanned = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("duplicatesView")
        self.ctx = ctx
        self._pairs: list[QueuedPair] = []
        self._loaded = False
        self.scan_worker: Worker | None = None
        self.progress_dialog: ProgressDialog | None = None
        self.merge_dialog: MergeDialog | None = None
        self.history_dialog: MergeHistoryDialog | None = None
        # The pair to select once the merge window has merged the selected one.
        self._after_merge_pair: int | None = None
        self.may_merge = ctx.can(Permission.MERGE)

        title = QLabel(tr("Possible duplicates"), self)
        title.setObjectName("pageTitle")
        self.find_box = QLineEdit(self)
        self.find_box.setObjectName("duplicatesFind")
        self.find_box.setPlaceholderText(tr("Find name or city…"))
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setMinimumWidth(200)
        self.find_box.setMaximumWidth(260)
        self.find_box.textChanged.connect(self.apply_filter)
        self.later_check = QCheckBox(tr("Show pairs left for later"), self)
        self.later_check.setObjectName("showLaterPairs")
        self.later_check.setChecked(True)
        self.later_check.toggled.connect(self.apply_filter)
        self.scan_button = QPushButton(tr("Find &duplicates"), self)
        self.scan_button.setObjectName("findDuplicatesButton")
        self.scan_button.setToolTip(
            tr("Compare every customer with every other (names, phones, e-mails, tax IDs…)")
        )
        self.scan_button.clicked.connect(self.find_duplicates)
        self.history_button = QPushButton(tr("Merge &history…"), self)
        self.history_button.setObjectName("mergeHistoryButton")
        self.history_button.clicked.connect(self.open_history)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.find_box)
        top.addWidget(self.later_check)
        top.addStretch(1)
        top.addWidget(self.history_button)
        top.addWidget(self.scan_button)

        self.model = PairTableModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("duplicatesTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        # Each line of a cell is cut with "…" rather than wrapped into a hidden third line.
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() * 2 + 12)
        self._delegate = TwoLineDelegate(self.table)
        for column in (PairTableModel.FIRST, PairTableModel.SECOND):
            self.table.setItemDelegateForColumn(column, self._delegate)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # Both customers and the reasons share the width; score and status stay narrow.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for column, chars in ((PairTableModel.SCORE, 8), (PairTableModel.STATUS, 10)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(column, text_width(self, chars))
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._on_selected())

        self.empty_label = QLabel(
            tr("No possible duplicates. Run Find duplicates to scan all customers."), self
        )
        self.empty_label.setObjectName("duplicatesEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(EMPTY_STYLE)
        self.list_pages = QStackedWidget(self)
        self.list_pages.addWidget(self.table)
        self.list_pages.addWidget(self.empty_label)

        self.reasons_label = QLabel(self)
        self.reasons_label.setObjectName("pairReasons")
        self.reasons_label.setWordWrap(True)
        self.reasons_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.comparison = PairComparison(self)
        self.comparison.cellDoubleClicked.connect(
            lambda _row, col: self._open_side(self.comparison.pair, col)
        )
        self.merge_button = self._button("mergePairButton", tr("&Merge…"), self.merge_selected)
        self.merge_button.setToolTip(tr("Choose which values to keep and merge the two"))
        self.not_same_button = self._button(
            "notSameButton", tr("&Not the same"), lambda: self.decide(DuplicateStatus.NOT_SAME)
        )
        self.not_same_button.setToolTip(
            tr("They are different customers; this pair will not be proposed again")
        )
        self.later_button = self._button(
            "decideLaterButton", tr("Decide &later"), lambda: self.decide(DuplicateStatus.LATER)
        )
        self.later_button.setToolTip(tr("Keep the pair in the queue, after the open ones"))
        self.open_first_button = self._button(
            "openFirstButton", tr("Open first"), lambda: self._open_side(self.selected(), 0)
        )
        self.open_second_button = self._button(
            "openSecondButton", tr("Open second"), lambda: self._open_side(self.selected(), 1)
        )
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_first_button)
        buttons.addWidget(self.open_second_button)
        buttons.addStretch(1)
        buttons.addWidget(self.later_button)
        buttons.addWidget(self.not_same_button)
        buttons.addWidget(self.merge_button)
        self.merge_button.setProperty("primary", True)

        detail = QWidget(self)
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 6, 0, 0)
        detail_layout.addWidget(self.reasons_label)
        detail_layout.addWidget(self.comparison, 1)
        detail_layout.addLayout(buttons)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("duplicatesSplitter")
        self.splitter.addWidget(self.list_pages)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        self.summary = QLabel(self)
        self.summary.setObjectName("duplicatesSummary")
        self.summary.setStyleSheet(HINT_STYLE)
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.summary)
        if not self.may_merge:
            for button in (self.scan_button, self.merge_button, self.not_same_button):
                button.setEnabled(False)
        self._on_selected()

    def _button(self, name: str, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    # -- the queue ----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self.reload()

    def focus_search(self) -> None:
        self.find_box.setFocus()
        self.find_box.selectAll()

    @Slot()
    def refresh(self) -> None:
        """F5: read the queue again (someone else may have decided pairs meanwhile)."""
        self.reload()
        self.status_message.emit(tr("Duplicate queue refreshed."))

    def reload(self, select_pair: int | None = None) -> None:
        """Read the queue; keep (or move to) ``select_pair`` when it is still there."""
        wanted = select_pair if select_pair is not None else self._selected_id()
        try:
            with self.ctx.read_session() as session:
                pairs = duplicates.review_queue(session, include_later=True)
                count = duplicates.queue_count(session)
        except (SmbcrmError, SQLAlchemyError) as exc:
            log.warning("Reading the duplicate queue failed", exc_info=True)
            self.status_message.emit(
                str(exc)
                if isinstance(exc, SmbcrmError)
                else tr("The duplicate queue could not be read. Check the connection.")
            )
            return
        self._loaded = True
        self._pairs = pairs
        self.apply_filter(select_pair=wanted)
        self.queue_count_changed.emit(count)

    @Slot()
    def apply_filter(self, *_args: object, select_pair: int | None = None) -> None:
        wanted = select_pair if select_pair is not None else self._selected_id()
        needle = fold_text(self.find_box.text())
        show_later = self.later_check.isChecked()
        rows = [
            p
            for p in self._pairs
            if (show_later or p.status == DuplicateStatus.OPEN)
            and (not needle or any(needle in fold_text(t) for t in self._haystack(p)))
        ]
        self.model.set_pairs(rows)
        self.list_pages.setCurrentWidget(self.table if self._pairs else self.empty_label)
        row = self.model.row_of(wanted) if wanted is not None else None
        if row is None and rows:
            row = 0
        if row is not None:
            self.select_row(row)
        else:
            self._on_selected()
        self._show_summary(len(rows))

    @staticmethod
    def _haystack(pair: QueuedPair) -> tuple[str, ...]:
        return (pair.a.name, pair.b.name, pair.a.city or "", pair.b.city or "")

    def _show_summary(self, shown: int) -> None:
        open_count = sum(1 for p in self._pairs if p.status == DuplicateStatus.OPEN)
        later = len(self._pairs) - open_count
        text = tr("{open} to review, {later} left for later.").format(
            open=plural(open_count, tr("{n} pair"), tr("{n} pairs")), later=later
        )
        if shown != len(self._pairs):
            text += " " + tr("{shown} shown.").format(shown=shown)
        self.summary.setText(text)

    # -- selection ----------------------------------------------------------------------

    def selected(self) -> QueuedPair | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.pair_at(rows[0].row()) if rows else None

    def _selected_id(self) -> int | None:
        pair = self.selected()
        return pair.pair_id if pair is not None else None

    def select_row(self, row: int) -> None:
        index = self.model.index(row, PairTableModel.FIRST)
        selection = self.table.selectionModel()
        selection.setCurrentIndex(
            index,
            selection.SelectionFlag.ClearAndSelect | selection.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    def select_pair(self, pair_id: int) -> bool:
        row = self.model.row_of(pair_id)
        if row is None:
            return False
        self.select_row(row)
        return True

    def _on_selected(self) -> None:
        pair = self.selected()
        self.comparison.show_pair(pair)
        # An empty grid of field names says nothing: the hint above stands alone instead.
        self.comparison.setVisible(pair is not None)
        if pair is None:
            self.reasons_label.setText(
                tr("Select a pair to compare the two customers.") if self._pairs else ""
            )
        else:
            self.reasons_label.setText(
                tr("<b>{score} alike</b> — {reasons}").format(
                    score=score_text(pair.score),
                    reasons="; ".join(map(worded, pair.reasons)),
                )
            )
        has = pair is not None
        for button in (self.merge_button, self.not_same_button):
            button.setEnabled(has and self.may_merge)
        # A pair already left for later has nothing more to defer.
        self.later_button.setEnabled(
            self.may_merge and pair is not None and pair.status != DuplicateStatus.LATER
        )
        self.open_first_button.setEnabled(has)
        self.open_second_button.setEnabled(has)
        if pair is not None:
            self.open_first_button.setToolTip(tr("Open {name}").format(name=pair.a.name))
            self.open_second_button.setToolTip(tr("Open {name}").format(name=pair.b.name))

    def _on_double_clicked(self, index: QModelIndex) -> None:
        side = index.data(PairTableModel.SIDE_ROLE)
        pair = self.model.pair_at(index.row())
        if pair is None:
            return
        if side is None:  # score or reasons: the merge window is what a person wants
            self.merge_selected()
            return
        self._open_side(pair, int(side))

    def _open_side(self, pair: QueuedPair | None, side: int) -> None:
        if pair is not None and side in (0, 1):
            self.open_customer.emit(pair.a.id if side == 0 else pair.b.id)

    def _next_pair_id(self) -> int | None:
        """The pair to select after deciding the selected one: the next, else the previous."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].row()
        for neighbour in (row + 1, row - 1):
            pair = self.model.pair_at(neighbour)
            if pair is not None:
                return pair.pair_id
        return None

    # -- decisions ----------------------------------------------------------------------

    def decide(self, decision: DuplicateStatus) -> bool:
        pair = self.selected()
        if pair is None or not self.may_merge:
            return False
        following = self._next_pair_id()
        try:
            with self.ctx.unit_of_work() as (session, actor):
                duplicates.decide_pair(session, pair.pair_id, decision, actor)
        except SmbcrmError as exc:
            QMessageBox.warning(self, tr("The decision was not saved"), str(exc))
            return False
        except SQLAlchemyError:
            log.exception("Saving a duplicate decision failed")
            QMessageBox.warning(
                self,
                tr("The decision was not saved"),
                tr("The database did not accept the change. Check the connection and try again."),
            )
            return False
        message = {
            DuplicateStatus.NOT_SAME: tr(
                "{a} and {b} are marked as different customers; they will not be proposed again."
            ),
            DuplicateStatus.LATER: tr("{a} and {b} are left for later."),
        }.get(decision, tr("{a} and {b} are back in the queue."))
        self.reload(select_pair=following)
        self.table.setFocus()
        self.status_message.emit(message.format(a=pair.a.name, b=pair.b.name))
        return True

    @Slot()
    def merge_selected(self) -> MergeDialog | None:
        pair = self.selected()
        if pair is None or not self.may_merge:
            return None
        self._after_merge_pair = self._next_pair_id()
        dialog = MergeDialog(self.ctx, [pair.a.id, pair.b.id], self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.merged.connect(self._after_merge)
        dialog.finished.connect(lambda _code: setattr(self, "merge_dialog", None))
        self.merge_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _after_merge(self, result: MergeResult) -> None:
        text = self.merge_dialog.result_text if self.merge_dialog is not None else ""
        self.reload(select_pair=self._after_merge_pair)
        self.table.setFocus()
        self.customers_changed.emit(result.survivor_id)
        self.status_message.emit(text)

    @Slot()
    def open_history(self) -> MergeHistoryDialog:
        if self.history_dialog is not None:
            self.history_dialog.reload()
            self.history_dialog.raise_()
            return self.history_dialog
        dialog = MergeHistoryDialog(self.ctx, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.undone.connect(self._after_undo)
        dialog.open_customer.connect(self.open_customer)
        dialog.finished.connect(lambda _code: setattr(self, "history_dialog", None))
        self.history_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _after_undo(self, result: UndoMergeResult) -> None:
        restored = result.restored_ids
        self.reload()
        self.customers_changed.emit(restored[0] if restored else 0)

    # -- scanning -----------------------------------------------------------------------

    @Slot()
    def find_duplicates(self) -> Worker | None:
        """Scan the whole book on a worker; the queue is replaced only when it finishes."""
        if not self.may_merge:
            return None
        if self.scan_worker is not None and self.scan_worker.is_running():
            return self.scan_worker
        db = self.ctx.db
        worker = Worker(lambda progress: duplicates.scan_duplicates(db, progress=progress), self)
        worker.finished.connect(self._on_scanned)
        worker.cancelled.connect(self._on_scan_cancelled)
        worker.failed.connect(self._on_scan_failed)
        worker.ended.connect(lambda: self.scan_button.setEnabled(self.may_merge))
        self.progress_dialog = ProgressDialog(worker, tr("Finding duplicates"), self)
        self.scan_worker = worker
        self.scan_button.setEnabled(False)
        self.status_message.emit(tr("Looking for duplicates…"))
        worker.start()
        return worker

    @Slot(object)
    def _on_scanned(self, result: ScanResult) -> None:
        self.reload()
        text = scan_summary(result)
        self.summary.setText(self.summary.text() + "  " + text)
        self.status_message.emit(text)
        self.table.setFocus()
        self.scanned.emit(result)

    @Slot()
    def _on_scan_cancelled(self) -> None:
        self.status_message.emit(tr("Finding duplicates was cancelled; the queue is as it was."))

    @Slot(str)
    def _on_scan_failed(self, message: str) -> None:
        self.status_message.emit(message)
        QMessageBox.warning(self, tr("Finding duplicates did not finish"), message)
