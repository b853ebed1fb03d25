"""Every bench imports, and every bench_*.py runs end to end at its --smoke size and prints its
figures, so that none rots while the app changes under it.

The benches that need PostgreSQL run when the suite does (TEST_DATABASE_URL=postgresql://…):
bench_scale, bench_board and bench_quarterly on one province generated tiny for them (2,000
hazards, by the generator behind `bihuan scale generate`), bench_assign on a database of its
own next to TEST_DATABASE_URL; bench_ledger and bench_onboarding run on SQLite, and on
PostgreSQL when the suite does. The runs are started together, each in a subprocess of its
own (a bench sets its own environment and the app reads its settings once), and each test
waits for its own: the smoke figures are meaningless, only that a bench runs and prints them
counts.
"""

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest

from bench.lib.ports import pick_port
from tests.fixtures.databases import (
    ON_POSTGRESQL,
    admin_url,
    create_database,
    drop_database,
    migrate,
)

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
NEEDS_POSTGRESQL = "needs PostgreSQL: run the suite with TEST_DATABASE_URL=postgresql://…"
TIMEOUT = 300  # seconds a smoke run may take on a loaded 2-core machine (they take ~5-30)
NUMBER = r"-?\d+\.\d+"


@dataclass
class Where:
    """What a smoke run is pointed at: the generated province, a free port, the server."""

    province: Callable[[], str]
    server: str | None  # TEST_DATABASE_URL on PostgreSQL, else None
    taken: set[int] = field(default_factory=set)

    def port(self) -> str:
        """A free port, and the next one (bench_assign's bare server), given to no other run."""
        port = pick_port()
        while {port, port + 1} & self.taken:
            port = pick_port()
        self.taken |= {port, port + 1}
        return str(port)

    def pg(self) -> list[str]:
        """--pg-url on PostgreSQL (the bench makes its database there), else nothing: SQLite."""
        return ["--pg-url", self.server] if self.server else []


@dataclass(frozen=True)
class Smoke:
    """A bench's smoke run and what its output must show: a table whose heading line holds
    every one of `headings`, rows of it matching each of `rows`, and the `also` lines."""

    args: Callable[[Where], list[str]]
    headings: tuple[str, ...]
    rows: tuple[str, ...]
    also: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    postgresql: bool = False


def ms_row(name: str, cells: int) -> str:
    """A row named `name` followed by `cells` decimal figures."""
    return rf"^{re.escape(name)}\s+" + r"\s+".join([NUMBER] * cells)


