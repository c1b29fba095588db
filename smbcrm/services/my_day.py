"""My day: the follow-ups due for one person, grouped as overdue / today / upcoming; acting
on them (done, reschedule, new task); the opportunities waiting for a follow-up; and the
cheap check behind the in-app reminders.

Dates are calendar days: a task due on the 23rd is "today" all day on the 23rd and becomes
"overdue" at midnight. Callers pass ``today`` (the desktop's local date); tests pass any.

Whose tasks: a user id, ``EVERYONE`` or ``UNASSIGNED`` (tasks nobody holds: after-sales
calls for customers in the unassigned pool, for instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from smbcrm.errors import NotFoundError, ValidationError
from smbcrm.models import Activity, Customer, FollowUp, Order, Role, User, utcnow
from smbcrm.services.permissions import Permission, require

EVERYONE: Final = "everyone"
UNASSIGNED: Final = "unassigned"
Person = int | Literal["everyone", "unassigned"]

UPCOMING_DAYS = 7
# A long-neglected book can hold thousands of overdue tasks: list the oldest this many,
# count them all.
SECTION_LIMIT = 500
TITLE_MAX = 300


def _person_condition(person: Person) -> ColumnElement[bool] | None:
    if person == EVERYONE:
        return None
    if person == UNASSIGNED:
        return FollowUp.assignee_id.is_(None)
    return FollowUp.assignee_id == person


# ---------------------------------------------------------------------------------------
# The day's tasks


@dataclass(frozen=True)
class Task:
    id: int
    customer_id: int
    customer: str
    city: str | None
    title: str
    notes: str | None
    due_date: date
    assignee_id: int | None
    assignee: str | None
    # Set for an after-sales call (the order it follows) or a task from a logged contact.
    order_id: int | None
    activity_id: int | None

    def days_overdue(self, today: date) -> int:
        """How many days late (0 when due today or later)."""
        return max((today - self.due_date).days, 0)


@dataclass(frozen=True)
class MyDay:
    today: date
    overdue: list[Task]
    due_today: list[Task]
    upcoming: list[Task]
    # Every overdue task, also those beyond SECTION_LIMIT that are not listed.
    overdue_total: int

    @property
    def tasks(self) -> list[Task]:
        return self.overdue + self.due_today + self.upcoming


def my_day(
    session: Session,
    person: Person,
    *,
    today: date | None = None,
    upcoming_days: int = UPCOMING_DAYS,
    limit: int = SECTION_LIMIT,
) -> MyDay:
    """Open tasks due up to ``upcoming_days`` ahead, oldest first, in three groups."""
    today = today or date.today()
    horizon = today + timedelta(days=upcoming_days)
    stmt = (
        select(FollowUp, Customer.name, Customer.city, User.full_name)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .outerjoin(User, User.id == FollowUp.assignee_id)
        .where(FollowUp.done_at.is_(None))
        .order_by(FollowUp.due_date, Customer.sort_key, FollowUp.id)
    )
    condition = _person_condition(person)
    if condition is not None:
        stmt = stmt.where(condition)

    def tasks(*conditions: ColumnElement[bool]) -> list[Task]:
        return [
            Task(
                id=f.id,
                customer_id=f.customer_id,
                customer=name,
                city=city,
                title=f.title,
                notes=f.notes,
                due_date=f.due_date,
                assignee_id=f.assignee_id,
                assignee=who,
                order_id=f.order_id,
                activity_id=f.activity_id,
            )
            for f, name, city, who in session.execute(stmt.where(*conditions).limit(limit))
        ]

    overdue = tasks(FollowUp.due_date < today)
    counts = due_counts(session, person, today=today, upcoming_days=upcoming_days)
    return MyDay(
        today=today,
        overdue=overdue,
        due_today=tasks(FollowUp.due_date == today),
        upcoming=tasks(FollowUp.due_date > today, FollowUp.due_date <= horizon),
        overdue_total=max(counts.overdue, len(overdue)),
    )


@dataclass(frozen=True)
class DueCounts:
    overdue: int
    today: int
    upcoming: int

    @property
    def due(self) -> int:
        """Overdue and due today: what needs doing now."""
        return self.overdue + self.today


def due_counts(
    session: Session,
    person: Person,
    *,
    today: date | None = None,
    upcoming_days: int = UPCOMING_DAYS,
) -> DueCounts:
    """The three group sizes in one grouped query (along the assignee/open/due index)."""
    today = today or date.today()
    horizon = today + timedelta(days=upcoming_days)
    group = case(
        (FollowUp.due_date < today, "overdue"),
        (FollowUp.due_date == today, "today"),
        else_="upcoming",
    )
    stmt = (
        select(group, func.count())
        .where(FollowUp.done_at.is_(None), FollowUp.due_date <= horizon)
        .group_by(group)
    )
    condition = _person_condition(person)
    if condition is not None:
        stmt = stmt.where(condition)
    counts = {str(name): int(n) for name, n in session.execute(stmt)}
    return DueCounts(counts.get("overdue", 0), counts.get("today", 0), counts.get("upcoming", 0))


@dataclass(frozen=True)
class DueTask:
    """What the reminder needs to know about a task that is due."""

    id: int
    due_date: date
    created_by_id: int | None
    created_at: datetime


def due_tasks(session: Session, user_id: int, *, today: date | None = None) -> list[DueTask]:
    """The person's open tasks due today or earlier: the reminder's minute-by-minute check."""
    today = today or date.today()
    stmt = (
        select(FollowUp.id, FollowUp.due_date, FollowUp.created_by_id, FollowUp.created_at)
        .where(
            FollowUp.assignee_id == user_id,
            FollowUp.done_at.is_(None),
            FollowUp.due_date <= today,
        )
        .order_by(FollowUp.due_date, FollowUp.id)
    )
    return [DueTask(*row) for row in session.execute(stmt)]


def reminder_text(overdue: int, today: int) -> str:
    """ "3 follow-ups due today, 1 overdue" (empty when nothing is due)."""
    if not overdue and not today:
        return ""
    if not today:
        return f"{overdue} follow-up{'s' if overdue != 1 else ''} overdue"
    due = f"{today} follow-up{'s' if today != 1 else ''} due today"
    return f"{due}, {overdue} overdue" if overdue else due


@dataclass(frozen=True)
class PersonChoice:
    id: int
    full_name: str


def person_choices(session: Session) -> list[PersonChoice]:
    """Active staff, by name: who can be given a task or looked at in My day."""
    return [
        PersonChoice(u.id, u.full_name)
        for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name))
    ]


def default_person(actor: User) -> Person:
    """My day opens on the signed-in person's own tasks, whatever their role."""
    return actor.id


