"""Service cases (complaints, requests, questions), the promises made about them, what
customers thought of the service, and the owner's figures.

* A case is opened on a customer with a category; the category's :class:`ServicePromise`
  ("first response within 4 working hours, resolution within 2 working days") gives its
  due times, worked out in working time (:mod:`smbcrm.services.working_time`) when it is
  opened or re-categorised. A promise changed later does not move the due times of cases
  already open: what was promised to that customer stands.
* The first response is the first contact logged on the case (a call, visit, message…;
  an internal note is not a contact), whenever and however it is logged:
  :func:`record_response` logs one, and ``activities.log_activity`` with a ``case_id``
  reports one through :func:`note_case_contact`. Resolving a case without any contact
  logged counts the resolution as the first response.
* "Resolved on first contact" is ticked by the person resolving, or else worked out: no
  more than one contact logged on the case, and resolved within an hour of it.
* :func:`case_state`: on time, due soon (within the promise's ``warn_minutes`` working
  minutes of a due time), response overdue, resolution overdue; resolved or resolved late.
* Satisfaction (1–5 and the customer's words) after a resolved case or a visit; a falling
  trend (:func:`falling_satisfaction`) is one of the at-risk signals.

Permissions (``services.permissions``): anyone who may log activities opens and works
cases on any customer they can see (everybody sees every customer); promises and the
working calendar are company settings (owners and managers).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from smbcrm.errors import ConflictError, NotFoundError, ValidationError
from smbcrm.models import (
    Activity,
    ActivityKind,
    Case,
    CaseKind,
    CaseSeverity,
    CaseStatus,
    Contact,
    Customer,
    SatisfactionRating,
    ServicePromise,
    User,
    utcnow,
)
from smbcrm.services.permissions import Permission, require
from smbcrm.services.working_time import (
    WorkingCalendar,
    add_working_minutes,
    working_minutes_between,
)

DEFAULT_WARN_MINUTES = 60
# A second complaint this soon after the last one from the same customer is a repeat.
REPEAT_WINDOW_DAYS = 90
# Resolved within this long of the only contact: resolved on first contact.
FIRST_CONTACT_WINDOW = timedelta(hours=1)
# A logged time this far ahead of the clock is a typo, not a plan (clocks differ a little).
_CLOCK_SLACK = timedelta(minutes=5)
NO_CATEGORY = "(no category)"

KIND_LABELS = {
    CaseKind.COMPLAINT: "Complaint",
    CaseKind.REQUEST: "Request",
    CaseKind.QUESTION: "Question",
}
SEVERITY_LABELS = {
    CaseSeverity.LOW: "Low",
    CaseSeverity.NORMAL: "Normal",
    CaseSeverity.HIGH: "High",
    CaseSeverity.URGENT: "Urgent",
}
_SEVERITY_RANK = {
    CaseSeverity.URGENT: 0,
    CaseSeverity.HIGH: 1,
    CaseSeverity.NORMAL: 2,
    CaseSeverity.LOW: 3,
}


class CaseState(StrEnum):
    ON_TIME = "on-time"
    DUE_SOON = "due-soon"
    RESPONSE_OVERDUE = "response-overdue"
    RESOLUTION_OVERDUE = "resolution-overdue"
    RESOLVED = "resolved"
    RESOLVED_LATE = "resolved-late"

    @property
    def overdue(self) -> bool:
        return self in (CaseState.RESPONSE_OVERDUE, CaseState.RESOLUTION_OVERDUE)


STATE_LABELS = {
    CaseState.ON_TIME: "On time",
    CaseState.DUE_SOON: "Due soon",
    CaseState.RESPONSE_OVERDUE: "Response overdue",
    CaseState.RESOLUTION_OVERDUE: "Resolution overdue",
    CaseState.RESOLVED: "Resolved",
    CaseState.RESOLVED_LATE: "Resolved late",
}
# Most urgent first, for sorting open cases.
_STATE_RANK = {
    CaseState.RESOLUTION_OVERDUE: 0,
    CaseState.RESPONSE_OVERDUE: 1,
    CaseState.DUE_SOON: 2,
    CaseState.ON_TIME: 3,
    CaseState.RESOLVED_LATE: 4,
    CaseState.RESOLVED: 4,
}


class CaseScope(StrEnum):
    OPEN = "open"
    MINE = "mine"  # open cases assigned to the given user
    OVERDUE = "overdue"
    DUE_SOON = "due-soon"
    ALL = "all"


# ---------------------------------------------------------------------------------------
# Promises


@dataclass(frozen=True)
class PromiseInput:
    category: str
    first_response_minutes: int | None
    resolution_minutes: int | None
    warn_minutes: int = DEFAULT_WARN_MINUTES


def clean_category(text: str | None) -> str:
    return " ".join((text or "").split())[:100]


def _fold(text: str) -> str:
    return clean_category(text).casefold()


def list_promises(session: Session) -> list[ServicePromise]:
    return list(session.scalars(select(ServicePromise).order_by(ServicePromise.category)))


def promises_by_category(session: Session) -> dict[str, ServicePromise]:
    """Folded category → its promise (categories match regardless of case and spacing)."""
    return {_fold(p.category): p for p in list_promises(session)}


def promise_for(session: Session, category: str) -> ServicePromise | None:
    return promises_by_category(session).get(_fold(category)) if category.strip() else None


def save_promise(
    session: Session, actor: User | None, data: PromiseInput, promise_id: int | None = None
) -> ServicePromise:
    """Create (no ``promise_id``) or change a category's promise (owners and managers)."""
    require(actor, Permission.MANAGE_SETTINGS)
    category = clean_category(data.category)
    errors: dict[str, str] = {}
    if not category:
        errors["category"] = "Name the category the promise is for, e.g. 'Delivery' or '质量问题'."
    else:
        for other in list_promises(session):
            if other.id != promise_id and _fold(other.category) == category.casefold():
                errors["category"] = (
                    f"There is already a promise for '{other.category}'; change that one."
                )
    response, resolution = data.first_response_minutes, data.resolution_minutes
    if response is None and resolution is None:
        errors["first_response_minutes"] = (
            "Promise a first response time, a resolution time, or both."
        )
    for name, value in (
        ("first_response_minutes", response),
        ("resolution_minutes", resolution),
    ):
        if value is not None and value <= 0:
            errors[name] = "A promised time must be longer than zero."
    if response and resolution and resolution < response:
        errors["resolution_minutes"] = (
            "Resolution cannot be promised sooner than the first response."
        )
    if data.warn_minutes < 0:
        errors["warn_minutes"] = "The warning time cannot be negative."
    if errors:
        raise ValidationError(errors)
    if promise_id is None:
        promise = ServicePromise(category=category)
        session.add(promise)
    else:
        found = session.get(ServicePromise, promise_id)
        if found is None:
            raise NotFoundError(f"There is no service promise with ID {promise_id}.")
        promise = found
        promise.category = category
    promise.first_response_minutes = response
    promise.resolution_minutes = resolution
    promise.warn_minutes = data.warn_minutes
    session.flush()
    return promise


