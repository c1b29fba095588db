"""Cell values as people type them, parsed into dates, amounts, phones, text, numbers, flags.

Each parser takes what the reader put in a cell (str, int, float, bool, date, datetime or
None) and returns the parsed value, ``None`` for an empty cell, or raises ``ValueProblem``
whose ``message`` says what is wrong with the value and whose ``hint`` says how to write it.
Pure functions: no Qt, no database.
"""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import Numeric

from smbcrm.models.keys import DEFAULT_REGION, normalize_phone, split_phones
from smbcrm.models.orders import Money

__all__ = [
    "MONEY",
    "DateOrder",
    "DateProblem",
    "NumberSize",
    "PhoneReading",
    "TooLarge",
    "ValueProblem",
    "date_order",
    "detect_currency",
    "parse_amount",
    "parse_bool",
    "parse_date",
    "parse_int",
    "parse_phones",
    "parse_text",
    "phone_hint",
    "read_phones",
]


class ValueProblem(ValueError):
    """A cell value that cannot be used; ``message`` for people, ``hint`` on how to write it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class DateProblem(ValueProblem):
    """A cell that holds no usable date: ``shown`` is the value as the cell shows it,
    ``reason`` why it is no date when more can be said ("month 95 does not exist"), and
    ``future`` whether it is a real date, only later than allowed. A caller for whom the
    date is optional words its own warning from them."""

    def __init__(
        self, message: str, hint: str, *, shown: str, reason: str = "", future: bool = False
    ) -> None:
        super().__init__(message, hint)
        self.shown = shown
        self.reason = reason
        self.future = future


class TooLarge(ValueProblem):
    """A number too large for the column it goes to: a caller that knows what the column
    holds (a quantity, a price) words it its own way."""


def _shown(value: object) -> str:
    """The value as the person sees it in the cell, for messages."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value).strip()


def _is_whole(value: float | Decimal) -> bool:
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return value.is_finite() and value == value.to_integral_value()


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fold(text: str) -> str:
    """Full-width digits and punctuation to ASCII (NFKC), runs of spaces to one."""
    return _SPACES_RE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


_SPACES_RE = re.compile(r"\s+")

# ---------------------------------------------------------------------------- dates

_DATE_HINT = "write dates as 2024-03-05"
# Excel's 1900 date system: serial 1 is 1900-01-01, and 1900-02-29 (serial 60) did not
# exist; counting from 1899-12-30 is right for every serial after that.
_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000  # 1954-10-03 … 2119-01-10
_YEAR_MIN, _YEAR_MAX = 1900, 2200

_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (
        calendar.month_name[number].lower(),
        calendar.month_abbr[number].lower(),
    )
}
_MONTHS["sept"] = 9

_TIME_SUFFIX_RE = re.compile(
    r"(?:[T\s]+|(?<=日))(?:上午|下午|晚上)?\s*\d{1,2}[:时]\d{2}(?:[:分]\d{2}(?:\.\d+)?秒?)?"
    r"(?:\s*[ap]\.?m\.?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?$",
    re.I,
)
_YMD_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_DMY_RE = re.compile(r"^(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")
_NAMED_MONTH_RES = (
    # 5 Mar 2024, 05-Mar-2024, 5-Mar-24
    re.compile(r"^(?P<d>\d{1,2})[\s\-./]*(?P<m>[a-z]{3,9})\.?[\s\-./,]*(?P<y>\d{4}|\d{2})$", re.I),
    # Mar 5, 2024, March 5 2024
    re.compile(
        r"^(?P<m>[a-z]{3,9})\.?[\s\-./]*(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s*(?P<y>\d{4})$", re.I
    ),
)


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # Excel's rule: 00-29 are 2000s, 30-99 are 1900s
        year += 2000 if year < 30 else 1900
    return year


