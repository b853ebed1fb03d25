"""Township boundaries (乡镇界线): a GeoJSON FeatureCollection, one Feature a township, its
`properties.code` the 12-digit 统计用区划代码, its geometry a Polygon or MultiPolygon in
longitude, latitude (WGS 84, as a phone's GPS).

Loaded with `bihuan regions boundaries FILE`; a public tip is then placed in the township
whose boundary contains its GPS (services/tips/routing.py). Geometry is checked with shapely
(`shape`, `is_valid`); a file with any bad feature loads nothing.
"""

import json
from dataclasses import dataclass
from typing import Any

from shapely import Geometry, prepare
from shapely.geometry import Point, shape
from shapely.validation import explain_validity
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import Unprocessable
from app.models import Region
from app.models.enums import RegionLevel

MAX_POINTS = 200_000  # a township's outline at survey detail is some thousands of points
GEOMETRIES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Loaded:
    townships: int


def _count_points(coordinates: Any) -> int:
    if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], int | float):
        return 1
    return sum(_count_points(c) for c in coordinates) if isinstance(coordinates, list) else 0


def checked_geometry(geometry: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The geometry if it is a valid polygon in degrees; else the problem (Chinese)."""
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRIES:
        return None, "geometry 应为 Polygon 或 MultiPolygon"
    if _count_points(geometry.get("coordinates")) > MAX_POINTS:
        return None, f"边界点数超过 {MAX_POINTS}"
    try:
        outline = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        return None, f"坐标格式错误：{error}"
    if outline.is_empty or not outline.is_valid:
        return None, f"边界无效：{explain_validity(outline)}"
    minx, miny, maxx, maxy = outline.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return None, "坐标应为经度、纬度（度）"
    return {"type": geometry["type"], "coordinates": geometry["coordinates"]}, None


def load_boundaries(session: Session, data: bytes) -> Loaded:
    """Set the boundary of each township in the file; all or nothing (422 with each problem)."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise Unprocessable("文件不是有效的 GeoJSON") from None
    features = document.get("features") if isinstance(document, dict) else None
    if document.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise Unprocessable("应为 GeoJSON FeatureCollection")
    townships = {r.code: r for r in session.scalars(
        select(Region).where(Region.level == RegionLevel.township))}
    problems: list[dict[str, Any]] = []
    found: dict[str, dict[str, Any]] = {}
    for index, feature in enumerate(features):
        code = str(((feature or {}).get("properties") or {}).get("code", ""))
        where = ["features", index]
        if code not in townships:
            problems.append({"loc": where, "msg": f"未知的乡镇区划代码「{code[:20]}」"})
            continue
        if code in found:
            problems.append({"loc": where, "msg": f"乡镇 {code} 重复"})
            continue
        geometry, problem = checked_geometry(feature.get("geometry"))
        if problem:
            problems.append({"loc": where, "msg": f"{code}：{problem}"})
        elif geometry is not None:
            found[code] = geometry
    if problems:
        raise Unprocessable(problems)
    for code, geometry in found.items():
        townships[code].boundary = geometry
    session.flush()
    return Loaded(townships=len(found))


def township_at(session: Session, lat: float, lon: float) -> Region | None:
    """The township whose boundary contains the point (the smallest, should outlines overlap
    at a shared edge); None when none is loaded or none contains it."""
    point = Point(lon, lat)
    best: tuple[float, int, Region] | None = None
    for region in session.scalars(select(Region).where(Region.level == RegionLevel.township,
                                                       Region.boundary.is_not(None))):
        outline = _outline(region.boundary)
        if outline is None or not outline.covers(point):
            continue
        if best is None or (outline.area, region.id) < best[:2]:
            best = (outline.area, region.id, region)
    return best[2] if best else None


def _outline(boundary: dict[str, Any] | None) -> Geometry | None:
    if not boundary:
        return None
    try:
        outline = shape(boundary)
    except (ValueError, TypeError, AttributeError, IndexError):
        return None  # a boundary stored otherwise than through load_boundaries
    prepare(outline)
    return outline
