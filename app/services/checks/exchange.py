"""Exchange with provincial platforms: one local day's changes as one JSON document.

The chain of the 双重预防 digitalisation field set: 风险分析对象 (risk points) → 管控措施 (their
measures) → 排查记录 (check records) → 隐患 (hazards). Field by field in docs/checks.md
("Provincial exchange"). The names are bihuan's own; the codes (level 0/1, state 0/1/9) are
explained there.
"""

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import check_enterprises, hazard_visibility
from app.core.clock import Clock, local_day_end, local_day_start, local_today
from app.core.errors import Unprocessable
from app.models import (
    CheckItem,
    CheckTask,
    ControlMeasure,
    Enterprise,
    Event,
    Hazard,
    Region,
    RiskPoint,
    User,
)
from app.models.enums import HazardLevel, Role
from app.workflow.states import HazardState

FORMAT = "bihuan-exchange/1"
FIRST_DAY = date(2000, 1, 1)
LEVEL_CODES = {"major": 1, "high": 2, "medium": 3, "low": 4}
STATE_ACCEPTED = (HazardState.verified, HazardState.spot_checked)
STATE_ENDED = (HazardState.closed, HazardState.rejected)


def state_code(state: str) -> int:
    """0 not yet rectified and accepted; 1 rectified and accepted (验收通过); 9 ended (销号, or
    不予受理: see `rejected`)."""
    if state in STATE_ENDED:
        return 9
    return 1 if state in STATE_ACCEPTED else 0


def source_code(hazard: Hazard) -> str:
    if hazard.source == "public":
        return "public"  # 群众举报
    return "self_check" if hazard.reporter_role == Role.enterprise else "inspection"


def daily_export(session: Session, actor: Actor, day: date | None,
                 clock: Clock) -> dict[str, Any]:
    """What changed on `day` (local; default yesterday) among the enterprises the caller
    oversees: risk points created or edited, check items recorded, hazards reported or
    moved on."""
    require_role(actor, "exchange_export")
    today = local_today(clock)
    day = day or date.fromordinal(today.toordinal() - 1)
    if not FIRST_DAY <= day <= today:
        raise Unprocessable([{"loc": ["query", "date"], "type": "value_error",
                              "msg": f"日期应在 {FIRST_DAY} 至 {today} 之间"}])
    start, end = local_day_start(day), local_day_end(day)
    reach = check_enterprises(actor)
    points = list(session.scalars(
        select(RiskPoint).where(RiskPoint.enterprise_id.in_(reach),
                                RiskPoint.updated_at.between(start, end))
        .options(selectinload(RiskPoint.measures)).order_by(RiskPoint.id)))
    records = session.execute(
        select(CheckItem, CheckTask, ControlMeasure.risk_point_id, User.display_name)
        .join(CheckTask, CheckTask.id == CheckItem.task_id)
        .outerjoin(ControlMeasure, ControlMeasure.id == CheckTask.measure_id)
        .outerjoin(User, User.id == CheckItem.answered_by_id)
        .where(CheckTask.enterprise_id.in_(reach), CheckItem.answered_at.between(start, end))
        .order_by(CheckItem.id)).all()
    hazards = list(session.scalars(
        select(Hazard).where(Hazard.enterprise_id.in_(reach), hazard_visibility(actor),
                             Hazard.updated_at.between(start, end))
        .options(selectinload(Hazard.photos)).order_by(Hazard.id)))
    enterprise_ids = ({p.enterprise_id for p in points}
                      | {row[1].enterprise_id for row in records}
                      | {h.enterprise_id for h in hazards})
    return {
        "format": FORMAT, "date": day, "generated_at": clock.now(),
        "enterprises": _enterprises(session, enterprise_ids),
        "risk_objects": [_risk_object(p) for p in points],
        "check_records": [_record(item, task, point_id, name)
                          for item, task, point_id, name in records],
        "hazards": _hazards(session, hazards),
    }


