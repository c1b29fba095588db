"""Reading any spreadsheet a small business has into one clean table.

Workbooks (.xlsx/.xlsm/.xlsb/.xls/.ods) are read with python-calamine, CSV and text
exports with the csv module after detecting their encoding and delimiter. The file type
is decided by the bytes, not the name, because people rename files. Above the header
there may be titles, an export date and blank rows; below the data a totals row. Both
are recognised and left out, so ``Table.rows`` holds records only.

Every problem is a ``ReadError`` whose message names the file (and sheet), says what is
wrong and how to fix it; Excel error cells (#N/A, #REF! …) do not stop the file but are
listed in ``Table.cell_errors`` so each row can report its own. Nothing here knows about Qt
or the database.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import math
import posixpath
import re
import struct
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal, cast
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

HEADER_SCAN_ROWS = 30  # the header is looked for among the first rows only
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
_Kind = Literal["zip", "ole", "text"]


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
    encoding: str | None  # CSV only
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
    """The worksheets a person can choose from; a CSV file is one sheet named after the file."""
    path = Path(path)
    kind = _inspect(path, max_bytes, max_unzipped_bytes)
    if kind == "text":
        return [SheetInfo(path.stem, None)]
    workbook = _open_workbook(path)
    try:
        names = _worksheet_names(workbook)
    finally:
        workbook.close()
    counts = _xlsx_row_counts(path) if kind == "zip" else {}
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
        return _read_workbook(path, sheet, header_hint, is_zip=kind == "zip")


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
        _check_zip(path, size, max_unzipped_bytes)
        return "zip"
    if head.startswith(_OLE_MAGIC):
        _check_ole(path)
        return "ole"
    binary = _looks_binary(head)
    for magic, what in _KNOWN_BINARIES:
        # Two- and three-byte magics ("BM", "MZ") also start text lines such as "BMW,…".
        if head.startswith(magic) and (len(magic) >= 4 or binary):
            raise _not_a_spreadsheet(name, what)
    if _html_or_xml_export(head):
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


def _html_or_xml_export(head: bytes) -> bool:
    start = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"<meta"))


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


def _check_zip(path: Path, size: int, max_unzipped_bytes: int) -> None:
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
            header = handle.read(512)
            sector_size = 1 << struct.unpack_from("<H", header, 30)[0]
            if sector_size not in (512, 4096):
                return None
            fat_count, first_dir = struct.unpack_from("<II", header, 44)
            first_difat, difat_count = struct.unpack_from("<II", header, 68)
            fat_sectors = list(struct.unpack_from("<109I", header, 76))
            per_sector = sector_size // 4

            def read_sector(sid: int) -> bytes:
                handle.seek((sid + 1) * sector_size)
                data = handle.read(sector_size)
                if len(data) != sector_size:
                    raise ValueError("short sector")
                return data

            sid = first_difat
            for _ in range(min(difat_count, 10_000)):
                if sid >= 0xFFFFFFFA:
                    break
                entries = struct.unpack(f"<{per_sector}I", read_sector(sid))
                fat_sectors.extend(entries[:-1])
                sid = entries[-1]
            fat: list[int] = []
            for fat_sid in fat_sectors[:fat_count]:
                fat.extend(struct.unpack(f"<{per_sector}I", read_sector(fat_sid)))
            names: set[str] = set()
            sid, seen = first_dir, 0
            while sid < 0xFFFFFFFA and seen < 100_000:
                data = read_sector(sid)
                for offset in range(0, sector_size, 128):
                    entry = data[offset : offset + 128]
                    length = struct.unpack_from("<H", entry, 64)[0]
                    if entry[66] != 0 and 2 <= length <= 64:
                        names.add(entry[: length - 2].decode("utf-16-le", "replace"))
                sid = fat[sid] if sid < len(fat) else 0xFFFFFFFE
                seen += 1
            return names
    except (OSError, struct.error, ValueError, IndexError):
        return None


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
    path: Path, sheet: str | None, header_hint: HeaderHint | None, *, is_zip: bool
) -> Table:
    workbook = _open_workbook(path)
    try:
        names = _worksheet_names(workbook)
        if not names:
            raise ReadError(f"'{path.name}' has no worksheets; open it in Excel and check it.")
        heads = _sheet_heads(path) if is_zip else {}
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
    scan = _scan_sheet_xml(path, sheet) if is_zip else _SheetScan({}, b"")
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


_CJK_PREFERENCE = ("gb18030", "big5", "cp1252")
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
    matches = list(from_bytes(sample))
    ordered: list[str] = []
    if matches:
        least = min(m.chaos for m in matches)
        tied = [_CODEC_FAMILIES.get(m.encoding, m.encoding) for m in matches if m.chaos <= least]
        # Short Chinese text fits several East Asian code pages equally well; our users'
        # Excel writes GB18030/GBK (mainland) or Big5 (Taiwan, Hong Kong), so those win ties.
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
    return codecs_to_try


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


def _find_header(rows: list[list[object]], hint: HeaderHint | None) -> int:
    """Index (in ``rows``) of the header row among the first ``HEADER_SCAN_ROWS``.

    Title rows (one filled cell, as a merged title reads), "导出日期：…" lines and blank
    rows are skipped. The rest are ranked by: the caller's hint score; starting a block
    (a row right under a similar-sized row is inside a table, i.e. data); being followed
    mostly by filled rows; the number of text cells. Ties go to the earliest row.
    """
    scan = min(len(rows), HEADER_SCAN_ROWS)
    filled = [len(r) - r.count(None) for r in rows]
    width = max(filled[: scan + _FOLLOW_ROWS], default=0)
    best: tuple[int, bool, bool, int] | None = None
    best_index = -1
    body_above = 0  # filled cells of the row above when it was itself a candidate
    for i in range(scan):
        count = filled[i]
        cells = rows[i]
        if (
            count == 0
            or (width >= 2 and count < 2)  # a (merged) title cell
            or _is_meta_line(cells, count)
        ):
            body_above = 0
            continue
        texts = sum(1 for v in cells if _is_texty(v))
        # A row under a row about as wide is inside a table: data, or a header under notes.
        starts_block = body_above * 5 < count * 3
        body_above = count
        if texts == 0:
            continue
        after = filled[i + 1 : i + 1 + _FOLLOW_ROWS]
        followed = bool(after) and sum(1 for c in after if c) * 2 >= len(after)
        score = hint([_header_text(v) for v in cells]) if hint else 0
        key = (score, starts_block, followed, texts)
        if best is None or key > best:
            best, best_index = key, i
    if best is None:
        return next((i for i, c in enumerate(filled) if c), 0)
    return best_index


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
) -> Table:
    """Find the header, drop blank rows, pad rows to the header width.

    ``first_row`` is the 0-based file row of ``raw[0]``. ``merged`` lists merged ranges as
    (top row, left column, bottom row) and ``errors`` the error cells as (row, column) →
    (cell name, error), both counted in ``raw``.
    """
    head = [_clean_row(r) for r in raw[: HEADER_SCAN_ROWS + _FOLLOW_ROWS]]
    h = _find_header(head, header_hint)
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
