"""Request dependencies: the session, the clock, the authenticated actor, the form reader."""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.core.clock import Clock, get_clock
from app.core.config import get_settings
from app.core.db import get_session
from app.core.errors import DomainError, PayloadTooLarge
from app.http.uploads import Limits, StagedForm, read_streaming_form
from app.services.accounts.auth import Gate, authenticate, check_gates
from app.services.audit import log as audit_log
from app.services.hazards.filters import HazardFilters
from app.services.tips.abuse import record_refusal

# scope="function": commit before the response is sent, so a 200 means it is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def request_clock() -> Clock:
    """The clock (async: FastAPI runs a plain function dependency on the thread pool, a
    hand-off per request for nothing)."""
    return get_clock()


ClockDep = Annotated[Clock, Depends(request_clock)]
_bearer = HTTPBearer(auto_error=False, description="登录后获得的访问令牌")


def _bearer_actor(
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


_BearerActor = Annotated[Actor, Depends(_bearer_actor, scope="function")]


# The request gate (docs/accounts.md), here once for every endpoint: a token of a user who
# must change the password, or must enrol a second factor, opens only the account's own
# endpoints, which waive that gate. The flags are on the actor already: no query, and
# async (no I/O): no hand-off to the thread pool either. Its 403 is raised after
# _bearer_actor has yielded, so it is kept in the audit log like any refusal.
async def get_actor(actor: _BearerActor) -> Actor:
    check_gates(actor)
    return actor


async def get_account_actor(actor: _BearerActor) -> Actor:
    """For `GET /me` and `POST /me/password`: open under both gates."""
    check_gates(actor, frozenset({Gate.password_change, Gate.otp_enrolment}))
    return actor


async def get_enrolment_actor(actor: _BearerActor) -> Actor:
    """For `/me/otp*`: open to a user who must enrol (not one who must change the password)."""
    check_gates(actor, frozenset({Gate.otp_enrolment}))
    return actor


def refusals_kept(request: Request, session: Session, actor: Actor,
                  clock: Clock) -> Iterator[Actor]:
    """Yield the actor; record the refusal an endpoint raises with it (API and pages)."""
    try:
        yield actor
    except DomainError as error:
        if audit_log.refused(error):
            audit_log.record_refusal(session, actor=actor, error=error, at=clock.now(),
                                     method=request.method, path=request.url.path)
        raise


# scope="function" on _bearer_actor: the session's teardown (the rollback and the kept
# writes) runs after its own, which registers the refusal's entry.
ActorDep = Annotated[Actor, Depends(get_actor)]
AccountActorDep = Annotated[Actor, Depends(get_account_actor)]
EnrolmentActorDep = Annotated[Actor, Depends(get_enrolment_actor)]


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


def client_address(request: Request) -> str:
    """The connection's peer (behind a proxy, uvicorn's --proxy-headers makes it the
    client's): what a public tip's rate limit counts."""
    return request.client.host if request.client else "unknown"


def tip_channel(request: Request) -> str:
    path = request.url.path
    return "open311" if path.startswith("/open311/") else "page" if path == "/tip" else "api"


async def read_tip_form(request: Request, session: SessionDep,
                        clock: ClockDep) -> AsyncIterator[StagedForm]:
    """A public tip's form: as `read_action_form`, and a form refused as its bytes arrive
    (too large, too many files, not a form) is recorded like every tip refusal (the
    request's transaction keeps the record)."""
    forms = read_action_form(request)
    try:
        form = await anext(forms)
    except DomainError as error:
        await run_in_threadpool(record_refusal, session, error=error,
                                address=client_address(request),
                                channel=tip_channel(request), at=clock.now())
        raise
    try:
        yield form
    finally:
        await forms.aclose()


TipFormDep = Annotated[StagedForm, Depends(read_tip_form, scope="function")]


# The hazard list's filters as query parameters (GET /hazards, the ledger, the pages' lists):
# one pydantic model, app/services/hazards/filters.py.
HazardFiltersDep = Annotated[HazardFilters, Query()]
