"""Small read use cases the desktop windows need and the other services do not offer yet.

- where a customer sits in the sorted, filtered list (so a view can scroll to it after a save);
- what the customer form shows when editing: the input, its version and whether the user may
  save it;
- quick counts and staff lists for the customer list's filter bar.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from smbcrm.errors import PermissionDenied
from smbcrm.models import ContactPointKind, Customer, User
from smbcrm.models.keys import DEFAULT_REGION, format_phone
from smbcrm.services.customers import (
    CustomerFilter,
    CustomerInput,
    CustomerList,
    SortColumn,
    get_customer,
    input_from_customer,
)
from smbcrm.services.permissions import require_edit_customer


def customer_position(
    session: Session,
    customer_list: CustomerList,
    flt: CustomerFilter,
    customer_id: int,
    *,
    sort: SortColumn = SortColumn.NAME,
    descending: bool = False,
) -> int | None:
    """Row number (from 0) of a customer in ``customer_list.page(...)`` order, None if absent."""
    return customer_list.position(session, flt, customer_id, sort=sort, descending=descending)


def count_all_customers(session: Session, *, include_archived: bool = False) -> int:
    """Live (not merged-away) customers, as ``CustomerList.count`` with an empty filter.

    Counted along the ``ix_customers_active_sort`` index without the owner join, which makes it
    several times faster at 100,000 customers.
    """
    stmt = select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None))
    if not include_archived:
        stmt = stmt.where(Customer.archived_at.is_(None))
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class OwnerChoice:
    id: int
    full_name: str
    active: bool


def owner_filter_choices(session: Session) -> list[OwnerChoice]:
    """Active staff, then staff who left but still own live customers (a book to hand over)."""
    holds_customers = exists().where(
        Customer.owner_id == User.id,
        Customer.archived_at.is_(None),
        Customer.merged_into_id.is_(None),
    )
    users = session.scalars(
        select(User)
        .where(User.active.is_(True) | holds_customers)
        .order_by(User.active.desc(), User.full_name)
    )
    return [OwnerChoice(u.id, u.full_name, u.active) for u in users]


@dataclass(frozen=True)
class CustomerForm:
    """A customer as the edit form shows it."""

    customer_id: int
    version: int
    data: CustomerInput
    owner_name: str | None
    owner_active: bool
    # None when the actor may save the form; otherwise why not, in words.
    edit_denied: str | None
    # Phones and e-mails filed under the customer's contact people (the form edits only the
    # customer's own), as "value (contact name)".
    contact_phones: list[str]
    contact_emails: list[str]
    referred_by_name: str | None = None


def customer_form(
    session: Session, actor: User | None, customer_id: int, *, region: str = DEFAULT_REGION
) -> CustomerForm:
    customer = get_customer(session, customer_id)
    try:
        require_edit_customer(actor, customer)
        denied = None
    except PermissionDenied as exc:
        denied = str(exc)
    owner = customer.owner
    names = {c.id: c.name for c in customer.contacts}
    phones: list[str] = []
    emails: list[str] = []
    for point in customer.contact_points:
        if point.contact_id is None:
            continue
        who = names.get(point.contact_id, "")
        if ContactPointKind(point.kind).is_phone:
            key = point.key or ""
            value = format_phone(key, region) if key.startswith("+") else point.value
            phones.append(f"{value} ({who})")
        elif point.kind == ContactPointKind.EMAIL:
            emails.append(f"{point.value} ({who})")
    return CustomerForm(
        customer_id=customer.id,
        version=customer.version,
        data=input_from_customer(customer),
        owner_name=owner.full_name if owner else None,
        owner_active=bool(owner and owner.active),
        edit_denied=denied,
        contact_phones=phones,
        contact_emails=emails,
        referred_by_name=customer.referred_by.name if customer.referred_by else None,
    )
