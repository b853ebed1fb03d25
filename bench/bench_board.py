"""Benchmark the committee's board and township ranking on the generated province
(`bihuan scale generate`), each side by side with the same SQL replayed through psycopg.

Not a test: it prints figures. The issue's targets on 1,000,000 hazards / ~5,000,000 events:
the major-hazard board <= 100 ms, a month's ranking <= 1 s (PostgreSQL), each endpoint
<= 1.3x the same queries as raw SQL.

What it does: points the app at --url, finds a county committee (安委办) of the generated data
and the province's root region, and for each case:

  endpoint  GET in-process (Starlette TestClient on create_app()) with a bearer token of that
            committee (or an admin-like actor over the province, see --province): auth,
            scoping, every query, the pydantic response, JSON;
  raw SQL   every statement that request sent to the database (captured by a
            before_cursor_execute listener on the app's engine), replayed with plain psycopg
            on one connection: same SQL text, same parameters, rows fetched.

The county committee is authenticated by its token on every request, as in production (the
user and its region are loaded: those statements are replayed too); the province's made-up
actor is injected instead (no such user exists).

Fixed overhead: a do-nothing endpoint with the board's own dependencies (the actor, a read-only
session whose connection is checked out and pinged, the clock), measured alongside as "floor"
with its statements replayed ("floor raw"). "own" is then the board's part alone:
(endpoint - floor) / (raw SQL - floor raw), the Python the board adds to its own queries.

Endpoint and raw runs alternate, so both see the same machine load. Figures are wall-clock
milliseconds: median and p95 over --runs runs after 2 warm-up runs.

The ranking of an ended month is timed twice (app/services/ranking.py keeps its counts):
  first   the month's kept counts are dropped before every run (not timed), so each run
          counts the townships from the timeline and stores them (the raw replay too: the
          same SELECTs and the same INSERT ... ON CONFLICT);
  kept    the counts are kept: the townships and their stored counts are read back.
(--month must have ended over an hour ago; a month still counted live is counted both times.)
The board cases run on read-only transactions (default_transaction_read_only=on); the ranking
cases write ranking_month rows of --month, and only those.

Usage:  .venv/bin/python bench/bench_board.py [--url URL] [--runs 20] [--month 2026-10]
            [--from 2026-11-01] [--to 2026-11-23] [--year-from 2026-01-01] [--province]
            [--only TEXT] [--explain]
            [--smoke]   (tiny: 2 runs, the province too; for tests/bench, on any generated
                         database; its figures mean nothing)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.capture import Statement, in_process_client, recorded_statements
from bench.lib.capture import replay as replay_statements
from bench.lib.database import psycopg_url
from bench.lib.explain import explain
from bench.lib.server import production_settings
from bench.lib.stats import alternate, percentile

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bihuan_scale"
READ_ONLY = "SET TRANSACTION READ ONLY"
SMOKE = {"runs": 2, "province": True}


@dataclass(frozen=True)
class Case:
    name: str
    actor: Any
    path: str
    params: dict[str, str]
    read_only: bool = True  # the board never writes; the ranking keeps a month's counts
    before_each: Callable[[], None] | None = None  # untimed, before every call
    warm: bool = False  # one request before the captured one (which then reads what it kept)


def reads_hazards(statement: str) -> bool:
    """A statement that reads hazards, events or kept ranking counts (not the actor's)."""
    return any(table in statement for table in ("FROM hazard", "FROM event", "ranking_month"))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--from", dest="start", default="2026-11-01")
    parser.add_argument("--to", dest="end", default="2026-11-23")
    parser.add_argument("--year-from", default="2026-01-01")
    parser.add_argument("--province", action="store_true",
                        help="also as a committee of the whole province (a made-up actor)")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of each statement instead of timing")
    parser.add_argument("--only", action="append", default=[],
                        help="run only the cases whose name contains this (repeatable)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, to check the bench runs (figures mean nothing)")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    return args


def main() -> None:
    args = parse_args()
    os.environ.update(production_settings(args.url))

    import psycopg
    from fastapi import Depends, Response
    from sqlalchemy import event, select
    from sqlalchemy.orm import Session

    from app.access.actor import load_actor
    from app.core.db import get_engine, get_session, postgresql_options
    from app.core.security import issue_token
    from app.http.deps import get_actor, request_clock
    from app.main import create_app
    from app.models import Region, User

    engine = get_engine()
    with Session(engine) as session:
        committee = session.scalars(
            select(User).join(Region, Region.id == User.region_id)
            .where(User.role == "committee", Region.level == "county").order_by(User.id)
            .limit(1)).one()
        county = session.get_one(Region, committee.region_id)
        province = session.scalars(select(Region).where(Region.parent_id.is_(None))
                                   .order_by(Region.id).limit(1)).one()
        county_actor = load_actor(session, committee)
    print(f"county committee: {committee.username} ({county.name}); province: {province.name}")

    app = create_app()

    # The board's dependencies and nothing else (get_session checks the connection out).
    @app.get("/bench/floor", dependencies=[Depends(get_actor), Depends(request_clock),
                                           Depends(get_session, scope="function")])
    def floor() -> Response:
        return Response("{}", media_type="application/json")

    client = in_process_client(app)
    token = issue_token(committee.id, datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}"}
    # None: the committee's own token, read on every request as in production.
    actors: list[tuple[str, Any]] = [("county", None)]
    if args.province:
        actors.append(("province", replace(county_actor, region_id=province.id,
                                           region_path=province.path)))

    raw = psycopg.connect(psycopg_url(args.url), options=postgresql_options())

    def forget_month() -> None:
        raw.execute("DELETE FROM ranking_month WHERE month = %s", (args.month,))
        raw.commit()

    ranking = {"month": args.month}
    cases: list[Case] = []
    for scope, actor in actors:
        cases += [
            Case(f"board major {args.start}..{args.end} ({scope})", actor, "/api/v1/board",
                 {"level": "major", "from": args.start, "to": args.end}),
            Case(f"board major {args.year_from}..{args.end} ({scope})", actor,
                 "/api/v1/board", {"level": "major", "from": args.year_from, "to": args.end}),
            Case(f"board general {args.start}..{args.end} ({scope})", actor, "/api/v1/board",
                 {"level": "general", "from": args.start, "to": args.end}),
            Case(f"ranking {args.month} first ({scope})", actor, "/api/v1/board/ranking",
                 ranking, read_only=False, before_each=forget_month),
            Case(f"ranking {args.month} kept ({scope})", actor, "/api/v1/board/ranking",
                 ranking, read_only=False, warm=True),
        ]
    if args.only:
        cases = [case for case in cases if any(text in case.name for text in args.only)]

    def begin_read_only(connection: Any) -> None:
        connection.exec_driver_sql(READ_ONLY)

    def record(path: str, params: dict[str, str]) -> list[Statement]:
        """The statements one request sends (the pool's ping is not among them)."""
        with recorded_statements(engine) as captured:
            response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [s for s in captured if s[0] != READ_ONLY]

    def endpoint(path: str, params: dict[str, str]) -> Callable[[], None]:
        return lambda: assert_ok(client.get(path, params=params, headers=headers))

    def replay(statements: list[Statement], read_only: bool) -> Callable[[], None]:
        return lambda: replay_statements(raw, statements, READ_ONLY if read_only else None)

    print(f"{'case':<48} {'endpoint p50':>12} {'p95':>7} {'raw SQL p50':>11} {'p95':>7} "
          f"{'ratio':>5} {'floor':>6} {'raw':>5} {'own':>5}")
    for case in cases:
        if case.actor is None:
            app.dependency_overrides.pop(get_actor, None)
        else:
            app.dependency_overrides[get_actor] = lambda actor=case.actor: actor
        if case.read_only:
            event.listen(engine, "begin", begin_read_only)
        if case.warm:
            assert_ok(client.get(case.path, params=case.params, headers=headers))
        if case.before_each:
            case.before_each()
        statements = record(case.path, case.params)
        if args.explain:
            explain(raw, case.name, statements, keep=reads_hazards)
            if case.read_only:
                event.remove(engine, "begin", begin_read_only)
            continue
        calls = {"endpoint": endpoint(case.path, case.params),
                 "raw": replay(statements, case.read_only),
                 "floor": endpoint("/bench/floor", {}),
                 "floor raw": replay(record("/bench/floor", {}), case.read_only)}
        timings = alternate(calls, args.runs, warmup=2, before_each=case.before_each)
        if case.read_only:
            event.remove(engine, "begin", begin_read_only)
        p50 = {label: statistics.median(values) for label, values in timings.items()}
        own = (p50["endpoint"] - p50["floor"]) / max(p50["raw"] - p50["floor raw"], 0.01)
        print(f"{case.name:<48} {p50['endpoint']:>10.1f}ms "
              f"{percentile(timings['endpoint'], 95):>5.1f}ms"
              f" {p50['raw']:>9.1f}ms {percentile(timings['raw'], 95):>5.1f}ms "
              f"{p50['endpoint'] / p50['raw']:>5.2f} {p50['floor']:>4.1f}ms "
              f"{p50['floor raw']:>3.1f}ms {own:>5.2f}", flush=True)
    raw.close()
    if not args.explain:
        # What any request costs before its own work: GET /api/v1/me with the actor given
        # runs no SQL at all (in-process HTTP, routing, JSON). Small reads compare to this.
        me = alternate({"me": lambda: assert_ok(client.get("/api/v1/me", headers=headers))},
                       args.runs * 4, warmup=2)["me"]
        print(f"{'GET /api/v1/me (no SQL: a request fixed cost)':<52} "
              f"{statistics.median(me):>10.1f}ms {percentile(me, 95):>6.1f}ms")


def assert_ok(response: Any) -> None:
    assert response.status_code == 200, response.text


if __name__ == "__main__":
    main()
