"""Reading any spreadsheet a small business has into one clean table.

Workbooks (.xlsx/.xlsm/.xlsb/.xls/.ods) are read with python-calamine, CSV and text
exports with the csv module after detecting their encoding and delimiter, and web pages
saved with a spreadsheet name (the HTML table many systems export as ".xls") by a small
table reader. The file type is decided by the bytes, not the name, because people rename
files. Above the header there may be titles, notes, an export date and blank rows; below
the data a totals row. Both are recognised and left out, so ``Table.rows`` holds records
only.

Every problem is a ``ReadError`` whose message names the file (and sheet), says what is
wrong and how to fix it; Excel error cells (#N/A, #REF! …, in any of those formats, and as
the bare code Excel writes into a CSV file) do not stop the file but are listed in
``Table.cell_errors`` so each row can report its own. Nothing here knows about Qt or the
database.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import html
import io
import math
import posixpath
import re
import struct
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Literal, cast
from xml.etree import ElementTree

import python_calamine as calamine

from smbcrm.errors import SmbcrmError
from smbcrm.services.collector import collector_paused

__all__ = [
    "MAX_BYTES",
    "MAX_UNZIPPED_BYTES",
    "CellError",
    "ReadError",
    "SheetInfo",
    "Table",
    "list_sheets",
    "read_table",
]

MAX_BYTES = 200 * 1024 * 1024
# Zip-bomb guards, checked on the archive directory before any XML is expanded.
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024

# The header is looked for among the first rows only: far enough for a long block of
# notes above an export, near enough to stay cheap on any sheet.
HEADER_SCAN_ROWS = 200
_NEAR_TOP_ROWS = 30  # when nothing else tells candidates apart, a row this near the top wins
_FOLLOW_ROWS = 5  # rows after a header candidate that should mostly hold data
_SAMPLE_BYTES = 64 * 1024  # CSV encoding/delimiter detection sample
_XML_TAIL_BYTES = 256 * 1024  # end of a sheet's XML kept to look at its last row's formulas

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

# What a non-spreadsheet file most likely is, for the message (by its first bytes).
_KNOWN_BINARIES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a bitmap image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"SQLite format 3\x00", "a database file"),
    (b"{\\rtf", "an RTF document"),
)

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (b"\xff\xfe\x00\x00", "utf-32-le", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

_TOTAL_LABEL_RE = re.compile(
    r"^(?:合计|合計|总计|總計|小计|小計|共计|共計|总合计|總合計|"
    r"total|totals|grandtotal|subtotal|sum)(?:[:：].*)?$"
)
_META_LINE_RE = re.compile(r"^[^:：\d]{1,20}[:：]")  # "导出日期：2024-03-01", "Exported:"
_SPACE_RUN_RE = re.compile(r"\s+")
_WORKBOOK_PART_RE = re.compile(r"^xl/[^/]*workbook[^/]*\.(?:xml|bin)$", re.I)
_SHEET_FORMULA_RE = re.compile(rb"<(?:\w+:)?f\b[^>]*>[^<]*\b(?:SUM|SUBTOTAL|AGGREGATE)\s*\(", re.I)
# A sheet's used range, e.g. <dimension ref="A1:H100001"/>: first column and row, then last.
_DIMENSION_RE = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")
# The reader builds the whole used range as a grid in memory: a stray value typed far away
# (cell XFD1048576) would ask for hundreds of gigabytes and end the program outright.
MAX_SHEET_CELLS = 10_000_000

HeaderHint = Callable[[list[str]], int]
# "xlsx" is any Office Open XML workbook (.xlsx/.xlsm/.xlsb); "html" a web page table.
_Kind = Literal["xlsx", "ods", "ole", "text", "html"]


class ReadError(SmbcrmError):
    """A file that cannot be read as a table; the message says what, where and how to fix."""


@dataclass(frozen=True)
class SheetInfo:
    name: str
    rows: int | None  # rows in the sheet (title and header included) when cheap to know


@dataclass(frozen=True)
class CellError:
    """A cell of a data row that holds an Excel error (#N/A, #REF! …) instead of a value."""

    row: int  # 1-based file row, as in ``Table.row_numbers``
    column: int  # index into ``Table.header``
    cell: str  # where Excel shows it, e.g. "C5"
    code: str  # "#REF!"

    @property
    def message(self) -> str:
        return f"{self.cell} holds {self.code}, an Excel error"

    @property
    def hint(self) -> str:
        return "Fix the formula or type the value."


@dataclass
class Table:
    path: Path
    sheet: str | None
    header: list[str]
    header_row: int  # 1-based file row of the header
    rows: list[list[object]]
    row_numbers: list[int]  # 1-based file row of each data row
    encoding: str | None  # CSV and web pages only
    delimiter: str | None  # CSV only
    skipped_totals_row: int | None  # file row of the totals row left out
    # Excel error values (#N/A, #REF! …) in data rows, read as blank cells in ``rows``.
    cell_errors: list[CellError] = field(default_factory=list)


# --------------------------------------------------------------------------- public API


def list_sheets(
    path: Path,
    *,
    max_bytes: int = MAX_BYTES,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
) -> list[SheetInfo]:
    """The worksheets a person can choose from; a CSV file or a web page is one sheet named
    after the file."""
    path = Path(path)
    kind = _inspect(path, max_bytes, max_unzipped_bytes)
    if kind in ("text", "html"):
        return [SheetInfo(path.stem, None)]
    workbook = _open_workbook(path)
    try:
        names = _worksheet_names(workbook)
    finally:
        workbook.close()
    counts = _xlsx_row_counts(path) if kind == "xlsx" else {}
    return [SheetInfo(name, counts.get(name)) for name in names]


def read_table(
    path: Path,
    sheet: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    header_hint: HeaderHint | None = None,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
) -> Table:
    """Read one sheet (the first with data when ``sheet`` is None) as header + records.

    ``header_hint(cells)`` scores a candidate header row (its cleaned texts, "" for blank
    cells), e.g. by how many cells name a known column; the best score wins, and without
    a hint the row that starts the table and has the most text cells. ``max_bytes`` and
    ``max_unzipped_bytes`` bound the file and, for .xlsx, what its zip would expand to.
    """
    path = Path(path)
    kind = _inspect(path, max_bytes, max_unzipped_bytes)
    with collector_paused():
        if kind == "text":
            return _read_csv(path, header_hint)
        if kind == "html":
            return _read_html(path, header_hint)
        return _read_workbook(path, sheet, header_hint, kind)


# --------------------------------------------------------------------------- file checks


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def _inspect(path: Path, max_bytes: int, max_unzipped_bytes: int) -> _Kind:
    """Check size and kind by content; raise ReadError for anything that is not a table."""
    name = path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(_SAMPLE_BYTES)
    except FileNotFoundError:
        raise ReadError(f"'{path}' does not exist; check the folder and file name.") from None
    except IsADirectoryError:
        raise ReadError(f"'{path}' is a folder, not a file; choose a spreadsheet file.") from None
    except OSError as exc:
        raise ReadError(
            f"'{name}' cannot be opened ({exc.strerror or exc}); close it in Excel or any "
            "other program that may be using it, check you may read it, and try again."
        ) from None
    if size > max_bytes:
        raise ReadError(
            f"'{name}' is {_size_text(size)}; smbcrm reads files up to {_size_text(max_bytes)}: "
            "split it into smaller files (for example by year or by region) and import them "
            "one after another."
        )
    if not head:
        raise ReadError(f"'{name}' is empty (0 bytes); choose the file that holds the list.")
    if head.startswith(_ZIP_MAGICS):
        return _check_zip(path, size, max_unzipped_bytes)
    if head.startswith(_OLE_MAGIC):
        _check_ole(path)
        return "ole"
    binary = _looks_binary(head)
    for magic, what in _KNOWN_BINARIES:
        # Two- and three-byte magics ("BM", "MZ") also start text lines such as "BMW,…".
        if head.startswith(magic) and (len(magic) >= 4 or binary):
            raise _not_a_spreadsheet(name, what)
    markup = _markup_kind(head)
    if markup == "html":
        return "html"
    if markup == "xml":
        raise ReadError(
            f"'{name}' is a web page or XML file saved with a spreadsheet name (some systems "
            "export like that); open it in Excel, then File → Save As → Excel Workbook (.xlsx) "
            "and import the saved file."
        )
    if binary:
        raise _not_a_spreadsheet(name, None)
    return "text"


def _not_a_spreadsheet(name: str, what: str | None) -> ReadError:
    looks = f" (it looks like {what})" if what else ""
    return ReadError(
        f"'{name}' is not an Excel or CSV file{looks}; save it from Excel as .xlsx or .csv "
        "and choose that file."
    )


# Blank lines, comments and an XML declaration may come before a page's first tag.
_MARKUP_PROLOG_RE = re.compile(r"(?:\s+|<!--.*?-->|<\?xml[^>]*>)*", re.S)
_HTML_STARTS = ("<html", "<!doctype html", "<table", "<meta", "<head", "<body", "<style", "<title")


def _markup_kind(head: bytes) -> Literal["html", "xml"] | None:
    """A web page (many systems export an HTML table named .xls) or another XML file."""
    bom = _bom_encoding(head[:4])
    codec = bom[0] if bom else _bomless_utf16(head) or "latin-1"
    text = head[:8192].decode(codec, "replace").lstrip("\ufeff")
    prolog = _MARKUP_PROLOG_RE.match(text)
    declared_xml = prolog is not None and "<?xml" in prolog.group()
    rest = text[prolog.end() if prolog else 0 :][:200].lower()
    if rest.startswith(_HTML_STARTS):
        return "html"
    if rest.startswith("<") and (declared_xml or "<workbook" in rest):
        return "xml"
    return None


def _bom_encoding(head: bytes) -> tuple[str, str] | None:
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            return codec, label
    return None


def _bomless_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII text then has a NUL in every other byte."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nuls, odd_nuls = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _looks_binary(head: bytes) -> bool:
    if _bom_encoding(head) or _bomless_utf16(head):
        return False
    # Control bytes other than tab/newline/form feed/EOF are rare in text, common elsewhere.
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13, 26, 27))
    return controls > max(4, len(head) // 50)


def _check_zip(path: Path, size: int, max_unzipped_bytes: int) -> Literal["xlsx", "ods"]:
    """An Excel (or OpenDocument) workbook, and one that expands to a sane size."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            mimetype = archive.read("mimetype")[:200] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _damaged(name, exc) from None
    is_excel = any(_WORKBOOK_PART_RE.match(n) for n in names)
    if not is_excel and b"opendocument.spreadsheet" not in mimetype:
        if "word/document.xml" in names or b"opendocument.text" in mimetype:
            what = "a Word document"
        elif any(n.startswith("ppt/") for n in names) or b"opendocument.presentation" in mimetype:
            what = "a PowerPoint presentation"
        else:
            what = "a zip archive"
        raise _not_a_spreadsheet(name, what)
    total = sum(m.file_size for m in members)
    inflated = any(
        m.file_size > RATIO_CHECK_MIN_BYTES
        and m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1)
        for m in members
    )
    if total > max_unzipped_bytes or inflated:
        raise ReadError(
            f"'{name}' cannot be read safely: its contents would expand from "
            f"{_size_text(size)} to {_size_text(total)}, far more than a real spreadsheet of "
            "that size. It is damaged or was built to exhaust memory; open it in Excel and save "
            "it again, or ask whoever sent it for the original file."
        )
    return "xlsx" if is_excel else "ods"


def _damaged(name: str, exc: BaseException | None = None, sheet: str | None = None) -> ReadError:
    where = f"'{name}' sheet '{sheet}'" if sheet else f"'{name}'"
    detail = f" ({str(exc).strip()[:200]})" if exc is not None and str(exc).strip() else ""
    return ReadError(
        f"{where} cannot be read: the file is damaged or incomplete{detail}. If it was "
        "downloaded or copied, do that again; otherwise open it in Excel and save it again."
    )


def _too_big_for_memory(name: str) -> ReadError:
    return ReadError(
        f"'{name}' is too large to read with the memory this computer has free; close other "
        "programs, or split it into smaller files and import them one after another."
    )


def _password_error(name: str) -> ReadError:
    return ReadError(
        f"'{name}' is protected with a password; open it in Excel, remove the password "
        "(File → Info → Protect Workbook → Encrypt with Password, clear it) and save it again."
    )


def _check_ole(path: Path) -> None:
    """Old .xls files and password-protected .xlsx files are both OLE compound files."""
    names = _ole_stream_names(path)
    if names is None:  # directory unreadable: fall back to looking for the stream name
        marker = "EncryptionInfo".encode("utf-16-le")
        with path.open("rb") as handle:
            head = handle.read(_SAMPLE_BYTES)
            handle.seek(max(0, path.stat().st_size - _SAMPLE_BYTES))
            tail = handle.read()
        if marker in head or marker in tail:
            raise _password_error(path.name)
        return
    if "EncryptionInfo" in names or "EncryptedPackage" in names:
        raise _password_error(path.name)
    if "WordDocument" in names:
        raise _not_a_spreadsheet(path.name, "an old Word document")
    if "PowerPoint Document" in names:
        raise _not_a_spreadsheet(path.name, "an old PowerPoint presentation")


def _ole_stream_names(path: Path) -> set[str] | None:
    """Names in a compound file's directory (MS-CFB), or None if it cannot be walked."""
    try:
        with path.open("rb") as handle:
            return {entry.name for entry in _CompoundFile(handle).entries}
    except (OSError, struct.error, ValueError, IndexError):
        return None


_END_OF_CHAIN = 0xFFFFFFFA  # sector numbers from here up mark an end, a free or a FAT sector


@dataclass(frozen=True)
class _OleEntry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    start: int  # first sector (or mini sector)
    size: int


class _CompoundFile:
    """Just enough of an OLE compound file (MS-CFB) to list its streams and read one.

    Raises ``ValueError`` (or ``struct.error``/``IndexError``) on anything malformed; every
    chain is bounded by the file's sector count, so a looping chain cannot hang the reader.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        header = handle.read(512)
        self._sector_size = 1 << struct.unpack_from("<H", header, 30)[0]
        if self._sector_size not in (512, 4096):
            raise ValueError("unknown sector size")
        self._mini_sector_size = 1 << struct.unpack_from("<H", header, 32)[0]
        fat_count, first_dir = struct.unpack_from("<II", header, 44)
        self._mini_cutoff = struct.unpack_from("<I", header, 56)[0]
        self._first_minifat = struct.unpack_from("<I", header, 60)[0]
        first_difat, difat_count = struct.unpack_from("<II", header, 68)
        per_sector = self._sector_size // 4
        fat_sectors = list(struct.unpack_from("<109I", header, 76))
        sid = first_difat
        for _ in range(min(difat_count, 10_000)):
            if sid >= _END_OF_CHAIN:
                break
            numbers = struct.unpack(f"<{per_sector}I", self._sector(sid))
            fat_sectors.extend(numbers[:-1])
            sid = numbers[-1]
        self._fat: list[int] = []
        for fat_sid in fat_sectors[:fat_count]:
            self._fat.extend(struct.unpack(f"<{per_sector}I", self._sector(fat_sid)))
        self.entries = self._directory(first_dir)

    def _sector(self, sid: int) -> bytes:
        self._handle.seek((sid + 1) * self._sector_size)
        data = self._handle.read(self._sector_size)
        if len(data) != self._sector_size:
            raise ValueError("short sector")
        return data

    def _chain(self, start: int, table: list[int]) -> list[int]:
        chain: list[int] = []
        sid = start
        while sid < _END_OF_CHAIN:
            if sid >= len(table) or len(chain) >= len(table):
                raise ValueError("broken sector chain")
            chain.append(sid)
            sid = table[sid]
        return chain

    def _directory(self, first_dir: int) -> list[_OleEntry]:
        entries: list[_OleEntry] = []
        for sid in self._chain(first_dir, self._fat):
            data = self._sector(sid)
            for offset in range(0, self._sector_size, 128):
                entry = data[offset : offset + 128]
                length = struct.unpack_from("<H", entry, 64)[0]
                if entry[66] == 0 or not 2 <= length <= 64:
                    continue
                start, size = struct.unpack_from("<IQ", entry, 116)
                if self._sector_size == 512:
                    size &= 0xFFFFFFFF  # version 3 files may leave the high half unset
                name = entry[: length - 2].decode("utf-16-le", "replace")
                entries.append(_OleEntry(name, entry[66], start, size))
        return entries

    def read_stream(self, name: str) -> bytes | None:
        # Names in a compound file compare without regard to case.
        wanted = name.casefold()
        entry = next((e for e in self.entries if e.kind == 2 and e.name.casefold() == wanted), None)
        if entry is None:
            return None
        if entry.size >= self._mini_cutoff:
            chain = self._chain(entry.start, self._fat)
            return b"".join(self._sector(sid) for sid in chain)[: entry.size]
        # Small streams live in the mini stream, which the root entry's chain holds.
        root = next(e for e in self.entries if e.kind == 5)
        mini_stream = b"".join(self._sector(sid) for sid in self._chain(root.start, self._fat))
        per_sector = self._sector_size // 4
        minifat: list[int] = []
        for sid in self._chain(self._first_minifat, self._fat):
            minifat.extend(struct.unpack(f"<{per_sector}I", self._sector(sid)))
        size = self._mini_sector_size
        chain = self._chain(entry.start, minifat)
        return b"".join(mini_stream[m * size : (m + 1) * size] for m in chain)[: entry.size]


# --------------------------------------------------------------------------- workbooks


def _open_workbook(path: Path) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise _password_error(path.name) from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        raise _too_big_for_memory(path.name) from None
    except BaseException as exc:  # calamine raises its own errors and Rust panics on junk
        raise _damaged(path.name, exc) from None


def _worksheet_names(workbook: calamine.CalamineWorkbook) -> list[str]:
    """Worksheets in workbook order; chart and macro sheets hold no table."""
    try:
        return [
            meta.name
            for meta in workbook.sheets_metadata
            if meta.typ == calamine.SheetTypeEnum.WorkSheet
        ]
    except Exception:  # pragma: no cover - metadata unsupported by an odd format
        return list(workbook.sheet_names)


def _visible_names(workbook: calamine.CalamineWorkbook) -> list[str]:
    try:
        return [
            meta.name
            for meta in workbook.sheets_metadata
            if meta.typ == calamine.SheetTypeEnum.WorkSheet
            and meta.visible == calamine.SheetVisibleEnum.Visible
        ]
    except Exception:  # pragma: no cover
        return list(workbook.sheet_names)


@dataclass
class _Sheet:
    """One worksheet as calamine gives it, placed on the sheet."""

    name: str
    rows: list[list[object]]
    first_row: int  # 0-based sheet row of rows[0]
    first_column: int  # 0-based sheet column of rows[i][0]
    merged: list[tuple[tuple[int, int], tuple[int, int]]]  # 0-based sheet (row, column) corners


def _load_sheet(workbook: calamine.CalamineWorkbook, path: Path, sheet: str) -> _Sheet:
    try:
        data = workbook.get_sheet_by_name(sheet)
        rows = cast("list[list[object]]", data.to_python())
        start = data.start or (0, 0)
        merged = data.merged_cell_ranges or []
    except calamine.PasswordError:
        raise _password_error(path.name) from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        raise _too_big_for_memory(path.name) from None
    except BaseException as exc:  # calamine errors and panics on malformed sheets
        raise _damaged(path.name, exc, sheet) from None
    return _Sheet(sheet, rows, start[0], start[1], merged)


def _read_workbook(
    path: Path, sheet: str | None, header_hint: HeaderHint | None, kind: _Kind
) -> Table:
    workbook = _open_workbook(path)
    try:
        names = _worksheet_names(workbook)
        if not names:
            raise ReadError(f"'{path.name}' has no worksheets; open it in Excel and check it.")
        heads = _sheet_heads(path) if kind == "xlsx" else {}
        if sheet is not None and sheet not in names:
            listed = ", ".join(f"'{n}'" for n in names)
            raise ReadError(
                f"'{path.name}' has no sheet named '{sheet}'; its sheets are {listed}. "
                "Choose one of those."
            )
        if sheet is None:
            loaded = _choose_sheet(workbook, path, heads, header_hint)
        else:
            _check_extent(path, sheet, heads.get(sheet))
            loaded = _load_sheet(workbook, path, sheet)
    finally:
        workbook.close()
    sheet = loaded.name
    if not _has_content(loaded.rows):
        others = [n for n in names if n != sheet]
        listed = ", ".join(f"'{n}'" for n in others)
        also = f" The other sheets are {listed}." if others else ""
        raise ReadError(
            f"'{path.name}' sheet '{sheet}' has no rows; choose the sheet that holds the list "
            f"or fill this one and save it.{also}"
        )
    if kind == "xlsx":
        scan = _scan_sheet_xml(path, sheet)
    elif kind == "ods":
        height = loaded.first_row + len(loaded.rows)
        width = loaded.first_column + max(map(len, loaded.rows), default=0)
        scan = _SheetScan(_ods_error_cells(path, sheet, height, width), b"")
    else:
        scan = _SheetScan(_xls_error_cells(path, sheet), b"")
    table = _build_table(
        loaded.rows,
        loaded.first_row,
        header_hint,
        path=path,
        sheet=sheet,
        encoding=None,
        delimiter=None,
        merged=[
            (top - loaded.first_row, left - loaded.first_column, bottom - loaded.first_row)
            for (top, left), (bottom, _) in loaded.merged
        ],
        errors={
            (row - loaded.first_row, column - loaded.first_column): found
            for (row, column), found in scan.errors.items()
        },
    )
    _drop_totals_row(table, typed=True, formula_check=_formula_checker(scan.tail))
    return table


def _choose_sheet(
    workbook: calamine.CalamineWorkbook,
    path: Path,
    heads: dict[str, bytes],
    header_hint: HeaderHint | None,
) -> _Sheet:
    """The first visible sheet that holds a list; hidden sheets are lookup lists, and a
    sheet of notes in front of the list ("说明", "Read me") is passed over."""
    candidates = _visible_names(workbook) or _worksheet_names(workbook)
    first_with_content: _Sheet | None = None
    for name in candidates:
        _check_extent(path, name, heads.get(name))
        loaded = _load_sheet(workbook, path, name)
        if not _has_content(loaded.rows):
            continue
        if not _is_notes_sheet(loaded.rows, header_hint):
            return loaded
        if first_with_content is None:
            first_with_content = loaded
    return first_with_content or _Sheet(candidates[0], [], 0, 0, [])


def _is_notes_sheet(raw: list[list[object]], header_hint: HeaderHint | None) -> bool:
    """Lines of text in one column, none naming a known column: notes, not a list."""
    head = [_clean_row(r) for r in raw[: HEADER_SCAN_ROWS + _FOLLOW_ROWS]]
    if any(len(cells) - cells.count(None) >= 2 for cells in head):
        return False
    return not (header_hint and any(header_hint([_header_text(v) for v in r]) for r in head))


def _has_content(raw: list[list[object]]) -> bool:
    for row in raw:
        for value in row:
            if value is not None and (not isinstance(value, str) or value.strip()):
                return True
    return False


def _xml_member_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → worksheet XML member of an .xlsx/.xlsm archive."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets: dict[str, str] = {}
    for rel in rels.iter():
        if rel.tag.rsplit("}", 1)[-1] == "Relationship":
            target = rel.get("Target", "")
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id", "")] = posixpath.normpath(member)
    members: dict[str, str] = {}
    for element in book.iter():
        if element.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if k.rsplit("}", 1)[-1] == "id"), "")
        if rid in targets:
            members[element.get("name", "")] = targets[rid]
    return members


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_extent(path: Path, sheet: str, head: bytes | None) -> None:
    """Refuse a sheet whose used range is too large to build, before the reader tries."""
    found = _DIMENSION_RE.search(head) if head else None
    if found is None or found.group(3) is None:
        return
    rows = int(found.group(4)) - int(found.group(2)) + 1
    columns = _column_number(found.group(3)) - _column_number(found.group(1)) + 1
    if rows * columns > MAX_SHEET_CELLS:
        corner = (found.group(3) + found.group(4)).decode()
        raise ReadError(
            f"'{path.name}' sheet '{sheet}' reaches cell {corner}: something was typed "
            f"far beyond the list, so the sheet spans {rows:,} rows × {columns:,} "
            "columns, too many to read. In Excel, delete the rows and columns after "
            "your data (or copy the list into a new workbook), save it and import again."
        )


def _sheet_heads(path: Path) -> dict[str, bytes]:
    """The first bytes of each sheet's XML, where its <dimension> sits."""
    heads: dict[str, bytes] = {}
    with (
        contextlib.suppress(zipfile.BadZipFile, OSError, KeyError, ValueError),
        zipfile.ZipFile(path) as archive,
    ):
        for name, member in _xml_member_names(archive).items():
            with archive.open(member) as handle:
                heads[name] = handle.read(4096)
    return heads


def _xlsx_row_counts(path: Path) -> dict[str, int]:
    """Row counts from each sheet's <dimension>."""
    counts: dict[str, int] = {}
    for name, head in _sheet_heads(path).items():
        found = _DIMENSION_RE.search(head)
        if found and found.group(4):
            counts[name] = int(found.group(4))
        elif b"<sheetData/>" in head:
            counts[name] = 0
    return counts


@dataclass(frozen=True)
class _SheetScan:
    errors: dict[tuple[int, int], tuple[str, str]]  # 0-based (row, column) → ("C5", "#REF!")
    tail: bytes  # the end of the sheet XML, where a totals row's formulas are


# Excel, LibreOffice and the libraries that write .xlsx all quote attributes with ".
_ERROR_MARK = b't="e"'
# An error cell with its value; a self-closing one (no value) is left alone.
_ERROR_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?\bt=\"e\"[^>/]*)>(.*?)</(?:\w+:)?c>", re.S)
_CELL_REF_RE = re.compile(rb"\br=\"([A-Z]{1,3})(\d+)\"")
_CELL_VALUE_RE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _scan_sheet_xml(path: Path, sheet: str) -> _SheetScan:
    """Error cells (#N/A, #REF! …) and the tail of an .xlsx sheet, in one pass over its XML.

    calamine reads an error cell as blank, and what it holds is only in the XML; the XML is
    streamed (inflate only, no XML parsing) and parsed only around an error mark, so a
    sheet without errors costs one inflate and one byte search.
    """
    errors: dict[tuple[int, int], tuple[str, str]] = {}
    tail = b""
    with (
        contextlib.suppress(zipfile.BadZipFile, OSError, KeyError, ValueError),
        zipfile.ZipFile(path) as archive,
    ):
        member = _xml_member_names(archive).get(sheet)
        if member is None or not member.endswith(".xml"):
            return _SheetScan(errors, tail)
        mark = _ERROR_MARK
        previous = b""
        pending = False  # the unfinished row at the end of ``previous`` holds an error mark
        with archive.open(member) as handle:
            while chunk := handle.read(1024 * 1024):
                tail = (tail + chunk if len(chunk) < _XML_TAIL_BYTES else chunk)[-_XML_TAIL_BYTES:]
                if pending or mark in chunk or mark in previous[-8:] + chunk[:8]:
                    # Whole rows only: the unfinished row of the last chunk, this chunk's
                    # rows, and what is left over waits for the next chunk.
                    buffer = previous[_after_last_row(previous) :] + chunk
                    cut = _after_last_row(buffer)
                    _collect_error_cells(buffer[:cut], errors)
                    pending = mark in buffer[cut:]
                previous = chunk
        if pending:
            _collect_error_cells(previous[_after_last_row(previous) :], errors)
    return _SheetScan(errors, tail)


