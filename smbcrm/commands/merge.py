"""``smbcrm merge`` — merge customers that are the same, list merges, undo one.

    smbcrm merge SURVIVOR_ID OTHER_ID… [--keep FIELD=ID]… [--dry-run]
    smbcrm merge undo MERGE_ID [--answer KEY=VALUE]…
    smbcrm merge list [--customer ID]

A merge keeps SURVIVOR_ID and moves everything of the others onto it; each field keeps the
default value (non-empty, most recently updated) unless ``--keep FIELD=ID`` says whose
value to keep. ``--dry-run`` shows every field's choices and what would move. An undo
whose fields were edited since the merge prints its questions and changes nothing until
it is run again with an ``--answer`` for each.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from typing import Any

from smbcrm.models import User
from smbcrm.services import merge
from smbcrm.services.permissions import Permission, require

USAGE = (
    "smbcrm merge SURVIVOR_ID OTHER_ID… [--keep FIELD=ID]… [--dry-run]\n"
    "       smbcrm merge undo MERGE_ID [--answer KEY=VALUE]…\n"
    "       smbcrm merge list [--customer ID]"
)

# What moved, in words (one, many), in the order a summary lists it.
MOVE_LABELS: tuple[tuple[str, str, str], ...] = (
    ("orders", "order", "orders"),
    ("contacts", "contact", "contacts"),
    ("contact_points", "phone or e-mail", "phones and e-mails"),
    ("external_ids", "external code", "external codes"),
    ("activities", "activity", "activities"),
    ("follow_ups", "follow-up", "follow-ups"),
    ("assignment_changes", "ownership record", "ownership records"),
    ("conversions", "conversion", "conversions"),
    ("cases", "service case", "service cases"),
    ("ratings", "rating", "ratings"),
    ("review_items", "import row awaiting review", "import rows awaiting review"),
    ("tags", "tag", "tags"),
    ("team", "account-team member", "account-team members"),
    ("referrals", "referred customer", "referred customers"),
    ("tombstones", "earlier merged-away record", "earlier merged-away records"),
    ("duplicate_pairs", "duplicate-review pair", "duplicate-review pairs"),
)
COLUMN_WIDTH = 24


def register(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "merge",
        help="merge customers that are the same (or undo / list merges)",
        usage=USAGE,
        description="Merge customers into one, list merges, or undo a merge.",
    )
    parser.add_argument(
        "target",
        nargs="+",
        metavar="SURVIVOR_ID OTHER_ID… | undo MERGE_ID | list",
        help="the customer to keep, then the ones merged into it; or undo / list",
    )
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="FIELD=ID",
        help="keep this field's value from customer ID (e.g. name=12, city=15, owner=12); "
        "repeat for more fields",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show the choices and what would move; merge nothing"
    )
    parser.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="undo: answer a question the undo asked (e.g. city=keep or city=restore)",
    )
    parser.add_argument("--customer", type=int, metavar="ID", help="list: only merges of this one")
    parser.set_defaults(handler=cmd_merge)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """Cut and pad to ``width`` terminal columns (Chinese characters take two)."""
    text = " ".join(text.split())
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width - (1 if used + w < _width(text) else 0):
            out.append("…")
            used += 1
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * max(0, width - used)


def _ids(values: list[str], what: str) -> list[int]:
    from smbcrm.cli import CliError

    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except ValueError:
            raise CliError(
                f"'{value}' is not a {what} ID; give numbers, e.g. smbcrm merge 12 15."
            ) from None
    return ids


def _pairs(items: list[str], option: str) -> dict[str, str]:
    from smbcrm.cli import CliError

    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CliError(f"Write {option} as KEY=VALUE, e.g. {option} city=15 (got '{item}').")
        pairs[key.strip()] = value.strip()
    return pairs


def _field_name(name: str) -> str:
    """``owner`` and ``referred_by`` are accepted for ``owner_id`` / ``referred_by_id``."""
    known = {f for f, _label in merge.FIELDS}
    if name not in known and f"{name}_id" in known:
        return f"{name}_id"
    if name not in known and not name.startswith(merge.CUSTOM_PREFIX):
        label_match = [f for f, label in merge.FIELDS if label.casefold() == name.casefold()]
        if label_match:
            return label_match[0]
    return name


def _keep(items: list[str]) -> dict[str, int]:
    from smbcrm.cli import CliError

    choices: dict[str, int] = {}
    for name, value in _pairs(items, "--keep").items():
        try:
            choices[_field_name(name)] = int(value)
        except ValueError:
            raise CliError(
                f"--keep {name}={value}: say whose value by customer ID, e.g. {name}=12."
            ) from None
    return choices


def _moves_text(moves: dict[str, int]) -> str:
    parts = [
        f"{moves[key]} {one if moves[key] == 1 else many}"
        for key, one, many in MOVE_LABELS
        if moves.get(key)
    ]
    return ", ".join(parts) if parts else "nothing"


def cmd_merge(args: argparse.Namespace) -> int:
    from smbcrm.cli import CliError

    first, rest = args.target[0], args.target[1:]
    if first == "undo":
        if len(rest) != 1:
            raise CliError("Say which merge to undo: smbcrm merge undo MERGE_ID.")
        if args.keep or args.dry_run:
            raise CliError("--keep and --dry-run belong to a merge, not to an undo.")
        return _undo(args, _ids(rest, "merge")[0])
    if first == "list":
        if rest:
            raise CliError("smbcrm merge list takes no IDs; use --customer ID to filter.")
        return _list(args)
    if args.answer:
        raise CliError("--answer belongs to smbcrm merge undo MERGE_ID.")
    ids = _ids(args.target, "customer")
    if len(ids) < 2:
        raise CliError(
            "Give the customer to keep and at least one to merge into it: "
            "smbcrm merge SURVIVOR_ID OTHER_ID…"
        )
    return _merge(args, ids[0], ids[1:])


def _merge(args: argparse.Namespace, survivor_id: int, other_ids: list[int]) -> int:
    from smbcrm.cli import EXIT_OK, acting_user, open_db

    choices = _keep(args.keep)
    db = open_db(args)
    actor = acting_user(db, args)
    with db.session(user_id=actor.id) as session:
        actor = session.get_one(User, actor.id)
        if args.dry_run:
            require(actor, Permission.VIEW_CUSTOMERS)
            preview = merge.merge_preview(session, [survivor_id, *other_ids], survivor_id)
            _print_preview(preview, choices)
            session.rollback()
            return EXIT_OK
        names = merge.customer_names(session, other_ids)
        result = merge.merge_customers(session, survivor_id, other_ids, actor, choices=choices)
        names.update(merge.customer_names(session, [survivor_id]))
    absorbed = ", ".join(f"{names.get(i, '')} (ID {i})" for i in result.absorbed_ids)
    print(
        f"Merge {result.merge_id}: {absorbed} merged into {names.get(survivor_id, '')} "
        f"(ID {survivor_id})."
    )
    print(f"  Moved to it: {_moves_text(result.moved)}.")
    if result.moved.get("duplicate_points"):
        print(
            f"  {result.moved['duplicate_points']} phones or e-mails the survivor already had "
            "were not copied (they come back with an undo)."
        )
    print(f"Undo it with: smbcrm merge undo {result.merge_id}")
    return EXIT_OK


def _print_preview(preview: merge.MergePreview, keep: dict[str, int]) -> None:
    from smbcrm.cli import CliError

    fields = {f.field: f for f in preview.fields}
    for name, cid in keep.items():
        if name not in fields:
            raise CliError(f"--keep {name}: not a field the merge chooses.")
        if cid not in fields[name].values:
            raise CliError(f"--keep {name}={cid}: customer {cid} is not one of those merged.")
    ids = [s.id for s in preview.sides]
    print(f"Dry run: merging into customer {preview.survivor_id}; nothing was changed.")
    header = f"{'':<14}" + "".join(
        _fit(f"{'Kept ' if s.id == preview.survivor_id else ''}ID {s.id}", COLUMN_WIDTH) + " "
        for s in preview.sides
    )
    print(header.rstrip())
    for side_field, values in (
        ("Orders", {s.id: str(s.order_count) for s in preview.sides}),
        ("Contacts", {s.id: str(s.contact_count) for s in preview.sides}),
        ("Updated", {s.id: f"{s.updated_at:%Y-%m-%d %H:%M}" for s in preview.sides}),
    ):
        print(
            (
                _fit(side_field, 14) + "".join(_fit(values[i], COLUMN_WIDTH) + " " for i in ids)
            ).rstrip()
        )
    for choice in preview.fields:
        if not any(choice.values.values()):
            continue
        kept = keep.get(choice.field, choice.default_id)
        cells = []
        for cid in ids:
            text = choice.values.get(cid, "") or "—"
            mark = "* " if cid == kept and choice.differs else "  "
            cells.append(_fit(mark + text, COLUMN_WIDTH) + " ")
        print((_fit(choice.label, 14) + "".join(cells)).rstrip())
    print("* the value kept (choose another with --keep FIELD=ID).")
    moves = dict(preview.moves)
    print(f"Would move: {_moves_text(moves)}.")
    if moves.get("duplicate_points"):
        print(f"{moves['duplicate_points']} phones or e-mails the survivor already has stay out.")


def _undo(args: argparse.Namespace, merge_id: int) -> int:
    from smbcrm.cli import EXIT_ERROR, EXIT_OK, acting_user, open_db

    answers = _pairs(args.answer, "--answer")
    db = open_db(args)
    actor = acting_user(db, args)
    try:
        with db.session(user_id=actor.id) as session:
            actor = session.get_one(User, actor.id)
            result = merge.undo_merge(session, merge_id, actor, answers=answers)
            names = merge.customer_names(session, result.restored_ids)
    except merge.MergeUndoConflict as conflict:
        print(f"Merge {merge_id} was not undone: later edits need an answer first.")
        for question in conflict.questions:
            print(f"  {question.text}")
            for value, label in question.options:
                print(f"      --answer {question.key}={value}  {label}")
        example = " ".join(f"--answer {q.key}={q.options[0][0]}" for q in conflict.questions)
        print(f"Run it again with the answers, e.g.: smbcrm merge undo {merge_id} {example}")
        sys.stderr.write(f"smbcrm: merge {merge_id} needs answers; nothing was changed.\n")
        return EXIT_ERROR
    restored = ", ".join(f"{names.get(i, '')} (ID {i})" for i in result.restored_ids)
    print(f"Undid merge {merge_id}: {restored} are separate customers again.")
    print(f"  Moved back: {_moves_text(result.moved_back)}.")
    for note in result.notes:
        print(f"  {note}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from smbcrm.cli import EXIT_OK, acting_user, open_db

    db = open_db(args)
    actor = acting_user(db, args)
    with db.new_session() as session:
        require(session.get_one(User, actor.id), Permission.VIEW_CUSTOMERS)
        rows = merge.list_merges(session, args.customer)
    if not rows:
        print("No merges yet." if args.customer is None else "No merges of that customer.")
        return EXIT_OK
    print(f"{'ID':>5}  {'When':<16}  {'By':<14} {'Status':<17} Kept ← merged")
    for row in rows:
        status = f"undone {row.undone_at:%Y-%m-%d}" if row.undone_at else "merged"
        absorbed = ", ".join(f"{name} ({cid})" for cid, name in row.absorbed)
        print(
            f"{row.id:>5}  {row.merged_at:%Y-%m-%d %H:%M}  {_fit(row.merged_by or '—', 14)} "
            f"{status:<17} {row.survivor_name} ({row.survivor_id}) ← {absorbed}"
        )
    return EXIT_OK
