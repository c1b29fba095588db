"""Service cases, promises and satisfaction on crafted histories (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from smbcrm.errors import ConflictError, PermissionDenied, ValidationError
from smbcrm.models import (
    ActivityKind,
    Case,
    CaseKind,
    CaseStatus,
    Customer,
    Database,
    Role,
    SatisfactionRating,
    User,
    utcnow,
)
from smbcrm.services import cases
from smbcrm.services.activities import ActivityInput, log_activity
from smbcrm.services.cases import CaseFilter, CaseInput, CaseScope, CaseState, PromiseInput
from smbcrm.services.working_time import WorkingCalendar, save_calendar
from tests.conftest import add_user
from tests.factories import make_customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOLIDAY = date(2026, 11, 16)  # a Monday


def sh(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """Shanghai wall-clock time as stored (naive UTC)."""
    local = datetime(y, m, d, h, mi, tzinfo=SHANGHAI)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


CALENDAR = WorkingCalendar(timezone="Asia/Shanghai", holidays=frozenset({HOLIDAY}))


@pytest.fixture
def setup(company: Database, owner: User) -> Database:
    """Acme with a Shanghai calendar (holiday 16 Nov) and two promises."""
    with company.session() as session:
        boss = session.get_one(User, owner.id)
        save_calendar(session, boss, CALENDAR)
        cases.save_promise(session, boss, PromiseInput("Delivery 送货", 240, 2 * 540, 60))
        cases.save_promise(session, boss, PromiseInput("Quality", 120, None, 30))
    return company


def boss_of(session: Session) -> User:
    from smbcrm.services import auth

    return auth.find_user(session, "boss")


def open_on(
    session: Session,
    customer: Customer,
    opened: datetime,
    *,
    category: str = "Delivery 送货",
    kind: CaseKind = CaseKind.COMPLAINT,
    actor: User | None = None,
    **fields: object,
) -> Case:
    return cases.open_case(
        session,
        actor or boss_of(session),
        CaseInput(
            customer_id=customer.id,
            title=str(fields.pop("title", "Late delivery")),
            kind=kind,
            category=category,
            opened_at=opened,
            **fields,  # type: ignore[arg-type]
        ),
        now=opened,
    )


def test_due_times_come_from_the_promise_in_working_time(setup: Database) -> None:
    with setup.session() as session:
        c = make_customer(session, "华强电子")
        # Friday 16:00; Monday a holiday: 2 h Friday, then Tuesday.
        case = open_on(session, c, sh(2026, 11, 13, 16))
        assert case.response_due_at == sh(2026, 11, 17, 11)
        # 2 working days = 18 h: 2 h Friday, 9 h Tuesday, 7 h Wednesday.
        assert case.resolution_due_at == sh(2026, 11, 18, 16)
        # Categories match whatever the case and spacing.
        other = open_on(session, c, sh(2026, 11, 13, 16), category="  delivery   送货 ")
        assert other.response_due_at == case.response_due_at
        none = open_on(session, c, sh(2026, 11, 13, 16), category="Billing")
        assert none.response_due_at is None and none.resolution_due_at is None
        assert cases.case_state(none, sh(2026, 12, 30), calendar=CALENDAR) == CaseState.ON_TIME


def test_case_state_over_time(setup: Database) -> None:
    with setup.session() as session:
        case = open_on(session, make_customer(session), sh(2026, 11, 13, 16))

        def state(at: datetime) -> CaseState:
            return cases.case_state(case, at, warn_minutes=60, calendar=CALENDAR)

        assert state(sh(2026, 11, 13, 17)) == CaseState.ON_TIME
        # Over the weekend and the holiday nothing runs: still 2 working hours left.
        assert state(sh(2026, 11, 16, 23)) == CaseState.ON_TIME
        assert state(sh(2026, 11, 17, 10, 30)) == CaseState.DUE_SOON
        assert state(sh(2026, 11, 17, 11)) == CaseState.RESPONSE_OVERDUE
        case.first_response_at = sh(2026, 11, 17, 10)
        assert state(sh(2026, 11, 17, 12)) == CaseState.ON_TIME
        assert state(sh(2026, 11, 18, 15, 30)) == CaseState.DUE_SOON
        assert state(sh(2026, 11, 18, 16)) == CaseState.RESOLUTION_OVERDUE
        case.status, case.resolved_at = CaseStatus.RESOLVED, sh(2026, 11, 18, 17)
        assert state(sh(2026, 11, 20)) == CaseState.RESOLVED_LATE
        case.resolved_at = sh(2026, 11, 18, 15)
        assert state(sh(2026, 11, 20)) == CaseState.RESOLVED


def test_logging_a_contact_on_the_case_is_its_first_response(setup: Database) -> None:
    with setup.session() as session:
        boss = boss_of(session)
        c = make_customer(session, "Bolt Ltd")
        case = open_on(session, c, sh(2026, 11, 17, 9))
        note = ActivityInput(ActivityKind.NOTE, "Asked the warehouse", case_id=case.id)
        log_activity(session, boss, c.id, note)
        assert case.first_response_at is None  # a note to ourselves is not a response
        call = ActivityInput(
            ActivityKind.CALL, "Called back", occurred_at=sh(2026, 11, 17, 10), case_id=case.id
        )
        activity = log_activity(session, boss, c.id, call)
        assert activity.case_id == case.id
        assert case.first_response_at == sh(2026, 11, 17, 10)
        later = ActivityInput(
            ActivityKind.EMAIL, "Sent tracking", occurred_at=sh(2026, 11, 17, 15), case_id=case.id
        )
        log_activity(session, boss, c.id, later)
        assert case.first_response_at == sh(2026, 11, 17, 10)
        # A case is linked only to contacts with its own customer.
        other = make_customer(session, "Someone else")
        with pytest.raises(ValidationError, match="another customer"):
            log_activity(
                session, boss, other.id, ActivityInput(ActivityKind.CALL, "x", case_id=case.id)
            )


def test_record_response_logs_an_activity(setup: Database) -> None:
    with setup.session() as session:
        c = make_customer(session)
        case = open_on(session, c, sh(2026, 11, 17, 9))
        activity = cases.record_response(
            session, boss_of(session), case.id, "Apologised, new shipment tomorrow",
            kind=ActivityKind.MESSAGE, at=sh(2026, 11, 17, 9, 40),
        )  # fmt: skip
        assert activity.customer_id == c.id and activity.case_id == case.id
        assert case.first_response_at == sh(2026, 11, 17, 9, 40)
        with pytest.raises(ValidationError, match="note"):
            cases.record_response(session, boss_of(session), case.id, "x", kind=ActivityKind.NOTE)


def test_resolve_with_satisfaction_and_first_contact(setup: Database) -> None:
    with setup.session() as session:
        boss = boss_of(session)
        c = make_customer(session, "Quick Fix Co")
        quick = open_on(session, c, sh(2026, 11, 17, 9))
        cases.record_response(
            session, boss, quick.id, "Fixed on the phone", at=sh(2026, 11, 17, 9, 5)
        )
        cases.resolve_case(
            session, boss, quick.id, "Explained the settings", at=sh(2026, 11, 17, 9, 20),
            score=5, comment="很满意",
        )  # fmt: skip
        assert quick.status == CaseStatus.RESOLVED and quick.resolved_on_first_contact
        rating = session.query(SatisfactionRating).filter_by(case_id=quick.id).one()
        assert (rating.score, rating.comment, rating.customer_id) == (5, "很满意", c.id)

        slow = open_on(session, c, sh(2026, 11, 17, 9))
        cases.record_response(session, boss, slow.id, "Looking into it", at=sh(2026, 11, 17, 10))
        cases.record_response(session, boss, slow.id, "Part ordered", at=sh(2026, 11, 18, 10))
        cases.resolve_case(session, boss, slow.id, "Replaced the part", at=sh(2026, 11, 19, 10))
        assert not slow.resolved_on_first_contact

        # Resolved with no contact logged: the resolution was the first response.
        silent = open_on(session, c, sh(2026, 11, 17, 9))
        cases.resolve_case(session, boss, silent.id, "Refunded", at=sh(2026, 11, 17, 11))
        assert silent.first_response_at == sh(2026, 11, 17, 11)
        assert silent.resolved_on_first_contact

        # Ticking overrides the computation.
        ticked = open_on(session, c, sh(2026, 11, 17, 9))
        cases.record_response(session, boss, ticked.id, "a", at=sh(2026, 11, 17, 10))
        cases.record_response(session, boss, ticked.id, "b", at=sh(2026, 11, 17, 11))
        cases.resolve_case(session, boss, ticked.id, "Done", first_contact=True)
        assert ticked.resolved_on_first_contact

        with pytest.raises(ValidationError, match="already resolved"):
            cases.resolve_case(session, boss, ticked.id, "Again")
        fresh = open_on(session, c, sh(2026, 11, 17, 9))
        with pytest.raises(ValidationError, match="how the case was resolved"):
            cases.resolve_case(session, boss, fresh.id, "  ")
        with pytest.raises(ValidationError, match="from 1"):
            cases.resolve_case(session, boss, fresh.id, "ok", score=6)
        assert fresh.status == CaseStatus.OPEN

        cases.reopen_case(session, boss, quick.id)
        assert quick.status == CaseStatus.OPEN and quick.resolved_at is None
        with pytest.raises(ValidationError, match="still open"):
            cases.reopen_case(session, boss, quick.id)


def test_a_stale_version_is_a_conflict(setup: Database) -> None:
    with setup.session() as session:
        case = open_on(session, make_customer(session), sh(2026, 11, 17, 9))
        stale = case.version
        cases.assign_case(session, boss_of(session), case.id, None)
        session.flush()
        assert case.version != stale
        with pytest.raises(ConflictError, match="changed by someone else"):
            cases.resolve_case(session, boss_of(session), case.id, "x", expected_version=stale)


def test_recategorising_reworks_the_due_times(setup: Database) -> None:
    with setup.session() as session:
        c = make_customer(session)
        case = open_on(session, c, sh(2026, 11, 17, 9))
        data = CaseInput(c.id, "Scratched panel", category="quality", opened_at=case.opened_at)
        cases.update_case(session, boss_of(session), case.id, data)
        assert case.category == "quality" and case.title == "Scratched panel"
        assert case.response_due_at == sh(2026, 11, 17, 11)
        assert case.resolution_due_at is None


def test_opening_checks_the_input(setup: Database) -> None:
    with setup.session() as session:
        boss = boss_of(session)
        archived = make_customer(session, "Old Ltd", archived_at=utcnow())
        with pytest.raises(ValidationError, match="archived"):
            cases.open_case(session, boss, CaseInput(archived.id, "x"))
        live = make_customer(session)
        with pytest.raises(ValidationError, match="few words"):
            cases.open_case(session, boss, CaseInput(live.id, "  "))
        with pytest.raises(ValidationError, match="future"):
            cases.open_case(
                session, boss, CaseInput(live.id, "x", opened_at=utcnow() + timedelta(days=1))
            )
        # The title can come from the description's first line.
        case = cases.open_case(
            session, boss, CaseInput(live.id, "", description="Wrong colour\nall of them")
        )
        assert case.title == "Wrong colour"


def test_assignee_defaults_to_the_customers_salesperson(setup: Database) -> None:
    lily = add_user(setup, "lily", Role.SALES, "Lily Chen")
    with setup.session() as session:
        mine = make_customer(session, "Lily's", owner_id=lily.id)
        pool = make_customer(session, "Pool")
        case = open_on(session, mine, sh(2026, 11, 17, 9))
        assert case.assignee_id == lily.id
        # Sales staff work cases on any customer they can see; unowned ones become theirs.
        sales = session.get_one(User, lily.id)
        pooled = open_on(session, pool, sh(2026, 11, 17, 9), actor=sales)
        assert pooled.assignee_id == lily.id and pooled.created_by_id == lily.id
        sales.active = False
        session.flush()
        with pytest.raises(PermissionDenied):
            open_on(session, pool, sh(2026, 11, 17, 9), actor=sales)


def test_lists_and_filters(setup: Database) -> None:
    lily = add_user(setup, "lily", Role.SALES, "Lily Chen")
    now = sh(2026, 11, 18, 10)
    with setup.session() as session:
        a = make_customer(session, "Alpha 阿尔法")
        b = make_customer(session, "Beta")
        overdue = open_on(session, a, sh(2026, 11, 13, 16), title="Lost parcel")  # response overdue
        # Quality promises 2 h and warns 30 min ahead: due 10:30 Wednesday.
        soon = open_on(session, b, sh(2026, 11, 17, 17, 30), category="Quality", title="Scratch")
        fine = open_on(session, b, sh(2026, 11, 18, 9), assignee_id=lily.id, title="Invoice copy")
        done = open_on(session, a, sh(2026, 11, 17, 9), title="Wrong size")
        cases.resolve_case(session, boss_of(session), done.id, "Exchanged", at=sh(2026, 11, 17, 12))
        ids = overdue.id, soon.id, fine.id, done.id

    def listed(**kwargs: object) -> list[int]:
        with setup.new_session() as session:
            flt = CaseFilter(**kwargs)  # type: ignore[arg-type]
            return [r.id for r in cases.list_cases(session, flt, now=now)]

    # Open cases, most urgent first: overdue, due soon, on time.
    assert listed() == [ids[0], ids[1], ids[2]]
    assert listed(scope=CaseScope.OVERDUE) == [ids[0]]
    assert listed(scope=CaseScope.DUE_SOON) == [ids[1]]
    assert listed(scope=CaseScope.MINE, user_id=lily.id) == [ids[2]]
    assert set(listed(scope=CaseScope.ALL)) == set(ids)
    assert listed(scope=CaseScope.ALL, text="阿尔法") == [ids[3], ids[0]]
    assert listed(scope=CaseScope.ALL, text=f"#{ids[2]}") == [ids[2]]
    assert listed(category="QUALITY") == [ids[1]]
    with setup.new_session() as session:
        rows = cases.list_cases(session, CaseFilter(scope=CaseScope.ALL), now=now)
        by_id = {r.id: r for r in rows}
        assert by_id[ids[0]].state == CaseState.RESPONSE_OVERDUE
        assert by_id[ids[3]].state == CaseState.RESOLVED
        assert by_id[ids[2]].assignee == "Lily Chen"
        counts = cases.case_counts(session, lily.id, now=now)
        assert (counts.open, counts.overdue, counts.due_soon, counts.mine) == (3, 1, 1, 1)


def test_promises_are_for_owners_and_managers(setup: Database) -> None:
    lily = add_user(setup, "lily", Role.SALES)
    with setup.session() as session:
        sales = session.get_one(User, lily.id)
        with pytest.raises(PermissionDenied):
            cases.save_promise(session, sales, PromiseInput("Billing", 60, 600))
        boss = boss_of(session)
        with pytest.raises(ValidationError, match="already a promise"):
            cases.save_promise(session, boss, PromiseInput(" quality ", 60, 600))
        with pytest.raises(ValidationError, match="sooner than the first response"):
            cases.save_promise(session, boss, PromiseInput("Billing", 600, 60))
        with pytest.raises(ValidationError, match="or both"):
            cases.save_promise(session, boss, PromiseInput("Billing", None, None))
        billing = cases.save_promise(session, boss, PromiseInput("Billing 账单", 60, 600))
        assert cases.promise_for(session, "billing 账单") is billing
        cases.save_promise(session, boss, PromiseInput("Billing 账单", 30, 600), billing.id)
        assert billing.first_response_minutes == 30
        assert [p.category for p in cases.list_promises(session)] == [
            "Billing 账单", "Delivery 送货", "Quality",
        ]  # fmt: skip
        cases.delete_promise(session, boss, billing.id)
        assert cases.promise_for(session, "Billing 账单") is None
        assert cases.category_choices(session)[:2] == ["Delivery 送货", "Quality"]


def test_satisfaction_is_checked_and_one_per_case(setup: Database) -> None:
    with setup.session() as session:
        boss = boss_of(session)
        c = make_customer(session)
        other = make_customer(session)
        case = open_on(session, c, sh(2026, 11, 17, 9))
        for bad in (0, 6, True):
            with pytest.raises(ValidationError, match="from 1"):
                cases.record_satisfaction(session, boss, c.id, bad)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="not this customer's"):
            cases.record_satisfaction(session, boss, other.id, 4, case_id=case.id)
        first = cases.record_satisfaction(session, boss, c.id, 2, "slow", case_id=case.id)
        again = cases.record_satisfaction(session, boss, c.id, 4, "sorted now", case_id=case.id)
        assert first.id == again.id and again.score == 4 and again.comment == "sorted now"
        visit = log_activity(session, boss, c.id, ActivityInput(ActivityKind.VISIT, "Site visit"))
        cases.record_satisfaction(session, boss, c.id, 5, activity_id=visit.id)
        trend = cases.satisfaction_trend(session, c.id)
        assert [r.score for r in trend.ratings] == [5, 4]
        assert trend.average == 4.5 and not trend.is_falling


@pytest.mark.parametrize(
    ("newest_first", "expected"),
    [
        ([2, 3, 5, 5, 4], (2.5, 14 / 3)),  # the last two well below the earlier ones
        ([1, 4], (1, 4)),  # a sudden drop after a good rating
        ([2, 5, 3, 3], (2, 5)),  # sudden drop, though the averages are close
        ([4, 4, 5, 5], None),
        ([3, 3, 4], None),  # down by 1, not 1.5
        ([2, 3], None),
        ([1], None),
        ([], None),
    ],
)
def test_falling_satisfaction_rule(
    newest_first: list[int], expected: tuple[float, float] | None
) -> None:
    found = cases.satisfaction_summary(newest_first)
    if expected is None:
        assert found is None
    else:
        assert found == pytest.approx(expected)


def test_service_figures(setup: Database) -> None:
    lily = add_user(setup, "lily", Role.SALES, "Lily Chen")
    with setup.session() as session:
        boss = boss_of(session)
        a = make_customer(session, "Again Ltd")
        b = make_customer(session, "Once Ltd")
        # Delivery, Lily: answered in 1 h, resolved same call → first contact, promise kept.
        one = open_on(session, a, sh(2026, 10, 5, 9), assignee_id=lily.id)
        cases.record_response(session, boss, one.id, "x", at=sh(2026, 10, 5, 10))
        cases.resolve_case(session, boss, one.id, "ok", at=sh(2026, 10, 5, 10, 30), score=5)
        # Delivery, Lily, same customer 30 days later: a repeat; answered in 6 h (late).
        two = open_on(session, a, sh(2026, 11, 4, 9), assignee_id=lily.id)
        cases.record_response(session, boss, two.id, "x", at=sh(2026, 11, 4, 15))
        cases.record_response(session, boss, two.id, "y", at=sh(2026, 11, 5, 9))
        cases.resolve_case(session, boss, two.id, "ok", at=sh(2026, 11, 5, 17), score=2)
        # Quality, the owner: still open, answered in 2 h.
        three = open_on(session, b, sh(2026, 11, 10, 9), category="Quality")
        cases.record_response(session, boss, three.id, "x", at=sh(2026, 11, 10, 11))
        # A question does not count as a complaint, nor as a repeat.
        open_on(session, a, sh(2026, 11, 11, 9), kind=CaseKind.QUESTION, category="")
        # Outside the period.
        open_on(session, b, sh(2026, 8, 1, 9))

    with setup.new_session() as session:
        figures = cases.service_figures(session, date(2026, 10, 1), date(2026, 12, 1))
    overall = figures.overall
    assert overall.cases == 4 and overall.complaints == 3 and overall.resolved == 2
    assert overall.first_contact_share == 0.5
    assert overall.median_response == 120  # 60, 360, 120 working minutes
    assert overall.response_kept == pytest.approx(2 / 3)
    assert overall.repeat_complaints == 1
    assert overall.average_satisfaction == 3.5
    delivery = next(g for g in figures.by_category if g.label == "Delivery 送货")
    assert delivery.cases == 2 and delivery.promised_response == 240
    assert delivery.median_response == (60 + 360) / 2
    assert delivery.promised_resolution == 1080
    assert delivery.median_resolution == (90 + 1020) / 2  # 1.5 h; 2 days less an hour
    assert delivery.resolution_kept == 1.0
    lily_row = next(g for g in figures.by_person if g.label == "Lily Chen")
    assert lily_row.cases == 2 and lily_row.repeat_complaints == 1
    assert [(r.name, r.complaints, r.repeats) for r in figures.repeat_customers] == [
        ("Again Ltd", 2, 1)
    ]
    assert "(no category)" in {g.label for g in figures.by_category}
    assert figures.day_minutes == 540
