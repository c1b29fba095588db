"""Service cases (complaints, requests, questions), the promises made about them, and what
customers said about the service they got."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smbcrm.models.base import IDS_NEVER_REUSED, Base, TimestampMixin, enum_column, utcnow
from smbcrm.models.enums import CaseKind, CaseSeverity, CaseStatus

if TYPE_CHECKING:
    from smbcrm.models.customer import Contact, Customer
    from smbcrm.models.staff import User


class ServicePromise(TimestampMixin, Base):
    """What the company promises for a category of case, in working minutes.

    "First response within 4 working hours, resolution within 2 working days" is 240 and
    2 × the working day's length; working hours and holidays are company settings.
    """

    __tablename__ = "service_promises"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(100), unique=True)
    first_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    # Warn this many working minutes before a promise would be broken.
    warn_minutes: Mapped[int] = mapped_column(default=60)


class Case(TimestampMixin, Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[CaseKind] = mapped_column(enum_column(CaseKind), default=CaseKind.COMPLAINT)
    category: Mapped[str] = mapped_column(String(100), default="")
    severity: Mapped[CaseSeverity] = mapped_column(
        enum_column(CaseSeverity), default=CaseSeverity.NORMAL
    )
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.OPEN)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_on_first_contact: Mapped[bool] = mapped_column(default=False)
    # Worked out from the category's promise when the case is opened (or re-categorised).
    response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_status_resolution_due", "status", "resolution_due_at"),
        Index("ix_cases_customer_opened", "customer_id", "opened_at"),
        IDS_NEVER_REUSED,
    )


class SatisfactionRating(Base):
    """A customer's 1–5 verdict after a resolved case or a visit, with their words."""

    __tablename__ = "satisfaction_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL"), index=True
    )
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        # The at-risk check reads each customer's ratings in time order.
        Index("ix_satisfaction_ratings_customer_time", "customer_id", "recorded_at"),
        IDS_NEVER_REUSED,
    )
