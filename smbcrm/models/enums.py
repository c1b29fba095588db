"""Closed vocabularies of the domain, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    SALES = "sales"
    BOOKKEEPER = "bookkeeper"


class CustomerKind(StrEnum):
    COMPANY = "company"
    PERSON = "person"


class CustomerStatus(StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    LAPSED = "lapsed"


class Tier(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class ContactPointKind(StrEnum):
    MOBILE = "mobile"
    PHONE = "phone"
    EMAIL = "email"
    WECHAT = "wechat"
    WHATSAPP = "whatsapp"
    QQ = "qq"
    OTHER = "other"

    @property
    def is_phone(self) -> bool:
        return self in PHONE_KINDS


# A set look-up that also answers for the kinds' text: a StrEnum member equals its value.
PHONE_KINDS = frozenset({ContactPointKind.MOBILE, ContactPointKind.PHONE})


class ActivityKind(StrEnum):
    CALL = "call"
    VISIT = "visit"
    EMAIL = "email"
    MESSAGE = "message"
    MEETING = "meeting"
    NOTE = "note"
    COMPLAINT = "complaint"


class ImportKind(StrEnum):
    CUSTOMERS = "customers"
    ORDERS = "orders"


class BatchStatus(StrEnum):
    PREVIEWED = "previewed"
    APPLIED = "applied"
    UNDONE = "undone"


class ChangeAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    ARCHIVED = "archived"
    RESTORED = "restored"
    MERGED = "merged"


class DuplicateStatus(StrEnum):
    """Where a candidate duplicate pair stands in the review queue."""

    OPEN = "open"
    LATER = "later"
    NOT_SAME = "not_same"
    MERGED = "merged"


class LinkRoute(StrEnum):
    """How an order found its customer, in order of trust."""

    CODE = "code"
    PHONE = "phone"
    EMAIL = "email"
    NAME = "name"
    MANUAL = "manual"
    CREATED = "created"


class CaseKind(StrEnum):
    COMPLAINT = "complaint"
    REQUEST = "request"
    QUESTION = "question"


class CaseSeverity(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