def _after_last_row(xml: bytes) -> int:
    """Where the last complete row of a piece of sheet XML ends (0: none ends in it)."""
    end = xml.rfind(b"row>")
    return end + 4 if end >= 0 else 0


def _collect_error_cells(xml: bytes, errors: dict[tuple[int, int], tuple[str, str]]) -> None:
    for cell in _ERROR_CELL_RE.finditer(xml):
        ref = _CELL_REF_RE.search(cell.group(1))
        if ref is None:
            continue  # a cell without its address cannot be named in a message
        value = _CELL_VALUE_RE.search(cell.group(2))
        code = value.group(1).decode("utf-8", "replace").strip() if value else ""
        place = (int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1)
        errors[place] = ((ref.group(1) + ref.group(2)).decode(), code or "#VALUE!")


def _formula_checker(tail: bytes) -> Callable[[int], bool] | None:
    """For .xlsx/.xlsm: a test of whether a file row holds SUM-like formulas.

    calamine gives values only, and parsing the whole sheet again with openpyxl would cost
    more than reading it; so the tail of the sheet XML kept by :func:`_scan_sheet_xml` is
    searched, and only when the last row looks like numbers without text.
    """
    if not tail:
        return None

    def check(file_row: int) -> bool:
        row = re.search(
            rb"<(?:\w+:)?row\b[^>]*\br=\"%d\"[^>]*>(.*?)</(?:\w+:)?row>" % file_row, tail, re.S
        )
        return bool(row and _SHEET_FORMULA_RE.search(row.group(1)))

    return check


