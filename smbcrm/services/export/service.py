"""The export use case, as the CLI and the app both call it.

``export(db, actor_id, kind, path, options, progress)``: check the actor may export, build
the sheet, write it to a temporary file beside the target and rename it into place only
when complete (a cancelled or failed export leaves no file behind, and never a half
file under the real name), then record who exported what in ``ExportEntry``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from xlsxwriter.exceptions import FileCreateError

from smbcrm.errors import SmbcrmError, ValidationError
from smbcrm.models import Database, ExportEntry, User
from smbcrm.services.export import csv_writer, workbook
from smbcrm.services.export.customers import customers_sheet
from smbcrm.services.export.import_problems import import_problems_sheet
from smbcrm.services.export.orders import orders_sheet
from smbcrm.services.export.revenue import revenue_sheet
from smbcrm.services.export.statement import statement_sheet
from smbcrm.services.permissions import Permission, require
from smbcrm.services.progress import Progress


class ExportKind(StrEnum):
    CUSTOMERS = "customers"
    ORDERS = "orders"
    STATEMENT = "statement"
    REVENUE = "revenue"
    AT_RISK = "at-risk"
    IMPORT_PROBLEMS = "import-problems"


KIND_LABELS = {
    ExportKind.CUSTOMERS: "customers",
    ExportKind.ORDERS: "orders",
    ExportKind.STATEMENT: "statement rows",
    ExportKind.REVENUE: "customer rows",
    ExportKind.AT_RISK: "at-risk customers",
    ExportKind.IMPORT_PROBLEMS: "rows with problems",
}

FORMATS = (".xlsx", ".csv")
LANGUAGES = ("en", "zh")


def available_kinds() -> list[ExportKind]:
    """The kinds this build can export (at-risk needs the risk service)."""
    kinds: list[ExportKind] = [
        k for k in ExportKind if k not in (ExportKind.AT_RISK, ExportKind.IMPORT_PROBLEMS)
    ]
    if risk_available():
        kinds.append(ExportKind.AT_RISK)
    kinds.append(ExportKind.IMPORT_PROBLEMS)
    return kinds


def risk_available() -> bool:
    try:
        spec = importlib.util.find_spec("smbcrm.services.risk")
    except ModuleNotFoundError:
        return False
    if spec is None:
        return False
    try:
        return hasattr(importlib.import_module("smbcrm.services.risk"), "at_risk")
    except ImportError:
        return False


@dataclass(frozen=True)
class ExportOptions:
    date_from: date | None = None
    date_to: date | None = None
    per_line: bool = False  # orders: one row per order line
    include_cancelled: bool = False  # orders: list cancelled and void orders too
    customer_id: int | None = None  # statement: one customer only
    encoding: str = "utf-8"  # CSV only: utf-8 (with BOM) or gbk
    language: str = "en"  # column headers and words: en or zh
    batch_id: int | None = None  # import problems: this batch (None: the latest with problems)

    def filters(self, fmt: str) -> dict[str, Any]:
        """What the export log keeps: only what was chosen."""
        chosen: dict[str, Any] = {"format": fmt.lstrip("."), "language": self.language}
        if self.date_from:
            chosen["from"] = self.date_from.isoformat()
        if self.date_to:
            chosen["to"] = self.date_to.isoformat()
        if self.per_line:
            chosen["per_line"] = True
        if self.include_cancelled:
            chosen["include_cancelled"] = True
        if self.customer_id is not None:
            chosen["customer_id"] = self.customer_id
        if self.batch_id is not None:
            chosen["batch_id"] = self.batch_id
        if fmt == ".csv":
            chosen["encoding"] = self.encoding
        return chosen


@dataclass(frozen=True)
class ExportResult:
    path: Path
    kind: ExportKind
    rows: int
    entry_id: int
    warnings: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        label = KIND_LABELS[self.kind]
        if self.rows == 1:
            label = label.replace("customers", "customer").replace("orders", "order")
            label = label.replace("rows", "row")
        return f"Exported {self.rows} {label} to {self.path}."


def check_request(
    kind: ExportKind | str, path: Path, options: ExportOptions
) -> tuple[ExportKind, str]:
    """Validate the request before anything is read or written; returns (kind, suffix)."""
    errors: dict[str, str] = {}
    try:
        kind = ExportKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in available_kinds())
        raise ValidationError({"kind": f"'{kind}' is not an export; choose {choices}."}) from None
    if kind == ExportKind.AT_RISK and not risk_available():
        errors["kind"] = "The at-risk list is not available in this version of smbcrm yet."
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        errors["path"] = (
            f"{Path(path).name}: smbcrm exports .xlsx (Excel) or .csv files; "
            "end the file name with one of those."
        )
    if options.date_from and options.date_to and options.date_from > options.date_to:
        errors["period"] = (
            f"The period starts ({options.date_from}) after it ends ({options.date_to}); "
            "swap the dates."
        )
    if options.language not in LANGUAGES:
        errors["language"] = f"'{options.language}' is not a language smbcrm exports; use en or zh."
    if suffix == ".csv":
        try:
            csv_writer.csv_encoding(options.encoding)
        except SmbcrmError as exc:
            errors["encoding"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return kind, suffix


def build_sheet(
    session: Session, kind: ExportKind, options: ExportOptions, region: str
) -> workbook.Sheet:
    lang = options.language
    if kind == ExportKind.CUSTOMERS:
        return customers_sheet(session, language=lang, region=region)
    if kind == ExportKind.ORDERS:
        return orders_sheet(
            session,
            date_from=options.date_from,
            date_to=options.date_to,
            per_line=options.per_line,
            language=lang,
            include_cancelled=options.include_cancelled,
        )
    if kind == ExportKind.STATEMENT:
        return statement_sheet(
            session,
            customer_id=options.customer_id,
            date_from=options.date_from,
            date_to=options.date_to,
            language=lang,
        )
    if kind == ExportKind.REVENUE:
        return revenue_sheet(
            session, date_from=options.date_from, date_to=options.date_to, language=lang
        )
    if kind == ExportKind.IMPORT_PROBLEMS:
        return import_problems_sheet(session, batch_id=options.batch_id, language=lang)
    from smbcrm.services.export.at_risk import at_risk_sheet  # needs the risk service

    return at_risk_sheet(session, language=lang)


def export(
    db: Database,
    actor_id: int,
    kind: ExportKind | str,
    path: Path,
    options: ExportOptions | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    options = options or ExportOptions()
    progress = progress or Progress()
    path = Path(path).expanduser()
    kind, suffix = check_request(kind, path, options)
    with db.new_session(actor_id) as session:
        # Refused before anything is read or any file is made.
        require(session.get(User, actor_id), Permission.EXPORT)
    workbook.check_folder(path)
    progress.report(0, 0, f"Reading {kind.value}…")
    # Beside the target, so the final rename is atomic; created with the usual permissions.
    temp = path.parent / f".{path.stem}.{secrets.token_hex(4)}{suffix}.part"
    try:
        temp.touch(exist_ok=False)
    except OSError as exc:
        raise workbook.cannot_write(path, exc) from exc
    placed = False
    try:
        with db.session(actor_id) as session:
            sheet = build_sheet(session, kind, options, db.default_region())
            label = KIND_LABELS[kind]

            def report(done: int, total: int) -> None:
                progress.report(done, total, f"Writing {done:,} of {total:,} {label}…")

            rows = _write(temp, suffix, sheet, options, report)
            progress.report(rows, rows, "Saving…")
            entry = ExportEntry(
                user_id=actor_id,
                kind=kind.value,
                row_count=rows,
                file_name=str(path),
                filters=options.filters(suffix),
            )
            session.add(entry)
            session.flush()
            entry_id = entry.id
            os.replace(temp, path)
            placed = True
    except BaseException as exc:
        if placed:
            # The log entry could not be saved: an unrecorded export must not stay behind.
            with contextlib.suppress(OSError):
                path.unlink()
        # xlsxwriter reports a failure to save the workbook (book.close()) as FileCreateError.
        if isinstance(exc, OSError | FileCreateError):
            raise workbook.cannot_write(path, exc) from exc
        raise
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
    return ExportResult(path=path, kind=kind, rows=rows, entry_id=entry_id, warnings=sheet.notes)


def _write(
    temp: Path,
    suffix: str,
    sheet: workbook.Sheet,
    options: ExportOptions,
    report: workbook.ProgressFn,
) -> int:
    if suffix == ".csv":
        return csv_writer.write_csv(temp, sheet, csv_writer.csv_encoding(options.encoding), report)
    return workbook.save_workbook(temp, sheet, report)
