"""Evaluation before review of a listed major hazard, the 10-day review, and the dossier."""

from datetime import date, timedelta

from sqlalchemy import text

from app.core.clock import local_today
from app.services.supervision.scans import supervise_hazard
from tests.api.helpers import PLAN, act, in_days, ok, report
from tests.samples import photo

LISTING = {"level": "county", "authority": "演示县安委办", "document_number": "演安委〔2026〕9号"}


def listed_and_rectified(client, auth) -> int:
    hid = report(client, auth, "ent_a", level="major", major_clause="第四条（一）")["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(20)}))
    assert client.post(f"/api/v1/hazards/{hid}/listing", data=LISTING,
                       headers=auth("anweiban")).status_code == 200
    ok(act(client, auth, "ent_a", hid, "accept", PLAN))
    ok(act(client, auth, "ent_a", hid, "submit", {"note": "已整改"}, photos=1))
    return hid


def evaluate(client, auth, hid: int, **fields: str):
    data = {"kind": "third_party", "summary": "整改措施有效，隐患已消除",
            "evaluator": "某某安全评价有限公司", **fields}
    return client.post(f"/api/v1/hazards/{hid}/evaluations", data=data, files=[photo()],
                       headers=auth("ent_a"))


def test_listed_major_hazard_is_evaluated_before_review(client, auth) -> None:
    hid = listed_and_rectified(client, auth)
    early = act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1)
    assert early.status_code == 409
    assert "评估" in early.json()["detail"]
    assert evaluate(client, auth, hid, evaluator="").status_code == 422
    assert client.post(f"/api/v1/hazards/{hid}/evaluations", data={"kind": "self",
                       "summary": "x"}, headers=auth("insp_dept")).status_code == 403
    assert evaluate(client, auth, hid).status_code == 200
    verified = ok(act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1))
    assert verified["state"] == "verified"
    events = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("anweiban")).json()
    verify = next(e for e in events if e["action"] == "verify")
    assert "review_late" not in verify["data"]


def test_a_late_review_is_flagged_by_the_worker_and_on_the_verification(
        client, auth, db, clock) -> None:
    hid = listed_and_rectified(client, auth)
    assert evaluate(client, auth, hid).status_code == 200
    clock.advance(timedelta(days=10))
    assert supervise_hazard(db, hid, now=clock.now(), today=local_today(clock)) == []
    clock.advance(timedelta(days=1))
    today = local_today(clock)
    assert supervise_hazard(db, hid, now=clock.now(), today=today) == ["review_overdue"]
    assert supervise_hazard(db, hid, now=clock.now(), today=today) == []
    verified = ok(act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1))
    events = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("anweiban")).json()
    verify = next(e for e in events if e["action"] == "verify")
    assert verify["data"]["review_late"]["days_late"] == 1
    assert verify["actor_unit_id"] is not None
    assert verified["state"] == "verified"
    assert today == date(2026, 12, 4)


def test_dossier_json_and_printable_page(client, auth) -> None:
    hid = listed_and_rectified(client, auth)
    evaluate(client, auth, hid)
    data = client.get(f"/api/v1/hazards/{hid}/dossier", headers=auth("anweiban")).json()
    assert data["hazard"]["id"] == hid
    assert data["criterion"]["major_clause"] == "第四条（一）"
    assert data["plan"]["owner"] == PLAN["plan_owner"]
    assert data["listing"]["document_number"] == "演安委〔2026〕9号"
    assert [e["data"]["kind"] for e in data["evaluations"]] == ["third_party"]
    assert data["chain_intact"] is True
    assert [e["action"] for e in data["timeline"]][:2] == ["report", "assign"]
    assert data["write_off"] is None
    page = client.get(f"/api/v1/hazards/{hid}/dossier", params={"format": "html"},
                      headers=auth("ent_a"))
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "重大事故隐患档案" in html and "演安委〔2026〕9号" in html
    assert html.count("data:image/jpeg;base64,") >= 3  # report, submit and evaluation photos
    assert "哈希链校验通过" in html
    # Scoped like the hazard; general hazards have no dossier.
    assert client.get(f"/api/v1/hazards/{hid}/dossier", headers=auth("ent_b")).status_code == 404
    general = report(client, auth, "ent_a")["id"]
    assert client.get(f"/api/v1/hazards/{general}/dossier",
                      headers=auth("ent_a")).status_code == 404


def test_a_report_may_cite_a_catalogue_entry(client, auth) -> None:
    found = client.get("/api/v1/criteria", params={"q": "特种作业人员"},
                       headers=auth("ent_a")).json()["items"]
    entry = found[0]
    hazard = report(client, auth, "ent_a", level="major", criterion_id=str(entry["id"]))
    assert hazard["criterion_id"] == entry["id"]
    report(client, auth, "ent_a", level="major", criterion_id="999999", expect=422)
    data = client.get(f"/api/v1/hazards/{hazard['id']}/dossier", headers=auth("ent_a")).json()
    assert data["criterion"]["entry"]["citation"] == entry["citation"]
    assert data["criterion"]["entry"]["text"] == entry["text"]
    page = client.get(f"/api/v1/hazards/{hazard['id']}/dossier", params={"format": "html"},
                      headers=auth("ent_a")).text
    assert entry["text"] in page


def test_the_dossier_says_a_chain_ending_before_its_head_is_not_intact(client, auth,
                                                                       db) -> None:
    """The newest events deleted leave a chain that verifies alone: the head tells."""
    hid = report(client, auth, "ent_a", level="major", major_clause="第四条（一）")["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(20)}))
    url = f"/api/v1/hazards/{hid}/dossier"
    assert client.get(url, headers=auth("anweiban")).json()["chain_intact"] is True
    # As if the assign event's successors were deleted: the row's head is past the chain.
    db.execute(text("UPDATE hazard SET head_seq = head_seq + 1 WHERE id = :h"), {"h": hid})
    db.expire_all()
    assert client.get(url, headers=auth("anweiban")).json()["chain_intact"] is False
