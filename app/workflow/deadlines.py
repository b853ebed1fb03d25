"""Rectification deadlines in calendar days or working days (工作日).

Working days follow the official holiday calendar, adjusted working weekends included
(the `chinesecalendar` package). It knows only the years whose holidays the State Council
has announced; for any other year a deadline counts Monday to Friday less the fixed-date
statutory holidays (元旦 1 January, 劳动节 1 May, 国庆节 1–3 October) and is marked
provisional, to be recomputed once a newer calendar is installed.

Counting costs no more for a long span than for a short one: weekdays are counted by whole
weeks, then the calendar's exceptions (holidays on weekdays, working weekends) in the span are
found by bisection in one sorted table, built once.
"""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING

import chinese_calendar
from chinese_calendar import constants as calendar_data

from app.workflow.states import RECTIFICATION_OPEN

if TYPE_CHECKING:
    from app.models import Hazard

# Timeline events that set a hazard's rectification deadline, and where: `assign` records
# data.deadline as the date; the others data.deadline as {"from", "to"} (return and
# spot_check_fail only when a new deadline was given). The deadline in force at any moment is
# the one the latest of these events before it set (app/services/board/ranking.py reads it so).
DEADLINE_ACTIONS = ("assign", "return", "spot_check_fail", "extension_approve",
                    "deadline_recomputed")

# The statutory holidays with a fixed date (全国年节及纪念日放假办法), assumed for a year the
# installed calendar does not know; the movable ones (春节, 清明, 端午, 中秋) and the adjusted
# weekends are only known once announced.
FIXED_HOLIDAYS = ((1, 1), (5, 1), (10, 1), (10, 2), (10, 3))


class DayUnit(StrEnum):
    calendar = "calendar"  # 自然日
    working = "working"  # 工作日


@dataclass(frozen=True)
class Deadline:
    on: date
    provisional: bool  # counted past the known holiday calendar (fixed holidays only)


@dataclass(frozen=True)
class _Calendar:
    first_year: int  # the years the installed calendar knows
    last_year: int
    ordinals: list[int]  # every day that differs from Monday-to-Friday, sorted
    running: list[int]  # running sum of their corrections (-1 weekday off, +1 weekend at work)

    def knows(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year


@lru_cache(maxsize=1)
def _calendar() -> _Calendar:
    holidays, workdays = calendar_data.holidays, calendar_data.workdays
    first_year, last_year = min(holidays).year, max(holidays).year
    corrections: dict[int, int] = {}
    for day in holidays:
        if day.weekday() < 5 and day not in workdays:
            corrections[day.toordinal()] = -1
    for day in workdays:
        if day.weekday() >= 5:
            corrections[day.toordinal()] = 1
    for year in range(date.min.year, date.max.year + 1):
        if first_year <= year <= last_year:
            continue
        for month, day_of_month in FIXED_HOLIDAYS:
            holiday = date(year, month, day_of_month)
            if holiday.weekday() < 5:
                corrections[holiday.toordinal()] = -1
    ordinals = sorted(corrections)
    return _Calendar(first_year, last_year, ordinals,
                     list(accumulate(corrections[o] for o in ordinals)))


def calendar_changed() -> None:
    """Forget the table built from the installed calendar (after its data changed)."""
    _calendar.cache_clear()


def is_working_day(day: date) -> tuple[bool, bool]:
    """(is it a working day, is that answer provisional)."""
    if _calendar().knows(day.year):
        return chinese_calendar.is_workday(day), False
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS, True


def _weekdays_through(day: date) -> int:
    """Monday-to-Friday days from 0001-01-01 (a Monday) to ``day``, both included."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def _working_through(day: date) -> int:
    """Working days from 0001-01-01 to ``day``, both included."""
    calendar = _calendar()
    found = bisect_right(calendar.ordinals, day.toordinal())
    return _weekdays_through(day) + (calendar.running[found - 1] if found else 0)


def _provisional(start: date, end: date) -> bool:
    """Whether any day in (start, end] lies in a year the calendar does not know."""
    first = start + timedelta(days=1) if start < date.max else start
    calendar = _calendar()
    return first.year < calendar.first_year or end.year > calendar.last_year


def add_days(start: date, days: int, unit: DayUnit) -> Deadline:
    """The date ``days`` days after ``start``: calendar days, or working days after start."""
    if days < 0:
        raise ValueError("days must not be negative")
    if unit == DayUnit.calendar:
        return Deadline(start + timedelta(days=days), False)
    if days == 0:
        return Deadline(start, False)
    # The first day by which `days` working days have passed, found by bisection: a span of
    # 2n + 60 calendar days holds at least n working days (at most five of seven days are
    # weekdays, and a year has about a dozen holidays on weekdays).
    base = _working_through(start)
    low = start.toordinal() + 1
    high = min(start.toordinal() + 2 * days + 60, date.max.toordinal())
    while low < high:
        middle = (low + high) // 2
        if _working_through(date.fromordinal(middle)) - base >= days:
            high = middle
        else:
            low = middle + 1
    on = date.fromordinal(low)
    return Deadline(on, _provisional(start, on))


def working_days_between(start: date, end: date) -> tuple[int, bool]:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        count, provisional = working_days_between(end, start)
        return -count, provisional
    if end == start:
        return 0, False
    return _working_through(end) - _working_through(start), _provisional(start, end)


def is_overdue(hazard: "Hazard", today: date) -> bool:
    """Past its deadline and not yet rectified (a rectification under review is not overdue)."""
    return (
        hazard.deadline is not None
        and hazard.state in RECTIFICATION_OPEN
        and hazard.deadline < today
    )
