"""Administration over the API (docs/admin.md): who may do what (every role, own and foreign
county), 三员分立, audit entries with before and after, tokens ended at once, bad input."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.security import issue_token
from app.models import AuditEntry, Enterprise, Industry, LoginAttempt, Region, Unit, User
from app.models.enums import Role, UnitKind
from app.services.accounts.users import create_user
from app.services.org.demo import DEMO_PASSWORD
from tests.api.helpers import act, in_days, neighbouring_county, ok, report

A = "/api/v1/admin"
DEMO_ACTORS = ("ent_a", "insp_dept", "insp_town", "anweiban", "admin", "secadmin", "auditor")
FOREIGN_ACTORS = ("admin_2", "secadmin_2", "anweiban_2")
ACTORS = DEMO_ACTORS + FOREIGN_ACTORS
Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def foreign(db: Session, clock) -> dict[str, Any]:
    """The neighbouring county with its own admin, security admin and committee."""
    county, town, committee_headers = neighbouring_county(db, clock)
    made = {role: create_user(db, username=name, password="other-pass-2026", role=role,
                              region_id=county.id, clock=clock)
            for name, role in (("admin_2", Role.admin), ("secadmin_2", Role.security_admin))}
    db.commit()  # kept when a refused request rolls its savepoint back
    return {"county": county, "town": town, "anweiban_2": committee_headers,
            **{user.username: user for user in made.values()}}


@pytest.fixture
def as_(auth, foreign, db: Session, clock) -> Headers:
    """Headers for any actor of the matrix (a fresh token of the user's current version)."""
    def headers(username: str) -> dict[str, str]:
        if username == "anweiban_2":
            return foreign["anweiban_2"]
        user = db.scalars(select(User).where(User.username == username)).one()
        return {"Authorization": f"Bearer {issue_token(user.id, clock.now(), user.token_version)}"}
    return headers


def ids(db: Session) -> dict[str, int]:
    def one(model: Any, **by: Any) -> int:
        return db.scalars(select(model.id).filter_by(**by)).one()
    return {"town1": one(Region, code="339901100000"),
            "town2": one(Region, code="339901101000"),
            "county": one(Region, code="339901000000"),
            "ent_a": one(Enterprise, uscc="91339901MA2B00001F"),
            "ent_b": one(Enterprise, uscc="91339901MA2B00002J"),
            "dept": one(Unit, name="演示县应急管理局"),
            "office": one(Unit, name="城关镇安全生产办公室"),
            "jixie": one(Industry, code="jixie"), "huagong": one(Industry, code="huagong"),
            **{name: one(User, username=name) for name in (*DEMO_ACTORS, "ent_b")}}


def statuses(client: TestClient, as_: Headers, method: str, url: str | Callable[[str], str],
             body: Callable[[str], dict[str, Any]] | dict[str, Any] | None = None,
             ) -> dict[str, int]:
    """Each actor's status for this request (a body or URL may differ per actor)."""
    found = {}
    for actor in ACTORS:
        target = url(actor) if callable(url) else url
        payload = body(actor) if callable(body) else body
        response = client.request(method, target, json=payload, headers=as_(actor))
        assert response.status_code != 500, response.text
        found[actor] = response.status_code
    return found


def expect(**by_actor: int) -> dict[str, int]:
    """Expected statuses: those named, 403 for every other actor."""
    return {actor: by_actor.get(actor, 403) for actor in ACTORS}


# The matrix -------------------------------------------------------------------------------

def test_listing_is_for_the_admins_of_each_subtree(client, as_, db, foreign) -> None:
    assert statuses(client, as_, "GET", f"{A}/users") == expect(
        admin=200, secadmin=200, admin_2=200, secadmin_2=200)
    names = {u["username"] for u in client.get(f"{A}/users?limit=200",
                                               headers=as_("admin")).json()["items"]}
    assert {"ent_a", "insp_dept", "anweiban", "secadmin", "auditor"} <= names
    assert "anweiban_2" not in names and "admin_2" not in names
    theirs = {u["username"] for u in client.get(f"{A}/users", headers=as_("admin_2")).json()[
        "items"]}
    assert theirs == {"anweiban_2", "admin_2", "secadmin_2"}
    for kind in ("enterprises", "units", "regions"):
        assert statuses(client, as_, "GET", f"{A}/{kind}") == expect(admin=200, admin_2=200)
        mine = client.get(f"{A}/{kind}", headers=as_("admin_2")).json()["items"]
        assert all(item.get("name") not in ("城关镇", "演示县应急管理局", "演示机械制造有限公司")
                   for item in mine)
    towns = {r["code"] for r in client.get(f"{A}/regions", headers=as_("admin")).json()["items"]}
    assert towns == {"339901000000", "339901100000", "339901101000"}


def test_one_user_is_seen_by_its_own_admins_only(client, as_, db) -> None:
    n = ids(db)
    assert statuses(client, as_, "GET", f"{A}/users/{n['ent_a']}") == expect(
        admin=200, secadmin=200, admin_2=404, secadmin_2=404)
    assert client.get(f"{A}/users/999999", headers=as_("admin")).status_code == 404


def test_creating_ordinary_accounts_is_the_system_admins(client, as_, db) -> None:
    n = ids(db)
    found = statuses(client, as_, "POST", f"{A}/users", lambda actor: {
        "username": f"new_{actor}", "role": "inspector", "unit_id": n["office"]})
    # The foreign admin may create accounts, but not in a unit outside its county.
    assert found == expect(admin=201, admin_2=422)
    created = db.scalars(select(User).where(User.username == "new_admin")).one()
    assert created.unit_id == n["office"] and created.password_change_required


def test_only_a_security_admin_creates_security_and_audit_admins(client, as_, db) -> None:
    n = ids(db)
    for role in ("security_admin", "audit_admin"):
        found = statuses(client, as_, "POST", f"{A}/users", lambda actor, role=role: {
            "username": f"{role}_{actor}", "role": role, "region_id": n["county"]})
        assert found == expect(secadmin=201, secadmin_2=422), role
        refused = client.post(f"{A}/users", json={"username": "x_sec", "role": role,
                                                  "region_id": n["county"]},
                              headers=as_("admin"))
        assert "安全管理员" in refused.json()["detail"]
    # …and the security admin does not create ordinary accounts.
    assert client.post(f"{A}/users", json={"username": "sec_made", "role": "committee",
                                           "region_id": n["county"]},
                       headers=as_("secadmin")).status_code == 403


def test_editing_an_ordinary_account(client, as_, db) -> None:
    n = ids(db)
    url = f"{A}/users/{n['ent_b']}"
    assert statuses(client, as_, "PATCH", url, {"phone": "13800001111"}) == expect(
        admin=200, admin_2=404, secadmin_2=404)
    assert db.get(User, n["ent_b"]).phone == "13800001111"


def test_deactivation_also_by_the_security_admin(client, as_, db) -> None:
    n = ids(db)
    found = statuses(client, as_, "PATCH", f"{A}/users/{n['ent_b']}", {"active": False})
    assert found == expect(admin=200, secadmin=200, admin_2=404, secadmin_2=404)
    assert db.get(User, n["ent_b"]).active is False
    # A security or audit admin is switched off by a security admin only.
    url = f"{A}/users/{n['auditor']}"
    assert client.patch(url, json={"active": False}, headers=as_("admin")).status_code == 403
    assert client.patch(url, json={"active": False}, headers=as_("secadmin")).status_code == 200


def test_changing_a_security_or_audit_admin(client, as_, db) -> None:
    n = ids(db)
    url = f"{A}/users/{n['auditor']}"
    assert statuses(client, as_, "PATCH", url, {"phone": "13800002222"}) == expect(
        secadmin=200, admin_2=404, secadmin_2=404)
    # No conversion across the duties: an admin cannot become a security admin or back.
    assert client.patch(f"{A}/users/{n['admin']}", json={
        "role": "security_admin", "region_id": n["county"]},
        headers=as_("secadmin")).status_code == 403
    assert client.patch(url, json={"role": "admin", "region_id": n["county"]},
                        headers=as_("admin")).status_code == 403
    assert client.patch(url, json={"role": "admin", "region_id": n["county"]},
                        headers=as_("secadmin")).status_code == 403


def test_password_reset(client, as_, db) -> None:
    n = ids(db)
    found = statuses(client, as_, "POST", f"{A}/users/{n['ent_b']}/password-reset")
    assert found == expect(admin=200, admin_2=404, secadmin_2=404)
    found = statuses(client, as_, "POST", f"{A}/users/{n['auditor']}/password-reset")
    assert found == expect(secadmin=200, admin_2=404, secadmin_2=404)


def test_unlock_by_either_admin(client, as_, db) -> None:
    n = ids(db)
    found = statuses(client, as_, "POST", f"{A}/users/{n['ent_b']}/unlock")
    assert found == expect(admin=200, secadmin=200, admin_2=404, secadmin_2=404)


def test_organisation_changes_are_the_system_admins(client, as_, db, foreign) -> None:
    n = ids(db)
    codes = {actor: f"339901{200 + i:03d}000" for i, actor in enumerate(ACTORS)}
    assert statuses(client, as_, "POST", f"{A}/regions", lambda actor: {
        "parent_id": n["county"], "code": codes[actor], "name": f"新镇{actor}"}) == expect(
        admin=201, admin_2=422)
    assert statuses(client, as_, "PATCH", f"{A}/regions/{n['town2']}", {"name": "清溪街道"}) \
        == expect(admin=200, admin_2=404)
    assert statuses(client, as_, "POST", f"{A}/units", lambda actor: {
        "name": f"演示县住建局{actor}", "kind": "department", "region_id": n["county"],
        "industry_ids": [n["jixie"]]}) == expect(admin=201, admin_2=422)
    assert statuses(client, as_, "PATCH", f"{A}/units/{n['office']}",
                    {"name": "城关镇应急管理办公室"}) == expect(admin=200, admin_2=404)
    usccs = iter(["91339901MA2B00003M", "91339901MA2B0000XX"])
    assert statuses(client, as_, "POST", f"{A}/enterprises", lambda actor: {
        "name": f"新企业{actor}", "uscc": next(usccs) if actor in ("admin", "admin_2")
        else "91339901MA2B00003M", "region_id": n["town1"], "industry_id": n["jixie"]}
    ) == expect(admin=201, admin_2=422)
    assert statuses(client, as_, "PATCH", f"{A}/enterprises/{n['ent_b']}",
                    {"address": "清溪镇兴业路10号"}) == expect(admin=200, admin_2=404)
    # The foreign admin works in its own county.
    ok_town = client.post(f"{A}/regions", json={"parent_id": foreign["county"].id,
                                                "code": "339902101000", "name": "邻县东镇"},
                          headers=as_("admin_2"))
    assert ok_town.status_code == 201, ok_town.text


# Audit ------------------------------------------------------------------------------------

def entries(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)
                           .order_by(AuditEntry.seq)))