def may_look_at_others(role: Role) -> bool:
    """Owners and managers look after everyone's customers: they get the person filter."""
    return role in (Role.OWNER, Role.MANAGER)


# ---------------------------------------------------------------------------------------
# Acting on a task


def _task(session: Session, follow_up_id: int) -> FollowUp:
    task = session.get(FollowUp, follow_up_id)
    if task is None:
        raise NotFoundError(
            f"There is no follow-up with ID {follow_up_id}; someone may have removed it. "
            "Refresh My day (F5)."
        )
    return task


def complete(session: Session, actor: User | None, follow_up_id: int) -> FollowUp:
    """Tick a task off (again: nothing changes)."""
    require(actor, Permission.LOG_ACTIVITIES)
    task = _task(session, follow_up_id)
    if task.done_at is None:
        task.done_at = utcnow()
        session.flush()
    return task


def reopen(session: Session, actor: User | None, follow_up_id: int) -> FollowUp:
    """Undo "done": the task is open again with its due date."""
    require(actor, Permission.LOG_ACTIVITIES)
    task = _task(session, follow_up_id)
    if task.done_at is not None:
        task.done_at = None
        session.flush()
    return task


def reschedule(
    session: Session,
    actor: User | None,
    follow_up_id: int,
    due: date,
    *,
    today: date | None = None,
) -> FollowUp:
    """Move an open task to another day (today or later)."""
    require(actor, Permission.LOG_ACTIVITIES)
    task = _task(session, follow_up_id)
    if due < (today or date.today()):
        raise ValidationError({"due_date": "That day has passed; choose today or a later day."})
    if task.done_at is not None:
        raise ValidationError(
            {"due_date": f"“{task.title}” is already done; undo “done” first to reschedule it."}
        )
    task.due_date = due
    session.flush()
    return task


