"""The rows an import could not take, as kept with their batch: the file's own columns plus
"Row" and "Problem", so the sheet can be fixed and imported again as it is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from smbcrm.services.export.workbook import Sheet
from smbcrm.services.importing.problems import kept_problems, problems_sheet


def import_problems_sheet(session: Session, *, batch_id: int | None, language: str) -> Sheet:
    batch, problems = kept_problems(session, batch_id)
    name = Path(batch.file_name).stem
    return problems_sheet(
        list(batch.source_header or []),
        problems,
        name=f"导入问题 {name}" if language == "zh" else f"Problems {name}",
        language=language,
    )
