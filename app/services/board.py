"""动态清零 board: the committee's open / overdue / listed / found / closed figures.

Every figure is counted by one set-based query over the hazards the caller may see
(`hazard_visibility`, the list's own scope), optionally one level and one region subtree, and
carries the query parameters of ``GET /api/v1/hazards`` that list exactly the hazards it
counts (`Figure.params`): the board and the list share one definition of each filter
(`app/services/hazards.py`), and the tests check the counts against the list.

Figures, for a period of local days ``from``..``to`` (both included):
- ``open``: not closed or rejected now (未销号);
- ``overdue``: open in rectification (已交办/整改中) past its deadline now (超期);
- ``listed``: under 挂牌督办 now;
- ``open_at_start``: open at the end of the day before ``from`` (期初在治);
- ``found``: reported in the period and not rejected (新发现);
- ``closed``: written off (销号) in the period;
- ``clearance_rate`` (清零率) = closed / (open_at_start + found); null when nothing was open.
  Every hazard closed in the period was open at its start or found in it, so it is 0..1.

A hazard's end (its close or reject event; at most one, those states are final) is read from
the timeline, so the period figures do not depend on when the board is looked at.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.clock import Clock, local_day_end, local_day_start, local_today
from app.db import count_if, local_date_text, valid_id
from app.errors import NotFound, Unprocessable
from app.models import Enterprise, Event, Hazard, Industry, Region
from app.models.enums import HazardLevel, RegionLevel, Role
from app.permissions import Actor, require_role
from app.services.hazards import HazardFilters, filtered_query
from app.workflow.states import ENDED_STATES, ENDING_ACTIONS, RECTIFICATION_OPEN, HazardState

# The words the board shows, in one place.
LABELS: dict[str, str] = {
    "open": "未销号",
    "overdue": "超期",
    "listed": "挂牌督办",
    "open_at_start": "期初未销号",
    "found": "新发现",
    "closed": "已销号",
    "clearance_rate": "清零率",
    "open_at_end": "月末未销号",
    "by_township": "分乡镇（街道）",
    "by_industry": "分行业",
    "trend": "月度趋势",
}
FIGURES = ("open", "overdue", "listed", "open_at_start", "found", "closed")

# The period's dates must lie in this range, and span at most this many months (the trend
# has one entry per month).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
MAX_MONTHS = 36

# Built once: an alias costs a copy of every column, and building the board's statements
# anew on each request was a large share of its time (bench/bench_board.py).
ENDING = aliased(Event, name="ending")  # a hazard's close or reject event
ENTERPRISE = aliased(Enterprise, name="hazard_enterprise")  # never correlated into the scope


@dataclass(frozen=True)
class BoardQuery:
    level: HazardLevel | None
    start: date  # `from`
    end: date  # `to`, included
    region_id: int | None = None


@dataclass
class Counts:
    """The six figures of one group (the whole scope, a township or an industry)."""

    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))

    def add(self, row: Any) -> None:
        values = self.values
        for name, value in zip(FIGURES, row[-len(FIGURES):], strict=True):
            values[name] += int(value or 0)  # the figures are the last columns, in order

    @property
    def clearance_rate(self) -> float | None:
        base = self.values["open_at_start"] + self.values["found"]
        return round(self.values["closed"] / base, 4) if base else None


def check_period(start: date, end: date) -> None:
    """422 unless from <= to, both within FIRST_DAY..LAST_DAY, spanning <= MAX_MONTHS."""
    errors = []
    for name, day in (("from", start), ("to", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            errors.append({"loc": ["query", name], "type": "value_error",
                           "msg": f"日期应在 {FIRST_DAY} 至 {LAST_DAY} 之间"})
    if not errors and start > end:
        errors.append({"loc": ["query", "from"], "type": "value_error",
                       "msg": "开始日期不能晚于结束日期"})
    if not errors and len(month_windows(start, end)) > MAX_MONTHS:
        errors.append({"loc": ["query", "to"], "type": "value_error",
                       "msg": f"统计区间最长 {MAX_MONTHS} 个月"})
    if errors:
        raise Unprocessable(errors)


def month_windows(start: date, end: date) -> list[tuple[str, date, date]]:
    """(YYYY-MM, first day, last day) of each month the period touches, clipped to it."""
    windows = []
    first = start.replace(day=1)
    while first <= end:
        following = (first + timedelta(days=32)).replace(day=1)
        windows.append((f"{first:%Y-%m}", max(first, start),
                        min(following - timedelta(days=1), end)))
        first = following
    return windows


def board(session: Session, *, actor: Actor, query: BoardQuery, clock: Clock) -> dict[str, Any]:
    """The board for the caller's scope: totals, by township, by industry, monthly trend."""
    require_role(actor, "board")
    check_period(query.start, query.end)
    root = _root_region(session, actor, query.region_id)
    today = local_today(clock)
    groups = _group_counts(session, actor, query, today)
    totals, townships, industries = Counts(), {}, {}
    for row in groups:
        totals.add(row)
        townships.setdefault(row.region_id, Counts()).add(row)
        industries.setdefault(row.industry_id, Counts()).add(row)
    base = _base_params(query)
    return {
        "level": query.level,
        "from": query.start,
        "to": query.end,
        "region_id": query.region_id,
        "as_of": clock.now(),
        "labels": LABELS,
        "totals": _figures(totals, query, base),
        "by_township": _by_township(session, actor, root, townships, query, base),
        "by_industry": _by_industry(session, industries, query, base),
        "trend": _trend(session, actor, query, today, totals.values["open_at_start"], base),
    }


