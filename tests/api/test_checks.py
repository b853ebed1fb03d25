"""The 排查 side over HTTP (docs/api.md v1.1): risk register, check tasks, sweeps."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.services.checks.tasks import generate_tasks
from tests.api.helpers import Auth
from tests.samples import photo

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


def scheduled(client: TestClient, auth: Auth, db, clock, username: str = "ent_a",
              **fields: Any) -> dict[str, Any]:
    """A risk point of `username`'s enterprise and its task of today, made by the worker's
    generation."""
    point = add_point(client, auth, username, **fields)
    generate_tasks(db, clock)
    listed = client.get("/api/v1/check-tasks", params={"state": "due"}, headers=auth(username))
    assert listed.status_code == 200, listed.text
    mine = [t for t in listed.json()["items"] if t["risk_point_id"] == point["id"]]
    assert len(mine) == 1
    return mine[0]


def answer(client: TestClient, auth: Auth, task_id: int, results: list[dict[str, Any]],
           username: str = "ent_a", url: str = "/api/v1/check-tasks/{id}/results",
           **kwargs: Any) -> Any:
    data, files = {}, []
    for index, result in enumerate(results):
        for key in ("item_id", "outcome", "note"):
            if key in result:
                data[f"results[{index}].{key}"] = str(result[key])
        for _ in range(result.get("photos", 0)):
            files.append((f"results[{index}].photos", photo()[1]))
    return client.post(url.format(id=task_id), data=data, files=files or None,
                       headers=auth(username), **kwargs)


def test_a_task_is_done_item_by_item_and_a_hazard_is_reported(client, auth, db, clock) -> None:
    task = scheduled(client, auth, db, clock)
    assert task["state"] == "due" and task["due_on"] == "2026-11-23"
    assert len(task["items"]) == 1 and task["items"][0]["content"] == MEASURE["check_item"]
    item = task["items"][0]["id"]
    missing_photo = answer(client, auth, task["id"], [{"item_id": item, "outcome": "hazard"}])
    assert missing_photo.status_code == 422
    assert "photos" in missing_photo.json()["detail"][0]["loc"][1]
    done = answer(client, auth, task["id"], [{"item_id": item, "outcome": "hazard",
                                              "note": "泄爆口被杂物遮挡", "photos": 1}])
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["state"] == "done" and body["items"][0]["outcome"] == "hazard"
    hazard_id = body["items"][0]["hazard_id"]
    hazard = client.get(f"/api/v1/hazards/{hazard_id}", headers=auth("insp_dept")).json()
    assert hazard["state"] == "reported" and hazard["enterprise_id"] == task["enterprise_id"]
    assert len(hazard["photos"]) == 1
    events = client.get(f"/api/v1/hazards/{hazard_id}/events", headers=auth("ent_a")).json()
    assert [e["action"] for e in events] == ["report"]
    # Recorded once: a second answer is refused.
    again = answer(client, auth, task["id"], [{"item_id": item, "outcome": "ok"}])
    assert again.status_code == 409
    listed = client.get("/api/v1/check-tasks", params={"state": "done"}, headers=auth("ent_a"))
    assert task["id"] in [t["id"] for t in listed.json()["items"]]


def test_nothing_found_is_a_record_and_overdue_is_counted(client, auth, db, clock) -> None:
    task = scheduled(client, auth, db, clock)
    clock.advance(timedelta(days=1))
    overdue = client.get("/api/v1/check-tasks", params={"state": "overdue"},
                         headers=auth("anweiban")).json()["items"]
    assert task["id"] in [t["id"] for t in overdue]
    response = answer(client, auth, task["id"],
                      [{"item_id": task["items"][0]["id"], "outcome": "ok"}])
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "done" and response.json()["items"][0]["hazard_id"] is None


def test_only_the_enterprise_answers_its_own_tasks(client, auth, db, clock) -> None:
    task = scheduled(client, auth, db, clock)
    item = task["items"][0]["id"]
    assert answer(client, auth, task["id"], [{"item_id": item, "outcome": "ok"}],
                  "ent_b").status_code == 404
    assert answer(client, auth, task["id"], [{"item_id": item, "outcome": "ok"}],
                  "insp_dept").status_code == 403
    listed = client.get("/api/v1/check-tasks", headers=auth("ent_b")).json()["items"]
    assert task["id"] not in [t["id"] for t in listed]
    b_task = scheduled(client, auth, db, clock, "ent_b")
    # An item of another enterprise's task: 404, as if it did not exist.
    foreign = answer(client, auth, task["id"],
                     [{"item_id": b_task["items"][0]["id"], "outcome": "ok"}])
    assert foreign.status_code == 404
    assert client.get("/api/v1/check-tasks", params={"enterprise_id": b_task["enterprise_id"]},
                      headers=auth("ent_a")).json()["items"] == []


def test_results_are_validated(client, auth, db, clock) -> None:
    task = scheduled(client, auth, db, clock)
    item = task["items"][0]["id"]
    for bad in ([], [{"item_id": item}], [{"item_id": item, "outcome": "maybe"}],
                [{"item_id": "x", "outcome": "ok"}],
                [{"item_id": item, "outcome": "ok", "note": "字" * 2001}],
                [{"item_id": item, "outcome": "ok"}, {"item_id": item, "outcome": "ok"}]):
        response = answer(client, auth, task["id"], bad)
        assert response.status_code == 422, (bad, response.text)
    assert answer(client, auth, 10**15, [{"item_id": item, "outcome": "ok"}]).status_code == 404
