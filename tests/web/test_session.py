"""Cookie sessions: login and lockout, cookie flags, timeout, logout, CSRF on every form."""

from datetime import timedelta

from sqlalchemy import func, select

from app.core.security import WebSession, decode_session, encode_session, issue_token, read_token
from app.models import Hazard, RevokedSession
from app.models import User as DbUser
from app.services.accounts.auth import purge_revoked_sessions
from app.services.org.demo import DEMO_PASSWORD
from tests.web.pages import User, csrf_of


def test_pages_need_a_session_and_return_to_the_page_after_login(app) -> None:
    visitor = User(app)
    response = visitor.get("/hazards/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fhazards%2Fnew"
    assert visitor.get("/").headers["location"] == "/login"
    response = visitor.login("ent_a", next="/hazards/new")
    assert response.headers["location"] == "/hazards/new"
    assert visitor.get("/hazards/new").status_code == 200


def test_login_never_redirects_to_another_site(app) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert User(app).login("ent_a", next=target).headers["location"] == "/"


def test_session_cookie_is_httponly_lax_and_secure_over_https(app) -> None:
    plain = User(app).login("ent_a")
    cookie = plain.headers["set-cookie"]
    assert cookie.startswith("bihuan_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    secure = User(app, base_url="https://testserver").login("ent_a")
    assert "Secure" in secure.headers["set-cookie"]


def test_wrong_password_shows_a_chinese_message_and_keeps_the_username(app) -> None:
    response = User(app).login("ent_a", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="ent_a"' in response.text
    assert "wrong-password" not in response.text


def test_the_lockout_of_the_api_applies_to_the_pages(app, client) -> None:
    visitor = User(app)
    for _ in range(5):
        assert visitor.login("insp_town", "wrong").status_code == 401
    locked = visitor.login("insp_town", DEMO_PASSWORD)
    assert locked.status_code == 429
    assert "账号已锁定" in locked.text
    assert int(locked.headers["retry-after"]) == 15 * 60
    # The same five failures lock the API's token endpoint too.
    api = client.post("/api/v1/auth/token",
                      data={"username": "insp_town", "password": DEMO_PASSWORD})
    assert api.status_code == 429


def test_idle_timeout_and_sliding_renewal(app, clock, settings) -> None:
    settings.session_timeout_minutes = 30
    user = User(app, "ent_a")
    clock.advance(timedelta(minutes=29))
    assert user.get("/").status_code == 200  # renews the cookie: another 30 minutes
    clock.advance(timedelta(minutes=29))
    assert user.get("/").status_code == 200
    clock.advance(timedelta(minutes=31))
    response = user.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_session_ends_at_the_latest_token_ttl_after_login(app, clock, settings) -> None:
    settings.session_timeout_minutes = 30
    settings.token_ttl_minutes = 60
    user = User(app, "ent_a")
    for minutes in (20, 20, 19):  # active every 20 minutes: well within the idle timeout
        clock.advance(timedelta(minutes=minutes))
        assert user.get("/").status_code == 200
    clock.advance(timedelta(minutes=1))  # 60 minutes after login, however active
    assert user.get("/").status_code == 303


def test_logout_clears_the_cookie(app) -> None:
    user = User(app, "ent_a")
    response = user.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login?bye=1"
    assert 'bihuan_session=""' in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert user.get("/").status_code == 303
    assert "您已退出登录" in user.get("/login?bye=1").text


def test_a_copy_of_the_cookie_is_worthless_after_logout(app, db, clock, settings) -> None:
    user = User(app, "ent_a")
    copy = User(app)  # e.g. a cookie left behind on a shared computer, taken before logout
    copy.client.cookies.update(user.client.cookies)
    assert copy.get("/").status_code == 200
    user.post("/logout")
    response = copy.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    # Signing in again works, with a new session.
    assert copy.login("ent_a").status_code == 303
    assert copy.get("/").status_code == 200
    # The revocation is kept only as long as the cookie could have lived.
    clock.advance(timedelta(minutes=settings.session_timeout_minutes + 1))
    assert purge_revoked_sessions(db, now=clock.now()) == 1
    assert db.scalar(select(func.count()).select_from(RevokedSession)) == 0


def test_a_deactivated_user_is_sent_to_the_login_form_once(app, db) -> None:
    user = User(app, "ent_b")
    db.scalars(select(DbUser).where(DbUser.username == "ent_b")).one().active = False
    db.flush()
    response = user.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert user.get("/login").status_code == 200  # the form, not a redirect back to "/"


def test_session_cookies_and_bearer_tokens_are_not_interchangeable(clock) -> None:
    now = clock.now()
    assert decode_session(issue_token(1, now), now) is None
    assert read_token(encode_session(WebSession.signed_in(1, now)), now) is None
    assert decode_session(encode_session(WebSession.signed_in(1, now)), now).user_id == 1


def hazard_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Hazard))


def test_every_form_refuses_a_missing_or_foreign_csrf_token(app, db) -> None:
    ent = User(app, "ent_a")
    hid = ent.report()
    other = User(app, "ent_a")  # another session of the same user: another token
    assert other.csrf != ent.csrf
    before = hazard_count(db)
    posts = [
        ("/hazards/new", {"title": "t", "description": "d", "location": "l", "level": "general"}),
        (f"/hazards/{hid}/actions/accept", {}),
        (f"/hazards/{hid}/extension", {}),
        (f"/hazards/{hid}/extensions/1/decision", {"decision": "approve"}),
        (f"/hazards/{hid}/listing", {}),
        (f"/hazards/{hid}/delisting", {}),
        ("/notices/1/ack", {}),
        ("/logout", {}),
    ]
    for url, data in posts:
        for token in ("", "0" * 64, other.csrf):
            response = ent.post(url, data, csrf=token, photos=1 if url == "/hazards/new" else 0)
            assert response.status_code == 403, (url, token, response.text)
            assert "CSRF 校验失败" in response.text
    assert hazard_count(db) == before
    assert ent.get("/").status_code == 200  # still signed in: the logout was refused too


def test_the_login_form_is_csrf_protected(app) -> None:
    visitor = User(app)
    csrf_of(visitor.client.get("/login").text)
    response = visitor.client.post("/login", data={"username": "ent_a",
                                                   "password": DEMO_PASSWORD},
                                   follow_redirects=False)
    assert response.status_code == 403
    assert visitor.get("/").status_code == 303


def test_a_script_may_send_the_token_as_a_header(app) -> None:
    ent = User(app, "ent_a")
    response = ent.client.post(
        "/hazards/new", data={"title": "t", "description": "d", "location": "l",
                              "level": "general"},
        files=[("photos", ("a.jpg", _jpeg(), "image/jpeg"))],
        headers={"X-CSRF-Token": ent.csrf}, follow_redirects=False)
    assert response.status_code == 303


def _jpeg() -> bytes:
    from tests.samples import jpeg_bytes
    return jpeg_bytes()


def test_a_bumped_token_version_ends_tokens_and_sessions_at_once(app, client, db, clock,
                                                                 auth) -> None:
    """Deactivation, a reset or a role change bump the user's token version (docs/api.md):
    a token or a page session issued before is refused on its next request."""
    page_user = User(app, "ent_a")
    assert client.get("/api/v1/me", headers=auth("ent_a")).status_code == 200
    assert page_user.get("/").status_code == 200
    user = db.scalars(select(DbUser).where(DbUser.username == "ent_a")).one()
    user.token_version += 1
    db.commit()  # the tests' savepoint: a refused request below rolls back only its own work
    response = page_user.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/api/v1/me", headers=auth("ent_a")).status_code == 401
    fresh = issue_token(user.id, clock.now(), user.token_version)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.json()["username"] == "ent_a"
