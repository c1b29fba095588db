"""Reading the audit trail: a customer's history, and the company-wide filterable log.

The rows are written elsewhere — the ORM flush hook (``smbcrm.models.events``) for
customers, contacts, contact points, external ids and staff; imports and ownership moves
write their own. Anyone who may see customers sees a customer's history; the full log
(by user, entity, date range, text) is for owners and managers only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from smbcrm.errors import NotFoundError, ValidationError
from smbcrm.models import AuditEntry, ChangeAction, Customer, User
from smbcrm.services import cases
from smbcrm.services.customers import POINT_LABELS
from smbcrm.services.permissions import ROLE_LABELS, Permission, require

ENTITY_LABELS = {
    "customer": "Customer",
    "contact": "Contact",
    "contact_point": "Phone / e-mail",
    "external_id": "External id",
    "case": "Service case",
    "service_promise": "Service promise",
    "user": "Staff",
}

ACTION_LABELS = {
    ChangeAction.CREATED: "Created",
    ChangeAction.UPDATED: "Updated",
    ChangeAction.DELETED: "Deleted",
    ChangeAction.ARCHIVED: "Archived",
    ChangeAction.RESTORED: "Restored",
}

# Every field the trail records, as a person calls it (the windows translate these).
FIELD_LABELS = {
    "id": "ID",
    "owner_id": "salesperson",
    "team": "account team",
    "team_removed": "removed from team",
    "archived_at": "archived",
    "active": "active",
    "deactivated_at": "deactivated",
    "full_name": "name",
    "kind": "kind",
    "name": "name",
    "status": "status",
    "tier": "tier",
    "source": "source",
    "referred_by_id": "referred by",
    "birthday": "birthday",
    "tax_id": "tax ID",
    "country": "country",
    "province": "province",
    "city": "city",
    "district": "district",
    "address": "address",
    "postcode": "postcode",
    "website": "website",
    "notes": "notes",
    "custom_fields": "custom fields",
    "merged_into_id": "merged into",
    "created_by_id": "created by",
    "customer_id": "customer",
    "contact_id": "contact",
    "title": "title",
    "department": "department",
    "is_primary": "main one",
    "value": "value",
    "label": "label",
    "system": "system",
    "login": "login",
    "role": "role",
    "email": "e-mail",
    "phone": "phone",
    "category": "category",
    "severity": "severity",
    "description": "description",
    "resolution": "resolution",
    "assignee_id": "assigned to",
    "opened_at": "opened",
    "first_response_at": "first response",
    "resolved_at": "resolved",
    "resolved_on_first_contact": "resolved on first contact",
    "response_due_at": "response due",
    "resolution_due_at": "resolution due",
    "first_response_minutes": "first response (minutes)",
    "resolution_minutes": "resolution (minutes)",
    "warn_minutes": "warning (minutes)",
}


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    user: str | None
    entity: str
    entity_id: int
    customer_id: int | None
    customer: str | None
    action: ChangeAction
    changes: dict[str, Any]
    summary: str | None

    @property
    def entity_label(self) -> str:
        return ENTITY_LABELS.get(self.entity, self.entity)

    def changed_fields(
        self, names: dict[int, str] | None = None, word: Callable[[str], str] = str
    ) -> list[tuple[str, str, str]]:
        """(field, old, new) for each change, staff ids shown as names when ``names`` has
        them; ``word`` gives field names, choices and yes/no in the reader's language."""
        fields = []
        for key, value in sorted(self.changes.items()):
            old, new = [*value, None, None][:2] if isinstance(value, list) else (None, value)
            if key in _STAFF_FIELDS and names is not None:
                old = names.get(old, old) if isinstance(old, int) else old
                new = names.get(new, new) if isinstance(new, int) else new
            choices = VALUE_LABELS.get((self.entity, key), {})
            label = word(FIELD_LABELS.get(key, key.replace("_", " ")))
            fields.append((label, _show(old, choices, word), _show(new, choices, word)))
        return fields


_STAFF_FIELDS = frozenset({"owner_id", "team_removed", "created_by_id", "assignee_id"})

