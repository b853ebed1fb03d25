"""Benchmark `bihuan audit checkpoint` and `bihuan audit verify` on a generated province.

Not a test: it prints figures: verify's time and memory on the generated
province (1,000,000 hazards, 6.9M events); verify walks the hazards in keyset batches, so its
memory must stay flat however many there are, and its time grow with the events.

What it does, for each --hazards size: a fresh database on the --pg-url server (dropped at the
end), migrated and filled by the scale generator (`bihuan scale generate`, app/devtools/scale);
an Ed25519 key in a temp dir; then, each as a `bihuan` subprocess reporting its own peak RSS
(VmHWM): `audit checkpoint` (signs every head, copies them to a temp dir) and `audit verify`
(every chain, every row, against that checkpoint). The reference (floor) is reading every
event row, ordered as verify reads them, with plain psycopg through a server-side cursor and
nothing computed. The last lines extrapolate linearly in events to a province of 1M hazards.

Usage:  .venv/bin/python bench/bench_verify.py [--pg-url postgresql://postgres@127.0.0.1:5432/test]
            [--hazards 25000 100000] [--batch 2000]
            [--smoke]   (tiny: 300 hazards; for tests/bench, its figures mean nothing)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import ROOT
from bench.lib.database import migrate, psycopg_url, scratch_database
from bench.lib.output import log, table
from bench.lib.server import exit_on_signals

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PROVINCE = (1_000_000, 6_900_000)  # the generated province (bihuan scale generate): hazards, events
SMOKE_HAZARDS = [300]
# Runs the command in this process and prints its peak RSS last, on stderr.
CHILD = ("import atexit, sys\n"
         "from bench.lib.memory import peak_mib\n"
         "atexit.register(lambda: print(f'PEAK_RSS_MIB {peak_mib():.1f}', file=sys.stderr))\n"
         "from app.cli import main\n"
         "sys.argv = ['bihuan', *sys.argv[1:]]\n"
         "main()\n")


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS MiB and stdout of `bihuan args` in a subprocess."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"bihuan {' '.join(args)} exited {done.returncode}:\n"
                           f"{(done.stdout + done.stderr)[-3000:]}")
    peak = next(float(line.split()[1]) for line in done.stderr.splitlines()
                if line.startswith("PEAK_RSS_MIB"))
    return wall, peak, done.stdout.strip()


def read_floor(url: str) -> float:
    """Every event row, in verify's order, through a psycopg server-side cursor."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(psycopg_url(url)) as conn, conn.cursor(name="floor") as cursor:
        cursor.itersize = 10_000
        cursor.execute("SELECT * FROM event ORDER BY hazard_id, seq")
        for _ in cursor:
            pass
    return time.perf_counter() - started


def one_size(server: str, hazards: int, batch: int,
             workdir: Path) -> tuple[list[str], str]:
    from app.devtools.scale import generate
    from app.services.integrity.keys import generate as generate_key

    with scratch_database(server, workdir) as url:
        migrate(url)
        log(f"generating {hazards} hazards ...")
        started = time.perf_counter()
        report = generate(url, hazards=hazards, enterprises=max(20, hazards // 25),
                          townships=max(2, min(1200, hazards // 800)), seed=2026, year=2026,
                          now=NOW, echo=log)
        log(f"generated {report.hazards} hazards, {report.events} events in "
            f"{time.perf_counter() - started:.0f} s")
        key = workdir / f"key-{hazards}.pem"
        generate_key(key)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIT_")}
        env.update(DATABASE_URL=url, AUDIT_SIGNING_KEY_FILE=str(key),
                   AUDIT_CHECKPOINT_DIR=str(workdir / f"copies-{hazards}"),
                   PYTHONPATH=str(ROOT))
        log("audit checkpoint ...")
        cp_wall, cp_peak, cp_out = run_measured(["audit", "checkpoint"], env)
        log(cp_out.splitlines()[0])
        log("audit verify ...")
        v_wall, v_peak, v_out = run_measured(["audit", "verify", "--batch", str(batch)], env)
        log(v_out.splitlines()[-1])
        log("reference: reading every event row ...")
        floor = read_floor(url)
    return [f"{report.hazards:,}", f"{report.events:,}", f"{cp_wall:.2f}", f"{cp_peak:.1f}",
            f"{v_wall:.2f}", f"{v_peak:.1f}", f"{report.events / v_wall:,.0f}",
            f"{floor:.2f}", f"{v_wall / floor:.1f}x"], v_out.splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_SERVER,
                        help="a PostgreSQL server URL: the bench makes its databases there")
    parser.add_argument("--hazards", type=int, nargs="+", default=[25_000, 100_000])
    parser.add_argument("--batch", type=int, default=2000, help="verify's keyset batch")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    sizes = SMOKE_HAZARDS if args.smoke else args.hazards
    exit_on_signals()  # SIGTERM drops the databases too
    rows, said = [], []
    with tempfile.TemporaryDirectory(prefix="bihuan-bench-verify-") as workdir:
        for hazards in sizes:
            row, verdict = one_size(args.pg_url, hazards, args.batch, Path(workdir))
            rows.append(row)
            said.append(verdict)
    print(table(["hazards", "events", "checkpoint s", "checkpoint peak MB", "verify s",
                 "verify peak MB", "events/s", "floor s", "verify/floor"], rows))
    print()
    for hazards, verdict in zip(sizes, said, strict=True):
        print(f"verify said ({hazards:,} hazards): {verdict}")
    largest = rows[-1]
    events = int(largest[1].replace(",", ""))
    scale = PROVINCE[1] / events
    print(f"extrapolated to {PROVINCE[0]:,} hazards ({PROVINCE[1]:,} events), linear in "
          f"events from the largest run: checkpoint {float(largest[2]) * scale:.0f} s, "
          f"verify {float(largest[4]) * scale:.0f} s; verify peak RSS stays about "
          f"{largest[5]} MB (keyset batches of {args.batch} hazards)")


if __name__ == "__main__":
    main()
