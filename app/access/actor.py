"""The authenticated user with the scope facts every permission check needs."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Region, Unit, User
from app.models.enums import Role, UnitKind


@dataclass(frozen=True)
class Actor:
    """The authenticated user with the scope facts every permission check needs."""

    id: int
    username: str
    role: Role
    enterprise_id: int | None
    unit_id: int | None
    region_id: int | None
    region_path: str | None  # committee/admin: the subtree they answer for
    unit_kind: UnitKind | None
    unit_region_paths: tuple[str, ...]  # inspector: regions the unit supervises
    unit_industry_ids: frozenset[int]  # inspector (department): industries it supervises
    # Account state the request gate reads (app/services/accounts/auth.py): a token of a user
    # who must change the password, or must enrol a second factor, opens only /me.
    password_change_required: bool = False
    otp_enabled: bool = False


def load_actor(session: Session, user: User, region_path: str | None = None) -> Actor:
    """The user's scope facts. `region_path` is the path of `user.region_id` when the caller
    read it together with the user (one round trip per request fewer); else it is read."""
    if user.region_id is not None and region_path is None:
        region_path = session.scalar(select(Region.path).where(Region.id == user.region_id))
    unit_kind: UnitKind | None = None
    paths: tuple[str, ...] = ()
    industries: frozenset[int] = frozenset()
    if user.unit_id is not None:
        unit = session.get(Unit, user.unit_id)
        if unit is not None:
            unit_kind = UnitKind(unit.kind)
            paths = tuple(r.path for r in unit.regions)
            industries = frozenset(i.id for i in unit.industries)
    return Actor(
        id=user.id,
        username=user.username,
        role=Role(user.role),
        enterprise_id=user.enterprise_id,
        unit_id=user.unit_id,
        region_id=user.region_id,
        region_path=region_path,
        unit_kind=unit_kind,
        unit_region_paths=paths,
        unit_industry_ids=industries,
        password_change_required=bool(user.password_change_required),
        otp_enabled=bool(user.otp_enabled),
    )
