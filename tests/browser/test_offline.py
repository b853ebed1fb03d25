"""An offline report in a real browser: kept as a draft, survives a reload, sent once."""

import httpx
from playwright.sync_api import expect

from app.services.org.demo import DEMO_PASSWORD
from tests.browser.conftest import sign_in
from tests.browser.photos import phone_photo

TITLE = "离线上报：危化品仓库门锁损坏"
FIELDS = {"title": TITLE, "location": "危化品仓库", "description": "仓库门锁损坏，无法上锁",
          "level": "general", "major_clause": ""}  # the form also sends its hidden, empty field


class Api:
    """ent_a through the JSON API, to see what the server holds."""

    def __init__(self, base: str) -> None:
        self.base = base
        token = httpx.post(f"{base}/api/v1/auth/token",
                           data={"username": "ent_a", "password": DEMO_PASSWORD})
        assert token.status_code == 200, token.text
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def hazards_titled(self, title: str) -> list[dict]:
        listed = httpx.get(f"{self.base}/api/v1/hazards", params={"q": title, "limit": 100},
                           headers=self.headers)
        assert listed.status_code == 200, listed.text
        return [h for h in listed.json()["items"] if h["title"] == title]

    def events(self, hazard_id: int) -> list[str]:
        response = httpx.get(f"{self.base}/api/v1/hazards/{hazard_id}/events",
                             headers=self.headers)
        return [e["action"] for e in response.json()]


def test_an_offline_report_survives_a_reload_and_is_sent_once(
        phone, live_server, tmp_path, artifacts) -> None:
    api = Api(live_server)
    photo = phone_photo(tmp_path, "scene.jpg", 41)
    page = phone("ent_a")
    posts: list[dict[str, str]] = []
    page.on("request", lambda r: posts.append(r.headers) if r.method == "POST"
            and r.url.endswith("/hazards/new") else None)
    page.goto("/hazards/new")
    # The service worker takes over; the next visit stores the form page for offline use.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    page.context.set_offline(True)
    page.get_by_label("现场照片").set_input_files(str(photo))
    page.get_by_label("隐患名称").fill(TITLE)
    page.get_by_label("所在位置").fill(FIELDS["location"])
    page.get_by_label("隐患描述").fill(FIELDS["description"])
    page.get_by_label("一般事故隐患").check()
    page.get_by_role("button", name="上报").click()
    outbox = page.locator("#outbox-status")
    expect(outbox).to_contain_text("待发送 1 项")
    item = outbox.locator(".outbox-item")
    expect(item).to_contain_text("上报隐患")
    expect(item).to_contain_text("等待网络")
    expect(item).to_contain_text("1 张照片")

    page.reload()  # offline: the page from the service worker, the draft from IndexedDB
    expect(page.get_by_role("heading", name="上报隐患")).to_be_visible()
    expect(outbox).to_contain_text("待发送 1 项")
    page.screenshot(path=str(artifacts / "offline-draft-waiting.png"), full_page=True)
    assert api.hazards_titled(TITLE) == []

    page.context.set_offline(False)  # the online event sends the draft
    expect(outbox.locator(".outbox-list")).to_have_count(0)
    expect(outbox).to_contain_text("已发送：上报隐患")
    sent = api.hazards_titled(TITLE)
    assert len(sent) == 1
    assert len(sent[0]["photos"]) == 1
    assert api.events(sent[0]["id"]) == ["report"]
    keys = {headers.get("idempotency-key") for headers in posts}
    assert len(keys) == 1 and None not in keys  # every attempt carried the draft's one key

    # The same submission sent again with its key (as after an answer lost on the way) gets
    # the same hazard, and nothing more is made.
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    retry = httpx.post(
        f"{live_server}/hazards/new", cookies=cookies, follow_redirects=False,
        headers={"Idempotency-Key": keys.pop()}, data={**FIELDS, "csrf_token": csrf},
        files=[("photos", ("scene.jpg", photo.read_bytes(), "image/jpeg"))])
    assert retry.status_code == 303, retry.text
    assert retry.headers["location"] == f"/hazards/{sent[0]['id']}"
    assert len(api.hazards_titled(TITLE)) == 1
    assert api.events(sent[0]["id"]) == ["report"]


def test_signing_out_forgets_the_pages_kept_for_offline_use(phone) -> None:
    page = phone("insp_dept")
    page.goto("/hazards/new")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    kept = page.evaluate("""async () => {
        const cache = await caches.open("bihuan-pages");
        return (await cache.keys()).map((r) => new URL(r.url).pathname); }""")
    assert "/hazards/new" in kept
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login?bye=1")
    page.wait_for_function("async () => !(await caches.has('bihuan-pages'))")
    # The next person offline with this phone gets the offline page, not the last user's.
    page.context.set_offline(True)
    page.goto("/hazards/new")
    expect(page.get_by_role("heading", name="网络不可用")).to_be_visible()
    expect(page.get_by_text("上报隐患", exact=True)).to_have_count(0)


def test_a_draft_stopped_by_an_ended_session_is_sent_after_signing_in_again(
        phone, live_server, tmp_path) -> None:
    title = "会话过期后补发：配电室门未关"
    api = Api(live_server)
    page = phone("ent_a")
    page.goto("/hazards/new")
    page.get_by_label("现场照片").set_input_files(str(phone_photo(tmp_path, "door.jpg", 43)))
    page.get_by_label("隐患名称").fill(title)
    page.get_by_label("所在位置").fill("配电室")
    page.get_by_label("隐患描述").fill("配电室门未关闭，无人值守")
    page.context.clear_cookies()  # the session ends while the form is open
    page.get_by_role("button", name="上报").click()
    outbox = page.locator("#outbox-status")
    expect(outbox.locator(".outbox-item")).to_contain_text("请重新登录")
    expect(page.get_by_role("alert")).to_contain_text("请重新登录")
    assert api.hazards_titled(title) == []

    sign_in(page, "ent_a")
    # Kept, and not sent by itself: the user chooses to send it once signed in again.
    expect(outbox.locator(".outbox-item")).to_contain_text("上报隐患")
    assert api.hazards_titled(title) == []
    outbox.get_by_role("button", name="立即重试").click()
    expect(outbox.locator(".outbox-list")).to_have_count(0)
    expect(outbox).to_contain_text("已发送：上报隐患")
    assert len(api.hazards_titled(title)) == 1
