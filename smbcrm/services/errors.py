"""Domain errors: each message says what is wrong and how to put it right."""

from __future__ import annotations


class SmbcrmError(Exception):
    """Base of every error a person is meant to read (CLI stderr, dialog text)."""


class ValidationError(SmbcrmError):
    """Input that cannot be saved; ``field_errors`` maps a field name to its message."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        self.field_errors = dict(field_errors)
        text = "; ".join(f"{msg}" for msg in self.field_errors.values())
        super().__init__(text or "The input is not valid.")


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