def _root_region(session: Session, actor: Actor, region_id: int | None) -> Region | None:
    """The region asked for (404 if unknown, or outside a committee's own subtree)."""
    if region_id is None:
        return None
    region = session.get(Region, region_id) if valid_id(region_id) else None
    if region is None or (actor.role in (Role.committee, Role.admin)
                          and not region.path.startswith(actor.region_path or "\0")):
        raise NotFound("区域不存在")
    return region


def _scoped(actor: Actor, query: BoardQuery, today: date) -> Select[Any]:
    """Visible hazards of the level and region asked for (the list's own query)."""
    filters = HazardFilters(level=query.level, region_id=query.region_id)
    return filtered_query(actor, filters, today)


def _ended(scoped: Select[Any]) -> tuple[Select[Any], ColumnElement[datetime]]:
    """Join each hazard's ending event (close or reject; at most one): its time or null."""
    joined = scoped.outerjoin(
        ENDING, (ENDING.hazard_id == Hazard.id) & ENDING.action.in_(ENDING_ACTIONS))
    return joined, ENDING.at


def _conditions(query: BoardQuery, today: date,
                ended_at: ColumnElement[datetime]) -> dict[str, ColumnElement[bool]]:
    """Each figure as a condition on one hazard row (its SQL twin of the list filter)."""
    start, end = local_day_start(query.start), local_day_end(query.end)
    return {
        "open": Hazard.state.not_in(ENDED_STATES),
        "overdue": Hazard.state.in_(RECTIFICATION_OPEN) & (Hazard.deadline < today),
        "listed": Hazard.listing.is_not(None),
        "open_at_start": _open_at(start, ended_at),
        "found": (Hazard.reported_at >= start) & (Hazard.reported_at < end)
        & (Hazard.state != HazardState.rejected),
        "closed": (Hazard.state == HazardState.closed) & (ended_at >= start) & (ended_at < end),
    }


def _open_at(instant: datetime, ended_at: ColumnElement[datetime]) -> ColumnElement[bool]:
    return (Hazard.reported_at < instant) & (ended_at.is_(None) | (ended_at >= instant))


def _group_counts(session: Session, actor: Actor, query: BoardQuery, today: date) -> list[Any]:
    """The six figures per (township, industry) present: one scan of the scoped hazards."""
    enterprise = ENTERPRISE
    joined, ended_at = _ended(_scoped(actor, query, today))
    conditions = _conditions(query, today, ended_at)
    statement = (
        joined.join(enterprise, enterprise.id == Hazard.enterprise_id)
        .with_only_columns(
            Hazard.region_id, enterprise.industry_id,
            *(count_if(condition).label(name) for name, condition in conditions.items()),
        )
        .group_by(Hazard.region_id, enterprise.industry_id)
    )
    return list(session.execute(statement))


