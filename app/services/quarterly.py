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
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.config import get_settings
from app.errors import Unprocessable
from app.models import Event, Hazard, Region
from app.models.enums import HazardLevel
from app.permissions import (
    Actor,
    statistics_hazards,
)
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


@dataclass
class Counts:
    found: int = 0
    rectified: int = 0
    outstanding: int = 0
    carried_over: int = 0

    def add(self, other: "Counts") -> None:
        for name in ("found", "rectified", "outstanding", "carried_over"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def rate(self) -> float | None:
        due = self.rectified + self.outstanding
        return round(self.rectified / due, 4) if due else None


@dataclass
class Figures:
    general: Counts = field(default_factory=Counts)
    major: Counts = field(default_factory=Counts)
    major_planned: int = 0
    funds_planned: Decimal = Decimal("0.00")

    def add(self, other: "Figures") -> None:
        self.general.add(other.general)
        self.major.add(other.major)
        self.major_planned += other.major_planned
        self.funds_planned += other.funds_planned

    def as_dict(self) -> dict[str, Any]:
        """Flat, in FIGURE_LABELS order: the JSON fields, the XLSX columns, the snapshot."""
        total = Counts()
        total.add(self.general)
        total.add(self.major)
        values: dict[str, Any] = {}
        for prefix, counts in (("", total), ("general_", self.general), ("major_", self.major)):
            for item in fields(Counts):
                values[prefix + item.name] = getattr(counts, item.name)
            values[prefix + "rectification_rate"] = counts.rate
        values["major_planned"] = self.major_planned
        values["funds_planned"] = self.funds_planned.quantize(CENT)
        return values


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


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def hazard_figures(
    session: Session, *, actor: Actor, quarter: Quarter, region_path: str | None
) -> dict[Cell, Figures]:
    """The quarter's figures of every (enterprise, township) in the actor's scope, in two
    GROUP BY queries: the counts, then the plans accepted in the quarter."""
    start, end = quarter.start_at(), quarter.end_at()
    verified_at = func.min(case((Event.to_state.in_(DONE_STATES), Event.at), else_=None))
    rejected_at = func.min(case((Event.to_state == HazardState.rejected, Event.at), else_=None))
    milestone = (
        select(Event.hazard_id, verified_at.label("verified_at"),
               rejected_at.label("rejected_at"))
        .where(Event.to_state.in_((*DONE_STATES, HazardState.rejected)), Event.at < end)
        .group_by(Event.hazard_id)
        .subquery("milestone")
    )
    # An alias: the scope's subqueries select from `region` and must not correlate to it.
    township = aliased(Region)
    scope = [statistics_hazards(actor)]
    if region_path is not None:
        scope.append(township.path.startswith(region_path, autoescape=True))
    counts = (
        select(
            Hazard.enterprise_id, township.path, Hazard.level,
            _count(Hazard.reported_at >= start),
            _count(milestone.c.verified_at.is_not(None)),
            _count(milestone.c.verified_at.is_(None)),
            _count(Hazard.reported_at < start),
        )
        .join(township, township.id == Hazard.region_id)
        .outerjoin(milestone, milestone.c.hazard_id == Hazard.id)
        .where(
            Hazard.reported_at < end,
            milestone.c.rejected_at.is_(None),
            # Rectified before the quarter: neither found, rectified nor open in it.
            or_(milestone.c.verified_at.is_(None), milestone.c.verified_at >= start),
            *scope,
        )
        .group_by(Hazard.enterprise_id, township.path, Hazard.level)
    )
    result: dict[Cell, Figures] = {}
    for enterprise_id, path, level, found, rectified, outstanding, carried in session.execute(
        counts
    ):
        figures = result.setdefault((enterprise_id, path), Figures())
        # Two levels exist (HazardLevel); anything else would be a general hazard.
        target = figures.major if level == HazardLevel.major else figures.general
        target.add(Counts(int(found), int(rectified), int(outstanding), int(carried)))
    plans = (
        select(Hazard.enterprise_id, township.path, Event.data, Hazard.plan)
        .join(Event, Event.hazard_id == Hazard.id)
        .join(township, township.id == Hazard.region_id)
        .where(
            Event.action == "accept", Event.at >= start, Event.at < end,
            Hazard.level == HazardLevel.major, *scope,
        )
    )
    for enterprise_id, path, data, plan in session.execute(plans):
        figures = result.setdefault((enterprise_id, path), Figures())
        figures.major_planned += 1
        # The accept event carries the plan as filed; the hazard's copy is the fallback for
        # rows written by other tools.
        filed = (data or {}).get("plan") or plan or {}
        amount = parse_funds(filed.get("funds")) if isinstance(filed, dict) else None
        if amount is not None:
            figures.funds_planned += amount
    return result


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


