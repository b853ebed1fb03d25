"""Every error status of the contract (docs/api.md), and the order in which they are checked."""

from datetime import timedelta

from sqlalchemy.orm import Session

from app.core.security import issue_token
from app.models import Industry, Region, Unit, User
from app.models.enums import Role, UnitKind
from app.services.accounts.users import create_user
from tests.api.helpers import act, in_days, ok, report
from tests.samples import jpeg_bytes, photo


def rectified_hazard(client, auth) -> int:
    hid = report(client, auth, "ent_a")["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(7)}))
    ok(act(client, auth, "ent_a", hid, "accept"))
    ok(act(client, auth, "ent_a", hid, "submit", {"note": "已整改"}, photos=1))
    return hid


def second_department_inspector(db: Session, clock, auth) -> dict[str, str]:
    """An inspector of another department that also supervises machinery in the county:
    it sees enterprise A's hazards but holds no assignment on them."""
    county = db.query(Region).filter_by(code="339901000000").one()
    machinery = db.query(Industry).filter_by(code="jixie").one()
    unit = Unit(name="演示县消防救援大队", kind=UnitKind.department, region_id=county.id,
                regions=[county], industries=[machinery])
    db.add(unit)
    db.flush()
    user = create_user(db, username="insp_fire", password="fire-pass-2026",
                       role=Role.inspector, unit_id=unit.id, clock=clock)
    return {"Authorization": f"Bearer {issue_token(user.id, clock.now())}"}


def test_401_without_or_with_a_bad_token(client, auth, clock, users) -> None:
    hid = report(client, auth, "ent_a")["id"]
    for path in ("/api/v1/me", "/api/v1/hazards", f"/api/v1/hazards/{hid}",
                 f"/api/v1/hazards/{hid}/events", "/api/v1/photos/1"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer junk"}).status_code == 401
    # 401 comes before everything, even a body that would be refused.
    response = client.post("/api/v1/hazards/999999/actions/assign", data={})
    assert response.status_code == 401
    assert response.json() == {"detail": "未登录或登录已过期"}
    expired = issue_token(users["ent_a"].id, clock.now() - timedelta(hours=9))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"}
                      ).status_code == 401


def test_401_for_a_deactivated_user(client, auth, db: Session, users) -> None:
    headers = auth("ent_b")
    db.get(User, users["ent_b"].id).active = False
    db.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_404_for_missing_and_unseen_hazards(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    assert client.get("/api/v1/hazards/999999", headers=auth("ent_a")).status_code == 404
    # ent_b may not see A's hazard: 404 even for an action its role could never take.
    response = act(client, auth, "ent_b", hid, "spot_check", {"note": "x"}, photos=1)
    assert response.status_code == 404
    assert act(client, auth, "ent_b", 999999, "accept").status_code == 404
    assert act(client, auth, "ent_a", hid, "teleport").status_code == 404


def test_403_when_the_role_may_never_act(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    assert act(client, auth, "ent_a", hid, "assign", {"deadline": in_days(3)}).status_code == 403
    assert act(client, auth, "admin", hid, "assign", {"deadline": in_days(3)}).status_code == 403
    # The inspector may never spot-check, whatever the state (403 before 409).
    assert act(client, auth, "insp_dept", hid, "spot_check", {"note": "x"}).status_code == 403
    assert client.post("/api/v1/hazards", data={}, headers=auth("admin")).status_code == 403


def test_409_for_the_wrong_state_or_a_stale_version(client, auth) -> None:
    hazard = report(client, auth, "ent_a")
    hid = hazard["id"]
    assert act(client, auth, "ent_a", hid, "submit", {"note": "x"}, photos=1).status_code == 409
    stale = act(client, auth, "insp_dept", hid, "assign",
                {"deadline": in_days(3), "expected_version": hazard["version"] + 1})
    assert stale.status_code == 409
    fresh = ok(act(client, auth, "insp_dept", hid, "assign",
                   {"deadline": in_days(3), "expected_version": hazard["version"]}))
    assert fresh["version"] == hazard["version"] + 1
    again = act(client, auth, "insp_dept", hid, "assign",
                {"deadline": in_days(3), "expected_version": hazard["version"]})
    assert again.status_code == 409


def test_403_when_the_unit_holds_no_duty(client, auth, db, clock) -> None:
    hid = rectified_hazard(client, auth)
    fire_dept = second_department_inspector(db, clock, auth)
    assert client.get(f"/api/v1/hazards/{hid}", headers=fire_dept).status_code == 200
    response = client.post(f"/api/v1/hazards/{hid}/actions/verify", data={"note": "合格"},
                           files=[photo()], headers=fire_dept)
    assert response.status_code == 403
    # A stale version is a 409 and comes before the missing duty.
    response = client.post(f"/api/v1/hazards/{hid}/actions/verify",
                           data={"note": "合格", "expected_version": 1},
                           files=[photo()], headers=fire_dept)
    assert response.status_code == 409


def test_reporting_for_another_enterprise_answers_as_for_none(client, auth) -> None:
    """An enterprise out of reach and one that does not exist get the very same 422: the
    answer never tells which enterprise ids are real."""
    ent_b = client.get("/api/v1/me", headers=auth("ent_b")).json()["enterprise_id"]
    # The township office of township 1 does not supervise B (township 2).
    for username in ("ent_a", "insp_town"):
        answers = [report(client, auth, username, enterprise_id=wanted, expect=422)
                   for wanted in (ent_b, 987654, 2**40)]
        assert answers[0] == answers[1] == answers[2]
        assert answers[0]["detail"][0]["loc"] == ["body", "enterprise_id"]


def test_413_for_an_oversized_photo(client, auth, settings) -> None:
    hid = rectified_hazard(client, auth)
    big = jpeg_bytes((800, 600))
    settings.max_upload_bytes = len(big) - 1
    response = act(client, auth, "insp_dept", hid, "verify", {"note": "合格"},
                   files=[photo("big.jpg", big)])
    assert response.status_code == 413
    # Too many photos in one action is 413 too.
    settings.max_upload_bytes = 25 * 1024 * 1024
    response = act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=10)
    assert response.status_code == 413


def test_415_for_files_that_are_not_images(client, auth) -> None:
    hid = rectified_hazard(client, auth)
    for name, data, ctype in [
        ("fake.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
        ("empty.jpg", b"", "image/jpeg"),
        ("cut.jpg", jpeg_bytes((640, 480))[:600], "image/jpeg"),
        ("doc.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "application/pdf"),
    ]:
        response = act(client, auth, "insp_dept", hid, "verify", {"note": "合格"},
                       files=[photo(name, data, ctype)])
        assert response.status_code == 415, (name, response.text)
    # 415 comes before 422 (the note is missing here too).
    response = act(client, auth, "insp_dept", hid, "verify", {},
                   files=[photo("fake.jpg", b"GIF89a-not-really", "image/jpeg")])
    assert response.status_code == 415
    assert client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()["state"] == \
        "rectified"


def test_422_for_missing_fields_or_evidence(client, auth) -> None:
    hid = rectified_hazard(client, auth)
    no_photo = act(client, auth, "insp_dept", hid, "verify", {"note": "合格"})
    assert no_photo.status_code == 422
    assert "照片" in no_photo.json()["detail"]
    no_note = act(client, auth, "insp_dept", hid, "verify", {}, photos=1)
    assert no_note.status_code == 422
    assert no_note.json()["detail"][0]["loc"] == ["body", "note"]
    # Reports need photos, the required fields and a valid level.
    report(client, auth, "ent_a", photos=0, expect=422)
    report(client, auth, "ent_a", level="severe", expect=422)
    report(client, auth, "ent_a", title="", expect=422)
    report(client, auth, "insp_dept", expect=422)  # an inspector must name the enterprise
    report(client, auth, "insp_dept", enterprise_id=987654, expect=422)


def test_422_for_a_deadline_in_the_past(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    response = act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(-1)})
    assert response.status_code == 422
    response = act(client, auth, "insp_dept", hid, "assign", {"deadline": "next week"})
    assert response.status_code == 422
    assert ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(0)}))


def test_refused_actions_leave_no_trace(client, auth) -> None:
    hid = rectified_hazard(client, auth)
    before = client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()
    events_before = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("ent_a")).json()
    act(client, auth, "insp_dept", hid, "verify", {}, photos=1)  # 422 after a valid photo
    after = client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()
    assert after == before
    assert client.get(f"/api/v1/hazards/{hid}/events", headers=auth("ent_a")).json() == \
        events_before
