"""Password hashing (argon2 via pwdlib) and access tokens (JWT, HS256)."""

from datetime import datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import get_settings

_hasher = PasswordHash((Argon2Hasher(),))
# Verifying against this keeps an unknown username as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("bihuan-timing-equaliser")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    return _hasher.verify(password, password_hash or _DUMMY_HASH) and password_hash is not None


def issue_token(user_id: int, now: datetime) -> str:
    settings = get_settings()
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.token_ttl_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def read_token(token: str, now: datetime) -> int | None:
    """The user id a valid, unexpired token names, else None."""
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
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