def _make_date(original: str, year: int, month: int, day: int) -> date:
    reason = ""
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        reason = f"the year {year} is not plausible"
    elif not 1 <= month <= 12:
        reason = f"month {month} does not exist"
    else:
        days = calendar.monthrange(year, month)[1]
        if 1 <= day <= days:
            return date(year, month, day)
        if day == 0 or day > 31:
            reason = f"day {day} does not exist"
        else:
            reason = f"{calendar.month_name[month]} {year} has {days} days"
    raise _not_a_date(original, reason)


def _not_a_date(original: str, reason: str = "") -> DateProblem:
    message = f"'{original}' is not a date: {reason}" if reason else f"'{original}' is not a date"
    return DateProblem(message, _DATE_HINT, shown=original, reason=reason)


def _from_serial(serial: float, original: object) -> date:
    if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
        raise DateProblem(
            f"'{_shown(original)}' is a number, not a date",
            f"{_DATE_HINT}, or format the column as Date in Excel",
            shown=_shown(original),
            reason="it is a number",
        )
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(
    value: object, *, day_first: bool | None = False, not_after: date | None = None
) -> date | None:
    """A date from an Excel date, an Excel serial number or date text in the usual forms.

    Accepted text: 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305, 5 Mar 2024,
    Mar 5, 2024, and 3/5/2024 or 05.03.2024 where ``day_first`` decides the order unless
    one part is above 12 (:func:`date_order` decides it for a whole column; None reads
    month first). A time after the date is ignored. A date after ``not_after`` is a
    problem: a year typed 3024 or 2099 for 2024.
    """
    found = _parse_date(value, bool(day_first))
    if found is not None and not_after is not None and found > not_after:
        shown = found.isoformat() if isinstance(value, date) else _shown(value)
        raise DateProblem(f"'{shown}' is in the future", "check the year", shown=shown, future=True)
    return found


