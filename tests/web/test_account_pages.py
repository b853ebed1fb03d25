"""The account pages (docs/accounts.md): login's second step, the forced password change, the
second factor's enrolment with its QR code, the lockout on the second step, logout audited."""

import re
from datetime import timedelta

from sqlalchemy import select

from app.models import AuditEntry
from app.services.accounts.otp import PERIOD_SECONDS, decode_secret, otp_at, step_at
from app.services.org.demo import DEMO_PASSWORD
from tests.web.pages import User, csrf_of

NEW_PASSWORD = "Nicer-Pass-2027"
SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')
CHALLENGE = re.compile(r'name="challenge" value="([^"]+)"')


def code_now(secret: str, clock, offset: int = 0) -> str:
    return otp_at(decode_secret(secret), step_at(clock.now()) + offset)


def enrol_on_the_page(user: User, clock) -> tuple[str, list[str]]:
    assert user.post("/account/otp/start").headers["location"] == "/account/otp"
    page = user.get("/account/otp")
    assert page.status_code == 200 and "<svg" in page.text
    secret = SECRET.search(page.text).group(1)
    done = user.post("/account/otp/confirm", {"otp": code_now(secret, clock)})
    assert done.status_code == 200, done.text
    assert done.headers["cache-control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", done.text)
    clock.advance(timedelta(seconds=PERIOD_SECONDS))
    return secret, codes


def first_step(user: User, username: str, password: str = DEMO_PASSWORD):
    token = csrf_of(user.client.get("/login").text)
    return user.client.post("/login", data={"username": username, "password": password,
                                            "csrf_token": token, "next": "/notices"},
                            follow_redirects=False)


def second_step(user: User, step_page: str, otp: str):
    return user.client.post("/login/otp", data={
        "csrf_token": csrf_of(step_page), "challenge": CHALLENGE.search(step_page).group(1),
        "next": "/notices", "otp": otp}, follow_redirects=False)


def test_a_staff_member_enrols_on_the_page_and_then_logs_in_in_two_steps(app, db, clock,
                                                                          settings) -> None:
    settings.otp_required_roles = "inspector"
    user = User(app, "insp_town")
    # Every page sends the user to the enrolment page first.
    for path in ("/", "/notices", "/whoami"):
        assert user.get(path).headers["location"] == "/account/otp", path
    assert user.get("/account/password").status_code == 200  # open while enrolling
    intro = user.get("/account/otp")
    assert "开始绑定" in intro.text
    wrong = user.post("/account/otp/start")
    page = user.get("/account/otp")
    secret = SECRET.search(page.text).group(1)
    refused = user.post("/account/otp/confirm", {"otp": "12345"})
    assert refused.status_code == 422 and "动态口令不正确" in refused.text
    assert "<svg" in refused.text  # the QR code again, to try once more
    assert wrong.status_code == 303
    done = user.post("/account/otp/confirm", {"otp": code_now(secret, clock)})
    assert done.status_code == 200 and "恢复码只显示这一次" in done.text
    assert user.get("/").status_code == 200
    clock.advance(timedelta(seconds=PERIOD_SECONDS))
    # The next login asks for the code after the password; no session before it.
    browser = User(app)
    step = first_step(browser, "insp_town")
    assert step.status_code == 200 and "输入动态口令" in step.text
    assert DEMO_PASSWORD not in step.text
    assert browser.get("/").status_code == 303
    bad = second_step(browser, step.text, "000000" if code_now(secret, clock) != "000000"
                      else "111111")
    assert bad.status_code == 401 and "动态口令不正确" in bad.text
    code = code_now(secret, clock)
    ok = second_step(browser, bad.text, code)
    assert ok.status_code == 303 and ok.headers["location"] == "/notices"
    assert browser.get("/notices").status_code == 200
    # The same code in another browser: refused (a code is accepted once).
    other = User(app)
    replay = second_step(other, first_step(other, "insp_town").text, code)
    assert replay.status_code == 401
    logins = db.scalars(select(AuditEntry).where(AuditEntry.action == "login")
                        .order_by(AuditEntry.seq)).all()
    assert logins[-1].detail == {"channel": "page", "second_factor": "totp"}


def test_a_challenge_is_worth_nothing_in_another_browser(app, clock) -> None:
    owner = User(app, "insp_dept")
    secret, _ = enrol_on_the_page(owner, clock)
    victim = User(app)
    step = first_step(victim, "insp_dept").text
    thief = User(app)
    thief.client.get("/login")
    stolen = thief.client.post("/login/otp", data={
        "csrf_token": csrf_of(thief.client.get("/login").text),
        "challenge": CHALLENGE.search(step).group(1), "otp": code_now(secret, clock)},
        follow_redirects=False)
    assert stolen.status_code == 401 and "登录已失效" in stolen.text
    # An expired challenge sends the user back to the password.
    clock.advance(timedelta(minutes=6))
    late = second_step(victim, step, code_now(secret, clock))
    assert late.status_code == 401 and "登录已失效" in late.text


def test_recovery_codes_on_the_page_work_once(app, clock) -> None:
    _, codes = enrol_on_the_page(User(app, "anweiban"), clock)
    assert len(codes) == 10
    browser = User(app)
    assert second_step(browser, first_step(browser, "anweiban").text, codes[3]
                       ).status_code == 303
    again = User(app)
    assert second_step(again, first_step(again, "anweiban").text, codes[3]).status_code == 401


def test_wrong_codes_on_the_page_lock_the_account(app, clock) -> None:
    secret, _ = enrol_on_the_page(User(app, "insp_dept"), clock)
    browser = User(app)
    step = first_step(browser, "insp_dept").text
    for _ in range(5):
        response = second_step(browser, step, "99999a")
        assert response.status_code == 401
        step = response.text
    locked = second_step(browser, step, code_now(secret, clock))
    assert locked.status_code == 429 and "账号已锁定" in locked.text


def test_a_forced_password_change_on_the_page(app, db, users) -> None:
    users["ent_a"].password_change_required = True
    db.commit()
    user = User(app)
    assert first_step(user, "ent_a").status_code == 303
    user.csrf = csrf_of(user.get("/account/password").text)
    for path in ("/", "/hazards/new", "/whoami", "/account/otp"):
        assert user.get(path).headers["location"] == "/account/password", path
    form = user.get("/account/password")
    assert form.status_code == 200 and "请先设置新密码" in form.text
    elsewhere = User(app)
    assert first_step(elsewhere, "ent_a").status_code == 303
    weak = user.post("/account/password", {"current_password": DEMO_PASSWORD,
                                           "new_password": "password"})
    assert weak.status_code == 422 and "至少三类" in weak.text
    assert DEMO_PASSWORD not in weak.text
    wrong = user.post("/account/password", {"current_password": "x" * 2000,
                                            "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    changed = user.post("/account/password", {"current_password": DEMO_PASSWORD,
                                              "new_password": NEW_PASSWORD})
    assert changed.status_code == 303 and changed.headers["location"] == "/"
    assert user.get("/").status_code == 200  # this browser goes on
    assert elsewhere.get("/").headers["location"] == "/login"  # the other session ended


def test_logout_is_audited(app, db, users) -> None:
    user = User(app, "ent_b")
    user.post("/logout")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "logout")).one()
    assert (entry.username, entry.object, entry.result) == (
        "ent_b", f"user:{users['ent_b'].id}", "success")
