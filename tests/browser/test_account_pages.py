"""The second factor's enrolment and the two-step login in a real browser at 360 px: the QR
code fits the phone, the pages are labelled and legible, and the codes work."""

import time

from playwright.sync_api import expect

from app.services.accounts.otp import PERIOD_SECONDS, decode_secret, otp_at
from tests.browser.checks import accessibility_problems


def code_now(secret: str) -> str:
    return otp_at(decode_secret(secret), int(time.time()) // PERIOD_SECONDS)


def test_enrol_on_a_phone_and_log_in_with_the_code(phone, artifacts) -> None:
    page = phone("auditor")
    page.goto("/account/password")
    assert accessibility_problems(page) == {}
    page.get_by_role("link", name="双因素认证（手机验证器）").click()
    page.get_by_role("button", name="开始绑定").click()
    qr = page.locator("figure.qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["width"] >= 200  # large enough to scan
    assert accessibility_problems(page) == {}
    page.screenshot(path=str(artifacts / "otp-enrolment.png"), full_page=True)
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("动态口令").fill(code_now(secret))
    page.get_by_role("button", name="完成绑定").click()
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    assert accessibility_problems(page) == {}
    page.get_by_role("link", name="我已保存，进入系统").click()
    page.wait_for_url("**/")

    # A new phone: password, then the code (the next step's: the one above is used).
    login = phone()
    login.goto("/login")
    login.get_by_label("用户名").fill("auditor")
    login.get_by_label("密码").fill("demo-pass-2026")
    login.get_by_role("button", name="登录").click()
    expect(login.get_by_role("heading", name="输入动态口令")).to_be_visible()
    assert accessibility_problems(login) == {}
    time.sleep(PERIOD_SECONDS - time.time() % PERIOD_SECONDS + 0.5)
    login.get_by_label("动态口令或恢复码").fill(code_now(secret))
    login.get_by_role("button", name="登录").click()
    login.wait_for_url("**/")
    expect(login.get_by_text("auditor")).to_be_visible()
