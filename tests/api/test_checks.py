"""The 排查 side over HTTP (docs/api.md v1.1): risk register, check tasks, sweeps."""

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import Auth

MEASURE = {"content": "每班检查除尘系统压差与泄爆口",
           "check_item": "除尘器压差是否正常、泄爆口无遮挡",
           "frequency": "daily", "owner": "车间主任 王磊"}
POINT = {"name": "粉尘涉爆除尘系统", "place": "打磨车间", "level": "high", "measures": [MEASURE]}


def enterprise_id(client: TestClient, auth: Auth, username: str) -> int:
    return client.get("/api/v1/me", headers=auth(username)).json()["enterprise_id"]


def add_point(client: TestClient, auth: Auth, username: str = "ent_a", *,
              expect: int = 201, **fields: Any) -> dict[str, Any]:
    eid = fields.pop("enterprise", None) or enterprise_id(client, auth, username)
    response = client.post(f"/api/v1/enterprises/{eid}/risk-points", json={**POINT, **fields},
                           headers=auth(username))
    assert response.status_code == expect, response.text
    return response.json()


def points_of(client: TestClient, auth: Auth, username: str, eid: int) -> Any:
    return client.get(f"/api/v1/enterprises/{eid}/risk-points", headers=auth(username))


def test_an_enterprise_keeps_its_register_and_its_supervisors_read_it(client, auth) -> None:
    point = add_point(client, auth)
    assert point["level"] == "high" and point["colour"] == "orange"
    assert [m["check_item"] for m in point["measures"]] == [MEASURE["check_item"]]
    eid = point["enterprise_id"]
    for reader in ("ent_a", "insp_town", "insp_dept", "anweiban"):
        response = points_of(client, auth, reader, eid)
        assert response.status_code == 200, reader
        assert [p["id"] for p in response.json()["items"]] == [point["id"]]
    # Another enterprise, and a township office of another township, do not see it at all.
    assert points_of(client, auth, "ent_b", eid).status_code == 404
    b = enterprise_id(client, auth, "ent_b")
    assert points_of(client, auth, "insp_town", b).status_code == 404
    assert points_of(client, auth, "ent_a", 10**12).status_code == 404


def test_only_the_enterprise_edits_its_register(client, auth) -> None:
    eid = enterprise_id(client, auth, "ent_a")
    add_point(client, auth, "insp_dept", enterprise=eid, expect=403)
    add_point(client, auth, "anweiban", enterprise=eid, expect=403)
    add_point(client, auth, "ent_b", enterprise=eid, expect=404)
    point = add_point(client, auth)
    url = f"/api/v1/risk-points/{point['id']}"
    assert client.patch(url, json={"level": "low"}, headers=auth("insp_dept")).status_code == 403
    assert client.patch(url, json={"level": "low"}, headers=auth("ent_b")).status_code == 404


def test_patch_keeps_named_measures_and_retires_the_rest(client, auth) -> None:
    point = add_point(client, auth, measures=[MEASURE, {**MEASURE, "frequency": "monthly",
                                                        "check_item": "泄爆片完好"}])
    first, second = point["measures"]
    url = f"/api/v1/risk-points/{point['id']}"
    response = client.patch(url, json={
        "level": "major", "expected_version": 1,
        "measures": [{**MEASURE, "id": first["id"], "owner": "安全员 李娜"},
                     {**MEASURE, "check_item": "新增：积尘清扫记录"}]}, headers=auth("ent_a"))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["colour"] == "red" and changed["version"] == 2
    ids = [m["id"] for m in changed["measures"]]
    assert ids[0] == first["id"] and second["id"] not in ids and len(ids) == 2
    assert changed["measures"][0]["owner"] == "安全员 李娜"
    stale = client.patch(url, json={"name": "x", "expected_version": 1}, headers=auth("ent_a"))
    assert stale.status_code == 409
    foreign = client.patch(url, json={"measures": [{**MEASURE, "id": second["id"]}]},
                           headers=auth("ent_a"))
    assert foreign.status_code == 422  # a retired measure is no longer this point's


def test_register_input_is_bounded(client, auth) -> None:
    for bad in ({"level": "red"}, {"name": ""}, {"name": "名" * 201},
                {"measures": []}, {"measures": [MEASURE] * 51},
                {"measures": [{**MEASURE, "frequency": "hourly"}]},
                {"measures": [{**MEASURE, "check_item": "项" * 501}]},
                {"measures": [{**MEASURE, "id": 1}]}, {"extra": 1}):
        response = add_point(client, auth, expect=422, **bad)
        assert response["detail"], bad
