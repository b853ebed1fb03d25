"""Benchmark the clause picker's list (GET /api/v1/criteria) beside its own SQL run raw.

Not a test: it prints figures. The target (docs/domain.md, criteria catalogue): a keyword
search over the whole catalogue answers in ≤ 50 ms. The catalogue shipped is small (under a
hundred entries in force), so the bench grows it by --extra entries of test text (「测试条目」
rows built from the shipped texts' words, imported like an admin's file) and measures at each
size: about 1,000 entries is what every standard a county meets would add up to; 5,000 is
a stress figure.

For each case: the statements one request sends are recorded in-process; the endpoint is
then timed through the in-process ASGI client (token check, actor, query, JSON), and the
same statements are replayed with the bare driver (sqlite3, or psycopg on --pg-url): the
floor the endpoint can approach. GET /api/v1/me is the fixed cost of any signed-in request.

Usage:  .venv/bin/python bench/bench_criteria.py [--pg-url postgresql://postgres@127.0.0.1:5432/test]
            [--extra 1000 5000] [--repeat 200]
            [--smoke]   (tiny: 50 extra entries, 5 repeats; its figures mean nothing)
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.capture import Statement, in_process_client, recorded_statements, replay
from bench.lib.database import load_demo, migrate, psycopg_url, scratch_database
from bench.lib.output import log, table
from bench.lib.server import production_settings
from bench.lib.stats import percentile

TARGET_MS = 50.0
SMOKE = {"extra": [50], "repeat": 5}
DOCUMENT_ROWS = 5000  # an import's limit per file (catalogue.MAX_ROWS)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="PostgreSQL server to make a scratch database on "
                                         "(default: an SQLite file)")
    parser.add_argument("--extra", type=int, nargs="+", default=[1000, 5000],
                        help="catalogue sizes to measure at: test entries added to the "
                             "shipped catalogue, each size on top of the previous")
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per case")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, to check the bench runs (figures mean nothing)")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    return args


def add_test_entries(url: str, count: int, first: int = 0) -> int:
    """`count` entries of test text in documents BENCH01…, imported as an admin would, the
    first `first` being there already; the catalogue's size in force afterwards."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from app.core.db import make_engine
    from app.models import Criterion
    from app.services.criteria.catalogue import import_document, in_force

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        words = [c for text in session.scalars(select(Criterion.text)) for c in text.split("，")]
        pool = random.Random(2026)
        industries = ["冶金", "机械", "建材", "危险化学品", "煤矿", "通用"]
        for start in range(first, count, DOCUMENT_ROWS):
            code = f"BENCH{start:05d}"
            rows = [{"doc_code": code, "doc_title": f"测试文件{code}（非标准原文）",
                     "article": f"第{n // 10 + 1}条", "item": f"（{n % 10 + 1}）",
                     "industry": pool.choice(industries),
                     "text": "测试条目：" + "，".join(pool.sample(words, 3)),
                     "source_url": "", "verification": "unverified: bench test text"}
                    for n in range(min(DOCUMENT_ROWS, count - start))]
            import_document(session, rows, now=datetime.now(UTC))
        total = session.scalar(select(func.count()).select_from(Criterion)
                               .join(Criterion.document).where(in_force())) or 0
    engine.dispose()
    return total


def timed(run: Callable[[], Any], repeat: int) -> list[float]:
    run()  # warm: the first call compiles and caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def raw_runner(url: str) -> Callable[[list[Statement]], Callable[[], None]]:
    """Replays recorded statements with the bare driver of `url`'s database."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))

        def sqlite_replay(statements: list[Statement]) -> Callable[[], None]:
            def run() -> None:
                for statement, parameters, _many in statements:
                    conn.execute(statement, parameters or ()).fetchall()
                conn.commit()
            return run
        return sqlite_replay

    import psycopg

    from app.core.db import postgresql_options
    pg = psycopg.connect(psycopg_url(url), options=postgresql_options())
    return lambda statements: (lambda: replay(pg, statements))


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as workdir, \
            scratch_database(args.pg_url, Path(workdir)) as url:
        os.environ.update(production_settings(url))
        log("migrating, loading the demo county")
        migrate(url)
        load_demo(url)
        added = 0
        for extra in sorted(args.extra):
            log(f"growing the catalogue by {extra - added} test entries")
            size = add_test_entries(url, extra, added)
            added = extra
            run_cases(url, size, args.repeat)


def run_cases(url: str, size: int, repeat: int) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.core.db import get_engine
    from app.core.security import issue_token
    from app.main import create_app
    from app.models import User

    engine = get_engine()
    with Session(engine) as session:
        reporter = session.scalars(select(User).where(User.username == "ent_a")).one()
        enterprise_id = reporter.enterprise_id
    client = in_process_client(create_app())
    headers = {"Authorization": f"Bearer {issue_token(reporter.id, datetime.now(UTC))}"}
    first = client.get("/api/v1/criteria", params={"limit": 20}, headers=headers).json()
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("GET /api/v1/me (fixed cost)", "/api/v1/me", {}),
        ("keyword 粉尘, whole catalogue", "/api/v1/criteria", {"q": "粉尘"}),
        ("keyword 特种作业 (few matches)", "/api/v1/criteria", {"q": "特种作业"}),
        ("initials fcbz", "/api/v1/criteria", {"q": "fcbz"}),
        ("two words 粉尘 除尘", "/api/v1/criteria", {"q": "粉尘 除尘"}),
        ("no match", "/api/v1/criteria", {"q": "不存在的词"}),
        ("the enterprise's clauses", "/api/v1/criteria", {"enterprise_id": enterprise_id}),
        ("whole catalogue, 2nd page by cursor", "/api/v1/criteria",
         {"limit": 20, "cursor": first["next_cursor"]}),
    ]
    raw = raw_runner(url)
    rows = []
    verdict = None
    for name, path, params in cases:
        with recorded_statements(engine) as statements:
            response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        app_ms = timed(lambda p=path, q=params: client.get(p, params=q, headers=headers),
                       repeat)
        sql_ms = timed(raw(list(statements)), repeat)
        total = response.json().get("total", "") if path.endswith("criteria") else ""
        rows.append([name, f"{percentile(app_ms, 50):.1f}", f"{percentile(app_ms, 95):.1f}",
                     f"{percentile(sql_ms, 50):.2f}", f"{percentile(sql_ms, 95):.2f}",
                     str(len(statements)), str(total)])
        if name.startswith("keyword 粉尘"):
            verdict = percentile(app_ms, 95)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"catalogue in force: {size} entries; {backend}; {repeat} runs per case")
    print(table(["case", "endpoint p50 ms", "p95", "raw SQL p50 ms", "p95", "statements",
                 "matches"], rows))
    assert verdict is not None
    print(f"keyword search over the whole catalogue: endpoint p95 {verdict:.1f} ms "
          f"(target ≤ {TARGET_MS:.0f} ms: {'met' if verdict <= TARGET_MS else 'NOT met'})")


if __name__ == "__main__":
    main()
