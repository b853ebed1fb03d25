"""排查 scores on the board: per enterprise and township, over the enterprises the caller
supervises (scopes.check_enterprises), for a period of local days [from, to].

- ``items_due``: items of self-check tasks (routine, sweep, campaign; not an inspector's)
  due in the period whose day has passed, or already recorded;
- ``items_on_time``: those recorded on or before their task's due day;
- ``completion_rate`` = items_on_time / items_due (null when nothing was due);
- ``overdue_tasks``: self-check tasks past their day and not done, now;
- ``hazards_self`` / ``hazards_inspection``: hazards reported in the period by the
  enterprise itself / by an inspector (部门检查 and any other inspection);
- ``hazards_due``: hazards whose rectification deadline falls in the period and has passed,
  or that are rectified already; ``hazards_on_time``: those rectified (待验收 or beyond)
  without ever having been overdue (the worker marks a hazard overdue once its deadline
  passes);
- 双重预防 index = A + B, with A = items_on_time / items_due × 50 (0 when nothing was due:
  no checking shown) and B = hazards_on_time / hazards_due × 50 (50 when nothing was due),
  and 0 whenever an overdue major hazard is open (重大隐患超期未整改);
- ``colour`` (四色, as the 安全码): red with a 重大 risk point or an open major hazard, else
  the highest risk point's colour, blue with none; a township takes its worst enterprise's.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import check_enterprises, statistics_region_paths
from app.core.clock import Clock, local_day_end, local_day_start, local_today
from app.core.db import count_if, valid_id
from app.core.errors import NotFound, Unprocessable
from app.models import CheckItem, CheckTask, Enterprise, Hazard, Region, RiskPoint
from app.models.checks import RiskLevel, TaskState
from app.models.enums import HazardLevel, Role
from app.workflow.states import ENDED_STATES, RECTIFICATION_OPEN, HazardState

MAX_DAYS = 366
FORMULA = ("双重预防指数 = A + B。A = 按期完成的排查项 ÷ 应完成的排查项 × 50（无应完成项时为 0）；"
           "B = 按期整改的隐患 ÷ 整改期限已到的隐患 × 50（无到期隐患时为 50）；"
           "存在超期未整改的重大隐患时指数为 0。")
COLOUR_ORDER = ("blue", "yellow", "orange", "red")
LEVEL_RANK = {RiskLevel.low: 1, RiskLevel.medium: 2, RiskLevel.high: 3, RiskLevel.major: 4}
RECTIFIED = (HazardState.rectified, HazardState.verified, HazardState.spot_checked,
             HazardState.closed)


@dataclass
class Counts:
    items_due: int = 0
    items_on_time: int = 0
    overdue_tasks: int = 0
    hazards_self: int = 0
    hazards_inspection: int = 0
    hazards_due: int = 0
    hazards_on_time: int = 0
    open_major: int = 0
    overdue_major: int = 0
    risk_rank: int = 0

    def add(self, other: "Counts") -> None:
        for name in ("items_due", "items_on_time", "overdue_tasks", "hazards_self",
                     "hazards_inspection", "hazards_due", "hazards_on_time", "open_major",
                     "overdue_major"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.risk_rank = max(self.risk_rank, other.risk_rank)


def colour(counts: Counts) -> str:
    if counts.open_major or counts.risk_rank == 4:
        return "red"
    return COLOUR_ORDER[max(counts.risk_rank - 1, 0)]


def figures(counts: Counts) -> dict[str, Any]:
    a = 50 * counts.items_on_time / counts.items_due if counts.items_due else 0.0
    b = 50 * counts.hazards_on_time / counts.hazards_due if counts.hazards_due else 50.0
    return {
        "items_due": counts.items_due, "items_on_time": counts.items_on_time,
        "completion_rate": (round(counts.items_on_time / counts.items_due, 4)
                            if counts.items_due else None),
        "overdue_tasks": counts.overdue_tasks,
        "hazards_self": counts.hazards_self, "hazards_inspection": counts.hazards_inspection,
        "hazards_due": counts.hazards_due, "hazards_on_time": counts.hazards_on_time,
        "open_major_hazards": counts.open_major, "overdue_major_hazards": counts.overdue_major,
        "index": 0.0 if counts.overdue_major else round(a + b, 1),
        "colour": colour(counts),
    }


def _enterprises(session: Session, actor: Actor, region_id: int | None) -> list[Any]:
    query = (select(Enterprise.id, Enterprise.name, Enterprise.region_id, Enterprise.lat,
                    Enterprise.lon)
             .where(Enterprise.id.in_(check_enterprises(actor))).order_by(Enterprise.id))
    if region_id is not None:
        path = (session.scalar(select(Region.path).where(Region.id == region_id))
                if valid_id(region_id) else None)
        if path is None or not any(path.startswith(p)
                                   for p in statistics_region_paths(session, actor)):
            raise NotFound("区域不存在")
        query = query.join(Region, Region.id == Enterprise.region_id).where(
            Region.path.startswith(path, autoescape=True))
    return list(session.execute(query))


def _item_counts(session: Session, ids: list[int], start: date, end: date,
                 today: date) -> Any:
    due = (CheckTask.due_on < today) | CheckItem.outcome.is_not(None)
    return session.execute(
        select(CheckTask.enterprise_id, count_if(due), count_if(due & CheckItem.on_time.is_(True)))
        .join(CheckItem, CheckItem.task_id == CheckTask.id)
        .where(CheckTask.enterprise_id.in_(ids), CheckTask.inspector_id.is_(None),
               CheckTask.due_on.between(start, end))
        .group_by(CheckTask.enterprise_id))


def _overdue_counts(session: Session, ids: list[int], today: date) -> Any:
    return session.execute(
        select(CheckTask.enterprise_id, func.count())
        .where(CheckTask.enterprise_id.in_(ids), CheckTask.inspector_id.is_(None),
               CheckTask.state == TaskState.due, CheckTask.due_on < today)
        .group_by(CheckTask.enterprise_id))


def _hazard_counts(session: Session, ids: list[int], start: date, end: date,
                   today: date) -> Any:
    reported = Hazard.reported_at.between(local_day_start(start), local_day_end(end))
    rectified = Hazard.state.in_(RECTIFIED)
    hazard_due = Hazard.deadline.between(start, end) & ((Hazard.deadline < today) | rectified)
    major = Hazard.level == HazardLevel.major
    return session.execute(
        select(Hazard.enterprise_id,
               count_if(reported & (Hazard.reporter_role == Role.enterprise)),
               count_if(reported & (Hazard.reporter_role == Role.inspector)),
               count_if(hazard_due), count_if(hazard_due & rectified & ~Hazard.was_overdue),
               count_if(major & Hazard.state.not_in(ENDED_STATES)),
               count_if(and_(major, Hazard.state.in_(RECTIFICATION_OPEN),
                             Hazard.deadline < today)))
        .where(Hazard.enterprise_id.in_(ids), Hazard.state != HazardState.rejected)
        .group_by(Hazard.enterprise_id))


def _risk_ranks(session: Session, ids: list[int]) -> Any:
    rank = case(*((RiskPoint.level == level, value) for level, value in LEVEL_RANK.items()),
                else_=0)
    return session.execute(select(RiskPoint.enterprise_id, func.max(rank))
                           .where(RiskPoint.enterprise_id.in_(ids))
                           .group_by(RiskPoint.enterprise_id))


def check_scores(session: Session, actor: Actor, *, start: date | None, end: date | None,
                 region_id: int | None, clock: Clock) -> dict[str, Any]:
    """Totals, per township and per enterprise (the 四色图's rows and points)."""
    require_role(actor, "board")
    today = local_today(clock)
    start, end = start or today.replace(day=1), end or today
    if start > end or (end - start).days >= MAX_DAYS:
        raise Unprocessable([{"loc": ["query", "from"], "type": "value_error",
                              "msg": f"起止日期应为不超过 {MAX_DAYS} 天的区间，且开始不晚于结束"}])
    rows = _enterprises(session, actor, region_id)
    counts = {row.id: Counts() for row in rows}
    ids = list(counts)
    if ids:
        for eid, due, on_time in _item_counts(session, ids, start, end, today):
            counts[eid].items_due, counts[eid].items_on_time = due, on_time
        for eid, overdue in _overdue_counts(session, ids, today):
            counts[eid].overdue_tasks = overdue
        for eid, own, inspected, h_due, h_on_time, major, overdue_major in _hazard_counts(
                session, ids, start, end, today):
            c = counts[eid]
            c.hazards_self, c.hazards_inspection = own, inspected
            c.hazards_due, c.hazards_on_time = h_due, h_on_time
            c.open_major, c.overdue_major = major, overdue_major
        for eid, rank in _risk_ranks(session, ids):
            counts[eid].risk_rank = int(rank or 0)
    townships: dict[int, Counts] = defaultdict(Counts)
    enterprises_in: dict[int, int] = defaultdict(int)
    total = Counts()
    for row in rows:
        townships[row.region_id].add(counts[row.id])
        enterprises_in[row.region_id] += 1
        total.add(counts[row.id])
    regions = {r.id: r for r in session.scalars(
        select(Region).where(Region.id.in_(list(townships))))} if townships else {}
    return {
        "from": start, "to": end, "as_of": clock.now(), "formula": FORMULA,
        "totals": figures(total),
        "by_township": [
            {"region_id": rid, "code": regions[rid].code, "name": regions[rid].name,
             "enterprises": enterprises_in[rid], **figures(c)}
            for rid, c in sorted(townships.items(), key=lambda kv: regions[kv[0]].code)],
        "by_enterprise": [
            {"enterprise_id": row.id, "name": row.name, "region_id": row.region_id,
             "lat": row.lat, "lon": row.lon, **figures(counts[row.id])}
            for row in rows],
    }
