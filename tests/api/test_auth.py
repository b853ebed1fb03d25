"""Login (OAuth2 password flow), /me, and the lockout after repeated failures."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import Conflict
from app.models import User
from app.models.enums import Role
from app.services.accounts.users import create_user
from app.services.org.demo import DEMO_PASSWORD


def login(client, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_login_and_me(client, users) -> None:
    response = login(client, "insp_town", DEMO_PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "id": users["insp_town"].id, "username": "insp_town", "role": "inspector",
        "unit_id": users["insp_town"].unit_id, "enterprise_id": None, "region_id": None,
        "password_change_required": False, "otp_enabled": False,
    }


def test_me_for_each_role(client, auth, users) -> None:
    expected = {"ent_a": "enterprise", "insp_dept": "inspector", "anweiban": "committee",
                "admin": "admin"}
    for username, role in expected.items():
        me = client.get("/api/v1/me", headers=auth(username)).json()
        assert me["role"] == role
    assert client.get("/api/v1/me", headers=auth("ent_a")).json()["enterprise_id"] == \
        users["ent_a"].enterprise_id
    assert client.get("/api/v1/me", headers=auth("anweiban")).json()["region_id"] == \
        users["anweiban"].region_id


def test_wrong_credentials_are_401(client) -> None:
    assert login(client, "ent_a", "wrong-password").status_code == 401
    assert login(client, "nobody", DEMO_PASSWORD).status_code == 401


def test_inactive_user_cannot_log_in(client, db, users) -> None:
    users["ent_b"].active = False
    db.flush()
    assert login(client, "ent_b", DEMO_PASSWORD).status_code == 401


def test_five_failures_lock_the_username_for_fifteen_minutes(client, clock) -> None:
    for _ in range(5):
        assert login(client, "ent_a", "wrong-password").status_code == 401
        clock.advance(timedelta(minutes=2))
    # Locked, even with the right password; the other users are not affected.
    locked = login(client, "ent_a", DEMO_PASSWORD)
    assert locked.status_code == 429
    retry_after = int(locked.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60
    assert login(client, "ent_b", DEMO_PASSWORD).status_code == 200
    clock.advance(timedelta(seconds=retry_after - 1))
    assert login(client, "ent_a", DEMO_PASSWORD).status_code == 429
    clock.advance(timedelta(seconds=1))
    assert login(client, "ent_a", DEMO_PASSWORD).status_code == 200


def test_failures_spread_beyond_the_window_do_not_lock(client, clock) -> None:
    for _ in range(6):
        assert login(client, "ent_a", "wrong-password").status_code == 401
        clock.advance(timedelta(minutes=4))
    assert login(client, "ent_a", DEMO_PASSWORD).status_code == 200


def test_a_success_resets_the_count(client, clock) -> None:
    for _ in range(4):
        login(client, "ent_a", "wrong-password")
    assert login(client, "ent_a", DEMO_PASSWORD).status_code == 200
    for _ in range(4):
        assert login(client, "ent_a", "wrong-password").status_code == 401
    assert login(client, "ent_a", DEMO_PASSWORD).status_code == 200


def test_usernames_are_one_account_whatever_their_case(client, db, clock) -> None:
    """Login folds the case (and trims) as creation does; the lockout counts the failures of
    every spelling together, and no second account differing only in case can be made."""
    for spelling in ("ENT_A", "Ent_a", "ent_A", "eNt_a", "ENT_a"):
        assert login(client, spelling, "wrong-password").status_code == 401
    assert login(client, "ent_a", DEMO_PASSWORD).status_code == 429
    clock.advance(timedelta(minutes=16))
    token = login(client, " Ent_A ", DEMO_PASSWORD).json()["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["username"] == "ent_a"
    county = db.scalars(select(User.region_id).where(User.username == "anweiban")).one()
    with pytest.raises(Conflict):
        create_user(db, username="AnWeiBan", password="another-pass-2026", role=Role.committee,
                    region_id=county, clock=clock)
    made = create_user(db, username="  New_User ", password="another-pass-2026",
                       role=Role.admin, region_id=county, clock=clock)
    assert made.username == "new_user"
    db.flush()
    assert login(client, "NEW_USER", "another-pass-2026").status_code == 200


def test_token_expires(client, clock) -> None:
    token = login(client, "ent_a", DEMO_PASSWORD).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(hours=8, seconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 401
