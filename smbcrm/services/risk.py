"""Which active customers are at risk of leaving, why, and how much revenue is at stake.

Every active customer is judged against *their own* history, never a company-wide average:

* ``overdue`` — silent for more than ``overdue_factor`` × their median interval between
  order days (a quarterly buyer is not late after 60 days; a monthly one is after 140);
* ``declining`` — spend in the last ``decline_months`` fell by ``decline_drop`` or more
  against the same span before it;
* ``no-contact`` — nothing logged for ``no_contact_days`` *and* one of the signs above or an
  open complaint (a steady buyer is not at risk merely because nobody logged a call);
* ``unassigned`` / ``owner-inactive`` — nobody is looking after them;
* ``open-complaint`` — an open complaint case past its service promise (first response
  or resolution overdue; the due times are worked out in the company's working hours
  when the case is opened), or a complaint logged as an activity whose follow-up task is
  past due and not done (:func:`open_complaints`);
* ``satisfaction-falling`` — the customer's satisfaction ratings are falling (the rule is
  ``services.cases.falling_satisfaction``: the last two average 1.5 or more below the
  earlier ones, or a 1–2 right after a 4–5), the latest rating within a year
  (:func:`falling_satisfaction`).

The work is a handful of aggregate queries (``GROUP BY`` and window functions, run by the
database) plus one pass over the customers; orders are never loaded one by one, so
100,000 customers with 1,000,000 orders take about a second. The last result per
:class:`~smbcrm.models.Database` is kept in memory (:func:`cached`), so the screen opens on
it at once and refreshes in the background (:func:`refresh`).
"""

from __future__ import annotations

import threading
import unicodedata
import weakref
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from operator import sub
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Float, Select, and_, case, cast, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from smbcrm.errors import ValidationError
from smbcrm.models import (
    Activity,
    ActivityKind,
    Case,
    CaseKind,
    CaseStatus,
    Customer,
    CustomerStatus,
    Database,
    ExportEntry,
    FollowUp,
    Order,
    SatisfactionRating,
    Setting,
    Tier,
    User,
    counts_as_sale,
    utcnow,
)
from smbcrm.models.db import as_date
from smbcrm.services import cases as cases_service
from smbcrm.services.currencies import ExchangeRates, load_rates, unconverted_orders
from smbcrm.services.permissions import Permission, require
from smbcrm.services.progress import Progress
from smbcrm.services.tiers import recompute_tiers
from smbcrm.services.working_time import WorkingCalendar

if TYPE_CHECKING:
    from smbcrm.services.export.workbook import Sheet

SETTING_PREFIX = "risk."


class Reason(StrEnum):
    """The stable codes of the reasons (reports and filters use them as written)."""

    OVERDUE = "overdue"
    DECLINING = "declining"
    NO_CONTACT = "no-contact"
    UNASSIGNED = "unassigned"
    OWNER_INACTIVE = "owner-inactive"
    OPEN_COMPLAINT = "open-complaint"
    SATISFACTION_FALLING = "satisfaction-falling"


class RiskLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


# Points per reason; the level is the sum (see _level). Behaviour (silence, falling spend,
# an unanswered complaint) weighs more than bookkeeping (no owner, no logged call).
WEIGHTS: dict[Reason, int] = {
    Reason.OVERDUE: 2,
    Reason.DECLINING: 2,
    Reason.OPEN_COMPLAINT: 2,
    Reason.SATISFACTION_FALLING: 2,
    Reason.NO_CONTACT: 1,
    Reason.UNASSIGNED: 1,
    Reason.OWNER_INACTIVE: 1,
}
LEVEL_ORDER = {RiskLevel.HIGH: 3, RiskLevel.MEDIUM: 2, RiskLevel.LOW: 1, RiskLevel.NONE: 0}


def _level(reasons: Sequence[RiskReason]) -> RiskLevel:
    score = sum(WEIGHTS[r.code] for r in reasons)
    if score >= 3:
        return RiskLevel.HIGH
    if score == 2:
        return RiskLevel.MEDIUM
    if score == 1:
        return RiskLevel.LOW
    return RiskLevel.NONE


