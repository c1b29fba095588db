"""Reading any spreadsheet a small business has into one clean table.

Workbooks (.xlsx/.xlsm/.xlsb/.xls/.ods) are read with python-calamine, CSV and text
exports with the csv module after detecting their encoding and delimiter. The file type
is decided by the bytes, not the name, because people rename files. Above the header
there may be titles, an export date and blank rows; below the data a totals row. Both
are recognised and left out, so ``Table.rows`` holds records only.

Every problem is a ``ReadError`` whose message names the file (and sheet), says what is
wrong and how to fix it. Nothing here knows about Qt or the database.
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
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal, cast
from xml.etree import ElementTree

import python_calamine as calamine

from smbcrm.services.collector import collector_paused
from smbcrm.errors import SmbcrmError

__all__ = [
    "MAX_BYTES",
    "MAX_UNZIPPED_BYTES",
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


def _load_sheet(
    workbook: calamine.CalamineWorkbook, path: Path, sheet: str
) -> tuple[list[list[object]], int, int]:
    """Rows of one sheet as calamine gives them, plus the 0-based (row, column) they start at."""
    try:
        data = workbook.get_sheet_by_name(sheet)
        rows = cast("list[list[object]]", data.to_python())
        start = data.start or (0, 0)
    except calamine.PasswordError:
        raise _password_error(path.name) from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        raise _too_big_for_memory(path.name) from None
    except BaseException as exc:  # calamine errors and panics on malformed sheets
        raise _damaged(path.name, exc, sheet) from None
    return rows, start[0], start[1]


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
        raw: list[list[object]] = []
        first_row = 0
        if sheet is None:
            # The first visible sheet that holds anything; hidden sheets are lookup lists.
            candidates = _visible_names(workbook) or names
            for name in candidates:
                _check_extent(path, name, heads.get(name))
                raw, first_row, _ = _load_sheet(workbook, path, name)
                if _has_content(raw):
                    sheet = name
                    break
            else:
                sheet = candidates[0]
        else:
            _check_extent(path, sheet, heads.get(sheet))
            raw, first_row, _ = _load_sheet(workbook, path, sheet)
    finally:
        workbook.close()
    if not _has_content(raw):
        others = [n for n in names if n != sheet]
        listed = ", ".join(f"'{n}'" for n in others)
        also = f" The other sheets are {listed}." if others else ""
        raise ReadError(
            f"'{path.name}' sheet '{sheet}' has no rows; choose the sheet that holds the list "
            f"or fill this one and save it.{also}"
        )
    table = _build_table(
        raw, first_row, header_hint, path=path, sheet=sheet, encoding=None, delimiter=None
    )
    _drop_totals_row(table, typed=True, formula_check=_formula_checker(path, sheet, is_zip))
    return table


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


def _formula_checker(path: Path, sheet: str, is_zip: bool) -> Callable[[int], bool] | None:
    """For .xlsx/.xlsm: a test of whether a file row holds SUM-like formulas.

    calamine gives values only, and parsing the whole sheet again with openpyxl would cost
    more than reading it; so the sheet XML is streamed (inflate only, no XML parsing) and
    just its tail is searched, and only when the last row looks like numbers without text.
    """
    if not is_zip:
        return None

    def check(file_row: int) -> bool:
        with contextlib.suppress(zipfile.BadZipFile, OSError, KeyError, ValueError):
            with zipfile.ZipFile(path) as archive:
                member = _xml_member_names(archive).get(sheet)
                if member is None or not member.endswith(".xml"):
                    return False
                tail = b""
                with archive.open(member) as handle:
                    while chunk := handle.read(1024 * 1024):
                        tail = (tail + chunk)[-_XML_TAIL_BYTES:]
            row = re.search(
                rb"<(?:\w+:)?row\b[^>]*\br=\"%d\"[^>]*>(.*?)</(?:\w+:)?row>" % file_row,
                tail,
                re.S,
            )
            return bool(row and _SHEET_FORMULA_RE.search(row.group(1)))
        return False

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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw = cast("list[list[object]]", list(reader))
    except csv.Error as exc:
        raise ReadError(
            f"'{path.name}' is not a well-formed CSV file near line {reader.line_num} ({exc}); "
            'a value probably has an unmatched double quote ("). Open it in Excel and save it '
            "again as CSV."
        ) from None
    except MemoryError:
        raise _too_big_for_memory(path.name) from None
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
    for codec in _guess_codecs(data):
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue
    raise ReadError(
        f"'{name}' uses a text encoding smbcrm cannot recognise; open it in Excel and save "
        "it as 'CSV UTF-8 (Comma delimited)', then import that file."
    )


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
) -> Table:
    """Find the header, drop blank rows, pad rows to the header width.

    ``first_row`` is the 0-based file row of ``raw[0]``.
    """
    head = [_clean_row(r) for r in raw[: HEADER_SCAN_ROWS + _FOLLOW_ROWS]]
    h = _find_header(head, header_hint)
    header_cells = head[h]
    width = max((i + 1 for i, v in enumerate(header_cells) if v is not None), default=0)

    rows: list[list[object]] = []
    numbers: list[int] = []
    append_row, append_number = rows.append, numbers.append
    widest = 0
    number = first_row + h + 1  # 1-based file row of raw[h]
    for row in raw[h + 1 :] if h + 1 < len(raw) else ():
        number += 1
        cells = [(v.strip() or None) if isinstance(v, str) else v for v in row]
        size = len(cells)
        if cells.count(None) == size or cells == header_cells:
            continue  # blank, or the header repeated (exports repeat it on every page)
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
    empty = [
        j
        for j in range(width)
        if header_cells[j] is None and all(cells[j] is None for cells in rows)
    ]
    if empty and len(empty) < width:
        keep = [j for j in range(width) if j not in set(empty)]
        header_cells = [header_cells[j] for j in keep]
        rows[:] = [[cells[j] for j in keep] for cells in rows]

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
    )


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
