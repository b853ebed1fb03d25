"""Operations endpoints at the site root, outside the versioned API and its document: /healthz
(the process lives), /readyz (it may take traffic), /metrics (Prometheus)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.core.clock import get_clock
from app.core.db import get_engine, get_sessionmaker
from app.services.media.storage import get_storage
from app.services.operations import metrics, readiness

router = APIRouter(include_in_schema=False)
_head: list[str | None] = []  # the migrations' head, read once: it cannot change while running


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz() -> JSONResponse:
    """200 when the database answers at the schema's head and the storage takes a write;
    503 naming what failed otherwise (a load balancer keeps traffic away meanwhile)."""
    if not _head:
        _head.append(await run_in_threadpool(readiness.schema_head))
    checks = await run_in_threadpool(readiness.readiness, get_engine(), get_storage(), _head[0])
    ready = all(check.ok for check in checks)
    return JSONResponse(
        {"status": "ready" if ready else "not ready",
         "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}},
        status_code=200 if ready else 503)


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    collector = metrics.OutboxCollector(get_sessionmaker(), lambda: get_clock().now())
    body = await run_in_threadpool(metrics.exposition, collector)
    return Response(body, media_type=metrics.CONTENT_TYPE)
