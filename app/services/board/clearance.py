"""动态清零 board: the committee's open / overdue / listed / found / closed figures.

Every figure is counted by one set-based query over the hazards the caller may see
(`hazard_visibility`, the list's own scope), optionally one level and one region subtree, and
carries the query parameters of ``GET /api/v1/hazards`` that list exactly the hazards it
counts (`Figure.params`): the board and the list share one definition of each filter
(`app/services/hazards/queries.py`), and the tests check the counts against the list.

Figures, for a period of local days ``from``..``to`` (both included):
- ``open``: not closed or rejected now (未销号);
- ``overdue``: open in rectification (已交办/整改中) past its deadline now (超期);
- ``listed``: under 挂牌督办 now;
- ``open_at_start``: open at the end of the day before ``from`` (期初在治);
- ``found``: reported in the period and not rejected (新发现);
- ``closed``: written off (销号) in the period;
- ``clearance_rate`` (清零率) = closed / (open_at_start + found); null when nothing was open.
  Every hazard closed in the period was open at its start or found in it, so it is 0..1.

A hazard's end (its close or reject event; at most one, those states are final) is the
timeline's, kept on the hazard row as ``ended_at`` (models/hazards.py), so the period figures
do not depend on when the board is looked at, and every figure is a condition on one hazard
row: two statements answer the whole board, each one scan of the scope's hazards (PostgreSQL
reads them from one covering index, migration 0015).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import statistics_region_paths
from app.core.clock import Clock, local_day_end, local_day_start, local_today
from app.core.db import count_if, valid_id
from app.core.errors import NotFound, Unprocessable
from app.models import Enterprise, Hazard, Industry, Region
from app.models.enums import HazardLevel, RegionLevel
from app.services.hazards.filters import HazardFilters
from app.services.hazards.queries import filtered_query, region_subtree
from app.workflow.states import ENDED_STATES, RECTIFICATION_OPEN, HazardState

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

# The request's instants are bound parameters: a scope's statements are then the same for
# every period and day, and are built once (`_statements`).
START = bindparam("period_start", type_=Hazard.reported_at.type)  # first instant of `from`
END = bindparam("period_end", type_=Hazard.reported_at.type)  # first instant after `to`
TODAY = bindparam("today", type_=Date())

# Each figure as a condition on one hazard row (its SQL twin of the list filter).
CONDITIONS: dict[str, ColumnElement[bool]] = {
    "open": Hazard.state.not_in(ENDED_STATES),
    "overdue": Hazard.state.in_(RECTIFICATION_OPEN) & (Hazard.deadline < TODAY),
    "listed": Hazard.under_listing,
    "open_at_start": (Hazard.reported_at < START)
    & (Hazard.ended_at.is_(None) | (Hazard.ended_at >= START)),
    "found": (Hazard.reported_at >= START) & (Hazard.reported_at < END)
    & (Hazard.state != HazardState.rejected),
    "closed": (Hazard.state == HazardState.closed) & (Hazard.ended_at >= START)
    & (Hazard.ended_at < END),
}
# The trend's hazards: reported, or ended (closed or rejected), in the period.
REPORTED = (Hazard.reported_at >= START) & (Hazard.reported_at < END)
ENDED = (Hazard.ended_at >= START) & (Hazard.ended_at < END)

# Aliases keep the outer queries' tables from being correlated into the scope's subqueries.
ENTERPRISE = aliased(Enterprise, name="hazard_enterprise")
TOWNSHIP = aliased(Region, name="township")


@dataclass(frozen=True)
class BoardQuery:
    level: HazardLevel | None
    start: date  # `from`
    end: date  # `to`, included
    region_id: int | None = None

    @classmethod
    def of(cls, level: HazardLevel | None, start: date | None, end: date | None,
           today: date, region_id: int | None = None) -> "BoardQuery":
        """The period defaults to this month so far: from its first day to today."""
        return cls(level=level, start=start or today.replace(day=1), end=end or today,
                   region_id=region_id)


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
    _check_region(session, actor, query.region_id)
    today = local_today(clock)
    windows = month_windows(query.start, query.end)
    by_group, trend = _statements(actor, query.level, query.region_id, today, len(windows))
    values = _values(query, windows, today)
    # Plain rows from the connection: the ORM's result machinery is not needed for counts.
    connection = session.connection()
    # Each statement is planned for the values at hand (app.db: plan_cache_mode): a generic
    # plan guessed the province's region subtree at one township and took twice as long.
    townships, industries, totals = _groups(connection.execute(by_group, values).all())
    base = _base_filters(query)
    params = _figure_params(query, base)
    return {
        "level": query.level,
        "from": query.start,
        "to": query.end,
        "region_id": query.region_id,
        "as_of": clock.now(),
        "labels": LABELS,
        "totals": _figures(totals, params),
        "by_township": [
            {"region_id": region_id, "code": code, "name": name,
             **_figures(counts, params, "region_id", region_id)}
            for region_id, code, name, *counts in townships
        ],
        "by_industry": [
            {"industry_id": industry_id, "code": code, "name": name,
             **_figures(counts, params, "industry_id", industry_id)}
            for industry_id, code, name, *counts in industries
        ],
        "trend": _trend(connection.execute(trend, values).all(), windows,
                        totals[FIGURES.index("open_at_start")], base),
    }


def _check_region(session: Session, actor: Actor, region_id: int | None) -> None:
    """404 for a region asked for that is unknown, or outside the caller's own area (a
    committee's subtree, an inspector's unit's regions), as the quarterly statistics answer."""
    if region_id is None:
        return
    path = (session.scalar(select(Region.path).where(Region.id == region_id))
            if valid_id(region_id) else None)
    if path is None or not any(path.startswith(p) for p in statistics_region_paths(session, actor)):
        raise NotFound("区域不存在")


