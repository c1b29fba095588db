"""Working time: when a promise made in working minutes falls due, and how much working
time lies between two moments.

The company's calendar is four settings (table ``settings``), changed by owners and
managers (``Permission.MANAGE_SETTINGS``):

* ``service.working_hours`` — each weekday's working periods in company-local time,
  ``{"mon": [["09:00", "18:00"]], …, "sat": [], "sun": []}``. Two periods make a lunch
  break: ``[["09:00", "12:00"], ["13:00", "18:00"]]``. Default: Monday to Friday
  09:00–18:00 without a break (a 9-hour working day).
* ``service.holidays`` — ISO dates with no work, even on a weekday (``["2026-10-01", …]``).
* ``service.makeup_days`` — weekend dates worked instead (调休, common in China). They keep
  the hours of a normal working day: those of the first weekday, Monday to Friday, that
  has hours (usually Monday).
* ``service.timezone`` — the IANA name of the company's zone (``"Asia/Shanghai"``).
  Default: the zone this computer runs in (see :func:`local_timezone_name`).

Timestamps in the database are naive UTC (``models.base.utcnow``). The arithmetic happens
in company-local wall-clock time: a UTC moment is converted to the company's zone, walked
through the working periods day by day, and the result converted back to naive UTC. So a
promise made to a customer in Shanghai falls due at 09:00 Shanghai time whichever
desktop (or server) works it out.
"""

from __future__ import annotations

import contextlib
import os
import time as _time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from smbcrm.errors import ValidationError
from smbcrm.models import Setting, User
from smbcrm.services.permissions import Permission, require

HOURS_KEY = "service.working_hours"
HOLIDAYS_KEY = "service.holidays"
MAKEUP_DAYS_KEY = "service.makeup_days"
TIMEZONE_KEY = "service.timezone"
SETTING_KEYS = (HOURS_KEY, HOLIDAYS_KEY, MAKEUP_DAYS_KEY, TIMEZONE_KEY)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_END = 24 * 60
FALLBACK_TIMEZONE = "Asia/Shanghai"
# A calendar whose next working minute is further away than this is broken, not slow.
_MAX_DAYS = 366 * 10

# Minutes after local midnight: (start, end), end exclusive; 24:00 is 1440.
Period = tuple[int, int]
DayHours = tuple[Period, ...]

_OFFICE: DayHours = ((9 * 60, 18 * 60),)
DEFAULT_HOURS: tuple[DayHours, ...] = (_OFFICE,) * 5 + ((), ())


def local_timezone_name() -> str:
    """The IANA name of this computer's time zone, as well as it can be told.

    ``TZ`` if it names a zone; else the zone ``/etc/localtime`` links to (Linux, macOS);
    else ``/etc/timezone``; else, on Windows, a zone with today's UTC offset: China's for
    +08:00 (most of our users) and ``Etc/GMT±N`` for other whole hours; else China's.
    """
    candidates: list[str] = []
    if os.environ.get("TZ"):
        candidates.append(os.environ["TZ"].lstrip(":"))
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        if is_timezone(name):
            return "UTC" if name in ("Etc/UTC", "Etc/Universal", "Universal", "Zulu") else name
    offset = _time.localtime().tm_gmtoff
    if offset == 8 * 3600:
        return FALLBACK_TIMEZONE
    if offset % 3600 == 0 and abs(offset) <= 12 * 3600:
        hours = -offset // 3600  # Etc/GMT-8 is UTC+8: POSIX signs are reversed
        return "UTC" if hours == 0 else f"Etc/GMT{hours:+d}"
    return FALLBACK_TIMEZONE


