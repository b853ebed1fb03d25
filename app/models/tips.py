"""Public tips (群众举报): the tip, its photos, its own hash-chained timeline, the rate window."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import PersonalText
from app.core.db import Base, UTCDateTime
from app.models.hazards import GENESIS_HASH, PhotoColumns


class Tip(Base):
    """One tip from the public. The phone and receipt are for the handling staff only."""

    __tablename__ = "tip"
    __table_args__ = (Index("ix_tip_status_keyset", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # 查询码: secrets.token_urlsafe(16), 128 bits; the tipster's only handle on the tip.
    receipt: Mapped[str] = mapped_column(String(32), unique=True)
    # received → converted | merged | rejected (services/tips/schemas.TipStatus).
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    # SM4-encrypted under CRYPTO_PROFILE=gm (app/core/crypto.py, PersonalText), hence the
    # width; compared (the rate limit per phone) by its blind index only.
    phone: Mapped[str | None] = mapped_column(PersonalText(128))
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    # The Open311 service (a hazard category) when the tip came that way.
    category: Mapped[str | None] = mapped_column(String(100))
    # Routing: the township the tip lies in, the enterprise matched (named or nearest), and
    # the county whose committee handles it.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    county_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    # The hazard it became (convert) or was merged into.
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard.id"), index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on: Mapped[date] = mapped_column(Date)
    # The Idempotency-Key the tip was sent with (an offline draft's), and the fingerprint of
    # that request: a retry with both the same answers this tip again, nothing is stored twice.
    client_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    client_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Set by the worker once the tip passed its due date untriaged (kept for the figures).
    was_overdue: Mapped[bool] = mapped_column(default=False, server_default=false())
    # 举报奖励: decided by the committee, claimed within the window, paid on record.
    reward_amount: Mapped[int | None] = mapped_column(Integer)
    reward_rule: Mapped[str | None] = mapped_column(String(200))
    reward_fine: Mapped[int | None] = mapped_column(Integer)
    reward_note: Mapped[str | None] = mapped_column(Text)
    reward_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reward_claim_by: Mapped[date | None] = mapped_column(Date)
    reward_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The head of the tip's timeline chain (like Hazard.head_seq/head_hash).
    head_seq: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)

    photos: Mapped[list["TipPhoto"]] = relationship(order_by="TipPhoto.id")


class TipPhoto(PhotoColumns, Base):
    """A tip's photo: the same facts as a hazard's Photo, stored by SHA-256 in the same blobs;
    copied onto the hazard's photos when the tip is converted."""

    __tablename__ = "tip_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id"), index=True)


class TipEvent(Base):
    """One entry of a tip's timeline: append-only, hash-chained per tip."""

    __tablename__ = "tip_event"
    __table_args__ = (UniqueConstraint("tip_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id"))
    seq: Mapped[int]
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_role: Mapped[str] = mapped_column(String(16))  # "public" for the tipster
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class TipSubmission(Base):
    """One tip accepted from a source address: the rate limit's sliding window."""

    __tablename__ = "tip_submission"
    __table_args__ = (Index("ix_tip_submission_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TipStep(Base):
    """A step the worker took for a tip's due date (reminder, overdue): inserted once per
    (tip, kind, due date), which makes the worker's pass safe to run again."""

    __tablename__ = "tip_step"
    __table_args__ = (UniqueConstraint("tip_id", "kind", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TipRefusal(Base):
    """A tip refused (abuse control): the rate limit, a rejected upload, bad fields. What and
    from which address; never the phone number or the tip's text."""

    __tablename__ = "tip_refusal"
    __table_args__ = (Index("ix_tip_refusal_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    address: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # api | page | open311
    status: Mapped[int] = mapped_column(Integer)  # the HTTP status answered
    kind: Mapped[str] = mapped_column(String(32))  # rate_address | rate_phone | upload | ...
    reason: Mapped[str] = mapped_column(String(300))