def _trend(session: Session, actor: Actor, query: BoardQuery, today: date,
           open_at_start: int, base: dict[str, str]) -> list[dict[str, Any]]:
    """Per month of the period (clipped to it): found, closed, open at its end.

    Two GROUP BY local month queries: hazards reported in the period, and hazards that ended
    (closed or rejected) in it. What is open at a month's end follows exactly: open at the
    period's start, plus every hazard reported since, minus every hazard ended since.
    """
    start, end = local_day_start(query.start), local_day_end(query.end)
    dialect = session.get_bind().dialect.name
    scoped = _scoped(actor, query, today)
    reported_month = func.substr(local_date_text(Hazard.reported_at, dialect, end), 1, 7)
    reported = {row.month: row for row in session.execute(
        scoped.where(Hazard.reported_at >= start, Hazard.reported_at < end)
        .with_only_columns(reported_month.label("month"), func.count().label("reported"),
                           count_if(Hazard.state != HazardState.rejected).label("found"))
        .group_by(reported_month))}
    joined, ended_at = _ended(scoped)
    ended_month = func.substr(local_date_text(ended_at, dialect, end), 1, 7)
    ended = {row.month: row for row in session.execute(
        joined.where(ended_at >= start, ended_at < end)
        .with_only_columns(ended_month.label("month"), func.count().label("ended"),
                           count_if(Hazard.state == HazardState.closed).label("closed"))
        .group_by(ended_month))}
    trend, still_open = [], open_at_start
    for month, first, last in month_windows(query.start, query.end):
        window = BoardQuery(query.level, first, last, query.region_id)
        came, went = reported.get(month), ended.get(month)
        still_open += (came.reported if came else 0) - (went.ended if went else 0)
        trend.append({
            "month": month,
            "found": _figure(came.found if came else 0, base, "found", window),
            "closed": _figure(went.closed if went else 0, base, "closed", window),
            "open_at_end": {"count": still_open,
                            "params": {**base, "open_on": last.isoformat()}},
        })
    return trend


def _base_params(query: BoardQuery) -> dict[str, str]:
    params = {}
    if query.level is not None:
        params["level"] = str(query.level)
    if query.region_id is not None:
        params["region_id"] = str(query.region_id)
    return params


def _figure_params(name: str, query: BoardQuery) -> dict[str, str]:
    """The list filters that select the hazards figure `name` counts."""
    start, end = query.start.isoformat(), query.end.isoformat()
    return {
        "open": {"open": "true"},
        "overdue": {"overdue": "true"},
        "listed": {"listed": "true"},
        "open_at_start": {"open_on": (query.start - timedelta(days=1)).isoformat()},
        "found": {"reported_from": start, "reported_to": end, "rejected": "false"},
        "closed": {"closed_from": start, "closed_to": end},
    }[name]


def _figure(count: int, base: dict[str, str], name: str, query: BoardQuery) -> dict[str, Any]:
    return {"count": int(count), "params": {**base, **_figure_params(name, query)}}


def _figures(counts: Counts, query: BoardQuery, base: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {name: _figure(counts.values[name], base, name, query)
                           for name in FIGURES}
    out["clearance_rate"] = counts.clearance_rate
    return out


def _by_township(session: Session, actor: Actor, root: Region | None,
                 counts: dict[int, Counts], query: BoardQuery,
                 base: dict[str, str]) -> list[dict[str, Any]]:
    """Every township under the scope's root (zeros included), then any other township a
    visible hazard lies in (an inspector's assigned ones); ordered by division code."""
    roots = ((root.path,) if root is not None
             else (actor.region_path,) if actor.region_path
             else actor.unit_region_paths)
    conditions = [Region.path.startswith(path, autoescape=True) for path in roots if path]
    rows = session.execute(
        select(Region.id, Region.code, Region.name)
        .where(Region.level == RegionLevel.township,
               or_(Region.id.in_(list(counts) or [-1]), *conditions))
        .order_by(Region.code)
    )
    result = []
    for region_id, code, name in rows:
        township = {**base, "region_id": str(region_id)}
        result.append({"region_id": region_id, "code": code, "name": name,
                       **_figures(counts.get(region_id, Counts()), query, township)})
    return result


def _by_industry(session: Session, counts: dict[int, Counts], query: BoardQuery,
                 base: dict[str, str]) -> list[dict[str, Any]]:
    """Industries with at least one counted hazard, ordered by code."""
    names = _names(session, Industry, counts)
    return [
        {"industry_id": industry_id, "code": code, "name": name,
         **_figures(counts[industry_id], query, {**base, "industry_id": str(industry_id)})}
        for industry_id, (code, name) in sorted(names.items(), key=lambda item: item[1][0])
    ]


def _names(session: Session, model: type[Industry],
           ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    wanted = list(ids)
    if not wanted:
        return {}
    return {row.id: (row.code, row.name)
            for row in session.execute(select(model.id, model.code, model.name)
                                       .where(model.id.in_(wanted)))}
