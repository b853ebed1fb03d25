"""Cookie sessions and CSRF for the pages.

The session is a signed cookie (app.security.WebSession): HttpOnly, SameSite=Lax, Secure when
the page is served over https, ending after SESSION_TIMEOUT_MINUTES idle and at the latest
TOKEN_TTL_MINUTES after login. Every visitor holds one, signed in or not, so the login form
is CSRF-protected too. Logout revokes the session id on the server (table revoked_session),
so a copy of the cookie stops working at once. The CSRF token is an HMAC of the session id:
a form (field ``csrf_token``) or a script (header ``X-CSRF-Token``) must send it with every
POST.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.core.errors import DomainError, Forbidden
from app.core.security import WebSession, decode_session, encode_session
from app.http.deps import ActionFormDep, ClockDep, SessionDep, refusals_kept
from app.http.uploads import StagedForm
from app.services.accounts.auth import (
    Gate,
    active_actor,
    check_gates,
    record_logout,
    revoke_session,
    session_revoked,
)

COOKIE = "bihuan_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Re-sign the cookie (sliding the idle timeout) at most this often.
REISSUE_SECONDS = 60


class LoginRequired(DomainError):
    """No valid session: a page answers with a redirect to the login page."""

    status_code = 401


class CsrfRejected(Forbidden):
    pass


def current_session(request: Request, clock: ClockDep) -> WebSession:
    """The visitor's session (a fresh anonymous one when the cookie is missing or expired)."""
    cached = getattr(request.state, "web_session", None)
    if isinstance(cached, WebSession):
        return cached
    now = clock.now()
    raw = request.cookies.get(COOKIE)
    web_session = decode_session(raw, now) if raw else None
    if web_session is None:
        web_session = WebSession.anonymous(now)
        request.state.set_session_cookie = True
    elif now.timestamp() - web_session.issued_at >= REISSUE_SECONDS:
        web_session = web_session.reissued(now)
        request.state.set_session_cookie = True
    request.state.web_session = web_session
    return web_session


WebSessionDep = Annotated[WebSession, Depends(current_session)]


def start_session(request: Request, web_session: WebSession) -> None:
    """Replace the visitor's session (at login); the response carries the new cookie."""
    request.state.web_session = web_session
    request.state.set_session_cookie = True


def end_session(request: Request, session: Session, web_session: WebSession,
                now: datetime) -> None:
    """Log out: the cookie is cleared, and its session id refused from now on, so a copy of
    the cookie taken earlier is worth nothing."""
    if web_session.user_id is not None:
        revoke_session(session, sid=web_session.sid, user_id=web_session.user_id,
                       expires_at=web_session.expires_at(), now=now)
        record_logout(session, web_session.user_id, now)
    request.state.web_session = None
    request.state.clear_session_cookie = True


def apply_cookie(request: Request, response: Response) -> Response:
    """Write the session cookie the request's handling decided on, if any."""
    if getattr(request.state, "clear_session_cookie", False):
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax",
                               secure=request.url.scheme == "https")
        return response
    web_session = getattr(request.state, "web_session", None)
    if getattr(request.state, "set_session_cookie", False) and isinstance(web_session,
                                                                           WebSession):
        response.set_cookie(
            COOKIE, encode_session(web_session), path="/", httponly=True, samesite="lax",
            secure=request.url.scheme == "https",
            max_age=max(0, web_session.expires_at() - web_session.issued_at),
        )
    return response


def _web_actor(request: Request, session: Session, web_session: WebSession, clock: ClockDep,
               waived: frozenset[Gate]) -> Iterator[Actor]:
    actor = active_actor(session, web_session.user_id, web_session.version)
    if actor is None or session_revoked(session, web_session.sid):
        if web_session.user_id is not None:
            # A logged-out or deactivated user's cookie: replace it with an anonymous one,
            # or the login page (which sends a signed-in visitor on) and this page would
            # redirect to each other for ever.
            start_session(request, WebSession.anonymous(clock.now()))
        raise LoginRequired("请先登录")
    request.state.actor = actor
    # The request gate, as for the API's tokens (app/http/deps.py): a page answers it with a
    # redirect to the page that lifts it (GATE_PAGES).
    check_gates(actor, waived)
    # A page's refusals are kept in the audit log as the API's are.
    yield from refusals_kept(request, session, actor, clock)


def web_actor(request: Request, session: SessionDep, web_session: WebSessionDep,
              clock: ClockDep) -> Iterator[Actor]:
    """The signed-in user; without one, a page redirects to the login page, and a user who
    must change the password or enrol a second factor to the page for that."""
    yield from _web_actor(request, session, web_session, clock, frozenset())


def account_web_actor(request: Request, session: SessionDep, web_session: WebSessionDep,
                      clock: ClockDep) -> Iterator[Actor]:
    """For the password page: open under both gates."""
    yield from _web_actor(request, session, web_session, clock,
                          frozenset({Gate.password_change, Gate.otp_enrolment}))


def enrolment_web_actor(request: Request, session: SessionDep, web_session: WebSessionDep,
                        clock: ClockDep) -> Iterator[Actor]:
    """For the second factor's page: open to a user who must enrol."""
    yield from _web_actor(request, session, web_session, clock,
                          frozenset({Gate.otp_enrolment}))


# Where each gate's redirect leads.
GATE_PAGES = {Gate.password_change: "/account/password", Gate.otp_enrolment: "/account/otp"}

# scope="function": the session's teardown (rollback, kept writes) runs after these.
WebActorDep = Annotated[Actor, Depends(web_actor, scope="function")]
AccountWebActorDep = Annotated[Actor, Depends(account_web_actor, scope="function")]
EnrolmentWebActorDep = Annotated[Actor, Depends(enrolment_web_actor, scope="function")]


def check_csrf(request: Request, web_session: WebSession, form: StagedForm) -> None:
    token = request.headers.get(CSRF_HEADER) or form.fields.get(CSRF_FIELD)
    if not web_session.csrf_ok(token):
        raise CsrfRejected("页面已过期或请求来源无法确认（CSRF 校验失败），"
                           "请返回刷新页面后重新提交")


def csrf_form(request: Request, form: ActionFormDep, web_session: WebSessionDep) -> StagedForm:
    """The posted form, once its CSRF token matches the session's."""
    check_csrf(request, web_session, form)
    return form


CsrfFormDep = Annotated[StagedForm, Depends(csrf_form)]


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if target == "/" else f"/login?next={quote(target, safe='')}"


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else (another site) goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
