"""What the hazard page shows, gathered from the services (no rules decided here)."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Enterprise, Event, Hazard, Photo, Region, Unit, User
from app.models.enums import HazardLevel, PartyType, Role
from app.models.supervision import Extension, Notice
from app.permissions import Actor, relations_to
from app.services import evaluation
from app.services import hazards as hazard_service
from app.services.hazards import is_overdue
from app.services.queues import hazard_notices
from app.services.supervision import extensions_of
from app.services.timeline import events_of
from app.workflow.states import RECTIFICATION_OPEN, HazardState
from app.workflow.supervision import SIDE_ACTION_ROLES
from app.workflow.table import Relation, open_actions


@dataclass
class DeadlineChange:
    event: Event
    previous: str | None
    new: str | None


@dataclass
class HazardView:
    hazard: Hazard
    enterprise: Enterprise
    township: Region
    overdue: bool
    events: list[Event]
    photos: dict[int, Photo]
    people: dict[int, str]  # user id → display name
    units: dict[int, str]  # unit id → name
    actions: tuple[str, ...]
    extensions: list[Extension]
    notices: list[Notice]
    deadlines: list[DeadlineChange]
    may_request_extension: bool = False
    may_decide_extension: bool = False
    may_list: bool = False
    may_evaluate: bool = False
    has_dossier: bool = False
    flags: list[dict[str, Any]] = field(default_factory=list)


def hazard_view(session: Session, actor: Actor, hazard_id: int, today: date) -> HazardView:
    hazard = hazard_service.visible_hazard(session, actor, hazard_id)
    enterprise = session.get_one(Enterprise, hazard.enterprise_id)
    events = events_of(session, hazard.id)
    relations = relations_to(session, actor, hazard)
    extensions = extensions_of(session, actor=actor, hazard_id=hazard.id)
    pending = any(e.status == "pending" for e in extensions)
    user_ids = {e.actor_id for e in events if e.actor_id is not None}
    unit_ids = {a.party_id for a in hazard.assignments if a.party_type == PartyType.unit}
    unit_ids |= {e.actor_unit_id for e in events if e.actor_unit_id is not None}
    return HazardView(
        hazard=hazard,
        enterprise=enterprise,
        township=session.get_one(Region, enterprise.region_id),
        overdue=is_overdue(hazard, today),
        events=events,
        photos={p.id: p for p in hazard.photos},
        people=_names(session, User, User.display_name, user_ids),
        units=_names(session, Unit, Unit.name, unit_ids),
        actions=open_actions(HazardState(hazard.state), actor.role, relations,
                             hazard.spot_check_drawn),
        extensions=extensions,
        # Only recipients acknowledge; the committee reads notices on the timeline.
        notices=(hazard_notices(session, actor, hazard.id)
                 if actor.role in SIDE_ACTION_ROLES["notice_ack"] else []),
        deadlines=deadline_history(events),
        may_request_extension=(
            actor.role in SIDE_ACTION_ROLES["extension_request"]
            and Relation.rectifier in relations and hazard.state in RECTIFICATION_OPEN
            and hazard.deadline is not None and not pending),
        may_decide_extension=(actor.role in SIDE_ACTION_ROLES["extension_decision"]
                              and Relation.supervisor in relations and pending),
        may_evaluate=(actor.role in SIDE_ACTION_ROLES["evaluate"]
                      and Relation.rectifier in relations
                      and hazard.state == HazardState.rectified
                      and evaluation.needs_evaluation(hazard)
                      and evaluation.pending_evaluation(session, hazard) is None),
        may_list=(actor.role in SIDE_ACTION_ROLES["listing"]
                  and hazard.level == HazardLevel.major
                  and hazard.state not in (HazardState.closed, HazardState.rejected)),
        has_dossier=hazard.level == HazardLevel.major and actor.role != Role.admin,
        flags=[{**flag, "photo": p.id} for p in hazard.photos for flag in (p.flags or [])],
    )


def _names(session: Session, model: Any, column: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(model.id, column).where(model.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def deadline_history(events: list[Event]) -> list[DeadlineChange]:
    """Every change of the rectification deadline on the timeline, oldest first: the
    assignment's, a return's new date, an approved extension, a recomputation."""
    changes = []
    for event in events:
        value = (event.data or {}).get("deadline")
        if event.action == "assign" and isinstance(value, str):
            changes.append(DeadlineChange(event, None, value))
        elif isinstance(value, dict) and value.get("to"):
            changes.append(DeadlineChange(event, value.get("from"), value.get("to")))
    return changes
