"""An offline report in a real browser: kept as a draft, survives a reload, sent once."""

import re

import httpx
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models import Event, Hazard
from tests.browser import offline_fixtures
from tests.browser.offline_fixtures import ARTIFACTS, PHONE, sign_in
from tests.conftest import jpeg_bytes

# The fixtures this module uses (kept out of the root conftest: only these tests need a browser).
browser, live_server = offline_fixtures.browser, offline_fixtures.live_server
TITLE = "离线上报：危化品仓库门锁损坏"


def hazards_titled(base: str, token: str) -> list[dict]:
    """The hazards with TITLE that ent_a sees, through the API."""
    listed = httpx.get(f"{base}/api/v1/hazards", params={"q": "危化品仓库门锁"},
                       headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text
    return [h for h in listed.json()["items"] if h["title"] == TITLE]


def api_token(base: str, username: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/token",
                          data={"username": username, "password": "demo-pass-2026"})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_an_offline_report_survives_a_reload_and_is_sent_once(
        live_server: str, browser: Browser, loaded: Engine, tmp_path) -> None:
    base = live_server
    token = api_token(base, "ent_a")
    photo = tmp_path / "scene.jpg"
    photo.write_bytes(jpeg_bytes((640, 480)))
    context = browser.new_context(viewport=PHONE, locale="zh-CN", service_workers="allow")
    context.set_default_timeout(15_000)
    page = context.new_page()
    posts: list[dict[str, str]] = []
    page.on("request", lambda r: posts.append(r.headers) if r.method == "POST"
            and r.url.endswith("/hazards/new") else None)
    sign_in(page, base, "ent_a")
    page.goto(f"{base}/hazards/new")
    # The service worker takes over, and the next visit stores the form page for offline use.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.get_by_label("现场照片").set_input_files(str(photo))
    page.get_by_label("隐患名称").fill(TITLE)
    page.get_by_label("所在位置").fill("危化品仓库")
    page.get_by_label("隐患描述").fill("仓库门锁损坏，无法上锁")
    page.get_by_role("button", name="上报").click()
    outbox = page.locator("#outbox-status")
    expect(outbox).to_contain_text("待发送 1 项")
    expect(outbox.locator(".outbox-item")).to_contain_text("上报隐患")
    expect(outbox.locator(".outbox-item")).to_contain_text("等待网络")
    expect(outbox.locator(".outbox-item")).to_contain_text("1 张照片")

    page.reload()  # offline: the page comes from the service worker, the draft from IndexedDB
    expect(page.get_by_role("heading", name="上报隐患")).to_be_visible()
    expect(outbox).to_contain_text("待发送 1 项")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "offline-draft-waiting.png"), full_page=True)
    assert hazards_titled(base, token) == []

    context.set_offline(False)  # the online event sends the draft
    expect(outbox.locator(".outbox-list")).to_have_count(0)
    expect(outbox).to_contain_text("已发送：上报隐患")
    sent = hazards_titled(base, token)
    assert len(sent) == 1
    assert len(sent[0]["photos"]) == 1
    keys = {headers.get("idempotency-key") for headers in posts}
    assert len(keys) == 1 and None not in keys  # every attempt carried the draft's one key

    # The same submission sent again with its key (as a lost answer would be retried) gets
    # the same hazard, and nothing more is made.
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    retry = httpx.post(
        f"{base}/hazards/new", cookies=cookies, follow_redirects=False,
        headers={"Idempotency-Key": keys.pop()},
        data={"csrf_token": csrf, "title": TITLE, "location": "危化品仓库",
              "description": "仓库门锁损坏，无法上锁", "level": "general",
              "major_clause": ""},  # the form sends its hidden, empty field too
        files=[("photos", ("scene.jpg", photo.read_bytes(), "image/jpeg"))])
    assert retry.status_code == 303, retry.text
    assert retry.headers["location"] == f"/hazards/{sent[0]['id']}"
    assert re.fullmatch(r"YH-\d+-2026-\d+", sent[0]["code"])
    with Session(loaded) as session:
        assert session.scalar(select(func.count()).select_from(Hazard)
                              .where(Hazard.title == TITLE)) == 1
        assert session.scalar(select(func.count()).select_from(Event)
                              .where(Event.hazard_id == sent[0]["id"])) == 1
    context.close()