@lru_cache(maxsize=256)
def _statements(actor: Actor, level: HazardLevel | None, region_id: int | None, today: date,
                months: int) -> tuple[CompoundSelect[Any], Select[Any]]:
    """The board's two statements for a scope and a number of months, the period's instants
    left to bound parameters (`_values`).

    Built once (an actor is immutable, and these are its visibility rules applied to a level
    and a region): building them anew cost about 4 ms of CPU a request, as much as running
    them on a county's hazards (bench/bench_board.py).
    """
    scope = filtered_query(actor, HazardFilters(level=level, region_id=region_id), today)
    return _by_group_statement(actor, scope, region_id), _trend_statement(scope, months)


def _values(query: BoardQuery, windows: list[tuple[str, date, date]],
            today: date) -> dict[str, Any]:
    """The bound parameters: the period's first and last instants, today, and the instant
    each month after the first begins."""
    return {START.key: local_day_start(query.start), END.key: local_day_end(query.end),
            TODAY.key: today,
            **{f"month_{i}": local_day_start(first)
               for i, (_, first, _) in enumerate(windows) if i}}


# The kinds of `_by_group_statement`'s rows, in the order they come.
TOWNSHIP_ROW, INDUSTRY_ROW, TOTAL_ROW = 1, 2, 3


def _by_group_statement(actor: Actor, scope: Select[Any],
                        region_id: int | None) -> CompoundSelect[Any]:
    """The six figures counted once per (township, industry), then summed per township
    (every township of the scope's root, zeros included, and any other township a visible
    hazard lies in: an inspector's assigned ones), per industry, and in total.

    Rows (kind, id, code, name, *figures): townships by division code, then industries by
    code, then the total.
    """
    counts = (
        scope.join(ENTERPRISE, ENTERPRISE.id == Hazard.enterprise_id)
        .with_only_columns(Hazard.region_id, ENTERPRISE.industry_id,
                           *(count_if(condition).label(name)
                             for name, condition in CONDITIONS.items()))
        .group_by(Hazard.region_id, ENTERPRISE.industry_id)
        .cte("counts")
    )
    # Cast: PostgreSQL sums bigints as numeric.
    sums = [cast(func.coalesce(func.sum(counts.c[name]), 0), Integer).label(name)
            for name in FIGURES]
    if region_id is not None:
        roots = [TOWNSHIP.id.in_(region_subtree(region_id))]
    else:
        paths = (actor.region_path,) if actor.region_path else actor.unit_region_paths
        roots = [TOWNSHIP.path.startswith(path, autoescape=True) for path in paths if path]
    townships = (
        select(literal_column(str(TOWNSHIP_ROW)).label("kind"), TOWNSHIP.id, TOWNSHIP.code,
               TOWNSHIP.name, *sums)
        .outerjoin(counts, counts.c.region_id == TOWNSHIP.id)
        .where(TOWNSHIP.level == RegionLevel.township,
               or_(counts.c.region_id.is_not(None), *roots))
        .group_by(TOWNSHIP.id, TOWNSHIP.code, TOWNSHIP.name)
    )
    industries = (
        select(literal_column(str(INDUSTRY_ROW)), Industry.id, Industry.code, Industry.name,
               *sums)
        .join(counts, counts.c.industry_id == Industry.id)
        .group_by(Industry.id, Industry.code, Industry.name)
    )
    total = (select(literal_column(str(TOTAL_ROW)), null(), null(), null(), *sums)
             .select_from(counts))
    return union_all(townships, industries, total).order_by("kind", "code")


