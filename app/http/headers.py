"""Security headers on every response: no framing, the app's own scripts only, no referrer
beyond the site, and no browser feature a page does not use.

- `Content-Security-Policy`: scripts, styles, fonts, connections and the service worker
  from the site itself; no inline script or style (the templates load theirs from
  /static), with one exception: the printable dossier keeps its stylesheet inline so that a
  saved copy prints alike, allowed by its hash alone. Images also from `data:` (the
  dossier's embedded photos) and `blob:` (previews of photos picked in a form). No plugins,
  no `<base>`, forms posting only here, and `frame-ancestors 'none'` with `X-Frame-Options:
  DENY` for browsers that know only that one.
- `Referrer-Policy: same-origin`: a hazard's address never leaves in a Referer.
- `Permissions-Policy`: every powerful feature off, except the camera (and location, for the
  place of the photo) on the forms that take evidence photos.

A pure ASGI middleware (no request body is touched); a header a route sets itself wins.
"""

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.render import TEMPLATES


def _inline_style_hashes(template: str) -> list[str]:
    """CSP hash sources of a template's <style> blocks (which hold no template code)."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    return [f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
            for block in re.findall(r"<style>(.*?)</style>", text, re.S)]


def content_security_policy() -> str:
    styles = " ".join(["'self'", *_inline_style_hashes("dossier.html")])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {styles}",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


# Features no page uses, switched off; the camera and location where evidence is taken.
_FEATURES = ("accelerometer", "autoplay", "bluetooth", "display-capture", "gyroscope",
             "hid", "magnetometer", "microphone", "midi", "payment", "serial", "usb",
             "xr-spatial-tracking")
_NONE = ", ".join(f"{feature}=()" for feature in _FEATURES)
PERMISSIONS_DEFAULT = f"camera=(), geolocation=(), {_NONE}"
PERMISSIONS_PHOTO_FORMS = f"camera=(self), geolocation=(self), {_NONE}"

# The pages whose forms take evidence photos: the report, an action, an evaluation, an
# extension request (app/web/hazards.py, app/web/supervision.py), a check task's items
# (app/web/checks.py), and the public tip form (app/web/tips.py: its "使用我的位置" button asks
# for the location).
PHOTO_FORMS = re.compile(r"^(/hazards/(new|\d+/actions/[a-z_]+|\d+/evaluation|\d+/extension)"
                         r"|/checks/\d+|/tip)$")


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    permissions = PERMISSIONS_PHOTO_FORMS if PHOTO_FORMS.match(path) else PERMISSIONS_DEFAULT
    return [
        (b"content-security-policy", CSP.encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", permissions.encode()),
        (b"x-content-type-options", b"nosniff"),
    ]


CSP = content_security_policy()


class SecurityHeaders:
    """Adds `security_headers` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                message["headers"] = [*headers, *_missing(headers, extra)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _missing(headers: Iterable[tuple[bytes, bytes]],
             extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    return [(name, value) for name, value in extra if name not in present]
