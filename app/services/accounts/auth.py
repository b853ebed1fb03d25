"""Login with lockout (等保三级: 5 failures within 15 minutes lock the username for 15 minutes),
the second factor, the audit of logins, and the request gate (docs/accounts.md)."""

import math
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor, load_actor
from app.access.roles import otp_enrolment_due
from app.core.clock import Clock
from app.core.config import get_settings
from app.core.errors import Forbidden, LoginFailed, TooManyRequests, Unauthorized
from app.core.security import issue_token, read_token, verify_and_update_password
from app.models import LoginAttempt, Region, RevokedSession, User
from app.services.accounts import otp as otp_service
from app.services.accounts.users import normalise_username
from app.services.audit.log import AuditAction, AuditResult, Who, record, record_kept


def _locked_for_seconds(session: Session, username: str, clock: Clock) -> int:
    """Seconds until the username unlocks; 0 when it is not locked."""
    settings = get_settings()
    now = clock.now()
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    recent = list(
        session.scalars(
            select(LoginAttempt)
            .where(LoginAttempt.username == username, LoginAttempt.at > window_start
                   - timedelta(minutes=settings.login_lock_minutes))
            .order_by(LoginAttempt.at.desc())
        )
    )
    # Consecutive failures since the last success; the lock runs from the failure that
    # completed a run of N within the window.
    failures = []
    for attempt in recent:
        if attempt.succeeded:
            break
        failures.append(attempt.at)
    n = settings.login_max_failures
    for i in range(len(failures) - n + 1):
        newest, oldest = failures[i], failures[i + n - 1]
        if newest - oldest <= timedelta(minutes=settings.login_window_minutes):
            unlock_at = newest + timedelta(minutes=settings.login_lock_minutes)
            if unlock_at > now:
                return math.ceil((unlock_at - now).total_seconds())
            break
    return 0


USERNAME_MAX = 64
PASSWORD_INPUT_MAX = 1024
OTP_INPUT_MAX = 64
_BEARER = {"WWW-Authenticate": "Bearer"}


class Channel(StrEnum):
    """Where a login came from: the API's token endpoint or the pages' form."""

    api = "api"
    page = "page"


def login(session: Session, *, username: str, password: str, clock: Clock,
          otp: str | None = None) -> str:
    """A bearer token for valid credentials (and second factor, when enabled) of an active,
    unlocked user."""
    user = check_credentials(session, username=username, password=password, clock=clock)
    second = check_second_factor(session, user, otp, clock, Channel.api)
    complete_login(session, user, clock, Channel.api, second)
    return issue_token(user.id, clock.now(), user.token_version)


def _find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.username) == username)).first()


def _failed(who: Who, user: User | None, reason: str, clock: Clock, channel: Channel,
            session: Session) -> None:
    """A failed login in the audit log (kept: the request's transaction may roll back)."""
    record_kept(session, who=who, action=AuditAction.login_failed, at=clock.now(),
                object=f"user:{user.id}" if user else "", result=AuditResult.failure,
                detail={"reason": reason, "channel": str(channel)})


def check_not_locked(session: Session, username: str, user: User | None, clock: Clock,
                     channel: Channel) -> None:
    """429 with Retry-After while the username is locked out."""
    wait = _locked_for_seconds(session, username, clock)
    if wait:
        _failed(Who.of_user(user) if user else Who.tried(username), user, "locked", clock,
                channel, session)
        raise TooManyRequests(
            f"登录失败次数过多，账号已锁定，请 {math.ceil(wait / 60)} 分钟后再试",
            headers={"Retry-After": str(wait)},
        )


def check_credentials(session: Session, *, username: str, password: str, clock: Clock,
                      channel: Channel = Channel.api) -> User:
    """The active, unlocked user these credentials name; every failure counts toward the
    lockout, for the API's tokens and the pages' sessions alike. The second factor is
    checked next (check_second_factor), and only complete_login counts a success."""
    username = normalise_username(username)
    if "\x00" in username or "\x00" in password or len(username) > USERNAME_MAX:
        # No stored username can contain NUL (PostgreSQL text cannot) or be longer: a miss.
        raise Unauthorized("用户名或密码错误", headers=_BEARER)
    user = _find_user(session, username)
    check_not_locked(session, username, user, clock, channel)
    ok, rehashed = (verify_and_update_password(password, user.password_hash if user else None)
                    if len(password) <= PASSWORD_INPUT_MAX else (False, None))
    if not ok or user is None:
        session.add(LoginAttempt(username=username, at=clock.now(), succeeded=False))
        session.flush()
        _failed(Who.of_user(user) if user else Who.tried(username), user,
                "password" if user else "unknown_user", clock, channel, session)
        raise LoginFailed("用户名或密码错误", headers=_BEARER)
    if not user.active:
        _failed(Who.of_user(user), user, "inactive", clock, channel, session)
        raise Unauthorized("账号已停用", headers=_BEARER)
    if rehashed:
        # The argon2 parameters changed since this hash was made: store today's.
        user.password_hash = rehashed
    return user


