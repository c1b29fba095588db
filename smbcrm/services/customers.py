"""Customer use cases: list and search pages, detail, create and edit with validation.

The list is served a page at a time, sorted by the database, so a book of 100,000 customers
opens as fast as one of 100.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.exc import StaleDataError

from smbcrm.errors import ConflictError, NotFoundError, ValidationError
from smbcrm.models import (
    Activity,
    ActivityKind,
    AssignmentChange,
    AuditEntry,
    Case,
    Contact,
    ContactPoint,
    ContactPointKind,
    Conversion,
    Customer,
    CustomerKind,
    CustomerStatus,
    ExternalId,
    FollowUp,
    ImportBatch,
    Merge,
    Order,
    Tag,
    Tier,
    User,
    counts_as_sale,
    utcnow,
)
from smbcrm.models.db import as_date
from smbcrm.models.keys import DEFAULT_REGION, format_phone, normalize_email, normalize_phone
from smbcrm.services.money import format_money
from smbcrm.services.ownership import may_own_customers
from smbcrm.services.permissions import Permission, require, require_edit_customer
from smbcrm.services.search import SearchIndex, search_terms, term_condition

# Above this many matches the filter runs in SQL along the sort index instead of an id list:
# a common term then fills a page after a few hundred rows.
ID_LIST_LIMIT = 4000
# A search counts its matches exactly up to here, then says "10,000+": counting every one of
# 100,000 matches for a one-letter query would cost more than the rest of the keystroke.
COUNT_CAP = 10_000
UNASSIGNED = -1  # owner filter value for the unassigned pool


class SortColumn(StrEnum):
    NAME = "name"
    STATUS = "status"
    OWNER = "owner"
    CITY = "city"
    TIER = "tier"
    PHONE = "phone"
    UPDATED = "updated"


@dataclass(frozen=True)
class CustomerFilter:
    text: str = ""
    status: CustomerStatus | None = None
    owner_id: int | None = None  # UNASSIGNED for the pool
    tier: Tier | None = None
    include_archived: bool = False


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    kind: CustomerKind
    status: CustomerStatus
    owner: str | None
    city: str | None
    phone: str
    email: str | None
    contact: str | None
    tier: Tier | None
    updated_at: datetime
    archived: bool


@dataclass(frozen=True)
class CustomerPage:
    rows: list[CustomerRow]
    total: int


class CustomerList:
    """Pages of customers for the list view; one instance per open database."""

    def __init__(self, region: str = DEFAULT_REGION) -> None:
        self.region = region
        self.index = SearchIndex()

    def _order(self, sort: SortColumn, descending: bool, owner: type[User]) -> list[Any]:
        column: Any
        if sort == SortColumn.STATUS:
            column = Customer.status
        elif sort == SortColumn.OWNER:
            column = owner.full_name
        elif sort == SortColumn.CITY:
            column = Customer.city_key
        elif sort == SortColumn.TIER:
            column = Customer.tier
        elif sort == SortColumn.PHONE:
            column = Customer.primary_phone
        elif sort == SortColumn.UPDATED:
            column = Customer.updated_at
        else:
            column = Customer.sort_key
        primary = column.desc() if descending else column.asc()
        tie = Customer.sort_key.desc() if descending else Customer.sort_key.asc()
        last = Customer.id.desc() if descending else Customer.id.asc()
        if sort in (SortColumn.NAME, SortColumn.PHONE, SortColumn.UPDATED):
            return [primary, last]  # matches the list indexes, which end in the row id
        return [primary, tie, last]

    def _base(self, flt: CustomerFilter) -> tuple[Select[*tuple[Any, ...]], type[User]]:
        owner = aliased(User)
        stmt = select(
            Customer.id,
            Customer.name,
            Customer.kind,
            Customer.status,
            owner.full_name,
            Customer.city,
            Customer.primary_phone,
            Customer.primary_email,
            Customer.primary_contact,
            Customer.tier,
            Customer.updated_at,
            Customer.archived_at,
        ).outerjoin(owner, owner.id == Customer.owner_id)
        return stmt.where(*_filter_conditions(flt)), owner

    def _uses_index(self, flt: CustomerFilter) -> list[str] | None:
        """Search terms, when the in-memory index can answer this filter on its own."""
        terms = search_terms(flt.text, self.region)
        if not terms or flt.include_archived:
            return None
        if flt.status is not None or flt.owner_id is not None or flt.tier is not None:
            return None
        return terms

    def _text_condition(self, session: Session, flt: CustomerFilter) -> ColumnElement[bool] | None:
        """SQL condition for the typed text: an id list when short, else substring tests."""
        terms = search_terms(flt.text, self.region)
        if not terms:
            return None
        if flt.include_archived:
            # Archived customers are not in the in-memory index: search them in SQL.
            return _sql_contains_all(terms)
        self.index.refresh(session)
        ids = self.index.matching_ids(terms, limit=ID_LIST_LIMIT)
        if ids is not None:
            return Customer.id.in_(ids)
        # Many matches: walking the sort index fills a page after a few rows.
        return _sql_contains_all(terms)

    def page(
        self,
        session: Session,
        flt: CustomerFilter,
        *,
        sort: SortColumn = SortColumn.NAME,
        descending: bool = False,
        offset: int = 0,
        limit: int = 200,
    ) -> list[CustomerRow]:
        stmt, owner = self._base(flt)
        terms = self._uses_index(flt)
        if terms is not None and sort == SortColumn.NAME:
            # The index holds the text in name order: the page is its first matches.
            self.index.refresh(session)
            ids = self.index.page_ids(terms, offset, limit, descending=descending)
            if not ids:
                return []
            found = {r[0]: r for r in session.execute(stmt.where(Customer.id.in_(ids)))}
            return [self._row(found[cid]) for cid in ids if cid in found]
        condition = self._text_condition(session, flt)
        if condition is not None:
            stmt = stmt.where(condition)
        stmt = stmt.order_by(*self._order(sort, descending, owner)).offset(offset).limit(limit)
        return [self._row(r) for r in session.execute(stmt)]

    def count(self, session: Session, flt: CustomerFilter) -> int:
        """Exactly how many customers match."""
        return self.counted(session, flt, cap=None)[0]

    def counted(
        self, session: Session, flt: CustomerFilter, *, cap: int | None = COUNT_CAP
    ) -> tuple[int, bool]:
        """How many match, and whether exact: past ``cap`` matches a search says "cap+"."""
        terms = self._uses_index(flt)
        if terms is not None:
            self.index.refresh(session)
            return self.index.count(terms, cap)
        # Counting needs no owner join: count the customers table alone along its index.
        stmt = select(func.count()).select_from(Customer).where(*_filter_conditions(flt))
        condition = self._text_condition(session, flt)
        if condition is not None:
            stmt = stmt.where(condition)
        return int(session.scalar(stmt) or 0), True

    def position(
        self,
        session: Session,
        flt: CustomerFilter,
        customer_id: int,
        *,
        sort: SortColumn = SortColumn.NAME,
        descending: bool = False,
    ) -> int | None:
        """Row number (from 0) of a customer in ``page()`` order, None if the filter hides it."""
        terms = self._uses_index(flt)
        if terms is not None and sort == SortColumn.NAME:
            self.index.refresh(session)
            return self.index.position(terms, customer_id, descending=descending)
        stmt, owner = self._base(flt)
        condition = self._text_condition(session, flt)
        if condition is not None:
            stmt = stmt.where(condition)
        ordering = self._order(sort, descending, owner)
        ranked = stmt.with_only_columns(
            Customer.id.label("customer_id"),
            func.row_number().over(order_by=ordering).label("position"),
        ).subquery()
        found = session.scalar(select(ranked.c.position).where(ranked.c.customer_id == customer_id))
        return None if found is None else int(found) - 1

    def _row(self, r: tuple[object, ...]) -> CustomerRow:
        (cid, name, kind, status, owner, city, phone, email, contact, tier, updated, archived) = r
        return CustomerRow(
            id=int(cid),  # type: ignore[call-overload]
            name=str(name),
            kind=kind,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            owner=owner,  # type: ignore[arg-type]
            city=city,  # type: ignore[arg-type]
            phone=format_phone(phone, self.region) if phone else "",  # type: ignore[arg-type]
            email=email,  # type: ignore[arg-type]
            contact=contact,  # type: ignore[arg-type]
            tier=tier,  # type: ignore[arg-type]
            updated_at=updated,  # type: ignore[arg-type]
            archived=archived is not None,
        )


def _filter_conditions(flt: CustomerFilter) -> list[ColumnElement[bool]]:
    """The list filter's conditions other than the typed text, shared by pages and counts."""
    conditions: list[ColumnElement[bool]] = [Customer.merged_into_id.is_(None)]
    if not flt.include_archived:
        conditions.append(Customer.archived_at.is_(None))
    if flt.status is not None:
        conditions.append(Customer.status == flt.status)
    if flt.owner_id == UNASSIGNED:
        conditions.append(Customer.owner_id.is_(None))
    elif flt.owner_id is not None:
        conditions.append(Customer.owner_id == flt.owner_id)
    if flt.tier is not None:
        conditions.append(Customer.tier == flt.tier)
    return conditions


