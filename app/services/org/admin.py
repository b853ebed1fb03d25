"""The system admin keeps the organisation of its region subtree (docs/admin.md): townships
added and renamed, supervising units, enterprises. Every change is audited with its before
and after, in the change's own transaction.

Regions are never deleted: hazards, enterprises, units, tips, statistics and the audit log
refer to them, and the history must keep saying where things were. A typo is renamed.
"""

import unicodedata
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.access.actor import Actor
from app.access.admin import (
    enterprises_in_scope,
    regions_in_scope,
    require_org_admin,
    units_in_scope,
)
from app.core.clock import Clock
from app.core.cursors import decode_cursor, encode_cursor
from app.core.db import valid_id
from app.core.errors import Conflict, NotFound
from app.core.validation import invalid, parse_body
from app.models import Enterprise, Industry, Region, Unit, User
from app.models.enums import RegionLevel, UnitKind
from app.services.audit.log import AuditAction, Who, record
from app.services.org.regions import child_path
from app.services.org.schemas import (
    EnterpriseIn,
    EnterprisePatch,
    RegionIn,
    RegionPatch,
    UnitIn,
    UnitOut,
    UnitPatch,
)
from app.services.org.uscc import uscc_problem

T = TypeVar("T", Region, Unit, Enterprise, User)