# ---------------------------------------------------------------------------------------
# Settings


@dataclass
class RiskSettings:
    """Thresholds, stored company-wide in the ``settings`` table as ``risk.<field>``."""

    # Overdue: silent longer than this many times their own median interval …
    overdue_factor: float = 2.0
    # … and at least this long (a weekly buyer two weeks late is not news yet).
    overdue_min_days: int = 30
    # Order days needed before a rhythm is trusted (3 days give 2 intervals).
    rhythm_min_orders: int = 3
    decline_months: int = 6
    # Declining: recent spend at least this much below the period before (0.5 = −50%) …
    decline_drop: float = 0.5
    # … when the period before was worth at least this much (small sums are noise).
    decline_min_revenue: float = 1000.0
    no_contact_days: int = 90
    # Won/lost chart: a customer silent this long counts as lost on that day.
    lost_after_days: int = 365

    @classmethod
    def load(cls, session: Session) -> RiskSettings:
        stored = {
            key.removeprefix(SETTING_PREFIX): value
            for key, value in session.execute(
                select(Setting.key, Setting.value).where(Setting.key.like(SETTING_PREFIX + "%"))
            )
        }
        settings = cls()
        for f in fields(cls):
            value = stored.get(f.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                # A hand-edited or older value of the wrong type falls back to the default.
                setattr(settings, f.name, float(value) if f.type == "float" else int(value))
        return settings

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if self.overdue_factor < 1:
            errors["overdue_factor"] = "The overdue factor must be at least 1 (their own rhythm)."
        if self.rhythm_min_orders < 2:
            errors["rhythm_min_orders"] = "A rhythm needs at least 2 orders."
        if not 1 <= self.decline_months <= 24:
            errors["decline_months"] = "Compare periods of 1 to 24 months."
        if not 0 < self.decline_drop < 1:
            errors["decline_drop"] = "The drop is a share between 0 and 1 (0.5 = −50%)."
        for name in ("overdue_min_days", "no_contact_days", "lost_after_days"):
            if getattr(self, name) < 0:
                errors[name] = "A number of days cannot be negative."
        if self.decline_min_revenue < 0:
            errors["decline_min_revenue"] = "The minimum revenue cannot be negative."
        if errors:
            raise ValidationError(errors)

    def save(self, session: Session) -> None:
        self.validate()
        for f in fields(self):
            session.merge(Setting(key=SETTING_PREFIX + f.name, value=getattr(self, f.name)))
        session.flush()


def save_settings(session: Session, actor: User | None, settings: RiskSettings) -> None:
    """Store new thresholds for everyone (owners and managers: company settings)."""
    require(actor, Permission.MANAGE_SETTINGS)
    settings.save(session)


# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class RiskReason:
    code: Reason
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)


_TEXT: dict[str, dict[Reason, str]] = {
    "en": {
        Reason.OVERDUE: "usually orders every {interval} days; last order {days} days ago",
        Reason.DECLINING: "last {months} months: −{drop}% against the {months} months before",
        Reason.NO_CONTACT: "no call, visit or message logged for {days} days",
        Reason.UNASSIGNED: "no salesperson looks after them",
        Reason.OWNER_INACTIVE: "their salesperson {owner} has left",
        Reason.OPEN_COMPLAINT: "complaint not resolved; follow-up {days} days overdue",
        Reason.SATISFACTION_FALLING: "satisfaction falling: {lately} of 5 lately, {before} before",
    },
    "zh": {
        Reason.OVERDUE: "通常每 {interval} 天下单一次；上次下单已是 {days} 天前",
        Reason.DECLINING: "近 {months} 个月消费比之前 {months} 个月下降 {drop}%",
        Reason.NO_CONTACT: "已 {days} 天没有电话、拜访或消息记录",
        Reason.UNASSIGNED: "没有负责的销售",
        Reason.OWNER_INACTIVE: "负责销售 {owner} 已离职",
        Reason.OPEN_COMPLAINT: "投诉未解决；跟进已逾期 {days} 天",
        Reason.SATISFACTION_FALLING: "满意度下降：最近 {lately} 分，之前 {before} 分（满分 5 分）",
    },
}
_NEVER_CONTACTED = {"en": "no contact ever logged", "zh": "从未记录过联系"}
# An open-complaint reason that comes from service cases: (one case, several cases).
_CASE_COMPLAINT = {
    "en": (
        "complaint past its promised time (was due {due})",
        "{count} complaints past their promised time (the first was due {due})",
    ),
    "zh": (
        "投诉超过承诺时间仍未处理（应于 {due}）",
        "{count} 个投诉超过承诺时间仍未处理（最早应于 {due}）",
    ),
}
LANGUAGES = tuple(_TEXT)


