"""Users: creating them with the scope their role requires, and their administration
(docs/admin.md): create with a temporary password, edit role, scope and phone, deactivate
and reactivate, reset the password, unlock. Every change is audited with before and after."""

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.admin import (
    check_manage,
    check_not_self,
    check_set_status,
    enterprises_in_scope,
    is_role_change,
    regions_in_scope,
    require_user_admin,
    units_in_scope,
    users_in_scope,
)
from app.access.roles import ROLE_SCOPES, Scope, require_role
from app.core.clock import Clock
from app.core.config import get_settings
from app.core.db import valid_id
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.security import hash_password
from app.core.validation import invalid, parse_body
from app.models import Enterprise, LoginAttempt, Region, Unit, User
from app.models.enums import Role
from app.services.accounts.passwords import set_password, temporary_password
from app.services.accounts.schemas import UserIn, UserPatch
from app.services.audit.log import AuditAction, Who, record
from app.services.org.admin import page_of
from app.workflow.table import ROLE_LABELS

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


# Administration (docs/admin.md) ------------------------------------------------------------

SCOPE_FIELDS = ("enterprise_id", "unit_id", "region_id")


def _masked(phone: str | None) -> str | None:
    """A phone number in the audit log: enough to tell a change, not the number itself."""
    return None if not phone else f"***{phone[-4:]}"


def user_facts(user: User) -> dict[str, Any]:
    """What an audit entry records of an account before and after a change (never a
    password, a secret or a full phone number)."""
    return {"username": user.username, "display_name": user.display_name,
            "role": str(user.role), "enterprise_id": user.enterprise_id,
            "unit_id": user.unit_id, "region_id": user.region_id,
            "phone": _masked(user.phone), "active": user.active,
            "password_change_required": user.password_change_required}


def end_sessions(user: User) -> None:
    """Every token and page session of the user stops working at once (auth.active_actor
    compares the version they carry with this one)."""
    user.token_version = (user.token_version or 0) + 1


