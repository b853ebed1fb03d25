"""The provincial exchange: one day's risk points, measures, check records and hazards."""

import pytest

from app.services.checks.tasks import generate_tasks
from tests.api.helpers import PLAN, act, in_days, neighbouring_county, ok, report
from tests.api.test_checks import add_point, answer


def day_of(client, headers, **params):
    response = client.get("/api/v1/exchange/daily", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_day_carries_the_chain_from_risk_object_to_hazard(client, auth, db, clock) -> None:
    today = clock.now().date().isoformat()
    point = add_point(client, auth, level="major")
    generate_tasks(db, clock)
    task = client.get("/api/v1/check-tasks", headers=auth("ent_a")).json()["items"][0]
    found = ok(answer(client, auth, task["id"], [
        {"item_id": task["items"][0]["id"], "outcome": "hazard", "note": "泄爆口遮挡",
         "photos": 1}]))
    hazard_id = found["items"][0]["hazard_id"]
    ok(act(client, auth, "insp_dept", hazard_id, "assign", {"deadline": in_days(5)}))
    ok(act(client, auth, "ent_a", hazard_id, "accept"))
    ok(act(client, auth, "ent_a", hazard_id, "submit", {"note": "清理泄爆口并加装护栏"},
           photos=1))
    ok(act(client, auth, "insp_dept", hazard_id, "verify", {"note": "复查合格"}, photos=1))
    body = day_of(client, auth("anweiban"), date=today)
    assert body["format"] == "bihuan-exchange/1" and body["date"] == today
    eid = point["enterprise_id"]
    assert [e["enterprise_id"] for e in body["enterprises"]] == [eid]
    assert body["enterprises"][0]["uscc"] == "91339901MA2B00001F"
    (risk,) = body["risk_objects"]
    assert risk["risk_object_id"] == point["id"] and risk["risk_level"] == 1
    assert risk["measures"][0]["check_item"] == point["measures"][0]["check_item"]
    (record,) = body["check_records"]
    assert record["risk_object_id"] == point["id"] and record["result"] == 1
    assert record["hazard_id"] == hazard_id and record["on_time"] is True
    (hazard,) = body["hazards"]
    assert (hazard["level"], hazard["source"], hazard["state"]) == (0, "self_check", 1)
    assert hazard["measures"] == "清理泄爆口并加装护栏"
    assert hazard["acceptance_comment"] == "复查合格" and hazard["acceptance_person"]
    assert hazard["acceptance_time"] is not None and hazard["deadline"] == in_days(5)
    assert len(hazard["before_photos"]) == 1 and len(hazard["after_photos"]) == 1
    assert hazard["before_photos"][0]["url"].startswith("/api/v1/photos/")
    # Another day holds none of it; yesterday is the default.
    assert day_of(client, auth("anweiban"))["hazards"] == []


def test_a_major_hazards_plan_fills_cost_and_liable_person(client, auth) -> None:
    hazard = report(client, auth, "ent_a", level="major", major_clause="第三条（一）")
    ok(act(client, auth, "insp_dept", hazard["id"], "assign", {"deadline": in_days(20)}))
    ok(act(client, auth, "ent_a", hazard["id"], "accept", PLAN))
    (row,) = day_of(client, auth("admin"), date=in_days(0))["hazards"]
    assert row["level"] == 1 and row["state"] == 0
    assert row["liable_person"] == PLAN["plan_owner"] and float(row["cost"]) == 85000
    assert row["measures"] == PLAN["plan_measures"]


@pytest.mark.parametrize(("username", "status"), [
    ("ent_a", 403), ("insp_town", 403), ("insp_dept", 403), ("anweiban", 200),
    ("admin", 200)])
def test_who_may_export(client, auth, username, status) -> None:
    report(client, auth, "ent_a")
    response = client.get("/api/v1/exchange/daily", params={"date": in_days(0)},
                          headers=auth(username))
    assert response.status_code == status


def test_another_county_exports_none_of_ours_and_dates_are_bounded(client, auth, db,
                                                                   clock) -> None:
    report(client, auth, "ent_a")
    _, _, headers = neighbouring_county(db, clock)
    db.commit()
    other = day_of(client, headers, date=in_days(0))
    assert other["hazards"] == [] and other["enterprises"] == []
    for bad in (in_days(1), "1999-12-31", "x"):
        response = client.get("/api/v1/exchange/daily", params={"date": bad},
                              headers=auth("anweiban"))
        assert response.status_code == 422, bad