def page_of(session: Session, query: Select[tuple[T]], id_column: InstrumentedAttribute[int],
            limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    """One keyset page in id order, and the cursor of the next (None on the last)."""
    after = decode_cursor(cursor) if cursor is not None else None
    if after is not None:
        query = query.where(id_column > after)
    rows = list(session.scalars(query.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more else None


def _one_in_scope(session: Session, model: type[T], row_id: int,
                  in_scope: ColumnElement[bool], missing: str) -> T:
    """The row asked for by its path id: 404 when it does not exist or lies outside."""
    row = session.scalars(select(model).where(
        model.id == row_id, in_scope)).first() if valid_id(row_id) else None
    if row is None:
        raise NotFound(missing)
    return row


def _region_field(session: Session, actor: Actor, field: str, region_id: int) -> Region:
    """A region named in the body: it must lie in the admin's subtree (else 422)."""
    region = session.scalars(select(Region).where(
        Region.id == region_id, regions_in_scope(actor))).first()
    if region is None:
        raise invalid(field, "该区划不存在或不在您的辖区内")
    return region


def _audit(session: Session, actor: Actor, action: AuditAction, object: str, clock: Clock,
           before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    record(session, who=Who.of_actor(actor), action=action, at=clock.now(), object=object,
           detail={"before": before, "after": after})


# Regions ----------------------------------------------------------------------------------

def region_facts(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "level": str(region.level),
            "parent_id": region.parent_id}


def list_regions(session: Session, actor: Actor, *, limit: int,
                 cursor: str | None) -> tuple[list[Region], str | None]:
    require_org_admin(actor)
    return page_of(session, select(Region).where(regions_in_scope(actor)), Region.id,
                   limit, cursor)


def _township_code_problem(parent: Region, code: str) -> str | None:
    """A township's 12-digit code: the county's first six digits, its own three (not 000),
    and 000 for the village digits (统计用区划代码)."""
    if not code.startswith(parent.code[:6]):
        return f"乡镇、街道的区划代码应以所在县的 {parent.code[:6]} 开头"
    if code[6:9] == "000" or code[9:] != "000":
        return "乡镇、街道的区划代码第 7–9 位不能为 000，最后 3 位应为 000"
    return None


def create_region(session: Session, actor: Actor, data: dict[str, Any], clock: Clock) -> Region:
    """A township or street under a county of the subtree."""
    require_org_admin(actor)
    body = parse_body(RegionIn, data)
    parent = _region_field(session, actor, "parent_id", body.parent_id)
    if parent.level != RegionLevel.county:
        raise invalid("parent_id", "只能在县（区）下新建乡镇、街道")
    problem = _township_code_problem(parent, body.code)
    if problem:
        raise invalid("code", problem)
    if session.scalar(select(Region.id).where(Region.code == body.code)) is not None:
        raise Conflict(f"区划代码 {body.code} 已存在")
    region = Region(code=body.code, name=body.name, level=RegionLevel.township,
                    parent_id=parent.id, path=child_path(parent, body.code))
    session.add(region)
    session.flush()
    _audit(session, actor, AuditAction.region_create, f"region:{region.id}", clock, None,
           region_facts(region))
    return region


def update_region(session: Session, actor: Actor, region_id: int, data: dict[str, Any],
                  clock: Clock) -> Region:
    """Rename a region (its code, level and place in the tree never change)."""
    require_org_admin(actor)
    region = _one_in_scope(session, Region, region_id, regions_in_scope(actor), "区划不存在")
    body = parse_body(RegionPatch, data)
    before = region_facts(region)
    region.name = body.name
    session.flush()
    _audit(session, actor, AuditAction.region_update, f"region:{region.id}", clock, before,
           region_facts(region))
    return region


# Units ------------------------------------------------------------------------------------

def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(id=unit.id, name=unit.name, kind=unit.kind, region_id=unit.region_id,
                   industry_ids=sorted(i.id for i in unit.industries),
                   region_ids=sorted(r.id for r in unit.regions))


def unit_facts(unit: Unit) -> dict[str, Any]:
    return unit_out(unit).model_dump(mode="json", exclude={"id"})


def list_units(session: Session, actor: Actor, *, limit: int,
               cursor: str | None) -> tuple[list[Unit], str | None]:
    require_org_admin(actor)
    return page_of(session, select(Unit).where(units_in_scope(actor)), Unit.id, limit, cursor)


def _industries(session: Session, ids: list[int]) -> list[Industry]:
    found = list(session.scalars(select(Industry).where(Industry.id.in_(ids))))
    if len(found) != len(set(ids)):
        raise invalid("industry_ids", "行业不存在")
    return found


def _supervised(session: Session, actor: Actor, ids: list[int]) -> list[Region]:
    return [_region_field(session, actor, "region_ids", region_id)
            for region_id in dict.fromkeys(ids)]


def _check_unit_name(session: Session, actor: Actor, name: str, unit_id: int | None) -> None:
    """Unit names are unique within the admin's subtree (imports refer to units by name)."""
    clash = select(Unit.id).where(func.lower(Unit.name) == name.lower(), units_in_scope(actor))
    if unit_id is not None:
        clash = clash.where(Unit.id != unit_id)
    if session.scalar(clash) is not None:
        raise Conflict(f"单位名称 {name} 已存在")


def _place_unit(session: Session, actor: Actor, unit: Unit, region_id: int | None,
                industry_ids: list[int] | None, region_ids: list[int] | None) -> None:
    if region_id is not None:
        region = _region_field(session, actor, "region_id", region_id)
        level_ok = (region.level == RegionLevel.township if unit.kind == UnitKind.township
                    else region.level == RegionLevel.county)
        if not level_ok:
            raise invalid("region_id", "乡镇单位的所属区划应为乡镇（街道），行业部门的应为县（区）")
        unit.region_id = region.id
        if unit.kind == UnitKind.township:
            unit.regions = [region]
    if industry_ids is not None:
        if unit.kind == UnitKind.township and industry_ids:
            raise invalid("industry_ids", "乡镇单位监管辖区内全部行业，监管行业应留空")
        unit.industries = _industries(session, industry_ids)
    if region_ids is not None and unit.kind == UnitKind.department:
        unit.regions = _supervised(session, actor, region_ids)
    if unit.kind == UnitKind.department and not unit.industries:
        raise invalid("industry_ids", "行业部门至少监管一个行业")


def create_unit(session: Session, actor: Actor, data: dict[str, Any], clock: Clock) -> Unit:
    require_org_admin(actor)
    body = parse_body(UnitIn, data)
    _check_unit_name(session, actor, body.name, None)
    unit = Unit(name=body.name, kind=body.kind, industries=[], regions=[])
    _place_unit(session, actor, unit, body.region_id, body.industry_ids, body.region_ids)
    if unit.kind == UnitKind.department and body.region_ids is None:
        unit.regions = [session.get_one(Region, unit.region_id)]
    session.add(unit)
    session.flush()
    _audit(session, actor, AuditAction.unit_create, f"unit:{unit.id}", clock, None,
           unit_facts(unit))
    return unit


def update_unit(session: Session, actor: Actor, unit_id: int, data: dict[str, Any],
                clock: Clock) -> Unit:
    """Rename, move, or change what a unit supervises (its kind never changes)."""
    require_org_admin(actor)
    unit = _one_in_scope(session, Unit, unit_id, units_in_scope(actor), "单位不存在")
    body = parse_body(UnitPatch, data)
    before = unit_facts(unit)
    if body.name is not None:
        _check_unit_name(session, actor, body.name, unit.id)
        unit.name = body.name
    _place_unit(session, actor, unit, body.region_id, body.industry_ids, body.region_ids)
    session.flush()
    _audit(session, actor, AuditAction.unit_update, f"unit:{unit.id}", clock, before,
           unit_facts(unit))
    return unit


# Enterprises ------------------------------------------------------------------------------

ENTERPRISE_FIELDS = ("name", "uscc", "region_id", "industry_id", "address", "lat", "lon")


def enterprise_facts(enterprise: Enterprise) -> dict[str, Any]:
    return {name: getattr(enterprise, name) for name in ENTERPRISE_FIELDS}


def list_enterprises(session: Session, actor: Actor, *, limit: int,
                     cursor: str | None) -> tuple[list[Enterprise], str | None]:
    require_org_admin(actor)
    return page_of(session, select(Enterprise).where(enterprises_in_scope(actor)),
                   Enterprise.id, limit, cursor)


def _valid_uscc(typed: str) -> str:
    """The code as stored (NFKC, no spaces, upper case), or 422 saying what is wrong."""
    code = unicodedata.normalize("NFKC", typed).replace(" ", "").upper()
    problem = uscc_problem(code)
    if problem:
        raise invalid("uscc", f"统一社会信用代码{problem}")
    return code


def _check_uscc_free(session: Session, uscc: str, enterprise_id: int | None) -> None:
    clash = select(Enterprise.id).where(Enterprise.uscc == uscc)
    if enterprise_id is not None:
        clash = clash.where(Enterprise.id != enterprise_id)
    if session.scalar(clash) is not None:
        raise Conflict(f"统一社会信用代码 {uscc} 已被其他企业使用")


def _township(session: Session, actor: Actor, region_id: int) -> Region:
    region = _region_field(session, actor, "region_id", region_id)
    if region.level != RegionLevel.township:
        raise invalid("region_id", "企业的所属区划应为乡镇（街道）")
    return region


def _industry(session: Session, industry_id: int) -> Industry:
    industry = session.get(Industry, industry_id)
    if industry is None:
        raise invalid("industry_id", "行业不存在")
    return industry


def _check_coordinates(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise invalid("lat", "经度和纬度应同时填写或同时留空")


def create_enterprise(session: Session, actor: Actor, data: dict[str, Any],
                      clock: Clock) -> Enterprise:
    require_org_admin(actor)
    body = parse_body(EnterpriseIn, data)
    township = _township(session, actor, body.region_id)
    industry = _industry(session, body.industry_id)
    _check_coordinates(body.lat, body.lon)
    uscc = _valid_uscc(body.uscc)
    _check_uscc_free(session, uscc, None)
    enterprise = Enterprise(name=body.name, uscc=uscc, region=township,
                            industry=industry, address=body.address, lat=body.lat,
                            lon=body.lon)
    session.add(enterprise)
    session.flush()
    _audit(session, actor, AuditAction.enterprise_create, f"enterprise:{enterprise.id}",
           clock, None, enterprise_facts(enterprise))
    return enterprise


def update_enterprise(session: Session, actor: Actor, enterprise_id: int,
                      data: dict[str, Any], clock: Clock) -> Enterprise:
    """Change an enterprise's fields. A move to another township or industry changes whom
    its hazards' new assignments route to (services/hazards/routing.py reads the enterprise
    when assigning); assignments made before stay as they were."""
    require_org_admin(actor)
    enterprise = _one_in_scope(session, Enterprise, enterprise_id,
                               enterprises_in_scope(actor), "企业不存在")
    body = parse_body(EnterprisePatch, data)
    before = enterprise_facts(enterprise)
    sent = body.model_dump(exclude_unset=True)
    for name in ("name", "uscc", "region_id", "industry_id", "address"):
        if sent.get(name) is None:
            sent.pop(name, None)  # null for a required field: left as it is
    if "uscc" in sent:
        sent["uscc"] = _valid_uscc(sent["uscc"])
        _check_uscc_free(session, sent["uscc"], enterprise.id)
    if "region_id" in sent:
        enterprise.region = _township(session, actor, sent.pop("region_id"))
    if "industry_id" in sent:
        enterprise.industry = _industry(session, sent.pop("industry_id"))
    for name, value in sent.items():
        setattr(enterprise, name, value)
    _check_coordinates(enterprise.lat, enterprise.lon)
    session.flush()
    _audit(session, actor, AuditAction.enterprise_update, f"enterprise:{enterprise.id}",
           clock, before, enterprise_facts(enterprise))
    return enterprise


# One record, and the options of the forms' selects -----------------------------------------

def get_region(session: Session, actor: Actor, region_id: int) -> Region:
    require_org_admin(actor)
    return _one_in_scope(session, Region, region_id, regions_in_scope(actor), "区划不存在")


def get_unit(session: Session, actor: Actor, unit_id: int) -> Unit:
    require_org_admin(actor)
    return _one_in_scope(session, Unit, unit_id, units_in_scope(actor), "单位不存在")


def get_enterprise(session: Session, actor: Actor, enterprise_id: int) -> Enterprise:
    require_org_admin(actor)
    return _one_in_scope(session, Enterprise, enterprise_id, enterprises_in_scope(actor),
                         "企业不存在")


def region_options(session: Session, actor: Actor, level: str | None,
                   limit: int) -> list[Region]:
    """The subtree's regions in tree order (a county before its townships)."""
    query = select(Region).where(regions_in_scope(actor)).order_by(Region.path).limit(limit)
    if level is not None:
        query = query.where(Region.level == level)
    return list(session.scalars(query))


def unit_options(session: Session, actor: Actor, limit: int) -> list[Unit]:
    return list(session.scalars(select(Unit).where(units_in_scope(actor))
                                .order_by(Unit.name).limit(limit)))


def enterprise_options(session: Session, actor: Actor, limit: int) -> list[Enterprise]:
    return list(session.scalars(select(Enterprise).where(enterprises_in_scope(actor))
                                .order_by(Enterprise.name).limit(limit)))


def industries(session: Session) -> list[Industry]:
    """The industries (shared by every region: the criteria catalogue's list)."""
    return list(session.scalars(select(Industry).order_by(Industry.code)))
