"""Benchmark the onboarding import (app/services/onboarding.py) on a county-sized workbook.

Not a test: it prints figures. No target was set; this shows what a full-size file costs
(IMPORT_MAX_ROWS rows) and where the time goes, beside a reference: openpyxl's read-only
mode merely iterating the same workbook's cells (the floor for reading it).

What it does: a fresh SQLite database in a temp dir (or, with --pg-url, a fresh database on
that PostgreSQL server, dropped at the end), migrated and loaded with the demo county; then a
workbook under the demo county with --townships townships, one township office each, the
enterprises spread over them, and --users enterprise users. It times, in one process:

  reference   load_workbook(read_only=True) and iterate every cell (values only)
  read        onboarding_files.read_upload: sheets, headers, cells to text
  dry run     read + every check (batched look-ups), nothing written
  commit      read + checks + writing it all in one transaction (users: one argon2 hash each)

and reports the peak RSS (VmHWM) of the whole run.

Usage:  .venv/bin/python bench/bench_onboarding.py [--enterprises 19760] [--users 200]
        [--townships 20] [--pg-url postgresql://postgres@127.0.0.1:5432/test]
        [--smoke]   (tiny: 2 townships, 20 enterprises, 2 users; for tests/bench, its figures
                     mean nothing)
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.database import load_demo, migrate, scratch_database
from bench.lib.memory import peak_mib
from bench.lib.server import exit_on_signals

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SMOKE = {"townships": 2, "enterprises": 20, "users": 2}


def uscc(n: int) -> str:
    from app.services.org.uscc import check_character

    first17 = f"91339901MA{n:07d}"
    return first17 + check_character(first17)


def workbook(townships: int, enterprises: int, users: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    regions = book.create_sheet("区划")
    regions.append(["区划代码", "名称", "级别", "上级区划代码"])
    codes = [f"339901{200 + i:03d}000" for i in range(townships)]
    for i, code in enumerate(codes):
        regions.append([code, f"测试镇{i}", "乡镇", "339901000000"])
    units = book.create_sheet("监管单位")
    units.append(["单位名称", "单位类型", "所属区划代码"])
    for i, code in enumerate(codes):
        units.append([f"测试镇{i}安全生产办公室", "乡镇", code])
    sheet = book.create_sheet("企业")
    sheet.append(["企业名称", "统一社会信用代码", "所属乡镇区划代码", "行业", "地址", "纬度",
                  "经度"])
    for n in range(enterprises):
        sheet.append([f"测试企业{n}有限公司", uscc(n + 100), codes[n % townships], "机械",
                      f"测试镇工业区{n}号", 29.7 + n % 100 / 1000, 119.7 + n % 97 / 1000])
    people = book.create_sheet("用户")
    people.append(["用户名", "姓名", "角色", "所属企业统一社会信用代码"])
    for n in range(users):
        people.append([f"bench_user_{n}", f"安全员{n}", "企业用户", uscc(n + 100)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--townships", type=int, default=20)
    parser.add_argument("--enterprises", type=int, default=19_760)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--pg-url", help="PostgreSQL server URL (default: SQLite in a temp dir)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, to check the bench runs (figures mean nothing)")
    args = parser.parse_args()
    exit_on_signals()  # SIGTERM drops the database too
    if args.smoke:
        vars(args).update(SMOKE)
    with tempfile.TemporaryDirectory(prefix="bihuan-bench-onboarding-") as workdir:
        os.environ.setdefault("MEDIA_ROOT", str(Path(workdir) / "media"))
        os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
        with scratch_database(args.pg_url, Path(workdir)) as url:
            run(url, args)


def run(url: str, args: argparse.Namespace) -> None:
    """Make the workbook, then time reading, checking and importing it on `url`."""
    from openpyxl import load_workbook
    from sqlalchemy.orm import Session

    from app.access.actor import load_actor
    from app.core.clock import FixedClock
    from app.core.db import make_engine
    from app.models import User
    from app.services.onboarding import files as onboarding_files
    from app.services.onboarding import imports as onboarding

    clock = FixedClock(NOW)
    migrate(url)
    load_demo(url, NOW)
    engine = make_engine(url)
    try:
        data = workbook(args.townships, args.enterprises, args.users)
        rows = args.townships * 2 + args.enterprises + args.users
        print(f"workbook: {rows:,} data rows, {len(data) / 1024 / 1024:.1f} MiB "
              f"({args.townships} townships and offices, {args.enterprises:,} enterprises, "
              f"{args.users} users); {engine.dialect.name}")

        start, cpu = time.perf_counter(), time.process_time()
        book = load_workbook(io.BytesIO(data), read_only=True)
        cells = sum(1 for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                    for _ in row)
        book.close()
        reference = time.perf_counter() - start, time.process_time() - cpu

        start, cpu = time.perf_counter(), time.process_time()
        upload = onboarding_files.read_upload(data, kind=None, max_rows=rows + 1)
        read = time.perf_counter() - start, time.process_time() - cpu

        def import_once(dry_run: bool) -> tuple[tuple[float, float], object]:
            with Session(engine) as session, session.begin():
                user = session.query(User).filter_by(username="admin").one()
                actor = load_actor(session, user)
                begin, cpu = time.perf_counter(), time.process_time()
                parsed = onboarding_files.read_upload(data, kind=None, max_rows=rows + 1)
                report = onboarding.run_import(session, actor=actor, upload=parsed,
                                               dry_run=dry_run, clock=clock)
                elapsed = time.perf_counter() - begin, time.process_time() - cpu
                if dry_run:
                    session.rollback()
            return elapsed, report

        dry, report = import_once(True)
        assert report.ok, report.problems[:5]  # type: ignore[attr-defined]
        commit, report = import_once(False)
        created = report.created  # type: ignore[attr-defined]
        print(f"{'':42} {'wall':>8} {'CPU':>8}")
        for label, (wall, used), note in [
            ("reference (openpyxl read-only iteration)", reference, f"{cells:,} cells"),
            ("read_upload", read, f"{upload.row_count:,} rows"),
            ("dry run (read + checks)", dry, ""),
            ("commit (read + checks + write)", commit, f"created {created}"),
        ]:
            print(f"{label:42} {wall:7.2f}s {used:7.2f}s  {note}")
        print(f"peak RSS of the whole run: {peak_mib():.0f} MiB")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