def tomorrow(today: date) -> date:
    return today + timedelta(days=1)


def next_week(today: date) -> date:
    """Monday of next week: "next week" as people say it when they put a call off."""
    return today + timedelta(days=7 - today.weekday())


def schedule(
    session: Session,
    actor: User | None,
    customer_id: int,
    *,
    title: str,
    due: date,
    assignee_id: int | None = None,
    notes: str | None = None,
    activity_id: int | None = None,
    today: date | None = None,
) -> FollowUp:
    """A new task for a customer; for their salesperson unless someone else is named."""
    require(actor, Permission.LOG_ACTIVITIES)
    customer = session.get(Customer, customer_id)
    if customer is None or customer.merged_into_id is not None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Say in a few words what to do."
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = f"Keep the task under {TITLE_MAX} characters; put the rest in the notes."
    if due < (today or date.today()):
        errors["due_date"] = "The due date has passed; choose today or later."
    owner = customer.owner if customer.owner is not None and customer.owner.active else None
    assignee = assignee_id or (owner.id if owner else None) or (actor.id if actor else None)
    if assignee is not None:
        user = session.get(User, assignee)
        if user is None or not user.active:
            errors["assignee_id"] = "Give the task to someone who still works here."
    if activity_id is not None:
        activity = session.get(Activity, activity_id)
        if activity is None or activity.customer_id != customer.id:
            errors["activity_id"] = "That logged contact belongs to another customer."
    if errors:
        raise ValidationError(errors)
    task = FollowUp(
        customer_id=customer.id,
        assignee_id=assignee,
        created_by_id=actor.id if actor else None,
        activity_id=activity_id,
        title=title.strip(),
        notes=(notes or "").strip() or None,
        due_date=due,
    )
    session.add(task)
    session.flush()
    return task


# ---------------------------------------------------------------------------------------
# Opportunities
#
# An opportunity is a logged contact marked "opportunity" (they asked for a quote, showed
# interest in a product). It stays OPEN until either
#   - the customer places an order dated on or after the day of that contact (WON), or
#   - a follow-up made from it is marked done (CLOSED: someone got back to them; "Done" on
#     the opportunities list records exactly that).
# An open follow-up made from it does not close it: it shows as the next step.


class OpportunityStatus:
    OPEN = "open"
    WON = "ordered"
    CLOSED = "followed up"


@dataclass(frozen=True)
class Opportunity:
    activity_id: int
    customer_id: int
    customer: str
    city: str | None
    # What they wanted, or the contact's subject when that was not filled in.
    wanted: str
    subject: str
    occurred_at: datetime
    logged_by: str | None
    owner: str | None
    status: str
    next_follow_up: date | None
    last_order: date | None

    @property
    def is_open(self) -> bool:
        return self.status == OpportunityStatus.OPEN


def _local_day(moment: datetime) -> date:
    """The desktop's calendar day of a stored (naive UTC) moment."""
    return moment.replace(tzinfo=UTC).astimezone().date()


