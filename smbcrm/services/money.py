"""Amounts as people read them: ¥12,345.60, -$20.00, HK$980.00, CHF 1,200.00.

One format for every window, the timeline and messages, so an amount reads the same
wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

CURRENCY_SYMBOLS = {
    "CNY": "¥",
    "RMB": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "HKD": "HK$",
    "TWD": "NT$",
    "SGD": "S$",
    "JPY": "JP¥",
}


def format_money(amount: Decimal | float | int | None, currency: str | None) -> str:
    """Thousands separators, two decimals, the currency's sign in front (or its code)."""
    code = (currency or "").upper()
    number = f"{Decimal(str(amount or 0)):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol is not None:
        return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
    return f"{code} {number}".strip()


def format_totals(totals: Mapping[str, Decimal | float | int]) -> str:
    """Totals in several currencies, by currency code: "$20.00 + ¥1,200.00"."""
    return " + ".join(format_money(amount, currency) for currency, amount in sorted(totals.items()))
