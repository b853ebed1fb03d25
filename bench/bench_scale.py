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
            [--deep-page 50]
            [--state closed] [--port 8790] [--skip-ledger | --only-ledger] [--explain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bihuan_scale"
SECRET = "bench-scale-secret-key-not-for-production-0123456789"
LEDGER_KEYWORD = "防护"  # two of the sixteen generated hazard titles: about 1/8 of the rows

os.environ.update({"BIHUAN_ENV": "production", "SECRET_KEY": SECRET})


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


# --------------------------------------------------------------------------- capture


class Capture:
    """The SQL one in-process request sends, for replay through psycopg."""

    def __init__(self, url: str) -> None:
        from fastapi.testclient import TestClient
        from sqlalchemy import event

        from app.core.db import get_engine
        from app.main import create_app

        self.statements: list[tuple[str, Any, bool]] = []
        self.recording = False
        engine = get_engine()

        @event.listens_for(engine, "before_cursor_execute")
        def _record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                    many: bool) -> None:
            if self.recording:
                self.statements.append((statement, parameters, many))

        self.client = TestClient(create_app())

    def request(self, path: str, headers: dict[str, str]) -> list[tuple[str, Any, bool]]:
        self.statements = []
        self.recording = True
        try:
            response = self.client.get(path, headers=headers)
        finally:
            self.recording = False
        response.raise_for_status()
        return self.statements


