"""Visibility scopes: WHERE clauses selecting what an actor may see (docs/domain.md, "Roles").

- enterprise users see their enterprise's hazards;
- inspectors see hazards of enterprises their unit supervises (a department: its industries
  within its regions; a township office: its township), hazards where their unit holds an
  assignment, and hazards they reported;
- committee and admin users see their region subtree.
Whatever a caller may not see answers 404, never 403.
"""

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from app.access.actor import Actor
from app.models import (
    Assignment,
    Enterprise,
    Hazard,
    QuarterlyFiling,
    Region,
    Tip,
    Unit,
    User,
    unit_industry,
    unit_region,
)
from app.models.enums import Duty, PartyType, Role, UnitKind


def in_subtree(
    path_column: InstrumentedAttribute[str], paths: tuple[str, ...]
) -> ColumnElement[bool]:
    if not paths:
        return false()
    return or_(*(path_column.startswith(p, autoescape=True) for p in paths))


def supervised_enterprises(actor: Actor) -> Select[int]:
    """Ids of the enterprises the inspector's unit supervises (行业监管 or 属地监管)."""
    query = (
        select(Enterprise.id)
        .join(Region, Region.id == Enterprise.region_id)
        .where(in_subtree(Region.path, actor.unit_region_paths))
    )
    if actor.unit_kind != UnitKind.township:
        query = query.where(Enterprise.industry_id.in_(actor.unit_industry_ids or [-1]))
    return query


def unit_enterprise_pairs(unit_ids: Select[int]) -> Select[tuple[int, int]]:
    """(unit id, enterprise id) for every enterprise each of these units supervises.

    The same rule as `supervised_enterprises`, set-based for many units at once (the quarterly
    statistics roll enterprises up to units with it). Aliases throughout, so that `unit_ids`
    (which selects from `unit`) is never correlated into this query.
    """
    unit, enterprise = aliased(Unit), aliased(Enterprise)
    unit_area, enterprise_township = aliased(Region), aliased(Region)
    same_industry = exists().where(
        unit_industry.c.unit_id == unit.id, unit_industry.c.industry_id == enterprise.industry_id
    )
    return (
        select(unit.id, enterprise.id)
        .join(unit_region, unit_region.c.unit_id == unit.id)
        .join(unit_area, unit_area.id == unit_region.c.region_id)
        # Region paths are digits and slashes: no LIKE wildcard can occur in them.
        .join(enterprise_township, enterprise_township.path.startswith(unit_area.path))
        .join(enterprise, enterprise.region_id == enterprise_township.id)
        .where(unit.id.in_(unit_ids), or_(unit.kind == UnitKind.township, same_industry))
        .distinct()
    )


def statistics_enterprises(actor: Actor) -> Select[int]:
    """Enterprises whose quarterly statistics the actor may see (and must see filed):
    an enterprise user its own, an inspector its unit's, a committee or admin its region's."""
    if actor.role == Role.enterprise:
        return select(Enterprise.id).where(Enterprise.id == (actor.enterprise_id or -1))
    if actor.role == Role.inspector and actor.unit_id is not None:
        return supervised_enterprises(actor)
    if actor.role in (Role.committee, Role.admin) and actor.region_path:
        return (
            select(Enterprise.id)
            .join(Region, Region.id == Enterprise.region_id)
            .where(Region.path.startswith(actor.region_path, autoescape=True))
        )
    return select(Enterprise.id).where(false())


def check_enterprises(actor: Actor) -> Select[int]:
    """Enterprises whose risk register, check tasks and sweep answers the actor may see: an
    enterprise user its own, an inspector those its unit supervises, a committee or admin its
    region subtree's (the same reach as the quarterly statistics)."""
    return statistics_enterprises(actor)


def statistics_units(actor: Actor) -> Select[int]:
    """Units whose quarterly statistics the actor may see: an inspector its own unit, a
    committee or admin the units belonging to its region subtree; an enterprise user none."""
    if actor.role == Role.inspector and actor.unit_id is not None:
        return select(Unit.id).where(Unit.id == actor.unit_id)
    if actor.role in (Role.committee, Role.admin) and actor.region_path:
        return (
            select(Unit.id)
            .join(Region, Region.id == Unit.region_id)
            .where(Region.path.startswith(actor.region_path, autoescape=True))
        )
    return select(Unit.id).where(false())


