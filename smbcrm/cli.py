"""The ``smbcrm`` command: the same services as the app, from a terminal.

``smbcrm [--db PATH|URL] [--user LOGIN] [COMMAND …]`` — with no command it starts the app.
Errors are one line on stderr and a non-zero exit, never a traceback; unexpected failures
are written in full to a log file the message names. A file that cannot be read or written
(open in Excel, a folder, no permission) is said so in words even when no service caught it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from smbcrm import __version__
from smbcrm.errors import SmbcrmError, ValidationError
from smbcrm.models import Database, ImportKind, Role, User
from smbcrm.models.db import data_dir
from smbcrm.services import auth
from smbcrm.services import database as dbsvc
from smbcrm.services.importing.mapping import Mapping
from smbcrm.services.importing.plan import ImportPlan, OnDuplicate
from smbcrm.services.progress import Progress

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(SmbcrmError):
    """A problem with how the command was called or what it found."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"smbcrm: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="smbcrm",
        description="smbcrm — the company's customer book. With no command, starts the app.",
    )
    parser.add_argument("--version", action="version", version=f"smbcrm {__version__}")
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        help="database file, or postgresql://user:password@host/dbname for a team server "
        "(default: smbcrm.db in your data folder)",
    )
    parser.add_argument("--user", metavar="LOGIN", help="the staff member acting")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    init = commands.add_parser("init", help="set up a new company with its first owner")
    init.add_argument("--company", required=True, metavar="NAME")
    init.add_argument("--owner", required=True, metavar="LOGIN")
    init.add_argument("--name", metavar="FULL_NAME", help="the owner's full name")
    init.add_argument(
        "--region", default="CN", help="country for phones written without +code (default CN)"
    )
    init.set_defaults(handler=cmd_init)

    demo = commands.add_parser("demo", help="fill a new database with the demo company")
    demo.add_argument("--customers", type=int, default=2000, help=argparse.SUPPRESS)
    demo.add_argument("--orders", type=int, default=20000, help=argparse.SUPPRESS)
    demo.set_defaults(handler=cmd_demo)

    db = commands.add_parser("db", help="database upkeep")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_commands.required = True
    upgrade = db_commands.add_parser("upgrade", help="apply schema upgrades (backup first)")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    backup = db_commands.add_parser("backup", help="copy the database file safely")
    backup.add_argument("--to", required=True, metavar="FILE", type=Path)
    backup.set_defaults(handler=cmd_db_backup)

    staff = commands.add_parser("staff", help="staff accounts")
    staff_commands = staff.add_subparsers(
        dest="staff_command", metavar="ACTION", parser_class=_Parser
    )
    staff_commands.required = True
    staff_list = staff_commands.add_parser("list", help="everyone, with role and customers")
    staff_list.set_defaults(handler=cmd_staff_list)
    staff_add = staff_commands.add_parser("add", help="add a staff member")
    staff_add.add_argument("--login", required=True)
    staff_add.add_argument("--name", required=True)
    staff_add.add_argument("--role", required=True, choices=[r.value for r in Role])
    staff_add.set_defaults(handler=cmd_staff_add)
    staff_off = staff_commands.add_parser(
        "deactivate", help="someone leaves: hand their book over, then deactivate them"
    )
    staff_off.add_argument("login", metavar="LOGIN")
    staff_off.add_argument(
        "--handover-to",
        metavar="LOGIN[,LOGIN…]",
        help="colleagues who take over their customers, prospects and open follow-ups "
        "(split evenly by current load)",
    )
    staff_off.add_argument("--reason", metavar="TEXT", help="kept in each customer's history")
    staff_off.set_defaults(handler=cmd_staff_deactivate)
    staff_move = staff_commands.add_parser(
        "reassign", help="move all of one person's customers to colleagues (both stay active)"
    )
    staff_move.add_argument("login", metavar="LOGIN")
    staff_move.add_argument("--to", required=True, metavar="LOGIN[,LOGIN…]")
    staff_move.add_argument("--reason", required=True, metavar="TEXT")
    staff_move.set_defaults(handler=cmd_staff_reassign)

    imp = commands.add_parser(
        "import", help="import customers or orders from a spreadsheet (.xlsx, .xls, .csv)"
    )
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument(
        "--kind",
        choices=[k.value for k in ImportKind],
        help="what the file holds (default: customers; say customers to import a file "
        "that looks like orders as customers)",
    )
    imp.add_argument("--sheet", metavar="NAME")
    imp.add_argument("--mapping", metavar="NAME", help="a column mapping saved in the app")
    imp.add_argument(
        "--source", metavar="SYSTEM", help="the system the file comes from (its customer codes)"
    )
    imp.add_argument(
        "--on-duplicate",
        choices=[o.value for o in OnDuplicate],
        default="update",
        help="what a row matching an existing customer does (default: update)",
    )
    imp.add_argument(
        "--all-or-nothing", action="store_true", help="refuse the file if any row has a problem"
    )
    imp.add_argument("--dry-run", action="store_true", help="show what would happen; write nothing")
    imp.add_argument(
        "--errors",
        type=Path,
        metavar="OUT.xlsx",
        help="save rows with problems here (.xlsx or .csv)",
    )
    date_order = imp.add_mutually_exclusive_group()
    date_order.add_argument("--day-first", action="store_true", help="read 05.03.2024 as 5 March")
    date_order.add_argument(
        "--month-first",
        action="store_true",
        help="read 05.03.2024 as May 3 (without either, as the saved mapping says, else "
        "each date column decides from its dates, and says when it cannot)",
    )
    imp.add_argument("--create-staff", action="store_true", help="create unknown salespeople")
    imp.set_defaults(handler=cmd_import)

    batches = commands.add_parser("batches", help="import batches")
    batch_commands = batches.add_subparsers(
        dest="batch_command", metavar="ACTION", parser_class=_Parser
    )
    batch_commands.required = True
    batch_list = batch_commands.add_parser("list", help="recent imports")
    batch_list.set_defaults(handler=cmd_batches_list)
    batch_undo = batch_commands.add_parser("undo", help="undo an import")
    batch_undo.add_argument("batch_id", type=int, metavar="ID")
    batch_undo.add_argument(
        "--force", action="store_true", help="undo even if records changed since"
    )
    batch_undo.set_defaults(handler=cmd_batches_undo)

    check = commands.add_parser("self-check", help="verify this installation works")
    check.set_defaults(handler=cmd_self_check)

    from smbcrm.commands import register_all

    register_all(commands)
    return parser


