"""Responses of the pages: a rendered page, a redirect, and errors shown as pages."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.access.actor import Actor
from app.access.roles import navigation
from app.core.errors import DomainError
from app.core.security import WebSession
from app.http.labels import FIELD_LABELS
from app.http.render import render
from app.http.uploads import StagedForm
from app.services.accounts.auth import AccountGate
from app.web.session import GATE_PAGES, LoginRequired, apply_cookie, login_url

ERROR_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权操作", 404: "未找到",
                409: "当前不能进行此操作", 413: "上传内容过大", 415: "文件类型不支持",
                422: "填写有误", 429: "操作过于频繁"}


class PageRejected(DomainError):
    """A form the service refused, re-rendered with its messages.

    Raised (not returned) so the request's transaction is rolled back as for any refusal,
    or kept when the refusal must persist (a failed login counts toward the lockout).
    """

    def __init__(self, response: Response, cause: DomainError) -> None:
        super().__init__(cause.detail, headers=cause.headers)
        self.response = response
        self.status_code = cause.status_code
        self.keeps_transaction = cause.keeps_transaction


# The JSON interfaces: the API, and Open311 for the clients that speak it.
JSON_PREFIXES = ("/api/", "/open311/")


def is_page(request: Request) -> bool:
    """Requests for pages (not the JSON interfaces) get their errors as pages."""
    return not request.url.path.startswith(JSON_PREFIXES)


def page(request: Request, template: str, *, status: int = 200,
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    web_session = getattr(request.state, "web_session", None)
    actor = getattr(request.state, "actor", None)
    html = render(
        template, request=request, actor=actor,
        nav=navigation(actor) if isinstance(actor, Actor) else {},
        csrf_token=web_session.csrf_token() if isinstance(web_session, WebSession) else "",
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return apply_cookie(request, response)  # type: ignore[return-value]


def redirect(request: Request, url: str) -> Response:
    """303 See Other: after a POST the browser loads the target with a GET."""
    return apply_cookie(request, RedirectResponse(url, status_code=303))


def messages(detail: Any) -> tuple[dict[str, str], list[str]]:
    """A refusal's detail as (message per form field, messages for the whole form)."""
    if not isinstance(detail, list):
        return {}, [str(detail)]
    fields: dict[str, str] = {}
    general: list[str] = []
    for item in detail:
        if not isinstance(item, dict):
            general.append(str(item))
            continue
        loc = [str(part) for part in item.get("loc", []) if part not in ("body", "query")]
        msg = str(item.get("msg", ""))
        if loc and loc[0] in FIELD_LABELS:
            fields.setdefault(loc[0], msg)
        else:
            general.append(f"{FIELD_LABELS.get(loc[0], loc[0])}：{msg}" if loc else msg)
    return fields, general


def reject(request: Request, error: DomainError, template: str, **context: Any) -> PageRejected:
    """The form again, with what was typed and the refusal's messages, at the refusal's status."""
    field_errors, general = messages(error.detail)
    response = page(request, template, status=error.status_code, headers=_retry_after(error),
                    errors=field_errors, general_errors=general, **context)
    return PageRejected(response, error)


def _retry_after(error: DomainError) -> dict[str, str]:
    """The refusal's Retry-After (a locked login); its WWW-Authenticate is for the API."""
    return {k: v for k, v in (error.headers or {}).items() if k.lower() == "retry-after"}


def error_response(request: Request, error: DomainError) -> Response:
    if isinstance(error, PageRejected):
        return error.response
    if isinstance(error, LoginRequired):
        return redirect(request, login_url(request))
    if isinstance(error, AccountGate):
        return redirect(request, GATE_PAGES[error.gate])
    _, general = messages(error.detail)
    return page(request, "error.html", status=error.status_code, headers=_retry_after(error),
                title=ERROR_TITLES.get(error.status_code, "出错了"), general_errors=general)


def typed_values(form: StagedForm) -> dict[str, str]:
    """What the user typed, to fill the form again (never the CSRF token or a version)."""
    return {k: v for k, v in form.fields.items() if k not in ("csrf_token", "expected_version")}
