"""A user's own credentials: changing the password, enrolling the second factor; and the
security admin's reset of someone's second factor (docs/accounts.md). Each is audited."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import manages_user
from app.core.clock import Clock
from app.core.db import keep_write, valid_id
from app.core.errors import NotFound, Unauthorized, Unprocessable
from app.core.security import verify_password
from app.models import LoginAttempt, User
from app.services.accounts import otp as otp_service
from app.services.accounts.auth import PASSWORD_INPUT_MAX, Channel, check_not_locked
from app.services.accounts.passwords import set_password
from app.services.accounts.users import normalise_username
from app.services.audit.log import AuditAction, AuditResult, Who, record, record_kept


def _own(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.id)
    if user is None:  # deleted under a live token
        raise Unauthorized("未登录或登录已过期", headers={"WWW-Authenticate": "Bearer"})
    return user


def _field_error(field: str, message: str, kind: str) -> Unprocessable:
    return Unprocessable([{"loc": ["body", field], "msg": message, "type": kind}])


def change_password(session: Session, actor: Actor, *, current_password: str,
                    new_password: str, clock: Clock,
                    channel: Channel = Channel.api) -> User:
    """Set a new password after checking the current one.

    A wrong current password counts toward the login lockout (whoever holds a stolen token
    must not guess the password here). The change ends every token and page session of the
    user (the token version is bumped): a password is changed because it may be known."""
    user = _own(session, actor)
    now = clock.now()
    check_not_locked(session, user.username, user, clock, channel)
    if len(current_password) > PASSWORD_INPUT_MAX or not verify_password(
            current_password, user.password_hash):
        attempt = LoginAttempt(username=user.username, at=now, succeeded=False)
        keep_write(session, lambda tx: tx.add(attempt))
        _refused(session, user, now, "current_password")
        raise _field_error("current_password", "当前密码不正确", "password_invalid")
    try:
        set_password(session, user, new_password, at=now, temporary=False)
    except Unprocessable as error:
        _refused(session, user, now, "weak_or_reused")
        raise _field_error("new_password", str(error.detail), "password_weak") from None
    user.token_version += 1
    record(session, who=Who.of_user(user), action=AuditAction.password_change, at=now,
           object=f"user:{user.id}", detail={"channel": str(channel)})
    return user


def _refused(session: Session, user: User, at: datetime, reason: str) -> None:
    record_kept(session, who=Who.of_user(user), action=AuditAction.password_change, at=at,
                object=f"user:{user.id}", result=AuditResult.failure,
                detail={"reason": reason})


def start_enrolment(session: Session, actor: Actor) -> otp_service.Enrolment:
    """A new TOTP secret for the caller (not yet enabled)."""
    return otp_service.start_enrolment(_own(session, actor))


def pending_enrolment(session: Session, actor: Actor) -> otp_service.Enrolment | None:
    return otp_service.pending_enrolment(_own(session, actor))


def confirm_enrolment(session: Session, actor: Actor, *, otp: str, clock: Clock) -> list[str]:
    """Enable the second factor with a first code; the recovery codes, shown this once."""
    user = _own(session, actor)
    now = clock.now()
    try:
        codes = otp_service.confirm_enrolment(session, user, otp, now)
    except Unprocessable:
        record_kept(session, who=Who.of_user(user), action=AuditAction.otp_enable, at=now,
                    object=f"user:{user.id}", result=AuditResult.failure,
                    detail={"reason": "otp_invalid"})
        raise
    record(session, who=Who.of_user(user), action=AuditAction.otp_enable, at=now,
           object=f"user:{user.id}", detail={"recovery_codes": len(codes)})
    return codes


def reset_second_factor(session: Session, actor: Actor, user_id: int, *, clock: Clock) -> None:
    """The security admin forgets a user's second factor (a lost phone): the user enrols
    again at the next login, and every token and session of the user ends now."""
    require_role(actor, "otp_reset")
    user = session.get(User, user_id) if valid_id(user_id) else None
    if user is None or not manages_user(session, actor, user):
        raise NotFound("用户不存在")
    _reset(session, user, Who.of_actor(actor), clock)


def reset_second_factor_of(session: Session, username: str, *, clock: Clock) -> User:
    """The command line's reset (`bihuan otp-reset`): for the security admin who lost its
    own phone and has no colleague to reset it."""
    user = session.scalars(select(User).where(
        func.lower(User.username) == normalise_username(username))).first()
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    _reset(session, user, Who.system(), clock)
    return user


def _reset(session: Session, user: User, who: Who, clock: Clock) -> None:
    before = bool(user.otp_enabled)
    otp_service.reset(session, user)
    user.token_version += 1
    record(session, who=who, action=AuditAction.otp_reset, at=clock.now(),
           object=f"user:{user.id}",
           detail={"before": {"otp_enabled": before}, "after": {"otp_enabled": False}})
