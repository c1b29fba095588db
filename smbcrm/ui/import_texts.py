"""Words, labels and texts the import wizard shows: outcomes, changes, chips, samples."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum, IntEnum
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
)

from smbcrm.errors import worded
from smbcrm.models import ImportKind
from smbcrm.models.keys import format_phone
from smbcrm.services.importing.fields import SPECS, Field, FieldSpec
from smbcrm.services.importing.mapping import (
    Mapping,
)
from smbcrm.services.importing.plan import (
    CellProblem,
    Outcome,
    RowPlan,
)
from smbcrm.services.importing.reader import Table
from smbcrm.ui.counts import plural as plural  # the import pages count rows with it

KIND = ImportKind.CUSTOMERS  # what a file is imported as unless it reads like orders
FILE_FILTER = "Spreadsheets (*.xlsx *.xlsm *.xls *.csv *.txt)"
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".txt", ".tsv"}
SAMPLE_COUNT = 3
SAMPLE_SCAN_ROWS = 5000  # a column empty this far down shows no samples; fine
SAMPLE_MAX_CHARS = 40

BANNER_STYLE = (
    "QLabel { background: #eef4ff; color: #1e3a8a; border: 1px solid #c9d8f8;"
    " border-radius: 6px; padding: 8px 10px; }"
)
WARNING_STYLE = (
    "QLabel { background: #fff6e0; color: #6b4400; border: 1px solid #f0d9a0;"
    " border-radius: 6px; padding: 8px 10px; }"
)
STOP_STYLE = (
    "QLabel { background: #fdecea; color: #8c1d18; border: 1px solid #f5c2bd;"
    " border-radius: 6px; padding: 8px 10px; }"
)

# (text, background) per outcome: new green, update blue, unchanged grey, duplicate amber,
# error red — the same colours in the chips and in the table.
OUTCOME_COLORS: dict[Outcome, tuple[str, str]] = {
    Outcome.CREATE: ("#17663a", "#e2f4e8"),
    Outcome.UPDATE: ("#1e40af", "#e0eafd"),
    Outcome.UNCHANGED: ("#4b5563", "#eceff3"),
    Outcome.SAME_AS_ROW: ("#4b5563", "#eceff3"),
    Outcome.DUPLICATE: ("#8a5300", "#fff0d4"),
    Outcome.REVIEW: ("#8a5300", "#fff0d4"),
    Outcome.SKIP: ("#4b5563", "#eceff3"),
    Outcome.ERROR: ("#b3261e", "#fdecea"),
}
ALWAYS_SHOWN = (Outcome.CREATE, Outcome.UPDATE, Outcome.UNCHANGED, Outcome.DUPLICATE, Outcome.ERROR)
DECISIONS = (Outcome.CREATE, Outcome.UPDATE, Outcome.SKIP, Outcome.REVIEW)
# Changes that add to a list (a second phone) rather than replace a value.
ADDED_COLUMNS = {"phones", "emails", "tags", "wechat", "contact", "external_id"}


def tr(text: str) -> str:
    return QCoreApplication.translate("ImportWizard", text)


class Step(IntEnum):
    FILE = 0
    MAPPING = 1
    PREVIEW = 2
    SUMMARY = 3


# -- plain helpers (formatting only) --------------------------------------------------------


def display_value(value: object) -> str:
    """A cell or a change as a person reads it: 13800138000.0 → 13800138000, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return tr("yes") if value else tr("no")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, list | tuple | set):
        return ", ".join(display_value(v) for v in value)
    return str(value)


def sample_values(table: Table, limit: int = SAMPLE_COUNT) -> list[list[str]]:
    """The first ``limit`` non-empty values of each column, to recognise it by."""
    width = len(table.header)
    samples: list[list[str]] = [[] for _ in range(width)]
    missing = width
    for cells in table.rows[:SAMPLE_SCAN_ROWS]:
        for i, value in enumerate(cells[:width]):
            column = samples[i]
            if len(column) >= limit:
                continue
            text = display_value(value).strip()
            if text:
                if len(text) > SAMPLE_MAX_CHARS:
                    text = text[: SAMPLE_MAX_CHARS - 1] + "…"
                column.append(text)
                if len(column) == limit:
                    missing -= 1
        if missing == 0:
            break
    return samples


def field_choice_label(spec: FieldSpec) -> str:
    return f"{tr(spec.label)} / {spec.label_zh}"