def quarterly_filing_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on QuarterlyFiling: filings of the enterprises and units in scope."""
    return or_(
        and_(QuarterlyFiling.party_type == PartyType.enterprise,
             QuarterlyFiling.party_id.in_(statistics_enterprises(actor))),
        and_(QuarterlyFiling.party_type == PartyType.unit,
             QuarterlyFiling.party_id.in_(statistics_units(actor))),
    )


def statistics_hazards(actor: Actor) -> ColumnElement[bool]:
    """The hazards counted in the actor's quarterly statistics: those of its enterprises that
    it may also see (never a figure built from a hazard the actor could not open)."""
    return and_(Hazard.enterprise_id.in_(statistics_enterprises(actor)), hazard_visibility(actor))


def statistics_cells(
    actor: Actor, enterprise_id: ColumnElement[int], region_id: ColumnElement[int]
) -> ColumnElement[bool]:
    """`statistics_hazards` on a hazard's enterprise and township alone, for rows that keep
    only those (the quarterly tally). The same hazards: an enterprise user sees exactly its
    enterprise's hazards, an inspector every hazard of the enterprises its unit supervises
    (its other visible hazards are not of its enterprises), a committee or admin the hazards
    lying in its subtree."""
    enterprises = enterprise_id.in_(statistics_enterprises(actor))
    if actor.role in (Role.committee, Role.admin) and actor.region_path:
        in_region = select(Region.id).where(
            Region.path.startswith(actor.region_path, autoescape=True))
        return and_(enterprises, region_id.in_(in_region))
    return enterprises


def statistics_region_paths(session: Session, actor: Actor) -> tuple[str, ...]:
    """The region subtrees an actor may narrow its statistics to (`region_id`)."""
    if actor.role in (Role.committee, Role.admin):
        return (actor.region_path,) if actor.region_path else ()
    if actor.role == Role.inspector:
        return actor.unit_region_paths
    path = session.scalar(
        select(Region.path)
        .join(Enterprise, Enterprise.region_id == Region.id)
        .where(Enterprise.id == (actor.enterprise_id or -1))
    )
    return (path,) if path else ()


def reportable_enterprises(actor: Actor) -> Select[tuple[Enterprise]]:
    """The enterprises the actor may report a hazard for (the report form's choices)."""
    query = select(Enterprise).order_by(Enterprise.name)
    if actor.role == Role.enterprise:
        return query.where(Enterprise.id == (actor.enterprise_id or -1))
    if actor.role == Role.inspector:
        return query.where(Enterprise.id.in_(supervised_enterprises(actor)))
    if actor.role == Role.committee and actor.region_path:
        return query.join(Region, Region.id == Enterprise.region_id).where(
            Region.path.startswith(actor.region_path, autoescape=True))
    return query.where(false())


def unit_holds_duty(unit_id: int | None, duty: Duty) -> ColumnElement[bool]:
    """A WHERE clause on Hazard: the unit holds this duty (e.g. supervise) on the hazard."""
    return _unit_holds_assignment(unit_id, duty) if unit_id is not None else false()


def _unit_holds_assignment(unit_id: int, duty: Duty | None = None) -> ColumnElement[bool]:
    conditions = [
        Assignment.hazard_id == Hazard.id,
        Assignment.party_type == PartyType.unit,
        Assignment.party_id == unit_id,
    ]
    if duty is not None:
        conditions.append(Assignment.duty == duty)
    return exists().where(and_(*conditions))


def hazard_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Hazard selecting exactly what the actor may see."""
    if actor.role == Role.enterprise:
        return Hazard.enterprise_id == (actor.enterprise_id or -1)
    if actor.role == Role.inspector:
        clauses = [Hazard.reported_by_id == actor.id]
        if actor.unit_id is not None:
            clauses.append(Hazard.enterprise_id.in_(supervised_enterprises(actor)))
            clauses.append(_unit_holds_assignment(actor.unit_id))
        return or_(*clauses)
    if actor.role in (Role.committee, Role.admin) and actor.region_path:
        region_paths = select(Region.id).where(
            Region.path.startswith(actor.region_path, autoescape=True)
        )
        return Hazard.region_id.in_(region_paths)
    return false()


def enterprise_in_scope(session: Session, actor: Actor, enterprise: Enterprise) -> bool:
    """May the actor report a hazard for this enterprise?"""
    if actor.role == Role.enterprise:
        return actor.enterprise_id == enterprise.id
    if actor.role == Role.inspector:
        query = supervised_enterprises(actor).where(Enterprise.id == enterprise.id)
        return session.scalar(query) is not None
    if actor.role == Role.committee and actor.region_path:
        return enterprise.region.path.startswith(actor.region_path)
    return False


def tip_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Tip: the tips the actor handles (docs/tips.md).

    A committee: tips placed in its subtree (by township or county), and tips no routing
    could place (someone must read them). An inspector: tips whose matched enterprise its
    unit supervises, and for a township office tips placed in its township. Nobody else.
    """
    if actor.role == Role.committee and actor.region_path:
        in_region = select(Region.id).where(
            Region.path.startswith(actor.region_path, autoescape=True))
        return or_(Tip.county_id.in_(in_region), Tip.region_id.in_(in_region),
                   and_(Tip.county_id.is_(None), Tip.region_id.is_(None)))
    if actor.role == Role.inspector and actor.unit_id is not None:
        clauses = [Tip.enterprise_id.in_(supervised_enterprises(actor))]
        if actor.unit_kind == UnitKind.township:
            townships = select(Region.id).where(in_subtree(Region.path, actor.unit_region_paths))
            clauses.append(Tip.region_id.in_(townships))
        return or_(*clauses)
    return false()


def user_region_path(session: Session, user: User) -> str | None:
    """The path of the region an account belongs to: its own region (committee, admins), its
    unit's, or its enterprise's township."""
    if user.region_id is not None:
        region_id: int | None = user.region_id
    elif user.unit_id is not None:
        region_id = session.scalar(select(Unit.region_id).where(Unit.id == user.unit_id))
    elif user.enterprise_id is not None:
        region_id = session.scalar(select(Enterprise.region_id)
                                   .where(Enterprise.id == user.enterprise_id))
    else:
        region_id = None
    return session.scalar(select(Region.path).where(Region.id == region_id)) if region_id else None


def manages_user(session: Session, actor: Actor, user: User) -> bool:
    """Is the account within the region subtree of this system or security admin (the audit
    admin manages no account)?"""
    if actor.role not in (Role.admin, Role.security_admin) or not actor.region_path:
        return False
    path = user_region_path(session, user)
    return path is not None and path.startswith(actor.region_path)
