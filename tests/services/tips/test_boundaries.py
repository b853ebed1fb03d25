"""Township boundaries (GeoJSON, loaded by `bihuan regions boundaries`) and a tip placed by
the point in them; without a boundary holding the point, the chosen township or the
enterprise's."""

import json
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.db import transaction
from app.models import Enterprise, Region
from app.services.org.boundaries import checked_geometry, township_at
from app.services.tips.routing import route_tip

TOWN1, TOWN2 = "339901100000", "339901101000"
NEAR_A = (29.8021, 119.6912)  # a few metres from 演示机械制造有限公司 (城关镇)


def square(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def collection(*features: tuple[str, dict]) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "name": "x"}, "geometry": geometry}
        for code, geometry in features]}


# 清溪镇 drawn around 演示机械制造's site (a hole at its very corner); 城关镇 beside it.
TOWN2_OUTLINE = {"type": "Polygon", "coordinates": [
    square(119.68, 29.79, 119.70, 29.81), square(119.681, 29.791, 119.683, 29.793)]}
TOWN1_OUTLINE = {"type": "MultiPolygon", "coordinates": [
    [square(119.70, 29.79, 119.72, 29.81)], [square(119.60, 29.70, 119.61, 29.71)]]}


def load(cli_on: CliRunner, tmp_path: Path, document: dict) -> object:
    path = tmp_path / "towns.geojson"
    path.write_text(json.dumps(document), encoding="utf-8")
    return cli_on.invoke(cli, ["regions", "boundaries", str(path)])


def region_id(session: Session, code: str) -> int:
    return session.scalars(select(Region.id).where(Region.code == code)).one()


def test_a_tip_is_placed_by_the_boundary_holding_its_gps(loaded: Engine, cli_on: CliRunner,
                                                          tmp_path: Path) -> None:
    done = load(cli_on, tmp_path, collection((TOWN1, TOWN1_OUTLINE), (TOWN2, TOWN2_OUTLINE)))
    assert done.exit_code == 0, done.output
    assert "2 township boundaries loaded" in done.output
    with Session(loaded) as session:
        town1, town2 = region_id(session, TOWN1), region_id(session, TOWN2)
        ent_a = session.scalars(select(Enterprise).where(
            Enterprise.name == "演示机械制造有限公司")).one()
        assert ent_a.region_id == town1
        # Inside 清溪镇's outline: there, though the nearest enterprise is 城关镇's and the
        # tipster chose 城关镇; the enterprise is still matched for its supervising units.
        route = route_tip(session, region_id=str(town1), lat=NEAR_A[0], lon=NEAR_A[1],
                          enterprise_name=None)
        assert (route.region_id, route.enterprise_id) == (town2, ent_a.id)
        # The second part of a MultiPolygon counts; a hole does not.
        assert township_at(session, 29.705, 119.605).id == town1
        assert township_at(session, 29.792, 119.682) is None
        # On the shared edge: one township, always the same.
        assert township_at(session, 29.80, 119.70).id in (town1, town2)
        # Outside every outline: the chosen township, else the enterprise's.
        assert route_tip(session, region_id=str(town2), lat=29.5, lon=119.5,
                         enterprise_name=None).region_id == town2
        assert route_tip(session, region_id=None, lat=29.5, lon=119.5,
                         enterprise_name="演示机械制造").region_id == town1


def test_without_boundaries_the_nearest_enterprise_places_the_tip(loaded: Engine) -> None:
    with Session(loaded) as session:
        route = route_tip(session, region_id=None, lat=NEAR_A[0], lon=NEAR_A[1],
                          enterprise_name=None)
        assert route.region_id == region_id(session, TOWN1)
        assert township_at(session, *NEAR_A) is None


def test_a_file_with_a_bad_feature_loads_nothing(loaded: Engine, cli_on: CliRunner,
                                                 tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [
        [[119.0, 29.0], [119.1, 29.1], [119.1, 29.0], [119.0, 29.1], [119.0, 29.0]]]}
    refused = load(cli_on, tmp_path, collection(
        (TOWN1, TOWN1_OUTLINE), (TOWN2, bowtie), ("999999999999", TOWN1_OUTLINE)))
    assert refused.exit_code == 1
    assert "339901101000：边界无效" in refused.output and "999999999999" in refused.output
    with Session(loaded) as session:
        assert session.scalars(select(Region.boundary).where(
            Region.boundary.is_not(None))).all() == []
    assert load(cli_on, tmp_path, {"type": "Feature"}).exit_code == 1


def test_geometry_checks() -> None:
    assert checked_geometry(TOWN1_OUTLINE)[1] is None
    assert checked_geometry({"type": "Point", "coordinates": [119.0, 29.0]})[1]
    assert checked_geometry({"type": "Polygon", "coordinates": [[[1, 2], [3]]]})[1]
    degrees = checked_geometry({"type": "Polygon", "coordinates": [square(500, 29, 501, 30)]})
    assert degrees[1] == "坐标应为经度、纬度（度）"
    assert checked_geometry("no")[1]


def test_the_boundary_is_a_region_column_set_in_a_transaction(loaded: Engine) -> None:
    with Session(loaded) as session, transaction(session) as tx:
        town = tx.scalars(select(Region).where(Region.code == TOWN1)).one()
        town.boundary = {"type": "Polygon", "coordinates": "broken"}
    with Session(loaded) as session:
        assert township_at(session, 29.8, 119.7) is None  # a broken outline is no outline
