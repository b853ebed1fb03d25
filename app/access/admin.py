"""Who may administer what (docs/admin.md): 三员分立 and the admin's region subtree.

- The system admin (`admin`) keeps regions, units, enterprises and the ordinary accounts
  (enterprise, inspector, committee, admin) of its region subtree.
- The security admin (`security_admin`) alone creates and changes security and audit admins;
  it may also deactivate, reactivate and unlock any account of its subtree.
- The audit admin (`audit_admin`) administers nothing (it reads the audit log).

Everything outside the caller's subtree answers 404; a role that may never do it 403.
"""

from sqlalchemy import ColumnElement, and_, false, or_, select

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.errors import Forbidden
from app.models import Enterprise, Region, Unit, User
from app.models.enums import Role

# The accounts each administering role creates and changes (role, scope, phone, password).
MANAGED_ROLES: dict[Role, frozenset[Role]] = {
    Role.admin: frozenset({Role.enterprise, Role.inspector, Role.committee, Role.admin}),
    Role.security_admin: frozenset({Role.security_admin, Role.audit_admin}),
}
# Roles that may switch any account of their subtree on or off and unlock it.
STATUS_KEEPERS = frozenset({Role.security_admin})


def managed_roles(actor: Actor) -> tuple[Role, ...]:
    """The roles whose accounts the actor may create and edit, in the roles' order (the
    create form's choices)."""
    managed = MANAGED_ROLES.get(actor.role, frozenset())
    return tuple(role for role in Role if role in managed)


def may_manage(actor: Actor, role: Role | str) -> bool:
    return Role(role) in managed_roles(actor)


def check_manage(actor: Actor, role: Role | str) -> None:
    """403 unless the actor may create or change accounts of this role (三员分立)."""
    if not may_manage(actor, role):
        raise Forbidden("只有安全管理员可以创建或修改安全管理员、审计管理员账号"
                        if Role(role) in MANAGED_ROLES[Role.security_admin]
                        else "您的角色不能创建或修改该角色的账号")


def is_role_change(current: Role | str, new: Role | str) -> bool:
    """Does an edit give the account another role (which ends its tokens, and which the
    admin may not do to its own account)?"""
    return Role(current) != Role(new)


def may_set_status(actor: Actor, role: Role | str) -> bool:
    """May the actor deactivate, reactivate or unlock an account of this role?"""
    return actor.role in STATUS_KEEPERS or may_manage(actor, role)


def check_set_status(actor: Actor, role: Role | str) -> None:
    if not may_set_status(actor, role):
        raise Forbidden("您的角色不能停用、启用或解锁该角色的账号")


def check_not_self(actor: Actor, user_id: int, what: str) -> None:
    """An administrator cannot lock itself out or raise itself: another one must do it."""
    if actor.id == user_id:
        raise Forbidden(f"不能{what}自己的账号，请由另一位管理员操作")


def require_org_admin(actor: Actor) -> None:
    require_role(actor, "org_admin")


def require_user_admin(actor: Actor) -> None:
    require_role(actor, "user_admin")


def _subtree(actor: Actor) -> str | None:
    return actor.region_path


def regions_in_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Region: the actor's region and everything below it."""
    path = _subtree(actor)
    return Region.path.startswith(path, autoescape=True) if path else false()


def path_in_scope(actor: Actor, path: str | None) -> bool:
    subtree = _subtree(actor)
    return bool(subtree and path and path.startswith(subtree))


def units_in_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Unit: units belonging to a region of the subtree."""
    return Unit.region_id.in_(select(Region.id).where(regions_in_scope(actor)))


def enterprises_in_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Enterprise: enterprises in a township of the subtree."""
    return Enterprise.region_id.in_(select(Region.id).where(regions_in_scope(actor)))


def users_in_scope(actor: Actor, role: Role | None = None) -> ColumnElement[bool]:
    """A WHERE clause on User: accounts bound to a region, unit or enterprise of the subtree
    (of one role, when given)."""
    regions = select(Region.id).where(regions_in_scope(actor))
    clause = or_(
        User.region_id.in_(regions),
        User.unit_id.in_(select(Unit.id).where(Unit.region_id.in_(regions))),
        User.enterprise_id.in_(select(Enterprise.id).where(Enterprise.region_id.in_(regions))),
    )
    return and_(clause, User.role == role) if role is not None else clause

