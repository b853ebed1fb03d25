"""The installable web app: manifest, service worker and offline page."""

import json

from app.web.pwa import STATIC


def test_the_manifest_makes_the_site_installable(client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["short_name"] == "闭环"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        path = STATIC / icon["src"].removeprefix("/static/")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", icon["src"]


def test_the_service_worker_caches_the_shell_and_never_api_or_posts(client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    source = response.text
    assert "__VERSION__" not in source and "__SHELL_URLS__" not in source
    shell = json.loads(source.split("const SHELL_URLS = ", 1)[1].split(";\n", 1)[0])
    assert {"/offline", "/static/js/offline.js", "/manifest.webmanifest"} <= set(shell)
    assert not any(url.startswith(("/api/", "/static/vendor/")) for url in shell)
    assert 'request.method !== "GET"' in source


def test_the_offline_page_lists_waiting_drafts(client) -> None:
    response = client.get("/offline")
    assert response.status_code == 200
    assert "网络不可用" in response.text
    assert 'id="outbox-status"' in response.text
    assert "/static/js/offline.js" in response.text
