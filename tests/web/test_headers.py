"""Security headers (app/http/headers.py) on every page the app routes, signed in or not; the
templates hold no inline script or style the policy would have to allow."""

import base64
import hashlib
import re
from collections.abc import Iterator

from starlette.routing import Route

from app.http.headers import security_headers
from app.http.render import TEMPLATES
from tests.api.helpers import PLAN
from tests.web.pages import User

FRAMING = "frame-ancestors 'none'"


def routes(app) -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, those of included routers too (which this FastAPI
    keeps behind one entry each, resolving them when first matched)."""
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                yield context.path, set(context.methods or ())
        elif isinstance(route, Route):
            yield route.path, set(route.methods or ())


def page_paths(app, hazard_id: int, notice_id: int) -> list[str]:
    """Every GET route of the pages (not the API), its path parameters filled in."""
    values = {"hazard_id": hazard_id, "photo_id": 1, "notice_id": notice_id, "action": "submit",
              "extension_id": 1, "receipt": "x" * 22, "request_id": "x" * 22,
              "enterprise_id": 1, "tip_id": 1, "task_id": 1, "user_id": 1, "row_id": 1,
              "item_id": 1}
    paths = []
    for path, methods in routes(app):
        if "GET" not in methods or path.startswith(("/api/", "/docs", "/redoc", "/openapi")):
            continue
        for name in re.findall(r"{(\w+)(?::\w+)?}", path):
            assert name in values, f"no value for {{{name}}} in {path}: add one"
            path = re.sub(rf"{{{name}(?::\w+)?}}", str(values[name]), path)
        paths.append(path)
    assert len(paths) >= 15, paths
    return paths


def assert_secured(response, path: str) -> None:
    headers = response.headers
    assert headers.get("x-frame-options") == "DENY", path
    policy = headers.get("content-security-policy", "")
    assert FRAMING in policy and "script-src 'self'" in policy, path
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
    assert headers.get("referrer-policy") == "same-origin", path
    assert "permissions-policy" in headers, path


def test_every_page_route_sends_the_security_headers(app) -> None:
    ent, comm = User(app, "ent_a"), User(app, "anweiban")
    hazard_id = ent.report(level="major", major_clause="工贸 第四条")
    paths = page_paths(app, hazard_id, notice_id=1)
    for user in (User(app), ent, comm):
        for path in paths:
            assert_secured(user.get(path), path)
    # Static files, the API and errors carry them too.
    for path in ("/static/js/app.js", "/api/v1/me", "/no-such-page", "/healthz"):
        assert_secured(ent.get(path), path)


def test_the_camera_only_where_evidence_photos_are_taken(app) -> None:
    ent, insp = User(app, "ent_a"), User(app, "insp_dept")
    hid = ent.report()
    assert insp.act(hid, "assign", {"deadline": "2026-12-01"}).status_code == 303
    assert ent.act(hid, "accept", PLAN).status_code == 303

    def camera(user: User, path: str) -> str:
        response = user.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        features = dict(item.strip().split("=", 1)
                        for item in response.headers["permissions-policy"].split(","))
        assert features["microphone"] == "()"
        return features["camera"]

    assert camera(ent, "/hazards/new") == "(self)"
    assert camera(ent, f"/hazards/{hid}/actions/submit") == "(self)"
    for path in ("/", f"/hazards/{hid}", "/hazards", "/notices", "/checks"):
        assert camera(ent, path) == "()", path


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
HANDLER = re.compile(r"\son[a-z]+=", re.I)


def test_templates_hold_no_inline_script_or_style() -> None:
    """What the policy refuses: scripts not from a file, handlers in attributes, style
    attributes and <style> blocks (the dossier's excepted: it is allowed by its hash)."""
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        assert not INLINE_SCRIPT.search(text), template.name
        assert not HANDLER.search(text), template.name
        assert "style=" not in text, template.name
        if template.name != "dossier.html":
            assert "<style" not in text, template.name


def test_the_dossier_style_is_allowed_by_its_hash(app) -> None:
    ent = User(app, "ent_a")
    hid = ent.report(level="major", major_clause="工贸 第四条")
    response = ent.get(f"/hazards/{hid}/dossier")
    assert response.status_code == 200, response.text[:300]
    block = re.search(r"<style>(.*?)</style>", response.text, re.S)
    assert block
    digest = base64.b64encode(hashlib.sha256(block.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["content-security-policy"]


def test_the_tip_form_may_ask_for_the_location_and_the_camera(app) -> None:
    """Its "使用我的位置" button needs geolocation; the status page needs neither."""
    from fastapi.testclient import TestClient

    def features(path: str) -> dict[str, str]:
        response = TestClient(app).get(path)
        return dict(item.strip().split("=", 1)
                    for item in response.headers["permissions-policy"].split(","))

    assert features("/tip")["geolocation"] == "(self)"
    assert features("/tip")["camera"] == "(self)"
    assert features("/tip/status")["geolocation"] == "()"


def test_a_check_tasks_page_may_use_the_camera_for_its_items() -> None:
    policy = dict(security_headers("/checks/12"))[b"permissions-policy"].decode()
    assert "camera=(self)" in policy
    assert "camera=()" in dict(security_headers("/checks"))[b"permissions-policy"].decode()