def _sql_contains_all(terms: list[str]) -> ColumnElement[bool]:
    conditions = [term_condition(Customer, term) for term in terms]
    # A merged-away customer's old name finds the customer it was merged into.
    absorbed = aliased(Customer)
    old_names = select(absorbed.merged_into_id).where(
        absorbed.merged_into_id.is_not(None), *[term_condition(absorbed, term) for term in terms]
    )
    return or_(and_(*conditions), Customer.id.in_(old_names))


# ---------------------------------------------------------------------------------------
# Create and edit


@dataclass
class CustomerInput:
    """What the customer form (or a script) supplies; empty strings mean 'not given'."""

    name: str
    kind: CustomerKind = CustomerKind.COMPANY
    status: CustomerStatus = CustomerStatus.PROSPECT
    owner_id: int | None = None
    tier: Tier | None = None
    source: str | None = None
    referred_by_id: int | None = None
    birthday: date | None = None
    tax_id: str | None = None
    country: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    postcode: str | None = None
    website: str | None = None
    notes: str | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    wechat: str | None = None
    contact_name: str | None = None
    contact_title: str | None = None
    tags: list[str] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)


_TAX_ID_RE = re.compile(r"^[0-9A-Za-z\-]{5,30}$")
_CN_CREDIT_CODE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def validate_customer_input(
    data: CustomerInput, region: str = DEFAULT_REGION, *, today: date | None = None
) -> dict[str, str]:
    """Field → message for everything that cannot be saved as typed."""
    today = today or date.today()
    errors: dict[str, str] = {}
    if not data.name or not data.name.strip():
        errors["name"] = "Enter the customer's name."
    elif len(data.name.strip()) > 300:
        errors["name"] = "The name is longer than 300 characters; shorten it."
    for phone in data.phones:
        if phone.strip() and normalize_phone(phone, region) is None:
            errors["phones"] = (
                f"'{phone}' is not a phone number. Use digits, optionally with +country code "
                "(e.g. +86 138 0013 8000)."
            )
            break
        key = normalize_phone(phone, region) if phone.strip() else None
        if key and not key.startswith("+"):
            errors["phones"] = (
                f"'{phone}' is not a valid number for {region}. Check the digits, or write it "
                "with its country code (e.g. +852 …)."
            )
            break
    for email in data.emails:
        if email.strip() and normalize_email(email) is None:
            errors["emails"] = f"'{email}' is not an e-mail address (name@example.com)."
            break
    if data.birthday is not None:
        if data.birthday > today:
            errors["birthday"] = "The birthday is in the future; check the year."
        elif data.birthday.year < 1900:
            errors["birthday"] = "The birthday is before 1900; check the year."
    tax = _clean(data.tax_id)
    if tax is not None:
        compact = tax.replace(" ", "").upper()
        if not _TAX_ID_RE.match(compact):
            errors["tax_id"] = "A tax / registration number has only letters, digits and dashes."
        elif len(compact) == 18 and compact[0].isdigit() and not _CN_CREDIT_CODE_RE.match(compact):
            errors["tax_id"] = (
                "This looks like a unified social credit code (统一社会信用代码) but is not one: "
                "it has 18 characters, digits and capital letters except I, O, S, V, Z."
            )
    if data.kind == CustomerKind.COMPANY and data.birthday is not None:
        errors["birthday"] = "A company has no birthday; choose 'Person' or clear the birthday."
    return errors


