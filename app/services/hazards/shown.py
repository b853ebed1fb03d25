"""A hazard as one viewer is shown it: its photos' flags name only what the viewer may see."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.models import Hazard
from app.services.hazards.photos import visible_matches
from app.services.hazards.schemas import HazardOut


def hazard_out(session: Session, actor: Actor, hazard: Hazard, today: date) -> HazardOut:
    return HazardOut.of(hazard, today, visible_matches(session, actor, [hazard]))


def hazards_out(session: Session, actor: Actor, hazards: Sequence[Hazard],
                today: date) -> list[HazardOut]:
    """Many at once: one query for all their matches."""
    matches = visible_matches(session, actor, hazards)
    return [HazardOut.of(h, today, matches) for h in hazards]
