"""Baseline (b) for bench_assign.py: a bare FastAPI app, no database, one small JSON answer.

Served by the same uvicorn call as `bihuan serve` (same workers, proxy_headers, access log),
so the gap between it and the real endpoint is what the app itself costs per request.
"""

from fastapi import FastAPI

app = FastAPI()


@app.post("/bare")
async def bare() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
