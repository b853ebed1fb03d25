"""Response models of the hazard API (docs/api.md)."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import LocalDateTime
from app.models import Event, Hazard, Photo
from app.models.enums import Duty, HazardLevel, PartyType
from app.workflow.deadlines import is_overdue
from app.workflow.states import HazardState
from app.workflow.table import ACTION_LABELS, STATE_LABELS


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    party_type: PartyType
    party_id: int
    duty: Duty
    deadline: date


class FlagMatch(NamedTuple):
    """The earlier photo a flag names, as a viewer who may see it is shown it."""

    photo_id: int
    hazard_id: int
    hazard_code: str


# A match the viewer may not see is told as "elsewhere": no photo, no hazard.
ELSEWHERE = {
    "reused_photo": "同一张照片此前已在别处使用过",
    "near_duplicate": "与别处的一张照片高度相似",
    "after_matches_before": "整改后照片与整改前（上报时）照片相同或高度相似",
}


class PhotoFlag(BaseModel):
    code: str
    message: str
    photo_id: int | None = None  # the earlier photo, only to one who may see it
    hazard_id: int | None = None  # its hazard, likewise
    hazard_code: str | None = None

    @classmethod
    def shown(cls, flag: dict[str, Any], matches: Mapping[int, FlagMatch]) -> "PhotoFlag":
        """A stored flag as this viewer sees it: the matched photo and its hazard when the
        viewer may see that photo (`matches`), "elsewhere" otherwise."""
        code, message = str(flag.get("code", "")), str(flag.get("message", ""))
        matched = flag.get("photo_id")
        if matched is None:
            return cls(code=code, message=message)
        match = matches.get(matched) if isinstance(matched, int) else None
        if match is None:
            return cls(code=code, message=ELSEWHERE.get(code, message))
        return cls(code=code, message=message, photo_id=match.photo_id,
                   hazard_id=match.hazard_id, hazard_code=match.hazard_code)


NO_MATCHES: Mapping[int, FlagMatch] = MappingProxyType({})


class PhotoOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int | None
    sha256: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    uploaded_at: LocalDateTime
    action: str | None
    orientation: int | None
    captured_at: LocalDateTime | None
    gps_lat: float | None
    gps_lon: float | None
    camera_make: str | None
    camera_model: str | None
    flags: list[PhotoFlag]

    @classmethod
    def of(cls, photo: Photo, matches: Mapping[int, FlagMatch]) -> "PhotoOut":
        return cls.model_validate({
            **{name: getattr(photo, name) for name in _PHOTO_FIELDS},
            "flags": [PhotoFlag.shown(f, matches) for f in photo.flags or []],
        })


_PHOTO_FIELDS = tuple(name for name in PhotoOut.model_fields if name != "flags")


class HazardOut(BaseModel):
    id: int
    code: str
    state: HazardState
    state_label: str
    level: HazardLevel
    title: str
    description: str
    location: str
    category: str | None
    major_clause: str | None
    criterion_id: int | None
    lat: float | None
    lon: float | None
    enterprise_id: int
    region_id: int
    reported_by_id: int
    # "report" (an account's report) or "public" (a converted tip: tip_id).
    source: str
    tip_id: int | None
    reported_at: LocalDateTime
    updated_at: LocalDateTime
    deadline: date | None
    overdue: bool
    spot_check_drawn: bool | None
    deadline_provisional: bool
    was_overdue: bool
    listing: dict[str, Any] | None
    plan: dict[str, Any] | None
    version: int
    assignments: list[AssignmentOut]
    photos: list[PhotoOut]

    @classmethod
    def of(cls, hazard: Hazard, today: date,
           matches: Mapping[int, FlagMatch] = NO_MATCHES) -> "HazardOut":
        """The hazard as the API shows it (assignments and photos must be loaded).

        `matches`: the earlier photos named by its photos' flags that the viewer may see
        (`photos.visible_matches`); the hazard's own photos always are. Any other match is
        shown as "elsewhere", without its id.
        """
        own = {p.id: FlagMatch(p.id, hazard.id, hazard.code) for p in hazard.photos}
        seen = {**matches, **own}
        return cls(
            **{name: getattr(hazard, name) for name in _PLAIN_FIELDS},
            state_label=STATE_LABELS[HazardState(hazard.state)],
            overdue=is_overdue(hazard, today),
            assignments=[AssignmentOut.model_validate(a) for a in hazard.assignments],
            photos=[PhotoOut.of(p, seen) for p in hazard.photos],
        )


_PLAIN_FIELDS = tuple(
    name for name in HazardOut.model_fields
    if name not in {"state_label", "overdue", "assignments", "photos"}
)


class HazardPage(BaseModel):
    items: list[HazardOut]
    next_cursor: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    action: str
    action_label: str
    from_state: HazardState | None
    to_state: HazardState
    actor_id: int | None
    actor_role: str
    actor_unit_id: int | None
    actor_enterprise_id: int | None
    at: LocalDateTime
    note: str | None
    data: dict[str, Any]
    photo_ids: list[int]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, event: Event) -> "EventOut":
        return cls.model_validate(
            {**{k: getattr(event, k) for k in _EVENT_FIELDS},
             "action_label": ACTION_LABELS.get(event.action, event.action)}
        )


_EVENT_FIELDS = tuple(name for name in EventOut.model_fields if name != "action_label")


class PolicyIn(BaseModel):
    """The spot-check rate of the committee's region (0 … 1)."""

    rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)]


class PolicyOut(BaseModel):
    region_id: int
    rate: Decimal
