"""The board in a real browser: ECharts (vendored by `make install`) draws its charts."""

import httpx
from playwright.sync_api import Browser, expect

from app.web.board_pages import ECHARTS
from tests.browser import offline_fixtures
from tests.browser.offline_fixtures import ARTIFACTS, PHONE, sign_in
from tests.conftest import jpeg_bytes

browser, live_server = offline_fixtures.browser, offline_fixtures.live_server


def test_the_board_draws_its_charts(live_server: str, browser: Browser) -> None:
    assert ECHARTS.is_file(), "make install vendors ECharts (needs npm)"
    base = live_server
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": "ent_a", "password": "demo-pass-2026"}).json()
    reported = httpx.post(
        f"{base}/api/v1/hazards", headers={"Authorization": f"Bearer {token['access_token']}"},
        data={"title": "喷漆房排风扇故障", "description": "排风扇停转，有机废气积聚",
              "location": "喷漆房", "level": "general"},
        files=[("photos", ("scene.jpg", jpeg_bytes(), "image/jpeg"))])
    assert reported.status_code == 201, reported.text

    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    scripts: dict[str, int] = {}
    page.on("response", lambda r: scripts.__setitem__(r.url, len(r.body()))
            if r.request.resource_type == "script" else None)
    sign_in(page, base, "anweiban")
    page.goto(f"{base}/board")
    for chart in ("#chart-township", "#chart-industry", "#chart-trend"):
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
    # The tables are there too, and the new hazard is counted in its township.
    found = page.locator("#table-township tr", has_text="城关镇").locator("td").nth(4)
    expect(found).to_have_text("1")
    assert any(url.endswith("/static/vendor/echarts.min.js") for url in scripts)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "committee-board.png"), full_page=True)
    context.close()
