"""重大事故隐患档案: everything on record about one major hazard, as data and as a page."""

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.core.errors import NotFound
from app.models import Criterion, Enterprise, Event, Hazard, Industry, Photo, Region
from app.models.enums import HazardLevel
from app.models.supervision import Extension, Notice
from app.services.audit.log import record_export
from app.services.criteria.catalogue import get_criterion
from app.services.criteria.schemas import citation
from app.services.hazards import photos as photo_service
from app.services.hazards.queries import visible_hazard
from app.services.hazards.timeline import events_of, verify_chains


@dataclass
class Dossier:
    hazard: Hazard
    enterprise: Enterprise
    township: Region
    industry: Industry
    events: list[Event]
    notices: list[Notice]
    extensions: list[Extension]
    criterion: Criterion | None
    chain_intact: bool
    generated_at: datetime

    def events_of(self, *actions: str) -> list[Event]:
        return [e for e in self.events if e.action in actions]

    @property
    def write_off(self) -> Event | None:
        closes = self.events_of("close")
        return closes[-1] if closes else None


def build(session: Session, *, actor: Actor, hazard_id: int, now: datetime) -> Dossier:
    hazard = visible_hazard(session, actor, hazard_id)
    if hazard.level != HazardLevel.major:
        raise NotFound("仅重大事故隐患建立档案")
    enterprise = session.get_one(Enterprise, hazard.enterprise_id)
    events = events_of(session, hazard.id)
    # The whole file of a major hazard leaves the system (JSON or the printable page).
    record_export(session, actor=actor, at=now, object=f"hazard:{hazard.id}",
                  detail={"export": "dossier", "code": hazard.code})
    return Dossier(
        hazard=hazard,
        enterprise=enterprise,
        township=session.get_one(Region, enterprise.region_id),
        industry=session.get_one(Industry, enterprise.industry_id),
        events=events,
        notices=list(session.scalars(select(Notice).where(Notice.hazard_id == hazard.id)
                                     .order_by(Notice.id))),
        extensions=list(session.scalars(select(Extension).where(
            Extension.hazard_id == hazard.id).order_by(Extension.id))),
        criterion=(get_criterion(session, hazard.criterion_id)
                   if hazard.criterion_id is not None else None),
        # The chain holds and ends where the hazard's head says (no newest events deleted).
        chain_intact=(not any(True for _ in verify_chains(session, hazard.id))
                      and bool(events) and (hazard.head_seq, hazard.head_hash)
                      == (events[-1].seq, events[-1].hash)),
        generated_at=now,
    )


def thumbnails(photos: list[Photo]) -> dict[int, str]:
    """Data URIs of the photos' thumbs, so the printed page carries its evidence with it."""
    return {p.id: "data:image/jpeg;base64," + base64.b64encode(
        photo_service.derivative(p, "thumb")).decode() for p in photos}


def as_data(dossier: Dossier) -> dict[str, Any]:
    enterprise = dossier.enterprise
    return {
        "enterprise": {"id": enterprise.id, "name": enterprise.name, "uscc": enterprise.uscc,
                       "address": enterprise.address, "township": dossier.township.name,
                       "industry": dossier.industry.name},
        "criterion": {"major_clause": dossier.hazard.major_clause,
                      "entry": _criterion(dossier.criterion)},
        "plan": dossier.hazard.plan,
        "listing": dossier.hazard.listing,
        "evaluations": [_event_brief(e) for e in dossier.events_of("evaluate")],
        "escalations": [_event_brief(e) for e in dossier.events_of(
            "supervision_notice", "escalate", "interview", "listing", "delisting",
            "review_overdue")],
        "write_off": _event_brief(dossier.write_off) if dossier.write_off else None,
        "chain_intact": dossier.chain_intact,
        "generated_at": dossier.generated_at,
    }


def _criterion(entry: Criterion | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"id": entry.id, "citation": citation(entry.document, entry), "text": entry.text,
            "verification": entry.verification, "superseded": entry.superseded_at is not None,
            "document_completeness": entry.document.completeness}


def _event_brief(event: Event) -> dict[str, Any]:
    return {"event_id": event.id, "action": event.action, "at": event.at,
            "actor_id": event.actor_id, "actor_role": event.actor_role, "note": event.note,
            "data": event.data, "photo_ids": event.photo_ids}