def _cell_name(row: int, column: int) -> str:
    """Where Excel shows a 0-based (row, column), e.g. (4, 2) → "C5"."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


# Error values as .xls stores them (BIFF8 error codes).
_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
    0x2B: "#GETTING_DATA",
}
_BIFF_CODE = b"[\x00\x07\x0f\x17\x1d\x24\x2a\x2b]"
# The bytes of a typed error (a BOOLERR record flagged as an error) or of a formula whose
# saved result is an error (a FORMULA record's value: 02, code, FFFF). A workbook without
# either has no error cells, and its records need not be walked.
_BIFF_ERROR_BYTES_RE = re.compile(
    rb"\x05\x02\x08\x00.{6}%s\x01|\x02\x00%s\x00\x00\x00\xff\xff" % (_BIFF_CODE, _BIFF_CODE), re.S
)
_BIFF_BOF, _BIFF_EOF, _BIFF_BOUNDSHEET = 0x0809, 0x000A, 0x0085
_BIFF_FORMULA, _BIFF_BOOLERR = 0x0006, 0x0205


def _xls_error_cells(path: Path, sheet: str) -> dict[tuple[int, int], tuple[str, str]]:
    """Error cells (#N/A, #REF! …) of an .xls sheet: 0-based (row, column) → ("C5", "#REF!").

    calamine reads them as blank cells. Their codes are in the sheet's BIFF records, which
    are walked only when the workbook's bytes hold an error value at all.
    """
    try:
        with path.open("rb") as handle:
            stream = _CompoundFile(handle).read_stream("Workbook")
        if stream is None or _BIFF_ERROR_BYTES_RE.search(stream) is None:
            return {}
        start = _biff_sheet_start(stream, sheet)
        return {} if start is None else _biff_error_cells(stream, start)
    except (OSError, struct.error, ValueError, IndexError, StopIteration):
        return {}


def _biff_sheet_start(stream: bytes, sheet: str) -> int | None:
    """Where a sheet's records begin, from the workbook globals' sheet list (BOUNDSHEET)."""
    position = 0
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        if kind == _BIFF_EOF:
            return None
        if kind == _BIFF_BOUNDSHEET and length >= 8:
            start, count, wide = struct.unpack_from("<I2xBB", stream, body)
            text = stream[body + 8 : body + 8 + (2 * count if wide & 1 else count)]
            name = text.decode("utf-16-le" if wide & 1 else "latin-1", "replace")
            if name == sheet:
                return int(start)
        position = body + length
    return None


def _biff_error_cells(stream: bytes, start: int) -> dict[tuple[int, int], tuple[str, str]]:
    errors: dict[tuple[int, int], tuple[str, str]] = {}
    position, depth, size = start, 0, len(stream)
    unpack = struct.unpack_from
    while position + 4 <= size:
        kind, length = unpack("<HH", stream, position)
        body = position + 4
        position = body + length
        code: int | None = None
        if kind == _BIFF_BOF:
            depth += 1  # a chart embedded in the sheet has its own BOF … EOF
        elif kind == _BIFF_EOF:
            depth -= 1
            if depth <= 0:
                break
        elif depth != 1:
            continue
        elif kind == _BIFF_BOOLERR and length >= 8 and stream[body + 7] == 1:
            code = stream[body + 6]
        elif (
            kind == _BIFF_FORMULA
            and length >= 14
            and stream[body + 6] == 2
            and stream[body + 12 : body + 14] == b"\xff\xff"
        ):
            code = stream[body + 8]
        if code is not None:
            row, column = unpack("<HH", stream, body)
            errors[(row, column)] = (_cell_name(row, column), _BIFF_ERRORS.get(code, "#VALUE!"))
    return errors


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_ODS_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_ODS_ERROR_MARK = b'value-type="error"'


def _ods_error_cells(
    path: Path, sheet: str, rows: int, columns: int
) -> dict[tuple[int, int], tuple[str, str]]:
    """Error cells of an .ods sheet: 0-based (row, column) → ("C5", "#DIV/0!").

    calamine reads them as blank (or as the number 0). LibreOffice marks them with
    ``calcext:value-type="error"`` and shows the error as the cell's text; content.xml is
    parsed only when it holds that mark. Repeated rows and cells count up to ``rows`` ×
    ``columns`` (the sheet as calamine read it), so a repeat count cannot blow up memory.
    """
    errors: dict[tuple[int, int], tuple[str, str]] = {}
    with (
        contextlib.suppress(zipfile.BadZipFile, OSError, KeyError, ValueError, SyntaxError),
        zipfile.ZipFile(path) as archive,
    ):
        with archive.open("content.xml") as handle:
            previous = b""
            while chunk := handle.read(1024 * 1024):
                if _ODS_ERROR_MARK in previous[-len(_ODS_ERROR_MARK) :] + chunk:
                    break
                previous = chunk
            else:
                return errors
        with archive.open("content.xml") as handle:
            _collect_ods_errors(handle, sheet, rows, columns, errors)
    return errors


def _collect_ods_errors(
    handle: IO[bytes],
    sheet: str,
    rows: int,
    columns: int,
    errors: dict[tuple[int, int], tuple[str, str]],
) -> None:
    table, row_tag = _ODS_TABLE + "table", _ODS_TABLE + "table-row"
    cell_tags = (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell")
    repeat_rows, repeat_columns = (
        _ODS_TABLE + "number-rows-repeated",
        _ODS_TABLE + "number-columns-repeated",
    )
    depth = 0  # tables inside a cell are not rows of the sheet
    in_sheet = False
    row = column = 0
    row_repeat = 1
    open_elements: list[ElementTree.Element] = []
    for event, element in ElementTree.iterparse(handle, events=("start", "end")):
        tag = element.tag
        if event == "start":
            open_elements.append(element)
            if tag == table:
                depth += 1
                if depth == 1:
                    in_sheet = element.get(_ODS_TABLE + "name") == sheet
            elif tag == row_tag and depth == 1:
                column = 0
                row_repeat = _repeat(element.get(repeat_rows))
            continue
        open_elements.pop()
        if tag == table:
            depth -= 1
            if depth == 0 and in_sheet:
                return
            continue
        if tag in cell_tags:
            span = _repeat(element.get(repeat_columns))
            if in_sheet and depth == 1:
                if element.get(_ODS_CALCEXT + "value-type") == "error":
                    shown = " ".join(
                        "".join(p.itertext()).strip() for p in element.findall(_ODS_TEXT + "p")
                    ).strip()
                    for r in range(row, min(row + row_repeat, rows)):
                        for c in range(column, min(column + span, columns)):
                            errors[(r, c)] = (_cell_name(r, c), shown or "#VALUE!")
                column += span
        elif tag == row_tag:
            if in_sheet and depth == 1:
                row += row_repeat
        else:
            continue
        if open_elements:  # a finished cell or row is not needed again: keep memory flat
            open_elements[-1].remove(element)


def _repeat(value: str | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, header_hint: HeaderHint | None) -> Table:
    data = path.read_bytes()
    text, encoding = _decode(data, path.name)
    del data
    if "\x00" in text:
        # A few NULs come from broken exporters; many mean this is not text at all.
        if text.count("\x00") > max(4, len(text) // 100):
            raise _not_a_spreadsheet(path.name, None)
        text = text.replace("\x00", "")
    forced = re.match(r"[ \t]*sep=([^\r\n])[ \t]*(?:\r\n|\n|\r|$)", text[:20], re.I)
    if forced:
        # Excel's "sep=;" line names the delimiter; Excel hides it, so rows count without it.
        delimiter = forced.group(1)
        text = text[forced.end() :]
    else:
        delimiter = _detect_delimiter(text[:_SAMPLE_BYTES])
    try:
        raw = cast("list[list[object]]", _parse_csv(text, delimiter, path.name))
    except MemoryError:
        raise _too_big_for_memory(path.name) from None
    if "'" in text and any(quoted in text for quoted in _QUOTED_FORMULA_STARTS):
        _drop_formula_quotes(raw)
    errors = _text_error_cells(raw) if "#" in text and _ERROR_TEXT_RE.search(text) else {}
    del text
    if not _has_content(raw):
        raise ReadError(
            f"'{path.name}' has no rows; choose the file that holds the list, or fill this "
            "one and save it."
        )
    table = _build_table(
        raw,
        0,
        header_hint,
        path=path,
        sheet=None,
        encoding=encoding,
        delimiter=delimiter,
        errors=errors,
    )
    _drop_totals_row(table, typed=False, formula_check=None)
    return table


def _parse_csv(text: str, delimiter: str, name: str) -> list[list[str]]:
    """The records of a CSV text; a quote that swallows the rest of the file is an error.

    Read strictly first, which is what tells a value still open at the end of the file;
    a quote in the middle of a value (``"ACME" Ltd``) fails that, and such files are read
    again leniently, as Excel reads them.
    """
    # A value may be as long as the file: a pasted e-mail thread or picture in a note.
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(len(text))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        never_closes = str(exc).startswith("unexpected end of data")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = list(reader)
        except csv.Error as lenient:
            raise ReadError(
                f"'{name}' is not a well-formed CSV file near line {reader.line_num} "
                f"({lenient}); open it in Excel and save it again as CSV."
            ) from None
        if never_closes:
            number = len(rows)  # the value still open at the end is in the last record
            excerpt = _line_excerpt(text, _first_line(rows, number - 1))
            raise ReadError(
                f"'{name}' row {number}: a quote (\") opens a value that never closes, so "
                "the rest of the file would become that one value. The row starts: "
                f'{excerpt}. Remove the stray quote, or double it ("") if it belongs in the '
                "text; save the file and import it again."
            ) from None
    if reader.line_num > len(rows):  # some values run over several lines
        _check_runaway_quotes(rows, delimiter, text, name)
    return rows


def _check_runaway_quotes(rows: list[list[str]], delimiter: str, text: str, name: str) -> None:
    """A value whose lines look like the file's own records was opened by a stray quote."""
    width = max(len(r) for r in rows[: HEADER_SCAN_ROWS + _FOLLOW_ROWS])
    if width < 3:
        return  # two columns: a line of a note with a comma looks just like a record
    for index, cells in enumerate(rows):
        joined = "".join(cells)
        if "\n" not in joined and "\r" not in joined:
            continue
        for value in cells:
            swallowed = value.splitlines()[1:]
            records = sum(1 for line in swallowed if line.count(delimiter) >= width - 1)
            # Nearly every line a runaway value swallowed is a record; a note's lines with
            # as many commas as a record are few.
            if records >= 3 and records * 4 >= len(swallowed) * 3:
                number, count = index + 1, len(swallowed)
                excerpt = _line_excerpt(text, _first_line(rows, index))
                raise ReadError(
                    f"'{name}' row {number}: a quote (\") opens a value that runs on over "
                    f"the next {count} lines, so they would become that one value. "
                    f'The row starts: {excerpt}. Remove the stray quote, or double it ("") '
                    "if it belongs in the text; save the file and import it again."
                )


def _first_line(rows: list[list[str]], index: int) -> int:
    """The 1-based line a record starts on: one line per record before it, plus one per
    line break inside their values (counted as the csv module counts lines)."""
    breaks = 0
    for cells in rows[:index]:
        for value in cells:
            breaks += value.count("\n") + value.count("\r") - value.count("\r\n")
    return index + 1 + breaks


def _line_excerpt(text: str, line_number: int) -> str:
    """The start of a line (1-based, counted as the csv module counts lines), for messages."""
    handle = io.StringIO(text, newline="")
    line = ""
    for _ in range(line_number):
        line = handle.readline()
    line = line.rstrip("\r\n")
    return line if len(line) <= 60 else line[:60] + "…"


# The CSV export writes a quote before text a spreadsheet would run as a formula (and one
# more before a value that already starts with quotes before such text); as in Excel, the
# quote marks the cell as text and is not part of the value.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_FORMULA_STARTS = tuple("'" + start for start in _FORMULA_STARTS)


def _drop_formula_quotes(rows: list[list[object]]) -> None:
    formula = _FORMULA_STARTS
    for cells in rows:
        for j, value in enumerate(cells):
            if (
                isinstance(value, str)
                and value.startswith("'")
                and value.lstrip("'").startswith(formula)
            ):
                cells[j] = value[1:]


_CJK_PREFERENCE = ("gb18030", "big5", "cp1252", "cp1250")
_CODEC_FAMILIES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
    "hz": "gb18030",
    "big5": "big5",
    "cp950": "big5",
    "big5hkscs": "big5",
}


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Text and the encoding it was read with (BOMs, then UTF-8, then a detector)."""
    bom = _bom_encoding(data[:4])
    if bom:
        codec, label = bom
        skip = len(codecs.BOM_UTF8) if label == "utf-8-sig" else (4 if label == "utf-32" else 2)
        return _decode_with(data[skip:], codec, label, name), label
    utf16 = _bomless_utf16(data[:_SAMPLE_BYTES])
    if utf16:
        return _decode_with(data, utf16, "utf-16", name), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    _refuse_mixed_encodings(data, name)
    for codec in _guess_codecs(data):
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue
    raise ReadError(
        f"'{name}' uses a text encoding smbcrm cannot recognise; open it in Excel and save "
        "it as 'CSV UTF-8 (Comma delimited)', then import that file."
    )


# Characters that GBK or Big5 bytes happen to spell when read as UTF-8 (C1 controls, Latin
# Extended, Greek, Cyrillic, Hebrew, Arabic …), where real text from a Chinese or Western
# list has Chinese characters, punctuation or Western European letters.
_UNLIKELY_UTF8_RE = re.compile("[\u0080-\u009f\u0100-\u07ff]")
_LISTED_LINES = 5


def _refuse_mixed_encodings(data: bytes, name: str) -> None:
    """A file that is UTF-8 in some lines and another encoding in others (rows pasted in
    from another file) would be read with garbled names whichever encoding is chosen."""
    lines = data.splitlines()
    utf8_lines: list[int] = []
    other_lines: list[int] = []
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            other_lines.append(number)
            continue
        (other_lines if _UNLIKELY_UTF8_RE.search(text) else utf8_lines).append(number)
    if not utf8_lines or not other_lines:
        return
    if len(utf8_lines) >= len(other_lines):
        listed = _line_list(other_lines)
        raise ReadError(
            f"'{name}' mixes two text encodings: most of it is UTF-8, but some lines are in "
            "another encoding (such as GBK, which Excel on Chinese Windows uses), probably "
            "pasted in from another file, and would be read as garbled characters. Lines in "
            f"the other encoding: {listed}. Open the file in Notepad, type those lines again "
            "(or paste them again from the original list), save it with the encoding 'UTF-8' "
            "and import it again."
        )
    sample = b"\n".join(lines[n - 1] for n in other_lines[:1000])
    codec = _codec_name(_guess_codecs(sample)[0])
    listed = _line_list(utf8_lines)
    raise ReadError(
        f"'{name}' mixes two text encodings: most of it is {codec}, but some lines are "
        "UTF-8, probably pasted in from another file, and would be read as garbled "
        f"characters. Lines in UTF-8: {listed}. Open the file in Excel, type those lines "
        "again (or paste them again from the original list), then Save As → 'CSV UTF-8 "
        "(Comma delimited)' and import the saved file."
    )


def _line_list(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:_LISTED_LINES])
    return shown + (", …" if len(numbers) > _LISTED_LINES else "")


def _codec_name(codec: str) -> str:
    """An encoding as Windows and Excel name it."""
    family = _CODEC_FAMILIES.get(codec, codec)
    if family == "gb18030":
        return "GBK"
    if family == "big5":
        return "Big5"
    if codec.startswith("cp") and codec[2:].isdigit():
        return f"Windows-{codec[2:]}"
    return codec.upper()


def _decode_with(data: bytes, codec: str, label: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1 if "16" not in codec else None
        where = f" on line {line}" if line else ""
        raise ReadError(
            f"'{name}' says it is {label} text but has bytes that are not{where}; it may be "
            "damaged. Open it in Excel and save it again as 'CSV UTF-8 (Comma delimited)'."
        ) from None


def _guess_codecs(data: bytes) -> list[str]:
    """Decoders to try, best first, for bytes that are not UTF-8."""
    from charset_normalizer import from_bytes  # imported late: only non-UTF-8 files need it

    # Sample from the first line with a non-ASCII byte: an ASCII start tells nothing.
    first = re.search(rb"[\x80-\xff]", data)
    start = data.rfind(b"\n", 0, first.start()) + 1 if first else 0
    sample = data[start : start + _SAMPLE_BYTES]
    if len(data) - start > _SAMPLE_BYTES and b"\n" in sample:
        # Cut at a line end so no multi-byte character is split (0x0A is never a trail byte).
        sample = sample[: sample.rindex(b"\n") + 1]
    # UTF-16 and UTF-32 are told by their BOM or NULs before this, never by a guess.
    matches = [m for m in from_bytes(sample) if not m.encoding.startswith(("utf_16", "utf_32"))]
    ordered: list[str] = []
    if matches:
        least = min(m.chaos for m in matches)
        tied = [_CODEC_FAMILIES.get(m.encoding, m.encoding) for m in matches if m.chaos <= least]
        if any(_EAST_ASIAN_CODEC_RE.match(codec) for codec in tied):
            # A short Chinese list reads about as well in a Japanese or Korean code page
            # to the detector, but our users' Excel writes GB18030/GBK (mainland) or Big5
            # (Taiwan, Hong Kong): those decide among themselves by how the text reads.
            ordered += _chinese_codecs_by_fit(sample)
        ordered += [c for c in _CJK_PREFERENCE if c in tied]
        ordered += tied
        ordered += [_CODEC_FAMILIES.get(m.encoding, m.encoding) for m in matches]
    ordered += ["gb18030"]
    codecs_to_try: list[str] = []
    for codec in dict.fromkeys(ordered):
        if codec == "big5":
            codecs_to_try += ["cp950", "big5hkscs"]  # Windows writes cp950, a Big5 superset
        else:
            codecs_to_try.append(codec)
    return list(dict.fromkeys(codecs_to_try))


# Chinese, Japanese and Korean multi-byte code pages, as the detector names them.
_EAST_ASIAN_CODEC_RE = re.compile(r"gb|big5|hz|cp9[34]\d|euc|shift_jis|iso2022|johab")
# What a Chinese text read in the wrong Chinese code page turns into: kana, Greek, Cyrillic,
# box drawing, bopomofo, Hangul, rare ideographs (extension A, compatibility) and the
# private use area, which the other code page's byte ranges map to.
_MISREAD_CHINESE_RE = re.compile(
    "[\u0370-\u04ff\u2500-\u257f\u3040-\u30ff\u3100-\u312f\u3130-\u318f"
    "\u3400-\u4dbf\uac00-\ud7af\ue000-\uf8ff\uf900-\ufaff\uff66-\uff9f]"
)
# Where each code page keeps its common ideographs, as (lead bytes, trail bytes): GB2312
# level 1 (GBK's rarer ideographs share those lead bytes with lower trail bytes) and Big5
# level 1.
_COMMON_HANZI = {
    "gb18030": (range(0xB0, 0xD8), range(0xA1, 0xFF)),
    "cp950": (range(0xA4, 0xC7), range(0x40, 0xFF)),
    "big5hkscs": (range(0xA4, 0xC7), range(0x40, 0xFF)),
}


def _chinese_codecs_by_fit(sample: bytes) -> list[str]:
    """The Chinese code pages the sample reads naturally in, the most natural first.

    GBK text read as Big5 (and the reverse) is made of valid but odd characters: symbols,
    kana or private-use ones, or ideographs outside the common level of that code page. A
    reading with more than a few odd characters (a product's "Ω" is not a misreading), or
    with more rare ideographs than common ones, is left out (a Japanese Shift-JIS file
    reads like that in GBK), and the detector decides.
    """
    ranked: list[tuple[int, int, int, str]] = []
    for order, (codec, (leads, trails)) in enumerate(_COMMON_HANZI.items()):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        odd = len(_MISREAD_CHINESE_RE.findall(text))
        if odd * 20 > sum(1 for ch in text if ch >= "\x80"):
            continue
        counts = Counter(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
        rare = 0
        for ch, n in counts.items():
            encoded = ch.encode(codec, "replace")
            if len(encoded) != 2 or encoded[0] not in leads or encoded[1] not in trails:
                rare += n
        if rare * 2 <= counts.total():
            ranked.append((odd, rare, order, codec))
    return [codec for *_, codec in sorted(ranked)]


_DELIMITERS = ",;\t|"


def _detect_delimiter(sample: str) -> str:
    """csv.Sniffer's guess, unless splitting by another candidate is clearly more regular."""
    lines = sample.splitlines()
    if len(sample) >= _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample is incomplete
    lines = lines[:50]
    scores = {d: _delimiter_score(lines, d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: scores[d])  # ties: order of _DELIMITERS
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = best
    if scores.get(sniffed, -1) >= scores[best]:
        return sniffed
    return best if scores[best] > 0 else ","


def _delimiter_score(lines: list[str], delimiter: str) -> int:
    """Lines that split into the most common field count (when that count is above 1)."""
    try:
        counts = [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(r)]
    except csv.Error:
        return 0
    multi = [c for c in counts if c > 1]
    if not multi:
        return 0
    mode = max(set(multi), key=lambda c: (multi.count(c), c))
    return sum(1 for c in counts if c == mode)


# --------------------------------------------------------------------------- web pages


def _read_html(path: Path, header_hint: HeaderHint | None) -> Table:
    """An HTML table saved with a spreadsheet name, read as Excel shows it.

    Every table that holds no other table is read, one under the other, in page order (a
    page laid out with tables keeps its list in the innermost one). Cells spanning several
    columns or rows take their place as merged cells do.
    """
    name = path.name
    data = path.read_bytes()
    text, encoding = _decode_html(data, name)
    del data
    if "\x00" in text:
        text = text.replace("\x00", "")  # the parser marks line breaks in cells with it
    try:
        parser = _html_tables(text, name)
    except MemoryError:
        raise _too_big_for_memory(name) from None
    del text
    raw, merged = parser.grid()
    if not _has_content(raw):
        raise ReadError(
            f"'{name}' is a web page saved with a spreadsheet name, and no table in it holds "
            "anything: it may be a page of the system it came from (a login or error page) "
            "instead of the list. Open it in a web browser to see what it holds, and export "
            "the list again."
        )
    errors = _text_error_cells(raw)
    table = _build_table(
        raw,
        0,
        header_hint,
        path=path,
        sheet=None,
        encoding=encoding,
        delimiter=None,
        merged=merged,
        errors=errors,
        web_page=True,
    )
    _drop_totals_row(table, typed=False, formula_check=None)
    return table


_HTML_CHARSET_RE = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.I,
)
# What web pages call their encodings, as the codecs their writers really use.
_HTML_CHARSETS = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "gb18030": ("gb18030",),
    "cp936": ("gb18030",),
    "big5": ("cp950", "big5hkscs"),
    "big5-hkscs": ("big5hkscs",),
    "x-x-big5": ("cp950", "big5hkscs"),
    "cp950": ("cp950", "big5hkscs"),
    "iso-8859-1": ("cp1252",),
    "latin1": ("cp1252",),
    "us-ascii": ("cp1252",),
}


