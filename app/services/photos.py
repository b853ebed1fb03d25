"""Evidence photos: inspect uploads, store originals by SHA-256, serve derivatives.

The full evidence pipeline (streaming staging, HEIC, EXIF metadata, authenticity flags) is
issue 3; this module already keeps originals byte-for-byte and refuses what is not an image.
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import on_rollback
from app.errors import DomainError, NotFound, PayloadTooLarge, Unprocessable, UnsupportedMedia
from app.models import Hazard, Photo
from app.permissions import Actor, hazard_visibility
from app.storage import get_storage

CONTENT_TYPES = {
    "JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"
}
VARIANT_SIZES = {"thumb": 320, "preview": 1600}


@dataclass(frozen=True)
class Upload:
    """A file part of the request, as the router hands it over."""

    filename: str
    file: BinaryIO
    size: int


@dataclass(frozen=True)
class InspectedPhoto:
    upload: Upload
    sha256: str
    content_type: str
    width: int
    height: int


def inspect_uploads(uploads: list[Upload]) -> tuple[list[InspectedPhoto], DomainError | None]:
    """Check every file; return the photos, or the first problem (413 before 415)."""
    settings = get_settings()
    if len(uploads) > settings.max_photos_per_action:
        return [], PayloadTooLarge(f"每次最多上传 {settings.max_photos_per_action} 张照片")
    for upload in uploads:
        if upload.size > settings.max_upload_bytes:
            limit_mb = settings.max_upload_bytes // (1024 * 1024)
            return [], PayloadTooLarge(f"照片「{upload.filename}」超过 {limit_mb} MB 上限")
    photos = []
    for upload in uploads:
        try:
            photos.append(_inspect(upload, settings.max_image_pixels))
        except UnsupportedMedia as error:
            return [], error
    return photos, None


def _inspect(upload: Upload, max_pixels: int) -> InspectedPhoto:
    name = upload.filename or "照片"
    upload.file.seek(0)
    digest = hashlib.file_digest(upload.file, "sha256").hexdigest()  # type: ignore[arg-type]
    upload.file.seek(0)
    try:
        with Image.open(upload.file) as image:
            if image.format not in CONTENT_TYPES:
                raise UnsupportedMedia(f"「{name}」不是支持的图片格式（JPEG、PNG、WebP）")
            width, height = image.size
            if width * height > max_pixels:
                raise UnsupportedMedia(f"「{name}」像素数过大")
            # Decoding at reduced scale catches truncated and corrupt files cheaply.
            image.draft("RGB", (VARIANT_SIZES["thumb"], VARIANT_SIZES["thumb"]))
            image.load()
            content_type = CONTENT_TYPES[image.format]
    except UnsupportedMedia:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UnsupportedMedia(f"「{name}」不是有效的图片文件，或文件已损坏") from None
    finally:
        upload.file.seek(0)
    return InspectedPhoto(upload, digest, content_type, width, height)


def store_photos(
    session: Session,
    *,
    hazard: Hazard,
    photos: list[InspectedPhoto],
    uploaded_by_id: int,
    at: datetime,
) -> list[Photo]:
    """Write originals and their rows; a rollback removes the blobs this call created."""
    storage = get_storage()
    rows = []
    for photo in photos:
        photo.upload.file.seek(0)
        if storage.put(photo.sha256, photo.upload.file):
            on_rollback(session, partial(storage.delete, photo.sha256))
        row = Photo(
            hazard=hazard,
            sha256=photo.sha256,
            size_bytes=photo.upload.size,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            original_name=(photo.upload.filename or "")[:255],
            uploaded_by_id=uploaded_by_id,
            uploaded_at=at,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def derivative(photo: Photo, variant: str) -> bytes:
    """An upright JPEG of the photo, longest side per variant, carrying no EXIF."""
    if variant not in VARIANT_SIZES:
        raise Unprocessable([{"loc": ["query", "variant"], "msg": "variant 应为 thumb 或 preview",
                              "type": "enum"}])
    storage = get_storage()
    cached = storage.get_derived(photo.sha256, variant)
    if cached is not None:
        return cached
    side = VARIANT_SIZES[variant]
    with storage.open(photo.sha256) as original, Image.open(original) as image:
        image.draft("RGB", (side, side))
        upright = ImageOps.exif_transpose(image).convert("RGB")
        upright.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=82, optimize=True)
    data = out.getvalue()
    storage.put_derived(photo.sha256, variant, data)
    return data


def visible_photo(session: Session, actor: Actor, photo_id: int) -> Photo:
    """The photo if the actor may see its hazard; 404 otherwise."""
    photo = session.scalars(
        select(Photo).join(Hazard, Hazard.id == Photo.hazard_id)
        .where(Photo.id == photo_id, hazard_visibility(actor))
    ).first()
    if photo is None:
        raise NotFound("照片不存在")
    return photo
