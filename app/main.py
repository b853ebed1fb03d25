"""The ASGI application."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.api import (
    auth,
    board,
    criteria,
    hazards,
    ledger,
    photos,
    policy,
    supervision,
    webhooks,
)
from app.errors import DomainError


def create_app() -> FastAPI:
    app = FastAPI(
        title="bihuan 闭环",
        summary="隐患排查治理闭环: report, dual assignment, rectification, verification, "
        "spot-check and write-off of workplace-safety hazards",
        version="1.0.0",
    )
    for module in (auth, ledger, hazards, photos, policy, criteria, supervision, webhooks,
                   board):
        app.include_router(module.router, prefix="/api/v1")

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(
            {"detail": error.detail}, status_code=error.status_code, headers=error.headers
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
