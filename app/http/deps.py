"""Request dependencies: the session, the clock, the authenticated actor, the form reader."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.core.clock import Clock, get_clock
from app.core.config import get_settings
from app.core.db import get_session
from app.core.errors import PayloadTooLarge
from app.core.schemas import NO_NUL
from app.http.uploads import Limits, StagedForm, read_streaming_form
from app.models.enums import HazardLevel
from app.services.accounts.auth import authenticate
from app.services.hazards.queries import HazardFilters
from app.workflow.states import HazardState

# scope="function": commit before the response is sent, so a 200 means it is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def request_clock() -> Clock:
    """The clock (async: FastAPI runs a plain function dependency on the thread pool, a
    hand-off per request for nothing)."""
    return get_clock()


ClockDep = Annotated[Clock, Depends(request_clock)]
_bearer = HTTPBearer(auto_error=False, description="登录后获得的访问令牌")


def get_actor(
    session: SessionDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    token = credentials.credentials if credentials else None
    return authenticate(session, token=token, clock=clock)


ActorDep = Annotated[Actor, Depends(get_actor)]


def action_form_limits() -> Limits:
    settings = get_settings()
    return Limits(
        max_file_bytes=settings.max_upload_bytes,
        max_request_bytes=settings.max_request_bytes,
        max_files=settings.max_photos_per_action,
    )


async def read_action_form(request: Request) -> AsyncIterator[StagedForm]:
    """The form's fields and its staged files; the files are deleted when the request ends.

    Validation is left to the services, which check in the contract's order (404 before
    403 before 409 ... before 422). Only limits are enforced here, as the bytes arrive:
    API.md allows 413 to answer before the rest of the body is read.
    """
    settings = get_settings()
    limits = action_form_limits()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_request_bytes:
        raise PayloadTooLarge("上传内容超过单次请求的大小上限")
    form = await read_streaming_form(
        request.headers.get("content-type", ""), request.stream(), limits,
        settings.media_root / "staging",
    )
    try:
        yield form
    finally:
        form.discard()


ActionFormDep = Annotated[StagedForm, Depends(read_action_form, scope="function")]


async def hazard_filters(  # async: pure, no thread hand-off (see request_clock)
    state: HazardState | None = None,
    level: HazardLevel | None = None,
    enterprise_id: int | None = None,
    region_id: int | None = None,
    unit_id: int | None = None,
    overdue: bool | None = None,
    listed: Annotated[bool | None, Query(description="挂牌督办中的隐患")] = None,
    q: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    industry_id: Annotated[int | None, Query(description="企业所属行业")] = None,
    open: Annotated[bool | None, Query(description="true：未销号（未销号且未不予受理）")] = None,
    rejected: Annotated[bool | None, Query(description="不予受理的隐患")] = None,
    reported_from: Annotated[date | None, Query(description="上报日期不早于（含）")] = None,
    reported_to: Annotated[date | None, Query(description="上报日期不晚于（含）")] = None,
    closed_from: Annotated[date | None, Query(description="销号日期不早于（含）")] = None,
    closed_to: Annotated[date | None, Query(description="销号日期不晚于（含）")] = None,
    open_on: Annotated[date | None, Query(description="该日结束时仍未销号")] = None,
) -> HazardFilters:
    """The hazard list's filters, as query parameters (the same as GET /hazards).

    Dates are local (Asia/Shanghai) days, both ends included; region_id takes the region's
    whole subtree. The committee's board gives, with each figure, the ones that list it.
    """
    return HazardFilters(state=state, level=level, enterprise_id=enterprise_id,
                         region_id=region_id, unit_id=unit_id, overdue=overdue,
                         listed=listed, q=q, industry_id=industry_id, open=open,
                         rejected=rejected, reported_from=reported_from,
                         reported_to=reported_to, closed_from=closed_from,
                         closed_to=closed_to, open_on=open_on)


HazardFiltersDep = Annotated[HazardFilters, Depends(hazard_filters)]
