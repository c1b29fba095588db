"""My day on both engines: grouping around today and midnight, done / reschedule, the
reminder's check, quick logging with "what they wanted", and the opportunities list."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smbcrm.errors import PermissionDenied, ValidationError
from smbcrm.models import Activity, ActivityKind, Customer, Database, FollowUp, Role, User
from smbcrm.services import my_day
from smbcrm.services.activities import ActivityInput, log_activity
from smbcrm.services.auth import find_user
from tests.conftest import add_user
from tests.factories import make_customer, make_order

MONDAY = date(2026, 11, 23)


def _task(
    session: Session,
    customer: Customer,
    due: date,
    title: str,
    assignee: User | None,
    *,
    done: bool = False,
) -> int:
    task = FollowUp(
        customer_id=customer.id,
        assignee_id=assignee.id if assignee else None,
        title=title,
        due_date=due,
        done_at=datetime(2026, 11, 1, 9, 0) if done else None,
    )
    session.add(task)
    session.flush()
    return task.id


def _titles(tasks: list[my_day.Task]) -> list[str]:
    return [t.title for t in tasks]


@pytest.fixture
def seller(company: Database) -> User:
    return add_user(company, "li.na", Role.SALES, "Li Na")


def test_tasks_group_into_overdue_today_and_the_next_seven_days(
    company: Database, seller: User
) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        huaqiang = make_customer(session, "华强电子")
        blue = make_customer(session, "Blue Sky Imports")
        _task(session, huaqiang, MONDAY - timedelta(days=10), "Send the samples", boss)
        _task(session, blue, MONDAY - timedelta(days=1), "Call back about price", boss)
        _task(session, blue, MONDAY, "Confirm delivery", boss)
        _task(session, huaqiang, MONDAY + timedelta(days=1), "Visit the factory", boss)
        _task(session, huaqiang, MONDAY + timedelta(days=7), "Quarterly review", boss)
        _task(session, huaqiang, MONDAY + timedelta(days=8), "Too far ahead", boss)
        _task(session, blue, MONDAY, "Already done", boss, done=True)
        _task(session, blue, MONDAY, "Li Na's task", seller)
        _task(session, blue, MONDAY - timedelta(days=2), "Nobody's task", None)
        boss_id = boss.id

    with company.new_session() as session:
        day = my_day.my_day(session, boss_id, today=MONDAY)
        assert _titles(day.overdue) == ["Send the samples", "Call back about price"]
        assert _titles(day.due_today) == ["Confirm delivery"]
        assert _titles(day.upcoming) == ["Visit the factory", "Quarterly review"]
        assert day.overdue_total == 2
        assert [t.days_overdue(MONDAY) for t in day.overdue] == [10, 1]
        assert day.due_today[0].customer == "Blue Sky Imports"
        assert day.due_today[0].assignee == "Wang Fang"
        assert my_day.due_counts(session, boss_id, today=MONDAY) == my_day.DueCounts(2, 1, 2)

        # The same tasks a minute past midnight: today's became overdue, tomorrow's is today.
        tuesday = MONDAY + timedelta(days=1)
        after_midnight = my_day.my_day(session, boss_id, today=tuesday)
        assert _titles(after_midnight.overdue) == [
            "Send the samples",
            "Call back about price",
            "Confirm delivery",
        ]
        assert _titles(after_midnight.due_today) == ["Visit the factory"]
        assert _titles(after_midnight.upcoming) == ["Quarterly review", "Too far ahead"]

        everyone = my_day.my_day(session, my_day.EVERYONE, today=MONDAY)
        assert _titles(everyone.due_today) == ["Confirm delivery", "Li Na's task"]
        assert "Nobody's task" in _titles(everyone.overdue)
        pool = my_day.my_day(session, my_day.UNASSIGNED, today=MONDAY)
        assert _titles(pool.tasks) == ["Nobody's task"]
        assert my_day.due_counts(session, seller.id, today=MONDAY) == my_day.DueCounts(0, 1, 0)


def test_a_long_overdue_list_is_capped_but_counted(company: Database) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        customer = make_customer(session, "Backlog Ltd")
        for n in range(12):
            _task(session, customer, MONDAY - timedelta(days=30 - n), f"Old task {n}", boss)
        boss_id = boss.id
    with company.new_session() as session:
        day = my_day.my_day(session, boss_id, today=MONDAY, limit=5)
    assert _titles(day.overdue) == [f"Old task {n}" for n in range(5)]
    assert day.overdue_total == 12


def test_done_reopen_and_reschedule(company: Database) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        customer = make_customer(session, "Blue Sky Imports")
        overdue = _task(session, customer, MONDAY - timedelta(days=3), "Send the quote", boss)
        today = _task(session, customer, MONDAY, "Call back", boss)

    with company.session() as session:
        boss = find_user(session, "boss")
        my_day.complete(session, boss, today)
        my_day.reschedule(session, boss, overdue, my_day.tomorrow(MONDAY), today=MONDAY)
    with company.new_session() as session:
        day = my_day.my_day(session, my_day.EVERYONE, today=MONDAY)
        assert _titles(day.overdue) == [] and _titles(day.due_today) == []
        assert [(t.title, t.due_date) for t in day.upcoming] == [
            ("Send the quote", date(2026, 11, 24))
        ]

    with company.session() as session:
        boss = find_user(session, "boss")
        # Monday 23rd → Monday 30th; from a Sunday, "next week" is the next day.
        assert my_day.next_week(MONDAY) == date(2026, 11, 30)
        assert my_day.next_week(date(2026, 11, 29)) == date(2026, 11, 30)
        assert my_day.next_week(date(2026, 11, 27)) == date(2026, 11, 30)
        with pytest.raises(ValidationError, match="passed"):
            my_day.reschedule(session, boss, overdue, MONDAY - timedelta(days=1), today=MONDAY)
        with pytest.raises(ValidationError, match="already done"):
            my_day.reschedule(session, boss, today, MONDAY, today=MONDAY)
        my_day.reopen(session, boss, today)
    with company.new_session() as session:
        day = my_day.my_day(session, my_day.EVERYONE, today=MONDAY)
        assert _titles(day.due_today) == ["Call back"]


def test_a_deactivated_account_cannot_act_on_tasks(company: Database) -> None:
    inactive = add_user(company, "old.timer", Role.SALES)
    with company.session() as session:
        customer = make_customer(session, "Blue Sky Imports")
        task = _task(session, customer, MONDAY, "Call back", None)
    with company.session() as session:
        gone = session.get_one(User, inactive.id)
        gone.active = False
    with company.session() as session:
        gone = session.get_one(User, inactive.id)
        with pytest.raises(PermissionDenied, match="deactivated"):
            my_day.complete(session, gone, task)


def test_reminder_check_lists_only_due_tasks_of_that_person(
    company: Database, seller: User
) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        customer = make_customer(session, "Blue Sky Imports")
        late = _task(session, customer, MONDAY - timedelta(days=1), "Late", boss)
        due = _task(session, customer, MONDAY, "Due", boss)
        _task(session, customer, MONDAY + timedelta(days=1), "Tomorrow", boss)
        _task(session, customer, MONDAY, "Someone else's", seller)
        _task(session, customer, MONDAY, "Done", boss, done=True)
        boss_id = boss.id
    with company.new_session() as session:
        assert [t.id for t in my_day.due_tasks(session, boss_id, today=MONDAY)] == [late, due]
    assert my_day.reminder_text(1, 3) == "3 follow-ups due today, 1 overdue"
    assert my_day.reminder_text(0, 1) == "1 follow-up due today"
    assert my_day.reminder_text(2, 0) == "2 follow-ups overdue"
    assert my_day.reminder_text(0, 0) == ""


def test_schedule_checks_title_date_and_assignee(company: Database, seller: User) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        customer = make_customer(session, "Blue Sky Imports", owner_id=seller.id)
        task = my_day.schedule(
            session, boss, customer.id, title=" Send the catalogue ", due=MONDAY, today=MONDAY
        )
        assert (task.title, task.assignee_id, task.created_by_id) == (
            "Send the catalogue",
            seller.id,  # the customer's salesperson, not whoever planned it
            boss.id,
        )
        with pytest.raises(ValidationError) as caught:
            my_day.schedule(
                session,
                boss,
                customer.id,
                title=" ",
                due=MONDAY - timedelta(days=1),
                today=MONDAY,
            )
        assert set(caught.value.field_errors) == {"title", "due_date"}


# ---------------------------------------------------------------------------------------
# Quick log and opportunities


def test_quick_log_keeps_what_they_wanted_and_the_message_channel(company: Database) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        customer = make_customer(session, "华强电子")
        activity = log_activity(
            session,
            boss,
            customer.id,
            ActivityInput(
                kind=ActivityKind.MESSAGE,
                subject="问了价格",
                wanted=" 200 台 LED 灯的报价 ",
                channel="WeChat",
                is_opportunity=True,
            ),
        )
        activity_id = activity.id
        with pytest.raises(ValidationError) as caught:
            log_activity(
                session,
                boss,
                customer.id,
                ActivityInput(kind=ActivityKind.CALL, subject="x", wanted="y" * 501),
            )
        assert "wanted" in caught.value.field_errors
    with company.new_session() as session:
        stored = session.get_one(Activity, activity_id)
        assert (stored.subject, stored.wanted) == ("WeChat: 问了价格", "200 台 LED 灯的报价")
        assert stored.is_opportunity


def _opportunity(
    session: Session, actor: User, customer: Customer, wanted: str, on: datetime
) -> int:
    activity = log_activity(
        session,
        actor,
        customer.id,
        ActivityInput(
            kind=ActivityKind.CALL,
            subject=f"Call about {wanted}",
            wanted=wanted,
            is_opportunity=True,
            occurred_at=on,
        ),
        today=on.date(),
    )
    return activity.id


def test_opportunities_stay_open_until_an_order_or_a_done_follow_up(
    company: Database, seller: User
) -> None:
    noon = datetime(2026, 11, 10, 4, 0)  # 12:00 in China, stored as UTC
    with company.session() as session:
        boss = find_user(session, "boss")
        li_na = session.get_one(User, seller.id)
        ordered = make_customer(session, "Ordered Co", owner_id=seller.id)
        ordered_before = make_customer(session, "Old Order Co", owner_id=seller.id)
        followed = make_customer(session, "Followed Co", owner_id=seller.id)
        waiting = make_customer(session, "Waiting Co")
        won = _opportunity(session, li_na, ordered, "a quote for 200 units", noon)
        make_order(session, ordered, when=date(2026, 11, 12))
        still_open = _opportunity(session, li_na, ordered_before, "the new catalogue", noon)
        make_order(session, ordered_before, when=date(2026, 11, 1))
        closed = _opportunity(session, li_na, followed, "samples", noon)
        scheduled = _opportunity(session, boss, waiting, "a visit", noon + timedelta(days=1))
        task = my_day.schedule(
            session,
            boss,
            waiting.id,
            title="Visit them",
            due=date(2026, 11, 30),
            activity_id=scheduled,
            today=MONDAY,
        )
        assert task.assignee_id == boss.id  # no salesperson: whoever planned it
        # A contact that is not an opportunity never shows.
        log_activity(session, boss, waiting.id, ActivityInput(ActivityKind.NOTE, "Just a note"))
        boss_id, seller_id = boss.id, seller.id

    with company.session() as session:
        boss = session.get_one(User, boss_id)
        listed = my_day.opportunities(session, boss)
        assert [o.activity_id for o in listed] == [scheduled, closed, still_open]
        assert listed[0].next_follow_up == date(2026, 11, 30)
        assert listed[0].wanted == "a visit" and listed[0].logged_by == "Wang Fang"
        assert listed[1].owner == "Li Na"
        done = my_day.close_opportunity(session, boss, closed)
        assert done.done_at is not None and done.title == "Followed up: samples"
        # Closing one with an open follow-up ticks that follow-up off.
        assert my_day.close_opportunity(session, boss, scheduled).id == task.id

    with company.new_session() as session:
        boss = session.get_one(User, boss_id)
        assert [o.activity_id for o in my_day.opportunities(session, boss)] == [still_open]
        every = {
            o.activity_id: o.status for o in my_day.opportunities(session, boss, open_only=False)
        }
        assert every == {
            scheduled: my_day.OpportunityStatus.CLOSED,
            closed: my_day.OpportunityStatus.CLOSED,
            still_open: my_day.OpportunityStatus.OPEN,
            won: my_day.OpportunityStatus.WON,
        }
        # A salesperson sees those on their own customers or logged by them, whatever asked.
        li_na = session.get_one(User, seller_id)
        theirs = my_day.opportunities(session, li_na, open_only=False, person=my_day.EVERYONE)
        assert {o.activity_id for o in theirs} == {won, still_open, closed}
        assert my_day.opportunities(session, boss, person=my_day.UNASSIGNED) == []


def test_closing_a_contact_that_is_no_opportunity_is_refused(company: Database) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        customer = make_customer(session, "Blue Sky Imports")
        note = log_activity(session, boss, customer.id, ActivityInput(ActivityKind.NOTE, "Hi"))
        with pytest.raises(ValidationError, match="not marked as an opportunity"):
            my_day.close_opportunity(session, boss, note.id)
        assert session.scalars(select(FollowUp)).all() == []
