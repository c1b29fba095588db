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

This module is the dialog that steps through them; the pages are in ``import_pages``,
the preview's table models in ``import_tables``, the words it shows in ``import_texts``
and the work done on workers in ``import_loading``.

No rules live here: reading, mapping, matching, writing and undoing are service calls.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from PySide6.QtCore import (
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError, worded
from smbcrm.models import ImportKind
from smbcrm.services.importing.apply import (
    BatchResult,
    NewRowsMatchNow,
    PreviewOutdated,
    apply_plan,
)
from smbcrm.services.importing.mapping import (
    Mapping,
    auto_map,
    known_source_systems,
    mapping_problems,
    save_mapping,
    saved_mapping_names,
)
from smbcrm.services.importing.orders import (
    OrderBatchResult,
    OrderImportPlan,
    OrderOutcome,
)
from smbcrm.services.importing.plan import (
    ImportPlan,
    Outcome,
    apply_decisions,
)
from smbcrm.services.importing.problems import write_problem_rows
from smbcrm.services.importing.service import DEFAULT_SOURCE, choose_mapping
from smbcrm.services.importing.undo import UndoResult
from smbcrm.services.permissions import Permission
from smbcrm.services.progress import Progress
from smbcrm.ui.batches_view import UndoRunner
from smbcrm.ui.context import AppContext
from smbcrm.ui.import_loading import LoadedFile, Preview, apply_preview, build_preview, load_file
from smbcrm.ui.import_pages import FilePage, MappingPage, PreviewPage, SummaryPage, page_label
from smbcrm.ui.import_tables import RowFilter
from smbcrm.ui.import_texts import FILE_FILTER, SPREADSHEET_SUFFIXES, Step, plural, tr
from smbcrm.ui.style import HINT_STYLE
from smbcrm.ui.workers import ProgressDialog, Worker

log = logging.getLogger(__name__)

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
        # Set when an import stopped because a customer changed after the preview.
        self._outdated: PreviewOutdated | None = None
        self._preview_note = ""  # shown over the next preview
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
        try:
            with self._ctx.read_session() as session:
                self.file_page.offer_systems(known_source_systems(session))
        except SQLAlchemyError:  # only suggestions: the box still takes any name
            log.warning("Reading the known source systems failed", exc_info=True)
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
        self.next_hint = page_label("nextHint", wrap=True)
        self.next_hint.setStyleSheet(HINT_STYLE)
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
        # The services' own sentences, in the wording the windows read in.
        self._problems = [worded(p) for p in mapping_problems(self.current_mapping())]
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
        note, self._preview_note = self._preview_note, ""
        if note:
            self.preview_page.show_message(note, error=True)
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

            def apply_customers(progress: Progress) -> BatchResult:
                try:
                    return apply_plan(db, actor_id, plan, progress=progress)
                except PreviewOutdated as outdated:
                    # Read on this thread once the worker reports its failure.
                    self._outdated = outdated
                    raise

            self._outdated = None
            worker = Worker(apply_customers, self)
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
        outdated, self._outdated = self._outdated, None
        if outdated is not None:
            # The preview no longer tells the truth: make it again, and say why.
            if isinstance(outdated, NewRowsMatchNow):
                matching = (
                    tr(
                        "Nothing was imported: {n} row new in the first preview now matches a "
                        "customer added or changed since (row {row}: {customer})."
                    )
                    if outdated.rows == 1
                    else tr(
                        "Nothing was imported: {n} rows new in the first preview now match "
                        "customers added or changed since (first: row {row}, {customer})."
                    )
                )
                self._preview_note = (
                    matching.format(
                        n=f"{outdated.rows:,}", row=outdated.row_number, customer=outdated.customer
                    )
                    + " "
                    + tr(
                        "The preview below is made again from the customers as they are now; "
                        "check it and import."
                    )
                )
            else:
                self._preview_note = tr(
                    "Nothing was imported: {customer} (row {row}) was changed by someone else "
                    "after the first preview. The preview below is made again from the customers "
                    "as they are now; check it and import."
                ).format(customer=outdated.customer, row=outdated.row_number)
            self._start_preview()
            return
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