def explain(reason: RiskReason, lang: str = "en") -> str:
    """The reason in words, in English (``en``) or Chinese (``zh``)."""
    texts = _TEXT.get(lang, _TEXT["en"])
    if reason.code == Reason.NO_CONTACT and reason.params.get("days") is None:
        return _NEVER_CONTACTED.get(lang, _NEVER_CONTACTED["en"])
    if reason.code == Reason.OPEN_COMPLAINT and "due" in reason.params:
        one, several = _CASE_COMPLAINT.get(lang, _CASE_COMPLAINT["en"])
        return (several if reason.params.get("count", 1) > 1 else one).format(**reason.params)
    return texts[reason.code].format(**reason.params)


# Not frozen: a frozen dataclass's __init__ costs a third of a second over 100,000 rows.
@dataclass(slots=True)
class RiskRow:
    """One active customer's assessment (``level`` NONE means nothing to worry about)."""

    id: int
    name: str
    owner_id: int | None
    owner: str | None
    owner_active: bool
    tier: Tier | None
    city: str | None
    level: RiskLevel
    reasons: tuple[RiskReason, ...]
    revenue_12m: float
    last_order: date | None
    first_order: date | None
    order_days: int
    median_interval: float | None
    days_since_order: int | None
    last_contact: date | None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code.value for r in self.reasons)

    @property
    def at_risk(self) -> bool:
        return self.level != RiskLevel.NONE

    def text(self, lang: str = "en") -> str:
        return ("；" if lang == "zh" else "; ").join(explain(r, lang) for r in self.reasons)


# ---------------------------------------------------------------------------------------
# The queries


class Rhythm(NamedTuple):
    """A customer's ordering days: first, last, how many, and the median gap in days."""

    first: date
    last: date
    days: int
    median_interval: float | None


def _median(values: Sequence[int]) -> float:
    half = len(values) // 2
    if len(values) % 2:
        return float(values[half])
    return (values[half - 1] + values[half]) / 2


Revenues = tuple[float, float, float]  # 12 months, the recent period, the period before


