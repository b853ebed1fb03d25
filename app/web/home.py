"""Pages: login and logout, each role's home, notices, and the cookie-authenticated
downloads (photos, the ledger) that reuse the API's scoped services."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.access.roles import may
from app.core.clock import local_today
from app.core.errors import DomainError
from app.core.security import WebSession
from app.http.deps import ClockDep, HazardFiltersDep, SessionDep
from app.http.downloads import ledger_response, photo_response
from app.models.enums import Role
from app.services.accounts import auth as auth_service
from app.services.hazards import ledger as ledger_service
from app.services.hazards import queues
from app.services.supervision import notices as notice_service
from app.web.responses import page, redirect, reject
from app.web.session import (
    CsrfFormDep,
    WebActorDep,
    WebSessionDep,
    end_session,
    safe_next,
    start_session,
)

router = APIRouter(include_in_schema=False)

HOME_TEMPLATES = {Role.enterprise: "home_enterprise.html", Role.inspector: "home_inspector.html",
                  Role.committee: "home_committee.html", Role.admin: "home_admin.html"}


@router.get("/login")
def login_form(request: Request, web_session: WebSessionDep,
               next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    if web_session.user_id is not None:
        return redirect(request, safe_next(next))
    return page(request, "login.html", next=safe_next(next), username="")


@router.post("/login")
def login(request: Request, form: CsrfFormDep, session: SessionDep, clock: ClockDep) -> Response:
    username = form.fields.get("username", "")
    target = safe_next(form.fields.get("next"))
    try:
        user = auth_service.check_credentials(session, username=username,
                                              password=form.fields.get("password", ""),
                                              clock=clock)
    except DomainError as error:
        raise reject(request, error, "login.html", next=target, username=username) from None
    start_session(request, WebSession.signed_in(user.id, clock.now()))
    return redirect(request, target)


@router.post("/logout")
def logout(request: Request, _form: CsrfFormDep, web_session: WebSessionDep,
           session: SessionDep, clock: ClockDep) -> Response:
    end_session(request, session, web_session, clock.now())
    response = redirect(request, "/login?bye=1")
    # The browser's HTTP cache holds this user's photos (immutable, private): drop it, so the
    # next user of the device cannot open them. Offline drafts (IndexedDB) are kept.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@router.get("/")
def home(request: Request, actor: WebActorDep, session: SessionDep, clock: ClockDep) -> Response:
    today = local_today(clock)
    work = queues.queues_for(session, actor, today)
    return page(request, HOME_TEMPLATES[actor.role], work=work, today=today)


@router.get("/notices")
def notices(request: Request, actor: WebActorDep, session: SessionDep) -> Response:
    rows = notice_service.list_notices(session, actor=actor)
    may_ack = may(actor, "notice_ack")
    return page(request, "notices.html", notices=rows, may_ack=may_ack)


@router.post("/notices/{notice_id:int}/ack")
def acknowledge_notice(request: Request, notice_id: int, actor: WebActorDep, form: CsrfFormDep,
                       session: SessionDep, clock: ClockDep) -> Response:
    notice_service.acknowledge(session, actor=actor, notice_id=notice_id, now=clock.now())
    return redirect(request, safe_next(form.fields.get("next")) if form.fields.get("next")
                    else "/notices")


@router.get("/photos/{photo_id:int}")
async def photo(request: Request, photo_id: int, actor: WebActorDep, session: SessionDep,
                variant: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    """The photo service's scoping, with the page's cookie instead of a bearer token."""
    return await photo_response(request, session, actor, photo_id, variant)


@router.get("/ledger")
def ledger(actor: WebActorDep, session: SessionDep, clock: ClockDep, filters: HazardFiltersDep,
           fmt: Annotated[ledger_service.LedgerFormat, Query(alias="format")] = (
               ledger_service.LedgerFormat.xlsx)) -> Response:
    """隐患台账 download for the pages: the same export as GET /api/v1/hazards/ledger."""
    return ledger_response(session, actor, filters, clock, fmt)


@router.get("/whoami")
def whoami(actor: WebActorDep, web_session: WebSessionDep) -> dict[str, object]:
    """The signed-in user and the CSRF token, for the pages' scripts (offline drafts)."""
    return {"id": actor.id, "username": actor.username, "role": actor.role,
            "csrf_token": web_session.csrf_token()}