def _decode_html(data: bytes, name: str) -> tuple[str, str]:
    """A page's text: by its BOM, else the charset it declares, else as a CSV file is read."""
    if _bom_encoding(data[:4]) is None and _bomless_utf16(data[:_SAMPLE_BYTES]) is None:
        declared = _HTML_CHARSET_RE.search(data[:_SAMPLE_BYTES])
        if declared:
            charset = (declared.group(1) or declared.group(2)).decode("ascii").lower()
            for codec in _HTML_CHARSETS.get(charset, (charset,)):
                try:
                    return data.decode(codec), codec
                except (UnicodeDecodeError, LookupError):
                    continue
    return _decode(data, name)


# What a page holds besides tags and text: comments (one never closed runs to the end, as
# in a browser), declarations (<!DOCTYPE …>, <![if …]>, <?xml …?>), scripts and styles.
_HTML_IGNORED_RE = re.compile(
    r"<!--.*?(?:-->|\Z)|<[!?][^<>]*+>|<(script|style)\b.*?(?:</\1\s*>|\Z)", re.S | re.I
)
# A tag ends at the first ">" (exports write "&gt;" inside values); stopping at "<" too keeps
# a page full of stray "<" linear to read.
_HTML_TAG_RE = re.compile(r"<(/?)([A-Za-z][\w:.-]*+)([^<>]*+)>")
_HTML_SPAN_RE = re.compile(r"\b(colspan|rowspan)\s*=\s*[\"']?\s*(\d+)", re.I)
_HTML_SPACE_RE = re.compile(r"[ \t\r\n\f]+")
_HTML_BREAK = "\x00"  # a line break inside a cell (<br>, <p>), kept apart from spaces
_HTML_LINE_TAGS = frozenset({"br", "p", "div", "li"})
_HTML_MAX_SPAN = 1000  # columns or rows one cell may span; real pages stay far below


