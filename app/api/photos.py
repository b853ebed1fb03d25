from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.http import downloads
from app.http.deps import ActorDep, SessionDep

router = APIRouter(prefix="/photos", tags=["photos"])



@router.get("/{photo_id}", response_class=Response)
async def get_photo(
    photo_id: int,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    variant: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The original (byte-for-byte), or `?variant=thumb|preview`: an upright JPEG without EXIF."""
    return await downloads.photo_response(request, session, actor, photo_id, variant)


