"""季度统计分析: quarterly hazard statistics per enterprise, unit and region, and their filing.

The 2007 rules (安全生产事故隐患排查治理暂行规定, art. 14) require enterprises to file the
quarterly statistics of their hazard investigation and rectification by the 15th of the month
after each quarter; supervising units and regions roll them up.

Definitions (a quarter runs from 00:00 on its first day to 00:00 on the next quarter's first
day, Asia/Shanghai). Every figure is computed from the timeline as it stood at the quarter's
end — events are append-only, so a past quarter's figures never change afterwards:
- counted hazards: reported before the quarter's end and not rejected (不予受理) before it;
- rectified (已整改) at time t: the hazard had reached `verified` (or later) by t, i.e. its
  first event into verified / spot_checked / closed is before t. A later failed spot-check
  does not undo a past quarter's figure;
- found (排查隐患数): counted hazards reported in the quarter;
- rectified in the quarter (本季整改数): counted hazards first verified in the quarter,
  whenever they were found;
- outstanding (季末未整改数): counted hazards not yet verified at the quarter's end;
- carried over (上季结转数): counted hazards reported before the quarter and not yet verified
  at its start;
- rectification rate (整改率) = rectified / (rectified + outstanding), i.e. rectified out of
  everything that had to be rectified in the quarter (carried over + found); null when 0;
- the same per level (general 一般 / major 重大);
- major planned (重大隐患列入治理计划数): major hazards accepted (签收, with the 五定 plan) in
  the quarter; funds planned (计划治理资金): the sum of their plans' funds, in 元 (yuan, the unit
  the accept form takes), read from the accept event's plan.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, insert, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.scopes import statistics_cells
from app.core.config import get_settings
from app.core.errors import Unprocessable
from app.models import Event, Hazard, QuarterlyTally, QuarterlyTallyCell, Region
from app.models.enums import HazardLevel
from app.workflow.states import HazardState

MIN_YEAR, MAX_YEAR = 2000, 2100
DONE_STATES = (HazardState.verified, HazardState.spot_checked, HazardState.closed)
FUNDS_UNIT = "元"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Quarter:
    year: int
    quarter: int

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def next_first_day(self) -> date:
        if self.quarter == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.quarter + 1, 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next_first_day.toordinal() - 1)

    @property
    def due_on(self) -> date:
        """The 15th of the month after the quarter (art. 14)."""
        return self.next_first_day.replace(day=15)

    def start_at(self) -> datetime:
        return _local_midnight(self.first_day)

    def end_at(self) -> datetime:
        return _local_midnight(self.next_first_day)


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=get_settings().tz).astimezone(UTC)


def local_date(at: datetime) -> date:
    return at.astimezone(get_settings().tz).date()


# --- figures -------------------------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    found: int = 0
    rectified: int = 0
    outstanding: int = 0
    carried_over: int = 0

    def add(self, other: "Counts") -> None:
        # Spelt out: a province's report adds tens of thousands of these.
        self.found += other.found
        self.rectified += other.rectified
        self.outstanding += other.outstanding
        self.carried_over += other.carried_over

    @property
    def rate(self) -> float | None:
        due = self.rectified + self.outstanding
        return round(self.rectified / due, 4) if due else None


@dataclass(slots=True)
class Figures:
    general: Counts = field(default_factory=Counts)
    major: Counts = field(default_factory=Counts)
    major_planned: int = 0
    funds_planned: Decimal = Decimal("0.00")

    def add(self, other: "Figures") -> None:
        # Spelt out, as Counts.add: a province's report adds tens of thousands of these.
        general, major = self.general, self.major
        general.found += other.general.found
        general.rectified += other.general.rectified
        general.outstanding += other.general.outstanding
        general.carried_over += other.general.carried_over
        major.found += other.major.found
        major.rectified += other.major.rectified
        major.outstanding += other.major.outstanding
        major.carried_over += other.major.carried_over
        self.major_planned += other.major_planned
        self.funds_planned += other.funds_planned

    def as_dict(self) -> dict[str, Any]:
        """Flat, in FIGURE_LABELS order: the JSON fields, the XLSX columns, the snapshot."""
        general, major = self.general, self.major
        total = Counts(general.found + major.found, general.rectified + major.rectified,
                       general.outstanding + major.outstanding,
                       general.carried_over + major.carried_over)
        values: dict[str, Any] = {}
        for keys, counts in zip(_KEYS, (total, general, major), strict=True):
            found, rectified, outstanding, carried_over, rate = keys
            values[found] = counts.found
            values[rectified] = counts.rectified
            values[outstanding] = counts.outstanding
            values[carried_over] = counts.carried_over
            values[rate] = counts.rate
        values["major_planned"] = self.major_planned
        values["funds_planned"] = self.funds_planned.quantize(CENT)
        return values


# Figures.as_dict()'s keys of the total, the general and the major counts.
_KEYS = tuple(tuple(prefix + name for name in (
    "found", "rectified", "outstanding", "carried_over", "rectification_rate"))
    for prefix in ("", "general_", "major_"))


# Column headers (XLSX) for Figures.as_dict(), in order.
FIGURE_LABELS: dict[str, str] = {
    "found": "排查隐患数", "rectified": "本季整改数", "outstanding": "季末未整改数",
    "carried_over": "上季结转数", "rectification_rate": "整改率",
    "general_found": "一般隐患数", "general_rectified": "一般隐患整改数",
    "general_outstanding": "一般隐患未整改数", "general_carried_over": "一般隐患结转数",
    "general_rectification_rate": "一般隐患整改率",
    "major_found": "重大隐患数", "major_rectified": "重大隐患整改数",
    "major_outstanding": "重大隐患未整改数", "major_carried_over": "重大隐患结转数",
    "major_rectification_rate": "重大隐患整改率",
    "major_planned": "重大隐患列入治理计划数", "funds_planned": "计划治理资金（元）",
}

_FUNDS_NOISE = re.compile(r"[\s,，¥￥]")


def parse_funds(value: Any) -> Decimal | None:
    """An amount in 元 from a 五定 plan: 85000, "85000.00", "8.5万", "85,000元"; None when it
    is not a finite, non-negative amount (such a plan adds nothing to the sum)."""
    if isinstance(value, bool) or value is None:
        return None
    text = _FUNDS_NOISE.sub("", str(value))
    scale = Decimal(1)
    for suffix, factor in (("万元", 10_000), ("万", 10_000), ("元", 1)):
        if text.endswith(suffix):
            text, scale = text.removesuffix(suffix), Decimal(factor)
            break
    try:
        amount = Decimal(text) * scale
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


# --- the queries ---------------------------------------------------------------------------

# Figures of the hazards of one enterprise in one township (the township's region path).
Cell = tuple[int, str]
# The same by the township's id, as the queries and the tally keep it.
CellKey = tuple[int, int]

# A hazard's first entry into a done state or into 不予受理 (ix_event_milestone).
MILESTONE_STATES = (*DONE_STATES, HazardState.rejected)
# A quarter is tallied once it ended this long ago: what a request stamped before the end has
# been committed by then (every event and report is stamped with the server's time when its
# request runs).
SETTLE = timedelta(hours=1)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def hazard_figures(
    session: Session, *, actor: Actor, quarter: Quarter, region_path: str | None,
    now: datetime,
) -> dict[Cell, Figures]:
    """The quarter's figures of every (enterprise, township) in the actor's scope: from the
    quarter's tally once it has ended (tallied on the first request after SETTLE), else
    counted from the timeline."""
    if _tallied(session, quarter, now):
        cell = QuarterlyTallyCell
        cells = _tally_cells(session, quarter, [
            statistics_cells(actor, cell.enterprise_id, cell.region_id),
            *_within(cell.region_id, region_path)])
    else:
        cells = count_cells(session, quarter, [
            statistics_cells(actor, Hazard.enterprise_id, Hazard.region_id),
            *_within(Hazard.region_id, region_path)])
    return _by_path(session, cells)


def _within(region_id: ColumnElement[int], region_path: str | None) -> list[ColumnElement[bool]]:
    if region_path is None:
        return []
    return [region_id.in_(select(Region.id).where(
        Region.path.startswith(region_path, autoescape=True)))]


def _by_path(session: Session, cells: dict[CellKey, Figures]) -> dict[Cell, Figures]:
    townships = {region_id for _, region_id in cells}
    if not townships:
        return {}
    paths = {region_id: path for region_id, path in session.execute(
        select(Region.id, Region.path).where(Region.id.in_(townships)))}
    return {(enterprise_id, paths[region_id]): figures
            for (enterprise_id, region_id), figures in cells.items()}


def count_cells(
    session: Session, quarter: Quarter, scope: list[ColumnElement[bool]]
) -> dict[CellKey, Figures]:
    """The quarter's figures from the timeline, for the hazards matching `scope`, in two
    GROUP BY queries: the counts, then the plans accepted in the quarter.

    Per hazard reported before the quarter's end (an enterprise's from
    ix_hazard_enterprise_reported), its first entry into a done state and into 不予受理
    before the end (ix_event_milestone): a handful of index entries each, whatever the size
    of the timeline.
    """
    start, end = quarter.start_at(), quarter.end_at()
    verified_at = func.min(case((Event.to_state.in_(DONE_STATES), Event.at), else_=None))
    rejected_at = func.min(case((Event.to_state == HazardState.rejected, Event.at), else_=None))
    per_hazard = (
        select(Hazard.enterprise_id, Hazard.region_id, Hazard.level, Hazard.reported_at,
               verified_at.label("verified_at"), rejected_at.label("rejected_at"))
        .outerjoin(Event, and_(
            Event.hazard_id == Hazard.id, Event.at < end,
            # ix_event_milestone's predicate (app/models/statistics.py).
            Event.to_state.in_(MILESTONE_STATES), Event.from_state.not_in(DONE_STATES)))
        .where(Hazard.reported_at < end, *scope)
        .group_by(Hazard.id, Hazard.enterprise_id, Hazard.region_id, Hazard.level,
                  Hazard.reported_at)
        .subquery("per_hazard")
    )
    h = per_hazard.c
    counts = (
        select(h.enterprise_id, h.region_id, h.level,
               _count(h.reported_at >= start), _count(h.verified_at.is_not(None)),
               _count(h.verified_at.is_(None)), _count(h.reported_at < start))
        .where(h.rejected_at.is_(None),
               # Rectified before the quarter: neither found, rectified nor open in it.
               or_(h.verified_at.is_(None), h.verified_at >= start))
        .group_by(h.enterprise_id, h.region_id, h.level)
    )
    result: dict[CellKey, Figures] = {}
    for enterprise_id, region_id, level, found, rectified, outstanding, carried in (
        session.execute(counts)
    ):
        figures = result.setdefault((enterprise_id, region_id), Figures())
        # Two levels exist (HazardLevel); anything else would be a general hazard.
        target = figures.major if level == HazardLevel.major else figures.general
        target.add(Counts(int(found), int(rectified), int(outstanding), int(carried)))
    plans = (
        select(Hazard.enterprise_id, Hazard.region_id, Event.data, Hazard.plan)
        .join(Event, Event.hazard_id == Hazard.id)
        .where(
            # ix_event_accept's predicate.
            Event.action == "accept", Event.at >= start, Event.at < end,
            Hazard.level == HazardLevel.major, *scope,
        )
    )
    for enterprise_id, region_id, data, plan in session.execute(plans):
        figures = result.setdefault((enterprise_id, region_id), Figures())
        figures.major_planned += 1
        # The accept event carries the plan as filed; the hazard's copy is the fallback for
        # rows written by other tools.
        filed = (data or {}).get("plan") or plan or {}
        amount = parse_funds(filed.get("funds")) if isinstance(filed, dict) else None
        if amount is not None:
            figures.funds_planned += amount
    return result


# --- the tally of ended quarters -----------------------------------------------------------
#
# Why a tally is exact: every figure of a quarter is a function of the hazards reported
# before its end (their enterprise, township, level and report time, none of which ever
# changes), of their events stamped before its end (the timeline is append-only) and of the
# plan a hazard gets in the same transaction as its accept event. Events and reports are
# stamped with the server's time when their request runs, so once the quarter has ended (and
# SETTLE has passed for requests still in flight at the end) no row can join or leave that
# input: counting it again gives the same cells, which the tally keeps. Scope is applied when
# the cells are read (statistics_cells: the same hazards as statistics_hazards), and names
# and paths are read live, so a cell never says more than the caller could count itself.
# The one writer of past timestamps, `bihuan scale generate`, refuses a database that holds
# hazards. tests/api/test_quarterly.py checks the tally against counting for every kind of
# caller.


def _tallied(session: Session, quarter: Quarter, now: datetime) -> bool:
    """Whether the quarter's tally is there, building it if the quarter is old enough."""
    if session.get(QuarterlyTally, (quarter.year, quarter.quarter)) is not None:
        return True
    if quarter.end_at() + SETTLE > now:
        return False
    return build_tally(session, quarter, now)


