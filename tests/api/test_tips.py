"""Public tips over HTTP (docs/api.md v1.1 "Public tips"): a tip without an account, the
receipt that tells nothing more, the rate limit, routing, triage and rewards."""

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import RewardTier
from app.models import Enterprise, OutboxMessage, Region, Tip, TipEvent, TipRefusal
from app.models.enums import HazardLevel
from app.services.tips.rewards import compute_reward
from app.services.tips.timeline import broken_links
from tests.api.helpers import TODAY, act, in_days, ok, report
from tests.samples import phone_jpeg, photo

PHONE = "13812345678"
NEAR_A = {"lat": "29.8021", "lon": "119.6912"}  # a few metres from 演示机械制造有限公司


def tip(client: TestClient, *, photos: int = 1, expect: int = 201,
        **fields: Any) -> dict[str, Any]:
    data = {"description": "仓库安全出口被货物堵死，晚上还锁着", "location": "工业园区一号门东侧",
            **fields}
    response = client.post("/api/v1/tips", data=data,
                           files=[photo() for _ in range(photos)] or None)
    assert response.status_code == expect, response.text
    return response.json()


def tip_id_of(db: Session, receipt: str) -> int:
    return db.scalars(select(Tip.id).where(Tip.receipt == receipt)).one()


def status_of(client: TestClient, receipt: str) -> dict[str, Any]:
    return ok(client.get(f"/api/v1/tips/receipt/{receipt}"))


def township(db: Session, code: str) -> Region:
    return db.scalars(select(Region).where(Region.code == code)).one()


def test_a_tip_needs_no_account_and_answers_an_unguessable_receipt(client) -> None:
    first = tip(client, phone=PHONE, **NEAR_A)
    assert set(first) == {"receipt", "status"}
    assert first["status"] == "received"
    second = tip(client)
    assert first["receipt"] != second["receipt"]
    # secrets.token_urlsafe(16): 22 characters of 6 bits = 128 bits (≥ 80 required).
    assert len(first["receipt"]) >= 22


@pytest.mark.parametrize(("fields", "photos", "field"), [
    ({}, 0, "photos"),
    ({"description": ""}, 1, "description"),
    ({"location": ""}, 1, "location"),
    ({"lat": "91"}, 1, "lat"),
    ({"phone": "call me"}, 1, "phone"),
])
def test_a_tip_without_what_where_or_a_photo_is_refused(client, fields, photos, field) -> None:
    body = tip(client, photos=photos, expect=422, **fields)
    assert field in json.dumps(body["detail"])


def test_a_tip_that_is_not_a_photo_is_refused(client) -> None:
    response = client.post("/api/v1/tips", data={"description": "x", "location": "y"},
                           files=[photo("a.jpg", b"not an image at all", "image/jpeg")])
    assert response.status_code == 415, response.text


def test_the_receipt_tells_the_status_and_nothing_else(client, auth, db, users) -> None:
    receipt = tip(client, phone=PHONE, enterprise_name="演示机械制造", **NEAR_A)["receipt"]
    body = status_of(client, receipt)
    assert set(body) == {"status", "outcome", "updated_at"}
    assert body["status"] == "received"
    tid = tip_id_of(db, receipt)
    ok(client.post(f"/api/v1/tips/{tid}/actions/convert",
                   data={"title": "安全出口堵塞", "level": "general"}, headers=auth("anweiban")))
    body = status_of(client, receipt)
    assert body["status"] == "converted"
    text = json.dumps(body, ensure_ascii=False)
    for secret in (PHONE, "演示机械制造", "县安委办", "anweiban", "YH-",
                   str(users["anweiban"].id), "二号"):
        assert secret not in text
    # An unknown receipt and a malformed one: the same 404, no hint of other tips.
    for wrong in ("x" * 22, receipt[:-1], "a" * 300):
        response = client.get(f"/api/v1/tips/receipt/{wrong}")
        assert response.status_code == 404
        assert response.json() == {"detail": "查询码不存在"}


