"""CSV exports: UTF-8 with a BOM by default (Excel then opens Chinese correctly), GBK on request.

CSV holds data only: one header row and the rows (statement subtotals included, as rows
whose label says "Subtotal"), no grand-total row, so automation can read it as it is.
Dates are written ``YYYY-MM-DD`` and amounts as plain numbers with two decimals.

Text that a spreadsheet would run as a formula (starting with = + - @, tab or CR), column
titles included, gets a leading single quote, as OWASP recommends against CSV injection;
the reader drops that quote again, so an exported file re-imports unchanged.

GBK: a character GBK cannot hold is an error naming the row and column (nothing is
written); we chose this over a replacement marker because a silently changed name would
no longer match on re-import.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from smbcrm.errors import SmbcrmError
from smbcrm.services.export.workbook import (
    PROGRESS_EVERY,
    ColumnKind,
    Sheet,
    Subtotal,
    neutralise_csv_text,
)

# What the guard quote goes before; a value that already starts with quotes before one of
# these ("'=…") gets one more, so the reader, which drops one, gives it back as it was.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ENCODINGS = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "gbk": "gbk", "gb18030": "gb18030"}


class EncodingProblem(SmbcrmError):
    """A character the chosen encoding cannot hold."""


def csv_encoding(name: str | None) -> str:
    key = (name or "utf-8").strip().lower().replace("_", "-")
    if key in ("utf8", "utf8-sig"):
        key = key.replace("utf8", "utf-8")
    if key not in ENCODINGS:
        raise SmbcrmError(
            f"'{name}' is not an encoding smbcrm writes; choose utf-8 (the default) or gbk."
        )
    return ENCODINGS[key]


def _cell(value: Any, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if kind == ColumnKind.MONEY:
        return f"{value:.2f}"
    if kind == ColumnKind.DATE and isinstance(value, date):
        return value.isoformat()
    if kind in (ColumnKind.INTEGER, ColumnKind.NUMBER):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return _guarded(str(value))


def _guarded(text: str) -> str:
    if text.startswith("'") and text.lstrip("'").startswith(_FORMULA_STARTS):
        return "'" + text
    return neutralise_csv_text(text)


def write_csv(
    path: Path, sheet: Sheet, encoding: str, progress: Callable[[int, int], None] | None = None
) -> int:
    """Write ``sheet`` to ``path``; returns the number of data rows."""
    kinds = [c.kind for c in sheet.columns]
    titles = [c.title(sheet.language) for c in sheet.columns]
    line = 1
    data_rows = 0
    with path.open("w", encoding=encoding, newline="", errors="strict") as handle:
        writer = csv.writer(handle)
        # Titles are neutralised too: the problems export uses the imported file's headers.
        cells: list[str] = [_guarded(title) for title in titles]
        try:
            writer.writerow(cells)
            for row in sheet.rows:
                line += 1
                if isinstance(row, Subtotal):
                    cells = [""] * len(kinds)
                    cells[sheet.label_column] = _guarded(row.label)
                    for i, value in row.sums.items():
                        cells[i] = _cell(value, kinds[i])
                else:
                    cells = [_cell(v, k) for v, k in zip(row, kinds, strict=True)]
                    data_rows += 1
                writer.writerow(cells)
                if progress is not None and data_rows % PROGRESS_EVERY == 0:
                    progress(data_rows, sheet.expected_rows)
        except UnicodeEncodeError as exc:
            raise _encoding_problem(exc, cells, titles, line, encoding) from None
    return data_rows


def _encoding_problem(
    exc: UnicodeEncodeError, cells: list[str], titles: list[str], line: int, encoding: str
) -> EncodingProblem:
    bad = exc.object[exc.start : exc.end]
    column = next((titles[i] for i, c in enumerate(cells) if bad in c), "?")
    return EncodingProblem(
        f"Row {line}, column '{column}': '{bad}' cannot be written in {encoding.upper()}. "
        "Export as UTF-8 (the default, which Excel opens correctly) or as .xlsx, "
        "or change that text."
    )
