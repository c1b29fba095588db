"""Counted nouns in window texts: "1 customer", "2 customers".

Each count is translated as a piece of its own, so a sentence holding several counts needs
no combination of singular and plural forms.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def tr(text: str) -> str:
    return QCoreApplication.translate("Counts", text)


def plural(count: int, one: str, many: str) -> str:
    """``one`` or ``many`` (each holding ``{n}``) for ``count``, with thousands separators."""
    return (one if count == 1 else many).format(n=f"{count:,}")


def customers(count: int) -> str:
    return plural(count, tr("{n} customer"), tr("{n} customers"))


def prospects(count: int) -> str:
    return plural(count, tr("{n} prospect"), tr("{n} prospects"))


def open_follow_ups(count: int) -> str:
    return plural(count, tr("{n} open follow-up"), tr("{n} open follow-ups"))


def open_cases(count: int) -> str:
    return plural(count, tr("{n} open case"), tr("{n} open cases"))


def account_teams(count: int) -> str:
    return plural(count, tr("{n} account team"), tr("{n} account teams"))


def orders(count: int) -> str:
    return plural(count, tr("{n} order"), tr("{n} orders"))