SMOKES: dict[str, Smoke] = {
    "bench_assign": Smoke(
        lambda w: ["--pg-url", w.server or "", "--port", w.port()],
        ("req/s", "p50 ms", "p99 ms", "errors", "CPU cores:", "client", "server", "pg", "other"),
        (ms_row("app   POST /hazards/{id}/actions/assign", 3) + r"\s+0\s+\|",
         ms_row("(a)   same SQL via psycopg, 2 threads", 3) + r"\s+0\s+\|",
         ms_row("(b)   bare FastAPI endpoint, no DB", 3) + r"\s+0\s+\|"),
        also=(r"app / \(a\) throughput:\s+\d+\.\d%", r"app p99 latency:\s+\d+\.\d ms",
              r"`bihuan audit verify` afterwards: all \d+ events verified; every chain is intact",
              rf"CPU per request, ms: app server {NUMBER}"),
        never=("WARNING", "NOT CHAINED", "first error"),
        postgresql=True),
    "bench_board": Smoke(
        lambda w: ["--url", w.province()],
        ("case", "endpoint p50", "p95", "raw SQL p50", "ratio", "floor", "raw", "own"),
        (r"^board major 2026-11-01\.\.2026-11-23 \(county\)\s+\d+\.\dms\s+\d+\.\dms",
         r"^ranking 2026-10 first \(province\)\s+\d+\.\dms",
         r"^ranking 2026-10 kept \(county\)\s+\d+\.\dms"),
        also=(r"^GET /api/v1/me \(no SQL: a request fixed cost\)\s+\d+\.\dms",),
        postgresql=True),
    "bench_criteria": Smoke(
        lambda w: w.pg(),
        ("case", "endpoint p50 ms", "p95", "raw SQL p50 ms", "statements", "matches"),
        (ms_row("keyword 粉尘, whole catalogue", 4) + r"\s+\d+\s+\d+$",
         ms_row("initials fcbz", 4) + r"\s+\d+\s+\d+$",
         ms_row("whole catalogue, 2nd page by cursor", 4) + r"\s+\d+\s+\d+$"),
        also=(r"^catalogue in force: \d+ entries; (SQLite|PostgreSQL); 5 runs per case$",
              rf"^keyword search over the whole catalogue: endpoint p95 {NUMBER} ms",)),
    "bench_ledger": Smoke(
        lambda w: w.pg(),
        ("rows", "variant", "wall s", "in txn s", "CPU s", "file MB", "base MB", "peak MB",
         "+peak MB"),
        tuple(rf"^\s+50\s+{re.escape(v)}" + rf"(\s+{NUMBER}){{7}}$"
              for v in ("csv", "naive csv", "xlsx", "naive xlsx")),
        also=(rf"^xlsx \+peak MB, streamed vs naive:\s+50 rows {NUMBER} vs {NUMBER}",)),
    "bench_onboarding": Smoke(
        lambda w: w.pg(),
        ("wall", "CPU"),
        (r"^reference \(openpyxl read-only iteration\)\s+\d+\.\d\ds\s+\d+\.\d\ds\s+180 cells",
         r"^commit \(read \+ checks \+ write\)\s+\d+\.\d\ds\s+\d+\.\d\ds\s+created "
         r"\{'regions': 2, 'units': 2, 'enterprises': 20, 'users': 2\}"),
        also=(r"^peak RSS of the whole run: \d+ MiB",)),
    "bench_photos": Smoke(
        lambda w: ["--port", w.port()],
        ("implementation", "median ms", "p90 ms", "×pyvips c=1", "×pyvips dflt", "CPU ms",
         "peak RSS MB", "+RSS MB"),
        tuple(ms_row(impl, 7) for impl in
              ("bihuan", "pyvips c=1", "pyvips default", "naive Pillow")),
        also=(r"^   statuses \{201: 2\}; latency ms: min \d+",
              r"^peak during burst\s+\d+\.\d",
              r"^   median time \d+\.\d\d× pyvips \(c=1\)"),
        never=("SHA-256 DIFFERS",)),
    "bench_photo_sizes": Smoke(
        lambda w: [],
        ("photo", "MP", "file MB", "cold ms", "median ms", "CPU ms", "baseline MB",
         "peak RSS MB", "+RSS MB"),
        (ms_row("0.3 MP", 8) + r"\s+640×480\s+480×640$",
         ms_row("1 MP", 8) + r"\s+1200×900\s+900×1200$"),
        also=(rf"^peak RSS per upload at 0\.3 MP: {NUMBER} MB$",
              rf"^peak RSS per upload at 1 MP: {NUMBER} MB$")),
    "bench_quarterly": Smoke(
        lambda w: ["--url", w.province(), "--port", w.port()],
        ("case", "endpoint p50", "endpoint p95", "raw p50", "raw p95", "ratio p50",
         "ratio p95", "stmts", "KiB"),
        tuple(ms_row(case, 4) + rf"\s+{NUMBER}x\s+{NUMBER}x\s+\d+\s+\d+$" for case in
              ("county by=region", "county by=unit xlsx", "province by=enterprise",
               "province by=enterprise xlsx")),
        postgresql=True),
    "bench_scale": Smoke(
        lambda w: ["--url", w.province(), "--port", w.port()],
        ("case", "endpoint p50", "endpoint p95", "raw p50", "raw p95", "ratio p50",
         "ratio p95"),
        tuple(ms_row(case, 4) + rf"\s+{NUMBER}x\s+{NUMBER}x$" for case in
              ("list closed p1", "list closed p2", "list rectifying p1",
               "list own enterprise p1")),
        also=(r"^Ledger XLSX \(q=防护\): [\d,]+ rows, \d+\.\d MiB, endpoint \d+\.\d s",),
        postgresql=True),
    "bench_verify": Smoke(
        lambda w: ["--pg-url", w.server or ""],
        ("hazards", "events", "checkpoint s", "checkpoint peak MB", "verify s",
         "verify peak MB", "events/s", "floor s", "verify/floor"),
        (rf"^300\s+[\d,]+(\s+{NUMBER}){{4}}\s+[\d,]+\s+{NUMBER}\s+{NUMBER}x$",),
        also=(r"^verify said \(300 hazards\): all \d+ events verified; every chain is intact "
              r"\(300 hazards agree with their timeline and checkpoint #1",
              r"^extrapolated to 1,000,000 hazards \(6,900,000 events\)"),
        postgresql=True),
}


def bench_scripts() -> list[str]:
    """Every bench in the directory: a new one is smoke-tested (or fails) automatically."""
    return sorted(path.stem for path in BENCH.glob("bench_*.py"))


