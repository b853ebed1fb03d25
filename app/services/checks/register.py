"""风险分级管控: each enterprise's risk points and their control measures.

The enterprise edits its own register; its supervising units and the committee read it. An
enterprise (or risk point) the caller may not see answers 404, whatever the role.
"""

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import check_enterprises
from app.core.clock import Clock
from app.core.cursors import decode_cursor, encode_cursor
from app.core.db import not_visible, valid_id
from app.core.errors import Conflict, Unprocessable
from app.models import CheckTask, ControlMeasure, Enterprise, RiskPoint
from app.models.checks import RiskLevel
from app.services.checks.schemas import (
    MeasureIn,
    MeasureOut,
    RiskPointIn,
    RiskPointOut,
    RiskPointPatch,
)

COLOURS = {RiskLevel.major: "red", RiskLevel.high: "orange", RiskLevel.medium: "yellow",
           RiskLevel.low: "blue"}

# The rows that belong to one enterprise and are seen through it (of_visible_enterprise).
Owned = TypeVar("Owned", RiskPoint, CheckTask)


def visible_enterprise(session: Session, actor: Actor, enterprise_id: int) -> Enterprise:
    """The enterprise if its register is in the actor's reach; 404 otherwise."""
    enterprise = None
    if valid_id(enterprise_id):
        enterprise = session.scalars(select(Enterprise).where(
            Enterprise.id == enterprise_id, Enterprise.id.in_(check_enterprises(actor)))).first()
    if enterprise is None:
        raise not_visible(session, Enterprise, enterprise_id, "企业不存在")
    return enterprise


def list_risk_points(session: Session, actor: Actor, enterprise_id: int, *, limit: int,
                     cursor: str | None) -> tuple[list[RiskPoint], str | None]:
    visible_enterprise(session, actor, enterprise_id)
    before = decode_cursor(cursor) if cursor is not None else None
    query = (select(RiskPoint).where(RiskPoint.enterprise_id == enterprise_id)
             .options(selectinload(RiskPoint.measures))
             .order_by(RiskPoint.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(RiskPoint.id < before)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more else None


def _measure(measure: ControlMeasure, data: MeasureIn) -> ControlMeasure:
    measure.content, measure.check_item = data.content, data.check_item
    measure.frequency, measure.owner = data.frequency, data.owner
    return measure


def create_risk_point(session: Session, actor: Actor, enterprise_id: int, body: RiskPointIn,
                      clock: Clock) -> RiskPoint:
    visible_enterprise(session, actor, enterprise_id)
    require_role(actor, "risk_register_edit")
    now = clock.now()
    point = RiskPoint(enterprise_id=enterprise_id, name=body.name, place=body.place,
                      level=body.level, hazard_factors=body.hazard_factors or None, version=1,
                      created_by_id=actor.id, created_at=now, updated_at=now)
    for index, data in enumerate(body.measures):
        if data.id is not None:
            raise Unprocessable([{"loc": ["body", "measures", index, "id"], "type": "value_error",
                                  "msg": "新建风险点的管控措施不能带 id"}])
        point.measures.append(_measure(ControlMeasure(active=True), data))
    session.add(point)
    session.flush()
    return point


def of_visible_enterprise(session: Session, actor: Actor, model: type[Owned], row_id: int,
                          children: Any, missing: str, *, for_update: bool = False) -> Owned:
    """A row of an enterprise the caller may check (with its children loaded), or 404."""
    row = None
    if valid_id(row_id):
        query = select(model).where(model.id == row_id,  # type: ignore[attr-defined]
                                    model.enterprise_id.in_(  # type: ignore[attr-defined]
                                        check_enterprises(actor)))
        if for_update:
            query = query.with_for_update(of=model)
        row = session.scalars(query.options(selectinload(children))).first()
    if row is None:
        raise not_visible(session, model, row_id, missing)
    return row


def visible_risk_point(session: Session, actor: Actor, risk_point_id: int, *,
                       for_update: bool = False) -> RiskPoint:
    return of_visible_enterprise(session, actor, RiskPoint, risk_point_id, RiskPoint.measures,
                                 "风险点不存在", for_update=for_update)


def update_risk_point(session: Session, actor: Actor, risk_point_id: int, patch: RiskPointPatch,
                      clock: Clock) -> RiskPoint:
    point = visible_risk_point(session, actor, risk_point_id, for_update=True)
    require_role(actor, "risk_register_edit")
    if patch.expected_version is not None and patch.expected_version != point.version:
        raise Conflict("风险点已被他人修改，请刷新后重试")
    sent = patch.model_fields_set
    for name in ("name", "place", "level"):
        if name in sent:
            value = getattr(patch, name)
            if value is None:
                raise Unprocessable([{"loc": ["body", name], "msg": "不能为空",
                                      "type": "missing"}])
            setattr(point, name, value)
    if "hazard_factors" in sent:
        point.hazard_factors = patch.hazard_factors or None
    if "measures" in sent:
        if patch.measures is None:
            raise Unprocessable([{"loc": ["body", "measures"], "msg": "至少一项管控措施",
                                  "type": "missing"}])
        _replace_measures(point, patch.measures)
    point.version += 1
    point.updated_at = clock.now()
    session.flush()
    return point


def _replace_measures(point: RiskPoint, measures: list[MeasureIn]) -> None:
    """Measures named by id are updated, new ones added, the rest retired (kept inactive:
    their tasks still name them)."""
    current = {m.id: m for m in point.measures if m.active}
    kept: set[int] = set()
    for index, data in enumerate(measures):
        if data.id is None:
            point.measures.append(_measure(ControlMeasure(active=True), data))
            continue
        if data.id not in current or data.id in kept:
            raise Unprocessable([{"loc": ["body", "measures", index, "id"],
                                  "type": "value_error", "msg": "不是该风险点的现有管控措施"}])
        kept.add(data.id)
        _measure(current[data.id], data)
    for measure_id, measure in current.items():
        if measure_id not in kept:
            measure.active = False


def risk_point_out(point: RiskPoint) -> RiskPointOut:
    return RiskPointOut(
        id=point.id, enterprise_id=point.enterprise_id, name=point.name, place=point.place,
        level=point.level, colour=COLOURS[RiskLevel(point.level)],
        hazard_factors=point.hazard_factors,
        measures=[MeasureOut(id=m.id, content=m.content, check_item=m.check_item,
                             frequency=m.frequency, owner=m.owner)
                  for m in point.measures if m.active],
        version=point.version, created_at=point.created_at, updated_at=point.updated_at)
