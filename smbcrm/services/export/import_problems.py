"""The rows an import could not take, as kept with their batch: the file's own columns plus
"Row" and "Problem", so the sheet can be fixed and imported again as it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from smbcrm.services.export.workbook import Column, ColumnKind, Row, Sheet
from smbcrm.services.importing.problems import kept_problems


def import_problems_sheet(session: Session, *, batch_id: int | None, language: str) -> Sheet:
    batch, problems = kept_problems(session, batch_id)
    header = list(batch.source_header or [])
    columns = [
        Column("Row", "行号", ColumnKind.INTEGER),
        *(Column(title, title) for title in header),
        Column("Problem", "问题"),
    ]
    width = len(header)

    def rows() -> Iterator[Row]:
        for row_number, cells, problem in problems:
            padded = (cells + [None] * width)[:width]
            yield (row_number, *padded, problem)

    name = Path(batch.file_name).stem
    return Sheet(
        name=f"导入问题 {name}" if language == "zh" else f"Problems {name}",
        columns=columns,
        rows=rows(),
        expected_rows=len(problems),
        language=language,
        label_column=0,
    )
