"""Conversations with customers and the follow-up tasks they lead to."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smbcrm.models.base import IDS_NEVER_REUSED, Base, TimestampMixin, enum_column, utcnow
from smbcrm.models.enums import ActivityKind

if TYPE_CHECKING:
    from smbcrm.models.customer import Contact, Customer
    from smbcrm.models.staff import User


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # Stays attributed to the person who logged it, even after they leave.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str | None] = mapped_column(Text)
    is_opportunity: Mapped[bool] = mapped_column(default=False, index=True)
    # What the customer wanted, in their words (a quote, a product, a callback…).
    wanted: Mapped[str | None] = mapped_column(String(500))
    # A contact made while working a case: its first one sets the case's first response.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    user: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_activities_customer_time", "customer_id", "occurred_at"),
        IDS_NEVER_REUSED,
    )


class FollowUp(TimestampMixin, Base):
    """A task to get back to a customer by a due date."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(index=True)
    done_at: Mapped[datetime | None]
    # The order an after-sales follow-up was planned for: one per order, however often
    # the orders are imported.
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), unique=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )

    customer: Mapped[Customer] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        Index("ix_follow_ups_assignee_open", "assignee_id", "done_at", "due_date"),
        IDS_NEVER_REUSED,
    )
