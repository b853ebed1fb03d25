"""A tip's own timeline: append-only, hash-chained per tip like a hazard's
(services/hazards/timeline.py): SHA-256 over the previous hash and the canonical content."""

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.core.crypto import Profile, link_hash
from app.models import Tip, TipEvent
from app.models.hazards import GENESIS_HASH
from app.services.crypto.state import ChainProfiles
from app.services.hazards.timeline import APPEND_ONLY

PUBLIC = "public"  # the actor_role of the tipster's own events


def canonical_content(event: TipEvent) -> dict[str, Any]:
    return {
        "tip_id": event.tip_id,
        "seq": event.seq,
        "action": event.action,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "note": event.note,
        "data": event.data,
    }


def compute_hash(prev_hash: str, event: TipEvent, profile: Profile | None = None) -> str:
    return link_hash(prev_hash, canonical_content(event), profile)


def append_tip_event(session: Session, *, tip: Tip, action: str, actor: Actor | None,
                     at: datetime, note: str | None = None,
                     data: dict[str, Any] | None = None) -> TipEvent:
    """The next event of the tip's chain; the tip row holds the new head."""
    session.flush()
    last = session.execute(select(TipEvent.seq, TipEvent.hash).where(TipEvent.tip_id == tip.id)
                           .order_by(TipEvent.seq.desc()).limit(1)).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    event = TipEvent(
        tip_id=tip.id, seq=seq, action=action,
        actor_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else PUBLIC,
        at=at.astimezone(UTC), note=note,
        data=json.loads(json.dumps(data or {}, default=str)),
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(prev_hash, event)
    session.add(event)
    tip.head_seq, tip.head_hash = seq, event.hash
    session.flush()
    return event


def tip_events(session: Session, tip_id: int) -> list[TipEvent]:
    return list(session.scalars(select(TipEvent).where(TipEvent.tip_id == tip_id)
                                .order_by(TipEvent.seq)))


def broken_links(events: list[TipEvent], profiles: ChainProfiles | None = None) -> list[int]:
    """The seqs of the events whose chain does not hold (empty: intact); each link checked
    with the digest it was written with when the database's `profiles` are given."""
    broken, expected = [], GENESIS_HASH
    for number, event in enumerate(events, start=1):
        profile = profiles.of("tip_event", event.id) if profiles is not None else None
        if (event.seq != number or event.prev_hash != expected
                or compute_hash(event.prev_hash, event, profile) != event.hash):
            broken.append(event.seq)
        expected = event.hash
    return broken


APPEND_ONLY[TipEvent] = "tip timeline events"
