"""Users, their credentials' history, login attempts and ended sessions."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.crypto import PersonalText
from app.core.db import Base, UTCDateTime
from app.models.enums import Role


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    # For 督办单 SMS and for colleagues to call; optional (onboarding import fills it).
    # Personal data: under CRYPTO_PROFILE=gm it is stored SM4-encrypted (app/core/crypto.py,
    # PersonalText: read and written in plaintext here), hence the width.
    phone: Mapped[str | None] = mapped_column(PersonalText(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16))
    # Scope: exactly one of these applies, by role (enterprise / inspector / committee+admin).
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Tokens and page sessions carry the version they were issued under; deactivation, a
    # password reset, a role or scope change and a 2FA reset bump it, which ends them all at
    # once (checked on every request: app/services/accounts/auth.py).
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the password was last set (expiry: PASSWORD_MAX_AGE_DAYS); None for accounts made
    # before this was recorded, which count from created_at.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A first or reset password: the account may only change it (docs/api.md).
    password_change_required: Mapped[bool] = mapped_column(default=False,
                                                           server_default=false())
    # TOTP / 国密 dynamic password: the shared secret (base32; SM4-encrypted under gm), set
    # at enrolment and enabled once a code from it is confirmed.
    otp_secret: Mapped[str | None] = mapped_column(PersonalText(255))
    otp_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The last time step a code was accepted for: a code is accepted once (no replay).
    otp_last_step: Mapped[int | None] = mapped_column(BigInteger)


# Usernames are stored lower-case (services/accounts/users.py: normalise_username); the index
# holds that against any other way in (a script, a database editor). Migration 0020.
Index("uq_user_username_lower", func.lower(User.username), unique=True)


class PasswordHistory(Base):
    """The hashes of a user's previous passwords: a new one may not repeat the last five."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecoveryCode(Base):
    """A one-time code that stands in for the second factor (a lost phone); kept hashed."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """Every password login, kept for the lockout rule and for the audit trail."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    succeeded: Mapped[bool]


class RevokedSession(Base):
    """A page session ended by logout before its cookie expired.

    The cookie is signed and self-contained; without this list, a copy of it taken before the
    logout (a shared computer, a proxy log) would stay valid until its idle timeout. A row is
    needed only until the cookie would have expired anyway, then the worker removes it.
    """

    __tablename__ = "revoked_session"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