def is_timezone(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def timezone_names() -> list[str]:
    """Every zone name this computer knows, sorted (for a settings dialog)."""
    return sorted(n for n in available_timezones() if "/" in n or n == "UTC")


def parse_clock(text: str) -> int:
    """ "09:30" → 570 minutes after midnight; "24:00" is the end of the day."""
    try:
        hours, minutes = (int(part) for part in str(text).strip().split(":"))
    except ValueError:
        raise ValueError(f"'{text}' is not a time of day; write it as HH:MM, e.g. 09:00.") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"'{text}' is not a time of day; use 00:00 to 24:00.")
    return hours * 60 + minutes


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class WorkingCalendar:
    """When the company works: per-weekday periods, holidays, make-up days, time zone."""

    hours: tuple[DayHours, ...] = DEFAULT_HOURS  # Monday first, 7 entries
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    timezone: str = field(default_factory=local_timezone_name)

    # -- loading and saving -----------------------------------------------------------

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> WorkingCalendar:
        """From stored setting values; a missing or unreadable value keeps its default.

        (A hand-edited value of the wrong shape must not stop every case from opening.)
        """
        default = cls()
        hours = default.hours
        stored_hours = values.get(HOURS_KEY)
        if isinstance(stored_hours, dict):
            try:
                hours = tuple(
                    tuple(
                        (parse_clock(start), parse_clock(end))
                        for start, end in stored_hours.get(day, [])
                    )
                    for day in WEEKDAYS
                )
            except (TypeError, ValueError):
                hours = default.hours
        zone = values.get(TIMEZONE_KEY)
        calendar = cls(
            hours=hours,
            holidays=frozenset(_dates(values.get(HOLIDAYS_KEY))),
            makeup_days=frozenset(_dates(values.get(MAKEUP_DAYS_KEY))),
            timezone=zone if isinstance(zone, str) and is_timezone(zone) else default.timezone,
        )
        try:
            calendar.validate()
        except ValidationError:
            return cls(timezone=calendar.timezone)
        return calendar

    @classmethod
    def load(cls, session: Session) -> WorkingCalendar:
        rows = session.execute(
            select(Setting.key, Setting.value).where(Setting.key.in_(SETTING_KEYS))
        )
        stored: dict[str, Any] = {key: value for key, value in rows}
        return cls.from_settings(stored)

    def to_settings(self) -> dict[str, Any]:
        return {
            HOURS_KEY: {
                day: [[clock(start), clock(end)] for start, end in periods]
                for day, periods in zip(WEEKDAYS, self.hours, strict=True)
            },
            HOLIDAYS_KEY: sorted(d.isoformat() for d in self.holidays),
            MAKEUP_DAYS_KEY: sorted(d.isoformat() for d in self.makeup_days),
            TIMEZONE_KEY: self.timezone,
        }

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if len(self.hours) != 7:
            errors["hours"] = "Give working hours for each of the seven weekdays."
        else:
            for name, periods in zip(WEEKDAY_NAMES, self.hours, strict=True):
                previous_end = -1
                for start, end in periods:
                    if not 0 <= start < end <= DAY_END:
                        errors["hours"] = (
                            f"{name}: {clock(start)}–{clock(end)} is not a period of the day; "
                            "the end must come after the start."
                        )
                        break
                    if start < previous_end:
                        errors["hours"] = (
                            f"{name}: the periods overlap or are out of order; list them "
                            "from morning to evening."
                        )
                        break
                    previous_end = end
            if not any(self.hours):
                errors["hours"] = "At least one weekday needs working hours."
        both = self.holidays & self.makeup_days
        if both:
            first = min(both).isoformat()
            errors["makeup_days"] = (
                f"{first} is both a holiday and a make-up working day; remove it from one list."
            )
        if self.makeup_days and not self.standard_day:
            errors["makeup_days"] = "Make-up days need a weekday with working hours."
        if not is_timezone(self.timezone):
            errors["timezone"] = (
                f"'{self.timezone}' is not a known time zone; choose one such as Asia/Shanghai."
            )
        if errors:
            raise ValidationError(errors)

    def save(self, session: Session) -> None:
        self.validate()
        for key, value in self.to_settings().items():
            session.merge(Setting(key=key, value=value))
        session.flush()

    # -- the calendar -----------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def standard_day(self) -> DayHours:
        """A normal working day's periods: the first weekday (Mon–Fri, then any) with hours."""
        for periods in (*self.hours[:5], *self.hours[5:]):
            if periods:
                return periods
        return ()

    @property
    def day_minutes(self) -> int:
        """Working minutes in a normal working day ("2 working days" = 2 × this)."""
        return sum(end - start for start, end in self.standard_day)

    def periods_on(self, day: date) -> DayHours:
        """The working periods of a local date: none on holidays; a make-up day works."""
        if day in self.holidays:
            return ()
        if day in self.makeup_days:
            return self.hours[day.weekday()] or self.standard_day
        return self.hours[day.weekday()]

    def is_working_day(self, day: date) -> bool:
        return bool(self.periods_on(day))

    def to_local(self, moment: datetime) -> datetime:
        """Naive UTC (as stored) → naive company-local wall-clock time."""
        return moment.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)

    def to_utc(self, local: datetime) -> datetime:
        """Naive company-local wall-clock time → naive UTC (as stored)."""
        return local.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)

    def local_midnight_utc(self, day: date) -> datetime:
        """The naive-UTC moment a local date begins."""
        return self.to_utc(datetime.combine(day, time()))


