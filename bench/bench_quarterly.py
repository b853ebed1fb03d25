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
            before_cursor_execute listener on the app's engine: bench.lib.capture),
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
            [--smoke]   (tiny: 1 run after 1 warm-up, xlsx too; for tests/bench, on any
                         generated database; its figures mean nothing)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.capture import Capture, Statement, replay
from bench.lib.database import psycopg_url
from bench.lib.explain import explain
from bench.lib.load import bearer, login
from bench.lib.output import log
from bench.lib.server import Server, exit_on_signals, production_settings, serve_argv
from bench.lib.stats import alternate, versus, versus_line, versus_table

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bihuan_scale"
SMOKE = {"runs": 1, "warmup": 1, "xlsx": True}


def measure(name: str, runs: int, warmup: int, endpoint: Callable[[], int],
            raw: Callable[[], None]) -> dict[str, Any]:
    """Endpoint and raw SQL taking turns; the row also has the endpoint's answer size."""
    sizes = [0]

    def sized() -> None:
        sizes.append(endpoint() or sizes[-1])

    row = versus(name, alternate({"endpoint": sized, "raw": raw}, runs, warmup))
    row["size"] = sizes[-1]
    log(f"{versus_line(row)}; {row['size'] / 1024:.0f} KiB")
    return row


def parse_args() -> argparse.Namespace:
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
    parser.add_argument("--server-log", type=Path,
                        help="append the server's output to this file")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of each case's statements, measure nothing")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, to check the bench runs (figures mean nothing)")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    return args


def main() -> None:
    args = parse_args()
    exit_on_signals()  # SIGTERM stops the server too
    os.environ.update(production_settings(args.url))

    import httpx
    import psycopg

    from app.core.db import postgresql_options
    from app.devtools.scale.org import SCALE_PASSWORD

    # The raw connection gets the app's own session settings (app.db).
    conn = psycopg.connect(psycopg_url(args.url), options=postgresql_options())
    server = Server("app", serve_argv(args.port), os.environ, args.port, args.server_log)
    server.start()
    try:
        client = httpx.Client(base_url=server.base_url, timeout=600)
        capture = Capture()
        users = {"county": args.county, "province": args.province}
        results = []
        for scope in args.scopes.split(","):
            headers = bearer(login(args.port, users[scope], SCALE_PASSWORD))
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

                    def raw(statements: list[Statement] = statements) -> None:
                        replay(conn, statements)

                    row = measure(name, args.runs, args.warmup, endpoint, raw)
                    row["statements"] = len(statements)
                    results.append(row)
        if not args.explain:
            print_table(results, args)
    finally:
        server.close()
        conn.close()


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\nQuarterly statistics {args.year}Q{args.quarter} on "
          f"{args.url.rsplit('/', 1)[-1]}, {args.runs} requests each after {args.warmup} "
          "warm-up, one client, endpoint and raw SQL alternating (ms)\n")
    print(versus_table(results, 26, extra=(
        ("stmts", lambda r: str(r["statements"])),
        ("KiB", lambda r: f"{r['size'] / 1024:.0f}"))))


if __name__ == "__main__":
    main()
