"""Passwords and the second factor over the API (docs/accounts.md): forced change and expiry,
TOTP enrolment and login, replayed codes, recovery codes, the lockout, the security admin's
reset, argon2 rehash, bad input, and the audit entries of each (never a secret in them)."""

import json
import re
from datetime import timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.security import issue_token
from app.models import AuditEntry, RecoveryCode, Region
from app.models.enums import Role
from app.services.accounts.otp import PERIOD_SECONDS, decode_secret, otp_at, step_at
from app.services.accounts.users import create_user
from app.services.org.demo import DEMO_PASSWORD

NEW_PASSWORD = "Nicer-Pass-2027"


def login(client, username: str, password: str = DEMO_PASSWORD, otp: str | None = None):
    data = {"username": username, "password": password}
    if otp is not None:
        data["otp"] = otp
    return client.post("/api/v1/auth/token", data=data)


def bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def entries(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)
                           .order_by(AuditEntry.seq)))


def code_now(secret: str, clock, offset_steps: int = 0) -> str:
    return otp_at(decode_secret(secret), step_at(clock.now()) + offset_steps)


def enrol(client, headers, clock) -> tuple[str, list[str]]:
    """Enrol the caller's TOTP; returns the secret and the recovery codes. The clock then
    moves on a step, so the next login needs a fresh code."""
    started = client.post("/api/v1/me/otp", headers=headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = client.post("/api/v1/me/otp/confirm", headers=headers,
                            data={"otp": code_now(secret, clock)})
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(timedelta(seconds=PERIOD_SECONDS))
    return secret, confirmed.json()["recovery_codes"]


def no_secret_in_the_log(db: Session, *secrets: str) -> None:
    text = json.dumps([[e.detail, e.object, e.username] for e in db.scalars(select(AuditEntry))],
                      ensure_ascii=False)
    for secret in secrets:
        assert secret not in text


def test_forced_password_change_opens_only_me_and_the_change(client, db, users) -> None:
    users["insp_town"].password_change_required = True
    db.commit()
    headers = bearer(login(client, "insp_town"))
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["password_change_required"] is True
    for method, path in (("get", "/api/v1/hazards"), ("post", "/api/v1/me/otp"),
                         ("get", "/api/v1/board")):
        refused = client.request(method, path, headers=headers)
        assert refused.status_code == 403, path
        assert refused.json() == {"detail": "password_change_required"}
    wrong = client.post("/api/v1/me/password", headers=headers,
                        data={"current_password": "not-it", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["msg"] == "当前密码不正确"
    weak = client.post("/api/v1/me/password", headers=headers,
                       data={"current_password": DEMO_PASSWORD, "new_password": "abcdefgh"})
    assert weak.status_code == 422
    assert weak.json()["detail"][0] == {
        "loc": ["body", "new_password"], "type": "password_weak",
        "msg": "密码须包含小写字母、大写字母、数字、符号中的至少三类"}
    changed = client.post("/api/v1/me/password", headers=headers,
                          data={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204, changed.text
    # The change ends the user's tokens; the new password logs in to everything.
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert login(client, "insp_town").status_code == 401
    fresh = bearer(login(client, "insp_town", NEW_PASSWORD))
    assert client.get("/api/v1/me", headers=fresh).json()["password_change_required"] is False
    assert client.get("/api/v1/hazards", headers=fresh).status_code == 200
    results = [(e.result, (e.detail or {}).get("reason")) for e in
               entries(db, "password_change")]
    assert results == [("failure", "current_password"), ("failure", "weak_or_reused"),
                       ("success", None)]
    no_secret_in_the_log(db, DEMO_PASSWORD, NEW_PASSWORD, "abcdefgh", "not-it")


def test_a_reused_password_is_refused(client, db, auth) -> None:
    refused = client.post("/api/v1/me/password", headers=auth("ent_a"),
                          data={"current_password": DEMO_PASSWORD,
                                "new_password": DEMO_PASSWORD})
    assert refused.status_code == 422
    assert "最近 5 次" in refused.json()["detail"][0]["msg"]


def test_wrong_current_passwords_count_toward_the_lockout(client, auth) -> None:
    headers = auth("ent_a")
    for _ in range(5):
        response = client.post("/api/v1/me/password", headers=headers,
                               data={"current_password": "guess", "new_password": NEW_PASSWORD})
        assert response.status_code == 422
    assert login(client, "ent_a").status_code == 429
    locked = client.post("/api/v1/me/password", headers=headers,
                         data={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})
    assert locked.status_code == 429


def test_an_expired_password_must_be_changed(client, db, users, clock, settings) -> None:
    settings.password_max_age_days = 90
    users["ent_a"].password_changed_at = clock.now() - timedelta(days=89)
    users["ent_b"].password_changed_at = clock.now() - timedelta(days=90)
    db.commit()
    assert client.get("/api/v1/hazards", headers=bearer(login(client, "ent_a"))
                      ).status_code == 200
    expired = bearer(login(client, "ent_b"))
    assert client.get("/api/v1/me", headers=expired).json()["password_change_required"]
    assert client.get("/api/v1/hazards", headers=expired).json() == {
        "detail": "password_change_required"}
    assert entries(db, "login")[-1].detail == {"channel": "api", "second_factor": "none",
                                               "password_expired": True}


def test_demo_passwords_never_expire_in_development(client, db, users, clock) -> None:
    users["ent_a"].password_changed_at = clock.now() - timedelta(days=3650)
    db.commit()
    assert client.get("/api/v1/hazards", headers=bearer(login(client, "ent_a"))
                      ).status_code == 200


def test_staff_must_enrol_a_second_factor(client, db, clock, settings) -> None:
    settings.otp_required_roles = "inspector,committee"
    headers = bearer(login(client, "insp_town"))
    refused = client.get("/api/v1/hazards", headers=headers)
    assert refused.status_code == 403 and refused.json() == {"detail": "otp_enrolment_required"}
    assert client.get("/api/v1/me", headers=headers).json()["otp_enabled"] is False
    # Enterprises are not named: their tokens work.
    assert client.get("/api/v1/hazards", headers=bearer(login(client, "ent_a"))
                      ).status_code == 200
    started = client.post("/api/v1/me/otp", headers=headers)
    assert started.headers["cache-control"] == "no-store"
    secret, uri = started.json()["secret"], started.json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert len(decode_secret(secret)) == 20
    wrong = client.post("/api/v1/me/otp/confirm", headers=headers, data={"otp": "000000"
                        if code_now(secret, clock) != "000000" else "111111"})
    assert wrong.status_code == 422 and "动态口令不正确" in wrong.json()["detail"][0]["msg"]
    assert client.get("/api/v1/hazards", headers=headers).status_code == 403
    confirmed = client.post("/api/v1/me/otp/confirm", headers=headers,
                            data={"otp": code_now(secret, clock)})
    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    # Enrolled: the same token now opens everything, and /me says so.
    assert client.get("/api/v1/hazards", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).json()["otp_enabled"] is True
    # An enabled factor is replaced only after a security admin's reset.
    assert client.post("/api/v1/me/otp", headers=headers).status_code == 409
    assert [e.result for e in entries(db, "otp_enable")] == ["failure", "success"]
    no_secret_in_the_log(db, secret, *codes)


def test_login_with_totp_accepts_each_code_once(client, db, auth, clock) -> None:
    secret, _ = enrol(client, auth("insp_dept"), clock)
    missing = login(client, "insp_dept")
    assert missing.status_code == 401 and missing.json() == {"detail": "otp_required"}
    wrong = str((int(code_now(secret, clock)) + 1) % 1_000_000).zfill(6)
    assert login(client, "insp_dept", otp=wrong).json() == {"detail": "otp_invalid"}
    assert login(client, "insp_dept", "wrong-password", otp=code_now(secret, clock)
                 ).status_code == 401
    code = code_now(secret, clock)
    headers = bearer(login(client, "insp_dept", otp=code))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    # Replayed within its 30 seconds: refused.
    assert login(client, "insp_dept", otp=code).json() == {"detail": "otp_invalid"}
    # The next step's code works; the one before it, still within the drift window, no
    # longer does (an older step than one already accepted).
    clock.advance(timedelta(seconds=PERIOD_SECONDS))
    assert login(client, "insp_dept", otp=code_now(secret, clock)).status_code == 200
    assert login(client, "insp_dept", otp=code_now(secret, clock, -1)).status_code == 401
    # Drift of one step either way is accepted.
    clock.advance(timedelta(seconds=PERIOD_SECONDS))
    assert login(client, "insp_dept", otp=code_now(secret, clock, +1)).status_code == 200
    clock.advance(timedelta(seconds=3 * PERIOD_SECONDS))
    assert login(client, "insp_dept", otp=code_now(secret, clock, -2)).status_code == 401
    reasons = [e.detail["reason"] for e in entries(db, "login_failed")]
    assert reasons == ["otp_invalid", "password", "otp_invalid", "otp_invalid", "otp_invalid"]
    assert [e.detail["second_factor"] for e in entries(db, "login")] == ["totp"] * 3
    no_secret_in_the_log(db, secret, code, wrong)


def test_recovery_codes_work_once_each_and_are_stored_hashed(client, db, auth, users,
                                                             clock) -> None:
    _, codes = enrol(client, auth("anweiban"), clock)
    stored = db.scalars(select(RecoveryCode.code_hash).where(
        RecoveryCode.user_id == users["anweiban"].id)).all()
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & {s.removeprefix("sha256:") for s in stored}
    assert all(code not in json.dumps(stored) for code in codes)
    # Typed in upper case and without the dashes: still the code.
    assert login(client, "anweiban", otp=codes[0].upper().replace("-", " ")).status_code == 200
    assert login(client, "anweiban", otp=codes[0]).json() == {"detail": "otp_invalid"}
    assert login(client, "anweiban", otp=codes[1]).status_code == 200
    assert entries(db, "login")[-1].detail == {"channel": "api",
                                               "second_factor": "recovery_code",
                                               "recovery_codes_left": 8}
    no_secret_in_the_log(db, *codes)


def test_wrong_codes_count_toward_the_lockout(client, db, auth, clock) -> None:
    secret, _ = enrol(client, auth("insp_town"), clock)
    for _ in range(5):
        assert login(client, "insp_town", otp="12345x").status_code == 401
    locked = login(client, "insp_town", otp=code_now(secret, clock))
    assert locked.status_code == 429 and "账号已锁定" in locked.json()["detail"]
    assert entries(db, "login_failed")[-1].detail["reason"] == "locked"
    clock.advance(timedelta(minutes=15))
    assert login(client, "insp_town", otp=code_now(secret, clock)).status_code == 200


def test_oversized_and_odd_fields_are_refused_in_chinese(client, auth) -> None:
    for data, field in (({"username": "u" * 65, "password": "x"}, "username"),
                        ({"username": "ent_a", "password": "x" * 1025}, "password"),
                        ({"username": "ent_a", "password": DEMO_PASSWORD, "otp": "1" * 65},
                         "otp")):
        response = client.post("/api/v1/auth/token", data=data)
        assert response.status_code == 422, response.text
        problem = response.json()["detail"][0]
        assert problem["loc"] == ["body", field] and "内容过长" in problem["msg"]
        assert "input" not in problem and "x" * 1025 not in response.text
    headers = auth("ent_a")
    for data, status, words in (
            ({"current_password": DEMO_PASSWORD, "new_password": "Aa1!" * 40}, 422, "最多 128"),
            ({"current_password": "x" * 1025, "new_password": NEW_PASSWORD}, 422, "内容过长"),
            ({"current_password": DEMO_PASSWORD}, 422, "必填"),
            ({"current_password": DEMO_PASSWORD, "new_password": "短"}, 422, "至少 8 位")):
        response = client.post("/api/v1/me/password", headers=headers, data=data)
        assert response.status_code == status and words in response.text, response.text
    assert client.post("/api/v1/me/otp/confirm", headers=headers, data={"otp": "1" * 65}
                       ).status_code == 422
    assert client.post("/api/v1/me/otp/confirm", headers=headers, data={"otp": "123456"}
                       ).json() == {"detail": "请先开始绑定（获取密钥或二维码）"}
    # NUL characters and odd codes: a plain 401, never a 500.
    assert login(client, "ent\x00a").status_code == 401
    assert login(client, "ent_a", otp="\x00").status_code == 200  # no factor enabled: ignored


def _security_admin(db: Session, clock, region_code: str) -> dict[str, str]:
    region = db.scalars(select(Region).where(Region.code == region_code)).one()
    user = create_user(db, username=f"sec_{region_code[-6:]}", password="Sec-Admin-2026",
                       role=Role.security_admin, region_id=region.id, clock=clock)
    db.commit()
    return {"Authorization": f"Bearer {issue_token(user.id, clock.now())}"}


def test_a_security_admin_resets_the_second_factor_within_its_region(client, db, auth, users,
                                                                     clock) -> None:
    secret, _ = enrol(client, auth("insp_town"), clock)
    old = bearer(login(client, "insp_town", otp=code_now(secret, clock)))
    county_admin = _security_admin(db, clock, "339901000000")
    town2_admin = _security_admin(db, clock, "339901101000")
    target = users["insp_town"].id
    # Other roles may never (403); outside the region subtree or unknown: 404.
    for username in ("admin", "anweiban", "ent_a", "insp_dept"):
        assert client.post(f"/api/v1/admin/users/{target}/otp-reset",
                           headers=auth(username)).status_code == 403
    assert client.post(f"/api/v1/admin/users/{target}/otp-reset",
                       headers=town2_admin).status_code == 404
    for missing in (999_999, 2**31, 0):
        assert client.post(f"/api/v1/admin/users/{missing}/otp-reset",
                           headers=county_admin).status_code == 404
    assert client.post(f"/api/v1/admin/users/{users['ent_b'].id}/otp-reset",
                       headers=town2_admin).status_code == 204
    reset = client.post(f"/api/v1/admin/users/{target}/otp-reset", headers=county_admin)
    assert reset.status_code == 204
    # The user's tokens end; it logs in with the password alone and may enrol again.
    assert client.get("/api/v1/me", headers=old).status_code == 401
    fresh = bearer(login(client, "insp_town"))
    assert client.get("/api/v1/me", headers=fresh).json()["otp_enabled"] is False
    assert db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == target)).all() == []
    entry = entries(db, "otp_reset")[-1]
    assert (entry.username, entry.object, entry.detail) == (
        "sec_000000", f"user:{target}",
        {"before": {"otp_enabled": True}, "after": {"otp_enabled": False}})


def test_login_rehashes_a_password_made_with_other_argon2_parameters(client, db,
                                                                     users) -> None:
    weak_hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192),))
    users["ent_a"].password_hash = weak_hasher.hash(DEMO_PASSWORD)
    db.commit()
    assert login(client, "ent_a").status_code == 200
    db.refresh(users["ent_a"])
    current = users["ent_a"].password_hash
    assert "m=8192" not in current and "t=1," not in current
    assert not PasswordHash((Argon2Hasher(),)).current_hasher.check_needs_rehash(current)
    assert login(client, "ent_a").status_code == 200
    db.refresh(users["ent_a"])
    assert users["ent_a"].password_hash == current  # rehashed once, not at every login


