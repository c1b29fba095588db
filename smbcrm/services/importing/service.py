"""The import use case end to end, as the CLI and the wizard both call it.

open → mapping (saved by name, remembered for these headers, or guessed from them) →
preview → apply as a batch (→ undo). Each step is a plain function with plain results.
Customers and orders take the same steps; the plan's kind decides how it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.orm import Session

from smbcrm.errors import SmbcrmError
from smbcrm.models import Database, ImportKind
from smbcrm.services.collector import collector_paused
from smbcrm.services.importing.apply import BatchResult, apply_plan
from smbcrm.services.importing.fields import SPECS, fold_header, header_index
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
    looks_like_orders,
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


def _where(table: Table) -> str:
    return f"{table.path.name}" + (f", sheet '{table.sheet}'" if table.sheet else "")


def check_mapping(table: Table, mapping: Mapping) -> None:
    problems = mapping_problems(mapping)
    if problems:
        where = _where(table)
        raise MappingError(
            f"{where} (header on row {table.header_row}: {', '.join(table.header[:8])}"
            f"{'…' if len(table.header) > 8 else ''}): {' '.join(problems)}"
        )


def check_not_orders(table: Table, mapping: Mapping) -> None:
    """Refuse to read an order export as customers when only the guessed mapping says so.

    Its order numbers and amounts would be dropped without a word and its rows taken for
    customers. The same test as the import window's kind guess (an order number and a
    date or amount), so a customers list with an amount column is not taken for orders.
    A saved mapping is the user's own choice and is followed.
    """
    if mapping.kind != ImportKind.CUSTOMERS or mapping.name or not looks_like_orders(table.header):
        return
    order_headers = header_index(ImportKind.ORDERS)
    found = [
        header
        for header in table.header
        if (target := order_headers.get(fold_header(header))) is not None
        and SPECS[target].kinds == (ImportKind.ORDERS,)
    ]
    where = _where(table)
    raise MappingError(
        f"{where} looks like orders (columns {', '.join(found)}), not a list of "
        "customers. Import it as orders (--kind orders); if it does list customers, say "
        "so (--kind customers)."
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
    kind_confirmed: bool = False,
) -> Prepared:
    """Read, map and preview a file without writing anything.

    For orders the plan is an :class:`OrderImportPlan` (every order, its customer or why
    none was found, and what a re-import changes). A file that reads like orders is not
    imported as customers (:func:`check_not_orders`) unless ``kind_confirmed`` says the
    person chose customers themselves.
    """
    with collector_paused():
        return _prepare(
            db, path, kind, sheet, mapping_name, source_system, options, progress, kind_confirmed
        )


def _prepare(
    db: Database,
    path: Path,
    kind: ImportKind,
    sheet: str | None,
    mapping_name: str | None,
    source_system: str | None,
    options: ImportOptions | None,
    progress: Progress | None,
    kind_confirmed: bool,
) -> Prepared:
    table = open_table(path, kind, sheet)
    with db.new_session() as session:
        mapping = choose_mapping(
            session, table, kind, mapping_name=mapping_name, source_system=source_system
        )
        check_mapping(table, mapping)
        if not kind_confirmed:
            check_not_orders(table, mapping)
        options = options or ImportOptions(region=db.default_region())
        if options.day_first is None and mapping.day_first is not None:
            # Not said for this file: read as the saved mapping's system writes its dates.
            options = replace(options, day_first=mapping.day_first)
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
