"""Orders waiting for a customer: listed by buyer, then linked by hand or made a customer.

An imported order that matched no customer keeps what its file said about the buyer
(``Order.customer_details``). Here a person either links it (and the buyer's other waiting
orders) to an existing customer, or creates the customer from it — which links every other
waiting order of the same buyer too. Each link is audited with its route; a prospect that
gets its first order this way becomes an active customer, and the conversion is recorded,
exactly as when an import links it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
)
from smbcrm.models.keys import DEFAULT_REGION, normalize_key_text, normalize_name, normalize_phone
from smbcrm.services.after_sales import plan_after_sales_follow_ups
from smbcrm.services.customers import CustomerInput, create_customer
from smbcrm.errors import NotFoundError, SmbcrmError, ValidationError
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


def _convert(session: Session, customer: Customer, orders: Sequence[Order], actor: User) -> bool:
    """A prospect getting its first order becomes an active customer; recorded."""
    if customer.status != CustomerStatus.PROSPECT or not orders:
        return False
    first = min(orders, key=lambda o: (o.order_date, o.order_number))
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
    previous: dict[int, int | None],
) -> None:
    how = {
        LinkRoute.MANUAL: "linked by hand",
        LinkRoute.CREATED: "customer created from the order",
    }.get(route, route.value)
    session.add_all(
        AuditEntry(
            user_id=actor.id,
            entity="order",
            entity_id=order.id,
            customer_id=customer.id,
            action=ChangeAction.UPDATED,
            changes={
                "customer_id": [previous.get(order.id), customer.id],
                "link_route": [None, route.value],
            },
            summary=f"Order {order.order_number} → {customer.name} ({how})",
        )
        for order in orders
    )


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


def link_orders(
    session: Session, actor: User | None, order_ids: Sequence[int], customer_id: int
) -> LinkResult:
    """Link orders to a customer by hand (a merged-away customer means its survivor)."""
    require(actor, Permission.IMPORT_ORDERS)
    assert actor is not None
    if not order_ids:
        raise ValidationError({"orders": "Choose the orders to link."})
    customer = _survivor(session, customer_id)
    orders = list(session.scalars(select(Order).where(Order.id.in_(order_ids))))
    if len(orders) != len(set(order_ids)):
        raise NotFoundError("Some of these orders no longer exist; refresh the list.")
    previous = {o.id: o.customer_id for o in orders}
    for order in orders:
        order.customer_id = customer.id
        order.link_route = LinkRoute.MANUAL
    session.flush()
    _teach_code(session, customer, orders)
    converted = _convert(session, customer, orders, actor)
    _audit_links(session, actor, customer, orders, LinkRoute.MANUAL, previous)
    session.flush()
    plan_after_sales_follow_ups(session, [o.id for o in orders])
    return LinkResult(customer.id, customer.name, [o.order_number for o in orders], converted)


def link_order_number(
    session: Session,
    actor: User | None,
    order_number: str,
    customer_id: int,
    *,
    source_system: str | None = None,
) -> LinkResult:
    order = find_order(session, order_number, source_system)
    return link_orders(session, actor, [order.id], customer_id)


def create_customer_from_order(
    session: Session, actor: User | None, order_id: int, *, region: str = DEFAULT_REGION
) -> LinkResult:
    """Make the buyer of a waiting order a customer, and link all its waiting orders.

    The new customer takes the name, city, phones, e-mails and the source system's code
    the order gave; it is an active customer from the start. If the order came with an
    import, undoing that import removes the customer again (unless it has more since).
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
    phones = [raw for raw, _k in buyer.phones if normalize_phone(raw, region)]
    data = CustomerInput(
        name=name,
        status=CustomerStatus.ACTIVE,
        city=buyer.city,
        phones=phones,
        emails=[raw for raw, _k in buyer.emails],
        source=order.source_system,
    )
    customer = create_customer(session, actor, data, region=region)
    codes: set[tuple[str, str]] = set()
    if buyer.code:
        taken = session.scalar(
            select(ExternalId.customer_id).where(
                ExternalId.system == order.source_system,
                ExternalId.key_norm == normalize_key_text(buyer.code),
            )
        )
        if taken is None:
            customer.external_ids.append(ExternalId(system=order.source_system, key=buyer.code))
        codes.add((order.source_system, normalize_key_text(buyer.code)))
    session.flush()
    # The buyer's other waiting orders: same code, phone or e-mail, or same name and city.
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
    for linked in waiting:
        linked.customer_id = customer.id
        linked.link_route = LinkRoute.CREATED
    session.flush()
    _audit_links(
        session, actor, customer, waiting, LinkRoute.CREATED, {o.id: None for o in waiting}
    )
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
    """Every waiting order, one row each, to .xlsx or .csv; the export is logged."""
    from smbcrm.services.export.workbook import Column, ColumnKind, Sheet, new_workbook, write_sheet

    require(actor, Permission.EXPORT)
    assert actor is not None
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationError(
            {"report": f"Save the report as .xlsx or .csv, not '{path.suffix or path.name}'."}
        )
    rows = report_rows(groups)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            with path.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(REPORT_COLUMNS)
                for row in rows:
                    writer.writerow(
                        [
                            f"{v:.2f}"
                            if isinstance(v, float)
                            else v.isoformat()
                            if isinstance(v, date)
                            else _safe_csv(str(v))
                            for v in row
                        ]
                    )
        else:
            kinds = {1: ColumnKind.DATE, 2: ColumnKind.MONEY, 12: ColumnKind.INTEGER}
            columns = [
                Column(title, title, kinds.get(i, ColumnKind.TEXT), total=i == 2)
                for i, title in enumerate(REPORT_COLUMNS)
            ]
            book = new_workbook(path)
            write_sheet(
                book,
                Sheet(
                    "Unmatched orders",
                    columns,
                    [tuple(None if v == "" else v for v in row) for row in rows],
                    len(rows),
                    currency_column=3,
                ),
            )
            book.close()
    except OSError as exc:
        raise SmbcrmError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
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


def _safe_csv(text: str) -> str:
    from smbcrm.services.export.workbook import neutralise_csv_text

    return neutralise_csv_text(text)