def order_facts(
    session: Session, today: date, settings: RiskSettings, rates: ExchangeRates | None = None
) -> tuple[dict[int, Rhythm], dict[int, Revenues]]:
    """customer → their :class:`Rhythm`, and customer → revenue in the three windows, in
    the home currency (orders in a currency without a rate count for the rhythm only).

    One aggregate pass over the (customer, date, amount) index, which covers the query:
    the database hands over each customer's order dates as one value and sums the windows;
    gaps and medians are then computed with C-level builtins (``map``, ``sorted``) per
    customer, never with Python code per order.
    """
    start_12m = today - timedelta(days=365)
    span = timedelta(days=round(settings.decline_months * 365 / 12))
    recent_start = today - span
    before_start = recent_start - span
    dialect = session.get_bind().dialect.name
    # No CAST on SQLite (amounts are stored as REAL there); Float keeps Decimal out of the rows.
    plain = type_coerce(Order.amount, Float) if dialect == "sqlite" else cast(Order.amount, Float)
    amount = (rates or load_rates(session)).in_home(plain)

    def window(condition: Any) -> Any:
        return func.sum(case((condition, amount), else_=0.0))

    if dialect == "postgresql":
        dates: Any = func.array_agg(aggregate_order_by(Order.order_date, Order.order_date))
    else:
        # Plain text "2026-01-05,2026-02-03,…" (SQLite returns it in index order).
        dates = func.group_concat(Order.order_date)
    stmt = (
        select(
            Order.customer_id,
            dates,
            window(Order.order_date > start_12m),
            window(Order.order_date > recent_start),
            window(and_(Order.order_date > before_start, Order.order_date <= recent_start)),
        )
        .where(Order.customer_id.is_not(None), Order.order_date <= today, counts_as_sale())
        .group_by(Order.customer_id)
    )
    fromiso = date.fromisoformat
    ordinal = date.toordinal
    fromordinal = date.fromordinal
    rhythms: dict[int, Rhythm] = {}
    revenues: dict[int, Revenues] = {}
    for cid, value, in_12m, recent, before in _plain_rows(session, stmt):
        if isinstance(value, str):
            days = list(map(ordinal, map(fromiso, value.split(","))))
        else:
            days = list(map(ordinal, value))
        gaps = sorted(map(sub, days[1:], days[:-1]))
        if gaps and gaps[0] < 0:  # not in date order after all: sort and dedupe first
            days = sorted(set(days))
            gaps = sorted(map(sub, days[1:], days[:-1]))
        # Several orders on one day are one ordering occasion: zero gaps do not count.
        gaps = gaps[bisect_right(gaps, 0) :]
        # Days are in date order here (sorted above when they were not).
        rhythms[cid] = Rhythm(
            fromordinal(days[0]),
            fromordinal(days[-1]),
            len(gaps) + 1,
            _median(gaps) if gaps else None,
        )
        if in_12m or before:
            revenues[cid] = (float(in_12m or 0), float(recent or 0), float(before or 0))
    return rhythms, revenues


def order_rhythms(session: Session, today: date | None = None) -> dict[int, Rhythm]:
    """customer → their :class:`Rhythm`, from the order dates up to ``today``."""
    today = today or date.today()
    return order_facts(session, today, RiskSettings())[0]


def _last_contacts(session: Session) -> dict[int, datetime]:
    stmt = select(Activity.customer_id, func.max(Activity.occurred_at)).group_by(
        Activity.customer_id
    )
    return {cid: when for cid, when in session.execute(stmt) if when is not None}


def judged_at(today: date, calendar: WorkingCalendar) -> datetime:
    """The moment (naive UTC) promises are judged at: now for today, else the end of ``today``
    in company time (an assessment "as of" a past day sees everything broken that day)."""
    if today == date.today():
        return utcnow()
    return calendar.local_midnight_utc(today + timedelta(days=1))


