"""The import use case end to end, as the CLI and the wizard both call it.

open → mapping (saved by name, remembered for these headers, or guessed from them) →
preview → apply as a batch (→ undo). Each step is a plain function with plain results.
Customers and orders take the same steps; the plan's kind decides how it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from smbcrm.models import Database, ImportKind
from smbcrm.services.collector import collector_paused
from smbcrm.errors import SmbcrmError
from smbcrm.services.importing.apply import BatchResult, apply_plan
from smbcrm.services.importing.mapping import (
    Mapping,
    auto_map,
    find_saved_mapping,
    header_hint,
    load_mapping,
    mapping_problems,
)
from smbcrm.services.importing.orders import (
    OrderBatchResult,
    OrderImportPlan,
    apply_order_plan,
    build_order_plan,
)
from smbcrm.services.importing.plan import ImportOptions, ImportPlan, build_plan
from smbcrm.services.importing.reader import Table, read_table
from smbcrm.services.progress import Progress

DEFAULT_SOURCE = "import"


class MappingError(SmbcrmError):
    """The columns cannot be mapped well enough to import (e.g. no name column)."""


def open_table(path: Path, kind: ImportKind, sheet: str | None = None) -> Table:
    return read_table(Path(path), sheet, header_hint=header_hint(kind))


def choose_mapping(
    session: Session,
    table: Table,
    kind: ImportKind,
    *,
    mapping_name: str | None = None,
    source_system: str | None = None,
) -> Mapping:
    """A saved mapping by name, else one saved for these headers, else a guess from them."""
    if mapping_name:
        mapping = load_mapping(session, mapping_name, table.header, kind)
    else:
        mapping = find_saved_mapping(session, table.header, kind) or auto_map(table.header, kind)
    if source_system:
        mapping.source_system = source_system.strip() or DEFAULT_SOURCE
    return mapping


def check_mapping(table: Table, mapping: Mapping) -> None:
    problems = mapping_problems(mapping)
    if problems:
        where = f"{table.path.name}" + (f", sheet '{table.sheet}'" if table.sheet else "")
        raise MappingError(
            f"{where} (header on row {table.header_row}: {', '.join(table.header[:8])}"
            f"{'…' if len(table.header) > 8 else ''}): {' '.join(problems)}"
        )


@dataclass(frozen=True)
class Prepared:
    table: Table
    mapping: Mapping
    plan: ImportPlan


def prepare_import(
    db: Database,
    path: Path,
    kind: ImportKind = ImportKind.CUSTOMERS,
    *,
    sheet: str | None = None,
    mapping_name: str | None = None,
    source_system: str | None = None,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> Prepared:
    """Read, map and preview a file without writing anything.

    For orders the plan is an :class:`OrderImportPlan` (every order, its customer or why
    none was found, and what a re-import changes).
    """
    with collector_paused():
        return _prepare(db, path, kind, sheet, mapping_name, source_system, options, progress)


def _prepare(
    db: Database,
    path: Path,
    kind: ImportKind,
    sheet: str | None,
    mapping_name: str | None,
    source_system: str | None,
    options: ImportOptions | None,
    progress: Progress | None,
) -> Prepared:
    table = open_table(path, kind, sheet)
    with db.new_session() as session:
        mapping = choose_mapping(
            session, table, kind, mapping_name=mapping_name, source_system=source_system
        )
        check_mapping(table, mapping)
        options = options or ImportOptions(region=db.default_region())
        plan: ImportPlan
        if kind == ImportKind.ORDERS:
            plan = build_order_plan(session, table, mapping, options, progress=progress)
        else:
            plan = build_plan(session, table, mapping, options, progress=progress)
    return Prepared(table, mapping, plan)


def apply_import(
    db: Database, actor_id: int, plan: ImportPlan, *, progress: Progress | None = None
) -> BatchResult | OrderBatchResult:
    """Write a previewed plan as one undoable batch: customers or orders, as previewed."""
    if isinstance(plan, OrderImportPlan):
        return apply_order_plan(db, actor_id, plan, progress=progress)
    if plan.kind != ImportKind.CUSTOMERS:
        raise SmbcrmError("This order file was previewed as customers; preview it again.")
    return apply_plan(db, actor_id, plan, progress=progress)
