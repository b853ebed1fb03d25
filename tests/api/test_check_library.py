"""风险点参考库 over HTTP: the library names its sources; an enterprise adopts templates."""

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import Auth, neighbouring_county
from tests.api.test_checks import enterprise_id, points_of

DATA = Path(__file__).resolve().parents[2] / "app" / "data"
ADOPT = {"template": "gm-dust", "place": "打磨车间", "level": "high", "frequency": "weekly",
         "owner": "车间主任 王磊"}


def library(client: TestClient, auth: Auth, username: str = "ent_a", **params: str) -> dict:
    response = client.get("/api/v1/risk-library", params=params, headers=auth(username))
    assert response.status_code == 200, response.text
    return response.json()


def adopt(client: TestClient, auth: Auth, eid: int, username: str = "ent_a",
          **fields: object) -> object:
    return client.post(f"/api/v1/enterprises/{eid}/risk-points/adopt",
                       json={**ADOPT, **fields}, headers=auth(username))


def test_every_library_item_is_a_shipped_criteria_clause_with_its_source(client, auth) -> None:
    criteria = {}
    for name in ("gongmao-2023.csv", "huagong-2017.csv"):
        with (DATA / "criteria" / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                criteria[row["text"]] = row
    templates = library(client, auth)["templates"]
    industries = {t["industry"] for t in templates}
    assert {"粉尘涉爆", "有限空间", "涉氨制冷", "金属熔融", "危险化学品"} <= industries
    for template in templates:
        for item in template["items"]:
            text = item["check_item"].split("排查：", 1)[1]
            row = criteria[text]  # the wording is the catalogue's, not retyped
            assert item["source"]["document"] == row["doc_title"]
            assert item["source"]["url"] == row["source_url"]
            assert row["doc_title"] in item["check_item"]
            assert item["source"]["verified"] == (row["verification"] == "two or more sources")
    dust = library(client, auth, industry="粉尘涉爆")["templates"]
    assert [t["code"] for t in dust] == ["gm-dust"]
    assert library(client, auth, industry="消防")["templates"] == []


def test_an_enterprise_adopts_a_template_as_its_own_risk_point(client, auth) -> None:
    eid = enterprise_id(client, auth, "ent_a")
    template = library(client, auth, industry="粉尘涉爆")["templates"][0]
    response = adopt(client, auth, eid)
    assert response.status_code == 201, response.text
    point = response.json()
    assert point["name"] == template["risk_point"] and point["level"] == "high"
    assert point["hazard_factors"] == template["hazard_factors"]
    assert [m["check_item"] for m in point["measures"]] == [
        i["check_item"] for i in template["items"]]
    assert {m["frequency"] for m in point["measures"]} == {"weekly"}
    assert "第十一条（一）" in point["measures"][0]["content"]
    # A chosen subset, in the order chosen, duplicates once; then edited like any risk point.
    keys = [i["key"] for i in template["items"]]
    chosen = adopt(client, auth, eid, name="二号除尘器", items=[keys[2], keys[0], keys[2]])
    assert chosen.status_code == 201, chosen.text
    assert [m["check_item"] for m in chosen.json()["measures"]] == [
        template["items"][2]["check_item"], template["items"][0]["check_item"]]
    listed = points_of(client, auth, "insp_town", eid).json()["items"]
    assert {p["name"] for p in listed} == {"二号除尘器", template["risk_point"]}


@pytest.mark.parametrize(("username", "own", "foreign"), [
    ("ent_a", 201, 404), ("insp_town", 403, 404), ("insp_dept", 403, 403),
    ("anweiban", 403, 403), ("admin", 403, 403)])
def test_who_may_adopt(client, auth, username, own, foreign) -> None:
    """Own: 演示机械 (城关镇); foreign: 清溪精密 (清溪镇, outside 城关镇 and ent_a)."""
    a, b = enterprise_id(client, auth, "ent_a"), enterprise_id(client, auth, "ent_b")
    assert adopt(client, auth, a, username).status_code == own
    assert adopt(client, auth, b, username).status_code == foreign
    assert adopt(client, auth, 10**12, username).status_code == 404


def test_another_county_sees_neither_the_enterprise_nor_adopts(client, auth, db, clock) -> None:
    _, _, headers = neighbouring_county(db, clock)
    db.commit()
    eid = enterprise_id(client, auth, "ent_a")
    response = client.post(f"/api/v1/enterprises/{eid}/risk-points/adopt", json=ADOPT,
                           headers=headers)
    assert response.status_code == 404
    assert client.get("/api/v1/risk-library", headers=headers).status_code == 200
    assert client.get("/api/v1/risk-library").status_code == 401


@pytest.mark.parametrize("bad", [
    {"template": "no-such"}, {"template": "GM DUST"}, {"template": "x" * 65},
    {"items": ["GM2023:第一条"]}, {"items": []}, {"items": ["k"] * 51},
    {"level": "red"}, {"frequency": "hourly"}, {"place": ""}, {"owner": "人" * 101},
    {"name": "名" * 201}, {"extra": 1}])
def test_adopting_is_bounded(client, auth, bad) -> None:
    eid = enterprise_id(client, auth, "ent_a")
    response = adopt(client, auth, eid, **bad)
    assert response.status_code == 422, (bad, response.text)
    assert response.json()["detail"]
    assert points_of(client, auth, "ent_a", eid).json()["items"] == []


def test_the_library_query_is_bounded(client, auth) -> None:
    response = client.get("/api/v1/risk-library", params={"industry": "行" * 51},
                          headers=auth("ent_a"))
    assert response.status_code == 422


@pytest.mark.parametrize("username", ["ent_a", "ent_b", "insp_town", "insp_dept", "anweiban",
                                      "admin"])
def test_every_role_reads_the_library(client, auth, username) -> None:
    assert len(library(client, auth, username)["templates"]) >= 6
