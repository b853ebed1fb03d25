"""Evidence photos: check uploads, store originals and derivatives, serve them in scope."""

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.scopes import hazard_visibility
from app.core.config import get_settings
from app.core.db import not_visible, on_rollback, valid_id
from app.core.errors import DomainError, NotFound, Unprocessable
from app.models import Hazard, Photo
from app.services.hazards import authenticity
from app.services.hazards.schemas import FlagMatch
from app.services.media.imaging.process import VARIANT_SIDES, PhotoFacts, process_photo
from app.services.media.imaging.staged import StagedFile
from app.services.media.storage import BlobStorage, get_storage
from app.services.operations.metrics import PHOTO_INGEST

Upload = StagedFile


@dataclass(frozen=True)
class CheckedPhoto:
    upload: Upload
    facts: PhotoFacts


def inspect_uploads(uploads: list[Upload]) -> tuple[list[CheckedPhoto], DomainError | None]:
    """Validate every file; return the photos, or the first problem (413 or 415)."""
    settings = get_settings()
    checked = []
    for upload in uploads:
        started = perf_counter()
        try:
            facts = process_photo(upload.path, name=upload.filename or "照片",
                                  max_pixels=settings.max_image_pixels, tz=settings.tz,
                                  max_jpeg_pixels=settings.max_jpeg_pixels)
        except DomainError as error:
            return [], error
        checked.append(CheckedPhoto(upload, facts))
        PHOTO_INGEST.observe(perf_counter() - started)
    return checked, None


def store_photos(
    session: Session,
    *,
    hazard: Hazard,
    action: str,
    photos: list[CheckedPhoto],
    uploaded_by_id: int,
    at: datetime,
) -> list[Photo]:
    """Flag, then write originals, derivatives and rows; a rollback removes new blobs.

    Raises 422 when a flag configured to refuse is raised (before anything is written).
    """
    flags = [
        authenticity.assess(session, hazard=hazard, action=action, sha256=p.upload.sha256,
                            facts=p.facts, at=at)
        for p in photos
    ]
    authenticity.refuse_if_configured(flags)
    storage = get_storage()
    rows = []
    for photo, photo_flags in zip(photos, flags, strict=True):
        store_blob(session, storage, photo)
        row = Photo(hazard=hazard, action=action, flags=[f.as_data() for f in photo_flags],
                    uploaded_by_id=uploaded_by_id, uploaded_at=at, **photo_columns(photo))
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def lock_blob(session: Session, sha256: str) -> None:
    """Serialise transactions that create, reuse or delete the same blob.

    Identical bytes are stored once, so a request may reuse a blob another in-flight request
    just created; if that one rolls back it deletes the blob. Holding a per-blob lock until
    the transaction ends makes the reuser wait and then see the truth. SQLite transactions
    are already serialised (BEGIN IMMEDIATE); PostgreSQL uses a transaction advisory lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))


def store_blob(session: Session, storage: BlobStorage, photo: CheckedPhoto) -> None:
    """Write the original (once per SHA-256) and its derivatives; a rollback of the
    transaction removes a blob this call created. Hazard photos and tip photos alike."""
    sha = photo.upload.sha256
    lock_blob(session, sha)
    with photo.upload.path.open("rb") as source:
        created = storage.put(sha, source)
    if created:
        on_rollback(session, partial(storage.delete, sha))
    for variant, data in photo.facts.derivatives.items():
        storage.put_derived(sha, variant, data)


def photo_columns(photo: CheckedPhoto) -> dict[str, Any]:
    """The stored facts of a checked upload (models.hazards.PhotoColumns, but the time)."""
    facts = photo.facts
    return {
        "sha256": photo.upload.sha256,
        "size_bytes": photo.upload.size,
        "content_type": facts.content_type,
        "width": facts.width,
        "height": facts.height,
        "orientation": facts.orientation,
        "captured_at": facts.captured_at,
        "captured_offset_known": facts.captured_offset_known,
        "gps_lat": facts.gps[0] if facts.gps else None,
        "gps_lon": facts.gps[1] if facts.gps else None,
        "camera_make": facts.make,
        "camera_model": facts.model,
        "phash": facts.phash,
        "original_name": photo.upload.filename[:255],
    }


def visible_matches(session: Session, actor: Actor,
                    hazards: Iterable[Hazard]) -> dict[int, FlagMatch]:
    """The earlier photos named by these hazards' photo flags that the actor may see, with
    their hazards. Reuse is detected everywhere; who is told where is decided here."""
    wanted = {flag["photo_id"] for hazard in hazards for photo in hazard.photos
              for flag in photo.flags or [] if isinstance(flag.get("photo_id"), int)}
    if not wanted:
        return {}
    rows = session.execute(
        select(Photo.id, Hazard.id, Hazard.code).join(Hazard, Hazard.id == Photo.hazard_id)
        .where(Photo.id.in_(wanted), hazard_visibility(actor))
    )
    return {photo_id: FlagMatch(photo_id, hazard_id, code) for photo_id, hazard_id, code in rows}


def visible_photo(session: Session, actor: Actor, photo_id: int) -> Photo:
    """The photo if the actor may see its hazard; 404 otherwise."""
    if not valid_id(photo_id):
        raise NotFound("照片不存在")
    photo = session.scalars(
        select(Photo).join(Hazard, Hazard.id == Photo.hazard_id)
        .where(Photo.id == photo_id, hazard_visibility(actor))
    ).first()
    if photo is None:
        raise not_visible(session, Photo, photo_id, "照片不存在")
    return photo


def derivative(photo: Photo, variant: str) -> bytes:
    """The stored upright, EXIF-free JPEG; remade from the original if it went missing."""
    if variant not in VARIANT_SIDES:
        raise Unprocessable([{"loc": ["query", "variant"], "msg": "variant 应为 thumb 或 preview",
                              "type": "enum"}])
    storage = get_storage()
    cached = storage.get_derived(photo.sha256, variant)
    if cached is not None:
        return cached
    return _remake(photo, variant)


def _remake(photo: Photo, variant: str) -> bytes:
    settings = get_settings()
    storage = get_storage()
    with tempfile.TemporaryDirectory(dir=settings.media_root) as tmp:
        path = Path(tmp) / "original"
        with storage.open(photo.sha256) as source, path.open("wb") as out:
            while chunk := source.read(1024 * 1024):
                out.write(chunk)
        facts = process_photo(path, name=f"photo-{photo.id}", max_pixels=2**62, tz=settings.tz)
    for name, data in facts.derivatives.items():
        storage.put_derived(photo.sha256, name, data)
    return facts.derivatives[variant]