def rows_text(numbers: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    more = "…" if len(numbers) > limit else ""
    return (tr("row {0}") if len(numbers) == 1 else tr("rows {0}")).format(shown + more)


def change_label(column: str) -> str:
    special = {
        "owner_id": tr("Owner"),
        "phones": tr("Phones"),
        "emails": tr("E-mails"),
        "external_id": tr("Customer code"),
        "contact": tr("Contact"),
    }
    if column in special:
        return special[column]
    try:
        return tr(SPECS[Field(column)].label)
    except (ValueError, KeyError):
        return column.replace("_", " ").capitalize()


def change_text(column: str, old: Any, new: Any, staff: dict[int, str], region: str) -> str:
    """'City: 广州 → 深圳', 'Phones: + 139 1234 5678'."""

    def show(value: Any) -> str:
        if column == "owner_id" and isinstance(value, int):
            return staff.get(value, tr("staff #{0}").format(value))
        if column == "phones" and isinstance(value, list):
            return ", ".join(format_phone(str(v), region) for v in value)
        return display_value(value)

    label = change_label(column)
    if column in ADDED_COLUMNS:
        return f"{label}: + {show(new)}"
    return f"{label}: {show(old) or '—'} → {show(new) or '—'}"


def outcome_label(row: RowPlan) -> str:
    if row.outcome == Outcome.DUPLICATE:
        decided = {
            Outcome.CREATE: tr("Duplicate? → new"),
            Outcome.UPDATE: tr("Duplicate? → update"),
            Outcome.SKIP: tr("Duplicate? → skip"),
            Outcome.REVIEW: tr("Duplicate? → review"),
        }
        return decided.get(row.decision or row.outcome, tr("Possible duplicate"))
    if row.outcome == Outcome.SAME_AS_ROW and row.same_as_row is not None:
        return tr("Same as row {0}").format(row.same_as_row)
    return {
        Outcome.CREATE: tr("New"),
        Outcome.UPDATE: tr("Update"),
        Outcome.UNCHANGED: tr("Unchanged"),
        Outcome.SAME_AS_ROW: tr("Same as an earlier row"),
        Outcome.REVIEW: tr("For review"),
        Outcome.SKIP: tr("Skipped"),
        Outcome.ERROR: tr("Error"),
    }[row.outcome]


def problem_text(problem: CellProblem) -> str:
    """ "Column '邮箱': 'x@' is not an e-mail address → write it as name@example.com"."""
    where = tr("Column '{0}'").format(problem.column) if problem.column else tr("Row")
    text = f"{where}: {worded(problem.message).rstrip('.')}"
    return f"{text} → {worded(problem.hint).rstrip('.')}" if problem.hint else text


def row_details(row: RowPlan, staff: dict[int, str], region: str) -> str:
    """Why the row gets its outcome: the problems, or which customer and what changes."""
    if row.outcome == Outcome.ERROR:
        text = "; ".join(problem_text(p) for p in row.problems)
    else:
        parts = [worded(row.reason)] if row.reason else []
        if row.changes and row.effective == Outcome.UPDATE:
            parts.append(
                "; ".join(
                    change_text(column, old, new, staff, region)
                    for column, (old, new) in row.changes.items()
                )
            )
        elif row.effective == Outcome.UNCHANGED:
            parts.append(tr("nothing new in this row"))
        text = " — ".join(parts)
    if row.warnings:
        text += tr(" ({0})").format(tr("; ").join(worded(w) for w in row.warnings))
    return text


def chip_text(outcome: Outcome, count: int) -> str:
    texts = {
        Outcome.CREATE: ("{n} new", "{n} new"),
        Outcome.UPDATE: ("{n} update", "{n} updates"),
        Outcome.UNCHANGED: ("{n} unchanged", "{n} unchanged"),
        Outcome.SAME_AS_ROW: ("{n} same as an earlier row", "{n} same as an earlier row"),
        Outcome.DUPLICATE: ("{n} possible duplicate", "{n} possible duplicates"),
        Outcome.REVIEW: ("{n} for review", "{n} for review"),
        Outcome.SKIP: ("{n} skipped", "{n} skipped"),
        Outcome.ERROR: ("{n} error", "{n} errors"),
    }
    one, many = texts[outcome]
    return plural(count, tr(one), tr(many))


def chip_style(outcome: Outcome, count: int) -> str:
    color, background = OUTCOME_COLORS[outcome]
    if count == 0:  # an empty category is there to read, not to notice
        color, background = "#9aa3ae", "#f3f4f6"
    return (
        f"QLabel {{ color: {color}; background: {background}; border-radius: 11px;"
        " padding: 3px 11px; font-weight: 600; }"
    )


def describe_table(table: Table, mapping: Mapping) -> str:
    """Where the header was found and what was left out, in one paragraph."""
    name = table.path.name + (f" ▸ {table.sheet}" if table.sheet else "")
    parts = [
        tr("{file}: {rows} to import.").format(
            file=name, rows=plural(len(table.rows), tr("{n} row"), tr("{n} rows"))
        )
    ]
    above = table.header_row - 1
    if above:
        found = tr("Header found on row {row}; {skipped} skipped").format(
            row=table.header_row,
            skipped=plural(
                above, tr("the row above it"), tr("the {n} rows above it (titles, blank lines)")
            ),
        )
    else:
        found = tr("Header on row 1")
    if table.skipped_totals_row:
        found += tr(", and the totals row ({row}) left out").format(row=table.skipped_totals_row)
    parts.append(tr("{0}.").format(found))
    if table.encoding:
        delimiters = {",": tr("commas"), ";": tr("semicolons"), "\t": tr("tabs"), "|": tr("bars")}
        parts.append(
            tr("Read as {encoding} text separated by {delimiter}.").format(
                encoding=table.encoding.upper(),
                delimiter=delimiters.get(table.delimiter or ",", repr(table.delimiter)),
            )
        )
    if mapping.name:
        parts.append(tr("Columns set by the saved mapping “{0}”.").format(mapping.name))
    else:
        matched = sum(1 for f in mapping.columns.values() if f is not None)
        if matched:
            parts.append(
                tr(
                    "{matched} of {total} columns recognised by their names; check them below."
                ).format(matched=matched, total=len(table.header))
            )
        else:
            parts.append(
                tr(
                    "No column name was recognised: choose below what each column holds, "
                    "then save the mapping so this file shape maps itself next time."
                )
            )
    return " ".join(parts)
