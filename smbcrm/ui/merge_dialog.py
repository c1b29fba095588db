"""Merging two or more customers into one, and undoing a merge later.

:class:`MergeDialog` asks :func:`smbcrm.services.merge.merge_preview` what merging the chosen
customers would do, and shows it side by side: one column per customer with "Keep this
customer" to pick the survivor, one row per field with the value to keep pre-chosen (a
non-empty value, the most recently updated first) and the rows that differ highlighted.
Clicking another cell keeps that value instead. A summary says what moves to the survivor;
Merge runs :func:`~smbcrm.services.merge.merge_customers` in one unit of work.

:class:`MergeHistoryDialog` lists past merges with Undo merge. When edits made after the
merge leave the service unsure (:class:`~smbcrm.services.merge.MergeUndoConflict`),
:class:`UndoQuestionsDialog` asks each question with its options and the undo runs again
with the answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.models import CustomerKind, CustomerStatus
from smbcrm.services import merge
from smbcrm.services.merge import (
    FieldChoice,
    MergePreview,
    MergeResult,
    MergeRow,
    MergeSide,
    MergeUndoConflict,
    UndoMergeResult,
    UndoQuestion,
)
from smbcrm.ui.context import AppContext
from smbcrm.ui.counts import plural
from smbcrm.ui.customers_model import format_datetime, kind_label, status_label
from smbcrm.ui.style import EMPTY_STYLE, ERROR_STYLE, HINT_STYLE, text_width

log = logging.getLogger(__name__)

# Cells of the side-by-side grid: a row whose values differ is tinted; the kept value framed.
CELL_STYLE = {
    "same": "QFrame#mergeCell { background: #ffffff; border: 1px solid #eef0f3; "
    "border-radius: 4px; }",
    "differs": "QFrame#mergeCell { background: #fff8e6; border: 1px solid #f1dfa6; "
    "border-radius: 4px; }",
    "chosen": "QFrame#mergeCell { background: #e8f0fe; border: 2px solid #2563eb; "
    "border-radius: 4px; }",
}
SIDE_STYLE = (
    "QFrame#mergeSide { background: #ffffff; border: 1px solid #dde1e7; border-radius: 6px; }"
)
SURVIVOR_STYLE = (
    "QFrame#mergeSide { background: #e8f0fe; border: 2px solid #2563eb; border-radius: 6px; }"
)
# What moves to the survivor, in the order the summary names it: (key, one, many).
MOVED_WORDS = (
    ("orders", "{n} order", "{n} orders"),
    ("contacts", "{n} contact", "{n} contacts"),
    ("contact_points", "{n} phone or e-mail", "{n} phones and e-mails"),
    ("activities", "{n} activity", "{n} activities"),
    ("follow_ups", "{n} follow-up", "{n} follow-ups"),
    ("cases", "{n} service case", "{n} service cases"),
    ("ratings", "{n} satisfaction rating", "{n} satisfaction ratings"),
    ("external_ids", "{n} code from another system", "{n} codes from other systems"),
    ("tags", "{n} tag", "{n} tags"),
    ("team", "{n} team member", "{n} team members"),
    ("assignment_changes", "{n} ownership change", "{n} ownership changes"),
    ("conversions", "{n} prospect conversion", "{n} prospect conversions"),
    ("referrals", "{n} referred customer", "{n} referred customers"),
    ("review_items", "{n} import row to review", "{n} import rows to review"),
    ("tombstones", "{n} customer merged into it before", "{n} customers merged into it before"),
)
# Counted but not moved: phones and e-mails the survivor already has, review-queue pairs.
NOT_MOVED = frozenset({"duplicate_points", "duplicate_pairs"})


def tr(text: str) -> str:
    return QCoreApplication.translate("MergeDialog", text)


def moves_text(moves: dict[str, int]) -> str:
    """ "12 orders, 3 contacts and 1 tag" — only what there is, in a fixed order."""
    parts = [
        plural(moves[key], tr(one), tr(many)) for key, one, many in MOVED_WORDS if moves.get(key)
    ]
    known = {key for key, _one, _many in MOVED_WORDS} | NOT_MOVED
    parts += [
        f"{count:,} {key.replace('_', ' ')}"
        for key, count in moves.items()
        if count and key not in known
    ]
    return joined(parts)


def joined(parts: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(parts) <= 1:
        return "".join(parts)
    return tr("{first} and {last}").format(first=tr(", ").join(parts[:-1]), last=parts[-1])


def shown_value(field: str, value: str) -> str:
    """Kind, status and tier as the rest of the app shows them ("Active", not "active")."""
    try:
        if field == "kind":
            return kind_label(CustomerKind(value))
        if field == "status":
            return status_label(CustomerStatus(value))
    except ValueError:
        pass
    return value


def merge_result_text(result: MergeResult, names: dict[int, str], kept_name: str) -> str:
    """What the merge did, naming every customer as it was and the one they are now."""
    merged = [result.survivor_id, *result.absorbed_ids]
    listed = joined([names.get(i, f"#{i}") for i in merged])
    text = tr("{listed} are now one customer: {kept}.").format(listed=listed, kept=kept_name)
    moved = moves_text(result.moved)
    if moved:
        text += " " + tr("Moved: {moved}.").format(moved=moved)
    return text + " " + tr("Customer › Merge history can undo it.")


class ChoiceCell(QFrame):
    """One customer's value of one field; clicking anywhere on it keeps this value."""

    def __init__(self, value: str, radio: QRadioButton | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mergeCell")
        self.radio = radio
        self.value_label = QLabel(value if value else tr("— empty —"), self)
        self.value_label.setObjectName("mergeCellValue")
        self.value_label.setWordWrap(True)
        self.value_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        if not value:
            self.value_label.setStyleSheet(HINT_STYLE)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(6)
        if radio is not None:
            radio.setParent(self)
            layout.addWidget(radio, 0, Qt.AlignmentFlag.AlignVCenter)
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout.addWidget(self.value_label, 1)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.radio is not None and event.button() == Qt.MouseButton.LeftButton:
            self.radio.setChecked(True)
            self.radio.setFocus(Qt.FocusReason.MouseFocusReason)
            event.accept()
            return
        super().mousePressEvent(event)


class MergeDialog(QDialog):
    """Merge ``customer_ids`` into one: pick the survivor and the value of each field."""

    # After a merge has been committed: the MergeResult.
    merged = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        customer_ids: Sequence[int],
        parent: QWidget | None = None,
        *,
        survivor_id: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mergeDialog")
        self.setWindowTitle(tr("Merge customers"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.ctx = ctx
        self.customer_ids = list(dict.fromkeys(customer_ids))
        self.preview: MergePreview | None = None
        # Fields whose value the person picked themselves (kept when the survivor changes).
        self._picked: dict[str, int] = {}
        self.survivor_group = QButtonGroup(self)
        self.survivor_buttons: dict[int, QRadioButton] = {}
        self.choice_groups: dict[str, QButtonGroup] = {}
        self.cells: dict[tuple[str, int], ChoiceCell] = {}
        self.side_frames: dict[int, QFrame] = {}
        # Each field's label and cells, to hide the rows that do not differ.
        self._rows: dict[str, list[QWidget]] = {}
        self.merge_result: MergeResult | None = None
        self.result_text = ""

        self.intro = QLabel(
            tr(
                "Choose the customer to keep and, where they differ, which value it keeps. "
                "Everything else — orders, contacts, activities, follow-ups — moves to it; the "
                "others are kept as merged-away records, so the merge can be undone."
            ),
            self,
        )
        self.intro.setObjectName("mergeIntro")
        self.intro.setWordWrap(True)
        self.only_differences = QCheckBox(tr("Show only the fields that &differ"), self)
        self.only_differences.setObjectName("onlyDifferences")
        self.only_differences.toggled.connect(self._apply_row_visibility)
        self.grid_area = QScrollArea(self)
        self.grid_area.setObjectName("mergeGridArea")
        self.grid_area.setWidgetResizable(True)
        self.grid_area.setFrameShape(QFrame.Shape.NoFrame)
        self.grid_widget: QWidget | None = None
        self.summary = QLabel(self)
        self.summary.setObjectName("mergeSummary")
        self.summary.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("mergeError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.buttons = QDialogButtonBox(self)
        self.merge_button = QPushButton(tr("&Merge"), self)
        self.merge_button.setObjectName("mergeButton")
        self.merge_button.setDefault(True)
        self.buttons.addButton(self.merge_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setObjectName("cancelButton")
        self.merge_button.clicked.connect(self.merge)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addWidget(self.intro)
        layout.addWidget(self.only_differences)
        layout.addWidget(self.grid_area, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        # A label column and a column per customer, wide enough for a Chinese address.
        column = text_width(self, 50)
        columns = max(len(self.customer_ids), 2)
        self.setMinimumWidth(min(column * 2 + 160, 1000))
        self.resize(min(column * columns + 180, 1500), self.fontMetrics().height() * 40)
        self.load(survivor_id)

    # -- preview ------------------------------------------------------------------------

    def load(self, survivor_id: int | None = None) -> bool:
        """Ask the service what the merge would do and show it; False when it cannot."""
        if len(self.customer_ids) < 2:
            self._refuse(tr("Select at least two customers to merge."))
            return False
        try:
            with self.ctx.read_session() as session:
                preview = merge.merge_preview(session, self.customer_ids, survivor_id)
        except SmbcrmError as exc:
            self._refuse(str(exc))
            return False
        except SQLAlchemyError:
            log.warning("Previewing a merge failed", exc_info=True)
            self._refuse(tr("The customers could not be read. Check the connection and try again."))
            return False
        self.preview = preview
        self._build_grid(preview)
        self._show_summary()
        self.error.hide()
        self.merge_button.setEnabled(True)
        return True

    def _refuse(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.merge_button.setEnabled(False)

    def _build_grid(self, preview: MergePreview) -> None:
        self.choice_groups.clear()
        self.cells.clear()
        self.side_frames.clear()
        self.survivor_buttons.clear()
        for button in self.survivor_group.buttons():
            self.survivor_group.removeButton(button)
        grid_widget = QWidget()
        grid_widget.setObjectName("mergeGrid")
        grid = QGridLayout(grid_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        # Columns keep the order the customers were chosen in, whoever is kept.
        order = {cid: i for i, cid in enumerate(self.customer_ids)}
        sides = sorted(preview.sides, key=lambda side: order.get(side.id, len(order)))
        for col, side in enumerate(sides, start=1):
            grid.addWidget(self._side_header(side), 0, col)
            grid.setColumnStretch(col, 1)
        self._rows = {}
        for row, field in enumerate(preview.fields, start=1):
            label = QLabel(tr(field.label), grid_widget)
            label.setObjectName(f"mergeLabel_{field.field}")
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            label.setContentsMargins(0, 6, 0, 0)
            if field.differs:
                bold = label.font()
                bold.setBold(True)
                label.setFont(bold)
            grid.addWidget(label, row, 0)
            widgets: list[QWidget] = [label]
            group = QButtonGroup(grid_widget) if field.differs else None
            for col, side in enumerate(sides, start=1):
                radio = None
                if group is not None:
                    radio = QRadioButton()
                    radio.setObjectName(f"mergeChoice_{field.field}_{side.id}")
                    radio.setAccessibleName(
                        tr("Keep {field} of {name}").format(field=field.label, name=side.name)
                    )
                    group.addButton(radio, side.id)
                value = shown_value(field.field, field.values.get(side.id, ""))
                cell = ChoiceCell(value, radio, grid_widget)
                grid.addWidget(cell, row, col)
                self.cells[(field.field, side.id)] = cell
                widgets.append(cell)
            if group is not None:
                chosen = self._picked.get(field.field, field.default_id)
                checked = group.button(chosen) or group.button(field.default_id)
                if checked is not None:
                    checked.setChecked(True)
                group.idToggled.connect(
                    lambda cid, on, name=field.field: self._on_choice(name, cid, on)
                )
                self.choice_groups[field.field] = group
            self._rows[field.field] = widgets
            self._style_row(field)
        grid.setRowStretch(len(preview.fields) + 1, 1)
        grid.setColumnMinimumWidth(0, text_width(self, 12))
        old = self.grid_area.takeWidget()
        if old is not None:
            old.deleteLater()
        self.grid_area.setWidget(grid_widget)
        self.grid_widget = grid_widget
        self._style_sides()
        self._apply_row_visibility()

    def _side_header(self, side: MergeSide) -> QFrame:
        frame = QFrame()
        frame.setObjectName("mergeSide")
        radio = QRadioButton(tr("Keep this customer"))
        radio.setObjectName(f"survivor_{side.id}")
        self.survivor_group.addButton(radio, side.id)
        self.survivor_buttons[side.id] = radio
        if self.preview is not None and side.id == self.preview.survivor_id:
            radio.setChecked(True)
        radio.toggled.connect(lambda on, cid=side.id: self._on_survivor(cid, on))
        name = QLabel(side.name, frame)
        name.setObjectName("mergeSideName")
        name.setWordWrap(True)
        font = name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        name.setFont(font)
        facts = QLabel(
            tr("{orders} · {contacts} · updated {when}").format(
                orders=plural(side.order_count, tr("{n} order"), tr("{n} orders")),
                contacts=plural(side.contact_count, tr("{n} contact"), tr("{n} contacts")),
                when=format_datetime(side.updated_at),
            ),
            frame,
        )
        facts.setStyleSheet(HINT_STYLE)
        facts.setWordWrap(True)
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(2)
        layout.addWidget(name)
        layout.addWidget(facts)
        layout.addWidget(radio)
        self.side_frames[side.id] = frame
        return frame

    def _style_row(self, field: FieldChoice) -> None:
        group = self.choice_groups.get(field.field)
        chosen = group.checkedId() if group is not None else None
        for (name, cid), cell in self.cells.items():
            if name != field.field:
                continue
            if not field.differs:
                cell.setStyleSheet(CELL_STYLE["same"])
            elif cid == chosen:
                cell.setStyleSheet(CELL_STYLE["chosen"])
            else:
                cell.setStyleSheet(CELL_STYLE["differs"])

    def _style_sides(self) -> None:
        survivor = self.survivor_id()
        for cid, frame in self.side_frames.items():
            frame.setStyleSheet(SURVIVOR_STYLE if cid == survivor else SIDE_STYLE)

    @Slot()
    def _apply_row_visibility(self) -> None:
        if self.preview is None:
            return
        only = self.only_differences.isChecked()
        for field in self.preview.fields:
            for widget in self._rows.get(field.field, []):
                widget.setVisible(field.differs or not only)

    def _on_choice(self, field: str, customer_id: int, on: bool) -> None:
        if not on or self.preview is None:
            return
        self._picked[field] = customer_id
        for choice in self.preview.fields:
            if choice.field == field:
                self._style_row(choice)

    def _on_survivor(self, customer_id: int, on: bool) -> None:
        if not on or self.preview is None or customer_id == self.preview.survivor_id:
            return
        # The preview for this survivor: what moves depends on who is kept.
        self.load(customer_id)
        button = self.survivor_buttons.get(customer_id)
        if button is not None:
            button.setFocus()

    def _show_summary(self) -> None:
        preview = self.preview
        if preview is None:
            return
        names = {side.id: side.name for side in preview.sides}
        survivor = names.get(preview.survivor_id, "")
        others = [names[side.id] for side in preview.sides if side.id != preview.survivor_id]
        moved = moves_text(preview.moves)
        if moved:
            text = tr("<b>{moved}</b> move to <b>{survivor}</b>.").format(
                moved=moved, survivor=survivor
            )
        else:
            text = tr("Nothing else needs to move to <b>{survivor}</b>.").format(survivor=survivor)
        text += " " + tr("{others} will be kept as merged into it.").format(
            others=", ".join(others)
        )
        dropped = preview.moves.get("duplicate_points", 0)
        if dropped:
            text += " " + tr(
                "{n} phones or e-mails it already has are not copied (undo brings them back)."
            ).format(n=dropped)
        self.summary.setText(text)

    # -- reading the choices ------------------------------------------------------------

    def survivor_id(self) -> int | None:
        checked = self.survivor_group.checkedId()
        if checked != -1:
            return checked
        return self.preview.survivor_id if self.preview is not None else None

    def choices(self) -> dict[str, int]:
        """Field → customer whose value the survivor keeps (every field that differs)."""
        return {field: group.checkedId() for field, group in self.choice_groups.items()}

    def kept_value(self, field: str) -> str:
        """The value of ``field`` the survivor will have, as the grid shows it."""
        if self.preview is None:
            return ""
        for choice in self.preview.fields:
            if choice.field == field:
                whose = self.choices().get(field, choice.default_id)
                return choice.values.get(whose, "")
        return ""

    def choose(self, field: str, customer_id: int) -> None:
        """Keep ``customer_id``'s value of ``field`` (as clicking its cell does)."""
        cell = self.cells.get((field, customer_id))
        if cell is not None and cell.radio is not None:
            cell.radio.setChecked(True)

    def choose_survivor(self, customer_id: int) -> None:
        button = self.survivor_buttons.get(customer_id)
        if button is not None:
            button.setChecked(True)

    # -- merging ------------------------------------------------------------------------

    @Slot()
    def merge(self) -> MergeResult | None:
        preview = self.preview
        survivor = self.survivor_id()
        if preview is None or survivor is None:
            return None
        others = [side.id for side in preview.sides if side.id != survivor]
        names = {side.id: side.name for side in preview.sides}
        try:
            with self.ctx.unit_of_work() as (session, actor):
                result = merge.merge_customers(
                    session, survivor, others, actor, choices=self.choices()
                )
        except SmbcrmError as exc:
            QMessageBox.warning(self, tr("The customers were not merged"), str(exc))
            return None
        except SQLAlchemyError:
            log.exception("Merging customers failed")
            QMessageBox.warning(
                self,
                tr("The customers were not merged"),
                tr(
                    "The database did not accept the merge, so nothing was changed. Try again; "
                    "if it keeps failing, check the connection to the database."
                ),
            )
            return None
        self.merge_result = result
        self.result_text = merge_result_text(result, names, self.kept_value("name"))
        self.merged.emit(result)
        self.accept()
        return result


class UndoQuestionsDialog(QDialog):
    """What the undo cannot decide alone: one group of options per question."""

    def __init__(
        self, merge_id: int, questions: Sequence[UndoQuestion], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("undoQuestionsDialog")
        self.setWindowTitle(tr("Undo merge: a few questions"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.merge_id = merge_id
        self.questions = list(questions)
        intro = QLabel(
            tr(
                "Some customers were changed after this merge, so undoing it cannot tell on its "
                "own where everything belongs. Answer each question; nothing changes until you "
                "press Undo merge."
            ),
            self,
        )
        intro.setObjectName("undoQuestionsIntro")
        intro.setWordWrap(True)
        self.groups: dict[str, QButtonGroup] = {}
        self.option_buttons: dict[tuple[str, str], QRadioButton] = {}
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        for question in self.questions:
            box = QGroupBox(self)
            box.setObjectName(f"undoQuestion_{question.key}")
            text = QLabel(question.text, box)
            text.setWordWrap(True)
            box_layout = QVBoxLayout(box)
            box_layout.addWidget(text)
            group = QButtonGroup(box)
            group.setExclusive(True)
            for value, label in question.options:
                radio = QRadioButton(label, box)
                radio.setObjectName(f"undoAnswer_{question.key}_{value}")
                group.addButton(radio)
                box_layout.addWidget(radio)
                self.option_buttons[(question.key, value)] = radio
            group.buttonToggled.connect(lambda *_a: self._update_ok())
            self.groups[question.key] = group
            body_layout.addWidget(box)
        body_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.buttons = QDialogButtonBox(self)
        self.undo_button = QPushButton(tr("&Undo merge"), self)
        self.undo_button.setObjectName("undoMergeAnswersButton")
        self.buttons.addButton(self.undo_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.undo_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(text_width(self, 80))
        self._update_ok()

    def answer(self, key: str, value: str) -> None:
        button = self.option_buttons.get((key, value))
        if button is not None:
            button.setChecked(True)

    def answers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for (key, value), button in self.option_buttons.items():
            if button.isChecked():
                out[key] = value
        return out

    def _update_ok(self) -> None:
        missing = len(self.questions) - len(self.answers())
        self.undo_button.setEnabled(missing == 0)
        self.undo_button.setToolTip(
            tr("Answer every question first ({n} left).").format(n=missing) if missing else ""
        )


class MergeHistoryDialog(QDialog):
    """Every merge, newest first, with Undo merge and Open customer."""

    COLUMNS = ("When", "Kept", "Merged into it", "By", "Undone")
    WHEN, KEPT, ABSORBED, BY, UNDONE = range(len(COLUMNS))

    undone = Signal(object)  # UndoMergeResult
    open_customer = Signal(int)

    def __init__(
        self, ctx: AppContext, customer_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mergeHistoryDialog")
        self.setWindowTitle(tr("Merge history"))
        self.ctx = ctx
        self.customer_id = customer_id
        self.rows: list[MergeRow] = []
        self.questions_dialog: UndoQuestionsDialog | None = None

        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setObjectName("mergeHistoryTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(self.ABSORBED, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, chars in ((self.WHEN, 18), (self.KEPT, 32), (self.BY, 14), (self.UNDONE, 18)):
            self.table.setColumnWidth(col, text_width(self, chars))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.empty_label = QLabel(tr("No customers have been merged yet."), self)
        self.empty_label.setObjectName("mergeHistoryEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(EMPTY_STYLE)
        self.empty_label.hide()
        self.message = QLabel(self)
        self.message.setObjectName("mergeHistoryMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        self.undo_button = QPushButton(tr("&Undo merge"), self)
        self.undo_button.setObjectName("undoMergeButton")
        self.undo_button.clicked.connect(self.undo_selected)
        self.open_button = QPushButton(tr("&Open customer"), self)
        self.open_button.setObjectName("openMergedCustomerButton")
        self.open_button.clicked.connect(self.open_selected)
        close = QPushButton(tr("Close"), self)
        close.setObjectName("closeButton")
        close.clicked.connect(self.reject)
        for button in (self.undo_button, self.open_button):
            button.setAutoDefault(False)
        close.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.setMinimumSize(text_width(self, 110), self.fontMetrics().height() * 24)
        self.reload()

    def reload(self) -> None:
        selected = self.selected()
        try:
            with self.ctx.read_session() as session:
                rows = merge.list_merges(session, customer_id=self.customer_id)
        except (SmbcrmError, SQLAlchemyError) as exc:
            log.warning("Reading the merge history failed", exc_info=True)
            self._say(
                str(exc)
                if isinstance(exc, SmbcrmError)
                else tr("The merge history could not be read. Check the connection."),
                error=True,
            )
            return
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            absorbed = ", ".join(name for _id, name in row.absorbed)
            undone = format_datetime(row.undone_at) if row.undone_at else ""
            values = (
                format_datetime(row.merged_at),
                row.survivor_name,
                absorbed,
                row.merged_by or "",
                undone,
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if row.undone_at is not None:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(r, c, item)
        self.table.setVisible(bool(rows))
        self.empty_label.setVisible(not rows)
        if rows:
            again = next((i for i, row in enumerate(rows) if selected and row.id == selected.id), 0)
            self.table.selectRow(again)
        self._update_buttons()

    def selected(self) -> MergeRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.rows):
            return None
        return self.rows[rows[0].row()]

    def select_merge(self, merge_id: int) -> bool:
        for i, row in enumerate(self.rows):
            if row.id == merge_id:
                self.table.selectRow(i)
                return True
        return False

    def _update_buttons(self) -> None:
        row = self.selected()
        self.open_button.setEnabled(row is not None)
        self.undo_button.setEnabled(row is not None and row.undone_at is None)
        if row is not None and row.undone_at is not None:
            self.undo_button.setToolTip(tr("This merge has already been undone."))
        else:
            self.undo_button.setToolTip("")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setVisible(bool(text))

    @Slot()
    def open_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_customer.emit(row.survivor_id)

    @Slot()
    def undo_selected(self) -> UndoMergeResult | None:
        row = self.selected()
        if row is None or row.undone_at is not None:
            return None
        return self.undo(row.id)

    def undo(self, merge_id: int, answers: dict[str, str] | None = None) -> UndoMergeResult | None:
        """Undo the merge; if later edits make it ambiguous, ask (non-blocking) and retry."""
        try:
            with self.ctx.unit_of_work() as (session, actor):
                result = merge.undo_merge(session, merge_id, actor, answers=answers)
        except MergeUndoConflict as exc:
            self.ask(merge_id, exc.questions)
            return None
        except SmbcrmError as exc:
            QMessageBox.warning(self, tr("The merge was not undone"), str(exc))
            return None
        except SQLAlchemyError:
            log.exception("Undoing merge %s failed", merge_id)
            QMessageBox.warning(
                self,
                tr("The merge was not undone"),
                tr("The database did not accept the change, so nothing was changed. Try again."),
            )
            return None
        self.reload()
        self.select_merge(merge_id)
        count = len(result.restored_ids)
        moved = moves_text(result.moved_back)
        text = (
            tr("Merge undone: the customer is back.")
            if count == 1
            else tr("Merge undone: {n} customers are back.").format(n=count)
        )
        if moved:
            text += " " + tr("Moved back: {moved}.").format(moved=moved)
        # What could not be put back exactly (e.g. an owner who has left), in words.
        notes: list[str] = list(getattr(result, "notes", []))
        if notes:
            text += " " + " ".join(notes)
        self._say(text)
        self.undone.emit(result)
        return result

    def ask(self, merge_id: int, questions: Sequence[UndoQuestion]) -> UndoQuestionsDialog:
        dialog = UndoQuestionsDialog(merge_id, questions, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.undo(merge_id, dialog.answers()))
        dialog.finished.connect(lambda _code: setattr(self, "questions_dialog", None))
        self.questions_dialog = dialog
        dialog.open()
        return dialog
