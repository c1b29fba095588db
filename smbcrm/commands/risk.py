"""``smbcrm risk`` — the customers at risk of leaving, most revenue at stake first.

Without ``--report`` a short table is printed; with ``--report FILE.xlsx|.csv`` every
customer at risk is written with ID, name, owner, tier, city, level, reason codes, the
reasons in words, 12-month revenue and last order date.
"""

from __future__ import annotations

import argparse
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from smbcrm.models import Tier, User
from smbcrm.services import auth, currencies, risk
from smbcrm.services.money import format_money
from smbcrm.services.permissions import Permission, require

TABLE_LIMIT = 20


def register(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "risk", help="customers at risk of leaving, and why (most revenue at stake first)"
    )
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="write the whole list to FILE.xlsx or .csv"
    )
    parser.add_argument("--owner", metavar="LOGIN", help="only this salesperson's customers")
    parser.add_argument("--tier", choices=[t.value for t in Tier])
    parser.add_argument("--city")
    parser.add_argument(
        "--reason", choices=[r.value for r in risk.Reason], help="only customers with this reason"
    )
    parser.add_argument(
        "--lang", choices=list(risk.LANGUAGES), default="en", help="language of the reasons"
    )
    # For tests and reproducible reports: judge as of another day.
    parser.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)
    parser.set_defaults(handler=cmd_risk)


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


def cmd_risk(args: argparse.Namespace) -> int:
    from smbcrm.cli import EXIT_OK, acting_user, counted, open_db

    db = open_db(args)
    actor = acting_user(db, args)
    with db.session(user_id=actor.id) as session:
        actor = session.get_one(User, actor.id)
        require(actor, Permission.VIEW_CUSTOMERS)
        owner_id = auth.find_user(session, args.owner).id if args.owner else None
        rates = currencies.load_rates(session)
        since = (args.today or date.today()) - timedelta(days=365)
        missing = currencies.unconverted_orders(session, rates, since=since)
        rows = risk.at_risk(
            session,
            today=args.today,
            owner_id=owner_id,
            tier=args.tier,
            city=args.city,
            reason=args.reason,
        )
        if args.report is not None:
            require(actor, Permission.EXPORT)
            count = risk.write_report(
                args.report, rows, session=session, actor=actor, lang=args.lang
            )
            print(f"Wrote {counted(count, 'customer')} at risk to {args.report}.")
            return EXIT_OK
    if missing:
        print(currencies.unconverted_text(missing))
    if not rows:
        print("No customer is at risk.")
        return EXIT_OK
    print(f"{'ID':>6}  {'Name':<32} {'Owner':<16} {'Risk':<6} {'12 months':>14}  Reasons")
    for row in rows[:TABLE_LIMIT]:
        print(
            f"{row.id:>6}  {_fit(row.name, 32)} {_fit(row.owner or '—', 16)} "
            f"{row.level.value:<6} {format_money(row.revenue_12m, rates.home):>14}  "
            f"{row.text(args.lang)}"
        )
    more = len(rows) - TABLE_LIMIT
    total = sum(r.revenue_12m for r in rows)
    tail = f" ({more} more: use --report FILE.xlsx for all)" if more > 0 else ""
    print(
        f"{counted(len(rows), 'customer')} at risk, {format_money(total, rates.home)} revenue "
        f"in 12 months{tail}."
    )
    return EXIT_OK
