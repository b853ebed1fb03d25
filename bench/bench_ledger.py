"""Benchmark the 隐患台账 export (app/services/ledger.py): time and peak memory, side by side
with a naive reference, at growing row counts.

Not a test: it prints figures. The issue's target: 100,000 rows exported without holding them
all in memory, i.e. the export's peak RSS does not grow with the number of rows.

What it does: creates a fresh SQLite database in a temp dir (or, with --pg-url, a fresh
database bihuan_bench_<random> on that PostgreSQL server, dropped at the end), migrates it
(`alembic upgrade head` through app.cli.alembic_config, as `bihuan migrate`), loads the demo
county (app.services.demo.load_demo), then bulk-inserts hazards with SQLAlchemy Core up to each
of --sizes in turn (two enterprises, all states, 5% major hazards with a five-determination
plan and a clause; a `report` event for every hazard and a `close` event for every closed one,
so the write-off time lookup has a realistic event table to search; no photos). At each size
it exports the whole ledger as the county committee (`anweiban`, who sees every row) with:

  csv         ledger.export_ledger(fmt=csv): rows read with yield_per, written as they come
  xlsx        as the endpoint does it: ledger.spool_rows (the same rows, pickled in batches to
              a temporary file) inside the transaction, then, after the commit,
              ledger.write_xlsx over ledger.spooled_rows in openpyxl's write-only mode
  naive csv   the same query without yield_per: `.all()` into a list, the rows' values into a
              second list, then the same CSV writer
  naive xlsx  `.all()` as above, then openpyxl's normal mode (Workbook(); ws.append(); save),
              plain values without the number formats (less work than the real one)

Each run is a fresh subprocess (`python bench/bench_ledger.py _run ...`) that writes into an
anonymous temporary file under MEDIA_ROOT/staging as the endpoint does, in one session whose
transaction is committed where the endpoint's ends (HTTP is left out: the response then only
copies the file). "in txn" is how long that transaction was open: on SQLite every transaction
is BEGIN IMMEDIATE (app/db.py), so every other request waits that long (30 s busy_timeout).
Memory: "base" is VmRSS after the imports and the actor's loading; "peak" is VmHWM (from
/proc/self/status) after the export, the high-water mark having been reset to the current RSS
(/proc/self/clear_refs) just before it; "+peak" is the difference, what the export itself
needed. Time is wall clock (perf_counter) around the export, CPU the process time. The row
counts and byte sizes are checked to agree between each export and its naive twin.

Caveats: openpyxl runs here without lxml (not a project dependency), i.e. with its slower
pure-Python XML writer; the database sits on the same disk as the output; one run per cell.

Usage:  .venv/bin/python bench/bench_ledger.py [--sizes 20000,100000] [--pg-url URL] [--smoke]
        (about a minute and a half on SQLite on a small machine; --smoke: 50 rows, for
        tests/bench, its figures mean nothing)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import ROOT
from bench.lib.database import load_demo, migrate, scratch_database
from bench.lib.memory import reset_peak, status_kib
from bench.lib.output import log
from bench.lib.server import exit_on_signals

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, as in the tests
VARIANTS = ("csv", "naive csv", "xlsx", "naive xlsx")
INSERT_BATCH = 5000
SMOKE_SIZES = "50"


# --------------------------------------------------------------------------- one run


def naive_rows(session: Any, actor: Any, clock: Any) -> list[tuple[Any, ...]]:
    from app.core.clock import local_today
    from app.core.config import get_settings
    from app.services.hazards import ledger
    from app.services.hazards.filters import HazardFilters

    today = local_today(clock)
    rows = session.execute(ledger.ledger_query(actor, HazardFilters(), today)).all()
    return [ledger.row_values(row, today=today, tz=get_settings().tz) for row in rows]


def naive_xlsx(rows: list[tuple[Any, ...]], out: IO[bytes]) -> int:
    from openpyxl import Workbook

    from app.services.hazards import ledger

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(ledger.HEADERS)
    for row in rows:
        sheet.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
    workbook.save(out)
    return len(rows)


def run_one(url: str, variant: str) -> dict[str, Any]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.access.actor import load_actor
    from app.core.clock import FixedClock
    from app.core.db import make_engine
    from app.models import User
    from app.services.hazards import ledger
    from app.services.hazards.filters import HazardFilters

    engine = make_engine(url)
    clock = FixedClock(NOW)
    everything = HazardFilters()
    exports: dict[str, Callable[[Any, Any, IO[bytes]], int]] = {
        "csv": lambda s, a, out: ledger.export_ledger(
            s, actor=a, filters=everything, clock=clock, fmt=ledger.LedgerFormat.csv, out=out),
        "naive csv": lambda s, a, out: ledger.write_csv(naive_rows(s, a, clock), out),
        "naive xlsx": lambda s, a, out: naive_xlsx(naive_rows(s, a, clock), out),
    }
    with Session(engine) as session:
        session.begin()
        user = session.scalars(select(User).where(User.username == "anweiban")).one()
        actor = load_actor(session, user)
        base = status_kib("VmRSS")
        reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        with ledger.spool_file() as out:
            if variant == "xlsx":  # as the endpoint: rows in the transaction, XLSX after it
                with ledger.spool_file() as spool:
                    rows = ledger.spool_rows(session, actor=actor, filters=everything,
                                             clock=clock, out=spool,
                                             max_rows=ledger.XLSX_MAX_ROWS)
                    session.commit()
                    in_transaction = time.perf_counter() - started
                    ledger.write_xlsx(ledger.spooled_rows(spool), out)
            else:
                rows = exports[variant](session, actor, out)
                session.commit()
                in_transaction = time.perf_counter() - started
            size = out.tell()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = status_kib("VmHWM")
    engine.dispose()
    return {"variant": variant, "rows": rows, "bytes": size, "seconds": seconds, "cpu": cpu,
            "in_transaction": in_transaction, "base_kib": base, "peak_kib": peak}


# --------------------------------------------------------------------------- set-up


STATES = ("reported", "assigned", "rectifying", "rectified", "verified", "spot_checked",
          "closed", "closed", "closed", "rejected")
CLAUSE = "工贸行业重大事故隐患判定标准 第四条第（一）项"
TITLES = ("配电箱未接地", "消防通道堵塞", "冲压机防护罩缺失", "=危化品仓库通风不良", "叉车无证驾驶")


def insert_hazards(url: str, start: int, stop: int) -> None:
    """Hazards start+1 .. stop, with their report events and, when closed, close events."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from app.core.db import make_engine
    from app.models import Enterprise, Event, Hazard, User

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        enterprises = [(e.id, e.region_id) for e in session.scalars(
            select(Enterprise).order_by(Enterprise.id))]
        reporter = session.scalars(select(User).where(User.username == "ent_a")).one().id
        next_id = start + 1
        while next_id <= stop:
            hazards, events = [], []
            for n in range(next_id, min(stop, next_id + INSERT_BATCH - 1) + 1):
                enterprise_id, region_id = enterprises[n % len(enterprises)]
                state = STATES[n % len(STATES)]
                major = n % 20 == 0
                reported_at = NOW - timedelta(days=400) + timedelta(minutes=5 * n)
                deadline = (None if state in ("reported", "rejected")
                            else date(2026, 11, 23) + timedelta(days=n % 61 - 30))
                hazards.append({
                    "id": n, "code": f"YH-339901-2025-{n:06d}", "state": state,
                    "level": "major" if major else "general", "title": TITLES[n % len(TITLES)],
                    "description": "车间二配电箱外壳未接地，存在触电风险，需立即整改并复测接地电阻",
                    "location": f"{n % 9 + 1}号车间东侧", "category": None,
                    "major_clause": CLAUSE if major else None,
                    "lat": None, "lon": None, "enterprise_id": enterprise_id,
                    "region_id": region_id, "reported_by_id": reporter,
                    "reporter_role": "enterprise", "reported_at": reported_at,
                    "updated_at": reported_at, "deadline": deadline,
                    "plan": ({"owner": "张建国", "measures": "更换防护罩", "funds": "85000",
                              "deadline": "2026-12-13", "contingency": "设置警戒区"}
                             if major and deadline is not None else None),
                    "spot_check_drawn": None, "deadline_provisional": False,
                    "was_overdue": False, "listing": None, "version": 1,
                })
                events.append(_event(n, 1, "report", None, "reported", reported_at))
                if state == "closed":
                    events.append(_event(n, 2, "close", "verified", "closed",
                                         reported_at + timedelta(days=12, hours=3)))
            session.execute(insert(Hazard), hazards)
            session.execute(insert(Event), events)
            next_id += len(hazards)
    engine.dispose()