def tags_named(session: Session, names: list[str]) -> list[Tag]:
    wanted = []
    for name in names:
        name = name.strip()
        if name and name not in wanted:
            wanted.append(name)
    if not wanted:
        return []
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    tags = []
    for name in wanted:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
        tags.append(tag)
    return tags


def _record_owner_change(
    session: Session,
    customer: Customer,
    new_owner_id: int | None,
    actor: User | None,
    reason: str,
) -> None:
    if customer.owner_id == new_owner_id:
        return
    if new_owner_id is not None:
        new_owner = session.get(User, new_owner_id)
        if new_owner is None or not new_owner.active:
            raise ValidationError(
                {"owner_id": "Choose an active staff member as the responsible salesperson."}
            )
        if not may_own_customers(new_owner):
            raise ValidationError(
                {
                    "owner_id": f"{new_owner.full_name} may not be responsible for customers "
                    "(only sales staff, managers and owners are); choose one of them."
                }
            )
    session.add(
        AssignmentChange(
            customer_id=customer.id,
            from_user_id=customer.owner_id,
            to_user_id=new_owner_id,
            changed_by_id=actor.id if actor else None,
            reason=reason,
        )
    )
    customer.owner_id = new_owner_id


def _apply(session: Session, customer: Customer, data: CustomerInput) -> None:
    customer.name = data.name.strip()
    customer.kind = data.kind
    customer.status = data.status
    customer.tier = data.tier
    customer.source = _clean(data.source)
    customer.referred_by_id = data.referred_by_id
    customer.birthday = data.birthday if data.kind == CustomerKind.PERSON else None
    customer.tax_id = _clean(data.tax_id)
    customer.country = _clean(data.country)
    customer.province = _clean(data.province)
    customer.city = _clean(data.city)
    customer.district = _clean(data.district)
    customer.address = _clean(data.address)
    customer.postcode = _clean(data.postcode)
    customer.website = _clean(data.website)
    customer.notes = _clean(data.notes)
    customer.tags = tags_named(session, data.tags)
    customer.team = (
        list(session.scalars(select(User).where(User.id.in_(data.team_ids))))
        if data.team_ids
        else []
    )
    # Customer-level phones, e-mails and WeChat: keep rows that still match, add the rest.
    wanted: list[tuple[ContactPointKind, str]] = []
    for i, phone in enumerate(p for p in data.phones if p.strip()):
        kind = ContactPointKind.MOBILE if i == 0 else ContactPointKind.PHONE
        wanted.append((kind, phone.strip()))
    wanted += [(ContactPointKind.EMAIL, e.strip()) for e in data.emails if e.strip()]
    if _clean(data.wechat):
        wanted.append((ContactPointKind.WECHAT, data.wechat.strip()))  # type: ignore[union-attr]
    own_points = [p for p in customer.contact_points if p.contact_id is None and p.contact is None]
    kept: list[ContactPoint] = []
    remaining = list(wanted)
    for point in own_points:
        match = next((w for w in remaining if w[1] == point.value and w[0] == point.kind), None)
        if match is not None:
            remaining.remove(match)
            kept.append(point)
        else:
            customer.contact_points.remove(point)
    for kind, value in remaining:
        customer.contact_points.append(ContactPoint(kind=kind, value=value))
    first_phone = True
    for point in customer.contact_points:
        if point.contact_id is None and point.contact is None and point.kind.is_phone:
            point.is_primary = first_phone
            first_phone = False
    contact_name = _clean(data.contact_name)
    primary = next((c for c in customer.contacts if c.is_primary), None)
    if contact_name:
        if primary is None:
            customer.contacts.append(
                Contact(name=contact_name, title=_clean(data.contact_title), is_primary=True)
            )
        else:
            primary.name = contact_name
            primary.title = _clean(data.contact_title)
    elif primary is not None and not primary.points:
        customer.contacts.remove(primary)