def open_complaints(
    session: Session, today: date, *, now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """customer → the ``open-complaint`` reason's params, for customers with a complaint
    past its promise.

    From service cases (one aggregate query): open complaint cases whose resolution is
    overdue, or whose first response is overdue with nobody having answered yet; params
    ``count`` and ``due`` (the earliest broken due time, company-local). From complaints
    logged as activities before cases existed (or without one): a follow-up task that is
    past due and not done, unless it belongs to a case; params ``days`` overdue. A
    customer with both is reported by their cases.
    """
    calendar = WorkingCalendar.load(session)
    now = now or judged_at(today, calendar)
    response_broken = and_(Case.first_response_at.is_(None), Case.response_due_at < now)
    resolution_broken = Case.resolution_due_at < now
    stmt = (
        select(
            Case.customer_id,
            func.count(),
            func.min(case((resolution_broken, Case.resolution_due_at))),
            func.min(case((response_broken, Case.response_due_at))),
        )
        .where(
            Case.kind == CaseKind.COMPLAINT,
            Case.status == CaseStatus.OPEN,
            or_(resolution_broken, response_broken),
        )
        .group_by(Case.customer_id)
    )
    found: dict[int, dict[str, Any]] = {}
    for cid, count, resolution_due, response_due in session.execute(stmt):
        due = min(d for d in (resolution_due, response_due) if d is not None)
        if isinstance(due, str):  # SQLite hands back text from an aggregate over a CASE
            due = datetime.fromisoformat(due)
        local = calendar.to_local(due).strftime("%Y-%m-%d %H:%M")
        found[cid] = {"count": int(count), "due": local}
    stmt_tasks = (
        select(FollowUp.customer_id, func.min(FollowUp.due_date))
        .join(Activity, Activity.id == FollowUp.activity_id)
        .where(
            Activity.kind == ActivityKind.COMPLAINT,
            Activity.case_id.is_(None),
            FollowUp.case_id.is_(None),
            FollowUp.done_at.is_(None),
            FollowUp.due_date < today,
        )
        .group_by(FollowUp.customer_id)
    )
    for cid, due_date in session.execute(stmt_tasks):
        if cid not in found:
            due_day = as_date(due_date)
            assert due_day is not None
            found[cid] = {"days": (today - due_day).days}
    return found


SATISFACTION_RECENT_DAYS = 365


def falling_satisfaction(session: Session, today: date) -> dict[int, dict[str, Any]]:
    """customer → the ``satisfaction-falling`` reason's params (``lately``, ``before``).

    One aggregate query over the ratings up to ``today``, newest first per customer (a
    window function numbers them): how many, the last two scores, the average of the last
    two and of all earlier ones. The rule itself is ``cases.falling_satisfaction``; only a
    customer whose latest rating is at most a year old counts (an old grievance that was
    never followed by another rating says little about today).
    """
    until = datetime.combine(today + timedelta(days=1), datetime.min.time())
    ranked = (
        select(
            SatisfactionRating.customer_id,
            SatisfactionRating.score,
            SatisfactionRating.recorded_at,
            func.row_number()
            .over(
                partition_by=SatisfactionRating.customer_id,
                order_by=(SatisfactionRating.recorded_at.desc(), SatisfactionRating.id.desc()),
            )
            .label("newest"),
        )
        .where(SatisfactionRating.recorded_at < until)
        .subquery()
    )
    score = cast(ranked.c.score, Float)
    stmt = (
        select(
            ranked.c.customer_id,
            func.count(),
            func.max(case((ranked.c.newest == 1, score))),
            func.max(case((ranked.c.newest == 2, score))),
            func.avg(case((ranked.c.newest <= 2, score))),
            func.avg(case((ranked.c.newest > 2, score))),
            func.max(ranked.c.recorded_at),
        )
        .group_by(ranked.c.customer_id)
        .having(func.count() >= 2)
    )
    recent_since = today - timedelta(days=SATISFACTION_RECENT_DAYS)
    found: dict[int, dict[str, Any]] = {}
    for cid, count, last, previous, recent, earlier, latest in session.execute(stmt):
        latest_day = as_date(latest)
        if latest_day is None or latest_day < recent_since:
            continue
        falling = cases_service.falling_satisfaction(
            int(count),
            _number(last),
            _number(previous),
            _number(recent) if count >= 3 else None,
            _number(earlier),
        )
        if falling is not None:
            found[cid] = {"lately": _score_text(falling[0]), "before": _score_text(falling[1])}
    return found


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _score_text(value: float) -> str:
    """4.5 → "4.5", 2.0 → "2" (scores read as people say them)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _plain_rows(session: Session, stmt: Select[*tuple[Any, ...]]) -> Any:
    """Rows without per-value result processing on SQLite, where at 100,000 rows it costs
    more than the work done with them. Only for statements whose bound values the service
    made itself (dates, constants): they are rendered as literals."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return connection.execute(stmt)
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    return connection.exec_driver_sql(sql)


def _active_customers(session: Session) -> list[tuple[Any, ...]]:
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.owner_id,
            User.full_name,
            User.active,
            Customer.tier,
            Customer.city,
        )
        .outerjoin(User, User.id == Customer.owner_id)
        .where(
            Customer.status == CustomerStatus.ACTIVE,
            Customer.archived_at.is_(None),
            Customer.merged_into_id.is_(None),
        )
        .order_by(Customer.id)
    )
    # SQLite hands over the tier's text; a Tier (a str enum) maps to itself.
    tiers: dict[Any, Any] = {t.value: t for t in Tier}
    tiers[None] = None
    return [
        (cid, name, owner_id, owner, bool(active), tiers[tier], city)
        for cid, name, owner_id, owner, active, tier, city in _plain_rows(session, stmt)
    ]