def explain(conn: Any, name: str, statements: list[tuple[str, Any, bool]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement a case sends but the actor's loading
    (and writes of many rows)."""
    print(f"\n===== {name}")
    for statement, parameters, many in statements:
        if many or statement.lstrip().startswith(("SELECT \"user\"", "SELECT region.path")):
            continue
        with conn.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or None)
            print("\n".join(row[0] for row in cursor.fetchall()))
            print("-----")
    conn.rollback()


def replay(conn: Any, statements: list[tuple[str, Any, bool]]) -> int:
    """Run the captured statements in one transaction; returns the rows fetched."""
    rows = 0
    with conn.cursor() as cursor:
        for statement, parameters, many in statements:
            if many:
                cursor.executemany(statement, parameters)
                continue
            cursor.execute(statement, parameters or None)
            if cursor.description is not None:
                rows += len(cursor.fetchall())
    conn.commit()
    return rows


# --------------------------------------------------------------------------- server


def start_server(url: str, port: int,
                 log_path: str | None = None) -> subprocess.Popen[bytes]:
    """`bihuan serve` on the port, its output to `log_path` if given; refuses a port already
    taken, where the bench would otherwise measure whatever server holds it (another run's,
    on another database)."""
    import socket

    import httpx

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is already in use: pick another with --port")
    env = {**os.environ, "DATABASE_URL": url, "BIHUAN_ENV": "production", "SECRET_KEY": SECRET}
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/bihuan"), "serve", "--port", str(port)], env=env, cwd=ROOT,
        stdout=output, stderr=output)
    for _ in range(200):
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode})")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


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


def enterprise_login(client: Any, conn: Any) -> dict[str, str]:
    """The bearer header of the user of the enterprise with the most hazards."""
    from app.devtools.scale.org import SCALE_PASSWORD

    username = conn.execute(
        "SELECT u.username FROM \"user\" u WHERE u.role = 'enterprise' AND u.enterprise_id = "
        "(SELECT enterprise_id FROM hazard GROUP BY enterprise_id ORDER BY count(*) DESC "
        "LIMIT 1) ORDER BY u.id LIMIT 1").fetchone()[0]
    conn.commit()
    token = client.post("/api/v1/auth/token", data={
        "username": username, "password": SCALE_PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- cases


def measure(name: str, requests: int, endpoint: Callable[[], None],
            raw: Callable[[], None]) -> dict[str, Any]:
    for _ in range(5):  # warm-up: caches, prepared statements, the pool
        endpoint()
        raw()
    times: dict[str, list[float]] = {"endpoint": [], "raw": []}
    for _ in range(requests):
        for kind, call in (("endpoint", endpoint), ("raw", raw)):
            started = time.perf_counter()
            call()
            times[kind].append((time.perf_counter() - started) * 1000)
    result = {"case": name}
    for kind, values in times.items():
        result[f"{kind}_p50"] = statistics.median(values)
        result[f"{kind}_p95"] = percentile(values, 95)
    log(f"{name}: endpoint p50 {result['endpoint_p50']:.1f} ms p95 "
        f"{result['endpoint_p95']:.1f}; raw p50 {result['raw_p50']:.1f} p95 "
        f"{result['raw_p95']:.1f}")
    return result


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


def board_cases(args: argparse.Namespace) -> dict[str, str]:
    """The committee's major-hazard board for this month and last month's ranking."""
    from app.core.clock import SystemClock, local_today

    today = local_today(SystemClock())
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return {f"board major {today:%Y-%m}":
                f"/api/v1/board?level=major&from={today.replace(day=1)}&to={today}",
            f"ranking {last_month}": f"/api/v1/board/ranking?month={last_month}"}


def ledger_case(client: Any, conn: Any, server_pid: int, path: str,
                statements: list[tuple[str, Any, bool]]) -> dict[str, Any]:
    base = rss_kib(server_pid)
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(server_pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    size = 0
    with client.stream("GET", path, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
    endpoint_s = time.perf_counter() - started
    done.set()
    sampler.join()
    started = time.perf_counter()
    rows = replay(conn, statements)
    raw_s = time.perf_counter() - started
    return {"size": size, "endpoint_s": endpoint_s, "raw_s": raw_s, "rows": rows,
            "base_kib": base, "peak_kib": peak, "hwm_kib": rss_kib(server_pid, "VmHWM")}


def main() -> None:
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
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.url

    import httpx
    import psycopg

    from app.core.db import postgresql_options
    from app.devtools.scale.org import PROVINCE_CODE, SCALE_PASSWORD

    # The app's own session settings (app/db.py: no JIT, no generic plans).
    conn = psycopg.connect(args.url, options=postgresql_options())
    username, township_id, matching = pick_scope(conn, args.state)
    conn.commit()
    log(f"scope: {username}, township {township_id} ({matching} hazards {args.state})")
    server = start_server(args.url, args.port)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=60)
        token = client.post("/api/v1/auth/token", data={
            "username": username, "password": SCALE_PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        client.headers.update(headers)
        capture = Capture(args.url)
        results = []
        base = f"/api/v1/hazards?state={args.state}&region_id={township_id}&limit={args.limit}"
        cases = {f"list {args.state} p1": base,
                 f"list {args.state} p{args.deep_page}":
                     f"{base}&cursor={follow_cursor(client, base, args.deep_page)}",
                 # An open state, a few hundred rows per township: the other end of the range.
                 "list rectifying p1": base.replace(f"state={args.state}", "state=rectifying")}
        cases.update(board_cases(args))
        case_headers = {name: headers for name in cases}
        # The most common request of all: an enterprise user's own list. The enterprise with
        # the most hazards, where a plan made for the average enterprise goes worst.
        name, enterprise_headers = "list own enterprise p1", enterprise_login(client, conn)
        cases[name], case_headers[name] = f"/api/v1/hazards?limit={args.limit}", enterprise_headers
        if args.explain:
            for name, path in cases.items():
                explain(conn, name, capture.request(path, case_headers[name]))
            return
        for name, path in cases.items() if not args.only_ledger else ():
            statements = capture.request(path, case_headers[name])

            def endpoint(path: str = path, name: str = name) -> None:
                client.get(path, headers=case_headers[name]).raise_for_status()

            def raw(statements: list[tuple[str, Any, bool]] = statements) -> None:
                replay(conn, statements)

            runs = args.board_requests if path.startswith("/api/v1/board") else args.requests
            results.append(measure(name, runs, endpoint, raw))
        ledger = None
        if not args.skip_ledger:
            # The province's committee: the keyword then matches about 1,000,000 / 8 rows.
            token = client.post("/api/v1/auth/token", data={
                "username": f"awb{PROVINCE_CODE}", "password": SCALE_PASSWORD}).json()
            province = {"Authorization": f"Bearer {token['access_token']}"}
            client.headers.update(province)
            path = f"/api/v1/hazards/ledger?format=xlsx&q={LEDGER_KEYWORD}"
            ledger = ledger_case(client, conn, server.pid, path, capture.request(
                path.replace("format=xlsx", "format=csv"), province))
        print_table(results, ledger, args)
    finally:
        server.terminate()
        server.wait(10)


def print_table(results: list[dict[str, Any]], ledger: dict[str, Any] | None,
                args: argparse.Namespace) -> None:
    print(f"\nRead endpoints on {args.url.rsplit('/', 1)[-1]}, {args.requests} requests each "
          f"({args.board_requests} for board and ranking), one client, endpoint and raw SQL "
          "alternating (ms)\n")
    header = ("case", "endpoint p50", "endpoint p95", "raw p50", "raw p95", "ratio p50",
              "ratio p95")
    print(f"{header[0]:<22}" + "".join(f"{h:>14}" for h in header[1:]))
    for r in results:
        cells = (r["endpoint_p50"], r["endpoint_p95"], r["raw_p50"], r["raw_p95"])
        print(f"{r['case']:<22}" + "".join(f"{c:>14.1f}" for c in cells)
              + f"{r['endpoint_p50'] / r['raw_p50']:>13.2f}x"
              + f"{r['endpoint_p95'] / r['raw_p95']:>13.2f}x")
    if ledger:
        print(f"\nLedger XLSX (q={LEDGER_KEYWORD}): {ledger['rows']:,} rows, "
              f"{ledger['size'] / 2**20:.1f} MiB, endpoint {ledger['endpoint_s']:.1f} s; "
              f"raw SQL (CSV request's statements) {ledger['raw_s']:.1f} s; server RSS "
              f"{ledger['base_kib'] / 1024:.0f} MiB before, peak {ledger['peak_kib'] / 1024:.0f} "
              f"MiB (+{(ledger['peak_kib'] - ledger['base_kib']) / 1024:.0f}), "
              f"VmHWM {ledger['hwm_kib'] / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
