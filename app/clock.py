"""The clock, injected everywhere so tests set the time instead of sleeping."""

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from app.config import get_settings


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
