"""Benchmark the read endpoints on the generated province (`bihuan scale generate`), each side
by side with the same SQL replayed through psycopg alone.

Not a test: it prints figures. The issue's targets, on 1,000,000 hazards: the hazard list's
first page and a deep page (keyset, state + township filters) p95 <= 30 ms; the major-hazard
board <= 100 ms; a month's township ranking <= 1 s; each endpoint <= 1.3x the same query as raw
SQL; a 100,000-row XLSX ledger export with flat memory (peak RSS of the server process).

What it does: starts the real server (`bihuan serve`, one uvicorn worker, BIHUAN_ENV=production)
on --url (default: the bihuan_scale database), logs in over HTTP as a county committee
(安委办) of the generated province, and for each case:

  endpoint  GET over HTTP/1.1 keep-alive (httpx) to that server: auth, scoping, the query, the
            assignments and photos loaded with each hazard, JSON, HTTP;
  raw SQL   every statement the same request sends to the database, captured once by running
            the request in-process (Starlette TestClient on create_app(), a before_cursor_execute
            listener on the app's engine), then replayed with plain psycopg on one connection:
            same SQL text, same parameters, rows fetched, committed as the request is.

Endpoint and raw runs alternate request by request, so both see the same machine load. The
deep page is page --deep-page (default 50) reached by following next_cursor from the first;
its cursor is then requested repeatedly (state --state, default closed: the state with
enough rows in one township for 50 pages; a first page of `rectifying` is measured too).
The board (level=major, this month) and the ranking (last month) are app/api/board.py's.
The last list case is an enterprise user's own first page, for the enterprise with the most
hazards. The raw connection gets the app's session settings (app.db.POSTGRESQL_SETTINGS).
The ledger export is requested once as XLSX, filtered by a title keyword matching about 1/8
of the hazards (LEDGER_KEYWORD), while the server's VmRSS is sampled every 20 ms; its
reference is the same request's statements (as CSV: the same query) replayed through
psycopg, all rows fetched.

Usage:  .venv/bin/python bench/bench_scale.py [--url URL] [--requests 200] [--board-requests 20]
            [--deep-page 50] [--limit 50]
            [--state closed] [--port 8790] [--skip-ledger | --only-ledger] [--explain]
            [--smoke]   (tiny: 3 requests, page 2 of 5 rows; for tests/bench, on any generated
                         database; its figures mean nothing)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.capture import Capture, Statement, replay
from bench.lib.database import psycopg_url
from bench.lib.explain import explain
from bench.lib.load import bearer, login
from bench.lib.memory import RssSampler, status_kib
from bench.lib.output import log
from bench.lib.server import Server, exit_on_signals, production_settings, serve_argv
from bench.lib.stats import alternate, versus, versus_line, versus_table

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bihuan_scale"
LEDGER_KEYWORD = "防护"  # two of the sixteen generated hazard titles: about 1/8 of the rows
SMOKE = {"requests": 3, "board_requests": 2, "deep_page": 2, "limit": 5}


def pick_scope(conn: Any, state: str) -> tuple[str, int, int]:
    """The committee of the county holding the busiest township for `state`; that township."""
    row = conn.execute(
        "SELECT h.region_id, count(*) FROM hazard h WHERE h.state = %s "
        "GROUP BY h.region_id ORDER BY count(*) DESC LIMIT 1", (state,)).fetchone()
    township_id, count = row
    county_code = conn.execute(
        "SELECT c.code FROM region t JOIN region c ON c.id = t.parent_id WHERE t.id = %s",
        (township_id,)).fetchone()[0]
    return f"awb{county_code[:6]}", township_id, count


def enterprise_user(conn: Any) -> str:
    """The user of the enterprise with the most hazards."""
    username: str = conn.execute(
        "SELECT u.username FROM \"user\" u WHERE u.role = 'enterprise' AND u.enterprise_id = "
        "(SELECT enterprise_id FROM hazard GROUP BY enterprise_id ORDER BY count(*) DESC "
        "LIMIT 1) ORDER BY u.id LIMIT 1").fetchone()[0]
    conn.commit()
    return username


# --------------------------------------------------------------------------- cases


def measure(name: str, requests: int, endpoint: Callable[[], None],
            raw: Callable[[], None]) -> dict[str, Any]:
    """Endpoint and raw SQL taking turns, after 5 warm-up rounds (caches, prepared
    statements, the pool)."""
    row = versus(name, alternate({"endpoint": endpoint, "raw": raw}, requests, warmup=5))
    log(versus_line(row))
    return row


def follow_cursor(client: Any, path: str, pages: int) -> str:
    """The cursor of page `pages` (1 = first), reached by following next_cursor."""
    cursor = None
    for _ in range(pages - 1):
        query = path + (f"&cursor={cursor}" if cursor else "")
        response = client.get(query)
        response.raise_for_status()
        cursor = response.json()["next_cursor"]
        if cursor is None:
            raise SystemExit(f"fewer than {pages} pages for {path}")
    assert cursor is not None
    return cursor


def board_cases() -> dict[str, str]:
    """The committee's major-hazard board for this month and last month's ranking."""
    from app.core.clock import SystemClock, local_today

    today = local_today(SystemClock())
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return {f"board major {today:%Y-%m}":
                f"/api/v1/board?level=major&from={today.replace(day=1)}&to={today}",
            f"ranking {last_month}": f"/api/v1/board/ranking?month={last_month}"}


def ledger_case(client: Any, conn: Any, server_pid: int, path: str,
                statements: list[Statement]) -> dict[str, Any]:
    """One XLSX export while the server's RSS is sampled every 20 ms; then its SQL replayed."""
    sampler = RssSampler(server_pid)
    base = sampler.rss()[0]
    started = time.perf_counter()
    size = 0
    with sampler, client.stream("GET", path, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
    endpoint_s = time.perf_counter() - started
    started = time.perf_counter()
    rows = replay(conn, statements)
    raw_s = time.perf_counter() - started
    return {"size": size, "endpoint_s": endpoint_s, "raw_s": raw_s, "rows": rows,
            "base_mib": base, "peak_mib": max([base, *(s[1] for s in sampler.samples)]),
            "hwm_mib": status_kib("VmHWM", server_pid) / 1024}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--board-requests", type=int, default=20,
                        help="requests for the board and the ranking (slower)")
    parser.add_argument("--deep-page", type=int, default=50)
    parser.add_argument("--state", default="closed",
                        help="state filter of the first and deep pages (enough rows for them)")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--skip-ledger", action="store_true")
    parser.add_argument("--only-ledger", action="store_true")
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
    from app.devtools.scale.org import PROVINCE_CODE, SCALE_PASSWORD

    # The app's own session settings (app/db.py: no JIT, no generic plans).
    conn = psycopg.connect(psycopg_url(args.url), options=postgresql_options())
    username, township_id, matching = pick_scope(conn, args.state)
    conn.commit()
    log(f"scope: {username}, township {township_id} ({matching} hazards {args.state})")
    server = Server("app", serve_argv(args.port), os.environ, args.port)
    server.start()
    try:
        client = httpx.Client(base_url=server.base_url, timeout=60)
        headers = bearer(login(args.port, username, SCALE_PASSWORD))
        client.headers.update(headers)
        capture = Capture()
        results = []
        base = f"/api/v1/hazards?state={args.state}&region_id={township_id}&limit={args.limit}"
        cases = {f"list {args.state} p1": base,
                 f"list {args.state} p{args.deep_page}":
                     f"{base}&cursor={follow_cursor(client, base, args.deep_page)}",
                 # An open state, a few hundred rows per township: the other end of the range.
                 "list rectifying p1": base.replace(f"state={args.state}", "state=rectifying")}
        cases.update(board_cases())
        case_headers = {name: headers for name in cases}
        # The most common request of all: an enterprise user's own list. The enterprise with
        # the most hazards, where a plan made for the average enterprise goes worst.
        name = "list own enterprise p1"
        cases[name] = f"/api/v1/hazards?limit={args.limit}"
        case_headers[name] = bearer(login(args.port, enterprise_user(conn), SCALE_PASSWORD))
        if args.explain:
            for name, path in cases.items():
                explain(conn, name, capture.request(path, case_headers[name]))
            return
        for name, path in cases.items() if not args.only_ledger else ():
            statements = capture.request(path, case_headers[name])

            def endpoint(path: str = path, name: str = name) -> None:
                client.get(path, headers=case_headers[name]).raise_for_status()

            def raw(statements: list[Statement] = statements) -> None:
                replay(conn, statements)

            runs = args.board_requests if path.startswith("/api/v1/board") else args.requests
            results.append(measure(name, runs, endpoint, raw))
        ledger = None
        if not args.skip_ledger:
            # The province's committee: the keyword then matches about 1,000,000 / 8 rows.
            province = bearer(login(args.port, f"awb{PROVINCE_CODE}", SCALE_PASSWORD))
            client.headers.update(province)
            path = f"/api/v1/hazards/ledger?format=xlsx&q={LEDGER_KEYWORD}"
            ledger = ledger_case(client, conn, server.pid, path, capture.request(
                path.replace("format=xlsx", "format=csv"), province))
        print_table(results, ledger, args)
    finally:
        server.close()
        conn.close()


def print_table(results: list[dict[str, Any]], ledger: dict[str, Any] | None,
                args: argparse.Namespace) -> None:
    print(f"\nRead endpoints on {args.url.rsplit('/', 1)[-1]}, {args.requests} requests each "
          f"({args.board_requests} for board and ranking), one client, endpoint and raw SQL "
          "alternating (ms)\n")
    print(versus_table(results, 22))
    if ledger:
        print(f"\nLedger XLSX (q={LEDGER_KEYWORD}): {ledger['rows']:,} rows, "
              f"{ledger['size'] / 2**20:.1f} MiB, endpoint {ledger['endpoint_s']:.1f} s; "
              f"raw SQL (CSV request's statements) {ledger['raw_s']:.1f} s; server RSS "
              f"{ledger['base_mib']:.0f} MiB before, peak {ledger['peak_mib']:.0f} "
              f"MiB (+{ledger['peak_mib'] - ledger['base_mib']:.0f}), "
              f"VmHWM {ledger['hwm_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
