"""``smbcrm rates`` — the home currency and exchange rates revenue totals are added up at.

Without options it lists the home currency, each currency the orders use with its rate
(or "no rate") and how many sales are left out of revenue for want of one. ``--home CODE``
changes the home currency (converting the rates kept so far, or refusing when it cannot),
``--set USD=7.2`` gives a rate and ``--clear USD`` removes one; owners and managers only.
"""

from __future__ import annotations

import argparse
from typing import Any

from smbcrm.errors import ValidationError
from smbcrm.models import User
from smbcrm.services import currencies


def register(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "rates", help="home currency and exchange rates (revenue in several currencies)"
    )
    parser.add_argument("--home", metavar="CODE", help="the currency revenue is added up in")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="CODE=RATE",
        help="one CODE is worth RATE in the home currency (repeat for more)",
    )
    parser.add_argument(
        "--clear", action="append", default=[], metavar="CODE", help="remove CODE's rate"
    )
    parser.set_defaults(handler=cmd_rates)


def _changes(text: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text:
        code, sep, rate = item.partition("=")
        if not sep or not code.strip() or not rate.strip():
            raise ValidationError(
                {"set": f"'{item}' is not CODE=RATE: write for example --set USD=7.2."}
            )
        out[code.strip().upper()] = rate.strip()
    return out


def cmd_rates(args: argparse.Namespace) -> int:
    from smbcrm.cli import EXIT_OK, acting_user, open_db

    db = open_db(args)
    actor = acting_user(db, args)
    changing = bool(args.home or args.set or args.clear)
    with db.session(user_id=actor.id) as session:
        if changing:
            typed: dict[str, object] = dict(_changes(args.set))
            for code in args.clear:
                typed[code.strip().upper()] = None
            rates = currencies.update_rates(
                session, session.get_one(User, actor.id), typed, home=args.home
            )
        else:
            rates = currencies.load_rates(session)
        used = currencies.currency_counts(session)
        missing = currencies.unconverted_orders(session, rates)
    print(f"Home currency: {rates.home}")
    for code in sorted({*used, *rates.rates} - {rates.home}):
        rate = rates.rate(code)
        worth = f"1 {code} = {rate.normalize():f} {rates.home}" if rate is not None else "no rate"
        print(f"  {code}  {worth:<28} {used.get(code, 0):>8,} orders")
    if missing:
        print(currencies.unconverted_text(missing))
    return EXIT_OK
