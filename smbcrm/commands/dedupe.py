"""``smbcrm dedupe`` — find the customers that may be one, and queue them for review.

Without ``--report`` a short table of the most alike pairs is printed; with
``--report FILE.xlsx|.csv`` every pair is written with the columns ``ID A``, ``ID B``,
``Name A``, ``Name B``, ``Score`` and ``Reasons`` (IDs as ``smbcrm export customers``
shows them). The pairs are kept in the review queue unless ``--no-save`` is given.
"""

from __future__ import annotations

import argparse
import unicodedata
from pathlib import Path
from typing import Any

from smbcrm.errors import ValidationError
from smbcrm.models import ExportEntry, User
from smbcrm.services import duplicates
from smbcrm.services.export.workbook import (
    FILE_TYPES,
    Column,
    ColumnKind,
    Sheet,
    check_folder,
    save_sheet,
)
from smbcrm.services.permissions import Permission, require

TABLE_LIMIT = 20
REPORT_COLUMNS = [
    Column("ID A", "编号A", ColumnKind.INTEGER),
    Column("ID B", "编号B", ColumnKind.INTEGER),
    Column("Name A", "名称A"),
    Column("Name B", "名称B"),
    Column("Score", "相似度", ColumnKind.NUMBER),
    Column("Reasons", "原因"),
]


def threshold_value(text: str) -> float:
    """A score out of 100 (80) or a fraction (0.8)."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a number; give a score such as 80 (or 0.8)"
        ) from None
    if 0 < value <= 1:
        value *= 100
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(
            f"{text} is not a score; give a number above 0 and at most 100, such as 80"
        )
    return value


def register(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "dedupe",
        help="find customers that may be duplicates and queue them for review",
        description="Scan every customer for likely duplicates. The pairs found wait in the "
        "review queue (Duplicates in the app) unless --no-save is given.",
    )
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="write every pair to FILE.xlsx or .csv"
    )
    parser.add_argument(
        "--threshold",
        type=threshold_value,
        default=duplicates.DEFAULT_THRESHOLD,
        metavar="T",
        help=f"lowest score a pair needs, 0-100 or 0-1 (default {duplicates.DEFAULT_THRESHOLD:g})",
    )
    parser.add_argument(
        "--no-save", action="store_true", help="only report; leave the review queue as it is"
    )
    parser.set_defaults(handler=cmd_dedupe)


def _fit(text: str, width: int) -> str:
    """Cut and pad to ``width`` terminal columns (Chinese characters take two)."""
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (width - used)


def report_sheet(result: duplicates.ScanResult) -> Sheet:
    rows = [
        (c.a_id, c.b_id, c.a_name, c.b_name, c.score, "; ".join(c.reasons))
        for c in result.candidates
    ]
    return Sheet(
        name="Possible duplicates",
        columns=REPORT_COLUMNS,
        rows=rows,
        expected_rows=len(rows),
    )


def check_report_name(path: Path) -> None:
    if path.suffix.lower() not in FILE_TYPES:
        raise ValidationError(
            {"report": f"Save the report as .xlsx or .csv, not '{path.suffix or path.name}'."}
        )
    check_folder(path)


def write_report(path: Path, result: duplicates.ScanResult) -> int:
    check_report_name(path)
    return save_sheet(path, report_sheet(result))


def cmd_dedupe(args: argparse.Namespace) -> int:
    from smbcrm.cli import EXIT_OK, acting_user, clear_progress, open_db, terminal_progress

    db = open_db(args)
    actor = acting_user(db, args)
    with db.new_session() as session:
        user = session.get_one(User, actor.id)
        require(user, Permission.VIEW_CUSTOMERS if args.no_save else Permission.MERGE)
        if args.report is not None:
            require(user, Permission.EXPORT)
            # A report name that cannot be used is refused before the scan, not after it.
            check_report_name(args.report)
    try:
        result = duplicates.scan_duplicates(
            db, threshold=args.threshold, progress=terminal_progress(), save=not args.no_save
        )
    finally:
        clear_progress()
    found = len(result.candidates)
    if args.report is not None:
        written = write_report(args.report, result)
        with db.session(user_id=actor.id) as session:
            session.add(
                ExportEntry(
                    user_id=actor.id,
                    kind="duplicates",
                    row_count=written,
                    file_name=str(args.report),
                    filters={"threshold": args.threshold},
                )
            )
        print(f"Wrote {written} possible duplicate pairs to {args.report}.")
    elif found:
        print(f"{'Score':>5}  {'ID A':>6} {'Name A':<28} {'ID B':>6} {'Name B':<28} Reasons")
        for c in result.candidates[:TABLE_LIMIT]:
            print(
                f"{c.score:>5.0f}  {c.a_id:>6} {_fit(c.a_name, 28)} {c.b_id:>6} "
                f"{_fit(c.b_name, 28)} {'; '.join(c.reasons)}"
            )
        if found > TABLE_LIMIT:
            print(f"… and {found - TABLE_LIMIT} more: use --report FILE.xlsx for all.")
    print(
        f"{result.customers_scanned:,} customers checked in {result.seconds:.1f} s: "
        f"{found:,} possible duplicate pairs."
    )
    if result.suppressed:
        print(f"{result.suppressed:,} pairs marked “not the same” before were left out.")
    for note in result.book_notes:
        print(note)
    if args.no_save:
        print("The review queue was left as it was (--no-save).")
    else:
        print(f"{result.queued:,} pairs queued for review.")
    return EXIT_OK
