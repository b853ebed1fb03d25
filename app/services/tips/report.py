"""群众举报: a tip from anyone, without an account — photos, what, where, optional phone.

Rate-limited per source address (a sliding window in the database, so every app host counts
the same tips); photos go through the evidence pipeline of hazard photos (inspection,
storage by SHA-256, derivatives) and are copied onto the hazard when the tip is converted.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from math import ceil
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.crypto import blind_index
from app.core.errors import TooManyRequests, Unprocessable
from app.models import Tip, TipPhoto, TipSubmission
from app.services.hazards import photos as photo_service
from app.services.media.storage import get_storage
from app.services.tips.abuse import refusal_kind, refusals_recorded
from app.services.tips.routing import route_tip
from app.services.tips.schemas import CATEGORIES, TipStatus
from app.services.tips.timeline import append_tip_event
from app.workflow.fields import ShortText, Text, parse_fields

RECEIPT_BYTES = 16  # 128 bits: a receipt cannot be guessed (≥ 80 bits required)


class TipFields(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    description: Text
    location: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    enterprise_name: ShortText | None = None
    # From an enterprise's 安全码 (signed: checks.safety_code.tip_code): names it for sure.
    enterprise_code: Annotated[str, StringConstraints(max_length=100)] | None = None
    region_id: str | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{4,30}$")] | None = None
    category: Annotated[str, StringConstraints(max_length=100)] | None = None


def new_receipt() -> str:
    return secrets.token_urlsafe(RECEIPT_BYTES)


def check_rate(session: Session, address: str, clock: Clock) -> None:
    """429 with Retry-After when this address sent its allowance within the window."""
    settings = get_settings()
    now = clock.now()
    window = timedelta(minutes=settings.tip_rate_window_minutes)
    # Old entries are of no use to any window: drop them as we go.
    session.execute(delete(TipSubmission).where(TipSubmission.at <= now - window))
    count, oldest = session.execute(
        select(func.count(), func.min(TipSubmission.at))
        .where(TipSubmission.address == address, TipSubmission.at > now - window)).one()
    _refuse_beyond(count, oldest, now, window, settings.tip_rate_limit, "rate_address")


def check_phone_rate(session: Session, phone: str | None, clock: Clock) -> None:
    """The same allowance per phone number, whatever address it sends from."""
    if not phone:
        return
    settings = get_settings()
    now = clock.now()
    window = timedelta(minutes=settings.tip_rate_window_minutes)
    count, oldest = session.execute(
        select(func.count(), func.min(Tip.received_at))
        .where(Tip.phone_index == blind_index(phone), Tip.received_at > now - window)).one()
    _refuse_beyond(count, oldest, now, window, settings.tip_rate_limit, "rate_phone")


def _refuse_beyond(count: int, oldest: Any, now: Any, window: timedelta, limit: int,
                   kind: str) -> None:
    if count >= limit:
        retry = max(1, ceil((oldest + window - now).total_seconds()))
        raise refusal_kind(TooManyRequests("举报过于频繁，请稍后再试",
                                           headers={"Retry-After": str(retry)}), kind)


@dataclass(frozen=True)
class SentOnce:
    """A tip's Idempotency-Key (an offline draft sends one) and its request's fingerprint."""

    key: str
    fingerprint: str


def submit_tip(session: Session, *, form: dict[str, Any], uploads: list[photo_service.Upload],
               address: str, clock: Clock, channel: str = "api") -> Tip:
    """Check the rate, the fields and the photos; store the tip, its photos, its first event.
    A refusal is recorded (services/tips/abuse.py)."""
    tip, _ = submit_tip_once(session, form=form, uploads=uploads, address=address,
                             clock=clock, channel=channel, once=None)
    return tip


def submit_tip_once(session: Session, *, form: dict[str, Any],
                    uploads: list[photo_service.Upload], address: str, clock: Clock,
                    channel: str, once: SentOnce | None) -> tuple[Tip, bool]:
    """As submit_tip; with a key, the tip is stored once however often the request comes
    (the draft's answer lost on the way): a retry answers the same tip, `replayed` True,
    without counting toward the rate limit. The key with another request is a 422."""
    if once is not None and (earlier := _sent_with(session, once)) is not None:
        return earlier, True
    try:
        with refusals_recorded(session, address=address, channel=channel, now=clock.now):
            return accept_tip(session, form=form, uploads=uploads, address=address,
                              clock=clock, once=once), False
    except IntegrityError:
        # The same draft sent twice at once: the other request stored it first.
        earlier = _sent_with(session, once) if once is not None else None
        if earlier is None:
            raise
        return earlier, True


def _sent_with(session: Session, once: SentOnce) -> Tip | None:
    tip = session.scalar(select(Tip).where(Tip.client_key == once.key))
    if tip is not None and tip.client_fingerprint != once.fingerprint:
        raise Unprocessable("Idempotency-Key 已用于另一个不同的请求；新的请求请换一个键")
    return tip


def accept_tip(session: Session, *, form: dict[str, Any], uploads: list[photo_service.Upload],
               address: str, clock: Clock, once: SentOnce | None = None) -> Tip:
    """submit_tip without the record of a refusal (a caller that records its own)."""
    check_rate(session, address, clock)
    now = clock.now()
    parsed, errors = parse_fields(TipFields, form, today=local_today(clock))
    if parsed is not None and parsed.category and parsed.category not in CATEGORIES:
        errors.append({"loc": ["body", "category"], "type": "enum", "msg": "未知的隐患类别"})
    if not uploads:
        errors.append({"loc": ["body", "photos"], "type": "missing",
                       "msg": "请至少拍摄或上传一张照片"})
    if errors:
        raise Unprocessable(errors)
    assert isinstance(parsed, TipFields)
    # One number however it was typed (spaces, dashes), for the limit and the staff alike.
    phone = parsed.phone.replace(" ", "").replace("-", "") if parsed.phone else None
    check_phone_rate(session, phone, clock)
    checked, upload_error = photo_service.inspect_uploads(uploads)
    if upload_error is not None:
        raise refusal_kind(upload_error, "upload")
    route = route_tip(session, region_id=parsed.region_id, lat=parsed.lat, lon=parsed.lon,
                      enterprise_name=parsed.enterprise_name,
                      enterprise_code=parsed.enterprise_code)
    tip = Tip(
        receipt=new_receipt(), status=TipStatus.received, description=parsed.description,
        location=parsed.location, lat=parsed.lat, lon=parsed.lon,
        enterprise_name=parsed.enterprise_name, phone=phone,
        phone_index=blind_index(phone) if phone else None, category=parsed.category,
        region_id=route.region_id, enterprise_id=route.enterprise_id, county_id=route.county_id,
        received_at=now, updated_at=now,
        client_key=once.key if once else None,
        client_fingerprint=once.fingerprint if once else None,
        due_on=local_today(clock) + timedelta(days=get_settings().tip_due_days),
    )
    session.add(tip)
    session.add(TipSubmission(address=address, at=now))
    session.flush()
    _store_photos(session, tip, checked, now)
    # The chain records what was told and where it went; the phone stays on the tip row.
    append_tip_event(session, tip=tip, action="receive", actor=None, at=now,
                     note=parsed.description,
                     data={"location": parsed.location, "lat": parsed.lat, "lon": parsed.lon,
                           "enterprise_name": parsed.enterprise_name,
                           "region_id": route.region_id, "enterprise_id": route.enterprise_id,
                           "county_id": route.county_id,
                           "photos": [p.sha256 for p in tip.photos]})
    return tip


def _store_photos(session: Session, tip: Tip, checked: list[photo_service.CheckedPhoto],
                  now: Any) -> None:
    storage = get_storage()
    for photo in checked:
        photo_service.store_blob(session, storage, photo)
        tip.photos.append(TipPhoto(uploaded_at=now, **photo_service.photo_columns(photo)))
    session.flush()