def delete_promise(session: Session, actor: User | None, promise_id: int) -> None:
    """Remove a category's promise; cases already open keep their due times."""
    require(actor, Permission.MANAGE_SETTINGS)
    promise = session.get(ServicePromise, promise_id)
    if promise is None:
        raise NotFoundError(f"There is no service promise with ID {promise_id}.")
    session.delete(promise)
    session.flush()


def category_choices(session: Session) -> list[str]:
    """Categories to offer: those with a promise, then others already used on cases."""
    seen: set[str] = set()
    choices: list[str] = []
    used = session.scalars(
        select(Case.category).where(Case.category != "").group_by(Case.category).limit(200)
    )
    for name in [p.category for p in list_promises(session)] + sorted(used):
        if _fold(name) not in seen:
            seen.add(_fold(name))
            choices.append(name)
    return choices


def due_times(
    opened_at: datetime, promise: ServicePromise | None, calendar: WorkingCalendar
) -> tuple[datetime | None, datetime | None]:
    """(first response due, resolution due) for a case opened at ``opened_at`` (naive UTC)."""
    if promise is None:
        return None, None
    response = (
        add_working_minutes(opened_at, promise.first_response_minutes, calendar)
        if promise.first_response_minutes
        else None
    )
    resolution = (
        add_working_minutes(opened_at, promise.resolution_minutes, calendar)
        if promise.resolution_minutes
        else None
    )
    return response, resolution


# ---------------------------------------------------------------------------------------
# Opening and working a case


@dataclass
class CaseInput:
    customer_id: int
    title: str
    kind: CaseKind = CaseKind.COMPLAINT
    category: str = ""
    severity: CaseSeverity = CaseSeverity.NORMAL
    description: str | None = None
    assignee_id: int | None = None
    contact_id: int | None = None
    opened_at: datetime | None = None  # naive UTC; now when not given


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"There is no case #{case_id}; it may have been removed.")
    return case


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and case.version != expected_version:
        raise ConflictError(
            f"Case #{case.id} was changed by someone else while you had it open. "
            "Close it and open it again to see their changes, then make yours."
        )


