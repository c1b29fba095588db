"""Rows an import left for a person to decide: possible duplicates, or any match under
``--on-duplicate review``. Each is resolved by creating a new customer, adding the row to
the customer it looks like, or skipping it; the change is audited like any other edit.
Rows of a batch that was undone are not offered: the import they came from is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from smbcrm.errors import NotFoundError, SmbcrmError
from smbcrm.models import (
    BatchStatus,
    Contact,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    ExternalId,
    ImportBatch,
    ImportReviewItem,
    Tier,
    User,
    utcnow,
)
from smbcrm.models.keys import normalize_email, normalize_key_text, normalize_phone
from smbcrm.services.customers import CustomerInput, create_customer, tags_named
from smbcrm.services.importing.book import CUSTOMER_COLUMNS
from smbcrm.services.permissions import Permission, require


class ReviewDecision(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"


@dataclass(frozen=True)
class ReviewRow:
    id: int
    batch_id: int
    file_name: str
    row_number: int
    name: str
    details: str
    candidate_id: int | None
    candidate_name: str | None
    reason: str


def _details(values: dict[str, Any]) -> str:
    scalars = values.get("scalars", {})
    parts = [
        *(values.get("phones") or []),
        *(values.get("emails") or []),
        values.get("contact") or "",
        scalars.get("city") or "",
        f"code {values['external_id']}" if values.get("external_id") else "",
    ]
    return ", ".join(p for p in parts if p)


def pending_reviews(session: Session, limit: int = 1000) -> list[ReviewRow]:
    candidate = aliased(Customer)
    rows = session.execute(
        select(ImportReviewItem, ImportBatch.file_name, candidate.name)
        .join(ImportBatch, ImportBatch.id == ImportReviewItem.batch_id)
        .outerjoin(candidate, candidate.id == ImportReviewItem.candidate_id)
        .where(ImportReviewItem.decided_at.is_(None), ImportBatch.status != BatchStatus.UNDONE)
        .order_by(ImportReviewItem.batch_id, ImportReviewItem.row_number)
        .limit(limit)
    )
    return [
        ReviewRow(
            item.id,
            item.batch_id,
            Path(file_name).name,
            item.row_number,
            str(item.values.get("scalars", {}).get("name") or ""),
            _details(item.values),
            item.candidate_id,
            candidate_name,
            item.reason,
        )
        for item, file_name, candidate_name in rows
    ]


def _scalar(values: dict[str, Any], key: str) -> Any:
    value = values.get("scalars", {}).get(key)
    if value is None:
        return None
    if key == "kind":
        return CustomerKind(value)
    if key == "status":
        return CustomerStatus(value)
    if key == "tier":
        return Tier(value)
    if key == "birthday":
        return date.fromisoformat(value)
    return value


def resolve_review(
    db: Database, actor_id: int, item_id: int, decision: ReviewDecision | str
) -> int | None:
    """Apply a person's decision on one row; returns the customer it went to, if any."""
    decision = ReviewDecision(decision)
    with db.session(user_id=actor_id) as session:
        actor = session.get_one(User, actor_id)
        require(actor, Permission.IMPORT_CUSTOMERS)
        item = session.get(ImportReviewItem, item_id)
        if item is None:
            raise NotFoundError(f"There is no row {item_id} waiting for review.")
        if item.decided_at is not None:
            raise SmbcrmError(f"Row {item.row_number} was already decided ({item.decision}).")
        batch = session.get_one(ImportBatch, item.batch_id)
        if batch.status == BatchStatus.UNDONE:
            raise SmbcrmError(
                f"Row {item.row_number} came from import batch {batch.id}, which was undone, "
                "so it is no longer waiting for review. Import the file again to decide on it."
            )
        values = item.values
        region = session.info.get("default_region", "CN")
        customer_id: int | None = None
        if decision == ReviewDecision.CREATE:
            data = CustomerInput(
                name=str(_scalar(values, "name") or ""),
                kind=_scalar(values, "kind") or CustomerKind.COMPANY,
                status=_scalar(values, "status") or CustomerStatus.PROSPECT,
                owner_id=_scalar(values, "owner_id"),
                tier=_scalar(values, "tier"),
                source=_scalar(values, "source"),
                birthday=_scalar(values, "birthday"),
                tax_id=_scalar(values, "tax_id"),
                province=_scalar(values, "province"),
                city=_scalar(values, "city"),
                district=_scalar(values, "district"),
                address=_scalar(values, "address"),
                postcode=_scalar(values, "postcode"),
                website=_scalar(values, "website"),
                notes=_scalar(values, "notes"),
                phones=list(values.get("phones") or []),
                emails=list(values.get("emails") or []),
                wechat=values.get("wechat"),
                contact_name=values.get("contact"),
                contact_title=values.get("contact_title"),
                tags=list(values.get("tags") or []),
            )
            customer = create_customer(session, actor, data, region=region)
            if values.get("external_id"):
                customer.external_ids.append(
                    ExternalId(system=batch.source_system, key=values["external_id"])
                )
            customer_id = customer.id
        elif decision == ReviewDecision.UPDATE:
            if item.candidate_id is None:
                raise SmbcrmError(
                    "This row has no matching customer to add it to; create it instead."
                )
            customer = session.get_one(Customer, item.candidate_id)
            for field in CUSTOMER_COLUMNS:
                value = _scalar(values, field)
                if value is not None and value != "":
                    setattr(customer, field, value)
            have = {p.key for p in customer.contact_points}
            for phone in values.get("phones") or []:
                if normalize_phone(phone, region) not in have:
                    customer.contact_points.append(
                        ContactPoint(kind=ContactPointKind.MOBILE, value=phone)
                    )
            for email in values.get("emails") or []:
                if normalize_email(email) not in have:
                    customer.contact_points.append(
                        ContactPoint(kind=ContactPointKind.EMAIL, value=email)
                    )
            contact = values.get("contact")
            if contact and all(c.name != contact for c in customer.contacts):
                customer.contacts.append(
                    Contact(
                        name=contact,
                        title=values.get("contact_title"),
                        is_primary=not customer.contacts,
                    )
                )
            key = values.get("external_id")
            if key and all(
                not (e.system == batch.source_system and e.key_norm == normalize_key_text(key))
                for e in customer.external_ids
            ):
                customer.external_ids.append(ExternalId(system=batch.source_system, key=key))
            if values.get("tags"):
                customer.tags = tags_named(
                    session, [*(t.name for t in customer.tags), *values["tags"]]
                )
            customer_id = customer.id
        item.decided_at = utcnow()
        item.decision = decision.value
        session.flush()
    return customer_id