def build_tally(session: Session, quarter: Quarter, now: datetime) -> bool:
    """Count an ended quarter's cells for every hazard and store them with the quarter's
    marker; False when there are none (nothing to save, and a database without hazards may
    yet be filled by `bihuan scale generate`). Two requests racing to build it: the second's
    insert fails on the marker's key and is undone; the cells it reads then are the first
    one's, the same."""
    cells = count_cells(session, quarter, [])
    if not cells:
        return False
    try:
        with session.begin_nested():
            session.add(QuarterlyTally(year=quarter.year, quarter=quarter.quarter,
                                       built_at=now))
            session.flush()
            rows = [_cell_row(quarter, key, figures) for key, figures in cells.items()]
            for chunk in range(0, len(rows), 5000):
                session.execute(insert(QuarterlyTallyCell), rows[chunk:chunk + 5000])
    except IntegrityError:
        return True
    if session.get_bind().dialect.name == "postgresql":
        # A quarter's cells arrive at once (20,000 for a province): planned as an empty
        # table until autovacuum's next look, the reports' joins would loop row by row.
        session.execute(text("ANALYZE quarterly_tally_cell"))
    return True


def _cell_row(quarter: Quarter, key: CellKey, figures: Figures) -> dict[str, Any]:
    row: dict[str, Any] = {"year": quarter.year, "quarter": quarter.quarter,
                           "enterprise_id": key[0], "region_id": key[1],
                           "major_planned": figures.major_planned,
                           "funds_planned": str(figures.funds_planned)}
    for level, counts in (("general", figures.general), ("major", figures.major)):
        for item in fields(Counts):
            row[f"{level}_{item.name}"] = getattr(counts, item.name)
    return row


