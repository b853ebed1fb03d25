"""What the hazard page shows, gathered from the services (no rules decided here)."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.duties import relations_to
from app.access.pages import HazardFacts, HazardFlags, hazard_flags
from app.models import Criterion, Enterprise, Event, Hazard, Photo, Region, Unit, User
from app.models.enums import HazardLevel, PartyType
from app.models.supervision import Extension, Notice
from app.services.criteria.catalogue import get_criterion
from app.services.criteria.schemas import citation
from app.services.hazards import queries as hazard_service
from app.services.hazards.photos import visible_matches
from app.services.hazards.queues import hazard_notices
from app.services.hazards.schemas import FlagMatch, PhotoFlag
from app.services.hazards.timeline import events_of
from app.services.supervision import evaluation, listing
from app.services.supervision.extensions import extensions_of
from app.workflow.deadlines import is_overdue
from app.workflow.states import HazardState


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
    extensions: list[Extension]
    notices: list[Notice]
    deadlines: list[DeadlineChange]
    flags: HazardFlags  # the buttons and links (app.access.pages)
    photo_flags: list[dict[str, Any]] = field(default_factory=list)  # authenticity findings
    # The catalogue entry the report cited, as cited (also when since replaced).
    criterion: Criterion | None = None
    citation: str | None = None


def hazard_view(session: Session, actor: Actor, hazard_id: int, today: date) -> HazardView:
    hazard = hazard_service.visible_hazard(session, actor, hazard_id)
    enterprise = session.get_one(Enterprise, hazard.enterprise_id)
    events = events_of(session, hazard.id)
    relations = relations_to(session, actor, hazard)
    extensions = extensions_of(session, actor=actor, hazard_id=hazard.id)
    facts = HazardFacts(
        state=HazardState(hazard.state), level=HazardLevel(hazard.level),
        has_deadline=hazard.deadline is not None, spot_check_drawn=hazard.spot_check_drawn,
        listed=hazard.listing is not None, listable=listing.listable(session, hazard),
        extension_pending=any(e.status == "pending" for e in extensions),
        evaluation_due=(evaluation.needs_evaluation(hazard)
                        and evaluation.pending_evaluation(session, hazard) is None),
    )
    flags = hazard_flags(actor, relations, facts)
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
        extensions=extensions,
        notices=hazard_notices(session, actor, hazard.id) if flags.may_see_notices else [],
        deadlines=deadline_history(events),
        flags=flags,
        photo_flags=_photo_flags(session, actor, hazard),
        **_cited(session, hazard),
    )


def _cited(session: Session, hazard: Hazard) -> dict[str, Any]:
    if hazard.criterion_id is None:
        return {}
    entry = get_criterion(session, hazard.criterion_id)
    return {"criterion": entry, "citation": citation(entry.document, entry)}


def _photo_flags(session: Session, actor: Actor, hazard: Hazard) -> list[dict[str, Any]]:
    """The authenticity findings as this viewer may see them: a match elsewhere that the
    viewer may not open is told as "elsewhere", never by its photo or hazard."""
    own = {p.id: FlagMatch(p.id, hazard.id, hazard.code) for p in hazard.photos}
    matches = {**visible_matches(session, actor, [hazard]), **own}
    shown = [(p.id, PhotoFlag.shown(flag, matches))
             for p in hazard.photos for flag in (p.flags or [])]
    return [{**flag.model_dump(), "photo": photo_id,
             "elsewhere": flag.hazard_id is not None and flag.hazard_id != hazard.id}
            for photo_id, flag in shown]


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
