"""Login failure, CSRF refusal and logout as a user sees them in the browser."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.photos import phone_photo


def test_login_failure_shows_the_message_and_keeps_the_username(phone) -> None:
    page = phone()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("用户名").fill("ent_b")
    page.get_by_label("密码").fill("not-the-password")
    with page.expect_response(re.compile(r"/login$")) as answer:
        page.get_by_role("button", name="登录").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value("ent_b")
    expect(page.get_by_label("密码")).to_have_value("")


def test_a_forged_csrf_token_is_refused_and_nothing_is_stored(phone, tmp_path) -> None:
    page = phone("ent_a")
    cookie = next(c for c in page.context.cookies() if c["name"] == "bihuan_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.goto("/hazards/new")
    page.get_by_label("现场照片").set_input_files([str(phone_photo(tmp_path, "a.jpg", 7))])
    page.get_by_label("隐患名称").fill("伪造令牌的上报")
    page.get_by_label("所在位置").fill("仓库")
    page.get_by_label("隐患描述").fill("不应被保存")
    page.get_by_label("一般事故隐患").check()
    page.eval_on_selector("form[data-offline-form] input[name=csrf_token]",
                          "el => el.value = '0'.repeat(64)")
    with page.expect_response(re.compile(r"/hazards/new$")) as answer:
        page.get_by_role("button", name="上报").click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("CSRF 校验失败")
    page.goto("/")
    expect(page.locator("main")).not_to_contain_text("伪造令牌的上报")


def test_logout_returns_to_the_login_page(phone) -> None:
    page = phone("insp_town")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login\?bye=1$"))
    expect(page.get_by_role("status").filter(has_text="您已退出登录")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    sign_in(page, "insp_town")
    expect(page.get_by_role("heading", name="监管工作台")).to_be_visible()
