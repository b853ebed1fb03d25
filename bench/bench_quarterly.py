"""Benchmark the quarterly statistics (季度统计分析) on the generated province
(`bihuan scale generate`), each case side by side with the same SQL replayed through psycopg.

Not a test: it prints figures. The lead's targets (in the spirit of the issue's board and
ranking targets): a county committee <= 300 ms and the province's committee <= 1 s for
by=region and by=unit; by=enterprise over the whole province (20,000 rows) as fast as its SQL
allows; each endpoint <= 1.3x the same statements as raw SQL where the SQL is not tiny.

What it does: starts the real server (`bihuan serve`, one uvicorn worker,
BIHUAN_ENV=production) on --url, logs in over HTTP as the county committee --county (default
awb990101) and the province's committee --province (default awb99), and for each committee and
each `by` (region, unit, enterprise; with --xlsx also format=xlsx):

  endpoint  GET /api/v1/statistics/quarterly over HTTP/1.1 keep-alive (httpx) to that server:
            auth, scoping, every query, the report, the pydantic response and JSON (or the
            workbook), HTTP;
  raw SQL   every statement the same request sends to the database, captured once by running
            the request in-process (Starlette TestClient on create_app(), a
            before_cursor_execute listener on the app's engine, as bench_scale.py's Capture),
            then replayed with plain psycopg on one connection: same SQL text, same
            parameters, rows fetched, committed as the request is.

Each case is requested once over HTTP before its capture: the first request for an ended
quarter (SETTLE after its end) tallies it (app/services/quarterly.py; about 3 s for the
province), which is neither measured nor replayed. The raw connection gets the app's session
settings (jit off, plan_cache_mode force_custom_plan). Endpoint and raw runs alternate request
by request, so both see the same machine load. Figures are wall-clock milliseconds, median and
p95 over --runs runs after --warmup runs. A quarter not yet tallied (--quarter 4, the current
one) measures counting from the timeline.

Usage:  .venv/bin/python bench/bench_quarterly.py [--url URL] [--runs 10] [--warmup 2]
            [--year 2026] [--quarter 3] [--by region,unit,enterprise] [--scopes county,province]
            [--xlsx] [--port 8791] [--server-log FILE] [--explain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bihuan_scale"

# bench_scale sets BIHUAN_ENV and SECRET_KEY on import: the server gets the same key.
from bench.bench_scale import (  # noqa: E402
    Capture,
    explain,
    log,
    percentile,
    replay,
    start_server,
)


def measure(name: str, runs: int, warmup: int, endpoint: Callable[[], int],
            raw: Callable[[], None]) -> dict[str, Any]:
    size = 0
    for _ in range(warmup):
        size = endpoint()
        raw()
    times: dict[str, list[float]] = {"endpoint": [], "raw": []}
    for _ in range(runs):
        for kind, call in (("endpoint", endpoint), ("raw", raw)):
            started = time.perf_counter()
            result = call()
            times[kind].append((time.perf_counter() - started) * 1000)
            if kind == "endpoint":
                size = result or size
    result_row: dict[str, Any] = {"case": name, "size": size}
    for kind, values in times.items():
        result_row[f"{kind}_p50"] = statistics.median(values)
        result_row[f"{kind}_p95"] = percentile(values, 95)
    log(f"{name}: endpoint p50 {result_row['endpoint_p50']:.1f} ms p95 "
        f"{result_row['endpoint_p95']:.1f}; raw p50 {result_row['raw_p50']:.1f} p95 "
        f"{result_row['raw_p95']:.1f}; {size / 1024:.0f} KiB")
    return result_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--quarter", type=int, default=3)
    parser.add_argument("--by", default="region,unit,enterprise")
    parser.add_argument("--scopes", default="county,province")
    parser.add_argument("--county", default="awb990101", help="a county committee's username")
    parser.add_argument("--province", default="awb99", help="the province committee's username")
    parser.add_argument("--xlsx", action="store_true", help="also measure format=xlsx")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--server-log", help="append the server's output to this file")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of each case's statements, measure nothing")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.url

    import httpx
    import psycopg

    from app.core.db import postgresql_options
    from app.devtools.scale.org import SCALE_PASSWORD

    # The raw connection gets the app's own session settings (app.db).
    conn = psycopg.connect(args.url,
                           options=postgresql_options())
    server = start_server(args.url, args.port, args.server_log)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=600)
        capture = Capture(args.url)
        users = {"county": args.county, "province": args.province}
        results = []
        for scope in args.scopes.split(","):
            token = client.post("/api/v1/auth/token", data={
                "username": users[scope], "password": SCALE_PASSWORD}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            # The same user in-process (the capture), before any slow request.
            capture.client.get("/api/v1/me", headers=headers).raise_for_status()
            formats = ["json", "xlsx"] if args.xlsx else ["json"]
            for by in args.by.split(","):
                for fmt in formats:
                    path = (f"/api/v1/statistics/quarterly?year={args.year}"
                            f"&quarter={args.quarter}&by={by}"
                            + ("&format=xlsx" if fmt == "xlsx" else ""))
                    name = f"{scope} by={by}" + (" xlsx" if fmt == "xlsx" else "")
                    # One request first: whatever a first request does once (a quarter's
                    # tally, if one is built) is not among the statements replayed.
                    client.get(path, headers=headers).raise_for_status()
                    statements = capture.request(path, headers)
                    if args.explain:
                        explain(conn, name, statements)
                        continue

                    def endpoint(path: str = path, headers: dict[str, str] = headers) -> int:
                        response = client.get(path, headers=headers)
                        response.raise_for_status()
                        return len(response.content)

                    def raw(statements: list[tuple[str, Any, bool]] = statements) -> None:
                        replay(conn, statements)

                    row = measure(name, args.runs, args.warmup, endpoint, raw)
                    row["statements"] = len(statements)
                    results.append(row)
        if not args.explain:
            print_table(results, args)
    finally:
        server.terminate()
        server.wait(10)
        conn.close()


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\nQuarterly statistics {args.year}Q{args.quarter} on "
          f"{args.url.rsplit('/', 1)[-1]}, {args.runs} requests each after {args.warmup} "
          "warm-up, one client, endpoint and raw SQL alternating (ms)\n")
    header = ("case", "endpoint p50", "endpoint p95", "raw p50", "raw p95", "ratio p50",
              "ratio p95", "stmts", "KiB")
    print(f"{header[0]:<26}" + "".join(f"{h:>14}" for h in header[1:]))
    for r in results:
        cells = (r["endpoint_p50"], r["endpoint_p95"], r["raw_p50"], r["raw_p95"])
        print(f"{r['case']:<26}" + "".join(f"{c:>14.1f}" for c in cells)
              + f"{r['endpoint_p50'] / r['raw_p50']:>13.2f}x"
              + f"{r['endpoint_p95'] / r['raw_p95']:>13.2f}x"
              + f"{r['statements']:>14}{r['size'] / 1024:>14.0f}")


if __name__ == "__main__":
    main()