def opportunities(
    session: Session,
    actor: User | None,
    *,
    open_only: bool = True,
    person: Person | None = None,
    limit: int = SECTION_LIMIT,
) -> list[Opportunity]:
    """Flagged contacts, newest first (see above for open / ordered / followed up).

    ``person`` narrows to one salesperson's (the customer is theirs or they logged it);
    by default owners and managers see everyone's, others their own.
    """
    require(actor, Permission.VIEW_CUSTOMERS)
    assert actor is not None
    if person is None:
        person = EVERYONE if may_look_at_others(actor.role) else actor.id
    elif person != actor.id and not may_look_at_others(actor.role):
        person = actor.id  # sales staff see their own list only
    owner = aliased(User)
    logger = aliased(User)
    last_order = (
        select(func.max(Order.order_date))
        .where(Order.customer_id == Activity.customer_id)
        .scalar_subquery()
    )
    done_follow_up = exists().where(
        FollowUp.activity_id == Activity.id, FollowUp.done_at.is_not(None)
    )
    next_follow_up = (
        select(func.min(FollowUp.due_date))
        .where(FollowUp.activity_id == Activity.id, FollowUp.done_at.is_(None))
        .scalar_subquery()
    )
    stmt = (
        select(
            Activity,
            Customer.name,
            Customer.city,
            logger.full_name,
            owner.full_name,
            last_order,
            done_follow_up,
            next_follow_up,
        )
        .join(Customer, Customer.id == Activity.customer_id)
        .outerjoin(logger, logger.id == Activity.user_id)
        .outerjoin(owner, owner.id == Customer.owner_id)
        .where(
            Activity.is_opportunity.is_(True),
            Customer.merged_into_id.is_(None),
            Customer.archived_at.is_(None),
        )
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
    )
    if open_only:
        stmt = stmt.where(~done_follow_up)
    if person == UNASSIGNED:
        stmt = stmt.where(Customer.owner_id.is_(None))
    elif person != EVERYONE:
        stmt = stmt.where((Customer.owner_id == person) | (Activity.user_id == person))
    found: list[Opportunity] = []
    # The "ordered since" test is on calendar days, done here: SQLite and PostgreSQL
    # disagree on turning a timestamp into a date. Read in pages until ``limit`` are found.
    page_size = max(limit, 200)
    offset = 0
    while len(found) < limit:
        rows = session.execute(stmt.offset(offset).limit(page_size)).all()
        for activity, name, city, by, owned_by, ordered, closed, next_due in rows:
            day = _local_day(activity.occurred_at)
            if closed:
                status = OpportunityStatus.CLOSED
            elif ordered is not None and ordered >= day:
                status = OpportunityStatus.WON
            else:
                status = OpportunityStatus.OPEN
            if open_only and status != OpportunityStatus.OPEN:
                continue
            found.append(
                Opportunity(
                    activity_id=activity.id,
                    customer_id=activity.customer_id,
                    customer=name,
                    city=city,
                    wanted=activity.wanted or activity.subject,
                    subject=activity.subject,
                    occurred_at=activity.occurred_at,
                    logged_by=by,
                    owner=owned_by,
                    status=status,
                    next_follow_up=next_due,
                    last_order=ordered,
                )
            )
            if len(found) >= limit:
                break
        if len(rows) < page_size:
            break
        offset += page_size
    return found


def close_opportunity(
    session: Session, actor: User | None, activity_id: int, *, note: str | None = None
) -> FollowUp:
    """Record that someone got back to the customer about it: its open follow-ups are done,
    or a done one is written to say so (who and when). Returns that follow-up."""
    require(actor, Permission.LOG_ACTIVITIES)
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFoundError(f"There is no logged contact with ID {activity_id}.")
    if not activity.is_opportunity:
        raise ValidationError({"activity_id": "That contact is not marked as an opportunity."})
    now = utcnow()
    open_tasks = list(
        session.scalars(
            select(FollowUp)
            .where(FollowUp.activity_id == activity.id, FollowUp.done_at.is_(None))
            .order_by(FollowUp.due_date, FollowUp.id)
        )
    )
    for task in open_tasks:
        task.done_at = now
    if open_tasks:
        session.flush()
        return open_tasks[0]
    task = FollowUp(
        customer_id=activity.customer_id,
        assignee_id=actor.id if actor else None,
        created_by_id=actor.id if actor else None,
        activity_id=activity.id,
        title=f"Followed up: {activity.wanted or activity.subject}"[:TITLE_MAX],
        notes=(note or "").strip() or None,
        due_date=_local_day(now),
        done_at=now,
    )
    session.add(task)
    session.flush()
    return task