# Stored choices, as a person calls them (the windows translate these).
VALUE_LABELS: dict[tuple[str, str], dict[str, str]] = {
    ("customer", "status"): {
        "prospect": "Prospect",
        "active": "Active customer",
        "lapsed": "Lapsed",
    },
    ("customer", "kind"): {"company": "Company", "person": "Person"},
    ("user", "role"): {role.value: label for role, label in ROLE_LABELS.items()},
    ("contact_point", "kind"): {kind.value: label for kind, label in POINT_LABELS.items()},
    ("case", "kind"): {kind.value: label for kind, label in cases.KIND_LABELS.items()},
    ("case", "severity"): {level.value: label for level, label in cases.SEVERITY_LABELS.items()},
    ("case", "status"): {"open": "Not resolved", "resolved": "Resolved"},
}


def _show(value: Any, choices: dict[str, str], word: Callable[[str], str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return word("yes" if value else "no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and value in choices:
        return word(choices[value])
    return str(value)


@dataclass(frozen=True)
class AuditQuery:
    user_id: int | None = None
    entity: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    text: str = ""
    customer_id: int | None = None
    limit: int = 500
    offset: int = 0


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int


def _select() -> Any:
    who = aliased(User)
    return (
        select(AuditEntry, who.full_name, Customer.name)
        .outerjoin(who, who.id == AuditEntry.user_id)
        .outerjoin(Customer, Customer.id == AuditEntry.customer_id)
    )


def _row(entry: AuditEntry, user: str | None, customer: str | None) -> AuditRow:
    return AuditRow(
        entry.id,
        entry.at,
        user,
        entry.entity,
        entry.entity_id,
        entry.customer_id,
        customer,
        ChangeAction(entry.action),
        dict(entry.changes or {}),
        entry.summary,
    )


def _conditions(query: AuditQuery) -> list[Any]:
    if query.since and query.until and query.since > query.until:
        raise ValidationError({"until": "The end date is before the start date; swap them."})
    conditions: list[Any] = []
    if query.user_id is not None:
        conditions.append(AuditEntry.user_id == query.user_id)
    if query.entity:
        if query.entity not in ENTITY_LABELS:
            raise ValidationError(
                {"entity": f"Unknown record kind '{query.entity}'; choose one from the list."}
            )
        conditions.append(AuditEntry.entity == query.entity)
    if query.since is not None:
        conditions.append(AuditEntry.at >= datetime.combine(query.since, time.min))
    if query.until is not None:
        conditions.append(
            AuditEntry.at < datetime.combine(query.until + timedelta(days=1), time.min)
        )
    if query.customer_id is not None:
        conditions.append(AuditEntry.customer_id == query.customer_id)
    text = query.text.strip().lower()
    if text:
        pattern = f"%{text}%"
        conditions.append(
            or_(
                func.lower(func.coalesce(AuditEntry.summary, "")).like(pattern),
                func.lower(cast(AuditEntry.changes, String)).like(pattern),
                func.lower(func.coalesce(Customer.name, "")).like(pattern),
            )
        )
    return conditions


def audit_log(session: Session, actor: User | None, query: AuditQuery | None = None) -> AuditPage:
    """The company-wide log, newest first (owners and managers)."""
    require(actor, Permission.VIEW_AUDIT_LOG)
    query = query or AuditQuery()
    conditions = _conditions(query)
    stmt = (
        _select()
        .where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    rows = [_row(e, u, c) for e, u, c in session.execute(stmt)]
    count_stmt = (
        select(func.count())
        .select_from(AuditEntry)
        .outerjoin(Customer, Customer.id == AuditEntry.customer_id)
        .where(*conditions)
    )
    return AuditPage(rows, int(session.scalar(count_stmt) or 0))


def customer_history(
    session: Session, actor: User | None, customer_id: int, *, limit: int = 500
) -> list[AuditRow]:
    """Every recorded change to a customer and its contacts, newest first."""
    require(actor, Permission.VIEW_CUSTOMERS)
    if session.get(Customer, customer_id) is None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    stmt = (
        _select()
        .where(AuditEntry.customer_id == customer_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [_row(e, u, c) for e, u, c in session.execute(stmt)]


def staff_names(session: Session) -> dict[int, str]:
    """Everyone's name by id, to show owner changes as names."""
    return {int(i): str(n) for i, n in session.execute(select(User.id, User.full_name))}


def audit_users(session: Session) -> list[tuple[int, str]]:
    """People who appear in the log, for the filter."""
    ids = select(AuditEntry.user_id).where(AuditEntry.user_id.is_not(None)).distinct()
    return [
        (int(i), str(n))
        for i, n in session.execute(
            select(User.id, User.full_name).where(User.id.in_(ids)).order_by(User.full_name)
        )
    ]
