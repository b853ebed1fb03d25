"""Response models of the public tips API (docs/api.md v1.1, "Public tips")."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel

from app.core.schemas import LocalDateTime
from app.models import Tip, TipEvent, TipPhoto


class TipStatus(StrEnum):
    received = "received"  # 已受理, awaiting triage
    converted = "converted"  # 已转为隐患
    merged = "merged"  # 已并入已有隐患
    rejected = "rejected"  # 不予受理
    closed = "closed"  # the hazard it became or joined is closed (已办结); never stored


# Open311 services: one per hazard category (Hazard.category is free text; these are the
# categories a tipster can pick).
CATEGORIES: dict[str, str] = {
    "fire": "消防安全",
    "electrical": "用电安全",
    "chemicals": "危险化学品",
    "special_equipment": "特种设备",
    "confined_space": "有限空间",
    "construction": "建筑施工",
    "occupational_health": "职业健康",
    "other": "其他",
}


class TipReceipt(BaseModel):
    """What the tipster gets back."""

    receipt: str
    status: TipStatus


class RewardNotice(BaseModel):
    amount: int
    claim_by: date
    paid: bool


class TipPublicStatus(BaseModel):
    """GET /tips/receipt/{receipt}: the outcome and nothing else (no staff, no enterprise)."""

    status: TipStatus
    outcome: str
    updated_at: LocalDateTime
    reward: RewardNotice | None = None


class TipPhotoOut(BaseModel):
    id: int
    sha256: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    captured_at: LocalDateTime | None
    gps_lat: float | None  # EXIF GPS: staff only
    gps_lon: float | None

    @classmethod
    def of(cls, photo: TipPhoto) -> "TipPhotoOut":
        return cls.model_validate({name: getattr(photo, name) for name in cls.model_fields})


class TipRewardOut(BaseModel):
    amount: int
    rule: str
    claim_by: date
    fine_amount: int | None = None
    note: str | None = None
    paid_at: LocalDateTime | None = None


class TipEventOut(BaseModel):
    seq: int
    action: str
    actor_id: int | None
    actor_role: str
    at: LocalDateTime
    note: str | None
    data: dict[str, object]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, event: TipEvent) -> "TipEventOut":
        return cls.model_validate({name: getattr(event, name) for name in cls.model_fields})


class PhotoMatch(BaseModel):
    """A duplicate hint by photo: one of the tip's photos is like a photo of an open hazard
    or of another untriaged tip (the perceptual hashes differ in `bits` bits)."""

    photo_id: int  # the tip's photo
    other_photo_id: int
    hazard_id: int | None = None
    tip_id: int | None = None
    bits: int


class TipOut(BaseModel):
    """A tip as the handling staff see it (with the phone; never shown to an enterprise)."""

    id: int
    status: TipStatus
    description: str
    location: str
    lat: float | None
    lon: float | None
    enterprise_name: str | None
    phone: str | None
    category: str | None
    region_id: int | None
    enterprise_id: int | None
    county_id: int | None
    hazard_id: int | None
    reject_reason: str | None
    received_at: LocalDateTime
    updated_at: LocalDateTime
    due_on: date
    overdue: bool  # still untriaged after its due date (60 days from receipt)
    reward: TipRewardOut | None
    photos: list[TipPhotoOut]
    events: list[TipEventOut] = []
    # Duplicate hints (GET /tips/{id}): open hazards and untriaged tips of the same enterprise,
    # or within 200 m and 7 days, or with a similar photo (listed in similar_photos).
    similar_hazard_ids: list[int] = []
    similar_tip_ids: list[int] = []
    similar_photos: list[PhotoMatch] = []

    @classmethod
    def of(cls, tip: Tip, today: date, events: list[TipEvent] | None = None) -> "TipOut":
        plain = {name: getattr(tip, name) for name in cls.model_fields
                 if name not in {"reward", "photos", "events", "overdue",
                                 "similar_hazard_ids", "similar_tip_ids",
                                 "similar_photos"}}
        return cls(**plain, reward=reward_of(tip),
                   overdue=tip.status == TipStatus.received and tip.due_on < today,
                   photos=[TipPhotoOut.of(p) for p in tip.photos],
                   events=[TipEventOut.of(e) for e in events or []])


class TipActionOut(BaseModel):
    """The answer to a triage action: the tip, and the hazard it became or joined."""

    id: int
    status: TipStatus
    hazard_id: int | None


def reward_of(tip: Tip) -> TipRewardOut | None:
    if tip.reward_amount is None or tip.reward_claim_by is None:
        return None
    return TipRewardOut(amount=tip.reward_amount, rule=tip.reward_rule or "",
                        claim_by=tip.reward_claim_by, fine_amount=tip.reward_fine,
                        note=tip.reward_note, paid_at=tip.reward_paid_at)


# The form bodies of the staff endpoints, for the OpenAPI document (the services read them).
class TipMergeFields(BaseModel):
    hazard_id: int


class TipRejectFields(BaseModel):
    reason: str


class TipRewardFields(BaseModel):
    fine_amount: float | None = None  # 元
    note: str | None = None


class TipFigureValues(BaseModel):
    """The figures of one cell (GET /tips/figures); amounts in whole 元."""

    received: int
    converted: int
    merged: int
    rejected: int
    overdue: int
    rewards_decided: int
    rewards_paid: int
    reward_amount_decided: int
    reward_amount_paid: int


class TipFigureRow(TipFigureValues):
    region_id: int | None  # the township; null: a tip nothing could place (未定位)
    region_name: str
    month: str  # YYYY-MM; "" in by_township (the period's sum)


class TipFiguresOut(BaseModel):
    """群众举报的统计 of the tips the caller handles, by township and month: tips in the month
    received, rewards in the month decided, payments in the month paid."""

    start: date
    end: date
    labels: dict[str, str]
    rows: list[TipFigureRow]
    by_township: list[TipFigureRow]
    total: TipFigureValues
