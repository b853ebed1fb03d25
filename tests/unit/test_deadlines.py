"""Working-day deadlines by the official calendar (chinesecalendar), with a fallback."""

import time
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workflow.deadlines import (
    DayUnit,
    Deadline,
    add_days,
    is_working_day,
    working_days_between,
)


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


def test_beyond_the_known_calendar_counts_weekdays_less_fixed_holidays_and_says_so() -> None:
    deadline = add_days(date(2027, 12, 30), 2, DayUnit.working)
    # Fri 31 Dec, then Sat/Sun skipped (no holiday data assumed), Mon 3 Jan 2028.
    assert deadline.on == date(2028, 1, 3)
    assert deadline.provisional
    assert is_working_day(date(2028, 1, 1)) == (False, True)


def test_fixed_statutory_holidays_are_off_in_unknown_years() -> None:
    # 2027 is past the installed calendar: 元旦 (Fri 1 Jan), 劳动节 (Sat 1 May; Mon 1 May 2028),
    # 国庆 1-3 October (Fri 1, Sat 2, Sun 3) are holidays, provisionally.
    for day in (date(2027, 1, 1), date(2028, 5, 1), date(2027, 10, 1), date(2030, 10, 2),
                date(2030, 10, 3)):
        assert is_working_day(day) == (False, True), day
    assert is_working_day(date(2027, 10, 4)) == (True, True)  # Monday after 国庆
    assert is_working_day(date(2030, 10, 4)) == (True, True)  # the 4th is not fixed
    # From Thursday 30 September 2027: Fri 1 Oct off, weekend, Mon 4 October.
    assert add_days(date(2027, 9, 30), 1, DayUnit.working) == Deadline(date(2027, 10, 4), True)
    # Tue 30 April 2030 to Fri 3 May: 1 May (Wed) is off, 2 and 3 count.
    assert working_days_between(date(2030, 4, 30), date(2030, 5, 3)) == (2, True)


def _naive_between(start: date, end: date) -> tuple[int, bool]:
    """The reference: every day of (start, end] asked one by one."""
    count, provisional, day = 0, False, start
    while day < end:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        count += working
        provisional = provisional or guessed
    return count, provisional


def _naive_add(start: date, days: int) -> Deadline:
    day, counted, provisional = start, 0, False
    while counted < days:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        provisional = provisional or guessed
        counted += working
    return Deadline(day, provisional)


DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2032, 12, 31))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(start=DAYS, span=st.integers(min_value=-900, max_value=900))
def test_counting_matches_the_day_by_day_count(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    expected = _naive_between(min(start, end), max(start, end))
    sign = -1 if end < start else 1
    assert working_days_between(start, end) == (sign * expected[0], expected[1])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(start=DAYS, days=st.integers(min_value=0, max_value=500))
def test_adding_matches_the_day_by_day_count(start: date, days: int) -> None:
    assert add_days(start, days, DayUnit.working) == _naive_add(start, days)


def test_counting_across_the_known_years_boundaries() -> None:
    # Every start in late 2003 .. early 2005 and late 2026 .. early 2027, a few spans each.
    for origin in (date(2003, 11, 1), date(2026, 11, 1)):
        for offset in range(0, 120, 3):
            start = origin + timedelta(days=offset)
            for span in (1, 7, 40, 90):
                end = start + timedelta(days=span)
                assert working_days_between(start, end) == _naive_between(start, end)
                assert add_days(start, span, DayUnit.working) == _naive_add(start, span)


def test_a_far_deadline_costs_no_more_than_a_near_one() -> None:
    working_days_between(date(2026, 11, 23), date(2026, 11, 30))  # the table, built once
    began = time.perf_counter()
    for _ in range(1000):
        count, provisional = working_days_between(date(2026, 11, 23), date(9999, 12, 31))
    assert time.perf_counter() - began < 0.5  # was 49 s for one call, day by day
    assert provisional and count > 2_000_000
    assert add_days(date(9000, 1, 1), 366, DayUnit.working).provisional


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_days(date(2026, 1, 1), -1, DayUnit.working)
