"""Working-day deadlines by the official calendar (chinesecalendar), with a fallback."""

from datetime import date

import pytest

from app.workflow.deadlines import DayUnit, add_days, is_working_day, working_days_between


def test_calendar_days() -> None:
    deadline = add_days(date(2026, 9, 28), 10, DayUnit.calendar)
    assert deadline.on == date(2026, 10, 8)
    assert not deadline.provisional


def test_working_days_cross_a_weekend() -> None:
    # Friday 2026-11-20 + 3 working days: Mon 23, Tue 24, Wed 25.
    assert add_days(date(2026, 11, 20), 3, DayUnit.working).on == date(2026, 11, 25)


def test_working_days_cross_national_day_with_its_adjusted_saturday() -> None:
    # 2026 National Day: 1–7 October off; Saturday 10 October is an adjusted working day.
    assert is_working_day(date(2026, 10, 1)) == (False, False)
    assert is_working_day(date(2026, 10, 10)) == (True, False)
    # From Wednesday 30 September: 8, 9 (Thu, Fri), 10 (the adjusted Saturday), 12 (Mon).
    deadline = add_days(date(2026, 9, 30), 4, DayUnit.working)
    assert deadline.on == date(2026, 10, 12)
    assert not deadline.provisional
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == (4, False)


def test_beyond_the_known_calendar_counts_weekends_only_and_says_so() -> None:
    deadline = add_days(date(2027, 12, 30), 2, DayUnit.working)
    # Fri 31 Dec, then Sat/Sun skipped (no holiday data assumed), Mon 3 Jan 2028.
    assert deadline.on == date(2028, 1, 3)
    assert deadline.provisional
    assert is_working_day(date(2028, 1, 1)) == (False, True)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_days(date(2026, 1, 1), -1, DayUnit.working)
