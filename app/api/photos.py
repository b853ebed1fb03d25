from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.api.deps import ActorDep, SessionDep
from app.permissions import Actor
from app.services import photos as photo_service
from app.storage import get_storage

router = APIRouter(prefix="/photos", tags=["photos"])

CACHE = "private, max-age=31536000, immutable"


@router.get("/{photo_id}", response_class=Response)
async def get_photo(
    photo_id: int,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    variant: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The original (byte-for-byte), or `?variant=thumb|preview`: an upright JPEG without EXIF."""
    return await photo_response(request, session, actor, photo_id, variant)


async def photo_response(request: Request, session: Session, actor: Actor, photo_id: int,
                         variant: str | None) -> Response:
    """The photo for the API and for the pages alike: scoped by photos.visible_photo."""
    photo = await run_in_threadpool(photo_service.visible_photo, session, actor, photo_id)
    etag = f'"{photo.sha256}{"-" + variant if variant else ""}"'
    headers = {"ETag": etag, "Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if variant:
        data = await run_in_threadpool(photo_service.derivative, photo, variant)
        headers["Content-Disposition"] = f'inline; filename="photo-{photo.id}-{variant}.jpg"'
        return Response(data, media_type="image/jpeg", headers=headers)
    ext = photo.content_type.split("/")[-1]
    headers["Content-Disposition"] = f'inline; filename="photo-{photo.id}.{ext}"'
    headers["Content-Length"] = str(photo.size_bytes)
    return StreamingResponse(
        _chunks(photo.sha256), media_type=photo.content_type, headers=headers
    )


def _chunks(sha256: str) -> Iterator[bytes]:
    with get_storage().open(sha256) as blob:
        while chunk := blob.read(256 * 1024):
            yield chunk
