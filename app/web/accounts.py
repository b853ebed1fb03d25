"""Pages: login, logout, and who is signed in (for the pages' scripts)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.core.errors import DomainError
from app.core.security import WebSession
from app.http.deps import ClockDep, SessionDep
from app.services.accounts import auth as auth_service
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
    start_session(request, WebSession.signed_in(user.id, clock.now(), user.token_version))
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


@router.get("/whoami")
def whoami(actor: WebActorDep, web_session: WebSessionDep) -> dict[str, object]:
    """The signed-in user and the CSRF token, for the pages' scripts (offline drafts)."""
    return {"id": actor.id, "username": actor.username, "role": actor.role,
            "csrf_token": web_session.csrf_token()}