def _validate(session: Session, data: CaseInput, now: datetime) -> tuple[Customer, str]:
    """The customer and the title to store; field errors for anything that cannot be saved."""
    errors: dict[str, str] = {}
    customer = session.get(Customer, data.customer_id)
    if customer is None:
        errors["customer_id"] = "Choose the customer the case is about."
    elif customer.merged_into_id is not None:
        errors["customer_id"] = (
            f"{customer.name} was merged into another customer; open the case there."
        )
    elif customer.archived_at is not None:
        errors["customer_id"] = (
            f"{customer.name} is archived; restore the customer before opening a case."
        )
    title = " ".join(data.title.split())
    if not title and (data.description or "").strip():
        title = (data.description or "").strip().splitlines()[0].strip()
    if not title:
        errors["title"] = "Say in a few words what the case is about."
    if len(title) > 300:
        title = title[:300]
    if len(data.category.strip()) > 100:
        errors["category"] = "Keep the category under 100 characters."
    if data.assignee_id is not None:
        assignee = session.get(User, data.assignee_id)
        if assignee is None or not assignee.active:
            errors["assignee_id"] = "Give the case to someone who still works here."
    if data.contact_id is not None:
        contact = session.get(Contact, data.contact_id)
        if contact is None or contact.customer_id != data.customer_id:
            errors["contact_id"] = "Choose one of this customer's contacts."
    if data.opened_at is not None and data.opened_at > now + _CLOCK_SLACK:
        errors["opened_at"] = "A case cannot be opened in the future."
    if errors:
        raise ValidationError(errors)
    assert customer is not None
    return customer, title


def _default_assignee(session: Session, customer: Customer, actor: User | None) -> int | None:
    if customer.owner_id is not None:
        owner = session.get(User, customer.owner_id)
        if owner is not None and owner.active:
            return owner.id
    return actor.id if actor else None


