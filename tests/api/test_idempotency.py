"""Idempotency-Key on creates and actions: a retry answers with the first result, done once."""

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.http.idempotency_keys import purge_expired
from app.models import Event, Extension, Hazard, IdempotencyKey
from tests.api.helpers import act, in_days, ok, report
from tests.api.test_supervision import assigned, at_day, run_worker
from tests.fixtures.clock import START
from tests.samples import jpeg_bytes, photo

FIELDS = {"title": "消防通道堵塞", "description": "三号仓库消防通道堆放货物",
          "location": "三号仓库", "level": "general"}


def post_report(client, auth, key: str, data: dict | None = None, image: bytes | None = None,
                username: str = "ent_a"):
    return client.post("/api/v1/hazards", data=data or FIELDS, files=[photo(data=image)],
                       headers={**auth(username), "Idempotency-Key": key})


def hazards_titled(db: Session, title: str) -> int:
    return db.scalar(select(func.count()).select_from(Hazard).where(Hazard.title == title))


def test_a_retried_report_returns_the_first_hazard_and_makes_no_second(client, auth, db) -> None:
    image = jpeg_bytes()
    first = post_report(client, auth, "k-report-1", image=image)
    assert first.status_code == 201, first.text
    again = post_report(client, auth, "k-report-1", image=image)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["code"] == first.json()["code"]
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert hazards_titled(db, FIELDS["title"]) == 1
    events = client.get(f"/api/v1/hazards/{first.json()['id']}/events",
                        headers=auth("ent_a")).json()
    assert [e["action"] for e in events] == ["report"]


def test_a_retried_action_records_one_event(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    headers = {**auth("insp_dept"), "Idempotency-Key": "assign-once"}
    url = f"/api/v1/hazards/{hid}/actions/assign"
    first = client.post(url, data={"deadline": in_days(10)}, headers=headers)
    assert first.status_code == 200, first.text
    # Without the key this second assign would be refused (409: no longer reported).
    again = client.post(url, data={"deadline": in_days(10)}, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    events = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("ent_a")).json()
    assert [e["action"] for e in events] == ["report", "assign"]
    assert first.json()["version"] == 2


def test_the_same_key_for_another_request_is_refused(client, auth, db) -> None:
    image = jpeg_bytes()
    assert post_report(client, auth, "k-mismatch", image=image).status_code == 201
    other_field = post_report(client, auth, "k-mismatch", {**FIELDS, "location": "四号仓库"},
                              image=image)
    assert other_field.status_code == 422
    assert "Idempotency-Key" in other_field.json()["detail"]
    other_photo = post_report(client, auth, "k-mismatch", image=jpeg_bytes())
    assert other_photo.status_code == 422
    hid = report(client, auth, "ent_a")["id"]
    other_path = client.post(f"/api/v1/hazards/{hid}/actions/reject", data={"reason": "重复"},
                             headers={**auth("ent_a"), "Idempotency-Key": "k-mismatch"})
    assert other_path.status_code == 422
    assert hazards_titled(db, FIELDS["title"]) == 1


def test_a_blank_field_counts_as_absent_for_the_same_request(client, auth, db) -> None:
    """A draft saved by an older page (without a field added since) and the same draft from
    today's page, which sends that field empty, are the same request: blank means absent, as
    when the fields are read."""
    image = jpeg_bytes()
    first = post_report(client, auth, "k-blank", image=image)
    assert first.status_code == 201, first.text
    again = post_report(client, auth, "k-blank", {**FIELDS, "major_basis": "", "category": " "},
                        image=image)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    filled = post_report(client, auth, "k-blank", {**FIELDS, "category": "消防"}, image=image)
    assert filled.status_code == 422
    assert hazards_titled(db, FIELDS["title"]) == 1


def test_keys_are_per_user(client, auth, db) -> None:
    mine = post_report(client, auth, "shared-key", username="ent_a")
    theirs = post_report(client, auth, "shared-key", username="ent_b")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["enterprise_id"] != mine.json()["enterprise_id"]
    assert hazards_titled(db, FIELDS["title"]) == 2


def test_a_failed_attempt_leaves_the_key_free(client, auth, db) -> None:
    incomplete = {k: v for k, v in FIELDS.items() if k != "title"}
    image = jpeg_bytes()
    for _ in range(2):  # errors are not replayed: each attempt is checked again
        refused = post_report(client, auth, "k-retry-after-422", incomplete, image=image)
        assert refused.status_code == 422
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)
                     .where(IdempotencyKey.key == "k-retry-after-422")) == 0
    # The corrected request may use the same key, and then the key holds its result.
    fixed = post_report(client, auth, "k-retry-after-422", image=image)
    assert fixed.status_code == 201, fixed.text
    replay = post_report(client, auth, "k-retry-after-422", image=image)
    assert replay.json()["id"] == fixed.json()["id"]
    assert hazards_titled(db, FIELDS["title"]) == 1


def test_a_bad_key_is_refused(client, auth, db) -> None:
    for key in ("x" * 256, "has space", "中文键", ""):
        response = client.post("/api/v1/hazards", data=FIELDS, files=[photo()],
                               headers={**auth("ent_a"), "Idempotency-Key": key.encode()})
        assert response.status_code == 422, key
    assert hazards_titled(db, FIELDS["title"]) == 0
    assert post_report(client, auth, "x" * 255).status_code == 201


def test_a_retried_extension_request_returns_the_first(client, auth, db, clock) -> None:
    hid = assigned(client, auth)
    ok(act(client, auth, "ent_a", hid, "accept"))
    at_day(clock, date(2026, 11, 26))
    run_worker(db, clock, hid)
    request = {"deadline": "2026-12-10", "reason": "需停产更换设备，备件未到",
               "interim_measures": "设置警戒区并专人值守"}
    headers = {**auth("ent_a"), "Idempotency-Key": "ext-1"}
    url = f"/api/v1/hazards/{hid}/extensions"
    first = client.post(url, data=request, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(url, data=request, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert db.scalar(select(func.count()).select_from(Extension)
                     .where(Extension.hazard_id == hid)) == 1
    assert db.scalar(select(func.count()).select_from(Event).where(
        Event.hazard_id == hid, Event.action == "extension_request")) == 1


def test_expired_keys_are_purged(client, auth, db) -> None:
    assert post_report(client, auth, "old-key").status_code == 201
    assert purge_expired(db, now=START + timedelta(hours=23), max_age=timedelta(hours=24)) == 0
    assert purge_expired(db, now=START + timedelta(hours=25), max_age=timedelta(hours=24)) == 1
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
