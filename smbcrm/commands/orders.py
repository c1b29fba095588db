"""``smbcrm orders`` — the imported orders that wait for a customer, and settling them.

``orders unmatched [--report FILE]`` lists them by buyer (or writes every one to .xlsx/.csv);
``orders link ORDER CUSTOMER_ID`` links one by hand (``--move`` takes an order from the
customer it belongs to; without it such an order is left alone); ``orders create-customer
ORDER`` makes its buyer a customer and links all that buyer's waiting orders. ``--source``
says which system's order is meant when two systems use the same number.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from smbcrm.models import User
from smbcrm.services import order_links
from smbcrm.services.money import format_totals
from smbcrm.services.permissions import Permission, require

TABLE_LIMIT = 30


def register(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser("orders", help="imported orders that wait for a customer")
    actions = parser.add_subparsers(dest="orders_command", metavar="ACTION")
    actions.required = True
    unmatched = actions.add_parser("unmatched", help="orders no customer matched, by buyer")
    unmatched.add_argument(
        "--report", type=Path, metavar="FILE", help="write every one to FILE.xlsx or .csv"
    )
    unmatched.set_defaults(handler=cmd_unmatched)
    link = actions.add_parser("link", help="link an order to a customer by hand")
    link.add_argument("order_number", metavar="ORDER_NUMBER")
    link.add_argument("customer_id", type=int, metavar="CUSTOMER_ID")
    link.add_argument("--source", metavar="SYSTEM", help="the system the order came from")
    link.add_argument(
        "--move",
        action="store_true",
        help="move the order even if it belongs to another customer now",
    )
    link.set_defaults(handler=cmd_link)
    create = actions.add_parser(
        "create-customer",
        help="make an unmatched order's buyer a customer (links the buyer's other orders too)",
    )
    create.add_argument("order_number", metavar="ORDER_NUMBER")
    create.add_argument("--source", metavar="SYSTEM", help="the system the order came from")
    create.set_defaults(handler=cmd_create_customer)


def cmd_unmatched(args: argparse.Namespace) -> int:
    from smbcrm.cli import EXIT_OK, acting_user, counted, open_db
    from smbcrm.commands.risk import _fit

    db = open_db(args)
    actor = acting_user(db, args)
    with db.session(user_id=actor.id) as session:
        user = session.get_one(User, actor.id)
        require(user, Permission.VIEW_CUSTOMERS)
        groups = order_links.unmatched_orders(session)
        if args.report is not None:
            count = order_links.write_unmatched_report(session, user, args.report, groups)
            print(f"Wrote {count} unmatched orders to {args.report}.")
            return EXIT_OK
    if not groups:
        print("No order is waiting for a customer: every imported order is linked.")
        return EXIT_OK
    region = db.default_region()
    total = sum(len(g.orders) for g in groups)
    print(f"{'Buyer':<30} {'Orders':>6}  {'Amount':<22} Order numbers / why")
    for group in groups[:TABLE_LIMIT]:
        numbers = ", ".join(o.order_number for o in group.orders[:4])
        if len(group.orders) > 4:
            numbers += ", …"
        print(
            f"{_fit(group.name, 30)} {len(group.orders):>6}  {_fit(format_totals(group.totals), 22)} "
            f"{numbers}"
        )
        details = group.details(region)
        print(f"{'':<30} {'':>6}  {'':<22} {details + ' — ' if details else ''}{group.reason}")
    more = len(groups) - TABLE_LIMIT
    tail = f" ({more} more buyers: use --report FILE.xlsx for all)" if more > 0 else ""
    waiting = counted(total, "order") + " of " + counted(len(groups), "buyer")
    print(f"{waiting} {'waits' if total == 1 else 'wait'} for a customer{tail}.")
    print(
        "Link one with `smbcrm orders link ORDER_NUMBER CUSTOMER_ID`, or make its buyer a "
        "customer with `smbcrm orders create-customer ORDER_NUMBER`."
    )
    return EXIT_OK


def cmd_link(args: argparse.Namespace) -> int:
    from smbcrm.cli import EXIT_OK, acting_user, open_db

    db = open_db(args)
    actor = acting_user(db, args)
    with db.session(user_id=actor.id) as session:
        user = session.get_one(User, actor.id)
        result = order_links.link_order_number(
            session,
            user,
            args.order_number,
            args.customer_id,
            source_system=args.source,
            move=args.move,
        )
    moved = f", moved from {', '.join(result.moved_from)}" if result.moved_from else ""
    print(
        f"Linked order {', '.join(result.linked)} to {result.customer_name} "
        f"(ID {result.customer_id}){moved}."
    )
    if result.converted:
        print(f"{result.customer_name} was a prospect and is now an active customer.")
    return EXIT_OK


def cmd_create_customer(args: argparse.Namespace) -> int:
    from smbcrm.cli import EXIT_OK, acting_user, open_db

    db = open_db(args)
    actor = acting_user(db, args)
    with db.session(user_id=actor.id) as session:
        user = session.get_one(User, actor.id)
        result = order_links.create_customer_from_order_number(
            session, user, args.order_number, source_system=args.source, region=db.default_region()
        )
    others = len(result.linked) - 1
    tail = f", with {others} more of the buyer's orders" if others else ""
    print(
        f"Created customer {result.customer_name} (ID {result.customer_id}) from order "
        f"{args.order_number}{tail}: {', '.join(result.linked)}."
    )
    return EXIT_OK