def test_tips_are_rate_limited_per_source_address(client, settings, clock) -> None:
    settings.tip_rate_limit, settings.tip_rate_window_minutes = 2, 60
    tip(client)
    clock.advance(timedelta(minutes=10))
    tip(client)
    response = client.post("/api/v1/tips", data={"description": "再来一条", "location": "某处"},
                           files=[photo()])
    assert response.status_code == 429
    # The oldest of the window drops out 50 minutes from now.
    assert response.headers["Retry-After"] == str(50 * 60)
    clock.advance(timedelta(minutes=50))
    tip(client)
    # Another address has its own allowance.
    other = TestClient(client.app, client=("203.0.113.9", 5000))
    assert other.post("/api/v1/tips", data={"description": "别处", "location": "某处"},
                      files=[photo()]).status_code == 201


def test_tips_are_rate_limited_per_phone_number_too(client, settings) -> None:
    settings.tip_rate_limit = 2
    tip(client, phone=PHONE)
    other = TestClient(client.app, client=("203.0.113.10", 5000))
    tip(other, phone="138-1234 5678")  # the same number, typed otherwise
    third = TestClient(client.app, client=("203.0.113.11", 5000))
    refused = third.post("/api/v1/tips", data={"description": "换个地址", "location": "某处",
                                               "phone": PHONE}, files=[photo()])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    tip(third, phone="13900000000")


def test_routing_by_gps_named_enterprise_or_township(client, auth, db) -> None:
    ent_a = db.scalars(select(Enterprise).where(Enterprise.name == "演示机械制造有限公司")).one()
    ent_b = db.scalars(select(Enterprise).where(Enterprise.name == "清溪精密机械有限公司")).one()
    town2 = township(db, "339901101000")
    by_gps = db.get(Tip, tip_id_of(db, tip(client, **NEAR_A)["receipt"]))
    assert (by_gps.enterprise_id, by_gps.region_id) == (ent_a.id, ent_a.region_id)
    by_name = db.get(Tip, tip_id_of(db, tip(client, enterprise_name="清溪精密")["receipt"]))
    assert (by_name.enterprise_id, by_name.region_id) == (ent_b.id, ent_b.region_id)
    by_town = db.get(Tip, tip_id_of(db, tip(client, region_id=str(town2.id))["receipt"]))
    assert (by_town.enterprise_id, by_town.region_id) == (None, town2.id)
    county = township(db, "339901000000")
    assert by_gps.county_id == by_name.county_id == by_town.county_id == county.id
    assert tip(client, region_id=str(county.id), expect=422)["detail"][0]["loc"] == [
        "body", "region_id"]

    # The committee handles all; the 城关镇 office its township's; an enterprise none.
    def seen(username: str) -> set[int]:
        return {t["id"] for t in ok(client.get("/api/v1/tips", headers=auth(username)))}

    assert {by_gps.id, by_name.id, by_town.id} <= seen("anweiban")
    town_office = seen("insp_town")
    assert by_gps.id in town_office and by_name.id not in town_office
    assert by_town.id not in town_office
    assert by_name.id in seen("insp_dept")  # the department supervises 机械 in the county
    assert client.get("/api/v1/tips", headers=auth("ent_a")).status_code == 403
    assert client.get(f"/api/v1/tips/{by_gps.id}", headers=auth("ent_a")).status_code == 404
    assert client.get(f"/api/v1/tips/{by_town.id}",
                      headers=auth("insp_town")).status_code == 404


