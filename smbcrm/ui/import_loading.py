"""The import wizard's work on workers: reading a file, building the preview, applying it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smbcrm.models import ImportKind
from smbcrm.services import auth
from smbcrm.services.importing.apply import BatchResult, apply_plan
from smbcrm.services.importing.mapping import (
    Mapping,
    header_hint,
    saved_mapping_names,
)
from smbcrm.services.importing.orders import (
    OrderBatchResult,
    OrderImportPlan,
    apply_order_plan,
    build_order_plan,
    looks_like_orders,
)
from smbcrm.services.importing.plan import (
    ImportOptions,
    ImportPlan,
    build_plan,
)
from smbcrm.services.importing.reader import SheetInfo, Table, list_sheets, read_table
from smbcrm.services.importing.service import choose_mapping
from smbcrm.services.progress import Progress
from smbcrm.ui.context import AppContext
from smbcrm.ui.import_texts import KIND, sample_values, tr

# -- background jobs -----------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    sheets: list[SheetInfo] | None  # None: the sheet list was not read again
    table: Table
    mapping: Mapping
    saved_names: list[str]
    samples: list[list[str]]
    kind: ImportKind = KIND
    guessed: bool = False  # the kind was chosen from the columns, not by the user


@dataclass(frozen=True)
class Preview:
    plan: ImportPlan
    staff: dict[int, str]  # user id → name, to show owner changes


def load_file(
    ctx: AppContext,
    path: Path,
    sheet: str | None,
    with_sheets: bool,
    progress: Progress,
    kind: ImportKind | None = None,
) -> LoadedFile:
    """Read a sheet and guess its mapping (on a worker: big files take a while).

    Without a ``kind`` the header is looked for as either kind, and the file is taken as
    orders when its columns read like an order export (order number, date, amount).
    """
    progress.report(0, 0, tr("Reading {0}…").format(path.name))
    sheets = list_sheets(path) if with_sheets else None
    progress.check()
    if kind is None:
        customers, orders = header_hint(ImportKind.CUSTOMERS), header_hint(ImportKind.ORDERS)
        table = read_table(
            path, sheet, header_hint=lambda cells: max(customers(cells), orders(cells))
        )
        chosen = ImportKind.ORDERS if looks_like_orders(table.header) else ImportKind.CUSTOMERS
    else:
        table = read_table(path, sheet, header_hint=header_hint(kind))
        chosen = kind
    progress.check()
    with ctx.read_session() as session:
        mapping = choose_mapping(session, table, chosen)
        names = saved_mapping_names(session, chosen)
    return LoadedFile(
        path, sheets, table, mapping, names, sample_values(table), chosen, kind is None
    )


def build_preview(
    ctx: AppContext, table: Table, mapping: Mapping, options: ImportOptions, progress: Progress
) -> Preview:
    with ctx.read_session() as session:
        plan: ImportPlan
        if mapping.kind == ImportKind.ORDERS:
            plan = build_order_plan(session, table, mapping, options, progress=progress)
        else:
            plan = build_plan(session, table, mapping, options, progress=progress)
        staff = {row.id: row.full_name for row in auth.list_staff(session)}
    return Preview(plan, staff)


def apply_preview(
    ctx: AppContext, plan: ImportPlan, progress: Progress
) -> BatchResult | OrderBatchResult:
    if isinstance(plan, OrderImportPlan):
        return apply_order_plan(ctx.db, ctx.user_id, plan, progress=progress)
    return apply_plan(ctx.db, ctx.user_id, plan, progress=progress)
