"""The whole closed loop over HTTP, for a general and a major hazard."""

from sqlalchemy.orm import Session

from app.models import Unit
from app.services.hazards.timeline import verify_chains
from tests.api.helpers import PLAN, act, in_days, ok, report


def set_rate(client, auth, rate: str) -> None:
    response = client.put("/api/v1/spot-check-policy", json={"rate": rate},
                          headers=auth("anweiban"))
    assert response.status_code == 200, response.text


def test_general_hazard_loop_with_spot_check(client, auth, db: Session, users) -> None:
    set_rate(client, auth, "1")
    hazard = report(client, auth, "ent_a")
    assert hazard["state"] == "reported"
    assert hazard["code"].startswith("YH-339901-2026-")
    assert len(hazard["photos"]) == 1
    hid = hazard["id"]

    assigned = ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(10)}))
    assert assigned["state"] == "assigned"
    assert assigned["deadline"] == in_days(10)
    parties = {(a["party_type"], a["party_id"], a["duty"]) for a in assigned["assignments"]}
    department = db.query(Unit).filter_by(name="演示县应急管理局").one()
    township = db.query(Unit).filter_by(name="城关镇安全生产办公室").one()
    assert parties == {
        ("enterprise", hazard["enterprise_id"], "rectify"),
        ("unit", department.id, "supervise"),
        ("unit", township.id, "supervise"),
    }
    assert all(a["deadline"] == in_days(10) for a in assigned["assignments"])

    assert ok(act(client, auth, "ent_a", hid, "accept"))["state"] == "rectifying"
    submitted = ok(act(client, auth, "ent_a", hid, "submit", {"note": "已重新接地并检测合格"},
                       photos=2))
    assert submitted["state"] == "rectified"
    verified = ok(act(client, auth, "insp_town", hid, "verify", {"note": "现场复核合格"},
                      photos=1))
    assert verified["state"] == "verified"
    assert verified["spot_check_drawn"] is True
    # Drawn: it may not be closed before the spot-check.
    assert act(client, auth, "anweiban", hid, "close").status_code == 409
    checked = ok(act(client, auth, "anweiban", hid, "spot_check", {"note": "抽查合格"}, photos=1))
    assert checked["state"] == "spot_checked"
    closed = ok(act(client, auth, "anweiban", hid, "close", {"note": "同意销号"}))
    assert closed["state"] == "closed"
    assert len(closed["photos"]) == 5

    events = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("ent_a")).json()
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [
        ("report", None, "reported"),
        ("assign", "reported", "assigned"),
        ("accept", "assigned", "rectifying"),
        ("submit", "rectifying", "rectified"),
        ("verify", "rectified", "verified"),
        ("sample", "verified", "verified"),
        ("spot_check", "verified", "spot_checked"),
        ("close", "spot_checked", "closed"),
    ]
    assert events[4]["actor_id"] == users["insp_town"].id
    assert events[4]["actor_role"] == "inspector"
    assert len(events[3]["photo_ids"]) == 2
    assert events[5]["data"]["drawn"] is True
    assert events[0]["at"].endswith("+08:00")
    assert list(verify_chains(db)) == []


def test_general_hazard_not_drawn_is_closed_without_spot_check(client, auth) -> None:
    set_rate(client, auth, "0")
    hid = report(client, auth, "ent_b")["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(5)}))
    ok(act(client, auth, "ent_b", hid, "accept"))
    ok(act(client, auth, "ent_b", hid, "submit", {"note": "已整改"}, photos=1))
    verified = ok(act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1))
    assert verified["spot_check_drawn"] is False
    closed = ok(act(client, auth, "anweiban", hid, "close"))
    assert closed["state"] == "closed"
    events = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("anweiban")).json()
    draw, close = events[-2], events[-1]
    assert draw["action"] == "sample" and draw["data"]["drawn"] is False
    assert close["from_state"] == "verified"
    assert close["data"]["closed_without_spot_check"]


def test_major_hazard_loop_with_plan_and_failed_spot_check(client, auth, users) -> None:
    set_rate(client, auth, "0")  # majors are drawn whatever the rate
    hazard = report(client, auth, "insp_dept", level="major", enterprise_id=_ent_a(client, auth),
                    major_clause="工贸行业重大事故隐患判定标准 第四条第（一）项")
    hid = hazard["id"]
    assert hazard["level"] == "major"
    ok(act(client, auth, "anweiban", hid, "assign", {"deadline": in_days(30)}))

    missing_plan = act(client, auth, "ent_a", hid, "accept")
    assert missing_plan.status_code == 422
    missing = {tuple(err["loc"])[-1] for err in missing_plan.json()["detail"]}
    assert missing == {"plan_owner", "plan_measures", "plan_funds", "plan_deadline",
                       "plan_contingency"}
    accepted = ok(act(client, auth, "ent_a", hid, "accept", PLAN))
    assert accepted["plan"]["owner"] == PLAN["plan_owner"]
    assert accepted["plan"]["funds"] == "85000"

    ok(act(client, auth, "ent_a", hid, "submit", {"note": "已更换"}, photos=1))
    verified = ok(act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1))
    assert verified["spot_check_drawn"] is True
    failed = ok(act(client, auth, "anweiban", hid, "spot_check_fail",
                    {"reason": "联锁装置未接入", "deadline": in_days(40)}, photos=1))
    assert failed["state"] == "rectifying"
    assert failed["deadline"] == in_days(40)

    events = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("anweiban")).json()
    fail_event = events[-1]
    assert fail_event["action"] == "spot_check_fail"
    record = fail_event["data"]["failed_verification"]
    assert record["verifier_id"] == users["insp_dept"].id
    assert fail_event["data"]["deadline"] == {"from": in_days(30), "to": in_days(40)}

    ok(act(client, auth, "ent_a", hid, "submit", {"note": "已接入联锁"}, photos=1))
    ok(act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1))
    ok(act(client, auth, "anweiban", hid, "spot_check", {"note": "合格"}, photos=1))
    assert ok(act(client, auth, "anweiban", hid, "close"))["state"] == "closed"


def test_reject_needs_a_reason(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    assert act(client, auth, "insp_town", hid, "reject", {"reason": "  "}).status_code == 422
    rejected = ok(act(client, auth, "insp_town", hid, "reject", {"reason": "重复上报"}))
    assert rejected["state"] == "rejected"
    assert act(client, auth, "insp_town", hid, "assign",
               {"deadline": in_days(3)}).status_code == 409


def _ent_a(client, auth) -> int:
    return client.get("/api/v1/me", headers=auth("ent_a")).json()["enterprise_id"]


def test_return_sends_the_hazard_back_with_a_new_deadline(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(3)}))
    ok(act(client, auth, "ent_a", hid, "accept"))
    ok(act(client, auth, "ent_a", hid, "submit", {"note": "已整改"}, photos=1))
    returned = ok(act(client, auth, "insp_town", hid, "return",
                      {"reason": "接地电阻仍超标", "deadline": in_days(8)}, photos=1))
    assert returned["state"] == "rectifying"
    assert returned["deadline"] == in_days(8)
    assert {a["deadline"] for a in returned["assignments"]} == {in_days(8)}
    resubmitted = ok(act(client, auth, "ent_a", hid, "submit", {"note": "已复测合格"}, photos=1))
    assert resubmitted["state"] == "rectified"
    events = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("ent_a")).json()
    back = next(e for e in events if e["action"] == "return")
    assert back["note"] == "接地电阻仍超标"
    assert back["data"]["deadline"] == {"from": in_days(3), "to": in_days(8)}
