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
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.clock import Clock
from app.config import get_settings
from app.db import valid_id
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models import Enterprise, Event, Hazard, QuarterlyFiling, Region, Unit
from app.models.enums import HazardLevel, PartyType, Role
from app.permissions import (
    Actor,
    quarterly_filing_visibility,
    require_role,
    statistics_enterprises,
    statistics_hazards,
    statistics_region_paths,
    statistics_units,
    unit_enterprise_pairs,
)
from app.schemas.common import NO_NUL
from app.workflow.fields import parse_fields
from app.workflow.states import HazardState

MIN_YEAR, MAX_YEAR = 2000, 2100
DONE_STATES = (HazardState.verified, HazardState.spot_checked, HazardState.closed)
FUNDS_UNIT = "元"
CENT = Decimal("0.01")


class GroupBy(StrEnum):
    enterprise = "enterprise"
    unit = "unit"
    region = "region"


class FilingState(StrEnum):
    on_time = "on_time"  # 已按时上报
    late = "late"  # 逾期上报
    pending = "pending"  # 未上报 (the due date has not passed)
    overdue = "overdue"  # 逾期未上报


FILING_STATE_LABELS = {
    FilingState.on_time: "已按时上报",
    FilingState.late: "逾期上报",
    FilingState.pending: "未上报",
    FilingState.overdue: "逾期未上报",
}


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


def _local_date(at: datetime) -> date:
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


def _sum(figures: Iterable[Figures]) -> Figures:
    total = Figures()
    for item in figures:
        total.add(item)
    return total


# --- filings -------------------------------------------------------------------------------


@dataclass
class FilingStatus:
    state: FilingState
    version: int | None = None
    first_filed_at: datetime | None = None
    filed_at: datetime | None = None  # the latest filing, the one that counts

    @property
    def filed(self) -> bool:
        return self.version is not None

    @property
    def late(self) -> bool | None:
        return self.state == FilingState.late if self.filed else None

    @property
    def label(self) -> str:
        return FILING_STATE_LABELS[self.state]


def filing_statuses(
    session: Session, *, actor: Actor, quarter: Quarter
) -> dict[tuple[PartyType, int], FilingStatus]:
    """Every filing party in the actor's scope that has filed for the quarter, with its status;
    a party that is missing has not filed. Late is judged on the first filing: a correction
    filed after the due date does not make an on-time filing late."""
    query = (
        select(QuarterlyFiling.party_type, QuarterlyFiling.party_id,
               func.max(QuarterlyFiling.version), func.min(QuarterlyFiling.filed_at),
               func.max(QuarterlyFiling.filed_at))
        .where(QuarterlyFiling.year == quarter.year, QuarterlyFiling.quarter == quarter.quarter,
               quarterly_filing_visibility(actor))
        .group_by(QuarterlyFiling.party_type, QuarterlyFiling.party_id)
    )
    statuses = {}
    for party_type, party_id, version, first, latest in session.execute(query):
        state = FilingState.late if _local_date(first) > quarter.due_on else FilingState.on_time
        statuses[(PartyType(party_type), party_id)] = FilingStatus(state, version, first, latest)
    return statuses


def not_filed_status(quarter: Quarter, today: date) -> FilingStatus:
    return FilingStatus(FilingState.overdue if today > quarter.due_on else FilingState.pending)


# --- the report ----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the report: an enterprise, a unit or a region."""

    kind: str  # enterprise / unit / region
    id: int
    name: str
    figures: Figures
    code: str | None = None  # 统一社会信用代码, or the region's 区划代码
    region_name: str | None = None  # an enterprise's township
    region_path: str | None = None
    filing: FilingStatus | None = None  # enterprises and units: they file
    enterprises: int | None = None  # regions: enterprises in scope, and how many filed
    enterprises_filed: int | None = None


@dataclass
class Party:
    party_type: PartyType
    id: int
    name: str


@dataclass
class Report:
    quarter: Quarter
    by: GroupBy
    region_id: int | None
    ended: bool
    total: Figures
    rows: list[Row]
    not_filed: list[Party]
    funds_unit: str = FUNDS_UNIT


def invalid(where: str, name: str, message: str) -> Unprocessable:
    """A 422 in the shape FastAPI gives its own validation errors."""
    return Unprocessable([{"loc": [where, name], "msg": message, "type": "value_error"}])