def _enterprises(session: Session, ids: set[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = session.execute(
        select(Enterprise.id, Enterprise.uscc, Enterprise.name, Region.code)
        .join(Region, Region.id == Enterprise.region_id)
        .where(Enterprise.id.in_(ids)).order_by(Enterprise.id))
    return [{"enterprise_id": i, "uscc": uscc, "name": name, "region_code": code}
            for i, uscc, name, code in rows]


def _risk_object(point: RiskPoint) -> dict[str, Any]:
    return {
        "risk_object_id": point.id, "enterprise_id": point.enterprise_id, "name": point.name,
        "place": point.place, "risk_level": LEVEL_CODES[point.level],
        "hazard_factors": point.hazard_factors, "version": point.version,
        "updated_at": point.updated_at,
        "measures": [{"measure_id": m.id, "content": m.content, "check_item": m.check_item,
                      "frequency": m.frequency, "owner": m.owner, "active": m.active}
                     for m in point.measures],
    }


def _record(item: CheckItem, task: CheckTask, risk_point_id: int | None,
            checker: str | None) -> dict[str, Any]:
    return {
        "record_id": item.id, "task_id": task.id, "task_kind": task.kind,
        "enterprise_id": task.enterprise_id, "risk_object_id": risk_point_id,
        "measure_id": task.measure_id, "check_item": item.content,
        "result": 0 if item.outcome == "ok" else 1, "note": item.note,
        "hazard_id": item.hazard_id, "checked_at": item.answered_at,
        "checked_by": checker or None, "due_on": task.due_on, "on_time": item.on_time,
    }


def _hazards(session: Session, hazards: list[Hazard]) -> list[dict[str, Any]]:
    """The hazards, with their latest rectification note and acceptance (验收) from the
    timeline, read in one query for all of them."""
    ids = [h.id for h in hazards]
    latest: dict[tuple[int, str], Any] = {}
    if ids:
        rows = session.execute(
            select(Event.hazard_id, Event.action, Event.at, Event.note, User.display_name)
            .outerjoin(User, User.id == Event.actor_id)
            .where(Event.hazard_id.in_(ids), Event.action.in_(("submit", "verify")))
            .order_by(Event.seq))
        for row in rows:
            latest[(row.hazard_id, row.action)] = row  # the last one of each wins
    photos: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for hazard in hazards:
        for photo in hazard.photos:
            if photo.action in ("report", "submit"):
                photos[(hazard.id, photo.action)].append(
                    {"photo_id": photo.id, "sha256": photo.sha256,
                     "url": f"/api/v1/photos/{photo.id}"})
    return [_hazard(h, latest, photos) for h in hazards]


def _hazard(hazard: Hazard, latest: dict[tuple[int, str], Any],
            photos: dict[tuple[int, str], list[dict[str, Any]]]) -> dict[str, Any]:
    plan = hazard.plan or {}
    submit, verify = latest.get((hazard.id, "submit")), latest.get((hazard.id, "verify"))
    return {
        "hazard_id": hazard.id, "code": hazard.code, "enterprise_id": hazard.enterprise_id,
        "name": hazard.title, "level": 1 if hazard.level == HazardLevel.major else 0,
        "source": source_code(hazard), "type": hazard.category,
        "description": hazard.description, "location": hazard.location,
        "reason": None,  # bihuan does not record a cause of its own
        "basis": hazard.major_clause,
        "measures": plan.get("measures") or (submit.note if submit else None),
        "cost": plan.get("funds"), "liable_person": plan.get("owner"),
        "deadline": hazard.deadline,
        "acceptance_person": verify.display_name if verify else None,
        "acceptance_time": verify.at if verify else None,
        "acceptance_comment": verify.note if verify else None,
        "state": state_code(hazard.state), "rejected": hazard.state == HazardState.rejected,
        "reported_at": hazard.reported_at, "updated_at": hazard.updated_at,
        "before_photos": photos.get((hazard.id, "report"), []),
        "after_photos": photos.get((hazard.id, "submit"), []),
    }