def test_every_change_is_audited_with_before_and_after(client, as_, db) -> None:
    n = ids(db)
    h = as_("admin")
    created = client.post(f"{A}/users", json={"username": "zhang", "role": "committee",
                                              "region_id": n["town1"], "phone": "13900001234"},
                          headers=h)
    assert created.status_code == 201, created.text
    password = created.json()["temporary_password"]
    uid = created.json()["id"]
    ok_patch = client.patch(f"{A}/users/{uid}", json={"region_id": n["town2"]}, headers=h)
    assert ok_patch.status_code == 200
    reset = client.post(f"{A}/users/{uid}/password-reset", headers=h).json()
    client.patch(f"{A}/regions/{n['town2']}", json={"name": "清溪街道"}, headers=h)
    client.patch(f"{A}/units/{n['office']}", json={"name": "城关镇应急办"}, headers=h)
    client.patch(f"{A}/enterprises/{n['ent_b']}", json={"region_id": n["town1"]}, headers=h)
    client.post(f"{A}/users/{uid}/unlock", headers=as_("secadmin"))
    town = client.post(f"{A}/regions", json={"parent_id": n["county"], "code": "339901102000",
                                             "name": "白沙镇"}, headers=h).json()
    firm = client.post(f"{A}/enterprises", json={
        "name": "白沙建材有限公司", "uscc": "９１３３９９０１ma2b00003m", "region_id": town["id"],
        "industry_id": n["jixie"]}, headers=h)
    assert firm.status_code == 201 and firm.json()["uscc"] == "91339901MA2B00003M"
    office = client.post(f"{A}/units", json={"name": "白沙镇安全生产办公室", "kind": "township",
                                             "region_id": town["id"]}, headers=h).json()
    for action, obj in (("region_create", f"region:{town['id']}"),
                        ("enterprise_create", f"enterprise:{firm.json()['id']}"),
                        ("unit_create", f"unit:{office['id']}")):
        (entry,) = entries(db, action)
        assert entry.object == obj and entry.detail["before"] is None and entry.detail["after"]

    (made,) = entries(db, "user_create")
    assert made.username == "admin" and made.role == "admin" and made.object == f"user:{uid}"
    assert made.detail["before"] is None and made.detail["after"]["region_id"] == n["town1"]
    (update,) = entries(db, "user_update")
    assert update.detail["before"]["region_id"] == n["town1"]
    assert update.detail["after"]["region_id"] == n["town2"]
    (reset_entry,) = entries(db, "password_reset")
    assert reset_entry.detail["after"]["password_change_required"] is True
    (rename,) = entries(db, "region_update")
    assert (rename.detail["before"]["name"], rename.detail["after"]["name"]) == (
        "清溪镇", "清溪街道")
    (unit,) = entries(db, "unit_update")
    assert unit.detail["after"]["name"] == "城关镇应急办"
    (moved,) = entries(db, "enterprise_update")
    assert (moved.detail["before"]["region_id"], moved.detail["after"]["region_id"]) == (
        n["town2"], n["town1"])
    (unlock,) = entries(db, "unlock")
    assert unlock.username == "secadmin" and unlock.object == f"user:{uid}"
    # Neither password nor the full phone number is ever written to the log.
    log = json.dumps([e.detail for e in db.scalars(select(AuditEntry))], ensure_ascii=False)
    assert password not in log and reset["temporary_password"] not in log
    assert "13900001234" not in log and "***1234" in log


