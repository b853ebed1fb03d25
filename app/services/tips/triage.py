"""Triage of a tip by the committee or the routed inspector: 转为隐患, 合并, 不予受理.

convert: a hazard in `reported` (source "public", tip_id) from report fields, the tip's
photos copied onto it, the normal loop thereafter; merge: the tip joins a hazard the actor
sees; reject: with the reason the tipster reads. Each step is on the tip's own chain. The
hazard's timeline never carries the phone or the receipt.
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from app.access.actor import Actor
from app.access.roles import check_may_report, require_role
from app.access.scopes import hazard_visibility, tip_visibility
from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.db import not_visible, valid_id
from app.core.errors import Conflict, NotFound, Unprocessable
from app.models import Hazard, Photo, Tip, TipPhoto
from app.services.hazards.queries import visible_hazard
from app.services.hazards.report import create_reported, reporting_enterprise
from app.services.hazards.timeline import append_event
from app.services.media.imaging.process import hamming
from app.services.tips.routing import distance_m
from app.services.tips.schemas import PhotoMatch, TipStatus
from app.services.tips.timeline import append_tip_event
from app.workflow.fields import ReportFields, parse_fields
from app.workflow.machine import Attempt, check_report
from app.workflow.states import ENDED_STATES, HazardState
from app.workflow.table import Relation

TIP_ACTIONS = ("convert", "merge", "reject")


def visible_tip(session: Session, actor: Actor, tip_id: int, *,
                for_update: bool = False) -> Tip:
    """The tip if the actor handles it; 404 otherwise (an enterprise never learns of one)."""
    if not valid_id(tip_id):
        raise NotFound("举报不存在")
    query = (select(Tip).where(Tip.id == tip_id, tip_visibility(actor))
             .options(selectinload(Tip.photos)))
    if for_update:
        query = query.with_for_update(of=Tip)
    tip = session.scalars(query).first()
    if tip is None:
        raise not_visible(session, Tip, tip_id, "举报不存在")
    return tip


def list_tips(session: Session, actor: Actor, status: TipStatus | None = None,
              limit: int = 200) -> list[Tip]:
    require_role(actor, "tip_triage")
    query = (select(Tip).where(tip_visibility(actor)).options(selectinload(Tip.photos))
             .order_by(Tip.id.desc()).limit(limit))
    if status is not None:
        query = query.where(Tip.status == status)
    return list(session.scalars(query))


def perform_tip_action(session: Session, *, actor: Actor, tip_id: int, action: str,
                       form: dict[str, Any], clock: Clock) -> Tip:
    if action not in TIP_ACTIONS:
        raise NotFound(f"未知操作: {action}")
    tip = visible_tip(session, actor, tip_id, for_update=True)
    require_role(actor, "tip_triage")
    if tip.status != TipStatus.received:
        raise Conflict("该举报已处理")
    now = clock.now()
    if action == "convert":
        _convert(session, actor, tip, form, clock)
    elif action == "merge":
        _merge(session, actor, tip, form)
    else:
        reason = (form.get("reason") or "").strip()
        if not reason:
            raise Unprocessable([{"loc": ["body", "reason"], "type": "missing",
                                  "msg": "请填写不予受理的理由（举报人可见）"}])
        if len(reason) > 2000:
            raise Unprocessable([{"loc": ["body", "reason"], "type": "string_too_long",
                                  "msg": "理由过长（最多 2000 字）"}])
        tip.status, tip.reject_reason = TipStatus.rejected, reason
    tip.updated_at = now
    append_tip_event(session, tip=tip, action=action, actor=actor, at=now,
                     note=tip.reject_reason if action == "reject" else None,
                     data={"hazard_id": tip.hazard_id} if tip.hazard_id else {})
    return tip


def _convert(session: Session, actor: Actor, tip: Tip, form: dict[str, Any],
             clock: Clock) -> None:
    check_may_report(actor.role)
    wanted = {"description": tip.description, "location": tip.location,
              "lat": tip.lat, "lon": tip.lon, "enterprise_id": tip.enterprise_id,
              **{k: v for k, v in form.items() if not (isinstance(v, str) and not v.strip())}}
    parsed, field_errors = parse_fields(ReportFields, wanted, today=local_today(clock))
    enterprise = reporting_enterprise(session, actor, wanted.get("enterprise_id"), field_errors)
    check_report(Attempt(state="", relations=frozenset({Relation.reporter}),
                         photo_count=len(tip.photos), field_errors=field_errors))
    assert isinstance(parsed, ReportFields) and enterprise is not None
    now = clock.now()
    hazard = create_reported(session, actor=actor, parsed=parsed, enterprise=enterprise,
                             at=now, source="public", tip_id=tip.id)
    rows = [_photo_of(hazard, p, actor.id, now) for p in tip.photos]
    session.add_all(rows)
    session.flush()
    # The hazard's first event names the tip, never its phone or receipt.
    append_event(session, hazard=hazard, action="report", from_state=None,
                 to_state=HazardState.reported, actor=actor, at=now, note=parsed.description,
                 data={"level": parsed.level, "title": parsed.title,
                       "location": parsed.location, "major_clause": parsed.major_clause,
                       "criterion_id": parsed.criterion_id, "enterprise_id": enterprise.id,
                       "source": "public", "tip_id": tip.id},
                 photos=rows)
    tip.status, tip.hazard_id, tip.enterprise_id = TipStatus.converted, hazard.id, enterprise.id


def _photo_of(hazard: Hazard, photo: TipPhoto, uploaded_by_id: int, at: Any) -> Photo:
    """The tip's photo as the hazard's report evidence (the same stored blob)."""
    return Photo(
        hazard=hazard, action="report", sha256=photo.sha256, size_bytes=photo.size_bytes,
        content_type=photo.content_type, width=photo.width, height=photo.height,
        original_name=photo.original_name, orientation=photo.orientation,
        captured_at=photo.captured_at, captured_offset_known=photo.captured_offset_known,
        # EXIF GPS of a tip's photo is for staff only: not carried to what enterprises see.
        gps_lat=None, gps_lon=None, camera_make=photo.camera_make,
        camera_model=photo.camera_model, phash=photo.phash, flags=[],
        uploaded_by_id=uploaded_by_id, uploaded_at=at)


def _merge(session: Session, actor: Actor, tip: Tip, form: dict[str, Any]) -> None:
    raw = (form.get("hazard_id") or "").strip()
    try:
        hazard_id = int(raw)
    except ValueError:
        raise Unprocessable([{"loc": ["body", "hazard_id"], "type": "missing",
                              "msg": "请填写要合并到的隐患"}]) from None
    try:
        hazard = visible_hazard(session, actor, hazard_id)
    except NotFound:
        raise Unprocessable([{"loc": ["body", "hazard_id"], "type": "value_error",
                              "msg": "隐患不存在或不在您的范围内"}]) from None
    tip.status, tip.hazard_id = TipStatus.merged, hazard.id


def visible_tip_photo(session: Session, actor: Actor, tip_id: int, photo_id: int) -> TipPhoto:
    """A photo of a tip the actor handles; 404 otherwise."""
    tip = visible_tip(session, actor, tip_id)
    photo = next((p for p in tip.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound("照片不存在")
    return photo


DUPLICATE_M = 200.0
DUPLICATE_DAYS = 7
MAX_PHOTO_MATCHES = 20
MIN_HASH_BITS = 4  # fewer set (or unset) bits of 64: a hash without structure


def duplicate_hints(session: Session, actor: Actor,
                    tip: Tip) -> tuple[list[int], list[int], list[PhotoMatch]]:
    """Open hazards (that the actor sees) and untriaged tips that may be the same problem:
    of the same enterprise, or within 200 m and 7 days, or with a photo like one of the tip's
    (the perceptual hash within PHOTO_SIMILARITY_BITS). (Hazard ids, tip ids, the photos.)"""
    near_hazards, near_tips = _place_hints(session, actor, tip)
    matches = photo_matches(session, actor, tip)
    hazard_ids = sorted({*near_hazards, *(m.hazard_id for m in matches if m.hazard_id)},
                        reverse=True)
    tip_ids = sorted({*near_tips, *(m.tip_id for m in matches if m.tip_id)}, reverse=True)
    return hazard_ids, tip_ids, matches


def photo_matches(session: Session, actor: Actor, tip: Tip) -> list[PhotoMatch]:
    """The photos of open hazards and untriaged tips (that the actor sees) like the tip's own:
    the same scene photographed again, or the same picture sent twice. Only ids and hashes
    are scanned (cheap tuples, as the hazards' own near-duplicate check does)."""
    own = [(p.id, p.phash) for p in tip.photos if informative(p.phash)]
    if not own:
        return []
    limit = get_settings().photo_similarity_bits
    hazard_rows = session.execute(
        select(Photo.id, Photo.phash, Photo.hazard_id).join(Hazard, Hazard.id == Photo.hazard_id)
        .where(Photo.phash.is_not(None), Hazard.state.not_in(ENDED_STATES),
               hazard_visibility(actor)).order_by(Photo.id.desc()))
    tip_rows = session.execute(
        select(TipPhoto.id, TipPhoto.phash, TipPhoto.tip_id).join(Tip, Tip.id == TipPhoto.tip_id)
        .where(TipPhoto.phash.is_not(None), Tip.id != tip.id,
               Tip.status == TipStatus.received, tip_visibility(actor))
        .order_by(TipPhoto.id.desc()))
    found: list[PhotoMatch] = []
    for rows, of_tip in ((hazard_rows, False), (tip_rows, True)):
        for other_id, other_hash, owner_id in rows:
            if not informative(other_hash):
                continue
            best = min(((hamming(h, other_hash), pid) for pid, h in own))
            if best[0] <= limit:
                found.append(PhotoMatch(photo_id=best[1], other_photo_id=other_id,
                                        hazard_id=None if of_tip else owner_id,
                                        tip_id=owner_id if of_tip else None, bits=best[0]))
                if len(found) >= MAX_PHOTO_MATCHES:
                    return found
    return found


def informative(phash: str | None) -> bool:
    """A picture without structure (a flat wall, a dark frame) hashes to (nearly) all zeros or
    all ones and would match every other such picture: no evidence of the same scene."""
    if not phash:
        return False
    bits = int(phash, 16).bit_count()
    return MIN_HASH_BITS <= bits <= 64 - MIN_HASH_BITS


def _place_hints(session: Session, actor: Actor, tip: Tip) -> tuple[list[int], list[int]]:
    """Of the same enterprise, or within 200 m and 7 days."""
    since = tip.received_at - timedelta(days=DUPLICATE_DAYS)
    near_box = 0.002  # ≈ 200 m of latitude; the exact distance is checked below
    hazard_match = [Hazard.enterprise_id == tip.enterprise_id] if tip.enterprise_id else []
    tip_match = [Tip.enterprise_id == tip.enterprise_id] if tip.enterprise_id else []
    if tip.lat is not None and tip.lon is not None:
        hazard_match.append(and_(Hazard.reported_at >= since,
                                 Hazard.lat.between(tip.lat - near_box, tip.lat + near_box),
                                 Hazard.lon.between(tip.lon - near_box * 1.3,
                                                    tip.lon + near_box * 1.3)))
        tip_match.append(and_(Tip.lat.between(tip.lat - near_box, tip.lat + near_box),
                              Tip.lon.between(tip.lon - near_box * 1.3,
                                              tip.lon + near_box * 1.3)))
    if not hazard_match:
        return [], []
    hazards = session.execute(
        select(Hazard.id, Hazard.enterprise_id, Hazard.lat, Hazard.lon)
        .where(or_(*hazard_match), Hazard.state.not_in(ENDED_STATES), hazard_visibility(actor))
        .order_by(Hazard.id.desc()).limit(20)).all()
    tips = session.execute(
        select(Tip.id, Tip.enterprise_id, Tip.lat, Tip.lon)
        .where(or_(*tip_match), Tip.id != tip.id, Tip.status == TipStatus.received,
               Tip.received_at >= since, tip_visibility(actor))
        .order_by(Tip.id.desc()).limit(20)).all()

    def close(row: Any) -> bool:
        if tip.enterprise_id is not None and row.enterprise_id == tip.enterprise_id:
            return True
        return (tip.lat is not None and tip.lon is not None and row.lat is not None
                and row.lon is not None
                and distance_m(tip.lat, tip.lon, row.lat, row.lon) <= DUPLICATE_M)

    return [r.id for r in hazards if close(r)], [r.id for r in tips if close(r)]
