"""Routing (三管三必须): which units supervise an enterprise's hazard.

The industry department is the one whose industries include the enterprise's industry and
whose regions contain the enterprise's township, the most local first; the township office
is the one that supervises the enterprise's township.
"""

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.core.errors import Unprocessable
from app.models import Enterprise, Region, Unit, unit_industry, unit_region
from app.models.enums import UnitKind


def _units_covering(enterprise: Enterprise, kind: UnitKind) -> Select[Unit]:
    """Units of ``kind`` supervising a region that contains the enterprise, most local first."""
    township_path = enterprise.region.path
    return (
        select(Unit)
        .join(unit_region, unit_region.c.unit_id == Unit.id)
        .join(Region, Region.id == unit_region.c.region_id)
        .where(Unit.kind == kind)
        .where(func.substr(township_path, 1, func.length(Region.path)) == Region.path)
        .order_by(func.length(Region.path).desc(), Unit.id)
    )


def industry_department(session: Session, enterprise: Enterprise) -> Unit | None:
    query = _units_covering(enterprise, UnitKind.department).join(
        unit_industry, unit_industry.c.unit_id == Unit.id
    ).where(unit_industry.c.industry_id == enterprise.industry_id)
    return session.scalars(query.limit(1)).first()


def township_office(session: Session, enterprise: Enterprise) -> Unit | None:
    return session.scalars(
        _units_covering(enterprise, UnitKind.township).limit(1)
    ).first()


def supervising_units(
    session: Session, enterprise: Enterprise, requested_unit_id: int | None
) -> list[Unit]:
    """The department (requested or routed) and the township office, for 双重交办."""
    if requested_unit_id is not None:
        department = session.get(Unit, requested_unit_id)
        covering = session.scalars(
            _units_covering(enterprise, UnitKind.department).where(
                Unit.id == requested_unit_id
            )
        ).first()
        if department is None or covering is None:
            raise Unprocessable(
                [{"loc": ["body", "supervising_unit_id"],
                  "msg": "该单位不存在或不是监管该企业所在地的行业部门",
                  "type": "value_error"}]
            )
    else:
        department = industry_department(session, enterprise)
        if department is None:
            raise Unprocessable(
                [{"loc": ["body", "supervising_unit_id"],
                  "msg": f"未找到「{enterprise.industry.name}」行业的主管部门，请指定监管单位",
                  "type": "value_error"}]
            )
    units = [department]
    office = township_office(session, enterprise)
    if office is not None and office.id != department.id:
        units.append(office)
    return units
