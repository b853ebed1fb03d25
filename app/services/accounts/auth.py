"""Login with lockout (等保三级: 5 failures within 15 minutes lock the username for 15 minutes)."""

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor, load_actor
from app.core.clock import Clock
from app.core.config import get_settings
from app.core.errors import LoginFailed, TooManyRequests, Unauthorized
from app.core.security import issue_token, read_token, verify_password
from app.models import LoginAttempt, Region, RevokedSession, User
from app.services.accounts.users import normalise_username


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


def login(session: Session, *, username: str, password: str, clock: Clock) -> str:
    """A bearer token for valid credentials of an active, unlocked user."""
    user = check_credentials(session, username=username, password=password, clock=clock)
    return issue_token(user.id, clock.now(), user.token_version)


def check_credentials(session: Session, *, username: str, password: str, clock: Clock) -> User:
    """The active, unlocked user these credentials name; every attempt counts toward the
    lockout, for the API's tokens and the pages' sessions alike."""
    username = normalise_username(username)
    if "\x00" in username or "\x00" in password:
        # No stored username can contain NUL (PostgreSQL text cannot), so this is a miss.
        raise Unauthorized("用户名或密码错误", headers={"WWW-Authenticate": "Bearer"})
    wait = _locked_for_seconds(session, username, clock)
    if wait:
        raise TooManyRequests(
            f"登录失败次数过多，账号已锁定，请 {math.ceil(wait / 60)} 分钟后再试",
            headers={"Retry-After": str(wait)},
        )
    user = session.scalars(select(User).where(func.lower(User.username) == username)).first()
    ok = verify_password(password, user.password_hash if user else None)
    session.add(LoginAttempt(username=username, at=clock.now(), succeeded=ok and bool(user)))
    if not ok or user is None:
        session.flush()
        raise LoginFailed("用户名或密码错误", headers={"WWW-Authenticate": "Bearer"})
    if not user.active:
        raise Unauthorized("账号已停用", headers={"WWW-Authenticate": "Bearer"})
    return user


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