def _parse_date(value: object, day_first: bool) -> date | None:
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise _not_a_date(str(value))
    if isinstance(value, int | float | Decimal):
        number = float(value)
        if isinstance(value, int) and 19000101 <= value <= 22001231:
            text = str(value)
            return _make_date(text, int(text[:4]), int(text[4:6]), int(text[6:]))
        if math.isnan(number) or math.isinf(number):
            raise _not_a_date(str(value))
        return _from_serial(number, value)
    original = str(value).strip()
    text = _date_text(original)
    if match := _YMD_RE.match(text):
        y, m, d = match.groups()
        return _make_date(original, int(y), int(m), int(d))
    if match := _DMY_RE.match(text):
        first, _, second, y = match.groups()
        a, b = int(first), int(second)
        if a > 12 >= b:  # 25/03/2024 can only be day first
            day, month = a, b
        elif b > 12 >= a:  # 3/25/2024 can only be month first
            day, month = b, a
        elif a > 12:  # and b > 12
            raise _not_a_date(original, f"neither {a} nor {b} can be a month")
        elif day_first:
            day, month = a, b
        else:
            day, month = b, a
        return _make_date(original, _full_year(y), month, day)
    if match := _COMPACT_RE.match(text):
        y, m, d = match.groups()
        return _make_date(original, int(y), int(m), int(d))
    if _SERIAL_RE.match(text):
        return _from_serial(float(text), original)
    for pattern in _NAMED_MONTH_RES:
        if match := pattern.match(text):
            month_number = _MONTHS.get(match["m"].lower())
            if month_number is None:
                break
            return _make_date(original, _full_year(match["y"]), month_number, int(match["d"]))
    if re.fullmatch(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*月?", text):
        raise DateProblem(
            f"'{original}' has no day", _DATE_HINT, shown=original, reason="the day is missing"
        )
    raise _not_a_date(original)


def _date_text(original: str) -> str:
    """Date text with full-width characters folded and a time after the date left out."""
    return _TIME_SUFFIX_RE.sub("", _fold(original)).strip()


@dataclass(frozen=True, slots=True)
class DateOrder:
    """Whether one column writes dates such as 05.03.2024 day first, and what to warn of.

    ``warning`` names the column and says how its open dates were read; ``warn_at`` is the
    position of the first cell it is about, so the warning is given once, on that row.
    """

    day_first: bool
    warning: str = ""
    warn_at: int | None = None


def date_order(cells: Iterable[object], column: str, day_first: bool | None = None) -> DateOrder:
    """Day or month first for every date in a column, decided by the column, not by each cell.

    A date that reads one way only (25.03.2024, 03/25/2024) decides for the whole column,
    so 01.11.2024 next to it is read the same way. A column whose dates are all open
    (05.03.2024) follows ``day_first``; when nobody said (None) they are read month first
    and the warning says so. Dates written both ways keep ``day_first`` for the open ones,
    with a warning.
    """
    day_first_example = month_first_example = open_example = open_read = ""
    open_at: int | None = None
    seen: set[str] = set()
    for position, cell in enumerate(cells):
        if type(cell) is not str or cell in seen:
            continue
        seen.add(cell)
        match = _DMY_RE.match(_date_text(cell))
        if match is None:
            continue
        a, b = int(match[1]), int(match[3])
        if a > 12 >= b:
            day_first_example = day_first_example or cell.strip()
        elif b > 12 >= a:
            month_first_example = month_first_example or cell.strip()
        elif a != b and 1 <= a <= 12 and 1 <= b <= 12 and open_at is None:
            open_example, open_at = cell.strip(), position
            open_read = f"{_full_year(match[4]):04d}-{a:02d}-{b:02d}"  # month first
    if day_first_example and not month_first_example:
        return DateOrder(True)
    if month_first_example and not day_first_example:
        return DateOrder(False)
    chosen = bool(day_first)
    if open_at is None:
        return DateOrder(chosen)
    order = "day first" if chosen else "month first"
    if day_first_example:  # and month first ones too
        return DateOrder(
            chosen,
            f"column '{column}' has dates written day first ({day_first_example}) and month "
            f"first ({month_first_example}): {open_example} and dates like it were read "
            f"{order}, check them",
            open_at,
        )
    if day_first is not None:
        return DateOrder(chosen)
    return DateOrder(
        False,
        f"column '{column}': dates such as {open_example} could be day first or month first, "
        f"and every such date in the column was read month first ({open_read}). If they are "
        "day first, choose day-first dates and preview again",
        open_at,
    )


# ---------------------------------------------------------------------------- amounts

_AMOUNT_HINT = "write amounts as 1234.50"
# Longest first so HK$ is removed whole before $.
_CURRENCY_TOKENS = (
    ("人民币", "CNY"),
    ("HK$", "HKD"),
    ("US$", "USD"),
    ("RMB", "CNY"),
    ("CNY", "CNY"),
    ("USD", "USD"),
    ("EUR", "EUR"),
    ("HKD", "HKD"),
    ("GBP", "GBP"),
    ("JPY", "JPY"),
    ("元", "CNY"),
    ("圆", "CNY"),
    ("块", "CNY"),
    ("¥", "CNY"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("円", "JPY"),
)
_CURRENCY_RE = re.compile(
    "|".join(
        rf"(?<![A-Za-z]){re.escape(token)}(?![A-Za-z])"
        if token.isalpha() and token.isascii()
        else re.escape(token)
        for token, _ in _CURRENCY_TOKENS
    ),
    re.I,
)
_CURRENCY_OF = {token.upper(): code for token, code in _CURRENCY_TOKENS}
_MULTIPLIERS = {
    "千": 1000,
    "k": 1000,
    "万": 10_000,
    "萬": 10_000,
    "亿": 100_000_000,
    "億": 100_000_000,
}
_MINUS_SIGNS = "-−–—"  # hyphen, minus sign, en and em dash as people paste them
_GROUPED_RE = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_DOT_GROUPED_RE = re.compile(r"^\d{1,3}(?:\.\d{3})+$")
_PLAIN_NUMBER_RE = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$", re.I)


def detect_currency(value: object) -> str | None:
    """ISO code of the currency written in a cell (¥1,234 → CNY, HK$ 50 → HKD), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    # NFKC turns the full-width yen sign ￥ into ¥ and ＄ into $.
    match = _CURRENCY_RE.search(unicodedata.normalize("NFKC", value))
    return _CURRENCY_OF[match.group(0).upper()] if match else None


def _amount_problem(original: str) -> ValueProblem:
    return ValueProblem(f"'{original}' is not an amount", _AMOUNT_HINT)


def _unsign_number(text: str, original: str) -> Decimal:
    """Digits with thousands and decimal separators → Decimal (European forms included)."""
    text = text.replace("'", "")  # Swiss grouping: 1'234.50
    if "," in text and "." in text:
        # The separator that comes last is the decimal one: 1,234.50 / 1.234,50.
        decimal_sep = "," if text.rindex(",") > text.rindex(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        whole, _, fraction = text.rpartition(decimal_sep)
        grouped = _GROUPED_RE if group_sep == "," else _DOT_GROUPED_RE
        if not grouped.match(whole) or not fraction.isdigit():
            raise _amount_problem(original)
        text = whole.replace(group_sep, "") + "." + fraction
    elif "," in text:
        whole, _, fraction = text.rpartition(",")
        if text.count(",") > 1 or (len(fraction) == 3 and whole and whole != "0"):
            if not _GROUPED_RE.match(text):  # 1,234 and 1,234,567 are thousands
                raise _amount_problem(original)
            text = text.replace(",", "")
        elif (fraction.isdigit() and len(fraction) <= 2) or whole in ("", "0"):
            text = whole + "." + fraction  # 12,50 and 0,125 are decimal commas
        else:
            raise _amount_problem(original)
    elif text.count(".") > 1:
        if not _DOT_GROUPED_RE.match(text):  # 1.234.567 (European grouping)
            raise _amount_problem(original)
        text = text.replace(".", "")
    if not _PLAIN_NUMBER_RE.match(text):
        raise _amount_problem(original)
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above only lets numbers through
        raise _amount_problem(original) from None


@dataclass(frozen=True, slots=True)
class NumberSize:
    """What a decimal column holds: ``precision`` digits, ``scale`` of them after the point."""

    precision: int
    scale: int

    @classmethod
    def of(cls, column_type: Numeric[Any]) -> NumberSize:
        if column_type.precision is None or column_type.scale is None:
            raise ValueError(f"a decimal type of fixed size is needed, not {column_type!r}")
        return cls(column_type.precision, column_type.scale)

    @property
    def largest(self) -> Decimal:
        return Decimal(10) ** (self.precision - self.scale) - Decimal(1).scaleb(-self.scale)


# What an order's amount column holds: 999,999,999,999.99.
MONEY = NumberSize.of(Money)


def _within(amount: Decimal, size: NumberSize, original: str) -> Decimal:
    """The amount, or a problem when the column cannot hold it once rounded to its places.

    The leading digit's place is checked before any arithmetic: 1E400 is a problem to
    report, not a decimal overflow.
    """
    if amount and (
        amount.adjusted() >= size.precision - size.scale
        or abs(amount).quantize(Decimal(1).scaleb(-size.scale), ROUND_HALF_UP) > size.largest
    ):
        raise TooLarge(
            f"'{original}' is too large for an amount",
            f"amounts up to {size.largest:,} fit: check that the cell holds an amount, "
            "not a card or ID number",
        )
    return amount


def parse_amount(value: object, *, size: NumberSize = MONEY) -> Decimal | None:
    """An exact Decimal from a number or amount text (¥1,234.50, 1.234,50 €, (12.00), 12.5万).

    An amount ``size`` (the order amount column by default) cannot hold is a problem, so
    nothing is stored rounded or refused by the database later. The value itself is
    returned as written: rounding it to the column's places is the caller's choice.
    """
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"'{value}' is not an amount", _AMOUNT_HINT)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueProblem(f"'{value}' is not an amount", _AMOUNT_HINT)
        return _within(value, size, _shown(value))
    if isinstance(value, int):
        return _within(Decimal(value), size, str(value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueProblem(f"'{value}' is not an amount", _AMOUNT_HINT)
        # The shortest form: 0.1 stays 0.1, not 0.1000000000000000055…
        return _within(Decimal(repr(value)), size, _shown(value))
    if not isinstance(value, str):
        raise ValueProblem(f"'{_shown(value)}' is not an amount", _AMOUNT_HINT)
    original = value.strip()
    text = unicodedata.normalize("NFKC", original)
    negative = False
    text = _CURRENCY_RE.sub("", text)
    text = re.sub(r"\s+", "", text)  # spaces, including thin and no-break, group digits
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text and text[0] in _MINUS_SIGNS:
        negative, text = not negative, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    if text and text[-1] in _MINUS_SIGNS:  # 1234- (accounting exports)
        negative, text = not negative, text[:-1]
    multiplier = 1
    if text and text[-1].lower() in _MULTIPLIERS:
        multiplier, text = _MULTIPLIERS[text[-1].lower()], text[:-1]
    if not text or not any(ch.isdigit() for ch in text):
        raise _amount_problem(original)
    amount = _within(_unsign_number(text, original) * multiplier, size, original)
    if "e" in text.lower() and amount == amount.to_integral_value():
        amount = amount.quantize(Decimal(1))  # 1.5e3 → 1500, not Decimal("1.5E+3")
    return -amount if negative else amount


# ---------------------------------------------------------------------------- phones

_CN_PHONE_HINT = "write phone numbers as 138 0013 8000 or +86 755 8888 9999"
_PHONE_NOTE_RE = re.compile(r"[(（\[【][^()（）\[\]【】\d]*[)）\]】]")
_SCIENTIFIC_RE = re.compile(r"^(\d)(?:\.(\d+))?e\+?(\d+)$", re.I)
# One phone written with ASCII digits, +, - and single spaces: what split_phones would
# leave whole (it splits at two spaces, commas, slashes, "or"...) and cleaning leaves as is.
_ONE_PHONE_RE = re.compile(r"[0-9+\-]+(?: [0-9+\-]+)*")
# "310/246-1501", "(0755)/8888 9999": an area code, a slash, then the local number, at the
# start of the cell or of one of its listed numbers. One phone, not two: split at the
# slash, the area code alone is no phone and the row would be refused.
_AREA_CODE_SLASH_RE = re.compile(
    r"(^|[;,、，；|\n])(\s*)\(?(\d{2,4})\)?\s*/\s*([1-9][\d.\- ]{3,10}\d)(?=[.\s]*(?:$|[;,、，；|\n]))"
)
_LOCAL_DIGITS = range(5, 9)  # a local number without its area code


@lru_cache(maxsize=64)
def phone_hint(region: str = DEFAULT_REGION) -> str:
    """How to write a phone number, with an example of the book's own region."""
    region = region.upper()
    if region == "CN":
        return _CN_PHONE_HINT
    example = phonenumbers.example_number(region)
    if example is None:
        return "write phone numbers with their country code, such as +44 20 7946 0958"
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return f"write phone numbers as {national} or {international}"


def _join_area_codes(text: str) -> str:
    """The text with each "area code/local number" written as one number."""
    if "/" not in text:
        return text

    def joined(match: re.Match[str]) -> str:
        before, spaces, area, local = match.groups()
        if sum(ch.isdigit() for ch in local) not in _LOCAL_DIGITS:
            return match.group(0)
        return f"{before}{spaces}{area} {local}"

    return _AREA_CODE_SLASH_RE.sub(joined, text)


def parse_phones(value: object, region: str = DEFAULT_REGION) -> list[str]:
    """E.164 keys of every phone in a cell, in order, without repeats.

    Numbers stored as numbers (13800138000.0, 1.38001380E+10) are read as their digits.
    """
    keys: list[str] = []
    for _part, key in _phone_parts(value, region):
        if key not in keys:
            keys.append(key)
    return keys


def _phone_parts(value: object, region: str) -> list[tuple[str, str]]:
    """(each number as the cell writes it, its key), repeats included."""
    if _is_blank(value):
        return []
    if isinstance(value, bool):
        raise ValueProblem(f"'{value}' is not a phone number", phone_hint(region))
    if isinstance(value, float | Decimal):
        if not _is_whole(value):
            raise ValueProblem(f"'{_shown(value)}' is not a phone number", phone_hint(region))
        text = str(int(value))
    elif isinstance(value, int):
        text = str(value)
    else:
        text = str(value)
    part = text.strip() if text.isascii() else ""
    if part and (part.isdigit() or _ONE_PHONE_RE.fullmatch(part)):
        # Most cells: one number stored as a number or typed as "13800138000" or
        # "138 0013 8000". Nothing in it to fold, split or take for a note, and a Chinese
        # mobile needs no parser; the general path below would find this one part too.
        key = normalize_phone(part, region)
        if key is None:
            raise ValueProblem(f"'{part}' is not a phone number", phone_hint(region))
        return [(part, key)]
    if not isinstance(value, int | float | Decimal):  # text, or whatever else was typed
        folded = _fold(text).replace(" ", "")
        scientific = _SCIENTIFIC_RE.match(folded)
        if scientific:
            # Excel writes a long number as 1.38E+10 when the column is too narrow and a
            # CSV keeps only what was shown: the digits after the shown ones are gone.
            digits = (scientific.group(1) + (scientific.group(2) or "")).rstrip("0")
            length = int(scientific.group(3)) + 1
            if len(digits) < length - 4:
                raise ValueProblem(
                    f"'{text.strip()}' has lost digits: Excel showed the phone number in "
                    "scientific notation when saving",
                    "in Excel format the column as Text, re-enter the numbers and save again",
                )
    # "13800138000（微信同号）": a bracketed note without digits is not part of the number.
    text = _join_area_codes(_PHONE_NOTE_RE.sub(" ", text))
    parts: list[tuple[str, str]] = []
    for part in split_phones(text):
        key = normalize_phone(part, region)
        if key is None:
            raise ValueProblem(f"'{part}' is not a phone number", phone_hint(region))
        parts.append((part, key))
    if not parts:
        raise ValueProblem(f"'{text.strip()}' is not a phone number", phone_hint(region))
    return parts


@dataclass(frozen=True, slots=True)
class PhoneReading:
    """One phone of a cell: its own text as written (an extension stays), the key it is
    matched by, and why it may be mistyped (for a warning), if it may."""

    written: str
    key: str
    doubt: str = ""


# E.164 numbers have at most 15 digits; with an extension a few more. Longer is not a phone.
_MOST_PHONE_DIGITS = 20
# "010-12345678-801": the Chinese way to write an extension after the number.
_DASH_EXTENSION_RE = re.compile(r"^(.*\d)\s*[-‐–—]\s*\d{1,5}$")
_CN_MOBILE_DIGITS = 11


def read_phones(value: object, region: str = DEFAULT_REGION) -> list[PhoneReading]:
    """Every phone in a cell, each with its own text, in order, without repeats.

    Unlike :func:`parse_phones` (the keys alone), this reads "010-12345678-801" as the
    number with extension 801, refuses a "number" too long for any phone, and says of a
    number with a digit too many or too few for the region that it may be mistyped.
    """
    readings: list[PhoneReading] = []
    seen: set[str] = set()
    for written, found in _phone_parts(value, region):
        key, valid = found, _is_valid_key(found)
        if not valid:
            before_extension = _key_before_extension(written, region)
            if before_extension is not None:
                key, valid = before_extension, True
        if key in seen:
            continue
        seen.add(key)
        digits = len(key.lstrip("+"))  # a key is digits, after a plus when it has one
        if digits > _MOST_PHONE_DIGITS:
            raise ValueProblem(
                f"'{written}' is not a phone number: it has {digits} digits", phone_hint(region)
            )
        readings.append(PhoneReading(written, key, "" if valid else _phone_doubt(written, region)))
    return readings


@lru_cache(maxsize=65536)
def _is_valid_key(key: str) -> bool:
    """Whether a key is a real number: normalize_phone keeps the digits of one that is not."""
    if len(key) == 14 and key.startswith("+861"):
        return True  # a Chinese mobile, as normalize_phone accepts them
    if not key.startswith("+"):
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(key)))
    except phonenumbers.NumberParseException:
        return False


