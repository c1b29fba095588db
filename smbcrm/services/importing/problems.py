"""The rows an import could not take: saved as .xlsx (or .csv) with a "Problem" column to
fix and re-import, and kept with their batch so the Export menu can write them again later."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from smbcrm.errors import NotFoundError, ValidationError
from smbcrm.models import ImportBatch, ImportProblem, User
from smbcrm.services.importing.plan import ImportPlan, RowPlan

if TYPE_CHECKING:
    from smbcrm.services.export.workbook import Row, Sheet

CHUNK = 1000


def problems_sheet(
    header: Sequence[str],
    problems: Sequence[tuple[int, Sequence[Any], str]],
    *,
    name: str,
    language: str = "en",
) -> Sheet:
    """The file's own columns between "Row" and "Problem": fixed, it imports as it is.

    ``problems`` are (row number, the row's cells, what is wrong) as kept or previewed.
    """
    # Imported here: the export package imports this module for its own problem sheet.
    from smbcrm.services.export.workbook import Column, ColumnKind, Sheet

    width = len(header)
    columns = [
        Column("Row", "行号", ColumnKind.INTEGER),
        *(Column(title, title) for title in header),
        Column("Problem", "问题"),
    ]

    def rows() -> Iterator[Row]:
        for row_number, cells, problem in problems:
            padded = [_json_cell(value) for value in cells[:width]]
            padded += [None] * (width - len(padded))
            yield (row_number, *padded, problem)

    return Sheet(
        name=name,
        columns=columns,
        rows=rows(),
        expected_rows=len(problems),
        language=language,
        label_column=0,
    )


def check_problem_file(target: Path) -> Path:
    """The file the rows with problems go to, checked before anything is read or written:
    .xlsx or .csv, as its name says."""
    target = target.expanduser()
    if target.suffix.lower() not in (".xlsx", ".csv"):
        raise ValidationError(
            {
                "errors": f"Save the rows with problems as .xlsx or .csv, not "
                f"'{target.suffix or target.name}': end the file name with .xlsx (Excel) "
                "or .csv."
            }
        )
    return target


def write_problem_rows(plan: ImportPlan, target: Path, rows: list[RowPlan] | None = None) -> int:
    """Write the original header plus "Problem" and the rows with errors; returns the count.

    An .xlsx or a .csv file, as the name says (a missing folder is made).
    """
    from smbcrm.services.export.workbook import save_sheet, writing_to

    target = check_problem_file(target)
    rows = plan.error_rows if rows is None else rows
    sheet = problems_sheet(
        plan.header, [(r.row_number, r.raw, r.problem_text()) for r in rows], name="Problems"
    )
    with writing_to(target):
        target.parent.mkdir(parents=True, exist_ok=True)
    save_sheet(target, sheet)
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