def create_customer(
    session: Session,
    actor: User | None,
    data: CustomerInput,
    *,
    region: str = DEFAULT_REGION,
) -> Customer:
    require(actor, Permission.CREATE_CUSTOMERS)
    errors = validate_customer_input(data, region)
    if errors:
        raise ValidationError(errors)
    if data.referred_by_id is not None:
        _check_referrer(session, None, data.referred_by_id)
    customer = Customer(name=data.name.strip(), created_by_id=actor.id if actor else None)
    session.add(customer)
    _apply(session, customer, data)
    session.flush()
    if data.owner_id is not None:
        _record_owner_change(session, customer, data.owner_id, actor, "New customer")
    session.flush()
    return customer


def update_customer(
    session: Session,
    actor: User | None,
    customer_id: int,
    data: CustomerInput,
    *,
    expected_version: int | None = None,
    region: str = DEFAULT_REGION,
) -> Customer:
    """Save an edit; if someone else saved the same customer meanwhile, raise ConflictError."""
    customer = get_customer(session, customer_id)
    require_edit_customer(actor, customer)
    if expected_version is not None and customer.version != expected_version:
        raise ConflictError(_conflict_message(session, customer))
    errors = validate_customer_input(data, region)
    if errors:
        raise ValidationError(errors)
    if data.referred_by_id is not None and data.referred_by_id != customer.referred_by_id:
        _check_referrer(session, customer.id, data.referred_by_id)
    if data.owner_id != customer.owner_id:
        require(actor, Permission.REASSIGN)
        _record_owner_change(
            session, customer, data.owner_id, actor, "Changed in the customer form"
        )
    _apply(session, customer, data)
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise ConflictError(_conflict_message(session, get_customer(session, customer_id))) from exc
    return customer


def _check_referrer(session: Session, customer_id: int | None, referrer_id: int) -> None:
    """No self-referral, no circle, no merged-away or archived referrer."""
    # The referrals service builds on this module, so it is imported when needed.
    from smbcrm.services.referrals import validate_referrer

    validate_referrer(session, customer_id, referrer_id)


