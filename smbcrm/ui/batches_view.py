"""Import history: every import batch, who ran it and what it did, and undoing one.

:class:`UndoRunner` runs :func:`~smbcrm.services.importing.undo.undo_batch` on a worker with
progress and Cancel. When records of the batch were edited after the import, the service
refuses with :class:`UndoConflict`; the runner then lists those edits in an
:class:`UndoConflictDialog` and undoes anyway only when told to. The import wizard's
summary page and :class:`BatchesDialog` share it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import worded
from smbcrm.models import BatchStatus, ImportKind
from smbcrm.services.importing.undo import (
    BatchRow,
    UndoConflict,
    UndoResult,
    list_batches,
    undo_batch,
)
from smbcrm.services.permissions import Permission
from smbcrm.services.progress import Progress
from smbcrm.ui import counts
from smbcrm.ui.context import AppContext
from smbcrm.ui.style import ERROR_STYLE, OK_STYLE, text_width
from smbcrm.ui.workers import ProgressDialog, Worker

log = logging.getLogger(__name__)


def tr(text: str) -> str:
    return QCoreApplication.translate("BatchesView", text)


def status_label(status: BatchStatus) -> str:
    return {
        BatchStatus.APPLIED: tr("Imported"),
        BatchStatus.UNDONE: tr("Undone"),
        BatchStatus.PREVIEWED: tr("Preview only"),
    }[status]


def local_time(moment: datetime) -> str:
    """Batches store naive UTC; people read their own clock."""
    return moment.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


def undo_result_text(result: UndoResult) -> str:
    text = tr(
        "Import batch {batch} was undone: removed {removed} it created and put back {restored} "
        "it changed as before."
    ).format(
        batch=result.batch_id,
        removed=counts.customers(result.removed),
        restored=counts.customers(result.restored),
    )
    if result.kept:
        text += " " + tr(
            "Kept, because other records refer to them since the import (orders, activities, "
            "service cases…): {names}."
        ).format(names=", ".join(result.kept))
    for note in result.notes:
        text += " " + worded(note)
    return text


class UndoConflictDialog(QDialog):
    """Lists the records edited after the import; accepted = "Undo anyway"."""

    def __init__(
        self,
        batch_id: int,
        later_edits: list[str],
        parent: QWidget | None = None,
        details: list[str] | None = None,
        *,
        orders: bool = False,
    ):
        super().__init__(parent)
        self.setObjectName("undoConflictDialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        if orders:
            self.setWindowTitle(tr("Orders were changed after this import"))
            intro = QLabel(
                tr(
                    "Changed since import batch {batch}: {count}. Undoing anyway removes the "
                    "orders the import created, with the links made by hand and the changes "
                    "later imports made to them, and puts back what it changed on the others. "
                    "Below: what each order would lose."
                ).format(count=counts.orders(len(later_edits)), batch=batch_id)
            )
        else:
            self.setWindowTitle(tr("Customers were changed after this import"))
            intro = QLabel(
                tr(
                    "Edited since import batch {batch}: {count}. "
                    "Undoing anyway puts back the values these customers had before the import "
                    "(later edits to the same fields are lost) and removes the customers the "
                    "import created, with what was added to them since, except those other "
                    "records refer to. Below: what each customer would lose."
                ).format(count=counts.customers(len(later_edits)), batch=batch_id)
            )
        intro.setObjectName("undoConflictText")
        intro.setWordWrap(True)
        self.edits_list = QListWidget()
        self.edits_list.setObjectName("laterEditsList")
        # Each line says what undoing anyway would do to that customer's later changes.
        self.edits_list.addItems([worded(line) for line in (details or later_edits)])
        self.edits_list.setWordWrap(True)
        self.edits_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.undo_anyway_button = QPushButton(tr("&Undo anyway"))
        self.undo_anyway_button.setObjectName("undoAnywayButton")
        self.keep_button = QPushButton(tr("&Keep the import"))
        self.keep_button.setObjectName("keepImportButton")
        # Keeping is the safe answer, so it is what Enter does.
        self.keep_button.setDefault(True)
        self.undo_anyway_button.setAutoDefault(False)
        buttons = QDialogButtonBox()
        buttons.addButton(self.undo_anyway_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.undo_anyway_button.clicked.connect(self.accept)
        self.keep_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.edits_list, 1)
        layout.addWidget(buttons)
        self.setMinimumWidth(text_width(self, 80))


class UndoRunner(QObject):
    """Undoes one batch in the background, asking first if that would lose later edits.

    Exactly one of ``undone(UndoResult)``, ``kept()`` (the user kept the import or
    cancelled) or ``failed(message)`` follows ``start()``.
    """

    undone = Signal(object)
    kept = Signal()
    failed = Signal(str)

    def __init__(self, ctx: AppContext, batch_id: int, parent: QWidget) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._batch_id = batch_id
        self._window = parent
        self.worker: Worker | None = None
        self.progress_dialog: ProgressDialog | None = None
        self.conflict_dialog: UndoConflictDialog | None = None

    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def start(self, force: bool = False) -> Worker:
        db, actor_id, batch_id = self._ctx.db, self._ctx.user_id, self._batch_id

        def job(progress: Progress) -> UndoResult | UndoConflict:
            try:
                return undo_batch(db, actor_id, batch_id, force=force, progress=progress)
            except UndoConflict as conflict:
                # An answer to show, not a failure: the user decides what happens next.
                return conflict

        worker = Worker(job, self)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self.failed)
        worker.cancelled.connect(self.kept)
        self.progress_dialog = ProgressDialog(
            worker, tr("Undoing import batch {batch}").format(batch=batch_id), self._window
        )
        self.worker = worker
        worker.start()
        return worker

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        if isinstance(result, UndoConflict):
            dialog = UndoConflictDialog(
                result.batch_id,
                result.later_edits,
                self._window,
                details=result.details,
                orders=result.subject == "orders",
            )
            dialog.accepted.connect(lambda: self.start(force=True))
            dialog.rejected.connect(self.kept)
            self.conflict_dialog = dialog
            dialog.open()
        elif isinstance(result, UndoResult):
            self.undone.emit(result)


class BatchesDialog(QDialog):
    """The import history with "Undo selected"."""

    COLUMNS = (
        "Batch",
        "When",
        "By",
        "File",
        "Source",
        "Created",
        "Updated",
        "Errors",
        "Status",
    )

    # A batch was undone here (the customer list may want to refresh).
    undone = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchesDialog")
        self.setWindowTitle(tr("Import history"))
        self._ctx = ctx
        # Who may undo a batch: whoever may import its kind (a bookkeeper, orders).
        self._may_undo_kind = {
            ImportKind.CUSTOMERS.value: ctx.can(Permission.IMPORT_CUSTOMERS),
            ImportKind.ORDERS.value: ctx.can(Permission.IMPORT_ORDERS),
        }
        self._batches: list[BatchRow] = []
        self.runner: UndoRunner | None = None

        intro = QLabel(
            tr(
                "Every import is kept as a batch. Undoing a batch removes the customers it "
                "created and puts back what it changed."
            )
        )
        intro.setObjectName("hintLabel")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("batchesTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setObjectName("batchesMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.undo_button = QPushButton(tr("&Undo selected"))
        self.undo_button.setObjectName("undoSelectedButton")
        self.undo_button.setAutoDefault(False)
        self.close_button = QPushButton(tr("Close"))
        self.close_button.setObjectName("closeButton")
        self.close_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(960, 440)

        self.undo_button.clicked.connect(self.undo_selected)
        self.close_button.clicked.connect(self.accept)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.reload()

    # -- data -----------------------------------------------------------------------------
    def reload(self) -> None:
        try:
            with self._ctx.read_session() as session:
                self._batches = list_batches(session)
        except SQLAlchemyError:
            log.warning("Reading the import history failed", exc_info=True)
            self._batches = []
            self._show_message(
                tr("The import history could not be read. Check the connection to the database."),
                error=True,
            )
        self.table.setRowCount(len(self._batches))
        for row, batch in enumerate(self._batches):
            file_name = batch.file_name.replace("\\", "/").rsplit("/", 1)[-1]
            cells = (
                str(batch.id),
                local_time(batch.started_at),
                batch.user or "",
                file_name,
                batch.source_system,
                f"{batch.created:,}",
                f"{batch.updated:,}",
                f"{batch.errors:,}",
                status_label(batch.status),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (0, 5, 6, 7):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column == 3:
                    item.setToolTip(batch.file_name)
                self.table.setItem(row, column, item)
        if not self._batches:
            self._show_message(tr("Nothing has been imported yet."))
        self._update_buttons()

    def selected_batch(self) -> BatchRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._batches):
            return None
        return self._batches[rows[0].row()]

    def select_batch(self, batch_id: int) -> bool:
        for row, batch in enumerate(self._batches):
            if batch.id == batch_id:
                self.table.selectRow(row)
                return True
        return False

    # -- undo -----------------------------------------------------------------------------
    def _may_undo(self, batch: BatchRow) -> bool:
        return self._may_undo_kind.get(batch.kind, False)

    def _update_buttons(self) -> None:
        batch = self.selected_batch()
        busy = self.runner is not None and self.runner.is_running()
        if batch is None:
            reason = tr("Select the import to undo.")
        elif not self._may_undo(batch):
            reason = (
                tr("Only an owner, a manager or a bookkeeper can undo an orders import.")
                if batch.kind == ImportKind.ORDERS.value
                else tr("Only an owner or a manager can undo a customers import.")
            )
        elif batch.status != BatchStatus.APPLIED:
            reason = tr("This batch is not in effect, so there is nothing to undo.")
        else:
            reason = ""
        self.undo_button.setEnabled(not reason and not busy)
        self.undo_button.setToolTip(reason or tr("Remove what this import created and changed."))

    @Slot()
    def undo_selected(self) -> None:
        batch = self.selected_batch()
        if batch is None or batch.status != BatchStatus.APPLIED or not self._may_undo(batch):
            return
        runner = UndoRunner(self._ctx, batch.id, self)
        runner.undone.connect(self._on_undone)
        runner.kept.connect(self._on_kept)
        runner.failed.connect(self._on_failed)
        self.runner = runner
        runner.start()
        self._update_buttons()

    @Slot()
    def _on_kept(self) -> None:
        self._show_message(tr("The import was kept as it is."))
        self._update_buttons()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_message(tr("The import was not undone: {0}").format(message), error=True)
        self._update_buttons()

    @Slot(object)
    def _on_undone(self, result: UndoResult) -> None:
        self.reload()
        self.select_batch(result.batch_id)
        self._show_message(undo_result_text(result), ok=True)
        self.undone.emit(result.batch_id)

    def _show_message(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else OK_STYLE if ok else "")
        self.message.setText(text)
        self.message.setVisible(bool(text))