def _check_quarter(year: int, quarter: int) -> Quarter:
    # The router's Query bounds already say this; the service does not rely on them.
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise invalid("query", "year", f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    if not 1 <= quarter <= 4:
        raise invalid("query", "quarter", "季度应为 1–4")
    return Quarter(year, quarter)


def _region(session: Session, actor: Actor, region_id: int) -> Region:
    """A region the actor may narrow its statistics to; 404 for any other."""
    region = session.get(Region, region_id) if valid_id(region_id) else None
    paths = statistics_region_paths(session, actor)
    if region is None or not any(region.path.startswith(p) for p in paths):
        raise NotFound("区域不存在")
    return region


def _default_root(session: Session, actor: Actor) -> Region | None:
    """Where a by-region report starts: a committee's region, an inspector's unit's."""
    if actor.role == Role.inspector and actor.unit_id is not None:
        unit = session.get(Unit, actor.unit_id)
        return unit and session.get(Region, unit.region_id)
    return session.get(Region, actor.region_id) if actor.region_id is not None else None


def _enterprises(session: Session, actor: Actor, region_path: str | None) -> list[Row]:
    enterprise, township = aliased(Enterprise), aliased(Region)
    query = (
        select(enterprise.id, enterprise.name, enterprise.uscc, township.name, township.path)
        .join(township, township.id == enterprise.region_id)
        .where(enterprise.id.in_(statistics_enterprises(actor)))
        .order_by(township.path, enterprise.name, enterprise.id)
    )
    if region_path is not None:
        query = query.where(township.path.startswith(region_path, autoescape=True))
    return [Row("enterprise", id_, name, Figures(), code=uscc, region_name=township_name,
                region_path=path)
            for id_, name, uscc, township_name, path in session.execute(query)]


def _units(
    session: Session, actor: Actor, region_path: str | None, enterprise_ids: set[int]
) -> tuple[list[Row], dict[int, set[int]]]:
    """The units in scope and the in-scope enterprises each supervises. With a region, the
    units located in it and those supervising an enterprise in it."""
    unit, area = aliased(Unit), aliased(Region)
    units = session.execute(
        select(unit.id, unit.name, area.path)
        .join(area, area.id == unit.region_id)
        .where(unit.id.in_(statistics_units(actor)))
        .order_by(area.path, unit.id)
    ).all()
    supervised: dict[int, set[int]] = {}
    for unit_id, enterprise_id in session.execute(unit_enterprise_pairs(statistics_units(actor))):
        if enterprise_id in enterprise_ids:
            supervised.setdefault(unit_id, set()).add(enterprise_id)
    rows = [
        Row("unit", unit_id, name, Figures())
        for unit_id, name, path in units
        if region_path is None or path.startswith(region_path) or unit_id in supervised
    ]
    return rows, supervised


def quarterly_report(
    session: Session,
    *,
    actor: Actor,
    year: int,
    quarter: int,
    by: GroupBy,
    region_id: int | None,
    clock: Clock,
) -> Report:
    """The quarter's figures for what the actor may see, one row per enterprise, unit or
    region (a region's row covers its subtree), with each filer's filing status."""
    q = _check_quarter(year, quarter)
    if by != GroupBy.enterprise:
        require_role(actor, "quarterly_rollup")
    now = clock.now()
    today = _local_date(now)
    if q.first_day > today:
        raise invalid("query", "quarter", "该季度尚未开始")
    region = _region(session, actor, region_id) if region_id is not None else None
    if by == GroupBy.region and region is None:
        region = _default_root(session, actor)
    region_path = region.path if region is not None else None

    cells = hazard_figures(session, actor=actor, quarter=q, region_path=region_path)
    statuses = filing_statuses(session, actor=actor, quarter=q)
    missing = not_filed_status(q, today)
    enterprises = _enterprises(session, actor, region_path)
    units, supervised = _units(session, actor, region_path, {e.id for e in enterprises})
    by_enterprise: dict[int, Figures] = {}
    for (enterprise_id, _), figures in cells.items():
        by_enterprise.setdefault(enterprise_id, Figures()).add(figures)
    for row in enterprises:
        row.figures = by_enterprise.get(row.id, Figures())
        row.filing = statuses.get((PartyType.enterprise, row.id), missing)
    for row in units:
        row.figures = _sum(by_enterprise.get(e, Figures()) for e in supervised.get(row.id, ()))
        row.filing = statuses.get((PartyType.unit, row.id), missing)

    if by == GroupBy.enterprise:
        rows = enterprises
    elif by == GroupBy.unit:
        rows = units
    else:
        rows = _region_rows(session, region, cells, enterprises, statuses)
    not_filed = [
        Party(PartyType(row.kind), row.id, row.name)
        for row in (*enterprises, *units)
        if row.filing is not None and not row.filing.filed
    ]
    return Report(
        quarter=q, by=by, region_id=region.id if region is not None else None,
        ended=q.end_at() <= now, total=_sum(cells.values()), rows=rows, not_filed=not_filed,
    )


def _region_rows(
    session: Session,
    root: Region | None,
    cells: dict[Cell, Figures],
    enterprises: list[Row],
    statuses: dict[tuple[PartyType, int], FilingStatus],
) -> list[Row]:
    """The root's children (each its subtree), or the root alone when it has none."""
    if root is None:
        return []
    children = session.scalars(
        select(Region).where(Region.parent_id == root.id).order_by(Region.code)
    ).all() or [root]
    rows = []
    for region in children:
        inside = [e.id for e in enterprises if (e.region_path or "").startswith(region.path)]
        rows.append(Row(
            "region", region.id, region.name, code=region.code,
            figures=_sum(f for (_, path), f in cells.items() if path.startswith(region.path)),
            enterprises=len(inside),
            enterprises_filed=sum((PartyType.enterprise, e) in statuses for e in inside),
        ))
    return rows


# --- filing --------------------------------------------------------------------------------


class FilingFields(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    quarter: int = Field(ge=1, le=4)
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)


def file_quarterly(
    session: Session, *, actor: Actor, data: dict[str, Any], clock: Clock
) -> QuarterlyFiling:
    """上报季度统计: snapshot the filer's figures for an ended quarter as its next version.

    An enterprise user files for its enterprise, an inspector for its unit. Filing again is
    allowed (a correction): it adds a version and the latest counts; lateness is recorded on
    each filing, and a party's status is judged on its first one.
    """
    require_role(actor, "quarterly_filing")
    if actor.role == Role.enterprise and actor.enterprise_id is not None:
        party_type, party_id, by = PartyType.enterprise, actor.enterprise_id, GroupBy.enterprise
    elif actor.role == Role.inspector and actor.unit_id is not None:
        party_type, party_id, by = PartyType.unit, actor.unit_id, GroupBy.unit
    else:
        raise Forbidden("您的账号未关联企业或监管单位，不能上报季度统计")
    now = clock.now()
    fields_, errors = parse_fields(FilingFields, data, today=_local_date(now))
    if not isinstance(fields_, FilingFields):
        raise Unprocessable(errors)
    q = Quarter(fields_.year, fields_.quarter)
    if q.end_at() > now:
        raise invalid("body", "quarter", "该季度尚未结束，结束后才能上报")
    report = quarterly_report(session, actor=actor, year=q.year, quarter=q.quarter, by=by,
                              region_id=None, clock=clock)
    row = next(r for r in report.rows if r.id == party_id)
    last = session.scalar(
        select(func.max(QuarterlyFiling.version)).where(
            QuarterlyFiling.party_type == party_type, QuarterlyFiling.party_id == party_id,
            QuarterlyFiling.year == q.year, QuarterlyFiling.quarter == q.quarter,
        )
    )
    filing = QuarterlyFiling(
        party_type=party_type, party_id=party_id, year=q.year, quarter=q.quarter,
        version=(last or 0) + 1, figures=_snapshot(row.figures), note=fields_.note or None,
        filed_by_id=actor.id, filed_at=now, due_on=q.due_on,
        late=_local_date(now) > q.due_on,
    )
    try:
        with session.begin_nested():
            session.add(filing)
    except IntegrityError as exc:
        # Two filings raced for the same version (PostgreSQL; SQLite writers are serialised).
        raise Conflict("同一季度的另一份上报正在提交，请刷新后重试") from exc
    return filing


def _snapshot(figures: Figures) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in figures.as_dict().items()}


def list_filings(
    session: Session, *, actor: Actor, year: int, quarter: int
) -> list[QuarterlyFiling]:
    """Every version filed for the quarter by the parties in the actor's scope, oldest first."""
    q = _check_quarter(year, quarter)
    return list(session.scalars(
        select(QuarterlyFiling)
        .where(QuarterlyFiling.year == q.year, QuarterlyFiling.quarter == q.quarter,
               quarterly_filing_visibility(actor))
        .order_by(QuarterlyFiling.id)
    ))