def _conflict_message(session: Session, customer: Customer) -> str:
    entry = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.entity == "customer", AuditEntry.entity_id == customer.id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    who = entry.user.full_name if entry is not None and entry.user is not None else "Someone"
    changed = ", ".join(sorted(entry.changes)) if entry is not None and entry.changes else ""
    detail = f" ({changed})" if changed else ""
    return (
        f"{who} saved {customer.name} while you were editing it{detail}. "
        "Reload to see their change, or keep yours to overwrite it."
    )


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    return customer


def input_from_customer(customer: Customer) -> CustomerInput:
    own = [p for p in customer.contact_points if p.contact_id is None]
    primary = next((c for c in customer.contacts if c.is_primary), None)
    wechat = next((p.value for p in own if p.kind == ContactPointKind.WECHAT), None)
    return CustomerInput(
        name=customer.name,
        kind=customer.kind,
        status=customer.status,
        owner_id=customer.owner_id,
        tier=customer.tier,
        source=customer.source,
        referred_by_id=customer.referred_by_id,
        birthday=customer.birthday,
        tax_id=customer.tax_id,
        country=customer.country,
        province=customer.province,
        city=customer.city,
        district=customer.district,
        address=customer.address,
        postcode=customer.postcode,
        website=customer.website,
        notes=customer.notes,
        phones=[p.value for p in own if p.kind.is_phone],
        emails=[p.value for p in own if p.kind == ContactPointKind.EMAIL],
        wechat=wechat,
        contact_name=primary.name if primary else None,
        contact_title=primary.title if primary else None,
        tags=[t.name for t in customer.tags],
        team_ids=[u.id for u in customer.team],
    )


def add_contact(
    session: Session,
    actor: User | None,
    customer_id: int,
    *,
    name: str,
    title: str | None = None,
    phones: list[str] | None = None,
    emails: list[str] | None = None,
    wechat: str | None = None,
    region: str = DEFAULT_REGION,
) -> Contact:
    customer = get_customer(session, customer_id)
    require_edit_customer(actor, customer)
    errors = {}
    if not name.strip():
        errors["name"] = "Enter the contact's name."
    for phone in phones or []:
        if phone.strip() and normalize_phone(phone, region) is None:
            errors["phones"] = f"'{phone}' is not a phone number."
    for email in emails or []:
        if email.strip() and normalize_email(email) is None:
            errors["emails"] = f"'{email}' is not an e-mail address (name@example.com)."
    if errors:
        raise ValidationError(errors)
    contact = Contact(name=name.strip(), title=_clean(title), is_primary=not customer.contacts)
    customer.contacts.append(contact)
    points = [(ContactPointKind.MOBILE, p) for p in phones or [] if p.strip()]
    points += [(ContactPointKind.EMAIL, e) for e in emails or [] if e.strip()]
    if wechat and wechat.strip():
        points.append((ContactPointKind.WECHAT, wechat))
    for kind, value in points:
        point = ContactPoint(kind=kind, value=value.strip())
        # Into the session through the customer first. Linked to the contact first, the point
        # sits in the contact's list outside the session, and the autoflush that loading the
        # customer's points may run skips it with a warning.
        customer.contact_points.append(point)
        point.contact = contact
    session.flush()
    return contact


def archive_customer(session: Session, actor: User | None, customer_id: int) -> None:
    require(actor, Permission.ARCHIVE)
    customer = get_customer(session, customer_id)
    customer.archived_at = utcnow()


def restore_customer(session: Session, actor: User | None, customer_id: int) -> None:
    require(actor, Permission.ARCHIVE)
    customer = get_customer(session, customer_id)
    customer.archived_at = None


# ---------------------------------------------------------------------------------------
# Detail


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    title: str | None
    is_primary: bool
    points: list[tuple[str, str]]  # (kind label, readable value)


@dataclass(frozen=True)
class OrderView:
    id: int
    order_number: str
    order_date: date
    amount: Decimal
    currency: str
    status: str | None
    source_system: str


@dataclass(frozen=True)
class ActivityView:
    id: int
    occurred_at: datetime
    kind: str
    subject: str
    body: str | None
    user: str | None
    is_opportunity: bool


@dataclass(frozen=True)
class FollowUpView:
    id: int
    title: str
    due_date: date
    assignee: str | None
    done: bool


@dataclass(frozen=True)
class OwnershipView:
    changed_at: datetime
    from_user: str | None
    to_user: str | None
    changed_by: str | None
    reason: str


