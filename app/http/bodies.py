"""A JSON body (or the same fields as a form), read for the services to validate.

The administration endpoints validate their bodies in the service, after the caller's scope
is checked (the contract's order: 404 and 403 before 422), with the same pydantic model the
OpenAPI document declares (`form_body(..., json=True)`) and Chinese messages
(app/core/validation.py). FastAPI's own body validation would answer first, and in English.
"""

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request

from app.core.config import get_settings
from app.core.errors import PayloadTooLarge
from app.core.validation import invalid
from app.http.deps import action_form_limits
from app.http.uploads import read_streaming_form

MAX_JSON_BYTES = 64 * 1024


async def read_body(request: Request) -> AsyncIterator[dict[str, Any]]:
    """The body's fields: a JSON object, or a URL-encoded or multipart form (a form's
    values are text; the model converts them)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() in ("application/json", ""):
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_JSON_BYTES:
                raise PayloadTooLarge("请求内容过大")
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise invalid("json", "JSON 格式错误", "json_invalid") from None
        if not isinstance(data, dict):
            raise invalid("json", "请求体应为 JSON 对象", "model_type")
        yield data
        return
    form = await read_streaming_form(content_type, request.stream(), action_form_limits(),
                                     get_settings().media_root / "staging")
    try:
        yield dict(form.fields)
    finally:
        form.discard()


BodyDep = Annotated[dict[str, Any], Depends(read_body, scope="function")]