def _key_before_extension(written: str, region: str) -> str | None:
    match = _DASH_EXTENSION_RE.match(written)
    if match is None:
        return None
    key = normalize_phone(match.group(1), region)
    return key if key is not None and _is_valid_key(key) else None


def _phone_doubt(written: str, region: str) -> str:
    national = "".join(ch for ch in written if ch.isdigit())
    digits = len(national)
    if (
        region.upper() == "CN"
        and national.startswith("1")
        and not national.startswith("10")  # Beijing's area code without its 0
        and 0 < abs(digits - _CN_MOBILE_DIGITS) <= 2  # a mobile with a digit or two off
    ):
        return f"'{written}' has {digits} digits, but a mobile number has 11: check it"
    try:
        reason = phonenumbers.is_possible_number_with_reason(
            phonenumbers.parse(written, region.upper())
        )
    except phonenumbers.NumberParseException:
        reason = None
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        return f"'{written}' has too many digits for a phone number: check it"
    if reason == phonenumbers.ValidationResult.TOO_SHORT or digits < 7:
        return f"'{written}' has too few digits for a phone number: check it"
    return f"'{written}' is not a valid phone number: check its digits"


# ---------------------------------------------------------------------------- text & small types

_LINE_SPACES_RE = re.compile(r"[^\S\n]+")