@dataclass(frozen=True)
class OrderStats:
    """The customer's sales: how many, their totals (one per currency: never added up
    across currencies), the first and the last; and how many more orders were cancelled
    (listed, but no sale)."""

    count: int
    totals: Mapping[str, Decimal]  # currency → total of the sales in it
    first_order: date | None
    last_order: date | None
    cancelled: int = 0


@dataclass(frozen=True)
class HistoryEntry:
    """A moment in the customer's life: became a customer, absorbed duplicates."""

    at: datetime
    kind: str  # conversion, merge, activity, order, case or ownership
    text: str
    by: str | None = None
    activity_kind: ActivityKind | None = None  # which kind of contact, for an activity


@dataclass(frozen=True)
class CustomerDetail:
    id: int
    version: int
    name: str
    kind: CustomerKind
    status: CustomerStatus
    owner: str | None
    owner_id: int | None
    team: list[str]
    tier: Tier | None
    source: str | None
    referred_by: str | None
    birthday: date | None
    tax_id: str | None
    address_lines: list[str]
    phones: list[str]
    emails: list[str]
    tags: list[str]
    notes: str | None
    archived: bool
    created_at: datetime
    updated_at: datetime
    contacts: list[ContactView]
    external_ids: list[tuple[str, str]]
    order_stats: OrderStats
    recent_orders: list[OrderView]
    activities: list[ActivityView]
    follow_ups: list[FollowUpView]
    ownership: list[OwnershipView]
    # Conversions and merges, newest first; ``conversion`` is how it became a customer.
    history: list[HistoryEntry] = field(default_factory=list)
    conversion: str | None = None


POINT_LABELS = {
    ContactPointKind.MOBILE: "Mobile",
    ContactPointKind.PHONE: "Phone",
    ContactPointKind.EMAIL: "E-mail",
    ContactPointKind.WECHAT: "WeChat",
    ContactPointKind.WHATSAPP: "WhatsApp",
    ContactPointKind.QQ: "QQ",
    ContactPointKind.OTHER: "Other",
}


def _readable(point: ContactPoint, region: str) -> str:
    if point.kind.is_phone and point.key and point.key.startswith("+"):
        return format_phone(point.key, region)
    return point.value


def order_stats(session: Session, customer_id: int) -> OrderStats:
    sale = counts_as_sale()
    count = every = 0
    first: date | None = None
    last: date | None = None
    totals: dict[str, Decimal] = {}
    for currency, sales, orders, revenue, earliest, latest in session.execute(
        select(
            Order.currency,
            func.count(case((sale, Order.id))),
            func.count(Order.id),
            func.coalesce(func.sum(case((sale, Order.amount), else_=0)), 0),
            func.min(case((sale, Order.order_date))),
            func.max(case((sale, Order.order_date))),
        )
        .where(Order.customer_id == customer_id)
        .group_by(Order.currency)
    ):
        count += int(sales)
        every += int(orders)
        if sales:
            totals[str(currency)] = Decimal(str(revenue)).quantize(Decimal("0.01"))
        earliest, latest = as_date(earliest), as_date(latest)
        if earliest is not None and (first is None or earliest < first):
            first = earliest
        if latest is not None and (last is None or latest > last):
            last = latest
    return OrderStats(count, dict(sorted(totals.items())), first, last, every - count)


def conversion_text(order_number: str | None, order_date: date | None, owner: str | None) -> str:
    """'Became a customer with order SO-1001 on 2026-03-02; prospect owned by Li Lei'.

    Each part is a whole phrase of its own, so an interface in another language can word it.
    """
    if order_number and order_date:
        what = f"with order {order_number} on {order_date.isoformat()}"
    elif order_number:
        what = f"with order {order_number}"
    elif order_date:
        what = f"with its first order on {order_date.isoformat()}"
    else:
        what = "with its first order"
    whose = f"prospect owned by {owner}" if owner else "the prospect was unassigned"
    return f"Became a customer {what}; {whose}"


