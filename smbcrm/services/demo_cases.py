"""Service cases for the demo company: promises, a working calendar and about 60 cases.

``add_demo_cases`` runs inside ``create_demo_company``'s transaction, after the customers,
staff and activities exist. It sets a Shanghai working calendar with this year's public
holidays and make-up days, service promises for four categories (Chinese and English
names), and cases over the last four months: most resolved (some late, some on first
contact), a few still open — on time, due soon and past their promise — with the calls
that answered them and the customers' satisfaction ratings. Two customers' ratings have
been falling, so the at-risk list shows that reason too. About 60 small ORM rows: it adds
well under a second to the demo.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from smbcrm.models import (
    Activity,
    ActivityKind,
    Case,
    CaseKind,
    CaseSeverity,
    CaseStatus,
    Customer,
    CustomerStatus,
    SatisfactionRating,
    ServicePromise,
    Setting,
    User,
    utcnow,
)
from smbcrm.services.cases import due_times
from smbcrm.services.working_time import WorkingCalendar, add_working_minutes

DEMO_TIMEZONE = "Asia/Shanghai"
# Public holidays on weekdays and the weekend days worked instead (调休), 2026–2027.
_HOLIDAYS = (
    "2026-01-01",
    "2026-01-02",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-02-23",
    "2026-04-06",
    "2026-05-01",
    "2026-05-04",
    "2026-05-05",
    "2026-06-19",
    "2026-09-25",
    "2026-10-01",
    "2026-10-02",
    "2026-10-05",
    "2026-10-06",
    "2026-10-07",
    "2027-01-01",
)
_MAKEUP_DAYS = (
    "2026-01-04",
    "2026-02-14",
    "2026-02-28",
    "2026-05-09",
    "2026-09-20",
    "2026-10-10",
)

_DAY = 9 * 60  # the demo's working day: 09:00–18:00


@dataclass(frozen=True)
class _Category:
    name: str
    kind: CaseKind
    response: int | None
    resolution: int | None
    warn: int
    zh: tuple[tuple[str, str], ...]  # (title, description)
    en: tuple[tuple[str, str], ...]


_CATEGORIES = (
    _Category(
        "送货 Delivery",
        CaseKind.COMPLAINT,
        4 * 60,
        2 * _DAY,
        60,
        (
            ("货物延迟三天未到", "客户说订单承诺周一送到，到周四还没收到，产线在等料。"),
            ("送错型号", "收到的是 M6 螺栓，订单是 M8，要求尽快换货。"),
            ("外箱破损", "两箱外包装压坏，部分零件划伤，客户拍了照片。"),
            ("少发一箱", "签收时发现少了一箱，物流单上是 12 箱，实际 11 箱。"),
        ),
        (
            ("Shipment three days late", "Promised for Monday, still not arrived on Thursday."),
            ("Wrong model delivered", "Received M6 bolts; the order says M8. Wants an exchange."),
            (
                "Cartons damaged in transit",
                "Two cartons crushed, some parts scratched; photos sent.",
            ),
            ("One carton short", "Delivery note says 12 cartons, 11 arrived."),
        ),
    ),
    _Category(
        "质量 Quality",
        CaseKind.COMPLAINT,
        2 * 60,
        3 * _DAY,
        60,
        (
            ("产品尺寸偏差", "抽检 50 件有 6 件超出公差，客户要求 8D 报告。"),
            ("表面生锈", "到货一周后表面出现锈点，怀疑防锈油不够。"),
            ("电机异响", "安装后运行有异响，客户要求派人现场查看。"),
        ),
        (
            (
                "Parts out of tolerance",
                "6 of 50 sampled parts out of tolerance; wants an 8D report.",
            ),
            ("Rust spots after a week", "Rust appeared a week after delivery."),
            ("Motor noise after installation", "Asks for a technician to come and look."),
        ),
    ),
    _Category(
        "账单 Billing",
        CaseKind.REQUEST,
        _DAY,
        5 * _DAY,
        120,
        (
            ("发票抬头错误", "增值税专用发票抬头写错，需要作废重开。"),
            ("对账单金额不符", "客户对账比我们少 3,200 元，需要逐笔核对。"),
        ),
        (
            ("Invoice made out to the wrong name", "Needs the VAT invoice cancelled and reissued."),
            (
                "Statement does not match",
                "Their ledger is 3,200 short of ours; check line by line.",
            ),
        ),
    ),
    _Category(
        "咨询 Product question",
        CaseKind.QUESTION,
        4 * 60,
        _DAY,
        60,
        (
            ("能否提供材质证明", "客户的客户要求提供材质证明和 RoHS 报告。"),
            ("替代型号咨询", "原型号停产，问有没有可直接替换的型号。"),
        ),
        (
            ("Material certificates", "Their customer asks for material certificates and RoHS."),
            ("Replacement for a discontinued model", "Is there a drop-in replacement?"),
        ),
    ),
)
_RESOLUTIONS = {
    True: (
        "已补发/更换，客户确认收货。",
        "已电话解释并发送资料，客户满意。",
        "已重开发票并快递寄出。",
    ),
    False: (
        "Replacement sent; the customer confirmed receipt.",
        "Explained on the phone and sent the documents.",
        "Invoice reissued and sent by courier.",
    ),
}
_RESPONSES = {
    True: ("已致电客户，了解情况并道歉", "微信回复客户，确认处理方案", "已安排仓库核查"),
    False: (
        "Called the customer and apologised",
        "Replied on WeChat with a plan",
        "Warehouse asked to check",
    ),
}
_COMMENTS = {
    5: ("处理很快，谢谢！", "Quick and friendly, thanks."),
    4: ("还可以，希望下次更快", "Fine, could be faster."),
    3: ("一般", "OK."),
    2: ("等了太久", "Waited far too long."),
    1: ("非常失望，考虑换供应商", "Very disappointed; looking at other suppliers."),
}


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def demo_calendar() -> WorkingCalendar:
    return WorkingCalendar(
        holidays=frozenset(date.fromisoformat(d) for d in _HOLIDAYS),
        makeup_days=frozenset(date.fromisoformat(d) for d in _MAKEUP_DAYS),
        timezone=DEMO_TIMEZONE,
    )


@dataclass(frozen=True)
class DemoCases:
    cases: int
    activities: int  # the calls and messages logged on the cases
    ratings: int


def add_demo_cases(
    session: Session, *, today: date, seed: int = 2024, count: int = 60
) -> DemoCases:
    """Add the calendar, promises, cases, their calls and messages, and ratings."""
    rng = random.Random(seed * 31 + 7)
    calendar = demo_calendar()
    for key, value in calendar.to_settings().items():
        session.merge(Setting(key=key, value=value))
    promises = {}
    for category in _CATEGORIES:
        promise = ServicePromise(
            category=category.name,
            first_response_minutes=category.response,
            resolution_minutes=category.resolution,
            warn_minutes=category.warn,
        )
        session.add(promise)
        promises[category.name] = promise
    session.flush()

    staff = {
        u.id: u
        for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
    }
    customers = list(
        session.execute(
            select(Customer.id, Customer.name, Customer.owner_id)
            .where(
                Customer.status == CustomerStatus.ACTIVE,
                Customer.archived_at.is_(None),
                Customer.merged_into_id.is_(None),
                Customer.owner_id.in_(staff),
            )
            .order_by(Customer.id)
        )
    )
    if not customers or not staff:
        return DemoCases(0, 0, 0)
    # "Now" for the demo: the real clock when the demo is made today, else noon of ``today``.
    now = utcnow() if today == date.today() else calendar.to_utc(datetime.combine(today, time(12)))
    builder = _Builder(session, rng, calendar, now, promises, staff)
    # A few customers complain again and again; most have one case.
    repeaters = rng.sample(customers, min(4, len(customers)))
    picks = [rng.choice(customers) for _ in range(count - 2 * len(repeaters))]
    picks += [c for c in repeaters for _ in range(2)]
    rng.shuffle(picks)
    open_plan = ["overdue-response", "overdue", "overdue", "due-soon", "fresh", "fresh", "fresh"]
    for i, (cid, name, owner_id) in enumerate(picks):
        plan = open_plan[i] if i < len(open_plan) else "resolved"
        builder.add_case(cid, name, owner_id or next(iter(staff)), plan)
    falling = [c for c in customers if c not in repeaters][:2]
    for cid, name, _owner in falling:
        builder.add_falling_ratings(cid, _is_chinese(name))
    session.flush()
    return DemoCases(builder.cases, builder.activities, builder.ratings)


class _Builder:
    def __init__(
        self,
        session: Session,
        rng: random.Random,
        calendar: WorkingCalendar,
        now: datetime,
        promises: dict[str, ServicePromise],
        staff: dict[int, User],
    ) -> None:
        self.session = session
        self.rng = rng
        self.calendar = calendar
        self.now = now
        self.promises = promises
        self.staff = staff
        self.cases = 0
        self.activities = 0
        self.ratings = 0

    def working_moment_before(self, working_minutes: int) -> datetime:
        """A moment during working hours about ``working_minutes`` of work before now."""
        local_now = self.calendar.to_local(self.now)
        day = local_now.date()
        remaining = working_minutes
        while True:
            periods = self.calendar.periods_on(day)
            for start, end in reversed(periods):
                top = (
                    min(end, local_now.hour * 60 + local_now.minute)
                    if day == local_now.date()
                    else end
                )
                if top <= start:
                    continue
                if remaining <= top - start:
                    minute = top - remaining
                    local = datetime.combine(day, time()) + timedelta(minutes=minute)
                    return self.calendar.to_utc(local)
                remaining -= top - start
            day -= timedelta(days=1)

    def add_case(self, customer_id: int, name: str, owner_id: int, plan: str) -> None:
        rng = self.rng
        zh = _is_chinese(name)
        category = rng.choices(_CATEGORIES, weights=(45, 25, 15, 15))[0]
        promise = self.promises[category.name]
        resolution_minutes = category.resolution or 3 * _DAY
        response_minutes = category.response or 4 * 60
        if plan == "overdue-response":
            age = response_minutes + rng.randint(60, 240)
        elif plan == "overdue":
            age = resolution_minutes + rng.randint(_DAY // 2, 3 * _DAY)
        elif plan == "due-soon":
            age = resolution_minutes - rng.randint(10, max(promise.warn_minutes - 5, 15))
        elif plan == "fresh":
            age = rng.randint(30, max(response_minutes - 30, 45))
        else:
            age = rng.randint(2 * resolution_minutes, 80 * _DAY)
        opened = self.working_moment_before(age)
        response_due, resolution_due = due_times(opened, promise, self.calendar)
        title, description = rng.choice(category.zh if zh else category.en)
        severity = rng.choices(list(CaseSeverity), weights=(15, 55, 22, 8))[0]
        assignee = owner_id if rng.random() < 0.85 else rng.choice(list(self.staff))
        case = Case(
            customer_id=customer_id,
            kind=category.kind,
            category=category.name,
            severity=severity,
            status=CaseStatus.OPEN,
            title=title,
            description=description,
            assignee_id=assignee,
            created_by_id=assignee,
            opened_at=opened,
            response_due_at=response_due,
            resolution_due_at=resolution_due,
            created_at=opened,
            updated_at=opened,
        )
        self.session.add(case)
        self.session.flush()
        self.cases += 1
        if plan in ("overdue-response", "fresh"):
            return
        # Most answers come within the promise; one in six is late.
        late = rng.random() < 1 / 6
        answer_after = (
            response_minutes + rng.randint(30, 300) if late else rng.randint(5, response_minutes)
        )
        first = add_working_minutes(opened, answer_after, self.calendar)
        if plan in ("overdue", "due-soon"):
            first = min(first, self.now - timedelta(minutes=5))
            self._contact(case, first, zh)
            return
        on_first_contact = rng.random() < 0.35
        if on_first_contact:
            resolved = first + timedelta(minutes=rng.randint(5, 40))
        else:
            slow = rng.random() < 0.15
            taken = (
                resolution_minutes + rng.randint(60, 2 * _DAY)
                if slow
                else rng.randint(answer_after + 30, max(resolution_minutes, answer_after + 60))
            )
            resolved = add_working_minutes(opened, taken, self.calendar)
        resolved = min(resolved, self.now - timedelta(minutes=1))
        self._contact(case, first, zh)
        if not on_first_contact and resolved - first > timedelta(hours=3):
            middle = first + (resolved - first) / 2
            self._contact(case, middle, zh)
        case.first_response_at = first
        case.status = CaseStatus.RESOLVED
        case.resolved_at = resolved
        case.resolution = rng.choice(_RESOLUTIONS[zh])
        case.resolved_on_first_contact = on_first_contact
        case.updated_at = resolved
        if rng.random() < 0.7:
            on_time = resolution_due is None or resolved <= resolution_due
            score = rng.choices(
                (5, 4, 3, 2, 1), weights=(50, 35, 10, 4, 1) if on_time else (10, 25, 30, 25, 10)
            )[0]
            self.ratings += 1
            self.session.add(
                SatisfactionRating(
                    customer_id=case.customer_id,
                    case_id=case.id,
                    score=score,
                    comment=_COMMENTS[score][0 if zh else 1] if rng.random() < 0.6 else None,
                    recorded_at=resolved + timedelta(hours=rng.randint(1, 48)),
                    recorded_by_id=assignee,
                )
            )

    def _contact(self, case: Case, at: datetime, zh: bool) -> None:
        kind = self.rng.choice(
            (ActivityKind.CALL, ActivityKind.CALL, ActivityKind.MESSAGE, ActivityKind.EMAIL)
        )
        subject = self.rng.choice(_RESPONSES[zh])
        self.activities += 1
        self.session.add(
            Activity(
                customer_id=case.customer_id,
                user_id=case.assignee_id,
                kind=kind,
                occurred_at=at,
                subject=f"{subject}（#{case.id}）" if zh else f"{subject} (case #{case.id})",
                case_id=case.id,
                created_at=at,
            )
        )
        if case.first_response_at is None or at < case.first_response_at:
            case.first_response_at = at

    def add_falling_ratings(self, customer_id: int, zh: bool) -> None:
        """Visits rated well months ago, then two poor ratings lately."""
        for days_ago, score in ((150, 5), (110, 5), (70, 4), (25, 2), (6, 1)):
            when = self.now - timedelta(days=days_ago)
            self.ratings += 1
            self.session.add(
                SatisfactionRating(
                    customer_id=customer_id,
                    score=score,
                    comment=_COMMENTS[score][0 if zh else 1] if score <= 2 else None,
                    recorded_at=when,
                )
            )