def check_second_factor(session: Session, user: User, otp: str | None, clock: Clock,
                        channel: Channel) -> str | None:
    """How the user proved the second factor ("totp", "recovery_code"), None when it has
    none enabled. 401 `otp_required` without a code; 401 `otp_invalid` for a wrong, used or
    expired code, which counts toward the lockout like a wrong password (a six-digit code
    would otherwise fall to guessing once the password is known)."""
    if not user.otp_enabled:
        return None
    code = (otp or "").strip()
    if not code:
        raise Unauthorized("otp_required", headers=_BEARER)
    now = clock.now()
    if len(code) <= OTP_INPUT_MAX:
        if otp_service.is_code_shaped(code):
            if otp_service.accept_code(session, user, code, now):
                return "totp"
        elif otp_service.use_recovery_code(session, user, code, now):
            return "recovery_code"
    session.add(LoginAttempt(username=user.username, at=now, succeeded=False))
    session.flush()
    _failed(Who.of_user(user), user, "otp_invalid", clock, channel, session)
    raise LoginFailed("otp_invalid", headers=_BEARER)


def password_expired(user: User, now: datetime) -> bool:
    """Older than PASSWORD_MAX_AGE_DAYS (0: passwords never expire)?"""
    days = get_settings().password_max_age_days or 0
    changed = user.password_changed_at or user.created_at
    return days > 0 and now - changed >= timedelta(days=days)


def complete_login(session: Session, user: User, clock: Clock, channel: Channel,
                   second_factor: str | None) -> None:
    """Count the success (it resets the lockout's run of failures) and record the login. An
    expired password must be changed before anything else (the request gate)."""
    now = clock.now()
    session.add(LoginAttempt(username=user.username, at=now, succeeded=True))
    expired = password_expired(user, now)
    if expired:
        user.password_change_required = True
    detail: dict[str, object] = {"channel": str(channel),
                                 "second_factor": second_factor or "none"}
    if expired:
        detail["password_expired"] = True
    if second_factor == "recovery_code":
        detail["recovery_codes_left"] = otp_service.recovery_codes_left(session, user)
    record(session, who=Who.of_user(user), action=AuditAction.login, at=now,
           object=f"user:{user.id}", detail=detail)


def second_step_user(session: Session, user_id: int, version: int) -> User:
    """The user a page login's second step continues (401 when it no longer may log in)."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.token_version != version:
        raise Unauthorized("登录已失效，请重新输入用户名和密码", headers=_BEARER)
    return user


def record_logout(session: Session, user_id: int, at: datetime) -> None:
    user = session.get(User, user_id)
    if user is not None:
        record(session, who=Who.of_user(user), action=AuditAction.logout, at=at,
               object=f"user:{user.id}", detail={"channel": str(Channel.page)})


class Gate(StrEnum):
    """What an account must do before anything else (its detail in the 403)."""

    password_change = "password_change_required"  # noqa: S105 (a detail string)
    otp_enrolment = "otp_enrolment_required"


class AccountGate(Forbidden):
    """The token or session is valid, but opens only the account's own pages for now."""

    def __init__(self, gate: Gate) -> None:
        super().__init__(str(gate))
        self.gate = gate


def pending_gates(actor: Actor) -> tuple[Gate, ...]:
    """In order: a password to change (first or reset password, or expired), then a second
    factor to enrol. Read from the actor: no query."""
    gates = []
    if actor.password_change_required:
        gates.append(Gate.password_change)
    if otp_enrolment_due(actor):
        gates.append(Gate.otp_enrolment)
    return tuple(gates)


def check_gates(actor: Actor, waived: frozenset[Gate] = frozenset()) -> None:
    """403 with the first pending gate this endpoint does not waive."""
    for gate in pending_gates(actor):
        if gate not in waived:
            raise AccountGate(gate)


def authenticate(session: Session, *, token: str | None, clock: Clock) -> Actor:
    """The actor a bearer token stands for; 401 when missing, invalid, expired or inactive."""
    bearer = read_token(token, clock.now()) if token else None
    actor = active_actor(session, bearer.user_id, bearer.version) if bearer else None
    if actor is None:
        raise Unauthorized("未登录或登录已过期", headers={"WWW-Authenticate": "Bearer"})
    return actor


def active_actor(session: Session, user_id: int | None, version: int) -> Actor | None:
    """The actor for a user id read from a token or a session, if that user is still active
    and the token was issued under the user's current token version (a deactivation, reset
    or role change since ends it)."""
    if user_id is None:
        return None
    # The user and its region's path in one statement: every authenticated request runs it.
    row = session.execute(
        select(User, Region.path).outerjoin(Region, Region.id == User.region_id)
        .where(User.id == user_id)).first()
    if row is None or not row[0].active or row[0].token_version != version:
        return None
    user, region_path = row
    return load_actor(session, user, region_path)


def revoke_session(session: Session, *, sid: str, user_id: int | None, expires_at: int,
                   now: datetime) -> None:
    """Refuse this page session from now on (logout), even to a copy of its cookie.

    Kept until the cookie would have expired (`expires_at`, epoch seconds) anyway."""
    if session.get(RevokedSession, sid) is None:
        session.add(RevokedSession(sid=sid, user_id=user_id, revoked_at=now,
                                   expires_at=datetime.fromtimestamp(expires_at, UTC)))


def session_revoked(session: Session, sid: str) -> bool:
    return session.get(RevokedSession, sid) is not None


def purge_revoked_sessions(session: Session, *, now: datetime) -> int:
    """Forget revocations whose cookies have expired by themselves; returns how many."""
    result = session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)
