"""Domain errors: each message says what is wrong and how to put it right.

A leaf module that every layer may raise from: the services for the rules they check, the
storage layer for what the database itself refuses (a file another program keeps busy).

Messages are written in English. An interface in another language installs its wording
with :func:`set_message_wording` (a plain function, text → text): every error then reads
in that language wherever it is shown, while the English stays what the code and the
command line use.
"""

from __future__ import annotations

from collections.abc import Callable

MessageWording = Callable[[str], str]
_wording: list[MessageWording] = []


def set_message_wording(wording: MessageWording | None) -> None:
    """How messages read from now on; None: as written (English)."""
    _wording.clear()
    if wording is not None:
        _wording.append(wording)


def worded(text: str) -> str:
    """A message as the person reads it (see :func:`set_message_wording`)."""
    return _wording[0](text) if _wording else text


class SmbcrmError(Exception):
    """Base of every error a person is meant to read (CLI stderr, dialog text)."""

    def __str__(self) -> str:
        return worded(super().__str__())


class ValidationError(SmbcrmError):
    """Input that cannot be saved; ``field_errors`` maps a field name to its message."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        self._field_errors = dict(field_errors)
        text = "; ".join(f"{msg}" for msg in self._field_errors.values())
        super().__init__(text or "The input is not valid.")

    @property
    def field_errors(self) -> dict[str, str]:
        return {field: worded(message) for field, message in self._field_errors.items()}

    def __str__(self) -> str:
        if not self._field_errors:
            return super().__str__()
        return "; ".join(self.field_errors.values())


class NotFoundError(SmbcrmError):
    pass


class PermissionDenied(SmbcrmError):
    pass


class AuthenticationError(SmbcrmError):
    pass


class ConflictError(SmbcrmError):
    """Someone else saved the same record first (optimistic lock)."""


class DatabaseError(SmbcrmError):
    """The database file or server cannot be used as it is."""


class Cancelled(SmbcrmError):
    def __init__(self, message: str = "Cancelled; nothing was changed.") -> None:
        super().__init__(message)
