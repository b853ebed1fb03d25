"""The ASGI application."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import (
    accounts,
    admin,
    audit,
    board,
    checks,
    criteria,
    hazards,
    onboarding,
    open311,
    operations,
    statistics,
    supervision,
    tips,
    webhooks,
)
from app.core.config import get_settings
from app.core.errors import DomainError
from app.http import openapi
from app.http.headers import SecurityHeaders
from app.http.observability import Observability
from app.http.render import STATIC
from app.web import accounts as account_pages
from app.web import admin as admin_pages
from app.web import audit as audit_pages
from app.web import board as board_pages
from app.web import checks as check_pages
from app.web import hazards as hazard_pages
from app.web import home as pages
from app.web import pwa
from app.web import supervision as supervision_pages
from app.web import tips as tip_pages
from app.web.responses import error_response, is_page
from app.workflow.fields import field_errors


def create_app() -> FastAPI:
    app = FastAPI(
        title="bihuan 闭环",
        summary="隐患排查治理闭环: report, dual assignment, rectification, verification, "
        "spot-check and write-off of workplace-safety hazards",
        version="1.0.0",
        # Operation ids are the endpoint functions' names: what generated clients call them.
        generate_unique_id_function=lambda route: route.name,
    )
    # Typed path parameters ({hazard_id:int}): no route depends on the order of these.
    for module in (accounts, hazards, criteria, supervision, webhooks, onboarding, statistics,
                   board, checks, tips, admin, audit):
        app.include_router(module.router, prefix="/api/v1")
    # The pages, at the site root (server-rendered; app/web).
    app.include_router(operations.router)  # /healthz, /readyz, /metrics
    app.include_router(open311.router)  # /open311/v2 (GeoReport v2 over public tips)
    app.include_router(account_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(pages.router)
    app.include_router(supervision_pages.router)
    app.include_router(hazard_pages.router)
    app.include_router(board_pages.router)
    app.include_router(check_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(pwa.router)
    app.include_router(tip_pages.router)  # /tip: public, no account
    openapi.install(app)
    app.add_middleware(Observability)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    # Outermost: the source address the audit log, the access log and the tips' rate limit
    # see is the client's only when the connecting peer is a configured proxy.
    proxies = get_settings().proxy_networks()
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        # FastAPI's own answer repeats each input, which may be a password: say what is
        # wrong, in Chinese, and leave the input out.
        return JSONResponse({"detail": field_errors(error.errors())}, status_code=422)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if is_page(request):
            return error_response(request, error)
        if open311.wants_xml(request):
            response = open311.xml_error(error.status_code, error.detail)
            response.headers.update(error.headers or {})
            return response
        return JSONResponse(
            {"detail": error.detail, **error.extra},
            status_code=error.status_code,
            headers=error.headers,
        )

    return app


app = create_app()