def _event(hazard_id: int, seq: int, action: str, source: str | None, dest: str,
           at: datetime) -> dict[str, Any]:
    digest = hashlib.sha256(f"{hazard_id}/{seq}".encode()).hexdigest()
    return {"hazard_id": hazard_id, "seq": seq, "action": action, "from_state": source,
            "to_state": dest, "actor_id": None, "actor_role": "system", "actor_unit_id": None,
            "actor_enterprise_id": None, "at": at, "note": None, "data": {}, "photos": [],
            "prev_hash": "0" * 64, "hash": digest}


# --------------------------------------------------------------------------- driver


def measure(url: str, variant: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "_run", url, variant], env=env, cwd=ROOT,
        capture_output=True, text=True, check=False, timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def print_table(results: dict[int, dict[str, dict[str, Any]]], backend: str) -> None:
    print(f"\n隐患台账 export on {backend}: the whole county as anweiban. MB = MiB; base = RSS "
          "before the export, peak = VmHWM during it, +peak = peak - base\n")
    columns = ("rows", "variant", "wall s", "in txn s", "CPU s", "file MB", "base MB",
               "peak MB", "+peak MB")
    widths = (9, 11, 7, 8, 7, 8, 8, 8, 9)
    print("  ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for size in sorted(results):
        for variant in VARIANTS:
            r = results[size][variant]
            cells = (f"{size:,}", variant, f"{r['seconds']:.2f}", f"{r['in_transaction']:.2f}",
                     f"{r['cpu']:.2f}",
                     f"{r['bytes'] / 2**20:.1f}", f"{r['base_kib'] / 1024:.1f}",
                     f"{r['peak_kib'] / 1024:.1f}",
                     f"{(r['peak_kib'] - r['base_kib']) / 1024:.1f}")
            print("  ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    print()
    for fmt in ("csv", "xlsx"):
        line = [f"{fmt:<4} +peak MB, streamed vs naive:"]
        for size in sorted(results):
            stream, naive = results[size][fmt], results[size][f"naive {fmt}"]
            line.append(f"{size:,} rows {extra_mb(stream):.1f} vs {extra_mb(naive):.1f}")
        print("  ".join(line))


def extra_mb(result: dict[str, Any]) -> float:
    return float(result["peak_kib"] - result["base_kib"]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,100000",
                        help="comma-separated row counts, ascending (default 20000,100000)")
    parser.add_argument("--pg-url", help="PostgreSQL server URL (default: SQLite in a temp dir)")
    parser.add_argument("--smoke", action="store_true",
                        help=f"{SMOKE_SIZES} rows, to check the bench runs (figures mean nothing)")
    args = parser.parse_args()
    exit_on_signals()  # SIGTERM drops the database too
    sizes = sorted(int(s) for s in (SMOKE_SIZES if args.smoke else args.sizes).split(","))
    with tempfile.TemporaryDirectory(prefix="bihuan-bench-ledger-") as workdir:
        env = {**os.environ, "MEDIA_ROOT": str(Path(workdir) / "media"), "BIHUAN_ENV": "dev",
               "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef"}
        os.environ.update(env)
        with scratch_database(args.pg_url, Path(workdir)) as url:
            log(f"migrating and loading the demo county into {url.split('@')[-1]}")
            migrate(url)
            load_demo(url, NOW)
            results: dict[int, dict[str, dict[str, Any]]] = {}
            have = 0
            for size in sizes:
                started = time.perf_counter()
                insert_hazards(url, have, size)
                log(f"inserted hazards {have + 1:,}..{size:,} in "
                    f"{time.perf_counter() - started:.1f} s")
                have = size
                results[size] = {}
                for variant in VARIANTS:
                    result = measure(url, variant, env)
                    log(f"{size:,} rows, {variant}: {result['seconds']:.2f} s, peak "
                        f"{result['peak_kib'] / 1024:.1f} MB")
                    assert result["rows"] == size, result
                    results[size][variant] = result
                # The same rows through the same writer: the same bytes.
                assert results[size]["csv"]["bytes"] == results[size]["naive csv"]["bytes"]
            print_table(results, "PostgreSQL" if args.pg_url else "SQLite")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_run":
        print(json.dumps(run_one(sys.argv[2], sys.argv[3])))
    else:
        main()