def assess(
    session: Session,
    today: date | None = None,
    settings: RiskSettings | None = None,
    *,
    progress: Progress | None = None,
    rates: ExchangeRates | None = None,
) -> list[RiskRow]:
    """Every active customer with their level and reasons, in customer-id order; revenue
    in the home currency of ``rates`` (the company's, when not given)."""
    today = today or date.today()
    settings = settings or RiskSettings.load(session)
    progress = progress or Progress()
    steps = 4
    progress.report(0, steps, "Reading customers…")
    customers = _active_customers(session)
    progress.report(1, steps, "Adding up revenue and each customer's ordering rhythm…")
    rhythms, revenues = order_facts(session, today, settings, rates)
    progress.report(2, steps, "Reading contacts and complaints…")
    contacts = _last_contacts(session)
    complaints = open_complaints(session, today)
    satisfaction = falling_satisfaction(session, today)
    progress.report(3, steps, "Judging each customer…")

    today_ordinal = today.toordinal()
    no_revenue = (0.0, 0.0, 0.0)
    min_orders = settings.rhythm_min_orders
    overdue_factor = settings.overdue_factor
    overdue_min_days = settings.overdue_min_days
    decline_min = settings.decline_min_revenue
    decline_drop = settings.decline_drop
    decline_months = settings.decline_months
    no_contact_days = settings.no_contact_days
    contact_days = {cid: as_date(when) for cid, when in contacts.items()}
    none = RiskLevel.NONE
    rows: list[RiskRow] = []
    append = rows.append
    for cid, name, owner_id, owner, owner_active, tier, city in customers:
        revenue, recent, before = revenues.get(cid, no_revenue)
        rhythm = rhythms.get(cid)
        first: date | None = None
        last: date | None = None
        median: float | None = None
        since: int | None = None
        order_days = 0
        if rhythm is not None:
            first, last, order_days, median = rhythm
            since = today_ordinal - rhythm.last.toordinal()
        reasons: list[RiskReason] = []
        if (
            median is not None
            and since is not None
            and order_days >= min_orders
            and since > overdue_factor * median
            and since >= overdue_min_days
        ):
            reasons.append(RiskReason(Reason.OVERDUE, {"interval": round(median), "days": since}))
        if before >= decline_min and before > 0:
            change = (recent - before) / before
            if change <= -decline_drop:
                reasons.append(
                    RiskReason(
                        Reason.DECLINING, {"months": decline_months, "drop": round(-change * 100)}
                    )
                )
        complaint = complaints.get(cid)
        if complaint is not None:
            reasons.append(RiskReason(Reason.OPEN_COMPLAINT, complaint))
        falling = satisfaction.get(cid)
        if falling is not None:
            reasons.append(RiskReason(Reason.SATISFACTION_FALLING, falling))
        contact = contact_days.get(cid)
        if reasons:
            silent = today_ordinal - contact.toordinal() if contact is not None else None
            if silent is None or silent >= no_contact_days:
                # Every reason so far is a warning sign: silence from our side now matters.
                reasons.append(RiskReason(Reason.NO_CONTACT, {"days": silent}))
        if owner_id is None:
            reasons.append(RiskReason(Reason.UNASSIGNED))
        elif not owner_active:
            reasons.append(RiskReason(Reason.OWNER_INACTIVE, {"owner": owner or "?"}))
        append(
            RiskRow(
                cid,
                name,
                owner_id,
                owner,
                bool(owner_active) if owner_id is not None else False,
                tier,
                city,
                _level(reasons) if reasons else none,
                tuple(reasons),
                round(revenue, 2),
                last,
                first,
                order_days,
                median,
                since,
                contact,
            )
        )
    progress.report(steps, steps, "Done.")
    return rows