def test_convert_makes_a_public_hazard_the_enterprise_sees_without_the_tipster(
        client, auth, db) -> None:
    receipt = tip(client, phone=PHONE, **NEAR_A)["receipt"]
    tid = tip_id_of(db, receipt)
    staff = ok(client.get(f"/api/v1/tips/{tid}", headers=auth("insp_town")))
    assert staff["phone"] == PHONE and staff["status"] == "received"
    assert client.post(f"/api/v1/tips/{tid}/actions/convert", data={"title": "安全出口堵塞"},
                       headers=auth("ent_a")).status_code == 404
    refused = client.post(f"/api/v1/tips/{tid}/actions/convert", data={"title": "安全出口堵塞"},
                          headers=auth("anweiban"))
    assert refused.status_code == 422  # no level
    done = ok(client.post(f"/api/v1/tips/{tid}/actions/convert",
                          data={"title": "安全出口堵塞", "level": "general"},
                          headers=auth("anweiban")))
    assert set(done) == {"id", "status", "hazard_id"} and done["status"] == "converted"
    hid = done["hazard_id"]
    hazard = ok(client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")))
    assert hazard["source"] == "public" and hazard["tip_id"] == tid
    assert hazard["state"] == "reported" and len(hazard["photos"]) == 1
    assert hazard["location"] == "工业园区一号门东侧"
    events = ok(client.get(f"/api/v1/hazards/{hid}/events", headers=auth("ent_a")))
    listed = ok(client.get("/api/v1/hazards", headers=auth("ent_a")))
    ledger = client.get("/api/v1/hazards/ledger", params={"format": "csv"},
                        headers=auth("ent_a"))
    assert ledger.status_code == 200
    # Webhook payloads (to enterprises' systems too) come from the hazard's events.
    payloads = [m.payload for m in db.scalars(select(OutboxMessage)
                                              .where(OutboxMessage.hazard_id == hid))]
    assert payloads
    everything = json.dumps([hazard, events, listed, payloads], ensure_ascii=False)
    everything += ledger.content.decode("utf-8-sig")
    assert PHONE not in everything and receipt not in everything
    # Once triaged, a second action is a conflict.
    again = client.post(f"/api/v1/tips/{tid}/actions/reject", data={"reason": "重复"},
                        headers=auth("anweiban"))
    assert again.status_code == 409
    # An ordinary report says where it came from too.
    assert report(client, auth, "ent_a")["source"] == "report"

    # The loop runs as for any hazard; once closed the tipster reads 已办结.
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(5)}))
    ok(act(client, auth, "ent_a", hid, "accept"))
    ok(act(client, auth, "ent_a", hid, "submit", {"note": "已清理"}, photos=1))
    ok(client.put("/api/v1/spot-check-policy", json={"rate": "0"}, headers=auth("anweiban")))
    ok(act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1))
    assert ok(act(client, auth, "anweiban", hid, "close"))["state"] == "closed"
    closed = status_of(client, receipt)
    assert closed["status"] == "closed" and "已办结" in closed["outcome"]


def test_an_untriaged_tip_is_overdue_after_60_days(client, auth, db, clock) -> None:
    tid = tip_id_of(db, tip(client, **NEAR_A)["receipt"])
    shown = ok(client.get(f"/api/v1/tips/{tid}", headers=auth("anweiban")))
    assert shown["due_on"] == (TODAY + timedelta(days=60)).isoformat()
    assert shown["overdue"] is False
    clock.advance(timedelta(days=61))
    assert ok(client.get(f"/api/v1/tips/{tid}", headers=auth("anweiban")))["overdue"] is True
    listed = ok(client.get("/api/v1/tips", params={"status": "received"},
                           headers=auth("anweiban")))
    assert tid in {t["id"] for t in listed if t["overdue"]}


def test_duplicate_hints_name_open_hazards_and_tips_nearby(client, auth, db) -> None:
    hid = report(client, auth, "ent_a", lat=29.8021, lon=119.6912)["id"]
    elsewhere = report(client, auth, "ent_b")["id"]
    first = tip_id_of(db, tip(client, **NEAR_A)["receipt"])
    second = tip_id_of(db, tip(client, lat="29.8022", lon="119.6913")["receipt"])
    far = tip_id_of(db, tip(client, lat="29.7000", lon="119.9000")["receipt"])
    shown = ok(client.get(f"/api/v1/tips/{second}", headers=auth("anweiban")))
    assert hid in shown["similar_hazard_ids"] and elsewhere not in shown["similar_hazard_ids"]
    assert first in shown["similar_tip_ids"] and far not in shown["similar_tip_ids"]
    alone = ok(client.get(f"/api/v1/tips/{far}", headers=auth("anweiban")))
    assert alone["similar_hazard_ids"] == [] and alone["similar_tip_ids"] == []