def _tally_cells(
    session: Session, quarter: Quarter, scope: list[ColumnElement[bool]]
) -> dict[CellKey, Figures]:
    cell = QuarterlyTallyCell
    query = select(
        cell.enterprise_id, cell.region_id,
        cell.general_found, cell.general_rectified, cell.general_outstanding,
        cell.general_carried_over, cell.major_found, cell.major_rectified,
        cell.major_outstanding, cell.major_carried_over, cell.major_planned,
        cell.funds_planned,
    ).where(cell.year == quarter.year, cell.quarter == quarter.quarter, *scope)
    return {
        (row[0], row[1]): Figures(Counts(*row[2:6]), Counts(*row[6:10]), row[10],
                                  Decimal(row[11]))
        for row in session.execute(query)
    }


def sum_figures(figures: Iterable[Figures]) -> Figures:
    total = Figures()
    for item in figures:
        total.add(item)
    return total


def invalid(where: str, name: str, message: str) -> Unprocessable:
    """A 422 in the shape FastAPI gives its own validation errors."""
    return Unprocessable([{"loc": [where, name], "msg": message, "type": "value_error"}])


def check_quarter(year: int, quarter: int) -> Quarter:
    # The router's Query bounds already say this; the service does not rely on them.
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise invalid("query", "year", f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    if not 1 <= quarter <= 4:
        raise invalid("query", "quarter", "季度应为 1–4")
    return Quarter(year, quarter)