# ---------------------------------------------------------------------------------------
# Filtering, sorting, and the in-memory cache


def filter_rows(
    rows: Iterable[RiskRow],
    *,
    owner_id: int | None = None,
    tier: Tier | str | None = None,
    city: str | None = None,
    reason: Reason | str | None = None,
    min_level: RiskLevel = RiskLevel.LOW,
    text: str | None = None,
) -> list[RiskRow]:
    """Rows at ``min_level`` or above matching every filter given, by revenue at stake.

    ``text`` finds rows whose name, owner or city contains it (case and width folded).
    Revenue at stake is the trailing 12 months' revenue; ties go by level, then name.
    """
    wanted_city = city.strip().casefold() if city else None
    needle = _fold(text) if text and text.strip() else None
    floor = LEVEL_ORDER[RiskLevel(min_level)]
    picked = [
        r
        for r in rows
        if LEVEL_ORDER[r.level] >= floor
        and (owner_id is None or r.owner_id == owner_id)
        and (tier is None or (r.tier is not None and r.tier.value == str(tier)))
        and (wanted_city is None or (r.city or "").strip().casefold() == wanted_city)
        and (reason is None or str(reason) in r.codes)
        and (needle is None or needle in _fold(f"{r.name}\n{r.owner or ''}\n{r.city or ''}"))
    ]
    picked.sort(key=lambda r: (-r.revenue_12m, -LEVEL_ORDER[r.level], r.name, r.id))
    return picked


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def at_risk(
    session: Session,
    *,
    today: date | None = None,
    settings: RiskSettings | None = None,
    owner_id: int | None = None,
    tier: Tier | str | None = None,
    city: str | None = None,
    reason: Reason | str | None = None,
    min_level: RiskLevel = RiskLevel.LOW,
) -> list[RiskRow]:
    """The customers currently at risk, sorted by revenue at stake (12 months), filtered."""
    rows = assess(session, today, settings)
    return filter_rows(
        rows, owner_id=owner_id, tier=tier, city=city, reason=reason, min_level=min_level
    )


@dataclass(frozen=True)
class RiskSnapshot:
    """One assessment of the whole book and when it was made."""

    rows: tuple[RiskRow, ...]
    computed_at: datetime
    today: date
    rates: ExchangeRates  # revenue is in their home currency
    # currency → sales of the last 12 months left out of revenue: no exchange rate
    unconverted: Mapping[str, int] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.rates.home

    def counts(self) -> dict[RiskLevel, int]:
        result = dict.fromkeys(RiskLevel, 0)
        for row in self.rows:
            result[row.level] += 1
        return result


_snapshots: weakref.WeakKeyDictionary[Database, RiskSnapshot] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def cached(db: Database) -> RiskSnapshot | None:
    """The last assessment made for this database in this process, if any."""
    with _lock:
        return _snapshots.get(db)


def refresh(
    db: Database,
    *,
    today: date | None = None,
    progress: Progress | None = None,
    update_tiers: bool = False,
) -> RiskSnapshot:
    """Assess the whole book in a session of its own (safe on a worker thread) and cache it.

    With ``update_tiers`` the A/B/C value tiers are brought up to date first (only the
    customers whose tier changes are written), so the list shows today's tiers.
    """
    today = today or date.today()
    if update_tiers:
        with db.session() as session:
            recompute_tiers(session, today)
    with db.new_session() as session:
        rates = load_rates(session)
        rows = assess(session, today, progress=progress, rates=rates)
        missing = unconverted_orders(session, rates, since=today - timedelta(days=365))
    snapshot = RiskSnapshot(tuple(rows), utcnow(), today, rates, missing)
    with _lock:
        _snapshots[db] = snapshot
    return snapshot


