"""Orders waiting for a customer: listed by buyer, then linked by hand or made a customer.

An imported order that matched no customer keeps what its file said about the buyer
(``Order.customer_details``). Here a person either links it (and the buyer's other waiting
orders) to an existing customer, or creates the customer from it — which links every other
waiting order of the same buyer too. Each link is audited with its route; a prospect that
gets its first sale this way becomes an active customer, and the conversion is recorded,
exactly as when an import links it (a cancelled order is no sale and converts no one).
An order that already belongs to a customer is moved to another only when asked to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smbcrm.errors import NotFoundError, SmbcrmError, ValidationError
from smbcrm.models import (
    AuditEntry,
    ChangeAction,
    Conversion,
    Customer,
    CustomerStatus,
    ExportEntry,
    ExternalId,
    ImportChange,
    LinkRoute,
    Order,
    User,
    is_cancelled_status,
)
from smbcrm.models.keys import DEFAULT_REGION, normalize_key_text, normalize_name, normalize_phone
from smbcrm.services.after_sales import plan_after_sales_follow_ups
from smbcrm.services.customers import CustomerInput, create_customer
from smbcrm.services.importing.orders_match import Buyer, buyer_fits, city_key
from smbcrm.services.permissions import Permission, require

# More waiting orders than this are not listed at once (the count says how many there are).
LIST_LIMIT = 20_000


@dataclass(frozen=True)
class UnmatchedOrder:
    id: int
    order_number: str
    order_date: date
    amount: Decimal
    currency: str
    status: str | None
    source_system: str
    batch_id: int | None
    reason: str


@dataclass
class UnmatchedBuyer:
    """One buyer's waiting orders (same code, e-mail, phone or name + city)."""

    key: str
    buyer: Buyer
    source_system: str
    orders: list[UnmatchedOrder] = field(default_factory=list)

    @property
    def name(self) -> str:
        buyer = self.buyer
        return buyer.name or buyer.code or buyer.reference or "(no name)"

    @property
    def reason(self) -> str:
        return self.orders[0].reason if self.orders else ""

    @property
    def totals(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for order in self.orders:
            sums[order.currency] = sums.get(order.currency, Decimal(0)) + order.amount
        return sums

    @property
    def last_order(self) -> date | None:
        return max((o.order_date for o in self.orders), default=None)

    def details(self, region: str = DEFAULT_REGION) -> str:
        return self.buyer.describe(region)


@dataclass(frozen=True)
class LinkResult:
    customer_id: int
    customer_name: str
    linked: list[str]  # order numbers
    converted: bool  # a prospect became an active customer
    created: bool = False  # the customer was made from the order
    moved_from: tuple[str, ...] = ()  # 'Name (ID n)' of customers orders were taken from


def unmatched_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Order).where(Order.customer_id.is_(None)))
        or 0
    )


def unmatched_orders(session: Session, *, limit: int = LIST_LIMIT) -> list[UnmatchedBuyer]:
    """Waiting orders grouped by buyer; the buyer with the most recent order first."""
    rows = session.execute(
        select(
            Order.id,
            Order.order_number,
            Order.order_date,
            Order.amount,
            Order.currency,
            Order.status,
            Order.source_system,
            Order.import_batch_id,
            Order.customer_details,
            Order.customer_ref,
        )
        .where(Order.customer_id.is_(None))
        .order_by(Order.order_date.desc(), Order.id.desc())
        .limit(limit)
    ).all()
    groups: dict[str, UnmatchedBuyer] = {}
    for oid, number, when, amount, currency, status, source, batch_id, details, ref in rows:
        buyer = Buyer.from_json(details)
        if buyer.is_empty and ref:
            buyer.name = ref
        key = buyer.group_key(source)
        group = groups.get(key)
        if group is None:
            group = groups[key] = UnmatchedBuyer(key, buyer, source)
        else:
            group.buyer.add_from(buyer)
        reason = str((details or {}).get("why_unmatched") or "no customer matched")
        group.orders.append(
            UnmatchedOrder(
                oid, number, when, Decimal(amount), currency, status, source, batch_id, reason
            )
        )
    return list(groups.values())