def test_merge_and_reject(client, auth, db) -> None:
    hid = report(client, auth, "ent_a")["id"]
    merged = tip_id_of(db, tip(client, **NEAR_A)["receipt"])
    missing = client.post(f"/api/v1/tips/{merged}/actions/merge", data={"hazard_id": "999999"},
                          headers=auth("anweiban"))
    assert missing.status_code == 422
    done = ok(client.post(f"/api/v1/tips/{merged}/actions/merge", data={"hazard_id": str(hid)},
                          headers=auth("insp_town")))
    assert done == {"id": merged, "status": "merged", "hazard_id": hid}

    receipt = tip(client, **NEAR_A)["receipt"]
    rejected = tip_id_of(db, receipt)
    assert client.post(f"/api/v1/tips/{rejected}/actions/reject", data={},
                       headers=auth("anweiban")).status_code == 422
    assert client.post(f"/api/v1/tips/{rejected}/actions/ignore", data={},
                       headers=auth("anweiban")).status_code == 404
    ok(client.post(f"/api/v1/tips/{rejected}/actions/reject",
                   data={"reason": "现场核查未发现所述问题"}, headers=auth("anweiban")))
    body = status_of(client, receipt)
    assert body["status"] == "rejected" and "现场核查未发现所述问题" in body["outcome"]


def test_the_tips_own_timeline_is_hash_chained(client, auth, db) -> None:
    tid = tip_id_of(db, tip(client, **NEAR_A)["receipt"])
    ok(client.post(f"/api/v1/tips/{tid}/actions/reject", data={"reason": "不属实"},
                   headers=auth("anweiban")))
    staff = ok(client.get(f"/api/v1/tips/{tid}", headers=auth("anweiban")))
    assert [e["action"] for e in staff["events"]] == ["receive", "reject"]
    assert staff["events"][1]["prev_hash"] == staff["events"][0]["hash"]
    events = list(db.scalars(select(TipEvent).where(TipEvent.tip_id == tid)
                             .order_by(TipEvent.seq)))
    assert broken_links(events) == []
    # An edited event no longer matches its hash.
    db.expunge_all()
    events[0].note = "改过的"
    assert broken_links(events) == [1]


@pytest.mark.parametrize(("level", "fine", "amount"), [
    (HazardLevel.major, 0, 3000),
    (HazardLevel.major, None, 3000),
    (HazardLevel.major, 20_000, 3000),
    (HazardLevel.major, 30_000, 4500),
    (HazardLevel.major, 2_000_000, 300_000),
    (HazardLevel.major, 3_000_000, 300_000),
    (HazardLevel.general, 20_000, 3000),  # a violation fined earns the fine-based tier
    (HazardLevel.general, 0, 500),
    (HazardLevel.general, None, 500),
])
def test_reward_arithmetic_at_the_bounds(level, fine, amount) -> None:
    assert compute_reward(level, fine).amount == amount


def test_reward_decided_told_and_paid(client, auth, db) -> None:
    receipt = tip(client, **NEAR_A)["receipt"]
    tid = tip_id_of(db, receipt)
    early = client.post(f"/api/v1/tips/{tid}/reward", data={}, headers=auth("anweiban"))
    assert early.status_code == 409  # not verified yet
    ok(client.post(f"/api/v1/tips/{tid}/actions/convert",
                   data={"title": "安全出口堵塞", "level": "major",
                         "major_basis": "人员密集场所安全出口锁闭"},
                   headers=auth("anweiban")))
    assert client.post(f"/api/v1/tips/{tid}/reward", data={"fine_amount": "50000"},
                       headers=auth("insp_town")).status_code == 403
    assert client.post(f"/api/v1/tips/{tid}/reward", data={"fine_amount": "-1"},
                       headers=auth("anweiban")).status_code == 422
    decided = ok(client.post(f"/api/v1/tips/{tid}/reward",
                             data={"fine_amount": "2000000", "note": "经查属实"},
                             headers=auth("anweiban")))
    assert decided["amount"] == 300_000
    assert "15%" in decided["rule"] and "300000" in decided["rule"]
    assert decided["claim_by"] == (TODAY + timedelta(days=60)).isoformat()
    assert {"amount", "rule", "claim_by"} <= set(decided)
    told = status_of(client, receipt)
    assert told["reward"] == {"amount": 300_000, "claim_by": decided["claim_by"],
                              "paid": False}
    assert client.post(f"/api/v1/tips/{tid}/reward", data={},
                       headers=auth("anweiban")).status_code == 409
    paid = ok(client.post(f"/api/v1/tips/{tid}/reward/paid", headers=auth("anweiban")))
    assert paid["paid_at"] is not None
    assert status_of(client, receipt)["reward"]["paid"] is True
    assert client.post(f"/api/v1/tips/{tid}/reward/paid",
                       headers=auth("anweiban")).status_code == 409


