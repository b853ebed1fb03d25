"""Each request's id, metrics and one structured access-log line (a pure ASGI middleware:
nothing is buffered, downloads stream as before).

The id is the client's `X-Request-ID` when it is a sane token (a proxy's), else a new one; it
is answered in `X-Request-ID` and carried by every log line written while the request runs.
Metrics are labelled by the route's template (`/api/v1/hazards/{hazard_id}`), never by the raw
path, so ids do not multiply the series; a request no route matched counts as `unmatched`.
"""

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logs import CLIENT_ADDRESS, REQUEST_ID
from app.services.operations.metrics import LATENCY, REQUESTS

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("bihuan.access")


def route_of(scope: Scope) -> str:
    """The matched route's full template. A route knows its path below its router's prefix
    only, so the prefix is what the request's path has before the route's part."""
    template = getattr(scope.get("route"), "path_format", None)
    if template is None:
        return "unmatched"
    try:
        rendered = template.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return template
    path = scope["path"]
    return path[: -len(rendered)] + template if path.endswith(rendered) else template


class Observability:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        client = scope.get("client")
        address_token = CLIENT_ADDRESS.set(client[0] if client else None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self._record(scope, status, elapsed)
            REQUEST_ID.reset(token)
            CLIENT_ADDRESS.reset(address_token)

    @staticmethod
    def _record(scope: Scope, status: int, elapsed: float) -> None:
        method, route = scope["method"], route_of(scope)
        REQUESTS.labels(method, route, str(status)).inc()
        LATENCY.labels(method, route).observe(elapsed)
        extra: dict[str, Any] = {"method": method, "route": route, "path": scope["path"],
                                 "status": status, "duration_ms": round(elapsed * 1000, 1)}
        access_log.info("%s %s %s", method, scope["path"], status, extra=extra)
