"""The 排查 side over HTTP (docs/api.md v1.1): risk register, check tasks, sweeps."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.models import CheckItemPhoto, Hazard, Industry, Region
from app.services.checks import safety_code
from app.services.checks.tasks import generate_tasks
from tests.api.helpers import Auth, in_days, report
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
    kwargs.setdefault("headers", auth(username))
    return client.post(url.format(id=task_id), data=data, files=files or None, **kwargs)


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
                [{"item_id": "x", "outcome": "ok"}], [{"item_id": "①", "outcome": "ok"}],
                [{"item_id": str(2**31), "outcome": "ok"}],
                [{"item_id": item, "outcome": "ok", "note": "字" * 2001}],
                [{"item_id": item, "outcome": "ok"}, {"item_id": item, "outcome": "ok"}]):
        response = answer(client, auth, task["id"], bad)
        assert response.status_code == 422, (bad, response.text)
    assert answer(client, auth, 10**15, [{"item_id": item, "outcome": "ok"}]).status_code == 404


def sweep_body(db, **fields: Any) -> dict[str, Any]:
    county = db.scalars(select(Region).where(Region.level == "county")).first()
    jixie = db.scalars(select(Industry).where(Industry.code == "jixie")).one()
    return {"region_id": county.id, "industry_id": jixie.id, "deadline": in_days(10),
            "items": ["冲压设备双手按钮与光电保护是否有效", "设备防护罩是否完好"], **fields}


def launch(client: TestClient, auth: Auth, hazard_id: int, body: dict[str, Any],
           username: str = "anweiban", expect: int = 201) -> dict[str, Any]:
    response = client.post(f"/api/v1/hazards/{hazard_id}/sweeps", json=body,
                           headers=auth(username))
    assert response.status_code == expect, response.text
    return response.json()


def sweep_task(client: TestClient, auth: Auth, username: str, sweep_id: int) -> dict[str, Any]:
    listed = client.get("/api/v1/check-tasks", headers=auth(username)).json()["items"]
    return next(t for t in listed if t["sweep_id"] == sweep_id)


def test_a_sweep_reaches_the_industry_and_counts_answers(client, auth, db, clock) -> None:
    hazard = report(client, auth, "ent_a")
    sweep = launch(client, auth, hazard["id"], sweep_body(db))
    assert (sweep["enterprises"], sweep["answered"], sweep["hazards_found"],
            sweep["overdue"]) == (2, 0, 0, 0)
    events = client.get(f"/api/v1/hazards/{hazard['id']}/events",
                        headers=auth("anweiban")).json()
    assert events[-1]["action"] == "sweep"
    assert events[-1]["from_state"] == events[-1]["to_state"] == "reported"
    task = sweep_task(client, auth, "ent_b", sweep["id"])
    assert [i["content"] for i in task["items"]] == sweep["items"]
    assert task["due_on"] == in_days(10) and task["kind"] == "sweep"
    first, second = (i["id"] for i in task["items"])
    url = "/api/v1/sweeps/{id}/answers"
    done = answer(client, auth, sweep["id"], [
        {"item_id": first, "outcome": "ok"},
        {"item_id": second, "outcome": "hazard", "note": "3号冲床防护罩缺失", "photos": 1}],
        "ent_b", url)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done"
    found = done.json()["items"][1]["hazard_id"]
    shown = client.get(f"/api/v1/sweeps/{sweep['id']}", headers=auth("anweiban")).json()
    assert (shown["enterprises"], shown["answered"], shown["hazards_found"],
            shown["hazard_ids"]) == (2, 1, 1, [found])
    # ent_b sees only its own figures; it cannot see ent_a's hazard the sweep came from.
    own = client.get(f"/api/v1/sweeps/{sweep['id']}", headers=auth("ent_b")).json()
    assert (own["enterprises"], own["answered"]) == (1, 1)
    clock.advance(timedelta(days=11))
    late = client.get(f"/api/v1/sweeps/{sweep['id']}", headers=auth("anweiban")).json()
    assert late["overdue"] == 1
    again = answer(client, auth, sweep["id"], [{"item_id": first, "outcome": "ok"}], "ent_b",
                   url)
    assert again.status_code == 409


def test_a_sweep_stays_within_the_launchers_reach(client, auth, db) -> None:
    hazard = report(client, auth, "ent_a")
    launch(client, auth, hazard["id"], sweep_body(db), "insp_town", expect=422)
    town1 = db.scalars(select(Region).where(Region.code == "339901100000")).one()
    sweep = launch(client, auth, hazard["id"], sweep_body(db, region_id=town1.id), "insp_town")
    assert sweep["enterprises"] == 1
    task = sweep_task(client, auth, "ent_a", sweep["id"])
    outsider = answer(client, auth, sweep["id"],
                      [{"item_id": task["items"][0]["id"], "outcome": "ok"}], "ent_b",
                      "/api/v1/sweeps/{id}/answers")
    assert outsider.status_code == 404
    assert client.get(f"/api/v1/sweeps/{sweep['id']}", headers=auth("ent_b")).status_code == 404
    launch(client, auth, hazard["id"], sweep_body(db), "ent_a", expect=403)
    launch(client, auth, hazard["id"], sweep_body(db), "ent_b", expect=404)
    assert client.get("/api/v1/sweeps/999999", headers=auth("anweiban")).status_code == 404


def test_a_sweep_to_nobody_or_out_of_bounds_is_refused(client, auth, db) -> None:
    hazard = report(client, auth, "ent_a")
    other = db.scalars(select(Industry).where(Industry.code != "jixie")).first()
    empty = launch(client, auth, hazard["id"], sweep_body(db, industry_id=other.id),
                   expect=422)
    assert "没有" in empty["detail"][0]["msg"]
    for bad in ({"deadline": in_days(-1)}, {"deadline": in_days(3 * 366 + 1)}, {"items": []},
                {"items": ["项"] * 51}, {"items": ["项" * 501]}, {"region_id": 0},
                {"region_id": 2**31}, {"industry_id": 10**6}, {"deadline": "soon"}):
        launch(client, auth, hazard["id"], sweep_body(db, **bad), expect=422)


def test_hazards_of_one_answer_are_reported_together_or_not_at_all(client, auth, db,
                                                                   clock) -> None:
    hazard = report(client, auth, "ent_a")
    sweep = launch(client, auth, hazard["id"], sweep_body(db))
    task = sweep_task(client, auth, "ent_b", sweep["id"])
    before = db.scalar(select(func.count()).select_from(Hazard))
    data = {}
    for index, item in enumerate(task["items"]):
        data |= {f"results[{index}].item_id": str(item["id"]),
                 f"results[{index}].outcome": "hazard", f"results[{index}].note": "问题"}
    files = [("results[0].photos", photo()[1]),
             ("results[1].photos", ("x.jpg", b"not an image", "image/jpeg"))]
    response = client.post(f"/api/v1/sweeps/{sweep['id']}/answers", data=data, files=files,
                           headers=auth("ent_b"))
    assert response.status_code == 415, response.text
    assert db.scalar(select(func.count()).select_from(Hazard)) == before
    assert all(i["outcome"] is None for i in sweep_task(client, auth, "ent_b",
                                                       sweep["id"])["items"])


def test_the_safety_code_leads_to_a_signed_page_with_name_and_colour(client, auth) -> None:
    eid = enterprise_id(client, auth, "ent_a")
    response = client.get(f"/api/v1/enterprises/{eid}/safety-code", headers=auth("ent_a"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert client.get(f"/api/v1/enterprises/{eid}/safety-code",
                      headers=auth("ent_b")).status_code == 404
    assert client.get(f"/api/v1/enterprises/{eid}/safety-code").status_code == 401
    path = safety_code.public_path(eid)
    page = client.get(path)  # no login
    assert page.status_code == 200 and "演示机械制造有限公司" in page.text
    assert "蓝色" in page.text  # no risk point yet
    add_point(client, auth, level="high")
    assert "橙色" in client.get(path).text
    report(client, auth, "ent_a", level="major", major_clause="第三条（一）")
    assert "红色" in client.get(path).text
    assert client.get(f"/safety/{eid}?s=forged").status_code == 404
    other = enterprise_id(client, auth, "ent_b")
    assert client.get(f"/safety/{other}?s={path.split('=')[1]}").status_code == 404


def test_a_retried_answer_records_once(client, auth, db, clock) -> None:
    task = scheduled(client, auth, db, clock)
    before = db.scalar(select(func.count()).select_from(Hazard))
    data = {"results[0].item_id": str(task["items"][0]["id"]), "results[0].outcome": "hazard",
            "results[0].note": "泄爆口遮挡"}
    files = [("results[0].photos", photo()[1])]  # the same bytes, sent twice
    headers = {**auth("ent_a"), "Idempotency-Key": "6f1c2a8e-check-retry"}
    url = f"/api/v1/check-tasks/{task['id']}/results"
    first = client.post(url, data=data, files=files, headers=headers)
    retry = client.post(url, data=data, files=files, headers=headers)
    assert first.status_code == retry.status_code == 200, retry.text
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json() == first.json()
    assert db.scalar(select(func.count()).select_from(Hazard)) == before + 1


def test_a_photo_may_go_with_nothing_found_and_a_bad_one_records_nothing(client, auth, db,
                                                                         clock) -> None:
    task = scheduled(client, auth, db, clock)
    item = task["items"][0]["id"]
    url = f"/api/v1/check-tasks/{task['id']}/results"
    fields = {"results[0].item_id": str(item), "results[0].outcome": "ok"}
    bad = client.post(url, data=fields, headers=auth("ent_a"),
                      files=[("results[0].photos", ("x.jpg", b"not an image", "image/jpeg"))])
    assert bad.status_code in (413, 415), bad.text
    assert db.scalar(select(func.count()).select_from(CheckItemPhoto)) == 0
    response = answer(client, auth, task["id"], [{"item_id": item, "outcome": "ok",
                                                  "photos": 2}])
    assert response.status_code == 200, response.text
    recorded = response.json()["items"][0]
    assert recorded["outcome"] == "ok" and recorded["photos"] == 2
    assert recorded["hazard_id"] is None
    assert db.scalar(select(func.count()).select_from(Hazard)) == 0