def open_case(
    session: Session,
    actor: User | None,
    data: CaseInput,
    *,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> Case:
    """Open a case; its due times come from its category's promise, in working time.

    Nobody named: the customer's salesperson works it (or, for the pool, whoever opened it).
    """
    require(actor, Permission.LOG_ACTIVITIES)
    now = now or utcnow()
    customer, title = _validate(session, data, now)
    calendar = calendar or WorkingCalendar.load(session)
    opened_at = data.opened_at or now
    category = clean_category(data.category)
    response_due, resolution_due = due_times(opened_at, promise_for(session, category), calendar)
    case = Case(
        customer_id=customer.id,
        contact_id=data.contact_id,
        kind=data.kind,
        category=category,
        severity=data.severity,
        status=CaseStatus.OPEN,
        title=title,
        description=(data.description or "").strip() or None,
        assignee_id=data.assignee_id or _default_assignee(session, customer, actor),
        created_by_id=actor.id if actor else None,
        opened_at=opened_at,
        response_due_at=response_due,
        resolution_due_at=resolution_due,
    )
    session.add(case)
    session.flush()
    return case


def update_case(
    session: Session,
    actor: User | None,
    case_id: int,
    data: CaseInput,
    *,
    expected_version: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> Case:
    """Change what a case is about; a new category or opening time re-works its due times."""
    require(actor, Permission.LOG_ACTIVITIES)
    case = get_case(session, case_id)
    _check_version(case, expected_version)
    _, title = _validate(session, data, utcnow())
    category = clean_category(data.category)
    opened_at = data.opened_at or case.opened_at
    if _fold(category) != _fold(case.category) or opened_at != case.opened_at:
        calendar = calendar or WorkingCalendar.load(session)
        case.response_due_at, case.resolution_due_at = due_times(
            opened_at, promise_for(session, category), calendar
        )
    case.customer_id = data.customer_id
    case.contact_id = data.contact_id
    case.kind = data.kind
    case.category = category
    case.severity = data.severity
    case.title = title
    case.description = (data.description or "").strip() or None
    case.opened_at = opened_at
    if data.assignee_id is not None:
        case.assignee_id = data.assignee_id
    session.flush()
    return case


def assign_case(
    session: Session, actor: User | None, case_id: int, assignee_id: int | None
) -> Case:
    require(actor, Permission.LOG_ACTIVITIES)
    case = get_case(session, case_id)
    if assignee_id is not None:
        user = session.get(User, assignee_id)
        if user is None or not user.active:
            raise ValidationError({"assignee_id": "Give the case to someone who still works here."})
    case.assignee_id = assignee_id
    session.flush()
    return case


def note_case_contact(
    session: Session,
    case_id: int,
    at: datetime,
    *,
    customer_id: int | None = None,
    is_contact: bool = True,
) -> bool:
    """A contact was made while working ``case_id`` at ``at`` (naive UTC).

    Called by ``activities.log_activity`` for an activity with a ``case_id``, before the
    activity is written. The earliest contact is the case's first response (a back-dated
    call logged later can move it earlier; never before the case was opened). Returns
    whether the first response changed. Raises if the case is not this customer's.
    """
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"There is no case #{case_id}; it may have been removed.")
    if customer_id is not None and case.customer_id != customer_id:
        raise ValidationError(
            {"case_id": f"Case #{case_id} is about another customer; link it to that customer."}
        )
    if not is_contact:
        return False
    at = max(at, case.opened_at)
    if case.first_response_at is not None and case.first_response_at <= at:
        return False
    case.first_response_at = at
    session.flush()
    return True


def record_response(
    session: Session,
    actor: User | None,
    case_id: int,
    note: str,
    *,
    kind: ActivityKind = ActivityKind.CALL,
    at: datetime | None = None,
) -> Activity:
    """Log a contact with the customer about the case (it becomes the first response if it
    is the first); the activity shows in the customer's history like any other."""
    from smbcrm.services.activities import ActivityInput, log_activity

    case = get_case(session, case_id)
    if kind == ActivityKind.NOTE:
        raise ValidationError(
            {"kind": "A note is not a response to the customer; choose call, visit, e-mail…"}
        )
    subject = " ".join(note.split())[:300] if note.strip() else ""
    return log_activity(
        session,
        actor,
        case.customer_id,
        ActivityInput(
            kind=kind,
            subject=subject or f"Case #{case.id}: {case.title}"[:300],
            body=note.strip() or None,
            occurred_at=at,
            case_id=case.id,
        ),
    )


def _contact_count(session: Session, case_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(Activity)
        .where(Activity.case_id == case_id, Activity.kind != ActivityKind.NOTE)
    )
    return int(session.scalar(stmt) or 0)


def first_contact_guess(session: Session, case: Case, at: datetime) -> bool:
    """Whether resolving ``case`` at ``at`` is resolving it on first contact: no more than
    one contact logged on it, and no more than an hour after that contact."""
    contacts = _contact_count(session, case.id)
    if contacts == 0:
        return True
    return (
        contacts == 1
        and case.first_response_at is not None
        and at - case.first_response_at <= FIRST_CONTACT_WINDOW
    )


def resolve_case(
    session: Session,
    actor: User | None,
    case_id: int,
    resolution: str,
    *,
    first_contact: bool | None = None,
    at: datetime | None = None,
    score: int | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """Resolve a case; with ``score`` the customer's satisfaction is recorded in the same step.

    ``first_contact`` None works "resolved on first contact" out (see the module notes).
    """
    require(actor, Permission.LOG_ACTIVITIES)
    case = get_case(session, case_id)
    _check_version(case, expected_version)
    now = utcnow()
    at = at or now
    errors: dict[str, str] = {}
    if case.status == CaseStatus.RESOLVED:
        errors["status"] = f"Case #{case.id} is already resolved; reopen it to change that."
    if not resolution.strip():
        errors["resolution"] = "Say how the case was resolved."
    if at > now + _CLOCK_SLACK:
        errors["resolved_at"] = "A case cannot be resolved in the future."
    elif at < case.opened_at:
        errors["resolved_at"] = "A case cannot be resolved before it was opened."
    if score is not None and not _valid_score(score):
        errors["score"] = "Satisfaction is a score from 1 (very unhappy) to 5 (very happy)."
    if errors:
        raise ValidationError(errors)
    if first_contact is None:
        first_contact = first_contact_guess(session, case, at)
    if case.first_response_at is None:
        case.first_response_at = at  # resolving answered the customer
    case.status = CaseStatus.RESOLVED
    case.resolution = resolution.strip()
    case.resolved_at = at
    case.resolved_on_first_contact = first_contact
    session.flush()
    if score is not None:
        record_satisfaction(session, actor, case.customer_id, score, comment, case_id=case.id)
    return case


def reopen_case(
    session: Session,
    actor: User | None,
    case_id: int,
    *,
    expected_version: int | None = None,
) -> Case:
    """Open a resolved case again; its original due times stand (the promise was broken if
    the customer is still waiting past them)."""
    require(actor, Permission.LOG_ACTIVITIES)
    case = get_case(session, case_id)
    _check_version(case, expected_version)
    if case.status != CaseStatus.RESOLVED:
        raise ValidationError({"status": f"Case #{case.id} is still open."})
    case.status = CaseStatus.OPEN
    case.resolved_at = None
    case.resolved_on_first_contact = False
    session.flush()
    return case


# ---------------------------------------------------------------------------------------
# State and lists


class _Timed(Protocol):
    @property
    def status(self) -> CaseStatus: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def response_due_at(self) -> datetime | None: ...
    @property
    def resolution_due_at(self) -> datetime | None: ...


def case_state(
    case: _Timed,
    now: datetime,
    *,
    warn_minutes: int = DEFAULT_WARN_MINUTES,
    calendar: WorkingCalendar | None = None,
) -> CaseState:
    """Where a case stands against its promise at ``now`` (naive UTC).

    Due soon: a due time not yet met is at most ``warn_minutes`` working minutes away.
    """
    response_due, resolution_due = case.response_due_at, case.resolution_due_at
    if case.status == CaseStatus.RESOLVED:
        late = (
            resolution_due is not None
            and case.resolved_at is not None
            and case.resolved_at > resolution_due
        ) or (
            response_due is not None
            and case.first_response_at is not None
            and case.first_response_at > response_due
        )
        return CaseState.RESOLVED_LATE if late else CaseState.RESOLVED
    if resolution_due is not None and now >= resolution_due:
        return CaseState.RESOLUTION_OVERDUE
    pending_response = response_due if case.first_response_at is None else None
    if pending_response is not None and now >= pending_response:
        return CaseState.RESPONSE_OVERDUE
    calendar = calendar or WorkingCalendar()
    for due in (pending_response, resolution_due):
        if due is not None and working_minutes_between(now, due, calendar) <= warn_minutes:
            return CaseState.DUE_SOON
    return CaseState.ON_TIME


@dataclass(frozen=True)
class CaseFilter:
    scope: CaseScope = CaseScope.OPEN
    user_id: int | None = None  # whose cases "mine" means
    customer_id: int | None = None
    category: str | None = None
    assignee_id: int | None = None
    text: str = ""
    limit: int = 1000


@dataclass(frozen=True)
class CaseRow:
    id: int
    customer_id: int
    customer: str
    kind: CaseKind
    category: str
    severity: CaseSeverity
    status: CaseStatus
    title: str
    assignee_id: int | None
    assignee: str | None
    opened_at: datetime
    first_response_at: datetime | None
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    resolved_at: datetime | None
    resolved_on_first_contact: bool
    state: CaseState
    warn_minutes: int

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    @property
    def next_due(self) -> datetime | None:
        """The next promise still to keep: the response if none yet, else the resolution."""
        if not self.is_open:
            return None
        if self.first_response_at is None and self.response_due_at is not None:
            return self.response_due_at
        return self.resolution_due_at


def list_cases(
    session: Session,
    flt: CaseFilter | None = None,
    *,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[CaseRow]:
    """Cases matching ``flt``; open ones most urgent first, the others newest first."""
    flt = flt or CaseFilter()
    now = now or utcnow()
    calendar = calendar or WorkingCalendar.load(session)
    promises = promises_by_category(session)
    stmt = (
        select(Case, Customer.name, User.full_name)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(User, User.id == Case.assignee_id)
    )
    if flt.scope != CaseScope.ALL:
        stmt = stmt.where(Case.status == CaseStatus.OPEN)
    if flt.scope == CaseScope.MINE:
        stmt = stmt.where(Case.assignee_id == flt.user_id)
    if flt.customer_id is not None:
        stmt = stmt.where(Case.customer_id == flt.customer_id)
    if flt.assignee_id is not None:
        stmt = stmt.where(Case.assignee_id == flt.assignee_id)
    if flt.category:
        stmt = stmt.where(func.lower(Case.category) == clean_category(flt.category).lower())
    text = " ".join(flt.text.split())
    if text:
        number = text.lstrip("#")
        like = f"%{text.lower()}%"
        conditions: list[ColumnElement[bool]] = [
            func.lower(Case.title).like(like),
            func.lower(Customer.name).like(like),
            func.lower(Case.category).like(like),
            func.lower(func.coalesce(Case.description, "")).like(like),
        ]
        if number.isdigit():
            conditions.append(Case.id == int(number))
        stmt = stmt.where(or_(*conditions))
    stmt = stmt.order_by(Case.opened_at.desc(), Case.id.desc())
    if flt.scope == CaseScope.ALL:
        stmt = stmt.limit(flt.limit)
    rows: list[CaseRow] = []
    for case, customer, assignee in session.execute(stmt):
        promise = promises.get(_fold(case.category))
        warn = promise.warn_minutes if promise is not None else DEFAULT_WARN_MINUTES
        state = case_state(case, now, warn_minutes=warn, calendar=calendar)
        if flt.scope == CaseScope.OVERDUE and not state.overdue:
            continue
        if flt.scope == CaseScope.DUE_SOON and state != CaseState.DUE_SOON:
            continue
        rows.append(
            CaseRow(
                case.id,
                case.customer_id,
                customer,
                case.kind,
                case.category,
                case.severity,
                case.status,
                case.title,
                case.assignee_id,
                assignee,
                case.opened_at,
                case.first_response_at,
                case.response_due_at,
                case.resolution_due_at,
                case.resolved_at,
                case.resolved_on_first_contact,
                state,
                warn,
            )
        )
    if flt.scope != CaseScope.ALL:
        far = datetime.max
        rows.sort(
            key=lambda r: (
                _STATE_RANK[r.state],
                r.next_due or far,
                _SEVERITY_RANK[r.severity],
                r.opened_at,
            )
        )
        rows = rows[: flt.limit]
    return rows


@dataclass(frozen=True)
class CaseCounts:
    open: int
    overdue: int
    due_soon: int
    mine: int


def case_counts(
    session: Session, user_id: int | None, *, now: datetime | None = None
) -> CaseCounts:
    rows = list_cases(session, CaseFilter(scope=CaseScope.OPEN), now=now)
    return CaseCounts(
        open=len(rows),
        overdue=sum(1 for r in rows if r.state.overdue),
        due_soon=sum(1 for r in rows if r.state == CaseState.DUE_SOON),
        mine=sum(1 for r in rows if r.assignee_id == user_id),
    )


# ---------------------------------------------------------------------------------------
# Satisfaction


def _valid_score(score: object) -> bool:
    return isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5


def record_satisfaction(
    session: Session,
    actor: User | None,
    customer_id: int,
    score: int,
    comment: str | None = None,
    *,
    case_id: int | None = None,
    activity_id: int | None = None,
) -> SatisfactionRating:
    """The customer's 1–5 verdict after a resolved case or a visit, with their words.

    A second verdict on the same case or visit replaces the first (the customer changed
    their mind; the trend must not count them twice).
    """
    require(actor, Permission.LOG_ACTIVITIES)
    errors: dict[str, str] = {}
    if not _valid_score(score):
        errors["score"] = "Satisfaction is a score from 1 (very unhappy) to 5 (very happy)."
    if session.get(Customer, customer_id) is None:
        errors["customer_id"] = f"There is no customer with ID {customer_id}."
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or case.customer_id != customer_id:
            errors["case_id"] = f"Case #{case_id} is not this customer's."
    if activity_id is not None:
        activity = session.get(Activity, activity_id)
        if activity is None or activity.customer_id != customer_id:
            errors["activity_id"] = "That visit or call is not this customer's."
    if errors:
        raise ValidationError(errors)
    rating: SatisfactionRating | None = None
    if case_id is not None or activity_id is not None:
        stmt = select(SatisfactionRating).where(SatisfactionRating.customer_id == customer_id)
        if case_id is not None:
            stmt = stmt.where(SatisfactionRating.case_id == case_id)
        if activity_id is not None:
            stmt = stmt.where(SatisfactionRating.activity_id == activity_id)
        rating = session.scalars(stmt.limit(1)).first()
    if rating is None:
        rating = SatisfactionRating(
            customer_id=customer_id, case_id=case_id, activity_id=activity_id
        )
        session.add(rating)
    rating.score = score
    rating.comment = (comment or "").strip() or None
    rating.recorded_at = utcnow()
    rating.recorded_by_id = actor.id if actor else None
    session.flush()
    return rating


def falling_satisfaction(
    count: int,
    last: float | None,
    previous: float | None,
    recent_average: float | None,
    earlier_average: float | None,
) -> tuple[float, float] | None:
    """(lately, before) when a customer's satisfaction is falling, else None.

    The rule (ratings newest first): with three or more ratings, the average of the last
    two is at least 1.5 below the average of all the earlier ones (5, 5, 4 then 3, 2);
    or, with two or more, the last is 2 or less right after a 4 or 5 (a sudden drop).
    """
    if (
        count >= 3
        and recent_average is not None
        and earlier_average is not None
        and earlier_average - recent_average >= 1.5
    ):
        return recent_average, earlier_average
    if count >= 2 and last is not None and previous is not None and last <= 2 and previous >= 4:
        return last, previous
    return None


@dataclass(frozen=True)
class RatingRow:
    id: int
    recorded_at: datetime
    score: int
    comment: str | None
    case_id: int | None
    activity_id: int | None


@dataclass(frozen=True)
class SatisfactionTrend:
    ratings: list[RatingRow]  # newest first
    average: float | None
    falling: tuple[float, float] | None  # (lately, before) when falling

    @property
    def is_falling(self) -> bool:
        return self.falling is not None


def satisfaction_summary(scores_newest_first: Sequence[int]) -> tuple[float, float] | None:
    """:func:`falling_satisfaction` for a list of scores, newest first."""
    n = len(scores_newest_first)
    recent = statistics.fmean(scores_newest_first[:2]) if n >= 3 else None
    earlier = statistics.fmean(scores_newest_first[2:]) if n >= 3 else None
    return falling_satisfaction(
        n,
        scores_newest_first[0] if n else None,
        scores_newest_first[1] if n >= 2 else None,
        recent,
        earlier,
    )


def satisfaction_trend(session: Session, customer_id: int) -> SatisfactionTrend:
    stmt = (
        select(SatisfactionRating)
        .where(SatisfactionRating.customer_id == customer_id)
        .order_by(SatisfactionRating.recorded_at.desc(), SatisfactionRating.id.desc())
    )
    ratings = [
        RatingRow(r.id, r.recorded_at, r.score, r.comment, r.case_id, r.activity_id)
        for r in session.scalars(stmt)
    ]
    scores = [r.score for r in ratings]
    return SatisfactionTrend(
        ratings,
        statistics.fmean(scores) if scores else None,
        satisfaction_summary(scores),
    )


# ---------------------------------------------------------------------------------------
# The owner's figures


@dataclass
class FigureGroup:
    """Service figures for a set of cases (all, one category, one person)."""

    label: str
    cases: int = 0
    complaints: int = 0
    resolved: int = 0
    first_contact: int = 0
    # Median working minutes taken, and promised (the cases' own promises, median).
    median_response: float | None = None
    promised_response: float | None = None
    response_kept: float | None = None  # share of promised first responses made in time
    median_resolution: float | None = None
    promised_resolution: float | None = None
    resolution_kept: float | None = None
    repeat_complaints: int = 0  # complaints within REPEAT_WINDOW_DAYS of the one before
    ratings: int = 0
    average_satisfaction: float | None = None
    _response: list[int] = field(default_factory=list, repr=False)
    _response_promise: list[int] = field(default_factory=list, repr=False)
    _response_met: list[bool] = field(default_factory=list, repr=False)
    _resolution: list[int] = field(default_factory=list, repr=False)
    _resolution_promise: list[int] = field(default_factory=list, repr=False)
    _resolution_met: list[bool] = field(default_factory=list, repr=False)
    _scores: list[int] = field(default_factory=list, repr=False)

    @property
    def first_contact_share(self) -> float | None:
        return self.first_contact / self.resolved if self.resolved else None

    def _finish(self) -> None:
        def median(values: list[int]) -> float | None:
            return float(statistics.median(values)) if values else None

        def share(values: list[bool]) -> float | None:
            return sum(values) / len(values) if values else None

        self.median_response = median(self._response)
        self.promised_response = median(self._response_promise)
        self.response_kept = share(self._response_met)
        self.median_resolution = median(self._resolution)
        self.promised_resolution = median(self._resolution_promise)
        self.resolution_kept = share(self._resolution_met)
        self.ratings = len(self._scores)
        self.average_satisfaction = statistics.fmean(self._scores) if self._scores else None


@dataclass(frozen=True)
class RepeatCustomer:
    customer_id: int
    name: str
    complaints: int  # complaints opened in the period
    repeats: int  # of them, within REPEAT_WINDOW_DAYS of the one before
    last_opened: datetime


@dataclass(frozen=True)
class ServiceFigures:
    since: datetime
    until: datetime
    overall: FigureGroup
    by_category: list[FigureGroup]
    by_person: list[FigureGroup]
    repeat_customers: list[RepeatCustomer]
    day_minutes: int


def _utc_bound(value: date | datetime, calendar: WorkingCalendar) -> datetime:
    if isinstance(value, datetime):
        return value
    return calendar.local_midnight_utc(value)


def service_figures(
    session: Session,
    since: date | datetime,
    until: date | datetime,
    *,
    calendar: WorkingCalendar | None = None,
) -> ServiceFigures:
    """Figures for the cases opened from ``since`` up to (not including) ``until``.

    Dates are local company dates; datetimes naive UTC. Times are working minutes by the
    company calendar; a case counts toward a promise only if it had one when opened.
    """
    calendar = calendar or WorkingCalendar.load(session)
    start, end = _utc_bound(since, calendar), _utc_bound(until, calendar)
    if end <= start:
        raise ValidationError({"until": "The end of the period must come after its start."})
    stmt = (
        select(Case, Customer.name, User.full_name)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(User, User.id == Case.assignee_id)
        .where(Case.opened_at >= start, Case.opened_at < end)
        .order_by(Case.opened_at, Case.id)
    )
    cases = list(session.execute(stmt))
    ids = [case.id for case, _, _ in cases]
    scores: dict[int, list[int]] = defaultdict(list)
    if ids:
        for case_id, score in session.execute(
            select(SatisfactionRating.case_id, SatisfactionRating.score).where(
                SatisfactionRating.case_id.in_(ids)
            )
        ):
            if case_id is not None:
                scores[case_id].append(score)
    repeats = _repeat_complaint_ids(session, start, end)

    overall = FigureGroup("All cases")
    categories: dict[str, FigureGroup] = {}
    people: dict[str, FigureGroup] = {}
    per_customer: dict[int, list[Case]] = defaultdict(list)
    names: dict[int, str] = {}
    for case, customer_name, assignee in cases:
        category = case.category or NO_CATEGORY
        category_group = categories.setdefault(_fold(category), FigureGroup(category))
        person = assignee or "(nobody)"
        person_group = people.setdefault(person, FigureGroup(person))
        facts = _case_facts(case, calendar)
        for group in (overall, category_group, person_group):
            _add(group, case, facts, scores.get(case.id, ()), case.id in repeats)
        if case.kind == CaseKind.COMPLAINT:
            per_customer[case.customer_id].append(case)
            names[case.customer_id] = customer_name
    for group in (overall, *categories.values(), *people.values()):
        group._finish()
    repeat_customers = [
        RepeatCustomer(
            cid,
            names[cid],
            len(found),
            sum(1 for c in found if c.id in repeats),
            max(c.opened_at for c in found),
        )
        for cid, found in per_customer.items()
        if any(c.id in repeats for c in found)
    ]
    repeat_customers.sort(key=lambda r: (-r.complaints, -r.repeats, r.name))
    return ServiceFigures(
        start,
        end,
        overall,
        sorted(categories.values(), key=lambda g: (-g.cases, g.label)),
        sorted(people.values(), key=lambda g: (-g.cases, g.label)),
        repeat_customers,
        calendar.day_minutes,
    )


@dataclass(frozen=True)
class _Facts:
    response: int | None
    response_promise: int | None
    response_met: bool | None
    resolution: int | None
    resolution_promise: int | None
    resolution_met: bool | None


def _case_facts(case: Case, calendar: WorkingCalendar) -> _Facts:
    def minutes(until: datetime | None) -> int | None:
        if until is None:
            return None
        return max(working_minutes_between(case.opened_at, until, calendar), 0)

    response_met = resolution_met = None
    if case.response_due_at is not None and case.first_response_at is not None:
        response_met = case.first_response_at <= case.response_due_at
    if case.resolution_due_at is not None and case.resolved_at is not None:
        resolution_met = case.resolved_at <= case.resolution_due_at
    return _Facts(
        minutes(case.first_response_at),
        minutes(case.response_due_at),
        response_met,
        minutes(case.resolved_at),
        minutes(case.resolution_due_at),
        resolution_met,
    )


def _add(
    group: FigureGroup, case: Case, facts: _Facts, scores: Iterable[int], repeat: bool
) -> None:
    group.cases += 1
    if case.kind == CaseKind.COMPLAINT:
        group.complaints += 1
    if case.status == CaseStatus.RESOLVED:
        group.resolved += 1
        group.first_contact += case.resolved_on_first_contact
    if facts.response is not None:
        group._response.append(facts.response)
    if facts.response_promise is not None:
        group._response_promise.append(facts.response_promise)
    if facts.response_met is not None:
        group._response_met.append(facts.response_met)
    if facts.resolution is not None:
        group._resolution.append(facts.resolution)
    if facts.resolution_promise is not None:
        group._resolution_promise.append(facts.resolution_promise)
    if facts.resolution_met is not None:
        group._resolution_met.append(facts.resolution_met)
    group.repeat_complaints += repeat
    group._scores.extend(scores)


def _repeat_complaint_ids(session: Session, start: datetime, end: datetime) -> set[int]:
    """Complaints opened in the period within REPEAT_WINDOW_DAYS of the customer's last one."""
    window = timedelta(days=REPEAT_WINDOW_DAYS)
    stmt = (
        select(Case.id, Case.customer_id, Case.opened_at)
        .where(
            Case.kind == CaseKind.COMPLAINT,
            Case.opened_at >= start - window,
            Case.opened_at < end,
        )
        .order_by(Case.customer_id, Case.opened_at, Case.id)
    )
    found: set[int] = set()
    last: dict[int, datetime] = {}
    for case_id, customer_id, opened_at in session.execute(stmt):
        before = last.get(customer_id)
        if before is not None and opened_at - before <= window and opened_at >= start:
            found.add(case_id)
        last[customer_id] = opened_at
    return found
