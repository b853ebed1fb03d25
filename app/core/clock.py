"""The clock, injected everywhere so tests set the time instead of sleeping."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from app.core.config import get_settings


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests: stays where it is set until moved."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


_system_clock = SystemClock()


def get_clock() -> Clock:
    return _system_clock


def local_today(clock: Clock, tz: ZoneInfo | None = None) -> date:
    """Today's date where the users are (Asia/Shanghai by default)."""
    return clock.now().astimezone(tz or get_settings().tz).date()


# Dates outside this range are moved to its edge before becoming instants: no hazard is that
# old or that far ahead, and the UTC conversion of date.min or date.max would overflow.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9000, 1, 1)


def local_day_start(day: date, tz: ZoneInfo | None = None) -> datetime:
    """The instant (UTC) a local date begins: 2026-11-01 → 2026-10-31T16:00Z in Shanghai."""
    day = min(max(day, EARLIEST_DAY), LATEST_DAY)
    return datetime.combine(day, time(), tzinfo=tz or get_settings().tz).astimezone(UTC)


def local_day_end(day: date, tz: ZoneInfo | None = None) -> datetime:
    """The instant (UTC) a local date ends, i.e. the next day begins (exclusive bound)."""
    return local_day_start(min(max(day, EARLIEST_DAY), LATEST_DAY) + timedelta(days=1), tz)
