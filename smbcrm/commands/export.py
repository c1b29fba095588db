"""``smbcrm export customers|orders|statement|revenue|at-risk -o FILE.xlsx|.csv``.

English column headers are stable (automation relies on them); ``--lang zh`` writes Chinese
ones. A user who may not export gets a one-line refusal and no file.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from smbcrm.cli import EXIT_OK, CliError, acting_user, clear_progress, open_db, terminal_progress
from smbcrm.services.export.service import ExportKind, ExportOptions, export


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-03-31"
        ) from None


def register(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "export",
        help="export customers, orders, statements, revenue, at-risk or import problems",
        description="Export to Excel (.xlsx) or CSV. The file type follows the file name.",
    )
    parser.add_argument("kind", choices=[k.value for k in ExportKind], metavar="KIND",
                        help="customers, orders, statement, revenue, at-risk or import-problems")  # fmt: skip
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="FILE")
    parser.add_argument("--from", dest="date_from", type=_date, metavar="DATE",
                        help="first day of the period (YYYY-MM-DD)")  # fmt: skip
    parser.add_argument("--to", dest="date_to", type=_date, metavar="DATE",
                        help="last day of the period (YYYY-MM-DD)")  # fmt: skip
    parser.add_argument("--per-line", action="store_true", help="orders: one row per order line")
    parser.add_argument("--include-cancelled", action="store_true",
                        help="orders: list cancelled and void orders too (the total then counts them)")  # fmt: skip
    parser.add_argument("--customer", type=int, metavar="ID",
                        help="statement: this customer only (smbcrm ID)")  # fmt: skip
    parser.add_argument("--batch", type=int, metavar="N",
                        help="import-problems: this import batch (default: the latest with problems)")  # fmt: skip
    parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "gbk"],
                        help="CSV only: utf-8 with BOM (default) or gbk")  # fmt: skip
    parser.add_argument("--lang", default="en", choices=["en", "zh"],
                        help="column headers in English (default) or Chinese")  # fmt: skip
    parser.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    if args.per_line and args.kind != ExportKind.ORDERS:
        raise CliError("--per-line is for the orders export only.")
    if args.include_cancelled and args.kind != ExportKind.ORDERS:
        raise CliError("--include-cancelled is for the orders export only.")
    if args.customer is not None and args.kind != ExportKind.STATEMENT:
        raise CliError("--customer is for the statement export only.")
    if args.batch is not None and args.kind != ExportKind.IMPORT_PROBLEMS:
        raise CliError("--batch is for the import-problems export only.")
    db = open_db(args)
    actor = acting_user(db, args)
    options = ExportOptions(
        date_from=args.date_from,
        date_to=args.date_to,
        per_line=args.per_line,
        include_cancelled=args.include_cancelled,
        customer_id=args.customer,
        batch_id=args.batch,
        encoding=args.encoding,
        language=args.lang,
    )
    try:
        result = export(db, actor.id, args.kind, args.output, options, terminal_progress())
    finally:
        clear_progress()
    print(result.summary)
    for warning in result.warnings:
        print(f"  note: {warning}")
    return EXIT_OK
