"""A live server on a committed database and Debian's chromium, for the offline tests."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from app import db as app_db
from app.config import get_settings
from app.main import create_app

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium keeps dialling Google on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path("test-artifacts")


@pytest.fixture
def live_server(loaded: Engine, monkeypatch) -> Iterator[str]:
    """The app on a free loopback port, on the `loaded` database."""
    monkeypatch.setenv("DATABASE_URL", loaded.url.render_as_string(hide_password=False))
    for cached in (get_settings, app_db.get_engine, app_db.get_sessionmaker):
        cached.cache_clear()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    app_db.get_engine().dispose()
    monkeypatch.undo()
    for cached in (get_settings, app_db.get_engine, app_db.get_sessionmaker):
        cached.cache_clear()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo-pass-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
