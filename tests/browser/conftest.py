"""The app served by uvicorn on a free loopback port, on a fresh database with the demo county
and a temporary media root, driven by Debian's chromium through Playwright at a phone's size.

Playwright's own browser download does not work here: the tests launch /usr/bin/chromium
(`make browser-deps` installs it with fonts-noto-cjk, without which Chinese renders as boxes).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy.orm import Session

from app.core.clock import SystemClock
from app.core.db import make_engine
from app.services.org.demo import DEMO_PASSWORD, load_demo
from tests.fixtures.databases import create_database, drop_database, migrate

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 360, "height": 740}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within 60 s:\n{log.read_text()}")


def server_env(database_url: str, media: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media),
            "SECRET_KEY": "browser-test-secret-key-0123456789abcdef", "BIHUAN_ENV": "dev"}


@contextmanager
def serving(database_url: str, media: Path) -> Iterator[str]:
    """A uvicorn server in a subprocess on that database; its base URL while it runs."""
    log = media.parent / f"{media.name}.log"
    port = _free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=server_env(database_url, media), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The base URL of a uvicorn server in a subprocess (its own settings, its own database)."""
    database_url = create_database()
    migrate(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        load_demo(session, clock=SystemClock())
    engine.dispose()
    media = Path(tempfile.mkdtemp(prefix="bihuan-browser-media-"))
    try:
        with serving(database_url, media) as url:
            yield url
    finally:
        drop_database(database_url)
        shutil.rmtree(media, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium "
                    "fonts-noto-cjk) as root")
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


OpenPhone = Callable[..., Page]


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[OpenPhone]:
    """open_phone(username=None): a new browser profile at 360×740, signed in when named."""
    contexts = []

    def open_phone(username: str | None = None) -> Page:
        context = browser.new_context(viewport=PHONE, base_url=live_server, locale="zh-CN",
                                      is_mobile=True, has_touch=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        if username:
            sign_in(page, username)
        return page

    yield open_phone
    for context in contexts:
        context.close()


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
