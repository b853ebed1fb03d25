"""Password hashing (argon2 via pwdlib), access tokens and web session cookies (JWT, HS256)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import get_settings

_hasher = PasswordHash((Argon2Hasher(),))
# Verifying against this keeps an unknown username as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("bihuan-timing-equaliser")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    return _hasher.verify(password, password_hash or _DUMMY_HASH) and password_hash is not None


def verify_and_update_password(password: str,
                               password_hash: str | None) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one was made with other argon2 parameters than
    today's, else None): login rehashes as it goes, so a change of parameters reaches every
    account that logs in."""
    ok, updated = _hasher.verify_and_update(password, password_hash or _DUMMY_HASH)
    if password_hash is None:
        return False, None
    return ok, updated if ok else None


class Bearer(NamedTuple):
    """What a valid token says: whose it is, and the user's token version it was issued
    under (a later version, after a deactivation or reset, refuses it)."""

    user_id: int
    version: int


def issue_token(user_id: int, now: datetime, version: int = 0) -> str:
    settings = get_settings()
    claims = {
        "sub": str(user_id),
        "ver": version,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.token_ttl_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def read_token(token: str, now: datetime) -> Bearer | None:
    """The user a valid, unexpired token names, with its version, else None."""
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[ALGORITHM],
            # Expiry is checked against the injected clock below, not the wall clock.
            options={"require": ["sub", "exp"], "verify_exp": False, "verify_iat": False},
        )
        if int(claims["exp"]) <= now.timestamp():
            return None
        return Bearer(int(claims["sub"]), int(claims.get("ver", 0)))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


# Web sessions: a signed cookie. Its "aud" claim keeps it apart from bearer tokens: PyJWT
# refuses a token with an audience where none is expected, and the other way round.
SESSION_AUDIENCE = "web"


@dataclass(frozen=True)
class WebSession:
    """What the session cookie carries: a random id (the CSRF token is bound to it), the
    signed-in user (None before login), when the user signed in, when the cookie was last
    issued (the idle timeout runs from there) and the user's token version at sign-in."""

    sid: str
    user_id: int | None
    started_at: int
    issued_at: int
    version: int = 0

    @classmethod
    def anonymous(cls, now: datetime) -> "WebSession":
        stamp = int(now.timestamp())
        return cls(secrets.token_urlsafe(18), None, stamp, stamp)

    @classmethod
    def signed_in(cls, user_id: int, now: datetime, version: int = 0) -> "WebSession":
        # A fresh id at login: a session id planted before login is worth nothing after it.
        stamp = int(now.timestamp())
        return cls(secrets.token_urlsafe(18), user_id, stamp, stamp, version)

    def expires_at(self) -> int:
        """The idle timeout from the last issue, capped by the absolute lifetime from login."""
        settings = get_settings()
        idle = self.issued_at + settings.session_timeout_minutes * 60
        return min(idle, self.started_at + settings.token_ttl_minutes * 60)

    def reissued(self, now: datetime) -> "WebSession":
        return WebSession(self.sid, self.user_id, self.started_at, int(now.timestamp()),
                          self.version)

    def csrf_token(self) -> str:
        key = get_settings().secret_key.encode()
        return hmac.new(key, f"csrf|{self.sid}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(), str(token))


def encode_session(web_session: WebSession) -> str:
    claims = {
        "aud": SESSION_AUDIENCE,
        "sid": web_session.sid,
        "sub": str(web_session.user_id) if web_session.user_id is not None else "",
        "iat": web_session.started_at,
        "act": web_session.issued_at,
        "ver": web_session.version,
        "exp": web_session.expires_at(),
    }
    return jwt.encode(claims, get_settings().secret_key, algorithm=ALGORITHM)


def decode_session(cookie: str, now: datetime) -> WebSession | None:
    """The session a valid, unexpired cookie carries, else None."""
    try:
        claims = jwt.decode(
            cookie, get_settings().secret_key, algorithms=[ALGORITHM],
            audience=SESSION_AUDIENCE,
            options={"require": ["sid", "iat", "act", "exp"], "verify_exp": False,
                     "verify_iat": False},
        )
        web_session = WebSession(str(claims["sid"]),
                                 int(claims["sub"]) if claims.get("sub") else None,
                                 int(claims["iat"]), int(claims["act"]),
                                 int(claims.get("ver", 0)))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    # Expiry is recomputed from the settings in force, against the injected clock.
    if web_session.expires_at() <= now.timestamp():
        return None
    return web_session


# The page login's second step: after the password, the browser holds this short-lived
# challenge (a hidden field) instead of the password. It is bound to the session id, so it
# is worth nothing in another browser, and to the user's token version.
CHALLENGE_AUDIENCE = "otp-challenge"
CHALLENGE_SECONDS = 5 * 60


def issue_challenge(user_id: int, sid: str, version: int, now: datetime) -> str:
    claims = {"aud": CHALLENGE_AUDIENCE, "sub": str(user_id), "sid": sid, "ver": version,
              "exp": int(now.timestamp()) + CHALLENGE_SECONDS}
    return jwt.encode(claims, get_settings().secret_key, algorithm=ALGORITHM)


def read_challenge(token: str, sid: str, now: datetime) -> Bearer | None:
    """The user (and token version) a valid challenge of this session names, else None."""
    try:
        claims = jwt.decode(token, get_settings().secret_key, algorithms=[ALGORITHM],
                            audience=CHALLENGE_AUDIENCE,
                            options={"require": ["sub", "sid", "exp"], "verify_exp": False})
        if int(claims["exp"]) <= now.timestamp() or not hmac.compare_digest(
                str(claims["sid"]), sid):
            return None
        return Bearer(int(claims["sub"]), int(claims.get("ver", 0)))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