def test_the_handling_staff_see_a_tips_photos_and_nobody_else(client, auth, db) -> None:
    tid = tip_id_of(db, tip(client, **NEAR_A)["receipt"])
    [shown] = ok(client.get(f"/api/v1/tips/{tid}", headers=auth("anweiban")))["photos"]
    path = f"/api/v1/tips/{tid}/photos/{shown['id']}"
    original = client.get(path, headers=auth("insp_town"))
    assert original.status_code == 200 and original.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(original.content).hexdigest() == shown["sha256"]
    thumb = client.get(path, params={"variant": "thumb"}, headers=auth("anweiban"))
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    assert client.get(path, headers=auth("ent_a")).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get(f"/api/v1/tips/{tid}/photos/999999",
                      headers=auth("anweiban")).status_code == 404


def refusals(db: Session) -> list[tuple[str, int, str]]:
    return [(r.channel, r.status, r.kind) for r in
            db.scalars(select(TipRefusal).order_by(TipRefusal.id))]


def test_every_refused_tip_is_recorded_without_the_phone_or_the_text(client, db,
                                                                     settings) -> None:
    settings.tip_rate_limit = 1
    tip(client, phone=PHONE)
    # Beyond the address's allowance (API), not a photo (the page), too many files
    # (refused as the bytes arrive), bad fields (Open311).
    assert client.post("/api/v1/tips", data={"description": "再来", "location": "某处",
                                             "phone": PHONE},
                       files=[photo()]).status_code == 429
    other = TestClient(client.app, client=("203.0.113.20", 5000))
    assert other.post("/tip", data={"description": "秘密内容", "location": "某处"},
                      files=[photo("a.jpg", b"not an image", "image/jpeg")]).status_code == 415
    third = TestClient(client.app, client=("203.0.113.21", 5000))
    assert third.post("/api/v1/tips", data={"description": "x", "location": "y"},
                      files=[photo() for _ in range(settings.max_photos_per_action + 1)]
                      ).status_code == 413
    fourth = TestClient(client.app, client=("203.0.113.22", 5000))
    assert fourth.post("/open311/v2/requests.json", data={"service_code": "nope"},
                       files=[("media", photo()[1])]).status_code == 422
    assert refusals(db) == [("api", 429, "rate_address"), ("page", 415, "upload"),
                            ("api", 413, "upload"), ("open311", 422, "fields")]
    rows = db.scalars(select(TipRefusal).order_by(TipRefusal.id)).all()
    assert [r.address for r in rows[1:]] == ["203.0.113.20", "203.0.113.21", "203.0.113.22"]
    assert all(PHONE not in r.reason and "秘密内容" not in r.reason for r in rows)
    # Nothing of a refused attempt is kept beside its record.
    assert db.scalar(select(func.count()).select_from(Tip)) == 1


def test_a_refusal_by_phone_is_recorded_as_such(client, db, settings) -> None:
    settings.tip_rate_limit = 1
    tip(client, phone=PHONE)
    other = TestClient(client.app, client=("203.0.113.30", 5000))
    assert other.post("/api/v1/tips", data={"description": "换地址", "location": "某处",
                                            "phone": PHONE}, files=[photo()]).status_code == 429
    assert refusals(db) == [("api", 429, "rate_phone")]


def scene_photo(seed: int) -> tuple[str, tuple[str, bytes, str]]:
    return ("photos", (f"scene{seed}.jpg", phone_jpeg(seed=seed), "image/jpeg"))


