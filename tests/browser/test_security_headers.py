"""The content security policy (app/http/headers.py) in a real browser: the pages, their
scripts (ECharts on the board), the offline page and the printable dossier run without one
refusal, and a page cannot be framed."""

from playwright.sync_api import ConsoleMessage

from tests.browser.test_committee_pages import report_as_ent_a


def test_no_page_breaks_the_policy(phone, live_server) -> None:
    refusals: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refusals.append(f"{message.page.url if message.page else ''}: {message.text}")

    report_as_ent_a(live_server, "配电柜门未关闭")
    page = phone("anweiban")
    page.on("console", watch)
    for path in ("/", "/hazards", "/hazards/new", "/board", "/ranking", "/notices", "/offline"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.goto("/hazards")
    page.locator("a[href^='/hazards/']", has_text="配电柜门未关闭").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("canvas").count() == 0  # a hazard page, not the board
    page.goto("/board")
    page.wait_for_selector("#chart-township canvas")
    assert refusals == []
    # Framed by another page: the browser refuses to show it.
    framed: list[str] = []
    framing = phone()
    framing.on("console", lambda message: framed.append(message.text))
    framing.set_content(f'<iframe src="{live_server}/login"></iframe>')
    framing.wait_for_timeout(1000)
    assert any("frame-ancestors 'none'" in text for text in framed), framed
    assert "登录" not in framing.frames[-1].content()
