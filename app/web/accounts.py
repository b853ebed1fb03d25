"""Pages: login (with its second step), logout, the own password and second factor, and who
is signed in (for the pages' scripts). docs/accounts.md."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.core.clock import Clock
from app.core.errors import DomainError, Unauthorized
from app.core.security import WebSession, issue_challenge, read_challenge
from app.http.deps import ClockDep, SessionDep
from app.models import User
from app.services.accounts import auth as auth_service
from app.services.accounts import credentials
from app.services.accounts.auth import Channel
from app.services.accounts.otp import qr_svg
from app.web.responses import page, redirect, reject
from app.web.session import (
    AccountWebActorDep,
    CsrfFormDep,
    EnrolmentWebActorDep,
    WebActorDep,
    WebSessionDep,
    end_session,
    safe_next,
    start_session,
)

router = APIRouter(include_in_schema=False)

# The words of the second step for the service's detail codes (the API answers the codes).
OTP_MESSAGES = {
    "otp_required": "请输入动态口令（验证器显示的 6 位数字）或一个恢复码",
    "otp_invalid": "动态口令不正确、已过期或已使用过；请输入验证器当前显示的 6 位数字，"
                   "或一个未用过的恢复码",
}
CHALLENGE_EXPIRED = "登录已失效，请重新输入用户名和密码"


@router.get("/login")
def login_form(request: Request, web_session: WebSessionDep,
               next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    if web_session.user_id is not None:
        return redirect(request, safe_next(next))
    return page(request, "login.html", next=safe_next(next), username="")


@router.post("/login")
def login(request: Request, form: CsrfFormDep, session: SessionDep, clock: ClockDep,
          web_session: WebSessionDep) -> Response:
    username = form.fields.get("username", "")
    target = safe_next(form.fields.get("next"))
    try:
        user = auth_service.check_credentials(session, username=username,
                                              password=form.fields.get("password", ""),
                                              clock=clock, channel=Channel.page)
    except DomainError as error:
        raise reject(request, error, "login.html", next=target, username=username[:64]) \
            from None
    if user.otp_enabled:
        # The second step: the password is not carried on, a challenge bound to this
        # browser's session stands for it for a few minutes.
        challenge = issue_challenge(user.id, web_session.sid, user.token_version, clock.now())
        return page(request, "login_otp.html", next=target, challenge=challenge)
    return _signed_in(request, session, user, clock, None, target)


@router.post("/login/otp")
def login_second_step(request: Request, form: CsrfFormDep, session: SessionDep,
                      clock: ClockDep, web_session: WebSessionDep) -> Response:
    target = safe_next(form.fields.get("next"))
    challenge = form.fields.get("challenge", "")
    bearer = read_challenge(challenge, web_session.sid, clock.now()) if challenge else None
    try:
        if bearer is None:
            raise Unauthorized(CHALLENGE_EXPIRED)
        user = auth_service.second_step_user(session, bearer.user_id, bearer.version)
    except DomainError as error:
        raise reject(request, error, "login.html", next=target, username="") from None
    try:
        auth_service.check_not_locked(session, user.username, user, clock, Channel.page)
        second = auth_service.check_second_factor(session, user, form.fields.get("otp", ""),
                                                  clock, Channel.page)
    except DomainError as error:
        error.detail = OTP_MESSAGES.get(str(error.detail), error.detail)
        raise reject(request, error, "login_otp.html", next=target,
                     challenge=challenge) from None
    return _signed_in(request, session, user, clock, second, target)


def _signed_in(request: Request, session: Session, user: User, clock: Clock,
               second_factor: str | None, target: str) -> Response:
    auth_service.complete_login(session, user, clock, Channel.page, second_factor)
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


@router.get("/account/password")
def password_form(request: Request, actor: AccountWebActorDep) -> Response:
    return page(request, "account_password.html")


@router.post("/account/password")
def change_password(request: Request, actor: AccountWebActorDep, form: CsrfFormDep,
                    session: SessionDep, clock: ClockDep) -> Response:
    try:
        user = credentials.change_password(
            session, actor, current_password=form.fields.get("current_password", ""),
            new_password=form.fields.get("new_password", ""), clock=clock,
            channel=Channel.page)
    except DomainError as error:
        raise reject(request, error, "account_password.html") from None
    # The change ended every session of the user; this browser goes on in a new one.
    start_session(request, WebSession.signed_in(user.id, clock.now(), user.token_version))
    return redirect(request, "/")


def _otp_page(request: Request, session: Session, actor: Actor,
              **context: object) -> Response:
    enrolment = credentials.pending_enrolment(session, actor)
    return page(request, "account_otp.html", enrolment=enrolment,
                qr=Markup(qr_svg(enrolment.otpauth_uri)) if enrolment else None,  # noqa: S704
                **context)


@router.get("/account/otp")
def otp_page(request: Request, actor: EnrolmentWebActorDep, session: SessionDep) -> Response:
    return _otp_page(request, session, actor)


@router.post("/account/otp/start")
def otp_start(request: Request, actor: EnrolmentWebActorDep, _form: CsrfFormDep,
              session: SessionDep) -> Response:
    try:
        credentials.start_enrolment(session, actor)
    except DomainError as error:
        raise reject(request, error, "account_otp.html", enrolment=None, qr=None) from None
    return redirect(request, "/account/otp")


@router.post("/account/otp/confirm")
def otp_confirm(request: Request, actor: EnrolmentWebActorDep, form: CsrfFormDep,
                session: SessionDep, clock: ClockDep) -> Response:
    try:
        codes = credentials.confirm_enrolment(session, actor, otp=form.fields.get("otp", "")[:64],
                                              clock=clock)
    except DomainError as error:
        enrolment = credentials.pending_enrolment(session, actor)
        raise reject(request, error, "account_otp.html", enrolment=enrolment,
                     qr=Markup(qr_svg(enrolment.otpauth_uri))  # noqa: S704 (segno's SVG)
                     if enrolment else None) from None
    return page(request, "account_recovery_codes.html", codes=codes)


@router.get("/whoami")
def whoami(actor: WebActorDep, web_session: WebSessionDep) -> dict[str, object]:
    """The signed-in user and the CSRF token, for the pages' scripts (offline drafts)."""
    return {"id": actor.id, "username": actor.username, "role": actor.role,
            "csrf_token": web_session.csrf_token()}