def customer_history(session: Session, customer_id: int) -> list[HistoryEntry]:
    """The customer's timeline, newest first: activities, orders, cases, ownership changes,
    merges and how it became a customer, in one chronological list."""
    owner, importer = aliased(User), aliased(User)
    entries: list[HistoryEntry] = []
    for conversion, number, owner_name, imported_by in session.execute(
        select(Conversion, Order.order_number, owner.full_name, importer.full_name)
        .outerjoin(Order, Order.id == Conversion.order_id)
        .outerjoin(owner, owner.id == Conversion.prospect_owner_id)
        .outerjoin(ImportBatch, ImportBatch.id == Conversion.import_batch_id)
        .outerjoin(importer, importer.id == ImportBatch.user_id)
        .where(Conversion.customer_id == customer_id)
    ):
        entries.append(
            HistoryEntry(
                conversion.converted_at,
                "conversion",
                conversion_text(number, conversion.order_date, owner_name),
                imported_by,
            )
        )
    merger = aliased(User)
    merges = session.execute(
        select(Merge, merger.full_name)
        .outerjoin(merger, merger.id == Merge.merged_by_id)
        .where(Merge.survivor_id == customer_id, Merge.undone_at.is_(None))
    ).all()
    absorbed_ids = {int(i) for merge, _by in merges for i in merge.absorbed_ids or []}
    names = (
        {
            int(cid): str(name)
            for cid, name in session.execute(
                select(Customer.id, Customer.name).where(Customer.id.in_(absorbed_ids))
            )
        }
        if absorbed_ids
        else {}
    )
    for merge, by in merges:
        absorbed = ", ".join(names.get(int(i), f"customer {i}") for i in merge.absorbed_ids or [])
        entries.append(HistoryEntry(merge.merged_at, "merge", f"Merged in: {absorbed}", by))
    entries += _timeline_events(session, customer_id)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:TIMELINE_LIMIT]


# The timeline shows this many of the latest events (each kind read with its own index).
TIMELINE_LIMIT = 500


def _timeline_events(session: Session, customer_id: int) -> list[HistoryEntry]:
    """Contacts logged, orders, cases and ownership changes, as timeline entries."""
    entries: list[HistoryEntry] = []
    limit = TIMELINE_LIMIT
    for kind, subject, wanted, at, by, opportunity in session.execute(
        select(
            Activity.kind,
            Activity.subject,
            Activity.wanted,
            Activity.occurred_at,
            User.full_name,
            Activity.is_opportunity,
        )
        .outerjoin(User, User.id == Activity.user_id)
        .where(Activity.customer_id == customer_id)
        .order_by(Activity.occurred_at.desc())
        .limit(limit)
    ):
        entries.append(
            HistoryEntry(at, "activity", _activity_text(subject, wanted, opportunity), by, kind)
        )
    for number, day, amount, currency, status, created in session.execute(
        select(
            Order.order_number,
            Order.order_date,
            Order.amount,
            Order.currency,
            Order.status,
            Order.created_at,
        )
        .where(Order.customer_id == customer_id)
        .order_by(Order.order_date.desc())
        .limit(limit)
    ):
        at = datetime(day.year, day.month, day.day) if day else created
        money = format_money(amount, currency)
        text = f"Order {number}: {money} ({status})" if status else f"Order {number}: {money}"
        entries.append(HistoryEntry(at, "order", text))
    assignee = aliased(User)
    for case_id, title, category, opened, resolved, resolution, who in session.execute(
        select(
            Case.id,
            Case.title,
            Case.category,
            Case.opened_at,
            Case.resolved_at,
            Case.resolution,
            assignee.full_name,
        )
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .where(Case.customer_id == customer_id)
        .order_by(Case.opened_at.desc())
        .limit(limit)
    ):
        opened_text = (
            f"Case #{case_id} opened [{category}]: {title}"
            if category
            else f"Case #{case_id} opened: {title}"
        )
        entries.append(HistoryEntry(opened, "case", opened_text, who))
        if resolved is not None:
            done = f"Case #{case_id} resolved: {resolution or title}"
            entries.append(HistoryEntry(resolved, "case", done, who))
    before, after, changer = aliased(User), aliased(User), aliased(User)
    for at, old, new, by, reason in session.execute(
        select(
            AssignmentChange.changed_at,
            before.full_name,
            after.full_name,
            changer.full_name,
            AssignmentChange.reason,
        )
        .outerjoin(before, before.id == AssignmentChange.from_user_id)
        .outerjoin(after, after.id == AssignmentChange.to_user_id)
        .outerjoin(changer, changer.id == AssignmentChange.changed_by_id)
        .where(AssignmentChange.customer_id == customer_id)
        .order_by(AssignmentChange.changed_at.desc())
        .limit(limit)
    ):
        old, new = old or "the unassigned pool", new or "the unassigned pool"
        text = f"Owner: {old} → {new} ({reason})" if reason else f"Owner: {old} → {new}"
        entries.append(HistoryEntry(at, "ownership", text, by))
    return entries


def _activity_text(subject: str | None, wanted: str | None, opportunity: bool) -> str:
    """What was said or done; the kind of contact shows beside it. One whole phrase per
    case, so an interface in another language can word it."""
    subject = (subject or "").strip()
    if wanted and opportunity:
        return (
            f"{subject} — wanted: {wanted} (opportunity)"
            if subject
            else f"Wanted: {wanted} (opportunity)"
        )
    if wanted:
        return f"{subject} — wanted: {wanted}" if subject else f"Wanted: {wanted}"
    if opportunity:
        return f"{subject} (opportunity)" if subject else "An opportunity"
    return subject


