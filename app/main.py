"""The ASGI application."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from app.api import (
    auth,
    board,
    criteria,
    hazards,
    ledger,
    onboarding,
    photos,
    policy,
    statistics,
    supervision,
    webhooks,
)
from app.core.errors import DomainError
from app.http.headers import SecurityHeaders
from app.http.render import STATIC
from app.web import accounts as account_pages
from app.web import board as board_pages
from app.web import hazards as hazard_pages
from app.web import home as pages
from app.web import pwa
from app.web import supervision as supervision_pages
from app.web.responses import error_response, is_page


def create_app() -> FastAPI:
    app = FastAPI(
        title="bihuan 闭环",
        summary="隐患排查治理闭环: report, dual assignment, rectification, verification, "
        "spot-check and write-off of workplace-safety hazards",
        version="1.0.0",
    )
    for module in (auth, ledger, hazards, photos, policy, criteria, supervision, webhooks,
                   onboarding, statistics, board):
        app.include_router(module.router, prefix="/api/v1")
    # The pages, at the site root (server-rendered; app/web).
    app.include_router(account_pages.router)
    app.include_router(pages.router)
    app.include_router(supervision_pages.router)
    app.include_router(hazard_pages.router)
    app.include_router(board_pages.router)
    app.include_router(pwa.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if is_page(request):
            return error_response(request, error)
        return JSONResponse(
            {"detail": error.detail, **error.extra},
            status_code=error.status_code,
            headers=error.headers,
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
