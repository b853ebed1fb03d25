"""Idempotency keys: the first result of a create or action request, replayed on retries."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


class IdempotencyKey(Base):
    """One `Idempotency-Key` a user sent, with the fingerprint of the request it named and the
    response it got.

    The row is written in the request's own transaction: it exists exactly when the effect
    does, so a failed request leaves no key behind and may be retried with the same one.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the request, hex
    status_code: Mapped[int]
    body: Mapped[str] = mapped_column(Text)  # the JSON answer; "" for a redirect
    location: Mapped[str | None] = mapped_column(String(500))  # a redirect's target
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
