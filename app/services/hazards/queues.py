"""What each role must do next: the work queues on the pages' home screens.

Every queue is a slice of what the caller may see (permissions.hazard_visibility), so a
queue never shows or counts a hazard outside the caller's scope.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, selectinload

from app.access.actor import Actor
from app.access.scopes import hazard_visibility, supervised_enterprises, unit_holds_duty
from app.models import Event, Hazard
from app.models.enums import Duty, HazardLevel, Role
from app.models.supervision import Extension, Notice
from app.services.supervision.notices import list_notices
from app.workflow.states import RECTIFICATION_OPEN, HazardState

QUEUE_LIMIT = 100  # a home screen lists this many per queue; the full list is the ledger
RETURN_ACTIONS = ("return", "spot_check_fail")
FINISHED = (HazardState.closed, HazardState.rejected)


@dataclass
class Queues:
    """Named lists of hazards, in the order the page shows them."""

    lists: dict[str, list[Hazard]] = field(default_factory=dict)
    draws: dict[int, dict[str, Any]] = field(default_factory=dict)  # hazard id → sampling draw
    extensions: list[tuple[Extension, Hazard]] = field(default_factory=list)
    unacknowledged_notices: int = 0


def _overdue(today: date) -> ColumnElement[bool]:
    return Hazard.state.in_(RECTIFICATION_OPEN) & (Hazard.deadline < today)


def _hazards(session: Session, query: Select[tuple[Hazard]]) -> list[Hazard]:
    return list(session.scalars(
        query.options(selectinload(Hazard.assignments)).limit(QUEUE_LIMIT)))


def _visible(actor: Actor, *conditions: ColumnElement[bool]) -> Select[tuple[Hazard]]:
    return select(Hazard).where(hazard_visibility(actor), *conditions)


def last_move(hazard_id: Any) -> Any:
    """The action of a hazard's latest state change (events that record only keep the state)."""
    return (select(Event.action)
            .where(Event.hazard_id == hazard_id, Event.from_state.is_distinct_from(Event.to_state))
            .order_by(Event.seq.desc()).limit(1).scalar_subquery())


def _unacknowledged(session: Session, actor: Actor) -> int:
    return sum(1 for n in list_notices(session, actor=actor) if n.acknowledged_at is None)


def enterprise_queues(session: Session, actor: Actor, today: date) -> Queues:
    """待签收, 整改中, 被退回, 超期 — each hazard in one group, the most urgent first — and
    the hazards waiting on others."""
    open_rows = session.execute(
        _visible(actor, Hazard.state.in_(RECTIFICATION_OPEN))
        .add_columns(last_move(Hazard.id).label("last_action"))
        .order_by(Hazard.deadline, Hazard.id).limit(QUEUE_LIMIT * 3)
    ).all()
    groups: dict[str, list[Hazard]] = {"overdue": [], "returned": [], "to_accept": [],
                                       "rectifying": []}
    for hazard, last_action in open_rows:
        if hazard.deadline is not None and hazard.deadline < today:
            groups["overdue"].append(hazard)
        elif hazard.state == HazardState.assigned:
            groups["to_accept"].append(hazard)
        elif last_action in RETURN_ACTIONS:
            groups["returned"].append(hazard)
        else:
            groups["rectifying"].append(hazard)
    groups["waiting"] = _hazards(session, _visible(
        actor, Hazard.state.not_in((*RECTIFICATION_OPEN, *FINISHED))).order_by(Hazard.id.desc()))
    return Queues(lists={k: v[:QUEUE_LIMIT] for k, v in groups.items()},
                  unacknowledged_notices=_unacknowledged(session, actor))


def inspector_queues(session: Session, actor: Actor, today: date) -> Queues:
    """待交办 (reported, in the unit's supervision), 待验收 (rectified, the unit supervises),
    超期 (overdue within the inspector's scope), and extension requests to decide."""
    supervises = unit_holds_duty(actor.unit_id, Duty.supervise)
    lists = {
        "to_assign": _hazards(session, _visible(
            actor, Hazard.state == HazardState.reported,
            Hazard.enterprise_id.in_(supervised_enterprises(actor))).order_by(Hazard.id)),
        "to_verify": _hazards(session, _visible(
            actor, Hazard.state == HazardState.rectified, supervises).order_by(Hazard.id)),
        "overdue": _hazards(session, _visible(actor, _overdue(today))
                            .order_by(Hazard.deadline, Hazard.id)),
    }
    pending = session.execute(
        select(Extension, Hazard).join(Hazard, Hazard.id == Extension.hazard_id)
        .where(Extension.status == "pending", hazard_visibility(actor), supervises)
        .order_by(Extension.id).limit(QUEUE_LIMIT)).all()
    return Queues(lists=lists, extensions=[(e, h) for e, h in pending],
                  unacknowledged_notices=_unacknowledged(session, actor))


def committee_queues(session: Session, actor: Actor, today: date) -> Queues:
    """待抽查 (drawn in the sample) with the draw, 待销号, 待交办, 超期, open major hazards."""
    lists = {
        "to_spot_check": _hazards(session, _visible(
            actor, Hazard.state == HazardState.verified, Hazard.spot_check_drawn.is_(True))
            .order_by(Hazard.id)),
        "to_close": _hazards(session, _visible(
            actor, (Hazard.state == HazardState.spot_checked)
            | ((Hazard.state == HazardState.verified) & Hazard.spot_check_drawn.is_(False)))
            .order_by(Hazard.id)),
        "to_assign": _hazards(session, _visible(actor, Hazard.state == HazardState.reported)
                              .order_by(Hazard.id)),
        "overdue": _hazards(session, _visible(actor, _overdue(today))
                            .order_by(Hazard.deadline, Hazard.id)),
        "major_open": _hazards(session, _visible(
            actor, Hazard.level == HazardLevel.major, Hazard.state.not_in(FINISHED))
            .order_by(Hazard.id)),
    }
    drawn = [h.id for h in lists["to_spot_check"] + lists["to_close"]]
    return Queues(lists=lists, draws=latest_draws(session, drawn))


def latest_draws(session: Session, hazard_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest sampling draw (抽查抽签) recorded on each hazard's timeline."""
    if not hazard_ids:
        return {}
    rows = session.execute(
        select(Event.hazard_id, Event.data).where(Event.hazard_id.in_(hazard_ids),
                                                  Event.action == "sample")
        .order_by(Event.hazard_id, Event.seq)).all()
    return {hazard_id: data for hazard_id, data in rows}  # later draws overwrite earlier


def hazard_notices(session: Session, actor: Actor, hazard_id: int) -> list[Notice]:
    """The caller's own notices about one hazard (to acknowledge from the hazard page)."""
    return [n for n in list_notices(session, actor=actor) if n.hazard_id == hazard_id]


QUEUES_OF_ROLE = {Role.enterprise: enterprise_queues, Role.inspector: inspector_queues,
                  Role.committee: committee_queues}


def queues_for(session: Session, actor: Actor, today: date) -> Queues:
    """The home screen's queues of the actor's role (an admin has none: it administers)."""
    queues = QUEUES_OF_ROLE.get(actor.role)
    return queues(session, actor, today) if queues else Queues()