def forget(db: Database) -> None:
    with _lock:
        _snapshots.pop(db, None)


# ---------------------------------------------------------------------------------------
# The report file (CLI ``smbcrm risk --report``; the screen's "Save list")

REPORT_COLUMNS = (
    "ID",
    "Name",
    "Owner",
    "Tier",
    "City",
    "Risk",
    "Reason codes",
    "Reasons",
    "Revenue (12 months)",
    "Last order",
)


def report_rows(rows: Iterable[RiskRow], lang: str = "en") -> list[tuple[Any, ...]]:
    """Report cells per row, typed: ints, strings, a float amount and a date (or None)."""
    return [
        (
            r.id,
            r.name,
            r.owner or "",
            r.tier.value if r.tier is not None else "",
            r.city or "",
            r.level.value,
            ", ".join(r.codes),
            r.text(lang),
            r.revenue_12m,
            r.last_order,
        )
        for r in rows
    ]


def write_report(
    path: Path,
    rows: Sequence[RiskRow],
    *,
    session: Session | None = None,
    actor: User | None = None,
    lang: str = "en",
) -> int:
    """Write ``rows`` to ``path`` (.xlsx or .csv); logs the export when given a session.

    Excel: text written as text (never formulas), amounts as numbers, dates as real dates.
    CSV: the exports' own writer — UTF-8 with a byte-order mark, so Excel on Chinese Windows
    reads it right, and a name such as ``=HYPERLINK(…)`` neutralised so Excel does not run it.
    """
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationError(
            {"report": f"Save the report as .xlsx or .csv, not '{path.suffix or path.name}'."}
        )
    # Imported here: the export package builds its at-risk sheet on this module.
    from smbcrm.services.export.workbook import check_folder, save_sheet, writing_to

    check_folder(path)
    cells = report_rows(rows, lang)
    if suffix == ".csv":
        save_sheet(path, _report_sheet(cells))
    else:
        with writing_to(path):
            _write_xlsx(path, cells)
    if session is not None:
        session.add(
            ExportEntry(
                user_id=actor.id if actor else None,
                kind="at-risk",
                row_count=len(cells),
                file_name=str(path),
                filters={"lang": lang},
            )
        )
        session.flush()
    return len(cells)


def _report_sheet(cells: list[tuple[Any, ...]]) -> Sheet:
    """The report as an export sheet; its titles stay English in both languages, as
    automation reads them."""
    from smbcrm.services.export.workbook import Column, ColumnKind, Sheet

    kinds = {0: ColumnKind.INTEGER, 8: ColumnKind.MONEY, 9: ColumnKind.DATE}
    columns = [
        Column(title, title, kinds.get(i, ColumnKind.TEXT))
        for i, title in enumerate(REPORT_COLUMNS)
    ]
    return Sheet("At risk", columns, cells, len(cells))


def _write_xlsx(path: Path, cells: list[tuple[Any, ...]]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    try:
        sheet = workbook.add_worksheet("At risk")
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for col, title in enumerate(REPORT_COLUMNS):
            sheet.write_string(0, col, title, bold)
        for r, row in enumerate(cells, start=1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, date):
                    sheet.write_datetime(r, col, datetime(value.year, value.month, value.day), day)
                elif isinstance(value, float):
                    sheet.write_number(r, col, value, money)
                elif isinstance(value, int):
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, str(value))
        widths = (8, 36, 16, 5, 12, 8, 28, 70, 18, 12)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(cells), 1), len(REPORT_COLUMNS) - 1)
    finally:
        workbook.close()


# ---------------------------------------------------------------------------------------
# Acting on a row


def reassign(
    session: Session, actor: User | None, customer_id: int, to_user_id: int | None
) -> bool:
    """Give the customer to someone else (recorded as an ownership change); False if no change."""
    from smbcrm.services.ownership import assign_customer

    return assign_customer(session, actor, customer_id, to_user_id, reason="At-risk review")