# -- helpers ----------------------------------------------------------------------------


def counted(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 customer", "2 customers": the count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def _password(purpose: str) -> str:
    value = os.environ.get("SMBCRM_PASSWORD")
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise CliError(f"No password for {purpose}: set SMBCRM_PASSWORD or run in a terminal.")
    first = getpass.getpass(f"Password for {purpose}: ")
    second = getpass.getpass("Repeat the password: ")
    if first != second:
        raise CliError("The two passwords differ; nothing was changed.")
    return first


def _open(args: argparse.Namespace) -> Database:
    return dbsvc.open_database(args.db)


def _acting_user(db: Database, login: str | None) -> User:
    """--user, else SMBCRM_USER, else the one owner a single-owner book has."""
    login = login or os.environ.get("SMBCRM_USER")
    with db.new_session() as session:
        if login:
            user = auth.find_user(session, login)
            if not user.active:
                raise CliError(f"The account '{user.login}' is deactivated.")
            return user
        from sqlalchemy import select

        owners = list(
            session.scalars(select(User).where(User.role == Role.OWNER, User.active.is_(True)))
        )
    if len(owners) == 1:
        return owners[0]
    if not owners:
        raise CliError("This database has no company yet: run `smbcrm init` or `smbcrm demo`.")
    raise CliError("Say who is acting with --user LOGIN (this company has several owners).")


def _require_company(db: Database) -> None:
    if not dbsvc.has_company(db):
        raise CliError(
            f"{db.display_name} has no company yet: run `smbcrm init` or `smbcrm demo` first."
        )


def open_db(args: argparse.Namespace) -> Database:
    """The database ``--db`` names, upgraded, with a company in it."""
    db = _open(args)
    _require_company(db)
    return db


def acting_user(db: Database, args: argparse.Namespace) -> User:
    return _acting_user(db, args.user)


def terminal_progress() -> Progress:
    return Progress(_terminal_progress)


def clear_progress() -> None:
    _clear_progress()


def _validation_text(exc: ValidationError) -> str:
    return " ".join(exc.field_errors.values()) or str(exc)


def _file_problem_text(exc: Exception) -> str | None:
    """A file the services did not expect to fail, in words (which file, why, what to do);
    None for any other error."""
    # Imported only now: the export package is slow to load and rarely needed here.
    from xlsxwriter.exceptions import FileCreateError

    from smbcrm.services.export.workbook import cannot_write, write_failure_reason

    if not isinstance(exc, OSError | FileCreateError):
        return None
    # xlsxwriter wraps the system's error of writing the workbook in its own.
    cause = exc.args[0] if isinstance(exc, FileCreateError) and exc.args else exc
    name = getattr(cause, "filename", None)
    if isinstance(exc, FileCreateError) and name:
        return str(cannot_write(Path(os.fsdecode(name)), exc))
    reason = write_failure_reason(exc)
    if name:
        return (
            f"Cannot open or write {os.fsdecode(name)}: {reason}. If the file is open in "
            "Excel, close it; otherwise check its name and folder."
        )
    return (
        f"A file could not be read or written: {reason}. Check that the disk has room and "
        "that the folder may be written to, then try again."
    )


def _no_data_rows(where: str) -> CliError:
    return CliError(
        f"{where} has a header row but no data rows; nothing imported. Check that this is "
        "the file (and sheet) that holds the list."
    )


# -- commands ---------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    db = _open(args)
    if dbsvc.has_company(db):
        raise CliError(f"{db.display_name} already holds a company; sign in to it instead.")
    password = _password(f"the owner '{args.owner}'")
    owner = auth.create_company(
        db, args.company, args.owner, args.name, password, default_region=args.region
    )
    print(f"Created {args.company.strip()} in {db.display_name}; owner: {owner.login}.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from smbcrm.services.demo import DEMO_PASSWORD, create_demo_company

    db = _open(args)
    if dbsvc.has_company(db):
        raise CliError(
            f"{db.display_name} already holds a company; give the demo a new file with --db."
        )

    def show(done: int, total: int, message: str) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{message:<60}")
            sys.stderr.flush()

    summary = create_demo_company(
        db, customers=args.customers, orders=args.orders, progress=Progress(show)
    )
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 60 + "\r")
    print(
        f"Demo company '{summary.company}' created in {db.display_name}: "
        f"{summary.customers} customers ({summary.prospects} prospects), {summary.orders} orders, "
        f"{summary.activities} activities, {summary.staff} staff."
    )
    print(f"Sign in as {summary.owner_login} with password {DEMO_PASSWORD}.")
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = Database.open(args.db)
    before = dbsvc.current_revision(db)
    backup = dbsvc.upgrade(db)
    after = dbsvc.current_revision(db)
    if before == after:
        print(f"{db.display_name} is up to date (schema {after}).")
    else:
        print(f"Upgraded {db.display_name} from schema {before or 'empty'} to {after}.")
        if backup is not None:
            print(f"A copy of the database as it was is in {backup}.")
    return EXIT_OK


def cmd_db_backup(args: argparse.Namespace) -> int:
    db = Database.open(args.db)
    if dbsvc.current_revision(db) is None:
        raise CliError(f"{db.display_name} is not an smbcrm database yet; nothing to back up.")
    target = dbsvc.backup_sqlite(db, args.to)
    print(f"Backed up {db.display_name} to {target}.")
    return EXIT_OK


def cmd_staff_list(args: argparse.Namespace) -> int:
    db = _open(args)
    _require_company(db)
    with db.new_session() as session:
        rows = auth.list_staff(session)
    print(f"{'Login':<20} {'Name':<24} {'Role':<11} {'Status':<9} Customers")
    for row in rows:
        status = "active" if row.active else "left"
        print(
            f"{row.login:<20} {row.full_name:<24} {row.role.value:<11} {status:<9} {row.customers}"
        )
    return EXIT_OK


def cmd_staff_add(args: argparse.Namespace) -> int:
    db = _open(args)
    _require_company(db)
    actor = _acting_user(db, args.user)
    password = _password(f"the new staff member '{args.login}'")
    with db.session(user_id=actor.id) as session:
        actor = session.get_one(User, actor.id)
        user = auth.add_staff(
            session, actor, login=args.login, full_name=args.name, role=args.role, password=password
        )
        print(f"Added {user.full_name} ({user.login}) as {user.role.value}.")
    return EXIT_OK


def _logins(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _print_handover(result: object) -> None:
    from smbcrm.services.ownership import HandoverResult

    assert isinstance(result, HandoverResult)
    parts = [
        counted(result.customers, "customer"),
        counted(result.prospects, "prospect"),
        counted(result.follow_ups, "open follow-up"),
    ]
    if result.cases:
        parts.append(counted(result.cases, "open case"))
    print(f"Handed over {', '.join(parts[:-1])} and {parts[-1]} of {result.leaver}:")
    for line in result.summary_lines():
        print(f"  {line}")
    if result.team_places:
        print(f"  (taken off {counted(result.team_places, 'account team')})")


def cmd_staff_deactivate(args: argparse.Namespace) -> int:
    from smbcrm.services import ownership

    db = _open(args)
    _require_company(db)
    actor = _acting_user(db, args.user)
    with db.session(user_id=actor.id) as session:
        actor = session.get_one(User, actor.id)
        leaver = auth.find_user(session, args.login)
        recipients = [u.id for u in ownership.staff_by_logins(session, _logins(args.handover_to))]
        load = ownership.remaining_work(session, leaver.id)
        plan = None
        if load.accounts or load.open_follow_ups or load.team_places or load.open_cases:
            if not recipients:
                raise CliError(
                    f"{leaver.full_name} still has {counted(load.customers, 'customer')}, "
                    f"{counted(load.prospects, 'prospect')}, "
                    f"{counted(load.open_follow_ups, 'open follow-up')} and "
                    f"{counted(load.open_cases, 'open case')}: say who takes them over with "
                    "--handover-to LOGIN[,LOGIN…]."
                )
            plan = ownership.plan_handover(
                session,
                leaver.id,
                ownership.Strategy.EVEN_SPLIT,
                recipients,
                reason=args.reason or "",
            )
        result = ownership.deactivate_staff(
            session, actor, leaver.id, handover=plan, progress=terminal_progress()
        )
        clear_progress()
        if plan is not None:
            _print_handover(result)
        print(f"Deactivated {leaver.full_name} ({leaver.login}); they can no longer sign in.")
    return EXIT_OK


def cmd_staff_reassign(args: argparse.Namespace) -> int:
    from smbcrm.services import ownership

    db = _open(args)
    _require_company(db)
    actor = _acting_user(db, args.user)
    with db.session(user_id=actor.id) as session:
        actor = session.get_one(User, actor.id)
        source = auth.find_user(session, args.login)
        recipients = [u.id for u in ownership.staff_by_logins(session, _logins(args.to))]
        if not recipients:
            raise CliError("Say who takes the customers over with --to LOGIN[,LOGIN…].")
        plan = ownership.plan_handover(
            session, source.id, ownership.Strategy.EVEN_SPLIT, recipients, reason=args.reason
        )
        plan.team_customer_ids = []  # they stay on, so they stay on their account teams
        result = ownership.apply_handover(session, actor, plan, progress=terminal_progress())
        clear_progress()
        _print_handover(result)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from smbcrm.services.importing.apply import apply_plan
    from smbcrm.services.importing.plan import ImportOptions, Outcome
    from smbcrm.services.importing.problems import check_problem_file, write_problem_rows
    from smbcrm.services.importing.service import prepare_import

    if args.errors is not None:
        # Refused before the file is read, not after the import.
        args.errors = check_problem_file(args.errors)
    db = _open(args)
    _require_company(db)
    actor = _acting_user(db, args.user)
    kind = ImportKind(args.kind or ImportKind.CUSTOMERS.value)
    with db.new_session() as session:
        from smbcrm.services.permissions import Permission, require

        require(
            session.get_one(User, actor.id),
            Permission.IMPORT_ORDERS if kind == ImportKind.ORDERS else Permission.IMPORT_CUSTOMERS,
        )
    if kind == ImportKind.ORDERS:
        return _import_orders(args, db, actor)
    options = ImportOptions(
        on_duplicate=OnDuplicate(args.on_duplicate),
        all_or_nothing=args.all_or_nothing,
        day_first=_day_first(args),
        create_missing_staff=args.create_staff,
        region=db.default_region(),
    )
    prepared = prepare_import(
        db,
        args.file,
        kind,
        sheet=args.sheet,
        mapping_name=args.mapping,
        source_system=args.source,
        options=options,
        progress=Progress(_terminal_progress),
        # Customers said on the command line: a file that looks like orders is imported.
        kind_confirmed=args.kind is not None,
    )
    _clear_progress()
    plan = prepared.plan
    table = prepared.table
    where = table.path.name + (f" [{table.sheet}]" if table.sheet else "")
    if not table.rows:
        raise _no_data_rows(where)
    print(
        f"{where}: header on row {table.header_row}, {len(plan.rows)} rows, source '{plan.source_system}'."
    )
    _print_unmapped(table.header, plan.mapping)
    _print_date_order(args, plan)
    counts = plan.counts
    errors_written = 0
    if args.errors is not None and plan.error_rows:
        errors_written = write_problem_rows(plan, args.errors)
    if args.dry_run:
        print("Dry run: nothing was written.")
        print(
            f"Would create {counts[Outcome.CREATE]}, update {counts[Outcome.UPDATE]}, leave "
            f"{counts[Outcome.UNCHANGED] + counts[Outcome.SAME_AS_ROW]} unchanged, skip "
            f"{counts[Outcome.SKIP]}, leave {counts[Outcome.DUPLICATE] + counts[Outcome.REVIEW]} "
            f"for review; {counts[Outcome.ERROR]} rows have problems."
        )
    else:
        result = apply_plan(db, actor.id, plan, progress=Progress(_terminal_progress))
        _clear_progress()
        print(f"Batch {result.batch_id}:")
        print(f"  created    {result.created}")
        print(f"  updated    {result.updated}")
        print(f"  unchanged  {result.unchanged + result.same_as_row}")
        print(f"  skipped    {result.skipped}")
        print(f"  for review {result.review}")
        print(f"  errors     {result.errors}")
        if result.created_staff:
            print(f"  new staff  {', '.join(result.created_staff)} (set their passwords)")
        print(f"Undo it with: smbcrm batches undo {result.batch_id}")
    for name, rows in sorted(plan.unknown_staff.items()):
        shown = ", ".join(str(r) for r in rows[:5]) + ("…" if len(rows) > 5 else "")
        print(
            f"Unknown salesperson '{name}' (rows {shown}): "
            + (
                "created."
                if args.create_staff
                else "those customers are in the unassigned pool; use --create-staff to add them."
            )
        )
    _print_warnings(plan)
    for row in plan.error_rows[:10]:
        print(f"  row {row.row_number}: {row.problem_text()}")
    if len(plan.error_rows) > 10:
        print(f"  … and {len(plan.error_rows) - 10} more rows with problems.")
    if errors_written:
        print(f"Rows with problems are in {args.errors}: fix them there and import that file.")
    elif plan.error_rows and args.errors is None:
        print("Save the rows with problems to a file with --errors OUT.xlsx.")
    return EXIT_OK


def _day_first(args: argparse.Namespace) -> bool | None:
    """--day-first, --month-first, or neither: None lets the saved mapping, else each date
    column, decide."""
    if args.day_first:
        return True
    return False if args.month_first else None


def _print_date_order(args: argparse.Namespace, plan: ImportPlan) -> None:
    """Dates read in the order a saved mapping keeps, not one said here: say so, and how to
    read them the other way."""
    day_first = plan.options.day_first
    if day_first is None or _day_first(args) is not None or plan.mapping.name is None:
        return
    print(
        f"Dates such as 05.03.2024 are read {'day' if day_first else 'month'} first, as the "
        f"saved mapping '{plan.mapping.name}' says; "
        f"{'--month-first' if day_first else '--day-first'} reads them the other way."
    )


def _print_unmapped(header: list[str], mapping: Mapping) -> None:
    """The columns whose names matched no field: what they hold is not imported."""
    unmapped = [
        header[index]
        for index, target in sorted(mapping.columns.items())
        if target is None and index < len(header)
    ]
    if unmapped:
        print(
            f"Columns not imported: {', '.join(unmapped)} (their names match no field; map "
            "them in the app, save the mapping and import with --mapping NAME)."
        )


def _print_warnings(plan: ImportPlan, limit: int = 10) -> None:
    """The rows' warnings, each once with its rows: imported, but worth a look. Unknown
    salespeople have their own lines."""
    rows_by_warning: dict[str, list[int]] = {}
    for row in plan.rows:
        for warning in row.warnings:
            if not any(f"'{name}'" in warning for name in plan.unknown_staff):
                rows_by_warning.setdefault(warning, []).append(row.row_number)
    if rows_by_warning:
        print("Check these (they do not stop the import):")
    for warning, rows in list(rows_by_warning.items())[:limit]:
        shown = ", ".join(str(r) for r in rows[:5]) + ("…" if len(rows) > 5 else "")
        print(f"  {'row' if len(rows) == 1 else 'rows'} {shown}: {warning}")
    if len(rows_by_warning) > limit:
        print(f"  … and {len(rows_by_warning) - limit} more warnings.")


def _import_orders(args: argparse.Namespace, db: Database, actor: User) -> int:
    """``smbcrm import FILE --kind orders``: preview, then write as one batch (or not)."""
    from smbcrm.models import LinkRoute
    from smbcrm.services.importing.orders import OrderBatchResult, OrderImportPlan, OrderOutcome
    from smbcrm.services.importing.plan import ImportOptions
    from smbcrm.services.importing.problems import write_problem_rows
    from smbcrm.services.importing.service import apply_import, prepare_import

    options = ImportOptions(
        all_or_nothing=args.all_or_nothing, day_first=_day_first(args), region=db.default_region()
    )
    prepared = prepare_import(
        db,
        args.file,
        ImportKind.ORDERS,
        sheet=args.sheet,
        mapping_name=args.mapping,
        source_system=args.source,
        options=options,
        progress=Progress(_terminal_progress),
    )
    _clear_progress()
    plan = prepared.plan
    assert isinstance(plan, OrderImportPlan)
    table = prepared.table
    where = table.path.name + (f" [{table.sheet}]" if table.sheet else "")
    if not table.rows:
        raise _no_data_rows(where)
    print(
        f"{where}: header on row {table.header_row}, {len(plan.rows)} rows, "
        f"{len(plan.orders)} orders, source '{plan.source_system}'."
    )
    _print_unmapped(table.header, plan.mapping)
    _print_date_order(args, plan)
    errors_written = 0
    if args.errors is not None and plan.error_rows:
        errors_written = write_problem_rows(plan, args.errors)
    counts = plan.order_counts
    linked = plan.linked_by
    unmatched = len(plan.unmatched_orders)
    if args.dry_run:
        print("Dry run: nothing was written. Would import:")
        created, changed, unchanged = (
            counts[OrderOutcome.NEW],
            counts[OrderOutcome.CHANGED],
            counts[OrderOutcome.UNCHANGED],
        )
        conversions, lines = plan.conversions, plan.line_count
    else:
        result = apply_import(db, actor.id, plan, progress=Progress(_terminal_progress))
        _clear_progress()
        assert isinstance(result, OrderBatchResult)
        print(f"Batch {result.batch_id}:")
        created, changed, unchanged = result.created, result.changed, result.unchanged
        conversions, lines, linked, unmatched = (
            result.conversions,
            result.lines,
            result.linked,
            result.unmatched,
        )
    print(f"  new orders        {created}" + (f" ({lines} lines)" if lines else ""))
    print(f"  changed           {changed}")
    print(f"  unchanged         {unchanged}")
    for route, label in (
        (LinkRoute.CODE, "code"),
        (LinkRoute.PHONE, "phone"),
        (LinkRoute.EMAIL, "e-mail"),
        (LinkRoute.NAME, "name"),
    ):
        print(f"  linked by {label:<7} {linked[route]}")
    if conversions:
        print(f"  prospects who became customers  {conversions}")
    print(f"  errors            {len(plan.error_rows)}")
    if unmatched:
        print(f"unmatched: {unmatched} (review them in the app or with `smbcrm orders unmatched`)")
    if not args.dry_run:
        print(f"Undo it with: smbcrm batches undo {result.batch_id}")
    _print_warnings(plan)
    for row in plan.error_rows[:10]:
        print(f"  row {row.row_number}: {row.problem_text()}")
    if len(plan.error_rows) > 10:
        print(f"  … and {len(plan.error_rows) - 10} more rows with problems.")
    if errors_written:
        print(f"Rows with problems are in {args.errors}: fix them there and import that file.")
    elif plan.error_rows and args.errors is None:
        print("Save the rows with problems to a file with --errors OUT.xlsx.")
    return EXIT_OK


def cmd_batches_list(args: argparse.Namespace) -> int:
    from smbcrm.services.importing.undo import list_batches

    db = _open(args)
    _require_company(db)
    with db.new_session() as session:
        rows = list_batches(session)
    if not rows:
        print("No imports yet.")
        return EXIT_OK
    print(
        f"{'ID':>4}  {'When':<16}  {'Status':<8} {'Created':>7} {'Updated':>7} {'Errors':>6}  File"
    )
    for row in rows:
        print(
            f"{row.id:>4}  {row.started_at:%Y-%m-%d %H:%M}  {row.status.value:<8} {row.created:>7} "
            f"{row.updated:>7} {row.errors:>6}  {Path(row.file_name).name} ({row.user or '?'})"
        )
    return EXIT_OK


def cmd_batches_undo(args: argparse.Namespace) -> int:
    from smbcrm.services.importing.undo import undo_batch

    db = _open(args)
    _require_company(db)
    actor = _acting_user(db, args.user)
    result = undo_batch(
        db, actor.id, args.batch_id, force=args.force, progress=Progress(_terminal_progress)
    )
    _clear_progress()
    if result.orders_removed or result.orders_restored:
        print(
            f"Undid batch {result.batch_id}: removed {counted(result.orders_removed, 'order')} "
            f"it had created, restored {result.orders_restored} it had changed; prospects "
            f"again: {result.restored}; removed {counted(result.removed, 'customer')} made from "
            "its unmatched orders."
        )
        if result.kept_active:
            print(
                f"Kept {len(result.kept_active)} active (edited since, or other orders): "
                + ", ".join(result.kept_active[:5])
            )
    else:
        print(
            f"Undid batch {result.batch_id}: restored {counted(result.restored, 'customer')}, "
            f"removed {result.removed} it had created."
        )
    if result.kept:
        print(
            f"Kept {len(result.kept)} it had created that other records refer to since "
            "(orders, activities, service cases…): " + ", ".join(result.kept[:5])
        )
    for note in result.notes:
        print(note)
    return EXIT_OK


def _terminal_progress(done: int, total: int, message: str) -> None:
    if sys.stderr.isatty():
        share = f" {done * 100 // total}%" if total else ""
        sys.stderr.write(f"\r{message}{share:<6}")
        sys.stderr.flush()


def _clear_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 70 + "\r")


def cmd_self_check(args: argparse.Namespace) -> int:
    """Migrate a scratch database, use the services, and open the main window offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="smbcrm-check-") as folder:
        db = dbsvc.open_database(Path(folder) / "check.db")
        print(f"database: schema {dbsvc.current_revision(db)} OK")
        owner = auth.create_company(db, "Self-check 自检", "check", "Check", "check-password")
        from smbcrm.services.customers import (
            CustomerFilter,
            CustomerInput,
            CustomerList,
            create_customer,
        )

        with db.session(user_id=owner.id) as session:
            actor = session.get_one(User, owner.id)
            create_customer(
                session, actor, CustomerInput(name="华强电子有限公司", phones=["13800138000"])
            )
        listing = CustomerList(db.default_region())
        with db.new_session() as session:
            found = listing.page(session, CustomerFilter(text="138-0013-8000"))
        if [r.name for r in found] != ["华强电子有限公司"]:
            raise CliError("self-check failed: the customer search did not find the test record.")
        print("services: OK")
        from smbcrm.ui.app import self_check_window

        print(f"window: {self_check_window(db, owner.id)} OK")
        db.dispose()
    print("self-check OK")
    return EXIT_OK


# -- entry points -----------------------------------------------------------------------


def _log_unexpected(exc: BaseException) -> Path | None:
    try:
        log = data_dir() / "smbcrm-errors.log"
        with log.open("a", encoding="utf-8") as handle:
            handle.write(
                f"--- {datetime.now().isoformat(timespec='seconds')} smbcrm {__version__}\n"
            )
            handle.write("".join(traceback.format_exception(exc)))
        return log
    except OSError:
        return None


def run(argv: Sequence[str] | None, start_app: Callable[[argparse.Namespace], int]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            return start_app(args)
        return int(handler(args))
    except ValidationError as exc:
        sys.stderr.write(f"smbcrm: {_validation_text(exc)}\n")
        return EXIT_ERROR
    except SmbcrmError as exc:
        sys.stderr.write(f"smbcrm: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("smbcrm: interrupted; nothing more was changed.\n")
        return EXIT_ERROR
    except Exception as exc:
        log = _log_unexpected(exc)
        file_problem = _file_problem_text(exc)
        if file_problem is not None:
            sys.stderr.write(f"smbcrm: {file_problem}\n")
            return EXIT_ERROR
        where = f" Details are in {log}." if log else ""
        sys.stderr.write(f"smbcrm: unexpected error: {type(exc).__name__}: {exc}.{where}\n")
        return EXIT_ERROR


def _start_app(args: argparse.Namespace) -> int:
    from smbcrm.ui.app import run_app

    return run_app(db_location=args.db, login=args.user)


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv, _start_app)


def main_gui() -> int:
    return main()


if __name__ == "__main__":
    raise SystemExit(main())
