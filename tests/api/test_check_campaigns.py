"""专项排查 and 部门检查 over HTTP: who may issue and answer them, in and out of their reach."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.models import CheckItem, Hazard, Industry, Region
from tests.api.helpers import Auth, act, in_days, neighbouring_county
from tests.api.test_checks import add_point, answer, enterprise_id
from tests.samples import photo

ITEMS = ["消防通道是否畅通", "电气线路有无私拉乱接"]


def body(**fields: Any) -> dict[str, Any]:
    return {"title": "节前安全专项排查", "deadline": in_days(7), "items": ITEMS, **fields}


def launch(client: TestClient, auth: Auth, username: str, expect: int = 201,
           headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/check-campaigns", json=body(**fields),
                           headers=headers or auth(username))
    assert response.status_code == expect, response.text
    return response.json()


def campaign_task(client: TestClient, auth: Auth, username: str,
                  campaign_id: int) -> dict[str, Any]:
    tasks = client.get("/api/v1/check-tasks", headers=auth(username)).json()["items"]
    return next(t for t in tasks if t["campaign_id"] == campaign_id)


def test_a_campaign_reaches_the_enterprises_named_and_counts_answers(client, auth) -> None:
    a, b = enterprise_id(client, auth, "ent_a"), enterprise_id(client, auth, "ent_b")
    campaign = launch(client, auth, "insp_dept", enterprise_ids=[a, b, a])
    assert campaign["enterprises"] == 2 and campaign["answered"] == 0
    task = campaign_task(client, auth, "ent_a", campaign["id"])
    assert task["kind"] == "campaign" and task["due_on"] == in_days(7)
    assert [i["content"] for i in task["items"]] == ITEMS
    ok = answer(client, auth, task["id"], [{"item_id": i["id"], "outcome": "ok"}
                                           for i in task["items"]])
    assert ok.status_code == 200 and ok.json()["state"] == "done"
    url = f"/api/v1/check-campaigns/{campaign['id']}"
    figures = client.get(url, headers=auth("insp_dept")).json()
    assert (figures["enterprises"], figures["answered"]) == (2, 1)
    # An enterprise sees the campaign counted over itself only.
    assert client.get(url, headers=auth("ent_b")).json()["enterprises"] == 1


def test_a_campaign_by_region_and_industry(client, auth, db) -> None:
    county = db.scalars(select(Region).where(Region.level == "county")).first()
    jixie = db.scalars(select(Industry).where(Industry.code == "jixie")).one()
    huagong = db.scalars(select(Industry).where(Industry.code == "huagong")).one()
    campaign = launch(client, auth, "anweiban", region_id=county.id, industry_id=jixie.id)
    assert campaign["enterprises"] == 2
    empty = launch(client, auth, "anweiban", 422, region_id=county.id, industry_id=huagong.id)
    assert "没有对象" in str(empty["detail"])
    # The township office reaches only its own township (and its enterprise).
    launch(client, auth, "insp_town", 422, region_id=county.id)
    town = db.scalars(select(Region).where(Region.code == "339901100000")).one()
    assert launch(client, auth, "insp_town", region_id=town.id)["enterprises"] == 1


@pytest.mark.parametrize(("username", "own", "foreign"), [
    ("ent_a", 403, 403), ("insp_town", 201, 422), ("insp_dept", 201, 201),
    ("anweiban", 201, 201), ("admin", 403, 403)])
def test_who_may_issue_a_campaign(client, auth, username, own, foreign) -> None:
    """Own: 演示机械 (城关镇); foreign: 清溪精密 (清溪镇, outside 城关镇's office)."""
    a, b = enterprise_id(client, auth, "ent_a"), enterprise_id(client, auth, "ent_b")
    launch(client, auth, username, own, enterprise_ids=[a])
    launch(client, auth, username, foreign, enterprise_ids=[b])


def test_another_county_neither_issues_to_nor_sees_a_campaign(client, auth, db, clock) -> None:
    _, _, headers = neighbouring_county(db, clock)
    db.commit()
    a = enterprise_id(client, auth, "ent_a")
    refused = launch(client, auth, "", 422, headers=headers, enterprise_ids=[a])
    assert str(a) in str(refused["detail"])
    campaign = launch(client, auth, "anweiban", enterprise_ids=[a])
    url = f"/api/v1/check-campaigns/{campaign['id']}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(url, headers=auth("ent_b")).status_code == 404
    assert client.get("/api/v1/check-campaigns/99999999", headers=auth("anweiban")).status_code \
        == 404


def test_a_campaign_item_of_another_enterprise_is_404_and_a_retry_records_once(
        client, auth, db) -> None:
    a, b = enterprise_id(client, auth, "ent_a"), enterprise_id(client, auth, "ent_b")
    campaign = launch(client, auth, "anweiban", enterprise_ids=[a, b])
    task_a = campaign_task(client, auth, "ent_a", campaign["id"])
    task_b = campaign_task(client, auth, "ent_b", campaign["id"])
    foreign = [{"item_id": task_b["items"][0]["id"], "outcome": "ok"}]
    assert answer(client, auth, task_a["id"], foreign).status_code == 404
    assert answer(client, auth, task_b["id"], foreign).status_code == 404  # not its task
    data = {"results[0].item_id": str(task_a["items"][0]["id"]),
            "results[0].outcome": "hazard", "results[0].note": "通道堵塞"}
    files = [("results[0].photos", photo()[1])]  # the same bytes, sent twice
    headers = {**auth("ent_a"), "Idempotency-Key": "campaign-retry-0001"}
    url = f"/api/v1/check-tasks/{task_a['id']}/results"
    first = client.post(url, data=data, files=files, headers=headers)
    retry = client.post(url, data=data, files=files, headers=headers)
    assert first.status_code == retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert db.scalar(select(func.count()).select_from(Hazard)) == 1
    figures = client.get(f"/api/v1/check-campaigns/{campaign['id']}",
                         headers=auth("anweiban")).json()
    assert figures["hazards_found"] == 1 and figures["answered"] == 0


@pytest.mark.parametrize("bad", [
    {"items": []}, {"items": ["项" * 501]}, {"items": ["x"] * 51}, {"title": ""},
    {"deadline": "2020-01-01"}, {"enterprise_ids": []}, {"enterprise_ids": [0]},
    {"enterprise_ids": [1] * 5001}, {"region_id": 1, "enterprise_ids": [1]},
    {"industry_id": 1, "enterprise_ids": [1]}, {"extra": 1}])
def test_campaign_input_is_bounded(client, auth, bad) -> None:
    fields = {"enterprise_ids": [enterprise_id(client, auth, "ent_a")], **bad}
    launch(client, auth, "anweiban", 422, **fields)
    assert client.post("/api/v1/check-campaigns", json={"title": "x", "deadline": in_days(1),
                                                        "items": ["x"]},
                       headers=auth("anweiban")).status_code == 422


# --- 部门检查 -------------------------------------------------------------------------------

def inspect(client: TestClient, auth: Auth, username: str, eid: int, expect: int = 201,
            **fields: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/enterprises/{eid}/inspections", json=fields,
                           headers=auth(username))
    assert response.status_code == expect, response.text
    return response.json()


def test_an_inspector_runs_the_enterprises_items_and_assigns_what_it_finds(client, auth,
                                                                          db) -> None:
    point = add_point(client, auth)
    eid = point["enterprise_id"]
    task = inspect(client, auth, "insp_dept", eid, items=["安全出口指示标志是否完好"])
    assert task["kind"] == "inspection" and task["state"] == "due"
    assert [i["content"] for i in task["items"]] == [
        point["measures"][0]["check_item"], "安全出口指示标志是否完好"]
    first, second = (i["id"] for i in task["items"])
    # Only the inspector who runs it records it: not the enterprise, not another inspector.
    results = [{"item_id": first, "outcome": "ok"}]
    assert answer(client, auth, task["id"], results, "ent_a").status_code == 403
    assert answer(client, auth, task["id"], results, "insp_town").status_code == 403
    assert answer(client, auth, task["id"], results, "ent_b").status_code == 404
    done = answer(client, auth, task["id"], [
        {"item_id": first, "outcome": "ok"},
        {"item_id": second, "outcome": "hazard", "note": "指示标志损坏", "photos": 1}],
        "insp_dept")
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done"
    hazard_id = done.json()["items"][1]["hazard_id"]
    hazard = db.get(Hazard, hazard_id)
    assert hazard.reporter_role == "inspector" and hazard.state == "reported"
    assigned = act(client, auth, "insp_dept", hazard_id, "assign", {"deadline": in_days(10)})
    assert assigned.status_code == 200, assigned.text
    assert db.scalar(select(CheckItem.hazard_id).where(CheckItem.id == second)) == hazard_id


@pytest.mark.parametrize(("username", "own", "foreign"), [
    ("ent_a", 403, 404), ("insp_town", 201, 404), ("insp_dept", 201, 201),
    ("anweiban", 403, 403), ("admin", 403, 403)])
def test_who_may_open_an_inspection(client, auth, username, own, foreign) -> None:
    a, b = enterprise_id(client, auth, "ent_a"), enterprise_id(client, auth, "ent_b")
    inspect(client, auth, username, a, own, items=["x"])
    inspect(client, auth, username, b, foreign, items=["x"])
    inspect(client, auth, username, 10**12, 404, items=["x"])


def test_an_inspection_is_bounded_and_needs_items(client, auth) -> None:
    a, b = enterprise_id(client, auth, "ent_a"), enterprise_id(client, auth, "ent_b")
    assert "补充检查内容" in str(inspect(client, auth, "insp_dept", a, 422)["detail"])
    foreign_point = add_point(client, auth, "ent_b")
    inspect(client, auth, "insp_dept", a, 422, risk_point_ids=[foreign_point["id"]])
    for bad in ({"items": ["x"] * 51}, {"items": [""]}, {"risk_point_ids": []},
                {"risk_point_ids": [0]}, {"extra": 1}):
        inspect(client, auth, "insp_dept", b, 422, **bad)
    chosen = inspect(client, auth, "insp_dept", b, risk_point_ids=[foreign_point["id"]])
    assert len(chosen["items"]) == 1


@pytest.mark.parametrize(("username", "status", "counted"), [
    ("ent_a", 200, 1), ("ent_b", 404, None), ("insp_town", 200, 1), ("insp_dept", 200, 1),
    ("anweiban", 200, 1), ("admin", 200, 1)])
def test_who_sees_a_campaign_to_one_enterprise(client, auth, username, status,
                                               counted) -> None:
    a = enterprise_id(client, auth, "ent_a")
    campaign = launch(client, auth, "insp_town", enterprise_ids=[a])
    response = client.get(f"/api/v1/check-campaigns/{campaign['id']}", headers=auth(username))
    assert response.status_code == status
    if counted is not None:
        assert response.json()["enterprises"] == counted