def _trend_statement(scope: Select[Any], months: int) -> Select[Any]:
    """Hazards reported or ended in the period, by (month reported, month ended): few rows,
    from which every month's figures follow."""
    reported = _month_of(Hazard.reported_at, months)
    ended = _month_of(Hazard.ended_at, months)
    return (
        scope.where(REPORTED | ENDED)
        .with_only_columns(reported.label("reported_month"), ended.label("ended_month"),
                           func.count().label("hazards"),
                           count_if(Hazard.state == HazardState.closed).label("closed"),
                           count_if(Hazard.state == HazardState.rejected).label("rejected"))
        .group_by(reported, ended)
    )


def _month_of(column: ColumnElement[datetime | None], months: int) -> ColumnElement[int]:
    """The month of the period an instant falls in (0: the first), null outside the period.

    Compared with each month's first instant (bound parameters), which is exact in any time
    zone and several times cheaper than formatting every row's local date.
    """
    whens: list[tuple[ColumnElement[bool], Any]] = [(column < START, null())]
    whens += [(column < bindparam(f"month_{i}", type_=START.type), literal_column(str(i - 1)))
              for i in range(1, months)]
    whens.append((column < END, literal_column(str(months - 1))))
    return case(*whens, else_=null())


def _groups(rows: Iterable[Row[Any]]) -> tuple[list[Row[Any]], list[Row[Any]], list[int]]:
    """Township rows and industry rows (id, code, name, *figures), and the totals."""
    townships, industries, totals = [], [], [0] * len(FIGURES)
    for kind, *row in rows:
        if kind == TOWNSHIP_ROW:
            townships.append(row)
        elif kind == INDUSTRY_ROW:
            industries.append(row)
        else:  # TOTAL_ROW
            totals = row[3:]
    return townships, industries, totals


def _trend(rows: Iterable[Row[Any]], windows: list[tuple[str, date, date]], open_at_start: int,
           base: HazardFilters) -> list[dict[str, Any]]:
    """Per month of the period (clipped to it): found, closed, open at its end.

    What is open at a month's end follows exactly: open at the period's start, plus every
    hazard reported since, minus every hazard ended (closed or rejected) since.
    """
    reported, found, ended, closed = ([0] * len(windows) for _ in range(4))
    for reported_month, ended_month, hazards, closed_count, rejected_count in rows:
        if reported_month is not None:
            reported[reported_month] += hazards
            found[reported_month] += hazards - rejected_count
        if ended_month is not None:
            ended[ended_month] += hazards
            closed[ended_month] += closed_count
    trend, still_open = [], open_at_start
    for i, (month, first, last) in enumerate(windows):
        still_open += reported[i] - ended[i]
        trend.append({
            "month": month,
            "found": {"count": found[i], "params": _found(base, first, last)},
            "closed": {"count": closed[i], "params": _closed(base, first, last)},
            "open_at_end": {"count": still_open,
                            "params": base.model_copy(update={"open_on": last}).params()},
        })
    return trend


def _base_filters(query: BoardQuery) -> HazardFilters:
    return HazardFilters(level=query.level, region_id=query.region_id)


def _found(base: HazardFilters, start: date, end: date) -> dict[str, str]:
    return base.model_copy(update={"reported_from": start, "reported_to": end,
                                   "rejected": False}).params()


def _closed(base: HazardFilters, start: date, end: date) -> dict[str, str]:
    return base.model_copy(update={"closed_from": start, "closed_to": end}).params()


def _figure_params(query: BoardQuery, base: HazardFilters) -> list[dict[str, str]]:
    """The list filters that select the hazards each figure counts, in FIGURES order."""
    return [
        base.model_copy(update={"open": True}).params(),
        base.model_copy(update={"overdue": True}).params(),
        base.model_copy(update={"listed": True}).params(),
        base.model_copy(update={"open_on": query.start - timedelta(days=1)}).params(),
        _found(base, query.start, query.end),
        _closed(base, query.start, query.end),
    ]


def _figures(counts: Sequence[int], params: list[dict[str, str]], key: str | None = None,
             group_id: int | None = None) -> dict[str, Any]:
    """The six figures of a group (the whole scope, or the township / industry `group_id`,
    whose list filter `key` narrows each figure's parameters), and its clearance rate."""
    out: dict[str, Any] = {}
    for name, count, figure_params in zip(FIGURES, counts, params, strict=True):
        if key is not None:
            figure_params = {**figure_params, key: str(group_id)}
        out[name] = {"count": count, "params": figure_params}
    base = out["open_at_start"]["count"] + out["found"]["count"]
    out["clearance_rate"] = round(out["closed"]["count"] / base, 4) if base else None
    return out
