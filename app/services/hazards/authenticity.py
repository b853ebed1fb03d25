"""Authenticity flags on evidence photos (docs/domain.md, "Evidence photos").

A flag warns by default and is kept on the photo; PHOTO_REFUSE_FLAGS names flags that refuse
the action instead (422 naming the flag). Reuse is looked for by exact bytes everywhere, and
by near-identical image (difference hash within PHOTO_SIMILARITY_BITS) among the photos of
the same enterprise's hazards: that bounds the search however large the deployment grows.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import Unprocessable
from app.models import Enterprise, Hazard, Photo
from app.services.media.imaging.process import PhotoFacts, hamming

# Actions whose photos show the hazard fixed: they must not be the hazard's "before" photos.
AFTER_ACTIONS = frozenset({"submit", "verify", "spot_check"})

LABELS = {
    "no_capture_time": "照片没有拍摄时间（可能是截图、转发或编辑过的图片）",
    "captured_long_before": "拍摄时间早于本次操作超过 {hours:g} 小时",
    "captured_after_action": "拍摄时间晚于本次操作时间",
    "far_from_enterprise": "拍摄地点距企业 {distance:.0f} 米，超过 {limit:.0f} 米",
    "reused_photo": "同一张照片已用于其他步骤或其他隐患",
    "near_duplicate": "与其他步骤或其他隐患的照片高度相似",
    "after_matches_before": "整改后照片与整改前（上报时）照片相同或高度相似",
}


@dataclass(frozen=True)
class Flag:
    code: str
    message: str
    photo_id: int | None = None  # the earlier photo it matches, where there is one

    def as_data(self) -> dict[str, object]:
        data: dict[str, object] = {"code": self.code, "message": self.message}
        if self.photo_id is not None:
            data["photo_id"] = self.photo_id
        return data


def assess(
    session: Session, *, hazard: Hazard, action: str, sha256: str, facts: PhotoFacts,
    at: datetime,
) -> list[Flag]:
    """The flags one new photo raises, before it is stored."""
    return [
        *_time_flags(facts, at),
        *_place_flags(session, hazard, facts),
        *_reuse_flags(session, hazard, action, sha256, facts),
    ]


def refuse_if_configured(flags_per_photo: list[list[Flag]]) -> None:
    refusing = {c.strip() for c in get_settings().photo_refuse_flags.split(",") if c.strip()}
    for flags in flags_per_photo:
        for flag in flags:
            if flag.code in refusing:
                raise Unprocessable([{"loc": ["body", "photos"], "msg": flag.message,
                                      "type": f"photo_flag.{flag.code}"}])


def _time_flags(facts: PhotoFacts, at: datetime) -> list[Flag]:
    settings = get_settings()
    if facts.captured_at is None:
        return [Flag("no_capture_time", LABELS["no_capture_time"])]
    max_age = timedelta(hours=settings.photo_max_age_hours)
    if facts.captured_at < at - max_age:
        return [Flag("captured_long_before",
                     LABELS["captured_long_before"].format(hours=settings.photo_max_age_hours))]
    if facts.captured_at > at + timedelta(minutes=settings.photo_clock_skew_minutes):
        return [Flag("captured_after_action", LABELS["captured_after_action"])]
    return []


def _place_flags(session: Session, hazard: Hazard, facts: PhotoFacts) -> list[Flag]:
    if facts.gps is None:
        return []
    enterprise = session.get(Enterprise, hazard.enterprise_id)
    if enterprise is None or enterprise.lat is None or enterprise.lon is None:
        return []
    distance = haversine_m(facts.gps, (enterprise.lat, enterprise.lon))
    limit = get_settings().photo_max_distance_m
    if distance <= limit:
        return []
    return [Flag("far_from_enterprise",
                 LABELS["far_from_enterprise"].format(distance=distance, limit=limit))]


def _reuse_flags(session: Session, hazard: Hazard, action: str, sha256: str,
                 facts: PhotoFacts) -> list[Flag]:
    flags: list[Flag] = []
    before_ids = {p.id for p in hazard.photos if p.action == "report"}
    same = session.scalars(select(Photo).where(Photo.sha256 == sha256).order_by(Photo.id)).all()
    similar = _similar_photos(session, hazard, facts.phash) if facts.phash else []
    if action in AFTER_ACTIONS:
        match = next((p for p in [*same, *similar] if p.id in before_ids), None)
        if match is not None:
            flags.append(Flag("after_matches_before", LABELS["after_matches_before"], match.id))
    if same:
        flags.append(Flag("reused_photo", LABELS["reused_photo"], same[0].id))
    elif similar:
        flags.append(Flag("near_duplicate", LABELS["near_duplicate"], similar[0].id))
    return flags


def _similar_photos(session: Session, hazard: Hazard, phash: str) -> list[Photo]:
    """Photos of the enterprise within the distance: ids and hashes are scanned (cheap
    tuples, not ORM rows); only the matches are loaded."""
    limit = get_settings().photo_similarity_bits
    candidates = session.execute(
        select(Photo.id, Photo.phash)
        .join(Hazard, Hazard.id == Photo.hazard_id)
        .where(Hazard.enterprise_id == hazard.enterprise_id, Photo.phash.is_not(None))
        .order_by(Photo.id)
    )
    matches = [pid for pid, other in candidates if other and hamming(other, phash) <= limit]
    if not matches:
        return []
    return list(session.scalars(select(Photo).where(Photo.id.in_(matches[:20]))
                                .order_by(Photo.id)))


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(h))
