"""Rectification deadlines in calendar days or working days (工作日).

Working days follow the official holiday calendar, adjusted working weekends included
(the `chinesecalendar` package). It knows only the years whose holidays the State Council
has announced; past them a deadline falls back to weekends-only counting and is marked
provisional, to be recomputed once a newer calendar is installed.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import chinese_calendar

from app.workflow.states import RECTIFICATION_OPEN

if TYPE_CHECKING:
    from app.models import Hazard

# Timeline events that set a hazard's rectification deadline, and where: `assign` records
# data.deadline as the date; the others data.deadline as {"from", "to"} (return and
# spot_check_fail only when a new deadline was given). The deadline in force at any moment is
# the one the latest of these events before it set (app/services/board/ranking.py reads it so).
DEADLINE_ACTIONS = ("assign", "return", "spot_check_fail", "extension_approve",
                    "deadline_recomputed")


class DayUnit(StrEnum):
    calendar = "calendar"  # 自然日
    working = "working"  # 工作日


@dataclass(frozen=True)
class Deadline:
    on: date
    provisional: bool  # counted past the known holiday calendar (weekends only)


def is_working_day(day: date) -> tuple[bool, bool]:
    """(is it a working day, is that answer provisional)."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_days(start: date, days: int, unit: DayUnit) -> Deadline:
    """The date ``days`` days after ``start``: calendar days, or working days after start."""
    if days < 0:
        raise ValueError("days must not be negative")
    if unit == DayUnit.calendar:
        return Deadline(start + timedelta(days=days), False)
    day, counted, provisional = start, 0, False
    while counted < days:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        provisional = provisional or guessed
        counted += working
    return Deadline(day, provisional)


def working_days_between(start: date, end: date) -> tuple[int, bool]:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        count, provisional = working_days_between(end, start)
        return -count, provisional
    count, provisional, day = 0, False, start
    while day < end:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        count += working
        provisional = provisional or guessed
    return count, provisional


def is_overdue(hazard: "Hazard", today: date) -> bool:
    """Past its deadline and not yet rectified (a rectification under review is not overdue)."""
    return (
        hazard.deadline is not None
        and hazard.state in RECTIFICATION_OPEN
        and hazard.deadline < today
    )