def test_a_refused_change_is_not_recorded_as_done(client, as_, db) -> None:
    n = ids(db)
    response = client.patch(f"{A}/users/{n['auditor']}", json={"active": False},
                            headers=as_("admin"))
    assert response.status_code == 403
    assert entries(db, "user_update") == []
    assert db.get(User, n["auditor"]).active is True


# Tokens and the temporary password ----------------------------------------------------------

def test_deactivation_ends_an_open_token_at_once(client, as_, db, auth) -> None:
    n = ids(db)
    token = client.post("/api/v1/auth/token", data={"username": "ent_b",
                                                    "password": DEMO_PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.patch(f"{A}/users/{n['ent_b']}", json={"active": False},
                        headers=as_("secadmin")).status_code == 200
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    # Reactivated, the old token stays dead: a new login is needed.
    assert client.patch(f"{A}/users/{n['ent_b']}", json={"active": True},
                        headers=as_("admin")).status_code == 200
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    fresh = client.post("/api/v1/auth/token", data={"username": "ent_b",
                                                    "password": DEMO_PASSWORD})
    assert fresh.status_code == 200


def test_reset_and_role_change_end_tokens_too(client, as_, db) -> None:
    n = ids(db)
    login = client.post("/api/v1/auth/token", data={"username": "insp_town",
                                                    "password": DEMO_PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {login['access_token']}"}
    reset = client.post(f"{A}/users/{n['insp_town']}/password-reset", headers=as_("admin"))
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    temporary = reset.json()["temporary_password"]
    assert client.post("/api/v1/auth/token", data={"username": "insp_town",
                                                   "password": DEMO_PASSWORD}).status_code == 401
    again = client.post("/api/v1/auth/token", data={"username": "insp_town",
                                                    "password": temporary})
    assert again.status_code == 200
    assert db.get(User, n["insp_town"]).password_change_required is True
    bearer = {"Authorization": f"Bearer {again.json()['access_token']}"}
    moved = client.patch(f"{A}/users/{n['insp_town']}",
                         json={"role": "committee", "region_id": n["town1"]},
                         headers=as_("admin"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["unit_id"] is None and moved.json()["region_id"] == n["town1"]
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_new_account_logs_in_with_its_temporary_password(client, as_, db) -> None:
    n = ids(db)
    created = client.post(f"{A}/users", json={"username": "Li.Ming", "role": "enterprise",
                                              "enterprise_id": n["ent_a"],
                                              "display_name": "李明"},
                          headers=as_("admin"))
    assert created.status_code == 201
    body = created.json()
    assert body["username"] == "li.ming" and body["password_change_required"] is True
    login = client.post("/api/v1/auth/token", data={"username": "li.ming",
                                                    "password": body["temporary_password"]})
    assert login.status_code == 200


def test_admins_cannot_lock_themselves_out(client, as_, db) -> None:
    n = ids(db)
    for actor in ("admin", "secadmin"):
        response = client.patch(f"{A}/users/{n[actor]}", json={"active": False},
                                headers=as_(actor))
        assert response.status_code == 403
        assert "自己" in response.json()["detail"]


def test_unlock_lifts_a_lockout(client, as_, db, settings) -> None:
    n = ids(db)
    for _ in range(settings.login_max_failures):
        client.post("/api/v1/auth/token", data={"username": "ent_b", "password": "wrong"})
    db.commit()
    locked = client.post("/api/v1/auth/token", data={"username": "ent_b",
                                                     "password": DEMO_PASSWORD})
    assert locked.status_code == 429
    assert client.post(f"{A}/users/{n['ent_b']}/unlock",
                       headers=as_("secadmin")).status_code == 200
    unlocked = client.post("/api/v1/auth/token", data={"username": "ent_b",
                                                       "password": DEMO_PASSWORD})
    assert unlocked.status_code == 200
    assert db.scalar(select(LoginAttempt.id).where(LoginAttempt.username == "ent_b",
                                                   LoginAttempt.succeeded.is_(True)))


# Moving an enterprise ------------------------------------------------------------------------

def test_a_moved_enterprise_routes_new_assignments_and_keeps_old_ones(client, auth, as_,
                                                                       db) -> None:
    n = ids(db)
    old = report(client, auth, "ent_b")
    ok(act(client, auth, "insp_dept", old["id"], "assign", {"deadline": in_days(7)}))
    before = client.get(f"/api/v1/hazards/{old['id']}", headers=auth("ent_b")).json()
    # Enterprise B (清溪镇, no township office) moves to 城关镇, which has one.
    assert {a["party_id"] for a in before["assignments"] if a["party_type"] == "unit"} == {
        n["dept"]}
    moved = client.patch(f"{A}/enterprises/{n['ent_b']}", json={"region_id": n["town1"]},
                         headers=as_("admin"))
    assert moved.status_code == 200 and moved.json()["region_id"] == n["town1"]
    after = client.get(f"/api/v1/hazards/{old['id']}", headers=auth("ent_b")).json()
    assert after["assignments"] == before["assignments"]
    new = report(client, auth, "ent_b")
    assigned = ok(act(client, auth, "insp_dept", new["id"], "assign", {"deadline": in_days(7)}))
    assert {a["party_id"] for a in assigned["assignments"] if a["party_type"] == "unit"} == {
        n["dept"], n["office"]}


# Bad input ---------------------------------------------------------------------------------

BAD_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/users", {"username": "x" * 65, "role": "committee", "region_id": 1}),
    ("POST", "/users", {"username": "ok_name", "role": "boss", "region_id": 1}),
    ("POST", "/users", {"username": "ok_name", "role": "committee", "region_id": 2**40}),
    ("POST", "/users", {"username": "ok_name", "role": "committee", "region_id": 1,
                        "phone": "1" * 500}),
    ("POST", "/users", {"username": "ok\x00name", "role": "committee", "region_id": 1}),
    ("POST", "/users", {"username": "ok_name", "role": "inspector"}),
    ("POST", "/users", {"username": "ok_name", "role": "inspector", "unit_id": 1,
                        "region_id": 1}),
    ("POST", "/users", {"username": "ok_name", "role": "committee", "region_id": 1,
                        "unknown": 1}),
    ("PATCH", "/users/{ent_b}", {"active": "maybe"}),
    ("PATCH", "/users/{ent_b}", {"phone": "call me"}),
    ("PATCH", "/users/{ent_b}", {"display_name": "名" * 101}),
    ("POST", "/regions", {"parent_id": "{county}", "code": "12345", "name": "镇"}),
    ("POST", "/regions", {"parent_id": "{county}", "code": "339901300000", "name": "镇" * 101}),
    ("POST", "/regions", {"parent_id": "{county}", "code": "339801300000", "name": "镇"}),
    ("POST", "/regions", {"parent_id": "{town1}", "code": "339901300000", "name": "镇"}),
    ("PATCH", "/regions/{town1}", {"name": ""}),
    ("POST", "/units", {"name": "科", "kind": "department", "region_id": "{county}"}),
    ("POST", "/units", {"name": "科", "kind": "township", "region_id": "{county}"}),
    ("POST", "/units", {"name": "科" * 101, "kind": "department", "region_id": "{county}",
                        "industry_ids": ["{jixie}"]}),
    ("POST", "/units", {"name": "科", "kind": "department", "region_id": "{county}",
                        "industry_ids": list(range(1, 60))}),
    ("PATCH", "/units/{office}", {"industry_ids": ["{jixie}"]}),
    ("POST", "/enterprises", {"name": "企业", "uscc": "91339901MA2B00001X",
                              "region_id": "{town1}", "industry_id": "{jixie}"}),
    ("POST", "/enterprises", {"name": "企业", "uscc": "9" * 100, "region_id": "{town1}",
                              "industry_id": "{jixie}"}),
    ("POST", "/enterprises", {"name": "企业", "uscc": "91339901MA2B00003M",
                              "region_id": "{county}", "industry_id": "{jixie}"}),
    ("POST", "/enterprises", {"name": "企业", "uscc": "91339901MA2B00003M",
                              "region_id": "{town1}", "industry_id": "{jixie}", "lat": 99}),
    ("PATCH", "/enterprises/{ent_a}", {"address": "路" * 301}),
    ("PATCH", "/enterprises/{ent_a}", {"lat": 30.0, "lon": None}),
]


def _fill(value: Any, n: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return n[value[1:-1]]
    if isinstance(value, list):
        return [_fill(v, n) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, n) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "payload"), BAD_BODIES)
def test_bad_fields_are_422_in_chinese(client, as_, db, method, path, payload) -> None:
    n = ids(db)
    url = A + path.format(**n)
    response = client.request(method, url, json=_fill(payload, n), headers=as_("admin"))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    messages = [d["msg"] for d in detail] if isinstance(detail, list) else [detail]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in messages), messages


def test_conflicts_and_malformed_bodies(client, as_, db) -> None:
    n = ids(db)
    h = as_("admin")
    dup = client.post(f"{A}/users", json={"username": "ENT_A", "role": "enterprise",
                                          "enterprise_id": n["ent_a"]}, headers=h)
    assert dup.status_code == 409
    taken = client.patch(f"{A}/enterprises/{n['ent_b']}", json={"uscc": "91339901MA2B00001F"},
                         headers=h)
    assert taken.status_code == 409
    code = client.post(f"{A}/regions", json={"parent_id": n["county"], "code": "339901100000",
                                             "name": "重复"}, headers=h)
    assert code.status_code == 409
    for raw in (b"{", b"[1, 2]", b"[" * 50000, b"null"):
        response = client.post(f"{A}/users", content=raw, headers={
            **h, "Content-Type": "application/json"})
        assert response.status_code == 422, raw[:10]
    huge = client.post(f"{A}/users", content=b'{"username": "' + b"x" * 70000 + b'"}',
                       headers={**h, "Content-Type": "application/json"})
    assert huge.status_code == 413
    # 404 before 422: a body is not even read for an account out of reach.
    assert client.patch(f"{A}/users/{n['ent_b']}", json={"active": "maybe"},
                        headers=as_("admin_2")).status_code == 404


def test_a_form_is_accepted_as_well(client, as_, db) -> None:
    n = ids(db)
    response = client.post(f"{A}/regions", data={"parent_id": str(n["county"]),
                                                 "code": "339901400000", "name": "表单镇"},
                           headers=as_("admin"))
    assert response.status_code == 201, response.text
    assert response.json()["level"] == "township"


def test_a_township_office_made_here_supervises_its_township(client, as_, db) -> None:
    n = ids(db)
    made = client.post(f"{A}/units", json={"name": "清溪镇安全生产办公室", "kind": "township",
                                           "region_id": n["town2"]}, headers=as_("admin"))
    assert made.status_code == 201, made.text
    assert made.json()["region_ids"] == [n["town2"]] and made.json()["industry_ids"] == []
    unit = db.get(Unit, made.json()["id"])
    assert unit.kind == UnitKind.township
