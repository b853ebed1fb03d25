"""The first run as a newcomer sees it (README: what the first run shows): `bihuan demo` plays the
county's four-month story, then the board shows a figure in every box and each demo user's
home has work waiting. Screenshots of each go to test-artifacts/ (first-run-*.png)."""

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import PHONE, ROOT, server_env, serving, sign_in
from tests.fixtures.databases import create_database, drop_database, migrate

# Each role's home and what waits there in the story.
HOMES = ["ent_a", "ent_b", "insp_dept", "insp_town", "anweiban"]


@pytest.fixture(scope="module")
def first_run() -> Iterator[str]:
    """A server on a database loaded by the real `bihuan demo` command."""
    database_url = create_database()
    migrate(database_url)
    media = Path(tempfile.mkdtemp(prefix="bihuan-first-run-"))
    bihuan = str(Path(sys.executable).with_name("bihuan"))
    try:
        loaded = subprocess.run([bihuan, "demo"], env=server_env(database_url, media),
                                cwd=ROOT, capture_output=True, text=True, timeout=600,
                                check=False)
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        with serving(database_url, media) as url:
            yield url
    finally:
        drop_database(database_url)
        shutil.rmtree(media, ignore_errors=True)


def open_as(browser: Browser, base: str, username: str):
    context = browser.new_context(viewport=PHONE, base_url=base, locale="zh-CN",
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, username)
    return context, page


def test_the_board_shows_a_figure_in_every_box(browser: Browser, first_run: str,
                                               artifacts: Path) -> None:
    context, page = open_as(browser, first_run, "anweiban")
    try:
        page.goto("/board")
        tiles = page.locator("ul.tiles li.tile .tile-count")
        expect(tiles.first).to_be_visible()
        figures = tiles.all_inner_texts()
        assert len(figures) >= 5
        assert all(text.strip() not in ("", "0", "—", "-") for text in figures), figures
        assert page.locator("#table-township tr").count() >= 3  # header and both townships
        page.screenshot(path=str(artifacts / "first-run-board.png"), full_page=True)
        page.goto("/ranking")
        page.screenshot(path=str(artifacts / "first-run-ranking.png"), full_page=True)
        assert "没有可排名的乡镇" not in page.locator("main").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("username", HOMES)
def test_each_demo_user_has_work_waiting_at_home(browser: Browser, first_run: str,
                                                 artifacts: Path, username: str) -> None:
    context, page = open_as(browser, first_run, username)
    try:
        page.goto("/")
        expect(page.locator("li.card").first).to_be_visible()
        assert page.locator("li.card").count() >= 1
        page.screenshot(path=str(artifacts / f"first-run-home-{username}.png"), full_page=True)
    finally:
        context.close()
