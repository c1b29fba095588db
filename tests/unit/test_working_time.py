"""Working-time arithmetic: due times across nights, weekends, holidays and make-up days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smbcrm.errors import PermissionDenied, ValidationError
from smbcrm.models import Database, Role, Setting, User
from smbcrm.services import working_time as wt
from smbcrm.services.working_time import (
    WorkingCalendar,
    add_working_minutes,
    describe_minutes,
    working_minutes_between,
)
from tests.conftest import add_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = ((9 * 60, 18 * 60),)
WITH_LUNCH = ((9 * 60, 12 * 60), (13 * 60, 18 * 60))


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as the naive UTC the database stores."""
    local = datetime(y, m, d, h, mi, tzinfo=SHANGHAI)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def calendar(**kwargs: object) -> WorkingCalendar:
    return WorkingCalendar(timezone="Asia/Shanghai", **kwargs)  # type: ignore[arg-type]


def test_within_one_day() -> None:
    cal = calendar()
    # Tuesday 10:00 + 4 working hours = 14:00 the same day.
    assert add_working_minutes(utc(2026, 11, 24, 10), 240, cal) == utc(2026, 11, 24, 14)


def test_across_the_night() -> None:
    cal = calendar()
    # Tuesday 16:00 + 4 h: 2 h today, 2 h from 09:00 Wednesday.
    assert add_working_minutes(utc(2026, 11, 24, 16), 240, cal) == utc(2026, 11, 25, 11)


def test_across_a_weekend_and_a_holiday() -> None:
    # Friday 16:00, 4 working hours, Monday 30 Nov a holiday: 2 h on Friday, nothing on
    # Saturday, Sunday or the holiday Monday, 2 h from 09:00 Tuesday.
    cal = calendar(holidays=frozenset({date(2026, 11, 30)}))
    due = add_working_minutes(utc(2026, 11, 27, 16), 240, cal)
    assert due == utc(2026, 12, 1, 11)
    assert working_minutes_between(utc(2026, 11, 27, 16), due, cal) == 240
    # Without the holiday it is Monday 11:00.
    assert add_working_minutes(utc(2026, 11, 27, 16), 240, calendar()) == utc(2026, 11, 30, 11)


def test_two_working_days_over_national_day_with_make_up_saturday() -> None:
    # 1–7 October off (Thursday to Wednesday), Saturday 10 October worked instead.
    holidays = frozenset(date(2026, 10, d) for d in range(1, 8))
    cal = calendar(holidays=holidays, makeup_days=frozenset({date(2026, 10, 10)}))
    start = utc(2026, 9, 30, 17)  # Wednesday 17:00, one hour before the break
    # 1 h on 30 Sept, 9 h on Thursday 8 Oct, 8 h left: Friday 9 Oct 17:00.
    assert add_working_minutes(start, 2 * 9 * 60, cal) == utc(2026, 10, 9, 17)
    # Three days' worth reaches into the make-up Saturday: 1 + 9 + 9 = 19 h, 8 h more.
    assert add_working_minutes(start, 3 * 9 * 60, cal) == utc(2026, 10, 10, 17)
    assert working_minutes_between(start, utc(2026, 10, 12, 9), cal) == 28 * 60


def test_start_outside_hours_counts_from_the_next_period() -> None:
    cal = calendar()
    # Saturday noon: counting begins 09:00 Monday.
    assert add_working_minutes(utc(2026, 11, 28, 12), 60, cal) == utc(2026, 11, 30, 10)
    # 07:00 on a weekday: counting begins at 09:00.
    assert add_working_minutes(utc(2026, 11, 24, 7), 30, cal) == utc(2026, 11, 24, 9, 30)
    # 20:00: counting begins 09:00 next day.
    assert add_working_minutes(utc(2026, 11, 24, 20), 30, cal) == utc(2026, 11, 25, 9, 30)


def test_a_promise_ending_with_the_day_falls_due_at_closing_time() -> None:
    cal = calendar()
    assert add_working_minutes(utc(2026, 11, 27, 9), 9 * 60, cal) == utc(2026, 11, 27, 18)


def test_lunch_break_does_not_count() -> None:
    cal = calendar(hours=(WITH_LUNCH,) * 5 + ((), ()))
    assert add_working_minutes(utc(2026, 11, 24, 11), 120, cal) == utc(2026, 11, 24, 14)
    assert working_minutes_between(utc(2026, 11, 24, 11), utc(2026, 11, 24, 14), cal) == 120
    assert cal.day_minutes == 8 * 60


def test_zero_minutes_is_the_start_and_negative_is_refused() -> None:
    cal = calendar()
    moment = utc(2026, 11, 28, 3)
    assert add_working_minutes(moment, 0, cal) == moment
    with pytest.raises(ValueError):
        add_working_minutes(moment, -1, cal)


def test_minutes_between_is_signed_and_skips_closed_time() -> None:
    cal = calendar()
    friday, monday = utc(2026, 11, 27, 17), utc(2026, 11, 30, 10)
    assert working_minutes_between(friday, monday, cal) == 120
    assert working_minutes_between(monday, friday, cal) == -120
    assert working_minutes_between(utc(2026, 11, 28, 1), utc(2026, 11, 29, 23), cal) == 0


