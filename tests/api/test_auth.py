"""Login (OAuth2 password flow), /me, and the lockout after repeated failures."""

from datetime import timedelta

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


def test_token_expires(client, clock) -> None:
    token = login(client, "ent_a", DEMO_PASSWORD).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(hours=8, seconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 401
