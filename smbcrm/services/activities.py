"""Logging calls, visits and notes on a customer, and the follow-up tasks they lead to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from smbcrm.errors import NotFoundError, ValidationError
from smbcrm.models import Activity, ActivityKind, Customer, FollowUp, User, utcnow
from smbcrm.services.permissions import Permission, require

ACTIVITY_LABELS = {
    ActivityKind.CALL: "Call",
    ActivityKind.VISIT: "Visit",
    ActivityKind.EMAIL: "E-mail",
    ActivityKind.MESSAGE: "Message",
    ActivityKind.MEETING: "Meeting",
    ActivityKind.NOTE: "Note",
    ActivityKind.COMPLAINT: "Complaint",
}


MESSAGE_CHANNELS = ("WeChat", "WhatsApp", "QQ", "SMS", "LINE", "Telegram")
WANTED_MAX = 500


def _subject(data: ActivityInput) -> str:
    """The subject as stored: the first line of the details stands in for a missing one;
    a message's channel goes in front ("WeChat: sent the price list") so it shows everywhere."""
    subject = data.subject.strip() or (data.body or "").strip().splitlines()[0]
    channel = (data.channel or "").strip()
    if data.kind == ActivityKind.MESSAGE and channel and not subject.startswith(channel):
        subject = f"{channel}: {subject}"
    return subject[:300]


@dataclass
class ActivityInput:
    kind: ActivityKind
    subject: str
    body: str | None = None
    occurred_at: datetime | None = None
    is_opportunity: bool = False
    # What the customer wanted, in their words (a quote, a sample, a callback…).
    wanted: str | None = None
    # For messages: WeChat, WhatsApp, QQ, SMS… (kept at the front of the subject).
    channel: str | None = None
    follow_up_on: date | None = None
    follow_up_title: str | None = None
    follow_up_assignee_id: int | None = None
    # The service case this contact was made for: its first contact is the first response.
    case_id: int | None = None


def log_activity(
    session: Session,
    actor: User | None,
    customer_id: int,
    data: ActivityInput,
    *,
    today: date | None = None,
) -> Activity:
    """Record a contact with the customer; optionally schedule the follow-up in the same step."""
    require(actor, Permission.LOG_ACTIVITIES)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    today = today or date.today()
    errors: dict[str, str] = {}
    if not data.subject.strip() and not (data.body or "").strip():
        errors["subject"] = "Say in a few words what it was about."
    if len((data.wanted or "").strip()) > WANTED_MAX:
        errors["wanted"] = f"Say what they wanted in at most {WANTED_MAX} characters."
    if data.occurred_at is not None and data.occurred_at.date() > today:
        errors["occurred_at"] = "A logged activity cannot be in the future; schedule a follow-up."
    if data.follow_up_on is not None and data.follow_up_on < today:
        errors["follow_up_on"] = "The follow-up date has passed; choose today or later."
    if errors:
        raise ValidationError(errors)
    activity = Activity(
        customer_id=customer.id,
        user_id=actor.id if actor else None,
        kind=data.kind,
        occurred_at=data.occurred_at or utcnow(),
        subject=_subject(data),
        body=(data.body or "").strip() or None,
        is_opportunity=data.is_opportunity,
        wanted=(data.wanted or "").strip() or None,
    )
    if data.case_id is not None:
        # Imported here: the cases service logs its responses through this module.
        from smbcrm.services.cases import note_case_contact

        note_case_contact(
            session,
            data.case_id,
            activity.occurred_at,
            customer_id=customer.id,
            is_contact=data.kind != ActivityKind.NOTE,
        )
        activity.case_id = data.case_id
    session.add(activity)
    session.flush()
    if data.follow_up_on is not None:
        assignee = data.follow_up_assignee_id or customer.owner_id or (actor.id if actor else None)
        session.add(
            FollowUp(
                customer_id=customer.id,
                assignee_id=assignee,
                created_by_id=actor.id if actor else None,
                activity_id=activity.id,
                title=(data.follow_up_title or "").strip()
                or f"Follow up: {activity.subject}"[:300],
                due_date=data.follow_up_on,
            )
        )
        session.flush()
    return activity


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    customer_id: int
    customer: str
    title: str
    due_date: date
    assignee: str | None
    done: bool


def open_follow_ups(
    session: Session, *, assignee_id: int | None = None, limit: int = 1000
) -> list[FollowUpRow]:
    """Open tasks, most urgent first; all staff when no assignee is given."""
    stmt = (
        select(FollowUp, Customer.name, User.full_name)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .outerjoin(User, User.id == FollowUp.assignee_id)
        .where(FollowUp.done_at.is_(None))
        .order_by(FollowUp.due_date, FollowUp.id)
        .limit(limit)
    )
    if assignee_id is not None:
        stmt = stmt.where(FollowUp.assignee_id == assignee_id)
    return [
        FollowUpRow(f.id, f.customer_id, name, f.title, f.due_date, who, False)
        for f, name, who in session.execute(stmt)
    ]


def complete_follow_up(session: Session, actor: User | None, follow_up_id: int) -> None:
    require(actor, Permission.LOG_ACTIVITIES)
    task = session.get(FollowUp, follow_up_id)
    if task is None:
        raise NotFoundError(f"There is no follow-up with ID {follow_up_id}.")
    if task.done_at is None:
        task.done_at = utcnow()
