"""Drivers for the pages over the TestClient: a signed-in user, forms, sections of a page."""

import re
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from app.services.org.demo import DEMO_PASSWORD
from tests.samples import photo

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


class User:
    """One browser: its own cookie jar on the app under test."""

    def __init__(self, app: Any, username: str | None = None, *,
                 base_url: str = "http://testserver") -> None:
        self.client = TestClient(app, base_url=base_url)
        self.csrf = ""
        if username:
            response = self.login(username)
            assert response.status_code == 303, response.text

    def login(self, username: str, password: str = DEMO_PASSWORD, next: str = "/") -> Response:
        token = csrf_of(self.client.get("/login").text)
        response = self.client.post("/login", data={"username": username, "password": password,
                                                    "csrf_token": token, "next": next},
                                    follow_redirects=False)
        if response.status_code == 303:
            self.csrf = csrf_of(self.client.get("/").text)
        return response

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.client.get(url, follow_redirects=False, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, *, photos: int = 0,
             files: list | None = None, csrf: str | None = None) -> Response:
        fields = {"csrf_token": self.csrf if csrf is None else csrf, **(data or {})}
        if csrf == "":
            fields.pop("csrf_token")
        files = files if files is not None else [photo() for _ in range(photos)]
        return self.client.post(url, data=fields, files=files or None, follow_redirects=False)

    def report(self, **fields: Any) -> int:
        data = {"title": "配电箱未接地", "description": "车间二配电箱外壳未接地",
                "location": "二号车间东侧", "level": "general", **fields}
        response = self.post("/hazards/new", data, photos=1)
        assert response.status_code == 303, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])

    def act(self, hazard_id: int, action: str, data: dict[str, Any] | None = None, *,
            photos: int = 0) -> Response:
        return self.post(f"/hazards/{hazard_id}/actions/{action}", data, photos=photos)


def section(html: str, key: str) -> str:
    """The home page's queue section with this key (its hazard cards)."""
    match = re.search(rf'<section class="queue" aria-labelledby="q-{key}">(.*?)</section>',
                      html, re.S)
    assert match, f"no section {key}"
    return match.group(1)


def codes(html: str) -> list[str]:
    return re.findall(r'<span class="code">([^<]+)</span>', html)


def sections(html: str, keys: list[str]) -> Iterator[tuple[str, list[str]]]:
    for key in keys:
        yield key, codes(section(html, key))
