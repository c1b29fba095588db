"""The export dialog: what to export, for which period, in which format; then progress and
Cancel on a worker thread, and "Open file" / "Show in folder" when it is done.

All the work is :func:`smbcrm.services.export.export`; this dialog only gathers options.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smbcrm.errors import worded
from smbcrm.services.export import ExportKind, ExportOptions, ExportResult, available_kinds, export
from smbcrm.services.importing.problems import problem_batches
from smbcrm.services.progress import Progress
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_picker import CustomerPicker
from smbcrm.ui.translation import ui_language
from smbcrm.ui.workers import ProgressDialog, Worker

FORMATS = (("xlsx", "utf-8"), ("csv", "utf-8"), ("csv", "gbk"))


class ExportDialog(QDialog):
    exported = Signal(object)  # ExportResult

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, kind: ExportKind | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("exportDialog")
        self.setWindowTitle(self.tr("Export"))
        self.setMinimumWidth(460)
        self.worker: Worker | None = None
        self.export_result: ExportResult | None = None

        self.kind = QComboBox(self)
        self.kind.setObjectName("exportKind")
        labels = {
            ExportKind.CUSTOMERS: self.tr("Customers (edit and re-import)"),
            ExportKind.ORDERS: self.tr("Orders"),
            ExportKind.STATEMENT: self.tr("Customer statement"),
            ExportKind.REVENUE: self.tr("Revenue by customer by month"),
            ExportKind.AT_RISK: self.tr("Customers at risk"),
            ExportKind.IMPORT_PROBLEMS: self.tr("Rows an import could not take"),
        }
        for k in available_kinds():
            self.kind.addItem(labels[k], k)
        self.whole = QCheckBox(self.tr("All dates"), self)
        self.whole.setObjectName("exportAllDates")
        today = QDate.currentDate()
        self.date_from = QDateEdit(QDate(today.year(), 1, 1), self)
        self.date_to = QDateEdit(today, self)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        period = QHBoxLayout()
        period.addWidget(self.date_from)
        period.addWidget(QLabel("–", self))
        period.addWidget(self.date_to)
        period.addWidget(self.whole)
        self.per_line = QCheckBox(self.tr("One row per order line"), self)
        self.include_cancelled = QCheckBox(self.tr("Include cancelled and void orders"), self)
        self.include_cancelled.setToolTip(
            self.tr("Left out, every row is a sale and the total is what was sold.")
        )
        self.customer = CustomerPicker(ctx, self)
        self.customer.setObjectName("exportCustomer")
        self.customer.setPlaceholderText(self.tr("All customers, or type a name to pick one"))
        self.batch = QComboBox(self)
        self.batch.setObjectName("exportBatch")
        self.batch.setToolTip(self.tr("The import whose problem rows to export"))
        self._batches_loaded = False
        self.format = QComboBox(self)
        self.format.setObjectName("exportFormat")
        self.format.addItem(self.tr("Excel workbook (.xlsx)"), 0)
        self.format.addItem(self.tr("CSV, UTF-8 (opens correctly in Excel)"), 1)
        self.format.addItem(self.tr("CSV, GBK (older Chinese software)"), 2)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setObjectName("exportHint")

        form = QFormLayout()
        form.addRow(self.tr("Export:"), self.kind)
        form.addRow(self.tr("Period:"), period)
        form.addRow("", self.per_line)
        form.addRow("", self.include_cancelled)
        form.addRow(self.tr("Customer:"), self.customer)
        form.addRow(self.tr("Import:"), self.batch)
        form.addRow(self.tr("Format:"), self.format)
        self.form = form
        self.period_row = period
        self.choice_error = QLabel(self)
        self.choice_error.setObjectName("exportChoiceError")
        self.choice_error.setProperty("fieldError", True)
        self.choice_error.setWordWrap(True)
        self.choice_error.hide()

        self.done_label = QLabel(self)
        self.done_label.setObjectName("exportDone")
        self.done_label.setWordWrap(True)
        self.open_button = QPushButton(self.tr("Open file"), self)
        self.open_button.setObjectName("openExportButton")
        self.folder_button = QPushButton(self.tr("Show in folder"), self)
        self.folder_button.setObjectName("showFolderButton")
        self.open_button.clicked.connect(self.open_file)
        self.folder_button.clicked.connect(self.show_folder)
        after = QHBoxLayout()
        after.addWidget(self.open_button)
        after.addWidget(self.folder_button)
        after.addStretch(1)
        for w in (self.done_label, self.open_button, self.folder_button):
            w.setVisible(False)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.export_button = self.buttons.addButton(
            self.tr("Export…"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setObjectName("exportButton")
        self.buttons.accepted.connect(self.choose_file)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.choice_error)
        layout.addWidget(self.done_label)
        layout.addLayout(after)
        layout.addWidget(self.buttons)

        self.kind.currentIndexChanged.connect(self._update)
        self.whole.toggled.connect(self._update)
        if kind is not None and (i := self.kind.findData(kind)) >= 0:
            self.kind.setCurrentIndex(i)
        self._update()

    # -- options ------------------------------------------------------------------------

    def current_kind(self) -> ExportKind:
        return ExportKind(self.kind.currentData())

    @Slot()
    def _update(self) -> None:
        kind = self.current_kind()
        dated = kind in (ExportKind.ORDERS, ExportKind.STATEMENT, ExportKind.REVENUE)
        for w in (self.date_from, self.date_to, self.whole):
            w.setEnabled(dated)
        for w in (self.date_from, self.date_to):
            w.setEnabled(dated and not self.whole.isChecked())
        self.per_line.setEnabled(kind == ExportKind.ORDERS)
        self.customer.setEnabled(kind == ExportKind.STATEMENT)
        problems = kind == ExportKind.IMPORT_PROBLEMS
        # Only the choices this export uses are shown.
        self.form.setRowVisible(self.period_row, dated)
        self.form.setRowVisible(self.per_line, kind == ExportKind.ORDERS)
        self.form.setRowVisible(self.include_cancelled, kind == ExportKind.ORDERS)
        self.form.setRowVisible(self.customer, kind == ExportKind.STATEMENT)
        self.form.setRowVisible(self.batch, problems)
        self.choice_error.hide()
        if problems and not self._batches_loaded:
            self._load_batches()
        self.batch.setEnabled(problems and self.batch.count() > 0)
        self.export_button.setEnabled(not problems or self.batch.count() > 0)
        hints = {
            ExportKind.CUSTOMERS: self.tr(
                "Keep the ID column: edit the sheet in Excel and import it again to update "
                "exactly the customers you changed."
            ),
            ExportKind.ORDERS: self.tr("Every sale in the period, with a totals row."),
            ExportKind.STATEMENT: self.tr("Orders grouped by customer, each with a subtotal."),
            ExportKind.REVENUE: self.tr("One row per customer, one column per month."),
            ExportKind.AT_RISK: self.tr("Customers likely to leave, and why."),
            ExportKind.IMPORT_PROBLEMS: self.tr(
                "The rows an import skipped, under the file's own columns with the problem "
                "beside each: fix them in Excel and import the sheet again."
                if self.batch.count()
                else "No import has left rows with problems: every imported row was taken."
            ),
        }
        self.hint.setText(hints[kind])

    def _load_batches(self) -> None:
        self._batches_loaded = True
        with self.ctx.db.new_session() as session:
            batches = problem_batches(session)
        for batch in batches:
            self.batch.addItem(batch.label, batch.id)

    def options(self) -> ExportOptions:
        kind = self.current_kind()
        dated = kind in (ExportKind.ORDERS, ExportKind.STATEMENT, ExportKind.REVENUE)
        use_dates = dated and not self.whole.isChecked()
        _suffix, encoding = FORMATS[int(self.format.currentData())]
        return ExportOptions(
            date_from=_to_date(self.date_from.date()) if use_dates else None,
            date_to=_to_date(self.date_to.date()) if use_dates else None,
            per_line=kind == ExportKind.ORDERS and self.per_line.isChecked(),
            include_cancelled=kind == ExportKind.ORDERS and self.include_cancelled.isChecked(),
            customer_id=self.customer.customer_id() if kind == ExportKind.STATEMENT else None,
            batch_id=(
                int(self.batch.currentData())
                if kind == ExportKind.IMPORT_PROBLEMS and self.batch.count()
                else None
            ),
            encoding=encoding,
            language=ui_language(),
        )

    def suggested_name(self) -> str:
        suffix = FORMATS[int(self.format.currentData())][0]
        return f"{self.current_kind().value}-{date.today():%Y%m%d}.{suffix}"

    def choice_problem(self) -> str | None:
        """What stops the export as chosen: a name typed but no customer picked."""
        if (
            self.current_kind() == ExportKind.STATEMENT
            and self.customer.text().strip()
            and self.customer.customer_id() is None
        ):
            return self.tr(
                "Pick the customer from the suggestions under the box, or clear the box "
                "to export every customer's statement."
            )
        return None

    @Slot()
    def choose_file(self) -> None:
        problem = self.choice_problem()
        if problem is not None:
            self.choice_error.setText(problem)
            self.choice_error.show()
            self.customer.setFocus()
            return
        suffix = FORMATS[int(self.format.currentData())][0]
        name, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Export to"),
            str(Path.home() / self.suggested_name()),
            self.tr("Excel workbook (*.xlsx)") if suffix == "xlsx" else self.tr("CSV (*.csv)"),
        )
        if name:
            path = Path(name)
            if path.suffix.lower() != f".{suffix}":
                path = path.with_name(path.name + f".{suffix}")
            self.start_export(path)

    # -- running ------------------------------------------------------------------------

    def start_export(self, path: Path) -> Worker:
        db, user_id, kind, options = (
            self.ctx.db,
            self.ctx.user_id,
            self.current_kind(),
            self.options(),
        )

        def job(progress: Progress) -> ExportResult:
            return export(db, user_id, kind, path, options, progress)

        worker = Worker(job, self)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        self.export_button.setEnabled(False)
        self.progress_dialog = ProgressDialog(worker, self.tr("Exporting"), self)
        self.worker = worker
        worker.start()
        return worker

    def _show_message(self, text: str, ok: bool) -> None:
        self.export_button.setEnabled(True)
        self.done_label.setText(text)
        self.done_label.setVisible(True)
        self.open_button.setVisible(ok)
        self.folder_button.setVisible(ok)

    @Slot(object)
    def _on_finished(self, result: ExportResult) -> None:
        self.export_result = result
        text = (
            self.tr("Exported 1 row to {1}.")
            if result.rows == 1
            else self.tr("Exported {0} rows to {1}.")
        )
        notes = [worded(note) for note in result.warnings]
        self._show_message("\n".join([text.format(result.rows, result.path), *notes]), True)
        self.exported.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        # The worker gives one readable line, never a traceback.
        self._show_message(self.tr("Not exported: {0}").format(message), False)

    @Slot()
    def _on_cancelled(self) -> None:
        self._show_message(self.tr("Export cancelled; no file was written."), False)

    @Slot()
    def open_file(self) -> None:
        if self.export_result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.export_result.path)))

    @Slot()
    def show_folder(self) -> None:
        if self.export_result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.export_result.path.parent)))


def _to_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())
