"""Accounts (docs/api.md, Authentication; docs/accounts.md): the token for a username and
password (and second factor), who the caller is, the caller's own password and second factor,
and the security admin's reset of a user's second factor."""

from typing import Annotated

from fastapi import APIRouter, Form, Response

from app.http.deps import AccountActorDep, ActorDep, ClockDep, EnrolmentActorDep, SessionDep
from app.http.openapi import errors
from app.services.accounts import auth as auth_service
from app.services.accounts import credentials
from app.services.accounts.schemas import (
    Me,
    OtpConfirmForm,
    OtpEnrolment,
    PasswordChangeForm,
    RecoveryCodes,
    Token,
    TokenForm,
)

router = APIRouter(tags=["auth"])
# Secrets in a response body: never kept by a cache.
NO_STORE = {"Cache-Control": "no-store"}


@router.post("/auth/token", response_model=Token, responses=errors(401, 422, 429))
def issue_token(
    form: Annotated[TokenForm, Form()], session: SessionDep, clock: ClockDep
) -> Token:
    """OAuth2 password flow: a bearer token for a username and password, and `otp` for a user
    with a second factor (401 `otp_required` / `otp_invalid` without or with a wrong one)."""
    token = auth_service.login(
        session, username=form.username, password=form.password, otp=form.otp, clock=clock
    )
    return Token(access_token=token)


@router.get("/me", response_model=Me, responses=errors(401))
def me(actor: AccountActorDep) -> Me:
    return Me(
        id=actor.id,
        username=actor.username,
        role=actor.role,
        unit_id=actor.unit_id,
        enterprise_id=actor.enterprise_id,
        region_id=actor.region_id,
        password_change_required=actor.password_change_required,
        otp_enabled=actor.otp_enabled,
    )


@router.post("/me/password", status_code=204, responses=errors(401, 422, 429))
def change_password(form: Annotated[PasswordChangeForm, Form()], actor: AccountActorDep,
                    session: SessionDep, clock: ClockDep) -> Response:
    """Change the caller's password. Every token of the user ends with it: log in again."""
    credentials.change_password(session, actor, current_password=form.current_password,
                                new_password=form.new_password, clock=clock)
    return Response(status_code=204)


@router.post("/me/otp", response_model=OtpEnrolment, responses=errors(401, 403, 409))
def start_otp(actor: EnrolmentActorDep, session: SessionDep, response: Response) -> OtpEnrolment:
    """A new TOTP secret to scan (enabled once confirmed); 409 while one is enabled."""
    enrolment = credentials.start_enrolment(session, actor)
    response.headers.update(NO_STORE)
    return OtpEnrolment(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post("/me/otp/confirm", response_model=RecoveryCodes,
             responses=errors(401, 403, 409, 422))
def confirm_otp(form: Annotated[OtpConfirmForm, Form()], actor: EnrolmentActorDep,
                session: SessionDep, clock: ClockDep, response: Response) -> RecoveryCodes:
    """Enable TOTP with a first code; answers the one-time recovery codes, shown only now."""
    codes = credentials.confirm_enrolment(session, actor, otp=form.otp, clock=clock)
    response.headers.update(NO_STORE)
    return RecoveryCodes(recovery_codes=codes)


@router.post("/admin/users/{user_id:int}/otp-reset", status_code=204,
             responses=errors(401, 403, 404, 422))
def reset_otp(user_id: int, actor: ActorDep, session: SessionDep, clock: ClockDep) -> Response:
    """Security admin: forget a user's second factor (it enrols again at its next login);
    ends the user's tokens and sessions."""
    credentials.reset_second_factor(session, actor, user_id, clock=clock)
    return Response(status_code=204)
