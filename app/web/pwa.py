"""Installable web app: the manifest, the service worker and the offline page.

The service worker is served from the site root so its scope covers every page; its cache
name carries a hash of the shell files, so a deploy that changes them replaces the cache.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from app.http.render import render

STATIC = Path(__file__).parent / "static"
SERVICE_WORKER = STATIC / "js" / "sw.js"
OFFLINE_URL = "/offline"
# The public tip form: the same for everyone (no account), so it is kept with the shell and
# opens without a signal, its draft then sent by offline.js once the connection returns.
TIP_URL = "/tip"
TEMPLATES = Path(__file__).parent / "templates"
TIP_TEMPLATES = ("tip.html", "base.html", "_macros.html")
MANIFEST_URL = "/manifest.webmanifest"
THEME_COLOR = "#0b4f8a"  # the pages' header (base.html)

router = APIRouter(include_in_schema=False)

MANIFEST = {
    "name": "闭环 · 隐患排查治理",
    "short_name": "闭环",
    "description": "安全生产隐患上报、整改、复核与销号",
    "lang": "zh-CN",
    "id": "/",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "orientation": "portrait",
    "background_color": "#ffffff",
    "theme_color": THEME_COLOR,
    "icons": [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {"src": "/static/icons/icon-512-maskable.png", "sizes": "512x512",
         "type": "image/png", "purpose": "maskable"},
    ],
}


def shell_files() -> list[Path]:
    """What every page needs, cached at install: styles, the small scripts, the icons.

    The vendored chart library is left out (large, and only the board uses it).
    """
    found = [*STATIC.glob("css/*.css"), *STATIC.glob("js/*.js"), *STATIC.glob("icons/*.png")]
    return sorted(p for p in found if p != SERVICE_WORKER)


@lru_cache
def service_worker() -> str:
    files = shell_files()
    urls = [OFFLINE_URL, TIP_URL, MANIFEST_URL] + [
        "/static/" + p.relative_to(STATIC).as_posix() for p in files]
    digest = hashlib.sha256()
    for path in [SERVICE_WORKER, *files]:
        digest.update(path.read_bytes())
    digest.update(offline_page().encode())
    for template in TIP_TEMPLATES:  # the tip page is in the shell: a new one, a new version
        digest.update((TEMPLATES / template).read_bytes())
    source = SERVICE_WORKER.read_text(encoding="utf-8")
    return (source.replace("__VERSION__", digest.hexdigest()[:16])
            .replace("__SHELL_URLS__", json.dumps(urls)))


@lru_cache
def offline_page() -> str:
    return render("offline.html")


@router.get("/sw.js")
def sw() -> Response:
    # no-cache: the browser checks for a new worker on every visit (it does at most daily
    # otherwise); Service-Worker-Allowed is implied by serving it from the root.
    return Response(service_worker(), media_type="text/javascript",
                    headers={"Cache-Control": "no-cache"})


@router.get(MANIFEST_URL)
def manifest() -> Response:
    return Response(json.dumps(MANIFEST, ensure_ascii=False),
                    media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


@router.get(OFFLINE_URL)
def offline() -> HTMLResponse:
    """Shown by the service worker for a page that was never opened online."""
    return HTMLResponse(offline_page(), headers={"Cache-Control": "no-cache"})
