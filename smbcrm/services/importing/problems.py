"""The rows an import could not take: saved as .xlsx with a "Problem" column to fix and
re-import, and kept with their batch so the Export menu can write them again later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from smbcrm.models import ImportBatch, ImportProblem, User
from smbcrm.services.errors import NotFoundError, SmbcrmError
from smbcrm.services.importing.plan import ImportPlan, RowPlan

CHUNK = 1000


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


def _json_cell(value: object) -> Any:
    """A cell as JSON keeps it: dates as ISO text, whole floats as integers (phone numbers)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def record_problems(
    session: Session, batch: ImportBatch, header: Sequence[str], rows: Sequence[RowPlan]
) -> int:
    """Keep the batch's problem rows (and the header they sit under) with the batch."""
    batch.source_header = list(header)
    width = len(header)
    for start in range(0, len(rows), CHUNK):
        session.execute(
            insert(ImportProblem),
            [
                {
                    "batch_id": batch.id,
                    "row_number": row.row_number,
                    "cells": [_json_cell(v) for v in row.raw[:width]],
                    "problem": row.problem_text() or row.reason or "Not imported",
                }
                for row in rows[start : start + CHUNK]
            ],
        )
    return len(rows)


@dataclass(frozen=True)
class ProblemBatch:
    """An import batch that left rows behind, as the export dialog offers it."""

    id: int
    file_name: str
    started_at: datetime
    user: str | None
    problems: int

    @property
    def label(self) -> str:
        name = Path(self.file_name).name
        rows = "1 row" if self.problems == 1 else f"{self.problems:,} rows"
        return f"#{self.id} {name} — {self.started_at:%Y-%m-%d %H:%M}, {rows} with problems"


def problem_batches(session: Session, limit: int = 50) -> list[ProblemBatch]:
    """The latest batches with problem rows kept, newest first."""
    rows = session.execute(
        select(ImportBatch.id, ImportBatch.file_name, ImportBatch.started_at, User.full_name)
        .outerjoin(User, User.id == ImportBatch.user_id)
        .where(ImportBatch.error_count > 0, ImportBatch.source_header.is_not(None))
        .order_by(ImportBatch.id.desc())
        .limit(limit)
    ).all()
    counts = dict(
        session.execute(
            select(ImportProblem.batch_id, func.count())
            .where(ImportProblem.batch_id.in_([r[0] for r in rows]))
            .group_by(ImportProblem.batch_id)
        ).all()
    )
    return [
        ProblemBatch(bid, name, started, user, int(counts.get(bid, 0)))
        for bid, name, started, user in rows
        if counts.get(bid)
    ]


def kept_problems(
    session: Session, batch_id: int | None
) -> tuple[ImportBatch, list[tuple[int, list[Any], str]]]:
    """A batch (the latest with problems when ``batch_id`` is None) and its problem rows."""
    if batch_id is None:
        latest = problem_batches(session, limit=1)
        if not latest:
            raise NotFoundError(
                "No import has left rows with problems: every imported row was taken."
            )
        batch_id = latest[0].id
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFoundError(
            f"There is no import batch #{batch_id}; `smbcrm batches list` shows the batches."
        )
    rows = [
        (r.row_number, list(r.cells), r.problem)
        for r in session.scalars(
            select(ImportProblem)
            .where(ImportProblem.batch_id == batch_id)
            .order_by(ImportProblem.row_number)
        )
    ]
    if not rows:
        raise NotFoundError(
            f"Import batch #{batch_id} ({Path(batch.file_name).name}) left no rows with "
            "problems: every row was taken (or it was imported by an earlier version)."
        )
    return batch, rows
