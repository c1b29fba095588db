"""The import wizard's four pages: file, columns, preview and done."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import (
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smbcrm.models import ImportKind
from smbcrm.services.importing.apply import BatchResult
from smbcrm.services.importing.fields import Field, fields_for
from smbcrm.services.importing.mapping import (
    Mapping,
)
from smbcrm.services.importing.orders import (
    OrderBatchResult,
    OrderImportPlan,
)
from smbcrm.services.importing.orders_match import ROUTE_LABELS
from smbcrm.services.importing.plan import (
    ImportOptions,
    ImportPlan,
    OnDuplicate,
    Outcome,
    RowPlan,
)
from smbcrm.services.importing.reader import Table
from smbcrm.services.importing.service import DEFAULT_SOURCE
from smbcrm.services.importing.undo import UndoResult
from smbcrm.ui.batches_view import undo_result_text
from smbcrm.ui.import_loading import LoadedFile
from smbcrm.ui.import_tables import (
    ORDER_FILTER_TESTS,
    OrderFilter,
    OrderRowsModel,
    PlanRowsModel,
    RowFilter,
    chip_css,
    filter_label,
    order_chips,
    order_filter_label,
)
from smbcrm.ui.import_texts import (
    ALWAYS_SHOWN,
    BANNER_STYLE,
    KIND,
    OUTCOME_COLORS,
    STOP_STYLE,
    WARNING_STYLE,
    chip_style,
    chip_text,
    describe_table,
    field_choice_label,
    plural,
    rows_text,
    tr,
)
from smbcrm.ui.style import ERROR_STYLE, HINT_STYLE, OK_STYLE

# -- pages -----------------------------------------------------------------------------------


def page_label(object_name: str, style: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(wrap)
    if style:
        label.setStyleSheet(style)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def page_title(text: str) -> QLabel:
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
        self.permission_label = page_label("permissionMessage", STOP_STYLE)
        self.permission_label.hide()
        intro = page_label("hintLabel")
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
        self.sheet_note = page_label("sheetNote")
        self.sheet_note.setStyleSheet(HINT_STYLE)
        self.sheet_note.setText(tr("Shown once the file is read"))
        sheet_row = QHBoxLayout()
        sheet_row.addWidget(self.sheet_combo)
        sheet_row.addWidget(self.sheet_note, 1)
        self.source_edit = QLineEdit(DEFAULT_SOURCE)
        self.source_edit.setObjectName("sourceEdit")
        self.source_edit.setMaxLength(64)
        self.source_edit.setPlaceholderText(tr("e.g. 金蝶, Kingdee, trade show 2024"))
        source_hint = page_label("sourceHint")
        source_hint.setStyleSheet(HINT_STYLE)
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
        self.kind_note = page_label("kindNote")
        self.kind_note.setStyleSheet(HINT_STYLE)
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
        self.status_label = page_label("fileStatus")
        self.error_label = page_label("fileError", STOP_STYLE)
        self.error_label.hide()

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(page_title(tr("Import customers or orders from a spreadsheet")))
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

    def offer_systems(self, systems: list[str]) -> None:
        """Suggest the systems earlier imports came from, so one system keeps one name."""
        completer = QCompleter(systems, self.source_edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.source_edit.setCompleter(completer)

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


class DateChoice(StrEnum):
    """How the person says dates such as 05.03.2026 are written: not said, the file decides."""

    FROM_FILE = "from file"
    DAY_FIRST = "day first"
    MONTH_FIRST = "month first"

    @property
    def day_first(self) -> bool | None:
        """As ImportOptions.day_first takes it: None is "not said"."""
        if self == DateChoice.FROM_FILE:
            return None
        return self == DateChoice.DAY_FIRST

    @classmethod
    def of(cls, day_first: bool | None) -> DateChoice:
        if day_first is None:
            return cls.FROM_FILE
        return cls.DAY_FIRST if day_first else cls.MONTH_FIRST


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
        # Once the person picks how dates are read, a mapping applied later keeps their pick.
        self.date_order_chosen = False
        self._table: Table | None = None
        self._notes: list[str] = []

        self.banner = page_label("headerBanner", BANNER_STYLE)
        self.saved_combo = QComboBox()
        self.saved_combo.setObjectName("savedMappingCombo")
        self.saved_combo.setMinimumContentsLength(22)
        self.save_mapping_button = QPushButton(tr("&Save mapping as…"))
        self.save_mapping_button.setObjectName("saveMappingButton")
        self.save_mapping_button.setAutoDefault(False)
        self.save_mapping_button.setToolTip(
            tr(
                "Remember these choices, and how dates are read: files with the same columns "
                "will map themselves."
            )
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
        self.problems_label = page_label("mappingProblems", STOP_STYLE)
        self.problems_label.hide()
        self.message_label = page_label("mappingMessage")
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
        self.date_order_combo = QComboBox()
        self.date_order_combo.setObjectName("dateOrderCombo")
        for choice, text in (
            (DateChoice.FROM_FILE, tr("Decide from the file")),
            (DateChoice.DAY_FIRST, tr("Day first (25.03.2026)")),
            (DateChoice.MONTH_FIRST, tr("Month first (03.25.2026)")),
        ):
            self.date_order_combo.addItem(text, choice.value)
        self.date_order_combo.setToolTip(
            tr(
                "How dates such as 05.03.2026 are read. Decided from the file, a column with "
                "a date that reads one way only (25.03.2026) is read that way; a column whose "
                "dates all read both ways is read month first, and the preview says so. "
                "A saved mapping remembers this choice."
            )
        )
        self.date_order_label = QLabel(tr("Dates such as 05.03.2026:"))
        self.date_order_label.setBuddy(self.date_order_combo)
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
        date_row = QHBoxLayout()
        date_row.setSpacing(6)
        date_row.addWidget(self.date_order_label)
        date_row.addWidget(self.date_order_combo)
        checks_row = QHBoxLayout()
        checks_row.setSpacing(24)
        checks_row.addWidget(self.all_or_nothing_check)
        checks_row.addLayout(date_row)
        checks_row.addWidget(self.create_staff_check)
        checks_row.addStretch(1)
        options_layout.addLayout(duplicate_row)
        options_layout.addLayout(checks_row)

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(page_title(tr("Match the columns")))
        layout.addWidget(self.banner)
        layout.addLayout(saved_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.message_label)
        layout.addWidget(options)

        self.saved_combo.activated.connect(self._on_saved_activated)
        self.save_mapping_button.clicked.connect(self.save_requested)
        for box in (self.all_or_nothing_check, self.create_staff_check):
            box.toggled.connect(self.changed)
        self.on_duplicate_combo.currentIndexChanged.connect(self.changed)
        self.date_order_combo.currentIndexChanged.connect(self._on_date_order_changed)

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
        if not self.date_order_chosen:
            self.date_order_combo.blockSignals(True)
            self.date_order_combo.setCurrentIndex(
                self.date_order_combo.findData(DateChoice.of(mapping.day_first).value)
            )
            self.date_order_combo.blockSignals(False)
        if self._table is not None:
            self.banner.setText(describe_table(self._table, mapping))
        self.changed.emit()

    def _on_date_order_changed(self, _index: int) -> None:
        self.date_order_chosen = True
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
            day_first=self.day_first(),
        )

    def day_first(self) -> bool | None:
        return DateChoice(self.date_order_combo.currentData()).day_first

    def options(self, region: str) -> ImportOptions:
        return ImportOptions(
            on_duplicate=OnDuplicate(self.on_duplicate_combo.currentData()),
            all_or_nothing=self.all_or_nothing_check.isChecked(),
            day_first=self.day_first(),
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

        self.progress_label = page_label("previewProgressLabel")
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

        self.summary_label = page_label("previewSummary", wrap=False)
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
        self.staff_label = page_label("unknownStaffLabel", WARNING_STYLE)
        self.staff_label.hide()
        self.message_label = page_label("previewMessage")
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
        self.decision_hint = page_label("decisionHint")
        self.decision_hint.setStyleSheet(HINT_STYLE)
        self.decision_hint.setText(
            tr(
                "A possible duplicate you do not decide is not imported: it is set aside for "
                "review with the batch. Select rows (Shift/Ctrl for several) or right-click."
            )
        )

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(page_title(tr("Check what will happen")))
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
        self.order_hint = page_label("orderHint")
        self.order_hint.setStyleSheet(HINT_STYLE)
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
        self.title = page_title(tr("Import finished"))
        self.title.setObjectName("summaryTitle")
        self.title.setStyleSheet("QLabel { font-size: 15pt; font-weight: 600; }")
        self.batch_label = page_label("summaryBatch")
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
        self.orders_label = page_label("summaryOrders")
        self.orders_label.setTextFormat(Qt.TextFormat.RichText)
        self.orders_label.hide()
        self.unmatched_button = QPushButton(tr("Review &unmatched orders…"))
        self.unmatched_button.setObjectName("reviewUnmatchedButton")
        self.unmatched_button.setAutoDefault(False)
        self.unmatched_button.setToolTip(
            tr("Create customers from the orders no customer matched, or link them by hand.")
        )
        self.unmatched_button.hide()
        self.details_label = page_label("summaryDetails")
        self.undone_label = page_label("undoneLabel", WARNING_STYLE)
        self.undone_label.hide()
        self.message_label = page_label("summaryMessage")
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
                "were. Prospects again: {prospects}."
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