def _html_tables(text: str, name: str) -> _HtmlTables:
    """The tables of a page, read with two regular expressions (several times faster than
    html.parser, which matters for exports of tens of thousands of rows)."""
    text = _HTML_IGNORED_RE.sub("", text)
    tables = _HtmlTables(name)
    data, start, end = tables.data, tables.start, tables.end
    last = 0
    for tag in _HTML_TAG_RE.finditer(text):
        if tag.start() > last:
            data(text[last : tag.start()])
        last = tag.end()
        closing, tag_name, attributes = tag.groups()
        tag_name = tag_name.lower()
        if closing:
            end(tag_name)
        else:
            start(tag_name, attributes)
            if attributes.endswith("/") and tag_name in ("td", "th"):
                end(tag_name)
    if last < len(text):
        data(text[last:])
    tables.finish()
    return tables


@dataclass
class _HtmlTable:
    order: int  # the table's place in the page
    rows: list[list[object]] = field(default_factory=list)
    merged: list[tuple[int, int, int]] = field(default_factory=list)  # (top, left, bottom)
    nested: bool = False  # holds another table: a layout table, not the list
    row: list[object] | None = None
    cell: list[str] | None = None
    spans: tuple[int, int] = (1, 1)  # the open cell's (columns, rows)
    below: dict[int, int] = field(default_factory=dict)  # column → rows a span still covers
    covered: set[int] = field(default_factory=set)  # columns the open row leaves to a span