def _dates(value: Any) -> Iterable[date]:
    if not isinstance(value, list):
        return []
    found = []
    for item in value:
        try:
            found.append(date.fromisoformat(str(item)))
        except ValueError:
            continue
    return found


def save_calendar(session: Session, actor: User | None, calendar: WorkingCalendar) -> None:
    """Store the company's working hours, holidays, make-up days and zone (owners, managers).

    Cases already open keep the due times worked out when they were opened: a promise made
    to a customer does not move when the calendar changes.
    """
    require(actor, Permission.MANAGE_SETTINGS)
    calendar.save(session)


# ---------------------------------------------------------------------------------------
# Arithmetic


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(minutes=minute)


def add_working_minutes(start: datetime, minutes: int, calendar: WorkingCalendar) -> datetime:
    """The moment ``minutes`` working minutes after ``start`` (both naive UTC).

    Time outside the working periods does not count: a start in the evening, at a weekend
    or on a holiday begins counting at the next working period. A promise that runs out
    exactly at the end of a period falls due then (18:00 Friday, not 09:00 Monday).
    """
    if minutes < 0:
        raise ValueError("Working minutes to add cannot be negative.")
    if minutes == 0:
        return start
    local = calendar.to_local(start)
    remaining = timedelta(minutes=minutes)
    day = local.date()
    for _ in range(_MAX_DAYS):
        for period_start, period_end in calendar.periods_on(day):
            begin = max(local, _at(day, period_start))
            end = _at(day, period_end)
            if begin >= end:
                continue
            if remaining <= end - begin:
                return calendar.to_utc(begin + remaining)
            remaining -= end - begin
        day += timedelta(days=1)
    raise ValidationError(
        {"hours": "The working calendar has no working time in the next ten years; add hours."}
    )


def working_minutes_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> int:
    """Whole working minutes from ``a`` to ``b`` (naive UTC); negative when ``b`` is earlier."""
    if b < a:
        return -working_minutes_between(b, a, calendar)
    start, finish = calendar.to_local(a), calendar.to_local(b)
    total = timedelta()
    day = start.date()
    last = finish.date()
    while day <= last:
        for period_start, period_end in calendar.periods_on(day):
            begin = max(start, _at(day, period_start))
            end = min(finish, _at(day, period_end))
            if end > begin:
                total += end - begin
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


_DURATION_WORDS = {
    "en": {"min": "{0} min", "h": "{0} h", "h min": "{0} h {1} min", "d h": "{0} d {1} h",
           "day": "{0} working day", "days": "{0} working days"},
    "zh": {"min": "{0} 分钟", "h": "{0} 小时", "h min": "{0} 小时 {1} 分钟",
           "d h": "{0} 天 {1} 小时", "day": "{0} 个工作日", "days": "{0} 个工作日"},
}  # fmt: skip


def describe_minutes(
    minutes: int | float | None, day_minutes: int = 9 * 60, lang: str = "en"
) -> str:
    """Working minutes in words: "45 min", "4 h", "1 h 30 min", "2 working days", "1 d 2 h"
    (in Chinese with ``lang="zh"``: "45 分钟", "2 个工作日", "1 天 2 小时")."""
    words = _DURATION_WORDS.get(lang, _DURATION_WORDS["en"])
    if minutes is None:
        return "—"
    minutes = round(minutes)
    if minutes < 0:
        return "−" + describe_minutes(-minutes, day_minutes, lang)
    if minutes < 60:
        return words["min"].format(minutes)
    if day_minutes > 0 and minutes >= day_minutes:
        days, rest = divmod(minutes, day_minutes)
        hours = round(rest / 60)
        if hours == 0:
            return words["day" if days == 1 else "days"].format(days)
        return words["d h"].format(days, hours)
    hours, rest = divmod(minutes, 60)
    return words["h"].format(hours) if rest == 0 else words["h min"].format(hours, rest)


def weekday_hours_text(periods: Sequence[Period]) -> str:
    """ "09:00–12:00, 13:00–18:00", or "closed"."""
    if not periods:
        return "closed"
    return ", ".join(f"{clock(start)}–{clock(end)}" for start, end in periods)