def test_logins_are_audited_with_their_outcome(client, db, users) -> None:
    assert login(client, "ent_a", "wrong-password").status_code == 401
    assert login(client, "nobody-here", "wrong-password").status_code == 401
    users["ent_b"].active = False
    db.commit()
    assert login(client, "ent_b").status_code == 401
    assert login(client, "ent_a").status_code == 200
    failed = [(e.username, e.result, e.detail["reason"]) for e in entries(db, "login_failed")]
    assert failed == [("ent_a", "failure", "password"), ("nobody-here", "failure", "unknown_user"),
                      ("ent_b", "failure", "inactive")]
    success = entries(db, "login")[-1]
    assert (success.username, success.role, success.result, success.object) == (
        "ent_a", "enterprise", "success", f"user:{users['ent_a'].id}")
    no_secret_in_the_log(db, DEMO_PASSWORD, "wrong-password")


PUBLIC_PATHS = ("/api/v1/auth/token", "/api/v1/tips/receipt/", "/open311/")


def _authenticated_operations(app) -> list[tuple[str, str]]:
    """Every /api/v1 operation that takes a token, with its path ids filled in."""
    operations = []
    for path, item in app.openapi()["paths"].items():
        if not path.startswith("/api/v1") or path.startswith(PUBLIC_PATHS):
            continue
        for method in item:
            if (method, path) != ("post", "/api/v1/tips"):
                operations.append((method, re.sub(r"\{[a-z_]+\}", "1", path)))
    return operations


def test_the_gates_close_every_other_endpoint(app, client, db, users, settings) -> None:
    """One gate for all: each authenticated endpoint but the account's own answers the gate's
    403 to a token of a user who must change the password, or enrol a second factor."""
    users["ent_a"].password_change_required = True
    db.commit()
    settings.otp_required_roles = "committee"
    changing, enrolling = bearer(login(client, "ent_a")), bearer(login(client, "anweiban"))
    operations = _authenticated_operations(app)
    assert len(operations) > 50
    for method, path in operations:
        for headers, gate, open_paths in (
                (changing, "password_change_required", {("get", "/api/v1/me"),
                                                        ("post", "/api/v1/me/password")}),
                (enrolling, "otp_enrolment_required", {
                    ("get", "/api/v1/me"), ("post", "/api/v1/me/password"),
                    ("post", "/api/v1/me/otp"), ("post", "/api/v1/me/otp/confirm")})):
            if (method, path) in open_paths:
                continue
            response = client.request(method, path, headers=headers)
            assert (response.status_code, response.json()) == (403, {"detail": gate}), (
                method, path)