def list_users(session: Session, actor: Actor, *, role: Role | None, q: str | None,
               limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    require_user_admin(actor)
    query = select(User).where(users_in_scope(actor, role))
    if q:
        query = query.where(func.lower(User.username).contains(q.lower(), autoescape=True))
    return page_of(session, query, User.id, limit, cursor)


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """The account asked for: 404 when it does not exist or lies outside the subtree."""
    require_user_admin(actor)
    user = session.scalars(select(User).where(User.id == user_id, users_in_scope(actor))
                           ).first() if valid_id(user_id) else None
    if user is None:
        raise NotFound("用户不存在")
    return user


def _check_scope(session: Session, actor: Actor, role: Role,
                 scope: dict[str, int | None]) -> None:
    """The one scope the role needs, naming a row of the admin's subtree (else 422)."""
    field = {Scope.enterprise: "enterprise_id", Scope.unit: "unit_id",
             Scope.region: "region_id"}[ROLE_SCOPES[role]]
    extra = [name for name, value in scope.items() if value is not None and name != field]
    if extra:
        raise invalid(extra[0], f"角色 {ROLE_LABELS[role]} 只需填写 {field}")
    value = scope.get(field)
    if value is None:
        raise invalid(field, f"角色 {ROLE_LABELS[role]} 须填写 {field}")
    in_scope = {"enterprise_id": select(Enterprise.id).where(
                    Enterprise.id == value, enterprises_in_scope(actor)),
                "unit_id": select(Unit.id).where(Unit.id == value, units_in_scope(actor)),
                "region_id": select(Region.id).where(Region.id == value,
                                                     regions_in_scope(actor))}[field]
    if session.scalar(in_scope) is None:
        raise invalid(field, "不存在或不在您的辖区内")


def admin_create_user(session: Session, actor: Actor, data: dict[str, Any],
                      clock: Clock) -> tuple[User, str]:
    """A new account with a random temporary password, which it must change at first login:
    (the user, that password, shown once)."""
    require_user_admin(actor)
    body = parse_body(UserIn, data)
    check_manage(actor, body.role)
    scope = {name: getattr(body, name) for name in SCOPE_FIELDS}
    _check_scope(session, actor, body.role, scope)
    password = temporary_password()
    user = create_user(session, username=body.username, password=password, role=body.role,
                       clock=clock, display_name=body.display_name, phone=body.phone, **scope)
    user.password_changed_at = clock.now()
    user.password_change_required = True
    session.flush()
    record(session, who=Who.of_actor(actor), action=AuditAction.user_create,
           at=clock.now(), object=f"user:{user.id}",
           detail={"before": None, "after": user_facts(user)})
    return user, password


def _new_scope(user: User, sent: dict[str, Any]) -> tuple[Role, dict[str, int | None]] | None:
    """The role and scope a PATCH asks for, or None when it touches neither. A new role
    takes only the scope sent with it; the same role keeps the scope fields not sent."""
    if "role" not in sent and not any(name in sent for name in SCOPE_FIELDS):
        return None
    role = Role(sent.get("role") or user.role)
    if is_role_change(user.role, role):
        return role, {name: sent.get(name) for name in SCOPE_FIELDS}
    return role, {name: sent[name] if name in sent else getattr(user, name)
                  for name in SCOPE_FIELDS}


def update_user(session: Session, actor: Actor, user_id: int, data: dict[str, Any],
                clock: Clock) -> User:
    """Change an account: `active` (also by a security admin, for any account of its
    subtree), role, scope, phone, name. Deactivation and a role or scope change end the
    user's tokens and page sessions at once."""
    user = get_user(session, actor, user_id)
    if set(data) - {"active"}:
        check_manage(actor, user.role)
    else:
        check_set_status(actor, user.role)
    body = parse_body(UserPatch, data)
    sent = body.model_dump(exclude_unset=True)
    before = user_facts(user)
    if sent.get("active") is not None and sent["active"] != user.active:
        check_not_self(actor, user.id, "停用")
        user.active = sent["active"]
        end_sessions(user)
    change = _new_scope(user, sent)
    if change is not None:
        role, scope = change
        new_role = is_role_change(user.role, role)
        if new_role:
            check_not_self(actor, user.id, "更改角色")
            check_manage(actor, role)
        _check_scope(session, actor, role, scope)
        if new_role or any(scope[name] != getattr(user, name) for name in SCOPE_FIELDS):
            user.role = role
            for name, value in scope.items():
                setattr(user, name, value)
            end_sessions(user)
    if "phone" in sent:
        user.phone = sent["phone"]
    if sent.get("display_name") is not None:
        user.display_name = sent["display_name"] or user.username
    session.flush()
    record(session, who=Who.of_actor(actor), action=AuditAction.user_update, at=clock.now(),
           object=f"user:{user.id}", detail={"before": before, "after": user_facts(user)})
    return user


def reset_password(session: Session, actor: Actor, user_id: int, clock: Clock) -> str:
    """A new random temporary password (returned once), to be changed at the next login;
    the user's tokens and page sessions end at once."""
    user = get_user(session, actor, user_id)
    check_manage(actor, user.role)
    check_not_self(actor, user.id, "重置")
    before = user_facts(user)
    password = temporary_password()
    set_password(session, user, password, at=clock.now(), temporary=True)
    end_sessions(user)
    session.flush()
    record(session, who=Who.of_actor(actor), action=AuditAction.password_reset,
           at=clock.now(), object=f"user:{user.id}",
           detail={"before": before, "after": user_facts(user)})
    return password


def unlock_user(session: Session, actor: Actor, user_id: int, clock: Clock) -> User:
    """End a lockout: the failed logins since the last success stop counting (they are
    removed; the audit log keeps each one as a login_failed entry, and this unlock)."""
    user = get_user(session, actor, user_id)
    require_role(actor, "user_unlock")
    check_set_status(actor, user.role)
    settings = get_settings()
    since = clock.now() - timedelta(minutes=settings.login_window_minutes
                                    + settings.login_lock_minutes)
    last_success = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == user.username, LoginAttempt.succeeded.is_(True)))
    if last_success is not None and last_success > since:
        since = last_success
    result = session.execute(delete(LoginAttempt).where(
        LoginAttempt.username == user.username, LoginAttempt.succeeded.is_(False),
        LoginAttempt.at >= since))
    cleared = int(getattr(result, "rowcount", 0) or 0)
    record(session, who=Who.of_actor(actor), action=AuditAction.unlock, at=clock.now(),
           object=f"user:{user.id}", detail={"failures_cleared": cleared})
    return user
