"""季度统计分析 as a report: one row per enterprise, unit or region, with who has filed."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.access.actor import Actor
from app.access.roles import require_role, unit_of
from app.access.scopes import (
    statistics_enterprises,
    statistics_region_paths,
    statistics_units,
    unit_enterprise_pairs,
)
from app.core.clock import Clock
from app.core.db import valid_id
from app.core.errors import NotFound
from app.models import Enterprise, Region, Unit
from app.models.enums import PartyType
from app.services.statistics.filing import FilingStatus, filing_statuses, not_filed_status
from app.services.statistics.quarterly import (
    FUNDS_UNIT,
    Figures,
    Quarter,
    check_quarter,
    hazard_figures,
    invalid,
    local_date,
    sum_figures,
)
from app.services.statistics.schemas import GroupBy

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


def _region(session: Session, actor: Actor, region_id: int) -> Region:
    """A region the actor may narrow its statistics to; 404 for any other."""
    region = session.get(Region, region_id) if valid_id(region_id) else None
    paths = statistics_region_paths(session, actor)
    if region is None or not any(region.path.startswith(p) for p in paths):
        raise NotFound("区域不存在")
    return region


def _default_root(session: Session, actor: Actor) -> Region | None:
    """Where a by-region report starts: a committee's region, an inspector's unit's."""
    unit_id = unit_of(actor)
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        return unit and session.get(Region, unit.region_id)
    return session.get(Region, actor.region_id) if actor.region_id is not None else None


def _enterprises(
    session: Session, actor: Actor, region_path: str | None, figures: dict[int, Figures],
    statuses: dict[tuple[PartyType, int], FilingStatus], missing: FilingStatus,
) -> list[Row]:
    enterprise, township = aliased(Enterprise), aliased(Region)
    query = (
        select(enterprise.id, enterprise.name, enterprise.uscc, township.name, township.path)
        .join(township, township.id == enterprise.region_id)
        .where(enterprise.id.in_(statistics_enterprises(actor)))
        .order_by(township.path, enterprise.name, enterprise.id)
    )
    if region_path is not None:
        query = query.where(township.path.startswith(region_path, autoescape=True))
    return [Row("enterprise", id_, name, figures.get(id_) or Figures(), code=uscc,
                region_name=township_name, region_path=path,
                filing=statuses.get((PartyType.enterprise, id_), missing))
            for id_, name, uscc, township_name, path in session.execute(query)]


def _units(
    session: Session, actor: Actor, region_path: str | None, enterprise_ids: set[int],
    by: GroupBy,
) -> tuple[list[Row], dict[int, set[int]]]:
    """The units in scope and the in-scope enterprises each supervises. With a region, the
    units located in it and those supervising an enterprise in it.

    Which enterprises a unit supervises is read only when it matters: for the units' figures
    (by unit), or for a unit located outside the region (in scope if it supervises an
    enterprise in it)."""
    unit, area = aliased(Unit), aliased(Region)
    units = session.execute(
        select(unit.id, unit.name, area.path)
        .join(area, area.id == unit.region_id)
        .where(unit.id.in_(statistics_units(actor)))
        .order_by(area.path, unit.id)
    ).all()
    outside = region_path is not None and any(
        not path.startswith(region_path) for _, _, path in units)
    supervised: dict[int, set[int]] = {}
    if by == GroupBy.unit or outside:
        pairs = session.execute(unit_enterprise_pairs(statistics_units(actor)))
        for unit_id, enterprise_id in pairs:
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
    q = check_quarter(year, quarter)
    if by != GroupBy.enterprise:
        require_role(actor, "quarterly_rollup")
    now = clock.now()
    today = local_date(now)
    if q.first_day > today:
        raise invalid("query", "quarter", "该季度尚未开始")
    region = _region(session, actor, region_id) if region_id is not None else None
    if by == GroupBy.region and region is None:
        region = _default_root(session, actor)
    region_path = region.path if region is not None else None

    cells = hazard_figures(session, actor=actor, quarter=q, region_path=region_path, now=now)
    statuses = filing_statuses(session, actor=actor, quarter=q)
    missing = not_filed_status(q, today)
    by_enterprise: dict[int, Figures] = {}
    by_township: dict[str, Figures] = {}
    for (enterprise_id, path), figures in cells.items():
        if by != GroupBy.region:  # regions show none of their enterprises' figures
            # Mostly an enterprise's only cell, shared: no figures are changed once made.
            prior = by_enterprise.get(enterprise_id)
            by_enterprise[enterprise_id] = (
                figures if prior is None else sum_figures((prior, figures)))
        by_township.setdefault(path, Figures()).add(figures)
    enterprises = _enterprises(session, actor, region_path, by_enterprise, statuses, missing)
    units, supervised = _units(session, actor, region_path, {e.id for e in enterprises}, by)
    for row in units:
        # Only by unit are these rows shown; otherwise they list who has not filed.
        if by == GroupBy.unit:
            row.figures = sum_figures(
                by_enterprise[e] for e in supervised.get(row.id, ()) if e in by_enterprise)
        row.filing = statuses.get((PartyType.unit, row.id), missing)

    if by == GroupBy.enterprise:
        rows = enterprises
    elif by == GroupBy.unit:
        rows = units
    else:
        rows = _region_rows(session, region, by_township, enterprises, statuses)
    not_filed = [
        Party(PartyType(row.kind), row.id, row.name)
        for row in (*enterprises, *units)
        if row.filing is not None and not row.filing.filed
    ]
    return Report(
        quarter=q, by=by, region_id=region.id if region is not None else None,
        ended=q.end_at() <= now, total=sum_figures(by_township.values()), rows=rows,
        not_filed=not_filed,
    )


def _region_rows(
    session: Session,
    root: Region | None,
    by_township: dict[str, Figures],
    enterprises: list[Row],
    statuses: dict[tuple[PartyType, int], FilingStatus],
) -> list[Row]:
    """The root's children (each its subtree), or the root alone when it has none."""
    if root is None:
        return []
    children = session.scalars(
        select(Region).where(Region.parent_id == root.id).order_by(Region.code)
    ).all() or [root]
    # Enterprises and those that filed by township: a region's subtree sums its townships.
    listed: Counter[str] = Counter()
    filed: Counter[str] = Counter()
    for e in enterprises:
        path = e.region_path or ""
        listed[path] += 1
        filed[path] += (PartyType.enterprise, e.id) in statuses
    rows = []
    for region in children:
        def inside(paths: Iterable[str], prefix: str = region.path) -> list[str]:
            return [p for p in paths if p.startswith(prefix)]
        rows.append(Row(
            "region", region.id, region.name, code=region.code,
            figures=sum_figures(by_township[p] for p in inside(by_township)),
            enterprises=sum(listed[p] for p in inside(listed)),
            enterprises_filed=sum(filed[p] for p in inside(filed)),
        ))
    return rows
