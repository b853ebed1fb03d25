"""The hazard timeline: append-only events, hash-chained per hazard.

Each event's hash is SHA-256 (SM3 under CRYPTO_PROFILE=gm: app/core/crypto.py) over the
previous event's hash and the event's canonical content (sorted-key compact JSON, UTC
timestamps), so editing, deleting or inserting any event breaks the chain from that point;
`bihuan audit verify` recomputes every chain.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.access.actor import Actor
from app.core.crypto import Profile, link_hash
from app.models import Event, Hazard, Photo
from app.models.hazards import GENESIS_HASH
from app.services.crypto.state import chain_profiles
from app.services.outbox import webhooks as outbox

GENESIS = GENESIS_HASH


def canonical_content(event: Event) -> dict[str, Any]:
    return {
        "hazard_id": event.hazard_id,
        "seq": event.seq,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "actor_unit_id": event.actor_unit_id,
        "actor_enterprise_id": event.actor_enterprise_id,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "note": event.note,
        "data": event.data,
        "photos": event.photos,
    }


def compute_hash(prev_hash: str, event: Event, profile: Profile | None = None) -> str:
    """The event's link hash, with `profile`'s digest (the setting's when None: what is
    written now; a check of links written before passes the profile they were written with,
    services/crypto/state.chain_profiles)."""
    return link_hash(prev_hash, canonical_content(event), profile)


def append_event(
    session: Session,
    *,
    hazard: Hazard,
    action: str,
    from_state: str | None,
    to_state: str,
    actor: Actor | None,
    at: datetime,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    photos: list[Photo] | None = None,
) -> Event:
    """Add the next event of the hazard's chain. The caller holds the hazard's lock."""
    session.flush()
    last = session.execute(
        select(Event.seq, Event.hash)
        .where(Event.hazard_id == hazard.id)
        .order_by(Event.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    event = Event(
        hazard_id=hazard.id,
        seq=seq,
        action=action,
        from_state=from_state,
        to_state=to_state,
        # No actor: the system itself (the supervision worker).
        actor_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else "system",
        actor_unit_id=actor.unit_id if actor else None,
        actor_enterprise_id=actor.enterprise_id if actor else None,
        at=at.astimezone(UTC),
        note=note,
        data=json.loads(json.dumps(data or {}, default=str)),
        photos=[{"id": p.id, "sha256": p.sha256} for p in photos or []],
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(prev_hash, event)
    session.add(event)
    session.flush()
    _move_head(session, hazard, seq, event.hash)
    for photo in photos or []:
        photo.event_id = event.id
    outbox.enqueue(session, hazard=hazard, event=event)  # same transaction as the event
    return event


def _move_head(session: Session, hazard: Hazard, seq: int, head_hash: str) -> None:
    """Record the chain's new head on the hazard row, in the event's transaction.

    A table-level UPDATE, so the hazard's optimistic `version` (what clients send back as
    expected_version) counts the hazard's changes as before, not its events."""
    table = Hazard.__table__
    session.execute(update(table).where(table.c.id == hazard.id)
                    .values(head_seq=seq, head_hash=head_hash))
    set_committed_value(hazard, "head_seq", seq)
    set_committed_value(hazard, "head_hash", head_hash)


def events_of(session: Session, hazard_id: int) -> list[Event]:
    return list(
        session.scalars(select(Event).where(Event.hazard_id == hazard_id).order_by(Event.seq))
    )


@dataclass(frozen=True)
class BrokenEvent:
    hazard_id: int
    event_id: int
    seq: int
    problem: str


def verify_chains(session: Session, hazard_id: int | None = None) -> Iterator[BrokenEvent]:
    """Recompute every hazard's chain (or one's); yield each event that does not hold."""
    query = select(Event).order_by(Event.hazard_id, Event.seq)
    if hazard_id is not None:
        query = query.where(Event.hazard_id == hazard_id)
    profiles = chain_profiles(session)
    rows = session.scalars(query.execution_options(yield_per=1000))
    hazard_id, expected_prev, expected_seq = None, GENESIS, 1
    for event in rows:
        if event.hazard_id != hazard_id:
            hazard_id, expected_prev, expected_seq = event.hazard_id, GENESIS, 1
        if event.seq != expected_seq:
            yield BrokenEvent(event.hazard_id, event.id, event.seq,
                              f"sequence gap: expected seq {expected_seq}")
        if event.prev_hash != expected_prev:
            yield BrokenEvent(event.hazard_id, event.id, event.seq,
                              "prev_hash does not match the previous event")
        if compute_hash(event.prev_hash, event, profiles.of("event", event.id)) != event.hash:
            yield BrokenEvent(event.hazard_id, event.id, event.seq,
                              "content does not match its hash (edited)")
        expected_prev, expected_seq = event.hash, event.seq + 1


# The append-only timelines, by their model: an ORM delete or edit of one raises before the
# flush (the database's triggers refuse it too). Other domains add theirs (tips).
APPEND_ONLY: dict[type, str] = {Event: "timeline events"}


@sa_event.listens_for(Session, "before_flush")
def _timelines_are_append_only(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if kind := APPEND_ONLY.get(type(obj)):
            raise RuntimeError(f"{kind} are never deleted")
    for obj in session.dirty:
        if (kind := APPEND_ONLY.get(type(obj))) and session.is_modified(obj):
            raise RuntimeError(f"{kind} are never edited")
