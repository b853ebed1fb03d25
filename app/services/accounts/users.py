"""Creating users with the scope their role requires."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.errors import Conflict, Unprocessable
from app.core.security import hash_password
from app.models import Enterprise, Region, Unit, User
from app.models.enums import Role

MIN_PASSWORD_LENGTH = 8


def normalise_username(username: str) -> str:
    """The one spelling a username is stored, looked up and locked out under: trimmed and
    lower-cased, so that `Admin` and `admin` are one account. Lower-case rather than
    casefold: usernames are ASCII (letters, digits, _ . @ -), where the two agree, and SQL's
    lower() (the unique index on it) folds exactly those letters on both databases."""
    return username.strip().lower()


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    clock: Clock,
    display_name: str = "",
    enterprise_id: int | None = None,
    unit_id: int | None = None,
    region_id: int | None = None,
    phone: str | None = None,
    password_hash: str | None = None,
) -> User:
    """An active user; the scope must match the role (enterprise / unit / region).

    `password_hash`, when given, is the hash of `password` computed by the caller (the
    onboarding import hashes many passwords in parallel)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    required = {
        Role.enterprise: ("enterprise_id", enterprise_id, Enterprise),
        Role.inspector: ("unit_id", unit_id, Unit),
        Role.committee: ("region_id", region_id, Region),
        Role.admin: ("region_id", region_id, Region),
        Role.security_admin: ("region_id", region_id, Region),
        Role.audit_admin: ("region_id", region_id, Region),
    }[role]
    name, value, model = required
    given = {"enterprise_id": enterprise_id, "unit_id": unit_id, "region_id": region_id}
    extra = [k for k, v in given.items() if v is not None and k != name]
    if value is None or session.get(model, value) is None or extra:
        raise Unprocessable(f"角色 {role} 需要且只需要一个有效的 {name}")
    username = normalise_username(username)
    if session.scalar(select(User.id).where(func.lower(User.username) == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在")
    user = User(
        username=username,
        display_name=display_name or username,
        phone=phone,
        password_hash=password_hash or hash_password(password),
        role=role,
        enterprise_id=enterprise_id,
        unit_id=unit_id,
        region_id=region_id,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user
