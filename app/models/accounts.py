"""Users and login attempts."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime
from app.models.enums import Role


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    # For 督办单 SMS and for colleagues to call; optional (onboarding import fills it).
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16))
    # Scope: exactly one of these applies, by role (enterprise / inspector / committee+admin).
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Usernames are stored lower-case (services/accounts/users.py: normalise_username); the index
# holds that against any other way in (a script, a database editor). Migration 0020.
Index("uq_user_username_lower", func.lower(User.username), unique=True)


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