def parse_text(value: object) -> str | None:
    """Text as typed, trimmed, with runs of spaces made one; 1001.0 (a code) becomes "1001".

    The person's own characters are kept (no width folding); line breaks inside a cell
    stay, blank lines go.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" in text:
            lines = (_LINE_SPACES_RE.sub(" ", line).strip() for line in text.split("\n"))
            text = "\n".join(line for line in lines if line)
        else:
            text = _LINE_SPACES_RE.sub(" ", text).strip()
        return text or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # as Excel shows it
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else None
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat(" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None


_INT_HINT = "write a whole number such as 12"


def parse_int(value: object) -> int | None:
    """A whole number: 12, 12.0, "1,234", "１２"; 12.5 is a problem, not 12."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"'{value}' is not a whole number", _INT_HINT)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if not _is_whole(value):
            raise ValueProblem(f"'{_shown(value)}' is not a whole number", _INT_HINT)
        return int(value)
    original = str(value).strip()
    text = unicodedata.normalize("NFKC", original).replace(" ", "").replace("\u2212", "-")
    if _GROUPED_RE.match(text.lstrip("+-")):
        text = text.replace(",", "")
    match = re.fullmatch(r"([+-]?\d+)(?:\.0*)?", text)
    if not match:
        raise ValueProblem(f"'{original}' is not a whole number", _INT_HINT)
    return int(match.group(1))


_TRUE_WORDS = frozenset(
    {"是", "对", "有", "真", "yes", "y", "true", "t", "1", "on", "✓", "✔", "√", "☑", "ok"}
)
_FALSE_WORDS = frozenset(
    {
        "否",
        "不",
        "不是",
        "无",
        "没有",
        "假",
        "no",
        "n",
        "false",
        "f",
        "0",
        "off",
        "✗",
        "✘",
        "×",
        "☐",
    }
)


def parse_bool(value: object) -> bool | None:
    """Yes/no from 是/否, yes/no, y/n, true/false, 1/0, ✓ and Excel's TRUE/FALSE."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    raise ValueProblem(f"'{_shown(value)}' is not yes or no", "write 是/否 or yes/no")
