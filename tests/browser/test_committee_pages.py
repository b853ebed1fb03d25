"""The committee's board and ranking in a real browser: ECharts (vendored by `make install`)
draws the board's charts; the pages are labelled, legible and narrow at 360 px; only the board
ships more than 300 KB of script."""

import json

import httpx
from playwright.sync_api import expect

from app.services.org.demo import DEMO_PASSWORD
from app.web.board import ECHARTS
from tests.browser.checks import SCRIPT_BUDGET, ScriptMeter, accessibility_problems
from tests.samples import jpeg_bytes


def report_as_ent_a(base: str, title: str) -> None:
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": "ent_a", "password": DEMO_PASSWORD}).json()
    reported = httpx.post(
        f"{base}/api/v1/hazards", headers={"Authorization": f"Bearer {token['access_token']}"},
        data={"title": title, "description": "排风扇停转，有机废气积聚", "location": "喷漆房",
              "level": "general"},
        files=[("photos", ("scene.jpg", jpeg_bytes(), "image/jpeg"))])
    assert reported.status_code == 201, reported.text


def test_the_board_draws_its_charts_and_counts_a_new_hazard(phone, live_server,
                                                           artifacts) -> None:
    assert ECHARTS.is_file(), "make install vendors ECharts (needs npm)"
    page = phone("anweiban")
    page.goto("/board")
    found = page.locator("#table-township tr", has_text="城关镇").locator("td").nth(4)
    before = int(found.inner_text())
    report_as_ent_a(live_server, "喷漆房排风扇故障")  # ent_a is in 城关镇
    page.reload()
    expect(found).to_have_text(str(before + 1))
    for chart in ("#chart-township", "#chart-industry", "#chart-trend"):
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
    page.screenshot(path=str(artifacts / "committee-board.png"), full_page=True)
    # A figure leads to the list of the hazards it counts.
    found.locator("a").click()
    expect(page.locator("li.card")).to_have_count(before + 1)


def test_committee_pages_are_accessible_and_only_the_board_is_heavy(phone, artifacts) -> None:
    page = phone("anweiban")
    sizes, problems = {}, {}
    for path in ("/board", "/ranking", "/hazards?state=reported"):
        meter = ScriptMeter(page)
        sizes[path] = meter.measure(lambda path=path: page.goto(path))
        problems[path] = accessibility_problems(page)
    (artifacts / "script-sizes-committee.json").write_text(
        json.dumps(sizes, ensure_ascii=False, indent=1))
    assert {k: v for k, v in problems.items() if v} == {}
    assert sizes["/board"] > SCRIPT_BUDGET  # ECharts: the one page allowed over the budget
    assert sizes["/ranking"] <= SCRIPT_BUDGET
    assert sizes["/hazards?state=reported"] <= SCRIPT_BUDGET
