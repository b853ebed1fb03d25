"""Where a tip goes: its township, the enterprise it names or lies beside, the county.

The enterprise: the 安全码's; else the one named (one exact or one partial name match); else
the nearest to its GPS (within NEAREST_M). The township: the 安全码 enterprise's; else the one
whose loaded boundary contains the GPS (services/org/boundaries.py); else the chosen one
(`region_id`); else the matched enterprise's. The county above it handles the tip (its
committee, and the units supervising a matched enterprise: access/scopes.tip_visibility).
"""

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import valid_id
from app.core.errors import NotFound, Unprocessable
from app.models import Enterprise, Region
from app.models.enums import RegionLevel
from app.services.checks import safety_code
from app.services.org.boundaries import township_at
from app.services.org.regions import ancestor_at_level

NEAREST_M = 2000.0


@dataclass(frozen=True)
class Route:
    region_id: int | None
    enterprise_id: int | None
    county_id: int | None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def named_enterprise(session: Session, name: str | None) -> Enterprise | None:
    if not name:
        return None
    exact = session.scalars(select(Enterprise).where(Enterprise.name == name).limit(2)).all()
    if len(exact) == 1:
        return exact[0]
    partial = session.scalars(select(Enterprise)
                              .where(Enterprise.name.contains(name, autoescape=True))
                              .limit(2)).all()
    return partial[0] if len(partial) == 1 else None


def nearest_enterprise(session: Session, lat: float, lon: float) -> Enterprise | None:
    # About 0.02° around the point (≈ 2 km): an index-friendly box, then the exact distance.
    box = 0.02 * max(1.0, NEAREST_M / 2000.0)
    rows = session.scalars(select(Enterprise).where(
        Enterprise.lat.between(lat - box, lat + box),
        Enterprise.lon.between(lon - box * 1.3, lon + box * 1.3))).all()
    scored = [(distance_m(lat, lon, e.lat, e.lon), e.id, e) for e in rows
              if e.lat is not None and e.lon is not None]
    scored = [s for s in scored if s[0] <= NEAREST_M]
    return min(scored)[2] if scored else None


def coded_enterprise(session: Session, code: str) -> Enterprise:
    """The enterprise of a 安全码's tip form; a code this server did not sign is a 422 (the
    field is wrong, not a resource missing)."""
    try:
        return safety_code.enterprise_of_tip_code(session, code)
    except NotFound:
        raise Unprocessable([{"loc": ["body", "enterprise_code"], "type": "value_error",
                              "msg": "安全码无效：请重新扫码"}]) from None


def route_tip(session: Session, *, region_id: str | None, lat: float | None, lon: float | None,
              enterprise_name: str | None, enterprise_code: str | None = None) -> Route:
    township: Region | None = None
    if region_id not in (None, ""):
        try:
            wanted = int(region_id)  # type: ignore[arg-type]
        except ValueError:
            wanted = -1
        township = session.get(Region, wanted) if valid_id(wanted) else None
        if township is None or township.level != RegionLevel.township:
            raise Unprocessable([{"loc": ["body", "region_id"], "type": "value_error",
                                  "msg": "请选择所在乡镇（街道）"}])
    coded = coded_enterprise(session, enterprise_code) if enterprise_code else None
    enterprise = coded or named_enterprise(session, enterprise_name)
    if enterprise is None and lat is not None and lon is not None:
        enterprise = nearest_enterprise(session, lat, lon)
    if coded is not None:
        township = coded.region  # the tip is about that enterprise for sure
    elif lat is not None and lon is not None:
        township = township_at(session, lat, lon) or township
    if township is None and enterprise is not None:
        township = enterprise.region
    county = ancestor_at_level(session, township, RegionLevel.county) if township else None
    return Route(region_id=township.id if township else None,
                 enterprise_id=enterprise.id if enterprise else None,
                 county_id=county.id if county else None)
