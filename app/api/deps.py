"""Request dependencies: the session, the clock, the authenticated actor, the form reader."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from app.clock import Clock, get_clock
from app.config import get_settings
from app.db import get_session
from app.errors import PayloadTooLarge, Unprocessable
from app.permissions import Actor
from app.services.auth import authenticate
from app.services.photos import Upload

# scope="function": commit before the response is sent, so a 200 means it is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
_bearer = HTTPBearer(auto_error=False, description="登录后获得的访问令牌")


def get_actor(
    session: SessionDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    token = credentials.credentials if credentials else None
    return authenticate(session, token=token, clock=clock)


ActorDep = Annotated[Actor, Depends(get_actor)]


@dataclass
class ActionForm:
    fields: dict[str, Any]
    uploads: list[Upload]


async def read_action_form(request: Request) -> ActionForm:
    """Read a multipart or URL-encoded form into plain fields and the `photos` files.

    Validation is left to the services, which check in the contract's order (404 before
    403 before 409 ... before 422). Only a body that cannot be within the limits is refused
    here, before it is read: API.md allows 413 to answer early.
    """
    settings = get_settings()
    ceiling = settings.max_upload_bytes * settings.max_photos_per_action + 1024 * 1024
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > ceiling:
        raise PayloadTooLarge("上传内容超过大小上限")
    try:
        form = await request.form(max_files=100, max_fields=100)
    except MultiPartException as exc:
        raise Unprocessable(f"表单格式错误: {exc.message}") from None
    fields: dict[str, Any] = {}
    uploads: list[Upload] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == "photos" and (value.filename or value.size):
                uploads.append(Upload(value.filename or "", value.file, value.size or 0))
        else:
            fields.setdefault(key, value)
    return ActionForm(fields, uploads)


ActionFormDep = Annotated[ActionForm, Depends(read_action_form)]
