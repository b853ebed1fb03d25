"""Request dependencies: the session, the clock, the authenticated actor, the form reader."""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.core.clock import Clock, get_clock
from app.core.config import get_settings
from app.core.db import get_session
from app.core.errors import DomainError, PayloadTooLarge
from app.http.uploads import Limits, StagedForm, read_streaming_form
from app.services.accounts.auth import authenticate
from app.services.audit.log import record_refusal, refused
from app.services.hazards.filters import HazardFilters

# scope="function": commit before the response is sent, so a 200 means it is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def request_clock() -> Clock:
    """The clock (async: FastAPI runs a plain function dependency on the thread pool, a
    hand-off per request for nothing)."""
    return get_clock()


ClockDep = Annotated[Clock, Depends(request_clock)]
_bearer = HTTPBearer(auto_error=False, description="登录后获得的访问令牌")


def get_actor(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Iterator[Actor]:
    """The token's user. A refusal of the request (any 403, a 404 on a row that exists out
    of the caller's scope) is thrown back here and kept in the security audit log, written
    after the request's transaction rolls back."""
    token = credentials.credentials if credentials else None
    actor = authenticate(session, token=token, clock=clock)
    yield from refusals_kept(request, session, actor, clock)


def refusals_kept(request: Request, session: Session, actor: Actor,
                  clock: Clock) -> Iterator[Actor]:
    """Yield the actor; record the refusal an endpoint raises with it (API and pages)."""
    try:
        yield actor
    except DomainError as error:
        if refused(error):
            record_refusal(session, actor=actor, error=error, at=clock.now(),
                           method=request.method, path=request.url.path)
        raise


# scope="function": the session's (its teardown, the rollback and the kept writes, runs after
# this one's, which registers the refusal's entry).
ActorDep = Annotated[Actor, Depends(get_actor, scope="function")]


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
    The contract (docs/api.md) allows 413 to answer before the rest of the body is read.
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


# The hazard list's filters as query parameters (GET /hazards, the ledger, the pages' lists):
# one pydantic model, app/services/hazards/filters.py.
HazardFiltersDep = Annotated[HazardFilters, Query()]
