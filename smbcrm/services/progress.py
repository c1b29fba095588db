"""Progress reporting and cancellation for long work, without any Qt.

Services take an optional ``Progress``; the UI adapts it to a worker thread's signals,
the CLI to a line on the terminal, tests to a list.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from smbcrm.errors import Cancelled

ProgressCallback = Callable[[int, int, str], None]  # done, total, what is happening


class CancelToken:
    """Set from the UI thread, checked by the worker between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class Progress:
    """What a long operation gets: a place to report to and a token to check."""

    def __init__(
        self, callback: ProgressCallback | None = None, token: CancelToken | None = None
    ) -> None:
        self._callback = callback
        self.token = token or CancelToken()

    def report(self, done: int, total: int, message: str = "") -> None:
        self.token.raise_if_cancelled()
        if self._callback is not None:
            self._callback(done, total, message)

    def check(self) -> None:
        self.token.raise_if_cancelled()
