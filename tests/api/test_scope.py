"""Scoping: who sees which hazards, events and photos, in every endpoint."""

from datetime import timedelta
from io import BytesIO

from PIL import Image

from app.core.security import issue_token
from app.models import Industry, Region, Unit
from app.services.accounts.users import create_user
from tests.api.helpers import act, in_days, ok, report
from tests.samples import jpeg_bytes, photo

ENDPOINTS = ("/api/v1/hazards/{id}", "/api/v1/hazards/{id}/events")


def list_ids(client, auth, username: str, **params) -> set[int]:
    response = client.get("/api/v1/hazards", params={"limit": 200, **params},
                          headers=auth(username))
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_enterprise_never_reaches_another_enterprises_hazards(client, auth) -> None:
    a = report(client, auth, "ent_a")
    b = report(client, auth, "ent_b")
    for path in ENDPOINTS:
        assert client.get(path.format(id=a["id"]), headers=auth("ent_b")).status_code == 404
        assert client.get(path.format(id=b["id"]), headers=auth("ent_a")).status_code == 404
        assert client.get(path.format(id=a["id"]), headers=auth("ent_a")).status_code == 200
    photo_of_a = a["photos"][0]["id"]
    assert client.get(f"/api/v1/photos/{photo_of_a}", headers=auth("ent_b")).status_code == 404
    assert client.get(f"/api/v1/photos/{photo_of_a}?variant=thumb",
                      headers=auth("ent_b")).status_code == 404
    assert a["id"] in list_ids(client, auth, "ent_a")
    assert b["id"] not in list_ids(client, auth, "ent_a")
    # Filtering by the other enterprise reveals nothing either.
    assert list_ids(client, auth, "ent_a", enterprise_id=b["enterprise_id"]) == set()
    # Nor does acting on it.
    assert act(client, auth, "ent_b", a["id"], "accept").status_code == 404


def test_inspectors_see_what_their_unit_supervises(client, auth) -> None:
    a = report(client, auth, "ent_a")["id"]
    b = report(client, auth, "ent_b")["id"]
    # The department supervises machinery county-wide: both.
    assert {a, b} <= list_ids(client, auth, "insp_dept")
    # Township 1's office supervises township 1 only.
    town = list_ids(client, auth, "insp_town")
    assert a in town and b not in town
    assert client.get(f"/api/v1/hazards/{b}", headers=auth("insp_town")).status_code == 404


def test_inspector_sees_hazards_assigned_to_its_unit(client, auth, db, clock) -> None:
    """A department that does not supervise the industry sees a hazard once it is assigned."""
    county = db.query(Region).filter_by(code="339901000000").one()
    building = Industry(code="jianzhu", name="建筑施工")
    db.add(building)
    db.flush()
    housing = Unit(name="演示县住建局", kind="department", region_id=county.id,
                   regions=[county], industries=[building])
    db.add(housing)
    db.flush()
    inspector = create_user(db, username="insp_zj", password="zj-pass-2026", role="inspector",
                            unit_id=housing.id, clock=clock)
    headers = {"Authorization": f"Bearer {issue_token(inspector.id, clock.now())}"}
    hid = report(client, auth, "ent_b")["id"]
    assert client.get(f"/api/v1/hazards/{hid}", headers=headers).status_code == 404
    ok(act(client, auth, "anweiban", hid, "assign",
           {"deadline": in_days(5), "supervising_unit_id": housing.id}))
    assert client.get(f"/api/v1/hazards/{hid}", headers=headers).status_code == 200
    listed = client.get("/api/v1/hazards", params={"unit_id": housing.id}, headers=headers)
    assert [h["id"] for h in listed.json()["items"]] == [hid]


def test_committee_and_admin_see_their_region(client, auth) -> None:
    a = report(client, auth, "ent_a")["id"]
    b = report(client, auth, "ent_b")["id"]
    for username in ("anweiban", "admin"):
        assert {a, b} <= list_ids(client, auth, username)
        assert client.get(f"/api/v1/hazards/{a}/events",
                          headers=auth(username)).status_code == 200


def test_list_filters(client, auth) -> None:
    a = report(client, auth, "ent_a", title="消防通道堵塞")["id"]
    b = report(client, auth, "ent_b", level="major", major_clause="第四条（一）")["id"]
    ok(act(client, auth, "insp_dept", b, "assign", {"deadline": in_days(1)}))
    assert list_ids(client, auth, "anweiban", q="通道") == {a}
    assert list_ids(client, auth, "anweiban", q="%") == set()  # LIKE wildcards are literal
    assert b in list_ids(client, auth, "anweiban", level="major")
    assert a not in list_ids(client, auth, "anweiban", level="major")
    assert b in list_ids(client, auth, "anweiban", state="assigned")
    assert a not in list_ids(client, auth, "anweiban", state="assigned")
    township1 = client.get(f"/api/v1/hazards/{a}", headers=auth("ent_a")).json()["region_id"]
    assert a in list_ids(client, auth, "anweiban", region_id=township1)
    assert b not in list_ids(client, auth, "anweiban", region_id=township1)
    assert client.get("/api/v1/hazards", params={"state": "nonsense"},
                      headers=auth("anweiban")).status_code == 422


def test_overdue_is_computed_from_the_clock(client, auth, clock) -> None:
    hid = report(client, auth, "ent_a")["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(2)}))
    assert client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()["overdue"] is False
    assert hid not in list_ids(client, auth, "anweiban", overdue="true")
    clock.advance(timedelta(days=2))
    assert client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()["overdue"] is False
    clock.advance(timedelta(days=1))
    assert client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()["overdue"] is True
    assert hid in list_ids(client, auth, "anweiban", overdue="true")
    assert hid not in list_ids(client, auth, "anweiban", overdue="false")


def test_photo_is_served_to_those_who_may_see_it(client, auth) -> None:
    original = jpeg_bytes((900, 600))
    response = client.post(
        "/api/v1/hazards",
        data={"title": "t", "description": "d", "location": "l", "level": "general"},
        files=[photo("scene.jpg", original)], headers=auth("ent_a"))
    photo_id = response.json()["photos"][0]["id"]
    got = client.get(f"/api/v1/photos/{photo_id}", headers=auth("insp_dept"))
    assert got.status_code == 200
    assert got.content == original
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["etag"].strip('"') == response.json()["photos"][0]["sha256"]
    thumb = client.get(f"/api/v1/photos/{photo_id}", params={"variant": "thumb"},
                       headers=auth("ent_a"))
    assert thumb.status_code == 200
    image = Image.open(BytesIO(thumb.content))
    assert max(image.size) <= 320
    assert not image.getexif()
    assert client.get(f"/api/v1/photos/{photo_id}", params={"variant": "huge"},
                      headers=auth("ent_a")).status_code == 422

