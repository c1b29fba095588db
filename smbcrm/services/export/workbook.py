"""The shape every export shares, and the .xlsx writer a bookkeeper can use as it is.

An export is one :class:`Sheet`: typed columns (text, whole number, date, money, number)
with English and Chinese headers, and a stream of rows. Rows are plain tuples already in
the types xlsxwriter writes natively, so the hot loop is one ``write_row`` per row with
preformatted column formats; :class:`Subtotal` rows (statements) are the only special case.

Excel quality: real dates, amounts as numbers in a currency format, a bold frozen header,
an autofilter, widths from the data, a meaningful sheet name and a totals row whose
``SUBTOTAL`` formulas follow the filter (and carry their value, for readers that do not
calculate). Text is always text: ``strings_to_formulas`` is off, so a name like
``=HYPERLINK(…)`` stays a string.

Reports (duplicates, rows with problems, …) are saved with :func:`save_sheet`, and a file
that cannot be written — open in Excel, a folder, no permission — reads the same
everywhere (:func:`cannot_write`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from smbcrm.errors import SmbcrmError

# Rows sampled to size the columns: enough to see typical values, few enough to stay cheap.
WIDTH_SAMPLE = 500
MAX_WIDTH = 60
PROGRESS_EVERY = 2000
FILE_TYPES = (".xlsx", ".csv")


class ColumnKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DATE = "date"
    MONEY = "money"
    NUMBER = "number"


@dataclass(frozen=True)
class Column:
    header: str
    header_zh: str
    kind: ColumnKind = ColumnKind.TEXT
    # Summed in the totals row (money and quantities; never IDs).
    total: bool = False

    def title(self, language: str) -> str:
        return self.header_zh if language == "zh" else self.header


@dataclass(frozen=True)
class Subtotal:
    """A subtotal row after a group (a customer's orders): label and the group's sums.

    ``sums`` maps a column index to the exact sum; ``currency`` picks the money format.
    """

    label: str
    sums: dict[int, float]
    currency: str | None = None


Row = tuple[Any, ...]


@dataclass
class Sheet:
    """One export: its columns, its rows (a stream), and how many rows to expect."""

    name: str
    columns: list[Column]
    rows: Iterable[Row | Subtotal]
    expected_rows: int
    language: str = "en"
    # Index of the column holding each row's currency (money formats and totals per currency).
    currency_column: int | None = None
    main_currency: str = "CNY"
    # The column where "Total" / subtotal labels go.
    label_column: int = 0
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    # What the totals row says it adds up, when plain "Total" would leave it unclear.
    total_label: str | None = None


# -- safe text and widths ---------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_csv_text(text: str) -> str:
    """OWASP CSV injection: a cell a spreadsheet would run as a formula gets a leading quote."""
    if text and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def display_width(text: str) -> int:
    """Columns a text takes in Excel: Chinese (wide) characters count twice."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(text: str) -> str:
    """A name Excel accepts: no []:*?/\\ and at most 31 characters."""
    cleaned = _SHEET_NAME_BAD.sub(" ", text).strip().strip("'") or "Export"
    return cleaned[:31]


# -- money formats ----------------------------------------------------------------------

_SYMBOLS = {
    "CNY": "[$¥-804]",
    "RMB": "[$¥-804]",
    "USD": "[$$-409]",
    "EUR": "[$€-x-euro2] ",
    "GBP": "[$£-809]",
    "HKD": "[$HK$-C04]",
    "SGD": "[$S$-4809]",
    "JPY": "[$¥-411]",
}
_NO_DECIMALS = {"JPY", "KRW", "VND"}


def currency_format(code: str | None) -> str:
    """An Excel number format showing the currency, negatives in red."""
    code = (code or "").upper()
    number = "#,##0" if code in _NO_DECIMALS else "#,##0.00"
    symbol = _SYMBOLS.get(code)
    if symbol is not None:
        return f"{symbol}{number};[Red]-{symbol}{number}"
    if code:
        return f'{number} "{code}";[Red]-{number} "{code}"'
    return f"{number};[Red]-{number}"


# -- the .xlsx writer -------------------------------------------------------------------

ProgressFn = Callable[[int, int], None]


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook, main_currency: str) -> None:
        self.book = book
        self.header = book.add_format(
            {"bold": True, "bg_color": "#E8EEF7", "bottom": 1, "text_wrap": False}
        )
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.integer = book.add_format({"num_format": "0"})
        self.number = book.add_format({"num_format": "#,##0.###"})
        self.text = book.add_format({})
        self.bold = book.add_format({"bold": True, "top": 1})
        self.bold_int = book.add_format({"bold": True, "top": 1, "num_format": "#,##0.###"})
        self.main_currency = main_currency
        self._money: dict[tuple[str, bool], Format] = {}

    def money(self, currency: str | None, bold: bool = False) -> Format:
        key = ((currency or self.main_currency).upper(), bold)
        found = self._money.get(key)
        if found is None:
            spec: dict[str, Any] = {"num_format": currency_format(key[0])}
            if bold:
                spec.update(bold=True, top=1)
            found = self.book.add_format(spec)
            self._money[key] = found
        return found

    def for_column(self, column: Column) -> Format:
        if column.kind == ColumnKind.DATE:
            return self.date
        if column.kind == ColumnKind.MONEY:
            return self.money(None)
        if column.kind == ColumnKind.INTEGER:
            return self.integer
        if column.kind == ColumnKind.NUMBER:
            return self.number
        return self.text