def test_duplicate_hints_by_a_similar_photo_anywhere_in_the_county(client, auth, db,
                                                                    settings) -> None:
    """The same scene sent again, far from the first and naming no enterprise, is hinted by
    its photo's perceptual hash; another scene is not; a flat picture matches nothing."""
    settings.tip_rate_limit = 50
    def send(files: list[Any], **fields: str) -> int:
        response = client.post("/api/v1/tips", data={
            "description": "配电箱门敞开，电线裸露", "location": "某处", **fields}, files=files)
        assert response.status_code == 201, response.text
        return tip_id_of(db, response.json()["receipt"])

    first = send([scene_photo(7)], lat="29.7000", lon="119.9000")
    again = send([scene_photo(3), scene_photo(7)], lat="29.9000", lon="119.5000")
    other = send([scene_photo(11)], lat="29.6000", lon="119.4000")
    flat_a, flat_b = send([photo()]), send([photo()])
    shown = ok(client.get(f"/api/v1/tips/{again}", headers=auth("anweiban")))
    assert shown["similar_tip_ids"] == [first]
    [match] = shown["similar_photos"]
    assert match["tip_id"] == first and match["hazard_id"] is None
    assert match["photo_id"] == shown["photos"][1]["id"] and match["bits"] <= 6
    assert ok(client.get(f"/api/v1/tips/{other}",
                         headers=auth("anweiban")))["similar_photos"] == []
    assert ok(client.get(f"/api/v1/tips/{flat_b}",
                         headers=auth("anweiban")))["similar_tip_ids"] == []
    assert flat_a != flat_b
    # Once converted, the tip's photos are the hazard's: a later tip of the scene names it.
    hazard_id = ok(client.post(f"/api/v1/tips/{first}/actions/convert",
                               data={"title": "配电箱电线裸露", "level": "general",
                                     "enterprise_id": str(db.scalars(select(Enterprise.id)
                                                          .limit(1)).one())},
                               headers=auth("anweiban")))["hazard_id"]
    later = send([scene_photo(7)], lat="29.5000", lon="119.3000")
    shown = ok(client.get(f"/api/v1/tips/{later}", headers=auth("anweiban")))
    assert hazard_id in shown["similar_hazard_ids"]
    assert {m["hazard_id"] for m in shown["similar_photos"]} >= {hazard_id}
    # An enterprise sees no tip at all.
    assert client.get(f"/api/v1/tips/{later}", headers=auth("ent_a")).status_code == 404


def test_a_tip_sent_again_with_its_idempotency_key_is_stored_once(client, db, settings) -> None:
    """An offline draft whose answer was lost is sent again with its key: the same receipt,
    one tip, and the retry does not count toward the rate limit."""
    settings.tip_rate_limit = 2
    data = {"description": "配电箱门敞开", "location": "工业园区", "phone": PHONE}
    image = photo()
    key = {"Idempotency-Key": "draft-7f3a9c"}
    first = client.post("/api/v1/tips", data=data, files=[image], headers=key)
    assert first.status_code == 201, first.text
    for _ in range(3):
        again = client.post("/api/v1/tips", data=data, files=[image], headers=key)
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert db.scalar(select(func.count()).select_from(Tip)) == 1
    # The key with another request is refused; a new key is a new tip.
    other = client.post("/api/v1/tips", data={**data, "description": "另一件事"},
                        files=[image], headers=key)
    assert other.status_code == 422 and "Idempotency-Key" in other.text
    assert client.post("/api/v1/tips", data=data, files=[photo()],
                       headers={"Idempotency-Key": "draft-second"}).status_code == 201
    assert db.scalar(select(func.count()).select_from(Tip)) == 2


def test_a_county_may_have_its_own_reward_tiers(client, auth, db, settings) -> None:
    settings.tip_reward_counties = {"339901000000": RewardTier(general=800, major_min=5000)}
    # The county's own minimum, the national rate and maximum it left out.
    major = compute_reward(HazardLevel.major, 20_000, "339901000000")
    assert major.amount == 5000 and "最低 5000 元，最高 300000 元" in major.rule
    assert compute_reward(HazardLevel.major, 20_000, "110101000000").amount == 3000
    assert compute_reward(HazardLevel.general, None, None).amount == 500
    tid = tip_id_of(db, tip(client, **NEAR_A)["receipt"])
    ok(client.post(f"/api/v1/tips/{tid}/actions/convert",
                   data={"title": "安全出口堵塞", "level": "general"}, headers=auth("anweiban")))
    decided = ok(client.post(f"/api/v1/tips/{tid}/reward", data={}, headers=auth("anweiban")))
    assert decided["amount"] == 800 and "800 元" in decided["rule"]