def modules() -> list[str]:
    """Every module under bench/, the shared library included."""
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts)
                  for path in BENCH.rglob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize("module", modules())
def test_bench_module_imports_without_side_effects(module: str) -> None:
    before = dict(os.environ)
    imported = importlib.import_module(module)
    assert dict(os.environ) == before, f"importing {module} changed the environment"
    if module.startswith("bench.bench_"):
        assert callable(getattr(imported, "main", None)), f"{module} has no main()"


# --------------------------------------------------------------------------- smoke runs


@dataclass
class Run:
    """A bench's smoke run in a subprocess, its output going to files."""

    name: str
    proc: subprocess.Popen[bytes]
    stdout: IO[bytes]
    stderr: IO[bytes]

    def finish(self) -> tuple[int, str, str]:
        """Wait for it; its exit code, stdout and stderr."""
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"{self.name} --smoke did not finish in {TIMEOUT} s")
        for stream in (self.stdout, self.stderr):
            stream.flush()
            stream.seek(0)
        return (self.proc.returncode, self.stdout.read().decode(errors="replace"),
                self.stderr.read().decode(errors="replace"))

    def stop(self) -> None:
        """SIGTERM (a bench then stops its servers and drops its databases), SIGKILL if stuck."""
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def runnable(name: str) -> bool:
    smoke = SMOKES.get(name)
    return smoke is not None and (ON_POSTGRESQL or not smoke.postgresql)


@pytest.fixture(scope="module")
def province() -> Iterator[Callable[[], str]]:
    """A tiny generated province (PostgreSQL), made on first use, dropped at the end."""
    made: list[str] = []

    def url() -> str:
        if not made:
            from app.devtools.scale import generate

            made.append(create_database())
            migrate(made[0])
            generate(made[0], hazards=2000, enterprises=40, townships=4, seed=2026, year=2026,
                     now=datetime.now(UTC), echo=lambda _: None)
        return made[0]

    yield url
    for database in made:
        drop_database(database)


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, province: Callable[[], str],
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """The smoke runs of the benches selected in this session, all started at once."""
    selected = {item.callspec.params["name"] for item in request.session.items
                if item.originalname == "test_bench_smoke" and hasattr(item, "callspec")}
    where = Where(province=province, server=admin_url() if ON_POSTGRESQL else None)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    directory = tmp_path_factory.mktemp("bench-smoke")
    started: dict[str, Run] = {}
    try:
        for name in sorted(n for n in selected if runnable(n)):
            argv = [sys.executable, str(BENCH / f"{name}.py"), "--smoke",
                    *SMOKES[name].args(where)]
            out = (directory / f"{name}.out").open("w+b")
            err = (directory / f"{name}.err").open("w+b")
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL)
            started[name] = Run(name, proc, out, err)
        yield started
    finally:
        for run in started.values():
            run.stop()  # still running if a test failed before waiting for it
            run.stdout.close()
            run.stderr.close()


def table_rows(output: str, headings: tuple[str, ...]) -> list[str]:
    """The rows of every table whose heading line holds all `headings` (up to a blank line)."""
    lines = output.splitlines()
    rows = []
    for i, line in enumerate(lines):
        if all(heading in line for heading in headings):
            for row in lines[i + 1:]:
                if not row.strip():
                    break
                if set(row.strip()) - {"-", " "}:
                    rows.append(row)
    return rows


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.skipif(not ON_POSTGRESQL, reason=NEEDS_POSTGRESQL))
    if name in SMOKES and SMOKES[name].postgresql else name
    for name in bench_scripts()])
def test_bench_smoke(name: str, runs: dict[str, Run]) -> None:
    smoke = SMOKES.get(name)
    if smoke is None:
        pytest.fail(f"bench/{name}.py has no smoke case: add one to SMOKES in {__file__}")
    code, out, err = runs[name].finish()
    assert code == 0, f"{name} --smoke exited {code}:\n{err[-4000:]}"
    rows = table_rows(out, smoke.headings)
    assert rows, f"{name} printed no table headed {smoke.headings}:\n{out[-4000:]}"
    for pattern in smoke.rows:
        assert any(re.search(pattern, row) for row in rows), \
            f"{name}: no row matching {pattern!r} in\n" + "\n".join(rows)
    for pattern in smoke.also:
        assert re.search(pattern, out, re.MULTILINE), \
            f"{name}: nothing matching {pattern!r} in\n{out[-4000:]}"
    for text in smoke.never:
        assert text not in out, f"{name} printed {text!r}:\n{out[-4000:]}"