class _HtmlTables:
    """Builds the rows of text cells of a page's tables from its tags and text."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._open: list[_HtmlTable] = []
        self.tables: list[_HtmlTable] = []
        self._started = 0  # tables begun so far: their order in the page
        self._cells = 0

    def start(self, tag: str, attributes: str) -> None:
        table = self._open[-1] if self._open else None
        if tag == "table":
            if table is not None:
                table.nested = True
            self._open.append(_HtmlTable(self._started))
            self._started += 1
        elif table is None:
            return
        elif tag == "tr":
            self._end_row(table)
            self._start_row(table)
        elif tag in ("td", "th"):
            if table.cell is not None:
                self._end_cell(table)
            if table.row is None:
                self._start_row(table)
            columns = rows = 1
            if "span" in attributes:
                for kind, number in _HTML_SPAN_RE.findall(attributes):
                    count = min(max(1, int(number)), _HTML_MAX_SPAN)
                    if kind.lower() == "colspan":
                        columns = count
                    else:
                        rows = count
            table.spans = (columns, rows)
            table.cell = []
        elif table.cell is not None and tag in _HTML_LINE_TAGS:
            table.cell.append(_HTML_BREAK)

    def end(self, tag: str) -> None:
        if not self._open:
            return
        table = self._open[-1]
        if tag in ("td", "th"):
            if table.cell is not None:
                self._end_cell(table)
        elif tag == "tr":
            self._end_row(table)
        elif tag == "table":
            self._end_row(table)
            self.tables.append(self._open.pop())

    def data(self, text: str) -> None:
        if self._open and self._open[-1].cell is not None:
            self._open[-1].cell.append(text)

    def finish(self) -> None:
        while self._open:  # tables the page never closed
            table = self._open.pop()
            self._end_row(table)
            self.tables.append(table)

    def _start_row(self, table: _HtmlTable) -> None:
        table.row = []
        table.covered = {column for column, left in table.below.items() if left > 0}

    def _end_row(self, table: _HtmlTable) -> None:
        if table.cell is not None:
            self._end_cell(table)
        if table.row is None:
            return
        if table.covered and len(table.row) <= max(table.covered):
            table.row.extend([None] * (max(table.covered) + 1 - len(table.row)))
        table.rows.append(table.row)
        table.row = None
        for column in table.covered:
            table.below[column] -= 1
        table.covered = set()

    def _end_cell(self, table: _HtmlTable) -> None:
        parts, row = table.cell, table.row
        table.cell = None
        if parts is None or row is None:
            return
        text = _HTML_SPACE_RE.sub(" ", parts[0] if len(parts) == 1 else "".join(parts))
        if "&" in text:
            text = html.unescape(text)
        if "\xa0" in text:
            text = text.replace("\xa0", " ")  # &nbsp; pads cells; it is not part of a value
        if _HTML_BREAK in text:
            text = "\n".join(line.strip() for line in text.split(_HTML_BREAK))
        while len(row) in table.covered:  # a cell spanning down from a row above
            row.append(None)
        column = len(row)
        columns, rows = table.spans
        row.append(text.strip() or None)
        if columns > 1:
            row.extend([None] * (columns - 1))
        if rows > 1:
            table.merged.append((len(table.rows), column, len(table.rows) + rows - 1))
            for spanned in range(column, column + columns):
                table.below[spanned] = rows - 1
        self._cells += columns
        if self._cells > MAX_SHEET_CELLS:
            raise _too_big_for_memory(self._name)

    def grid(self) -> tuple[list[list[object]], list[tuple[int, int, int]]]:
        """The rows of the tables that hold no other table, in page order, and their merges."""
        rows: list[list[object]] = []
        merged: list[tuple[int, int, int]] = []
        for table in sorted(self.tables, key=lambda t: t.order):
            if table.nested:
                continue
            offset = len(rows)
            merged += [(top + offset, left, bottom + offset) for top, left, bottom in table.merged]
            rows += table.rows
        return rows, merged


# Excel writes an error cell (#N/A, #REF! …) into a CSV file or web page as its text;
# the newer ones are Excel 365's.
_ERROR_TEXTS = frozenset(
    {
        *_BIFF_ERRORS.values(),
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)
_ERROR_TEXT_RE = re.compile("|".join(re.escape(code) for code in sorted(_ERROR_TEXTS)))


def _text_error_cells(raw: list[list[object]]) -> dict[tuple[int, int], tuple[str, str]]:
    """Cells whose whole text is an Excel error code: (row, column) → ("C5", "#N/A")."""
    errors: dict[tuple[int, int], tuple[str, str]] = {}
    for r, cells in enumerate(raw):
        for c, value in enumerate(cells):
            if isinstance(value, str) and "#" in value and value.strip() in _ERROR_TEXTS:
                errors[(r, c)] = (_cell_name(r, c), value.strip())
    return errors


# --------------------------------------------------------------------------- table building


def _clean_row(row: list[object]) -> list[object]:
    # The hot loop: one comprehension per row; calamine gives "" for empty cells.
    return [(v.strip() or None) if isinstance(v, str) else v for v in row]


def _header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime):
        text = value.isoformat(" ") if value.time() != time() else value.date().isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return _SPACE_RUN_RE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def _is_texty(value: object) -> bool:
    """A cell that reads as words, not as a number, date or phone."""
    if not isinstance(value, str):
        return False
    letters = digits = 0
    for ch in value:
        if ch.isdigit():
            digits += 1
        elif ch.isalpha():
            letters += 1
    return letters > 0 and digits * 2 < len(value)


def _is_meta_line(cells: list[object], filled: int) -> bool:
    """ "导出日期：2024-03-01", "Exported by: Li" — a label with a colon, not a header."""
    if filled > 3:
        return False
    return any(isinstance(v, str) and _META_LINE_RE.match(v) for v in cells)


def _find_header(rows: list[list[object]], hint: HeaderHint | None) -> int | None:
    """Index (in ``rows``) of the header row among the first ``HEADER_SCAN_ROWS``, or None
    when no row there can be one (only titles, notes, blanks and numbers).

    Title rows (one filled cell, as a merged title reads, unless it names a known column),
    "导出日期：…" lines and blank rows are skipped. The rest are ranked by: the caller's hint
    score; being among the first ``_NEAR_TOP_ROWS``; starting a block (a row right under a
    similar-sized row is inside a table, i.e. data); being followed mostly by filled rows;
    the number of text cells. Ties go to the earliest row.
    """
    scan = min(len(rows), HEADER_SCAN_ROWS)
    filled = [len(r) - r.count(None) for r in rows]
    width = max(filled[: scan + _FOLLOW_ROWS], default=0)
    best: tuple[int, bool, bool, bool, int] | None = None
    best_index: int | None = None
    body_above = 0  # filled cells of the row above when it was itself a candidate
    for i in range(scan):
        count = filled[i]
        cells = rows[i]
        if count == 0 or _is_meta_line(cells, count):
            body_above = 0
            continue
        texts = sum(1 for v in cells if _is_texty(v))
        score = hint([_header_text(v) for v in cells]) if hint and texts else 0
        if width >= 2 and count < 2 and score == 0:  # a (merged) title cell
            body_above = 0
            continue
        # A row under a row about as wide is inside a table: data, or a header under notes.
        starts_block = body_above * 5 < count * 3
        body_above = count
        if texts == 0:
            continue
        after = filled[i + 1 : i + 1 + _FOLLOW_ROWS]
        followed = bool(after) and sum(1 for c in after if c) * 2 >= len(after)
        key = (score, i < _NEAR_TOP_ROWS, starts_block, followed, texts)
        if best is None or key > best:
            best, best_index = key, i
    return best_index


def _header_lies_below(
    raw: list[list[object]], head: list[list[object]], h: int, hint: HeaderHint | None
) -> bool:
    """Lines of one cell all through the rows searched, the best of them naming no known
    column, and wider rows further down: notes longer than the search, the header below.
    (Without that wider row it is a one-column list, and its header stands.)"""
    if hint is None or len(raw) <= HEADER_SCAN_ROWS:
        return False
    if any(len(cells) - cells.count(None) > 1 for cells in head[:HEADER_SCAN_ROWS]):
        return False
    if hint([_header_text(v) for v in head[h]]):
        return False
    return any(
        sum(1 for v in cells if v is not None and (not isinstance(v, str) or v.strip())) > 1
        for cells in raw[HEADER_SCAN_ROWS:]
    )


def _no_header(path: Path, sheet: str | None, searched: int, web_page: bool) -> ReadError:
    name = path.name
    if web_page:
        return ReadError(
            f"'{name}' is a web page saved with a spreadsheet name (some systems export like "
            f"that), and none of its first {searched} rows holds column titles (such as "
            "客户名称, 手机, 城市 or Name, Phone, City). Open it in Excel, then File → Save As → "
            "Excel Workbook (.xlsx); type the column titles in the row right above the list, "
            "save it and import the saved file."
        )
    if sheet:
        return ReadError(
            f"'{name}' sheet '{sheet}' has no row of column titles: none of its first "
            f"{searched} rows names the columns (such as 客户名称, 手机, 城市 or Name, Phone, "
            "City); they hold only titles, notes or numbers. Type the column titles in the row "
            "right above the list (or delete the notes above them), save the file and import "
            "it again."
        )
    return ReadError(
        f"'{name}' has no row of column titles: none of its first {searched} rows names the "
        "columns (such as 客户名称, 手机, 城市 or Name, Phone, City); they hold only titles, "
        "notes or numbers. Type the column titles in the row right above the list (or delete "
        "the notes above them), save the file and import it again."
    )


def _header_names(cells: list[object]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for position, value in enumerate(cells, start=1):
        base = _header_text(value) or f"Column {position}"
        name, n = base, 1
        while name.casefold() in seen:
            n += 1
            name = f"{base} ({n})"
        seen.add(name.casefold())
        names.append(name)
    return names


def _build_table(
    raw: list[list[object]],
    first_row: int,
    header_hint: HeaderHint | None,
    *,
    path: Path,
    sheet: str | None,
    encoding: str | None,
    delimiter: str | None,
    merged: list[tuple[int, int, int]] | None = None,
    errors: dict[tuple[int, int], tuple[str, str]] | None = None,
    web_page: bool = False,
) -> Table:
    """Find the header, drop blank rows, pad rows to the header width.

    ``first_row`` is the 0-based file row of ``raw[0]``. ``merged`` lists merged ranges as
    (top row, left column, bottom row) and ``errors`` the error cells as (row, column) →
    (cell name, error), both counted in ``raw``; an error cell reads as blank.
    """
    if errors:
        for r, c in errors:
            if r < len(raw) and c < len(raw[r]):
                raw[r][c] = None  # .ods keeps 0 as the value of a failed formula
    head = [_clean_row(r) for r in raw[: HEADER_SCAN_ROWS + _FOLLOW_ROWS]]
    h = _find_header(head, header_hint)
    if h is None or _header_lies_below(raw, head, h, header_hint):
        raise _no_header(path, sheet, min(len(raw), HEADER_SCAN_ROWS), web_page)
    header_cells = head[h]
    width = max((i + 1 for i, v in enumerate(header_cells) if v is not None), default=0)
    if merged:
        _fill_merged_down(raw, merged, below=h)
    error_rows = {r for r, _ in errors} if errors else set()

    rows: list[list[object]] = []
    numbers: list[int] = []
    append_row, append_number = rows.append, numbers.append
    widest = 0
    number = first_row + h + 1  # 1-based file row of raw[h]
    for row in raw[h + 1 :] if h + 1 < len(raw) else ():
        number += 1
        cells = [(v.strip() or None) if isinstance(v, str) else v for v in row]
        size = len(cells)
        if cells.count(None) == size:
            if number - first_row - 1 not in error_rows:
                continue  # blank (a row of error cells only still has something to say)
        elif cells == header_cells:
            continue  # the header repeated (exports repeat it on every page)
        if size > width and widest < size and cells[width:].count(None) != size - width:
            # Data beyond the last named column: keep it under "Column N".
            widest = max(widest, max(i for i, v in enumerate(cells) if v is not None) + 1)
        append_row(cells)
        append_number(number)
    width = max(width, widest, 1)
    for cells in rows:
        size = len(cells)
        if size < width:
            cells.extend([None] * (width - size))
        elif size > width:
            del cells[width:]
    header_cells = (header_cells + [None] * width)[:width]

    # Columns with neither a name nor data (e.g. a leading blank column) are dropped.
    columns = list(range(width))
    empty = [
        j
        for j in range(width)
        if header_cells[j] is None and all(cells[j] is None for cells in rows)
    ]
    if empty and len(empty) < width:
        columns = [j for j in range(width) if j not in set(empty)]
        header_cells = [header_cells[j] for j in columns]
        rows[:] = [[cells[j] for j in columns] for cells in rows]

    return Table(
        path=path,
        sheet=sheet,
        header=_header_names(header_cells),
        header_row=first_row + h + 1,
        rows=rows,
        row_numbers=numbers,
        encoding=encoding,
        delimiter=delimiter,
        skipped_totals_row=None,
        cell_errors=_data_cell_errors(errors, first_row, numbers, columns) if errors else [],
    )


def _fill_merged_down(
    raw: list[list[object]], merged: list[tuple[int, int, int]], below: int
) -> None:
    """A value merged down over several data rows (a city for a block of customers) belongs
    to each of them, as Excel shows it; titles and headers above the data stay as they are."""
    for top, left, bottom in merged:
        if top <= below or left < 0 or top >= len(raw):
            continue
        value = raw[top][left] if left < len(raw[top]) else None
        for r in range(top + 1, min(bottom, len(raw) - 1) + 1):
            if left < len(raw[r]):
                raw[r][left] = value


def _data_cell_errors(
    errors: dict[tuple[int, int], tuple[str, str]],
    first_row: int,
    numbers: list[int],
    columns: list[int],
) -> list[CellError]:
    """The error cells that fall in the table's data rows and columns, in sheet order."""
    rows = set(numbers)
    position = {raw_column: index for index, raw_column in enumerate(columns)}
    found = []
    for (r, c), (cell, code) in sorted(errors.items()):
        number = first_row + r + 1
        if number in rows and c in position:
            found.append(CellError(number, position[c], cell, code))
    return found