def customer_detail(
    session: Session, customer_id: int, *, region: str = DEFAULT_REGION, limit: int = 500
) -> CustomerDetail:
    customer = session.scalar(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(
            selectinload(Customer.contacts),
            selectinload(Customer.contact_points),
            selectinload(Customer.external_ids),
            selectinload(Customer.tags),
            selectinload(Customer.team),
        )
    )
    if customer is None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    if customer.merged_into_id is not None:
        return customer_detail(session, customer.merged_into_id, region=region, limit=limit)
    own = [p for p in customer.contact_points if p.contact_id is None]
    contacts = [
        ContactView(
            id=c.id,
            name=c.name,
            title=c.title,
            is_primary=c.is_primary,
            points=[
                (POINT_LABELS[ContactPointKind(p.kind)], _readable(p, region))
                for p in customer.contact_points
                if p.contact_id == c.id
            ],
        )
        for c in customer.contacts
    ]
    orders = session.scalars(
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.order_date.desc(), Order.id.desc())
        .limit(limit)
    ).all()
    activities = session.execute(
        select(Activity, User.full_name)
        .outerjoin(User, User.id == Activity.user_id)
        .where(Activity.customer_id == customer_id)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit)
    ).all()
    follow_ups = session.execute(
        select(FollowUp, User.full_name)
        .outerjoin(User, User.id == FollowUp.assignee_id)
        .where(FollowUp.customer_id == customer_id)
        .order_by(FollowUp.done_at.is_not(None), FollowUp.due_date)
        .limit(limit)
    ).all()
    from_user, to_user, by_user = aliased(User), aliased(User), aliased(User)
    ownership = session.execute(
        select(AssignmentChange, from_user.full_name, to_user.full_name, by_user.full_name)
        .outerjoin(from_user, from_user.id == AssignmentChange.from_user_id)
        .outerjoin(to_user, to_user.id == AssignmentChange.to_user_id)
        .outerjoin(by_user, by_user.id == AssignmentChange.changed_by_id)
        .where(AssignmentChange.customer_id == customer_id)
        .order_by(AssignmentChange.changed_at.desc(), AssignmentChange.id.desc())
    ).all()
    history = customer_history(session, customer_id)
    address = [
        " ".join(x for x in (customer.province, customer.city, customer.district) if x),
        customer.address or "",
        " ".join(x for x in (customer.postcode, customer.country) if x),
    ]
    return CustomerDetail(
        id=customer.id,
        version=customer.version,
        name=customer.name,
        kind=customer.kind,
        status=customer.status,
        owner=customer.owner.full_name if customer.owner else None,
        owner_id=customer.owner_id,
        team=[u.full_name for u in customer.team],
        tier=customer.tier,
        source=customer.source,
        referred_by=customer.referred_by.name if customer.referred_by else None,
        birthday=customer.birthday,
        tax_id=customer.tax_id,
        address_lines=[line for line in address if line.strip()],
        phones=[_readable(p, region) for p in own if p.kind.is_phone],
        emails=[p.value for p in own if p.kind == ContactPointKind.EMAIL],
        tags=[t.name for t in customer.tags],
        notes=customer.notes,
        archived=customer.archived_at is not None,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        contacts=contacts,
        external_ids=[(e.system, e.key) for e in customer.external_ids],
        order_stats=order_stats(session, customer_id),
        recent_orders=[
            OrderView(
                o.id, o.order_number, o.order_date, o.amount, o.currency, o.status, o.source_system
            )
            for o in orders
        ],
        activities=[
            ActivityView(
                a.id, a.occurred_at, a.kind.value, a.subject, a.body, name, a.is_opportunity
            )
            for a, name in activities
        ],
        follow_ups=[
            FollowUpView(f.id, f.title, f.due_date, name, f.done_at is not None)
            for f, name in follow_ups
        ],
        ownership=[OwnershipView(a.changed_at, f, t, b, a.reason) for a, f, t, b in ownership],
        history=history,
        conversion=next((h.text for h in history if h.kind == "conversion"), None),
    )


def find_by_external_id(session: Session, system: str, key: str) -> Customer | None:
    from smbcrm.models.keys import normalize_key_text

    return session.scalar(
        select(Customer)
        .join(ExternalId, ExternalId.customer_id == Customer.id)
        .where(ExternalId.system == system, ExternalId.key_norm == normalize_key_text(key))
    )