def test_add_and_between_agree() -> None:
    cal = calendar(
        hours=(WITH_LUNCH,) * 5 + (((10 * 60, 14 * 60),), ()),
        holidays=frozenset({date(2026, 12, 2)}),
    )
    start = utc(2026, 11, 26, 8, 17)
    for minutes in (1, 59, 180, 181, 480, 1000, 2500, 5000):
        due = add_working_minutes(start, minutes, cal)
        assert working_minutes_between(start, due, cal) == minutes


def test_time_zone_decides_the_local_day() -> None:
    # 02:00 UTC Monday is 10:00 in Shanghai but 21:00 Sunday in New York.
    moment = datetime(2026, 11, 30, 2)
    shanghai = calendar()
    new_york = WorkingCalendar(timezone="America/New_York")
    assert add_working_minutes(moment, 60, shanghai) == utc(2026, 11, 30, 11)
    ny_due = add_working_minutes(moment, 60, new_york)
    expected = datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("America/New_York"))
    assert ny_due == expected.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def test_calendar_with_no_working_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="working hours"):
        calendar(hours=((),) * 7).validate()
    with pytest.raises(ValidationError, match="end must come after"):
        calendar(hours=(((18 * 60, 9 * 60),),) + ((),) * 6).validate()
    with pytest.raises(ValidationError, match="overlap"):
        calendar(hours=(((9 * 60, 13 * 60), (12 * 60, 18 * 60)),) + ((),) * 6).validate()
    both = frozenset({date(2026, 10, 10)})
    with pytest.raises(ValidationError, match="both a holiday and a make-up"):
        calendar(holidays=both, makeup_days=both).validate()
    with pytest.raises(ValidationError, match="time zone"):
        WorkingCalendar(timezone="Mars/Olympus").validate()


def test_settings_round_trip_and_bad_values_fall_back() -> None:
    cal = calendar(
        hours=(WITH_LUNCH,) * 5 + (((10 * 60, 14 * 60),), ()),
        holidays=frozenset({date(2026, 10, 1)}),
        makeup_days=frozenset({date(2026, 10, 10)}),
    )
    stored = cal.to_settings()
    assert stored[wt.HOURS_KEY]["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert stored[wt.HOLIDAYS_KEY] == ["2026-10-01"]
    assert WorkingCalendar.from_settings(stored) == cal
    broken = {wt.HOURS_KEY: {"mon": [["nine", "six"]]}, wt.HOLIDAYS_KEY: ["not a date"]}
    fallback = WorkingCalendar.from_settings(broken)
    assert fallback.hours == wt.DEFAULT_HOURS and fallback.holidays == frozenset()


def test_local_zone_name_is_a_real_zone() -> None:
    assert wt.is_timezone(wt.local_timezone_name())


def test_describe_minutes() -> None:
    assert describe_minutes(45) == "45 min"
    assert describe_minutes(240) == "4 h"
    assert describe_minutes(90) == "1 h 30 min"
    assert describe_minutes(2 * 540, 540) == "2 working days"
    assert describe_minutes(540 + 120, 540) == "1 d 2 h"
    assert describe_minutes(None) == "—"
    assert describe_minutes(540, 540) == "1 working day"


def test_describe_minutes_in_chinese() -> None:
    assert describe_minutes(45, lang="zh") == "45 分钟"
    assert describe_minutes(90, lang="zh") == "1 小时 30 分钟"
    assert describe_minutes(2 * 540, 540, lang="zh") == "2 个工作日"
    assert describe_minutes(540 + 120, 540, lang="zh") == "1 天 2 小时"
    assert describe_minutes(-60, lang="zh") == "−1 小时"


def test_only_owners_and_managers_save_the_calendar(db: Database) -> None:
    from smbcrm.services import auth

    auth.create_company(db, "Acme", "boss", "Wang Fang", "owner-secret-1")
    sales = add_user(db, "lily", Role.SALES)
    cal = calendar(holidays=frozenset({date(2026, 10, 1)}))
    with db.session() as session, pytest.raises(PermissionDenied):
        wt.save_calendar(session, session.get(User, sales.id), cal)
    with db.session() as session:
        wt.save_calendar(session, auth.find_user(session, "boss"), cal)
    with db.new_session() as session:
        assert WorkingCalendar.load(session) == cal
        assert session.get(Setting, wt.TIMEZONE_KEY) is not None
    # A second save replaces the first (no duplicate keys).
    with db.session() as session:
        wt.save_calendar(session, auth.find_user(session, "boss"), calendar())
    with db.new_session() as session:
        assert WorkingCalendar.load(session).holidays == frozenset()


def test_default_is_monday_to_friday_nine_to_six() -> None:
    cal = WorkingCalendar()
    assert cal.day_minutes == 540
    assert [bool(day) for day in cal.hours] == [True] * 5 + [False] * 2
    assert cal.periods_on(date(2026, 11, 28)) == ()
    assert timedelta(minutes=cal.day_minutes) == timedelta(hours=9)
