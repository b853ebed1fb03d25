"""The transactional outbox and the webhook subscriptions it is delivered to."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


class OutboxMessage(Base):
    """One thing to be told to the outside world, written in the transaction that did it: a
    timeline event (hazard and event set), or a signed audit checkpoint (neither set: it is
    about every hazard; topic audit_checkpoint).

    Nothing leaves the system from here until the row is committed: the worker only ever
    reads committed messages, fans them out to webhooks and SMS, then stamps dispatched_at.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("(hazard_id IS NULL) = (event_id IS NULL)", name="hazard_with_event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The event's action (report, assign, ...), or audit_checkpoint.
    topic: Mapped[str] = mapped_column(String(32))
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class Webhook(Base):
    """A subscription: messages of hazards inside the region subtree, of the given topics
    (and audit checkpoints when the subtree holds every hazard they sign)."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 key, kept to sign bodies
    topics: Mapped[list[str]] = mapped_column(JSON)  # empty: every topic
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One message to one webhook: its retry state and the log of its attempts.

    status: pending (due at next_attempt_at), delivered, or dead (gave up: the dead letter).
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("message_id", "webhook_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # [{"at", "status_code", "error", "ms"}], one per attempt: at most WEBHOOK_MAX_ATTEMPTS.
    log: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