def find_order(session: Session, order_number: str, source_system: str | None = None) -> Order:
    """The order with this number (in this source system, when several have it)."""
    number = order_number.strip()
    stmt = select(Order).where(Order.order_number == number)
    if source_system:
        stmt = stmt.where(Order.source_system == source_system.strip())
    found = list(session.scalars(stmt.limit(20)))
    if not found:
        where = f" from {source_system}" if source_system else ""
        raise NotFoundError(
            f"There is no order {number}{where}. `smbcrm orders unmatched` lists the orders "
            "waiting for a customer."
        )
    if len(found) > 1:
        systems = ", ".join(sorted(o.source_system for o in found))
        raise SmbcrmError(
            f"Several systems have an order {number} ({systems}): say which with --source."
        )
    return found[0]


def _survivor(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    seen = 0
    while customer is not None and customer.merged_into_id is not None and seen < 50:
        customer = session.get(Customer, customer.merged_into_id)
        seen += 1
    if customer is None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    return customer


def _convert(session: Session, customer: Customer, orders: Sequence[Order]) -> bool:
    """A prospect getting its first sale becomes an active customer; recorded.

    A cancelled order is no first order: linking only cancelled ones leaves a prospect.
    """
    sales = [o for o in orders if not is_cancelled_status(o.status)]
    if customer.status != CustomerStatus.PROSPECT or not sales:
        return False
    first = min(sales, key=lambda o: (o.order_date, o.order_number))
    session.add(
        Conversion(
            customer_id=customer.id,
            order_id=first.id,
            order_date=first.order_date,
            prospect_owner_id=customer.owner_id,
        )
    )
    customer.status = CustomerStatus.ACTIVE
    return True


def _audit_links(
    session: Session,
    actor: User,
    customer: Customer,
    orders: Iterable[Order],
    route: LinkRoute,
    previous: dict[int, tuple[int | None, LinkRoute | None]],
) -> None:
    how = {
        LinkRoute.MANUAL: "linked by hand",
        LinkRoute.CREATED: "customer created from the order",
    }.get(route, route.value)
    for order in orders:
        before_id, before_route = previous.get(order.id, (None, None))
        session.add(
            AuditEntry(
                user_id=actor.id,
                entity="order",
                entity_id=order.id,
                customer_id=customer.id,
                action=ChangeAction.UPDATED,
                changes={
                    "customer_id": [before_id, customer.id],
                    "link_route": [_route_value(before_route), route.value],
                },
                summary=f"Order {order.order_number} → {customer.name} ({how})",
            )
        )


def _route_value(route: LinkRoute | None) -> str | None:
    return route.value if route is not None else None


def _teach_code(session: Session, customer: Customer, orders: Iterable[Order]) -> None:
    """Remember the source system's code for the buyer, so the next import links by code."""
    for order in orders:
        code = Buyer.from_json(order.customer_details).code
        if not code:
            continue
        taken = session.scalar(
            select(ExternalId.customer_id).where(
                ExternalId.system == order.source_system,
                ExternalId.key_norm == normalize_key_text(code),
            )
        )
        if taken is None:
            customer.external_ids.append(ExternalId(system=order.source_system, key=code))
            session.flush()


def _holder_text(session: Session, customer_id: int) -> str:
    holder = session.get(Customer, customer_id)
    return f"{holder.name} (ID {customer_id})" if holder is not None else f"ID {customer_id}"


def _refuse_move(session: Session, elsewhere: Sequence[Order], customer: Customer) -> NoReturn:
    """Orders already linked to someone else move only when the person says so."""
    if len(elsewhere) == 1:
        order = elsewhere[0]
        assert order.customer_id is not None
        holder = _holder_text(session, order.customer_id)
        raise ValidationError(
            {
                "orders": f"Order {order.order_number} belongs to {holder}; nothing was linked. "
                f"To move it to {customer.name}, link it again with --move."
            }
        )
    listed = ", ".join(
        f"{o.order_number}: {_holder_text(session, o.customer_id)}"
        for o in elsewhere[:3]
        if o.customer_id is not None
    ) + (", …" if len(elsewhere) > 3 else "")
    count = len(elsewhere)
    raise ValidationError(
        {
            "orders": f"{count} of these orders belong to other customers ({listed}); nothing "
            f"was linked. To move them to {customer.name}, link them again with --move."
        }
    )


def link_orders(
    session: Session,
    actor: User | None,
    order_ids: Sequence[int],
    customer_id: int,
    *,
    move: bool = False,
) -> LinkResult:
    """Link orders to a customer by hand (a merged-away customer means its survivor).

    An order another customer has already is taken from them only with ``move``: without
    it nothing is linked and the message says whose the order is.
    """
    require(actor, Permission.IMPORT_ORDERS)
    assert actor is not None
    if not order_ids:
        raise ValidationError({"orders": "Choose the orders to link."})
    customer = _survivor(session, customer_id)
    orders = list(session.scalars(select(Order).where(Order.id.in_(order_ids))))
    if len(orders) != len(set(order_ids)):
        raise NotFoundError("Some of these orders no longer exist; refresh the list.")
    elsewhere = [o for o in orders if o.customer_id not in (None, customer.id)]
    if elsewhere and not move:
        _refuse_move(session, elsewhere, customer)
    moved_from = tuple(
        dict.fromkeys(_holder_text(session, o.customer_id) for o in elsewhere if o.customer_id)
    )
    previous = {o.id: (o.customer_id, o.link_route) for o in orders}
    for order in orders:
        order.customer_id = customer.id
        order.link_route = LinkRoute.MANUAL
    session.flush()
    _teach_code(session, customer, orders)
    converted = _convert(session, customer, orders)
    _audit_links(session, actor, customer, orders, LinkRoute.MANUAL, previous)
    session.flush()
    plan_after_sales_follow_ups(session, [o.id for o in orders])
    return LinkResult(
        customer.id,
        customer.name,
        [o.order_number for o in orders],
        converted,
        moved_from=moved_from,
    )


def link_order_number(
    session: Session,
    actor: User | None,
    order_number: str,
    customer_id: int,
    *,
    source_system: str | None = None,
    move: bool = False,
) -> LinkResult:
    order = find_order(session, order_number, source_system)
    return link_orders(session, actor, [order.id], customer_id, move=move)


def create_customer_from_order(
    session: Session, actor: User | None, order_id: int, *, region: str = DEFAULT_REGION
) -> LinkResult:
    """Make the buyer of a waiting order a customer, and link all its waiting orders.

    The new customer takes the name, city, phones, e-mails and the source system's code
    the order gave. It is an active customer from the start when one of those orders is a
    sale; when every one is cancelled it never bought, and starts as a prospect. If the
    order came with an import, undoing that import removes the customer again (unless it
    has more since).
    """
    require(actor, Permission.IMPORT_ORDERS)
    require(actor, Permission.CREATE_CUSTOMERS)
    assert actor is not None
    order = session.get(Order, order_id)
    if order is None:
        raise NotFoundError("This order no longer exists; refresh the list.")
    if order.customer_id is not None:
        raise SmbcrmError(
            f"Order {order.order_number} already belongs to a customer; nothing was created."
        )
    buyer = Buyer.from_json(order.customer_details)
    others = list(
        session.scalars(select(Order).where(Order.customer_id.is_(None), Order.id != order.id))
    )
    if buyer.code:
        # The buyer's other orders (same code) may say more: a name, a phone, a city.
        code = normalize_key_text(buyer.code)
        for other in others:
            details = Buyer.from_json(other.customer_details)
            if (
                other.source_system == order.source_system
                and details.code
                and normalize_key_text(details.code) == code
            ):
                buyer.add_from(details)
    name = buyer.name or (order.customer_ref if buyer.is_empty else None)
    if not name:
        known = buyer.describe(region) or "nothing about the buyer"
        raise ValidationError(
            {
                "name": f"Order {order.order_number} gives no buyer name (only {known}): "
                "link it to a customer by hand, or create the customer in the customer form."
            }
        )
    # The buyer's other waiting orders: same code, phone or e-mail, or same name and city.
    codes = {(order.source_system, normalize_key_text(buyer.code))} if buyer.code else set()
    phone_keys = {k for _r, k in buyer.phones}
    email_keys = {k for _r, k in buyer.emails}
    name_key = normalize_name(name)
    city = city_key(buyer.city)
    waiting = [order]
    for other in others:
        other_buyer = Buyer.from_json(other.customer_details)
        if buyer_fits(
            other_buyer,
            other.source_system,
            codes=codes,
            phones=phone_keys,
            emails=email_keys,
            name_key=name_key,
            city=city,
        ):
            waiting.append(other)
    bought = any(not is_cancelled_status(o.status) for o in waiting)
    phones = [raw for raw, _k in buyer.phones if normalize_phone(raw, region)]
    data = CustomerInput(
        name=name,
        status=CustomerStatus.ACTIVE if bought else CustomerStatus.PROSPECT,
        city=buyer.city,
        phones=phones,
        emails=[raw for raw, _k in buyer.emails],
        source=order.source_system,
    )
    customer = create_customer(session, actor, data, region=region)
    if buyer.code:
        taken = session.scalar(
            select(ExternalId.customer_id).where(
                ExternalId.system == order.source_system,
                ExternalId.key_norm == normalize_key_text(buyer.code),
            )
        )
        if taken is None:
            customer.external_ids.append(ExternalId(system=order.source_system, key=buyer.code))
    session.flush()
    for linked in waiting:
        linked.customer_id = customer.id
        linked.link_route = LinkRoute.CREATED
    session.flush()
    _audit_links(session, actor, customer, waiting, LinkRoute.CREATED, {})
    session.flush()
    plan_after_sales_follow_ups(session, [o.id for o in waiting])
    if order.import_batch_id is not None:
        # Part of that import now: undoing it removes the customer (unless it has more).
        session.add(
            ImportChange(
                batch_id=order.import_batch_id,
                entity="customer",
                entity_id=customer.id,
                action=ChangeAction.CREATED,
                before=None,
                row_number=None,
                version_after=customer.version,
            )
        )
    session.flush()
    return LinkResult(
        customer.id,
        customer.name,
        [o.order_number for o in waiting],
        converted=False,
        created=True,
    )


def create_customer_from_order_number(
    session: Session,
    actor: User | None,
    order_number: str,
    *,
    source_system: str | None = None,
    region: str = DEFAULT_REGION,
) -> LinkResult:
    order = find_order(session, order_number, source_system)
    return create_customer_from_order(session, actor, order.id, region=region)


# -- the report -----------------------------------------------------------------------------

REPORT_COLUMNS = (
    "Order number",
    "Date",
    "Amount",
    "Currency",
    "Status",
    "Source system",
    "Buyer",
    "Customer code",
    "Phones",
    "E-mails",
    "City",
    "Why unmatched",
    "Import batch",
)


def report_rows(groups: Sequence[UnmatchedBuyer]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for group in groups:
        buyer = group.buyer
        for order in group.orders:
            rows.append(
                (
                    order.order_number,
                    order.order_date,
                    float(order.amount),
                    order.currency,
                    order.status or "",
                    order.source_system,
                    buyer.name or "",
                    buyer.code or "",
                    ", ".join(raw for raw, _k in buyer.phones),
                    ", ".join(raw for raw, _k in buyer.emails),
                    buyer.city or "",
                    order.reason,
                    order.batch_id or "",
                )
            )
    return rows


def write_unmatched_report(
    session: Session, actor: User | None, path: Path, groups: Sequence[UnmatchedBuyer]
) -> int:
    """Every waiting order, one row each, to .xlsx or .csv; the export is logged.

    The file is written whole or not at all; one that cannot be written (a folder of that
    name, no permission, open in Excel) is a message saying so, and nothing is logged.
    """
    from smbcrm.services.export.workbook import Column, ColumnKind, Sheet, save_sheet, writing_to

    require(actor, Permission.EXPORT)
    assert actor is not None
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationError(
            {"report": f"Save the report as .xlsx or .csv, not '{path.suffix or path.name}'."}
        )
    rows = [tuple(None if v == "" else v for v in row) for row in report_rows(groups)]
    kinds = {1: ColumnKind.DATE, 2: ColumnKind.MONEY, 12: ColumnKind.INTEGER}
    columns = [
        Column(title, title, kinds.get(i, ColumnKind.TEXT), total=i == 2)
        for i, title in enumerate(REPORT_COLUMNS)
    ]
    sheet = Sheet("Unmatched orders", columns, rows, len(rows), currency_column=3)
    with writing_to(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    save_sheet(path, sheet)
    session.add(
        ExportEntry(
            user_id=actor.id,
            kind="unmatched orders",
            row_count=len(rows),
            file_name=str(path),
            filters={},
        )
    )
    session.flush()
    return len(rows)
