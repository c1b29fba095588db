"""At-risk customers on crafted histories whose truth is known (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from smbcrm.errors import ValidationError
from smbcrm.models import (
    Activity,
    ActivityKind,
    Case,
    Customer,
    CustomerStatus,
    Database,
    FollowUp,
    Setting,
    User,
    utcnow,
)
from smbcrm.services import risk
from smbcrm.services.progress import Progress
from smbcrm.services.risk import Reason, RiskLevel, RiskReason, RiskSettings, explain
from tests.conftest import add_user
from tests.factories import make_customer, make_order

TODAY = date(2026, 6, 30)


def orders_every(
    session: Session,
    customer: Customer,
    *,
    days: int,
    last: date,
    count: int,
    amount: str = "1000.00",
) -> None:
    """``count`` orders ``days`` apart, the newest on ``last``."""
    for i in range(count):
        make_order(session, customer, amount=amount, when=last - timedelta(days=days * i))


def by_id(rows: list[risk.RiskRow], customer_id: int) -> risk.RiskRow:
    return next(r for r in rows if r.id == customer_id)


@pytest.fixture
def sales(company: Database) -> User:
    return add_user(company, "lily", name="Lily Chen")


def assess(db: Database, **kwargs: object) -> list[risk.RiskRow]:
    with db.new_session() as session:
        return risk.assess(session, TODAY, **kwargs)  # type: ignore[arg-type]


def test_monthly_buyer_silent_for_five_months_is_overdue(company: Database, sales: User) -> None:
    with company.session() as session:
        c = make_customer(session, "Silent Monthly Ltd", owner_id=sales.id)
        orders_every(session, c, days=30, last=TODAY - timedelta(days=150), count=12)
        cid = c.id
    row = by_id(assess(company), cid)
    assert "overdue" in row.codes
    assert row.median_interval == 30
    assert row.days_since_order == 150
    assert explain(row.reasons[0]) == "usually orders every 30 days; last order 150 days ago"
    assert row.level in (RiskLevel.MEDIUM, RiskLevel.HIGH)


def test_spend_down_by_three_quarters_is_declining_not_overdue(
    company: Database, sales: User
) -> None:
    with company.session() as session:
        c = make_customer(session, "Shrinking Co", owner_id=sales.id)
        for month in range(12):
            when = TODAY - timedelta(days=15 + 30 * month)
            amount = "250.00" if month < 6 else "1000.00"
            make_order(session, c, amount=amount, when=when)
        cid = c.id
    row = by_id(assess(company), cid)
    # Nobody logged a call either: with falling spend, that silence counts too.
    assert row.codes == ("declining", "no-contact")
    assert row.reasons[0].params == {"months": 6, "drop": 75}
    assert explain(row.reasons[0]) == "last 6 months: −75% against the 6 months before"
    assert explain(row.reasons[0], "zh") == "近 6 个月消费比之前 6 个月下降 75%"
    assert row.level == RiskLevel.HIGH


def test_quarterly_buyer_sixty_days_after_last_order_is_not_flagged(
    company: Database, sales: User
) -> None:
    with company.session() as session:
        c = make_customer(session, "Quarterly GmbH", owner_id=sales.id)
        orders_every(session, c, days=91, last=TODAY - timedelta(days=60), count=8)
        cid = c.id
    row = by_id(assess(company), cid)
    assert row.reasons == ()
    assert row.level == RiskLevel.NONE
    assert row.median_interval == 91


def test_steady_buyer_with_no_logged_calls_is_not_flagged(company: Database, sales: User) -> None:
    with company.session() as session:
        c = make_customer(session, "Steady 稳定贸易", owner_id=sales.id)
        orders_every(session, c, days=30, last=TODAY - timedelta(days=10), count=24)
        cid = c.id
    row = by_id(assess(company), cid)
    assert row.last_contact is None
    assert row.level == RiskLevel.NONE
    assert row.revenue_12m == pytest.approx(12_000.0)


def test_customer_whose_salesperson_left_is_owner_inactive(company: Database, sales: User) -> None:
    with company.session() as session:
        c = make_customer(session, "Orphaned Ltd", owner_id=sales.id)
        orders_every(session, c, days=30, last=TODAY - timedelta(days=5), count=6)
        cid = c.id
        session.get_one(User, sales.id).active = False
    row = by_id(assess(company), cid)
    assert row.codes == ("owner-inactive",)
    assert row.owner == "Lily Chen" and not row.owner_active
    assert row.text() == "their salesperson Lily Chen has left"
    assert row.text("zh") == "负责销售 Lily Chen 已离职"
    assert row.level == RiskLevel.LOW


def test_unassigned_customer(company: Database) -> None:
    with company.session() as session:
        cid = make_customer(session, "Nobody's Ltd").id
    row = by_id(assess(company), cid)
    assert row.codes == ("unassigned",)


def test_no_contact_counts_only_with_another_warning_sign(company: Database, sales: User) -> None:
    with company.session() as session:
        quiet = make_customer(session, "Quiet and gone", owner_id=sales.id)
        orders_every(session, quiet, days=30, last=TODAY - timedelta(days=150), count=12)
        called = make_customer(session, "Gone but called", owner_id=sales.id)
        orders_every(session, called, days=30, last=TODAY - timedelta(days=150), count=12)
        session.add(
            Activity(
                customer_id=called.id,
                kind=ActivityKind.CALL,
                subject="Checked in",
                occurred_at=datetime(2026, 6, 1, 10, 0),
            )
        )
        ids = quiet.id, called.id
    rows = assess(company)
    quiet_row, called_row = by_id(rows, ids[0]), by_id(rows, ids[1])
    assert quiet_row.codes == ("overdue", "declining", "no-contact")
    assert quiet_row.level == RiskLevel.HIGH
    assert explain(quiet_row.reasons[-1]) == "no contact ever logged"
    assert "no-contact" not in called_row.codes
    assert called_row.last_contact == date(2026, 6, 1)


def test_complaint_with_overdue_follow_up_is_open_complaint(company: Database, sales: User) -> None:
    with company.session() as session:
        c = make_customer(session, "Angry Ltd", owner_id=sales.id)
        orders_every(session, c, days=30, last=TODAY - timedelta(days=5), count=6)
        complaint = Activity(customer_id=c.id, kind=ActivityKind.COMPLAINT, subject="Late delivery")
        session.add(complaint)
        session.flush()
        session.add(
            FollowUp(
                customer_id=c.id,
                activity_id=complaint.id,
                title="Call back about the delivery",
                due_date=TODAY - timedelta(days=12),
            )
        )
        done = make_customer(session, "Soothed Ltd", owner_id=sales.id)
        orders_every(session, done, days=30, last=TODAY - timedelta(days=5), count=6)
        solved = Activity(customer_id=done.id, kind=ActivityKind.COMPLAINT, subject="Broken box")
        session.add(solved)
        session.flush()
        session.add(
            FollowUp(
                customer_id=done.id,
                activity_id=solved.id,
                title="Replace the box",
                due_date=TODAY - timedelta(days=12),
                done_at=utcnow(),
            )
        )
        ids = c.id, done.id
    rows = assess(company)
    angry = by_id(rows, ids[0])
    assert angry.codes == ("open-complaint",)
    assert explain(angry.reasons[0]) == "complaint not resolved; follow-up 12 days overdue"
    assert by_id(rows, ids[1]).level == RiskLevel.NONE


def test_only_live_active_customers_are_assessed(company: Database) -> None:
    with company.session() as session:
        prospect = make_customer(session, "Maybe Ltd", status=CustomerStatus.PROSPECT).id
        archived = make_customer(session, "Old Ltd", archived_at=utcnow()).id
        active = make_customer(session, "Live Ltd").id
    ids = {r.id for r in assess(company)}
    assert active in ids and prospect not in ids and archived not in ids


def test_settings_round_trip_and_change_the_verdict(company: Database, sales: User) -> None:
    with company.session() as session:
        c = make_customer(session, "Silent Monthly Ltd", owner_id=sales.id)
        orders_every(session, c, days=30, last=TODAY - timedelta(days=150), count=12)
        cid = c.id
        assert RiskSettings.load(session) == RiskSettings()
        RiskSettings(overdue_factor=6.0, decline_drop=0.95).save(session)
    with company.new_session() as session:
        loaded = RiskSettings.load(session)
        assert session.get(Setting, "risk.overdue_factor") is not None
    assert loaded.overdue_factor == 6.0 and loaded.decline_drop == 0.95
    row = by_id(assess(company), cid)
    assert "overdue" not in row.codes and "declining" not in row.codes
    with pytest.raises(ValidationError, match="at least 1"):
        RiskSettings(overdue_factor=0.5).validate()


def test_at_risk_sorted_by_revenue_and_filtered(company: Database, sales: User) -> None:
    with company.session() as session:
        small = make_customer(session, "Small Lost", owner_id=sales.id, city="Shanghai")
        orders_every(session, small, days=30, last=TODAY - timedelta(days=150), count=12)
        big = make_customer(session, "Big Lost", owner_id=sales.id, city="上海")
        orders_every(
            session, big, days=30, last=TODAY - timedelta(days=150), count=12, amount="9000"
        )
        fine = make_customer(session, "Fine Co", owner_id=sales.id)
        orders_every(session, fine, days=30, last=TODAY - timedelta(days=3), count=12)
        nobody = make_customer(session, "Nobody's", city="Shanghai")
        ids = small.id, big.id, fine.id, nobody.id
    with company.new_session() as session:
        rows = risk.at_risk(session, today=TODAY)
        assert [r.id for r in rows] == [ids[1], ids[0], ids[3]]
        assert risk.at_risk(session, today=TODAY, reason="unassigned")[0].id == ids[3]
        assert [r.id for r in risk.at_risk(session, today=TODAY, owner_id=sales.id)] == [
            ids[1],
            ids[0],
        ]
        assert [r.id for r in risk.at_risk(session, today=TODAY, city=" shanghai")] == [
            ids[0],
            ids[3],
        ]
        high = risk.at_risk(session, today=TODAY, min_level=RiskLevel.MEDIUM)
        assert ids[3] not in {r.id for r in high}


def test_refresh_caches_the_last_result_per_database(company: Database) -> None:
    with company.session() as session:
        make_customer(session, "Nobody's")
    assert risk.cached(company) is None
    steps: list[str] = []
    snapshot = risk.refresh(
        company, today=TODAY, progress=Progress(lambda d, t, m: steps.append(m))
    )
    assert risk.cached(company) is snapshot
    assert snapshot.counts()[RiskLevel.LOW] == 1
    assert steps[-1] == "Done."
    risk.forget(company)
    assert risk.cached(company) is None


def test_explain_every_reason_in_both_languages() -> None:
    samples = [
        RiskReason(Reason.OVERDUE, {"interval": 30, "days": 140}),
        RiskReason(Reason.DECLINING, {"months": 6, "drop": 72}),
        RiskReason(Reason.NO_CONTACT, {"days": 200}),
        RiskReason(Reason.UNASSIGNED),
        RiskReason(Reason.OWNER_INACTIVE, {"owner": "王伟"}),
        RiskReason(Reason.OPEN_COMPLAINT, {"days": 3}),
    ]
    for lang in ("en", "zh"):
        texts = [explain(r, lang) for r in samples]
        assert all(texts) and len(set(texts)) == len(texts)
    assert explain(samples[2], "zh") == "已 200 天没有电话、拜访或消息记录"
    assert explain(samples[0], "fr") == explain(samples[0], "en")


def test_filter_by_text_folds_case_and_width() -> None:
    def row(cid: int, name: str, owner: str, city: str, revenue: float) -> risk.RiskRow:
        reasons = (RiskReason(Reason.UNASSIGNED),)
        return risk.RiskRow(
            cid, name, 1, owner, True, None, city, RiskLevel.LOW, reasons, revenue,
            None, None, 0, None, None, None,
        )  # fmt: skip

    rows = [
        row(1, "深圳华强电子", "王芳", "深圳", 100.0),
        row(2, "Acme Trading", "Lily Chen", "Shanghai", 300.0),
        row(3, "Bolt Ltd", "Wang Fang", "深圳", 200.0),
    ]
    assert [r.id for r in risk.filter_rows(rows, text="ＡＣＭＥ")] == [2]
    assert [r.id for r in risk.filter_rows(rows, text="深圳")] == [3, 1]  # by revenue
    assert [r.id for r in risk.filter_rows(rows, text=" wang ")] == [3]
    assert [r.id for r in risk.filter_rows(rows, text="  ")] == [2, 3, 1]
    assert risk.filter_rows(rows, text="nobody") == []


def test_only_owners_and_managers_change_the_thresholds(company: Database, owner: User) -> None:
    from smbcrm.errors import PermissionDenied
    from smbcrm.models import Role

    db = company
    sales = add_user(db, "li.lei", Role.SALES)
    with db.session() as session, pytest.raises(PermissionDenied):
        risk.save_settings(session, session.get(User, sales.id), RiskSettings(no_contact_days=30))
    with db.session() as session, pytest.raises(ValidationError):
        risk.save_settings(session, session.get(User, owner.id), RiskSettings(decline_drop=1.5))
    with db.session() as session:
        risk.save_settings(session, session.get(User, owner.id), RiskSettings(no_contact_days=30))
    with db.new_session() as session:
        assert RiskSettings.load(session).no_contact_days == 30


# ---------------------------------------------------------------------------------------
# Service cases and satisfaction


def _shanghai_calendar(db: Database) -> None:
    from smbcrm.services import auth
    from smbcrm.services.working_time import WorkingCalendar, save_calendar

    with db.session() as session:
        save_calendar(
            session, auth.find_user(session, "boss"), WorkingCalendar(timezone="Asia/Shanghai")
        )


def test_complaint_case_past_its_promise_is_overdue_and_at_risk(
    company: Database, owner: User, sales: User
) -> None:
    from smbcrm.models import CaseKind
    from smbcrm.services import cases
    from smbcrm.services.cases import CaseFilter, CaseInput, CaseScope, CaseState, PromiseInput

    _shanghai_calendar(company)
    # Thursday 25 June 2026, 10:00 in Shanghai (02:00 UTC); the promise: answer within 4
    # working hours, resolve within 2 working days (due Monday 29 June 10:00).
    opened = datetime(2026, 6, 25, 2, 0)
    with company.session() as session:
        boss = session.get_one(User, owner.id)
        cases.save_promise(session, boss, PromiseInput("Delivery", 240, 2 * 540))

        def customer_with_case(name: str, **case_fields: object) -> int:
            c = make_customer(session, name, owner_id=sales.id)
            orders_every(session, c, days=30, last=TODAY - timedelta(days=5), count=6)
            data = CaseInput(c.id, "Parcel lost", category="Delivery", opened_at=opened)
            for key, value in case_fields.items():
                setattr(data, key, value)
            case = cases.open_case(session, boss, data, now=opened)
            return case.id

        broken = customer_with_case("Waiting Ltd")
        answered = customer_with_case("Answered Ltd")
        cases.record_response(session, boss, answered, "On it", at=opened + timedelta(hours=1))
        resolved = customer_with_case("Sorted Ltd")
        cases.resolve_case(session, boss, resolved, "Resent", at=opened + timedelta(hours=2))
        request = customer_with_case("Asking Ltd", kind=CaseKind.REQUEST)
        ids = {
            session.get_one(Case, i).customer_id: i for i in (broken, answered, resolved, request)
        }
    by_case = {v: k for k, v in ids.items()}
    end_of_today = datetime(2026, 6, 30, 16, 0)  # midnight in Shanghai
    with company.new_session() as session:
        overdue = cases.list_cases(session, CaseFilter(scope=CaseScope.OVERDUE), now=end_of_today)
        states = {r.id: r.state for r in overdue}
    # Unanswered and unresolved past Monday 10:00: resolution overdue, listed as overdue.
    assert states[broken] == CaseState.RESOLUTION_OVERDUE
    assert states[answered] == CaseState.RESOLUTION_OVERDUE
    assert resolved not in states
    rows = assess(company)
    waiting = by_id(rows, by_case[broken])
    # Nobody has answered them at all: our silence is the second warning sign.
    assert waiting.codes == ("open-complaint", "no-contact")
    assert waiting.level == RiskLevel.HIGH
    # The first promise it broke: an answer by 14:00 on the day it was opened.
    assert waiting.reasons[0].params == {"count": 1, "due": "2026-06-25 14:00"}
    assert waiting.text().startswith("complaint past its promised time (was due 2026-06-25 14:00)")
    assert waiting.text("zh").startswith("投诉超过承诺时间仍未处理（应于 2026-06-25 14:00）")
    answered_row = by_id(rows, by_case[answered])
    assert answered_row.codes == ("open-complaint",)
    assert answered_row.level == RiskLevel.MEDIUM
    assert answered_row.reasons[0].params["due"] == "2026-06-29 10:00"
    # Resolved complaints and requests (however late) are not complaints left waiting.
    assert by_id(rows, by_case[resolved]).codes == ()
    assert by_id(rows, by_case[request]).codes == ()
    # Judged earlier, before the resolution was due, only the missed first response counts.
    with company.new_session() as session:
        found = risk.open_complaints(session, TODAY, now=datetime(2026, 6, 26, 2, 0))
    assert set(found) == {by_case[broken]}
    assert found[by_case[broken]]["due"] == "2026-06-25 14:00"


def test_complaint_follow_up_of_a_case_is_judged_by_the_case(
    company: Database, owner: User, sales: User
) -> None:
    from smbcrm.services import cases
    from smbcrm.services.cases import CaseInput

    _shanghai_calendar(company)
    with company.session() as session:
        c = make_customer(session, "On Track Ltd", owner_id=sales.id)
        orders_every(session, c, days=30, last=TODAY - timedelta(days=5), count=6)
        boss = session.get_one(User, owner.id)
        # No promise for the category: the case cannot be overdue.
        case = cases.open_case(
            session, boss, CaseInput(c.id, "Odd noise"), now=datetime(2026, 6, 1, 2)
        )
        complaint = Activity(
            customer_id=c.id, kind=ActivityKind.COMPLAINT, subject="Odd noise", case_id=case.id
        )
        session.add(complaint)
        session.flush()
        session.add(
            FollowUp(
                customer_id=c.id,
                activity_id=complaint.id,
                case_id=case.id,
                title="Call back",
                due_date=TODAY - timedelta(days=10),
            )
        )
        cid = c.id
    assert by_id(assess(company), cid).codes == ()


def _ratings(session: Session, customer: Customer, *scores_and_days: tuple[int, int]) -> None:
    from smbcrm.models import SatisfactionRating

    for score, days_ago in scores_and_days:
        session.add(
            SatisfactionRating(
                customer_id=customer.id,
                score=score,
                recorded_at=datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time())
                + timedelta(hours=3),
            )
        )
    session.flush()


def test_falling_satisfaction_is_a_reason(company: Database, sales: User) -> None:
    with company.session() as session:

        def steady_buyer(name: str) -> Customer:
            c = make_customer(session, name, owner_id=sales.id)
            orders_every(session, c, days=30, last=TODAY - timedelta(days=5), count=6)
            session.add(Activity(customer_id=c.id, kind=ActivityKind.CALL, subject="Hello",
                                 occurred_at=datetime(2026, 6, 20, 10)))  # fmt: skip
            return c

        falling = steady_buyer("Souring Ltd")
        _ratings(session, falling, (5, 300), (5, 200), (4, 120), (2, 40), (2, 10))
        drop = steady_buyer("Suddenly Unhappy")
        _ratings(session, drop, (3, 100), (5, 60), (1, 20))
        happy = steady_buyer("Happy Ltd")
        _ratings(session, happy, (4, 90), (5, 50), (4, 20))
        long_ago = steady_buyer("Old Grudge")
        _ratings(session, long_ago, (5, 800), (5, 700), (1, 500), (1, 400))
        ids = falling.id, drop.id, happy.id, long_ago.id
    rows = assess(company)
    souring = by_id(rows, ids[0])
    assert souring.codes == ("satisfaction-falling",)
    assert souring.level == RiskLevel.MEDIUM
    assert souring.reasons[0].params == {"lately": "2", "before": "4.7"}
    assert souring.text() == "satisfaction falling: 2 of 5 lately, 4.7 before"
    assert souring.text("zh") == "满意度下降：最近 2 分，之前 4.7 分（满分 5 分）"
    sudden = by_id(rows, ids[1])
    assert sudden.codes == ("satisfaction-falling",)
    assert sudden.reasons[0].params == {"lately": "1", "before": "5"}
    assert by_id(rows, ids[2]).codes == ()
    assert by_id(rows, ids[3]).codes == ()  # the last rating is over a year old
    # Ratings after the day judged are not seen: 60 days ago it was 5, 5, 4.
    with company.new_session() as session:
        assert ids[0] not in risk.falling_satisfaction(session, TODAY - timedelta(days=60))
        earlier = risk.falling_satisfaction(session, TODAY - timedelta(days=30))
    assert earlier[ids[0]] == {"lately": "3", "before": "5"}
    assert risk.WEIGHTS[Reason.SATISFACTION_FALLING] == 2


def test_falling_satisfaction_with_silence_adds_no_contact(company: Database, sales: User) -> None:
    with company.session() as session:
        c = make_customer(session, "Unhappy and ignored", owner_id=sales.id)
        orders_every(session, c, days=30, last=TODAY - timedelta(days=5), count=6)
        _ratings(session, c, (5, 60), (1, 10))
        cid = c.id
    row = by_id(assess(company), cid)
    assert row.codes == ("satisfaction-falling", "no-contact")
    assert row.level == RiskLevel.HIGH


def test_explain_the_case_reasons_in_both_languages() -> None:
    several = RiskReason(Reason.OPEN_COMPLAINT, {"count": 3, "due": "2026-06-01 09:00"})
    assert explain(several) == (
        "3 complaints past their promised time (the first was due 2026-06-01 09:00)"
    )
    assert explain(several, "zh") == "3 个投诉超过承诺时间仍未处理（最早应于 2026-06-01 09:00）"
    falling = RiskReason(Reason.SATISFACTION_FALLING, {"lately": "1.5", "before": "4"})
    assert explain(falling, "fr") == "satisfaction falling: 1.5 of 5 lately, 4 before"
    assert all(reason in risk._TEXT[lang] for lang in risk.LANGUAGES for reason in Reason)