def _cell_width(value: Any, kind: ColumnKind) -> int:
    if value is None:
        return 0
    if kind == ColumnKind.DATE:
        return 10
    if kind == ColumnKind.MONEY and isinstance(value, int | float):
        return len(f"{value:,.2f}") + 2
    return display_width(str(value))


def column_widths(columns: list[Column], sample: list[Row | Subtotal], language: str) -> list[int]:
    widths = [display_width(c.title(language)) + 3 for c in columns]  # +3: the filter arrow
    for row in sample:
        if isinstance(row, Subtotal):
            continue
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _cell_width(value, columns[i].kind))
    return [min(max(w + 1, 6), MAX_WIDTH) for w in widths]


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    return xlsxwriter.Workbook(
        str(path),
        {
            # Rows go straight to a temporary file: memory stays flat however many rows.
            "constant_memory": True,
            # Text is text: never a formula, a link or a number because of how it looks.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )


def write_sheet(book: xlsxwriter.Workbook, sheet: Sheet, progress: ProgressFn | None = None) -> int:
    """Stream one sheet into ``book``; returns the number of data rows written."""
    formats = _Formats(book, sheet.main_currency)
    ws: Worksheet = book.add_worksheet(sheet_name(sheet.name))
    columns = sheet.columns
    ncols = len(columns)
    rows = iter(sheet.rows)
    sample = list(itertools.islice(rows, WIDTH_SAMPLE))
    widths = column_widths(columns, sample, sheet.language)
    col_formats = [formats.for_column(c) for c in columns]
    for i, (width, fmt) in enumerate(zip(widths, col_formats, strict=True)):
        ws.set_column(i, i, width, fmt)

    header_row = 0
    if sheet.title:
        ws.write_string(0, 0, sheet.title, formats.bold)
        header_row = 1
    for i, column in enumerate(columns):
        ws.write_string(header_row, i, column.title(sheet.language), formats.header)
    ws.freeze_panes(header_row + 1, 0)

    money_cols = [i for i, c in enumerate(columns) if c.kind == ColumnKind.MONEY]
    total_cols = [i for i, c in enumerate(columns) if c.total]
    cur_col = sheet.currency_column
    main = sheet.main_currency
    # Sums per currency, for the cached values of the totals row.
    sums: dict[str, list[float]] = {}
    write_row = ws.write_row
    r = header_row
    data_rows = 0
    group_start = header_row + 1
    expected = sheet.expected_rows

    for row in itertools.chain(sample, rows):
        r += 1
        if type(row) is tuple:
            write_row(r, 0, row)
            data_rows += 1
            currency = row[cur_col] if cur_col is not None else main
            acc = sums.get(currency)
            if acc is None:
                acc = sums[currency] = [0.0] * ncols
            for i in total_cols:
                value = row[i]
                if value is not None:
                    acc[i] += value
            if cur_col is not None and currency != main and money_cols:
                # The rare foreign-currency row gets its own money format.
                fmt = formats.money(currency)
                for i in money_cols:
                    if row[i] is not None:
                        ws.write_number(r, i, row[i], fmt)
            if progress is not None and data_rows % PROGRESS_EVERY == 0:
                progress(data_rows, expected)
        else:
            assert isinstance(row, Subtotal)
            _write_subtotal(ws, formats, columns, row, r, group_start, sheet.label_column)
            group_start = r + 1

    last_data = r
    ws.autofilter(header_row, 0, max(last_data, header_row + 1), ncols - 1)
    if total_cols and data_rows:
        _write_totals(ws, formats, sheet, sums, header_row + 1, last_data, r + 1)
    return data_rows


def _write_subtotal(
    ws: Worksheet,
    formats: _Formats,
    columns: list[Column],
    row: Subtotal,
    r: int,
    start: int,
    label_column: int,
) -> None:
    ws.write_string(r, label_column, row.label, formats.bold)
    for i, column in enumerate(columns):
        if i == label_column:
            continue
        if i in row.sums:
            fmt = (
                formats.money(row.currency, True)
                if column.kind == ColumnKind.MONEY
                else (formats.bold_int)
            )
            letter = xl_col_to_name(i)
            # SUBTOTAL(9): ignored by the grand total's SUBTOTAL, so nothing counts twice.
            ws.write_formula(
                r, i, f"=SUBTOTAL(9,{letter}{start + 1}:{letter}{r})", fmt, round(row.sums[i], 6)
            )
        else:
            ws.write_blank(r, i, None, formats.bold)


def _write_totals(
    ws: Worksheet,
    formats: _Formats,
    sheet: Sheet,
    sums: dict[str, list[float]],
    first: int,
    last: int,
    r: int,
) -> None:
    columns = sheet.columns
    total_word = sheet.total_label or ("合计" if sheet.language == "zh" else "Total")
    currencies = sorted(sums, key=lambda c: (c != sheet.main_currency, c))
    several = sheet.currency_column is not None and len(currencies) > 1
    for currency in currencies:
        label = f"{total_word} {currency}" if several else total_word
        ws.write_string(r, sheet.label_column, label, formats.bold)
        for i, column in enumerate(columns):
            if i == sheet.label_column:
                continue
            if not column.total:
                ws.write_blank(r, i, None, formats.bold)
                continue
            letter = xl_col_to_name(i)
            rng = f"{letter}{first + 1}:{letter}{last + 1}"
            if several:
                assert sheet.currency_column is not None
                cur = xl_col_to_name(sheet.currency_column)
                formula = f'=SUMIFS({rng},{cur}{first + 1}:{cur}{last + 1},"{currency}")'
            else:
                # 109: follows the autofilter, so a filtered list shows its own total.
                formula = f"=SUBTOTAL(109,{rng})"
            fmt = (
                formats.money(currency, True)
                if column.kind == ColumnKind.MONEY
                else (formats.bold_int)
            )
            ws.write_formula(r, i, formula, fmt, round(sums[currency][i], 6))
        r += 1


def as_excel_date(value: date | datetime | None) -> date | None:
    """A date for a date column (times dropped: a bookkeeper filters by day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value


def rows_with_progress(
    rows: Iterable[Row], check: Callable[[], None], every: int = 5000
) -> Iterator[Row]:
    """Pass rows through, checking for cancellation now and then."""
    for n, row in enumerate(rows, start=1):
        if n % every == 0:
            check()
        yield row


# -- saving a sheet to a file -----------------------------------------------------------


def write_failure_reason(exc: BaseException) -> str:
    """Why a file could not be written, as the system says it ("Permission denied").

    xlsxwriter reports the system's error of ``close()`` wrapped in its own
    ``FileCreateError``; the reason is the wrapped one.
    """
    if isinstance(exc, FileCreateError) and exc.args and isinstance(exc.args[0], BaseException):
        exc = exc.args[0]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def cannot_write(path: Path, exc: BaseException) -> SmbcrmError:
    """The error for a report or export that cannot be written to ``path``."""
    return SmbcrmError(
        f"Cannot write {path}: {write_failure_reason(exc)}. If the file is open in Excel, "
        "close it; otherwise choose another folder."
    )


@contextlib.contextmanager
def writing_to(path: Path) -> Iterator[None]:
    """Turn a failure to write ``path`` (the system's or xlsxwriter's) into :func:`cannot_write`."""
    try:
        yield
    except (OSError, FileCreateError) as exc:
        raise cannot_write(path, exc) from exc


def check_folder(path: Path) -> None:
    """Refuse a file in a folder that does not exist (before any long work for it)."""
    if not path.parent.is_dir():
        raise SmbcrmError(
            f"Cannot write {path}: the folder {path.parent} does not exist. Choose another folder."
        )


def save_sheet(
    path: Path,
    sheet: Sheet,
    progress: ProgressFn | None = None,
    *,
    encoding: str = "utf-8-sig",
) -> int:
    """Write ``sheet`` to ``path`` as .xlsx or .csv (by its name); returns the data rows.

    The file is written beside the target and renamed into place when complete, so a
    failure leaves neither a half file nor a damaged earlier one. CSV is UTF-8 with a
    byte-order mark unless ``encoding`` says otherwise, so Excel on Chinese Windows reads it.
    """
    # Imported here: the CSV writer builds on this module.
    from smbcrm.services.export.csv_writer import write_csv

    suffix = path.suffix.lower()
    if suffix not in FILE_TYPES:
        raise SmbcrmError(
            f"Cannot write {path}: smbcrm writes .xlsx (Excel) or .csv files; end the file "
            "name with one of those."
        )
    check_folder(path)
    temp = path.parent / f".{path.stem}.{secrets.token_hex(4)}{suffix}.part"
    try:
        with writing_to(path):
            if suffix == ".csv":
                rows = write_csv(temp, sheet, encoding, progress)
            else:
                rows = save_workbook(temp, sheet, progress)
            os.replace(temp, path)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
    return rows


def save_workbook(path: Path, sheet: Sheet, progress: ProgressFn | None) -> int:
    """Write ``sheet`` as an .xlsx at ``path`` (a temporary name the caller renames)."""
    book = new_workbook(path)
    try:
        rows = write_sheet(book, sheet, progress)
    except BaseException:
        # Closing also removes xlsxwriter's own temporary row files.
        with contextlib.suppress(Exception):
            book.close()
        raise
    book.close()
    return rows