def _is_total_label(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 40:
        return False
    folded = _SPACE_RUN_RE.sub("", unicodedata.normalize("NFKC", value)).casefold()
    return _TOTAL_LABEL_RE.match(folded) is not None


def _is_number(value: object) -> bool:
    return value.__class__ in (int, float)


def _drop_totals_row(
    table: Table, *, typed: bool, formula_check: Callable[[int], bool] | None
) -> None:
    """Leave out one totals row at the end: a 合计/Total label, or sums of the columns above."""
    rows = table.rows
    if not rows:
        return
    last = rows[-1]
    first = next((v for v in last if v is not None), None)
    is_total = _is_total_label(first) or any(_is_total_label(v) for v in last)
    if not is_total and typed and len(rows) >= 3:
        numeric = [j for j, v in enumerate(last) if _is_number(v)]
        texts = [v for v in last if v is not None and not _is_number(v)]
        # A row of bare numbers under rows with names: totals if each equals its column sum
        # (Excel stores the SUM result), or failing that, if the XML says SUM(...).
        if numeric and not texts:
            is_total = _column_sums_match(rows, numeric) or bool(
                formula_check and formula_check(table.row_numbers[-1])
            )
    if is_total:
        rows.pop()
        table.skipped_totals_row = table.row_numbers.pop()
        if table.cell_errors:
            table.cell_errors = [e for e in table.cell_errors if e.row != table.skipped_totals_row]


def _column_sums_match(rows: list[list[object]], columns: list[int]) -> bool:
    last = rows[-1]
    body = rows[:-1]
    for j in columns:
        values = [float(r[j]) for r in body if _is_number(r[j])]  # type: ignore[arg-type]
        if len(values) < 2:
            return False
        total = math.fsum(values)
        target = float(last[j])  # type: ignore[arg-type]
        if not math.isclose(total, target, rel_tol=1e-9, abs_tol=1e-6):
            return False
    return True
