"""督办单: the recipients list and acknowledge theirs; each party's inbox."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import inbox_of, is_region_scoped, party_of
from app.access.scopes import hazard_visibility
from app.core.db import valid_id
from app.core.errors import NotFound, OutOfScope
from app.models import Hazard
from app.models.supervision import InboxMessage, Notice
from app.services.hazards.queries import visible_hazard
from app.services.hazards.timeline import append_event


def list_notices(session: Session, *, actor: Actor) -> list[Notice]:
    """Notices addressed to the actor's enterprise or unit; a committee sees its region's."""
    query = select(Notice).join(Hazard, Hazard.id == Notice.hazard_id)
    party = party_of(actor)
    if party is not None:
        query = query.where(Notice.recipient_type == party[0], Notice.recipient_id == party[1])
    elif is_region_scoped(actor):
        query = query.where(hazard_visibility(actor))
    else:
        return []
    return list(session.scalars(query.order_by(Notice.id.desc()).limit(500)))


def acknowledge(session: Session, *, actor: Actor, notice_id: int, now: datetime) -> Notice:
    """签收: only the recipient acknowledges; anyone else learns nothing (404)."""
    party = party_of(actor)
    notice = session.get(Notice, notice_id) if valid_id(notice_id) else None
    if notice is None:
        raise NotFound("督办单不存在")
    if party is None or (notice.recipient_type, notice.recipient_id) != party:
        raise OutOfScope("督办单不存在", object=f"notice:{notice.id}")
    if notice.acknowledged_at is not None:
        return notice
    hazard = visible_hazard(session, actor, notice.hazard_id, for_update=True)
    notice.acknowledged_at, notice.acknowledged_by_id = now, actor.id
    append_event(session, hazard=hazard, action="notice_ack", from_state=hazard.state,
                 to_state=hazard.state, actor=actor, at=now, note=f"签收督办单 {notice.number}",
                 data={"notice_id": notice.id, "number": notice.number})
    return notice


def inbox(session: Session, *, actor: Actor) -> list[InboxMessage]:
    recipient = inbox_of(actor)
    if recipient is None:
        return []
    return list(session.scalars(
        select(InboxMessage).where(InboxMessage.recipient_type == recipient[0],
                                   InboxMessage.recipient_id == recipient[1])
        .order_by(InboxMessage.id.desc()).limit(200)))
