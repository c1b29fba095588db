"""Long work off the UI thread: a reusable worker with progress, cancel and clean errors.

``Worker(fn)`` runs ``fn(progress) -> result`` on its own ``QThread``. ``fn`` is a plain
service call that reports through :class:`~smbcrm.services.progress.Progress` and checks its
cancel token, so the same code runs from the CLI. Everything the worker emits reaches its
listeners on the UI thread, whatever thread they were connected from:

* ``progressed(done, total, message)`` — throttled, so a per-row report cannot flood the UI;
* ``finished(result)`` — ``fn`` returned;
* ``cancelled()`` — ``fn`` raised :class:`~smbcrm.errors.Cancelled`;
* ``failed(message)`` — an :class:`SmbcrmError` gives its own message; anything else gives
  one line naming the log file that holds the full traceback;
* ``ended()`` — always last, after exactly one of the three above.

``ProgressDialog`` shows a worker's progress with a Cancel button and closes itself when
the worker ends. Import, export and duplicate scans reuse both.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from smbcrm import __version__
from smbcrm.errors import Cancelled, SmbcrmError, worded
from smbcrm.models.db import data_dir
from smbcrm.services.progress import CancelToken, Progress

ERROR_LOG_NAME = "smbcrm-errors.log"
# Progress reports closer together than this are merged: the UI repaints ~20 times a second.
PROGRESS_INTERVAL = 0.05


def error_log_path() -> Path:
    return data_dir() / ERROR_LOG_NAME


def log_exception(exc: BaseException) -> Path | None:
    """Append the full traceback to the error log; None if even that is impossible."""
    try:
        log = error_log_path()
        with log.open("a", encoding="utf-8") as handle:
            handle.write(
                f"--- {datetime.now().isoformat(timespec='seconds')} smbcrm {__version__}\n"
            )
            handle.write("".join(traceback.format_exception(exc)))
        return log
    except OSError:
        return None


def unexpected_error_text(exc: BaseException) -> str:
    """One line for a person: what happened and where the details are (never a traceback)."""
    if isinstance(exc, SmbcrmError):
        return str(exc)
    log = log_exception(exc)
    text = str(exc).strip()
    reason = f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
    message = QCoreApplication.translate(
        "Errors", "smbcrm ran into an unexpected problem ({0}) and did not finish this."
    ).format(reason)
    if log is not None:
        message += " " + QCoreApplication.translate(
            "Errors",
            "The details were written to {0}; please send that file to whoever looks after smbcrm.",
        ).format(log)
    return message


class _Thread(QThread):
    """Runs the callable; its signals are emitted from the worker thread."""

    reported = Signal(int, int, str)
    returned = Signal(object)
    raised = Signal(object)
    was_cancelled = Signal()

    def __init__(self, fn: Callable[[Progress], Any], token: CancelToken) -> None:
        super().__init__()
        self._fn = fn
        self._token = token
        self._last_report = 0.0

    def _report(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if done < total and now - self._last_report < PROGRESS_INTERVAL and done != 0:
            return
        self._last_report = now
        self.reported.emit(done, total, message)

    def run(self) -> None:
        try:
            result = self._fn(Progress(self._report, self._token))
        except Cancelled:
            self.was_cancelled.emit()
        except BaseException as exc:  # the worker must never die silently
            self.raised.emit(exc)
        else:
            self.returned.emit(result)


class Worker(QObject):
    """One long operation on a background thread. Create, connect, ``start()``."""

    progressed = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()

    # Running workers are kept alive here even if the caller drops its reference: a QThread
    # destroyed while running takes the whole process down.
    _running: ClassVar[set[Worker]] = set()

    def __init__(self, fn: Callable[[Progress], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self.token = CancelToken()
        self._thread: _Thread | None = None
        self._state = "new"  # new → running → finished | failed | cancelled
        self.result: Any = None
        self.error: str | None = None

    @property
    def state(self) -> str:
        return self._state

    def is_running(self) -> bool:
        return self._state == "running"

    def start(self) -> None:
        if self._state != "new":
            raise RuntimeError("A Worker runs once; create a new one for the next job.")
        thread = _Thread(self._fn, self.token)
        # Queued: the slots run on this object's (the UI) thread, never the worker's.
        queued = Qt.ConnectionType.QueuedConnection
        thread.reported.connect(self._on_reported, queued)
        thread.returned.connect(self._on_returned, queued)
        thread.raised.connect(self._on_raised, queued)
        thread.was_cancelled.connect(self._on_cancelled, queued)
        self._thread = thread
        self._state = "running"
        Worker._running.add(self)
        thread.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next progress report; ``cancelled`` follows."""
        self.token.cancel()

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the thread has stopped (for shutdown); signals still arrive queued."""
        return self._thread.wait(msecs) if self._thread is not None else True

    @Slot(int, int, str)
    def _on_reported(self, done: int, total: int, message: str) -> None:
        if self._state == "running":
            self.progressed.emit(done, total, message)

    @Slot(object)
    def _on_returned(self, result: object) -> None:
        self.result = result
        self._end("finished")
        self.finished.emit(result)
        self.ended.emit()

    @Slot(object)
    def _on_raised(self, exc: BaseException) -> None:
        self.error = unexpected_error_text(exc)
        self._end("failed")
        self.failed.emit(self.error)
        self.ended.emit()

    @Slot()
    def _on_cancelled(self) -> None:
        self._end("cancelled")
        self.cancelled.emit()
        self.ended.emit()

    def _end(self, state: str) -> None:
        self._state = state
        thread = self._thread
        if thread is not None:
            # The thread emits its last signal just before run() returns.
            thread.wait()
            thread.deleteLater()
            self._thread = None
        Worker._running.discard(self)


def run_in_background(
    fn: Callable[[Progress], Any], parent: QObject | None = None, **handlers: Callable[..., Any]
) -> Worker:
    """Start a worker with handlers given by signal name: ``finished=…, failed=…``."""
    worker = Worker(fn, parent)
    for name, handler in handlers.items():
        getattr(worker, name).connect(handler)
    worker.start()
    return worker


class ProgressDialog(QDialog):
    """Progress of one worker, with Cancel; closes itself when the worker ends.

    Built on QDialog rather than QProgressDialog because QProgressDialog hides itself the
    moment Cancel is pressed, while the job may need a moment to stop: this one says
    "Cancelling…" and closes only when the worker has really stopped. It appears only if the
    job takes longer than ``show_after_ms`` (no flash for quick jobs).
    """

    def __init__(
        self,
        worker: Worker,
        title: str,
        parent: QWidget | None = None,
        *,
        cancellable: bool = True,
        show_after_ms: int = 400,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("progressDialog")
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(420)
        self._worker = worker
        self._cancellable = cancellable
        self.message = QLabel(self.tr("Starting…"), self)
        self.message.setObjectName("progressMessage")
        self.message.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("progressBar")
        self.bar.setRange(0, 0)  # busy until the first report says how much there is
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("cancelButton")
        # Enter must not cancel a long job by accident.
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.setDefault(False)
        self.cancel_button.setEnabled(cancellable)
        self.buttons.rejected.connect(self.request_cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.buttons)
        worker.progressed.connect(self._on_progress)
        worker.ended.connect(self._on_ended)
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_if_running)
        self._show_timer.start(show_after_ms)

    @Slot()
    def _show_if_running(self) -> None:
        if self._worker.is_running():
            self.show()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        if message and not self._worker.token.cancelled:
            self.message.setText(worded(message))

    @Slot()
    def request_cancel(self) -> None:
        if not self._cancellable or not self._worker.is_running():
            return
        self._worker.cancel()
        self.cancel_button.setEnabled(False)
        self.message.setText(self.tr("Cancelling… nothing will be kept."))

    def reject(self) -> None:
        # Esc or the window's close button mean Cancel; the dialog closes when the job stops.
        if self._worker.is_running():
            self.request_cancel()
        else:
            super().reject()

    @Slot()
    def _on_ended(self) -> None:
        self._show_timer.stop()
        if self._worker.state == "finished":
            self.accept()
        else:
            super().reject()
