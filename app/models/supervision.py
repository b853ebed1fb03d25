"""Supervision (双重督办): notices, the worker's issued steps, extensions, in-app inbox."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime
from app.models.enums import PartyType


class SupervisionStep(Base):
    """A step the worker has taken for one deadline of one hazard (reminder, overdue, ...).

    The unique key is what makes the worker idempotent: a step is inserted once, however
    often or by however many workers the scan runs.
    """

    __tablename__ = "supervision_step"
    __table_args__ = (UniqueConstraint("hazard_id", "kind", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date] = mapped_column(Date)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NoticeCounter(Base):
    """The last 督办单 number issued per county and year."""

    __tablename__ = "notice_counter"

    county_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Notice(Base):
    """督办单: sent to the enterprise and to each supervising unit when a deadline passes."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("hazard_id", "deadline", "recipient_type", "recipient_id"),
        # Each county numbers its own 督办单 from 1 every year (NoticeCounter).
        UniqueConstraint("county_code", "number"),
        Index("ix_notice_recipient", "recipient_type", "recipient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(String(12))  # the issuing county (6 digits)
    number: Mapped[str] = mapped_column(String(40))  # 督办〔2026〕第12号
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"), index=True)
    recipient_type: Mapped[PartyType] = mapped_column(String(16))
    recipient_id: Mapped[int]
    deadline: Mapped[date] = mapped_column(Date)  # the deadline that was missed
    days_overdue: Mapped[int]
    requirement: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Extension(Base):
    """延期申请: the enterprise asks for a later deadline; a supervising unit decides."""

    __tablename__ = "extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    current_deadline: Mapped[date] = mapped_column(Date)
    requested_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    interim_measures: Mapped[str] = mapped_column(Text)  # 临时管控措施
    status: Mapped[str] = mapped_column(String(16), default="pending")  # approved / refused
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)


class InboxMessage(Base):
    """An in-app message to an enterprise, a unit or a region's committee."""

    __tablename__ = "inbox_message"
    __table_args__ = (Index("ix_inbox_recipient", "recipient_type", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_type: Mapped[str] = mapped_column(String(16))  # enterprise / unit / region
    recipient_id: Mapped[int]
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
