"""Who may do what. Enforced here, in the service layer, whatever the UI shows."""

from __future__ import annotations

from enum import StrEnum

from smbcrm.errors import PermissionDenied
from smbcrm.models import Customer, Role, User


class Permission(StrEnum):
    VIEW_CUSTOMERS = "view customers"
    EDIT_ANY_CUSTOMER = "edit any customer"
    EDIT_OWN_CUSTOMERS = "edit own customers"
    CREATE_CUSTOMERS = "create customers"
    REASSIGN = "reassign customers"
    MERGE = "merge customers"
    ARCHIVE = "archive customers"
    IMPORT_CUSTOMERS = "import customers"
    IMPORT_ORDERS = "import orders"
    EXPORT = "export lists"
    MANAGE_STAFF = "manage staff"
    MANAGE_OWNERS = "manage owners"
    VIEW_AUDIT_LOG = "see the audit log"
    LOG_ACTIVITIES = "log activities"
    MANAGE_SETTINGS = "change company settings"


_ALL = set(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(_ALL),
    Role.MANAGER: frozenset(_ALL - {Permission.MANAGE_OWNERS}),
    Role.SALES: frozenset(
        {
            Permission.VIEW_CUSTOMERS,
            Permission.EDIT_OWN_CUSTOMERS,
            Permission.CREATE_CUSTOMERS,
            Permission.LOG_ACTIVITIES,
        }
    ),
    Role.BOOKKEEPER: frozenset(
        {
            Permission.VIEW_CUSTOMERS,
            Permission.IMPORT_ORDERS,
            Permission.EXPORT,
            Permission.LOG_ACTIVITIES,
        }
    ),
}

ROLE_LABELS = {
    Role.OWNER: "Owner",
    Role.MANAGER: "Manager",
    Role.SALES: "Sales",
    Role.BOOKKEEPER: "Bookkeeper",
}


def can(actor: User | None, permission: Permission) -> bool:
    if actor is None or not actor.active:
        return False
    return permission in ROLE_PERMISSIONS[actor.role]


def require(actor: User | None, permission: Permission) -> None:
    if actor is None:
        raise PermissionDenied(f"Sign in to {permission.value}.")
    if not actor.active:
        raise PermissionDenied(f"{actor.full_name}'s account is deactivated.")
    if permission not in ROLE_PERMISSIONS[actor.role]:
        raise PermissionDenied(
            f"A {ROLE_LABELS[actor.role].lower()} may not {permission.value}; "
            "ask an owner or manager."
        )


def can_edit_customer(actor: User | None, customer: Customer) -> bool:
    if can(actor, Permission.EDIT_ANY_CUSTOMER):
        return True
    if actor is None or not can(actor, Permission.EDIT_OWN_CUSTOMERS):
        return False
    return customer.owner_id == actor.id or any(m.id == actor.id for m in customer.team)


def require_edit_customer(actor: User | None, customer: Customer) -> None:
    if not can_edit_customer(actor, customer):
        who = actor.full_name if actor else "You"
        raise PermissionDenied(
            f"{who} may not edit {customer.name}: only its salesperson, its account team, "
            "a manager or an owner can."
        )


def require_manage_user(actor: User | None, user: User) -> None:
    """Staff changes to ``user``: managing staff, and only owners manage owners."""
    require(actor, Permission.MANAGE_STAFF)
    if user.role == Role.OWNER:
        require(actor, Permission.MANAGE_OWNERS)


def permission_matrix() -> list[tuple[Permission, dict[Role, bool]]]:
    """Each permission with who holds it (the table in docs/permissions.md)."""
    return [(p, {role: p in ROLE_PERMISSIONS[role] for role in Role}) for p in Permission]
