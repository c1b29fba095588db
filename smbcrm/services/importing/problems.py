"""The rows an import could not take, saved as .xlsx with a "Problem" column to fix and re-import."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from smbcrm.services.errors import SmbcrmError
from smbcrm.services.importing.plan import ImportPlan, RowPlan


def write_problem_rows(plan: ImportPlan, target: Path, rows: list[RowPlan] | None = None) -> int:
    """Write the original header plus "Problem" and the rows with errors; returns the count."""
    rows = plan.error_rows if rows is None else rows
    target = target.expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        workbook = xlsxwriter.Workbook(
            str(target), {"constant_memory": True, "strings_to_formulas": False}
        )
    except OSError as exc:
        raise SmbcrmError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    sheet = workbook.add_worksheet("Problems")
    bold = workbook.add_format({"bold": True, "bg_color": "#FDE9E7"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    columns = ["Row", *plan.header, "Problem"]
    for col, title in enumerate(columns):
        sheet.write_string(0, col, title, bold)
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(rows, start=1):
        sheet.write_number(r, 0, row.row_number)
        for c, value in enumerate(row.raw[: len(plan.header)], start=1):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif isinstance(value, datetime | date):
                sheet.write_datetime(
                    r, c, datetime(value.year, value.month, value.day), date_format
                )
            else:
                # Always text: a cell like "=HYPERLINK(...)" must not become a formula.
                sheet.write_string(r, c, str(value))
        sheet.write_string(r, len(columns) - 1, row.problem_text())
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, len(plan.header), 16)
    sheet.set_column(len(columns) - 1, len(columns) - 1, 60)
    sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    try:
        workbook.close()
    except OSError as exc:
        raise SmbcrmError(f"Cannot write {target}: {exc}.") from exc
    return len(rows)
