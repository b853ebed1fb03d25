"""Response models of the supervision API (docs/api.md): notices, extensions, the inbox."""

from datetime import date

from pydantic import BaseModel, ConfigDict

from app.core.schemas import LocalDateTime
from app.models.enums import PartyType


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    hazard_id: int
    recipient_type: PartyType
    recipient_id: int
    deadline: date
    days_overdue: int
    requirement: str
    issued_at: LocalDateTime
    acknowledged_at: LocalDateTime | None
    acknowledged_by_id: int | None


class ExtensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    hazard_id: int
    requested_by_id: int
    requested_at: LocalDateTime
    current_deadline: date
    requested_deadline: date
    reason: str
    interim_measures: str
    status: str
    decided_by_id: int | None
    decided_at: LocalDateTime | None
    decision_note: str | None


class InboxMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    hazard_id: int | None
    kind: str
    title: str
    body: str
    created_at: LocalDateTime
    read_at: LocalDateTime | None
