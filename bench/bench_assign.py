"""Benchmark the transition write path: POST /api/v1/hazards/{id}/actions/assign on PostgreSQL.

Not a test: it prints figures, side by side, for

  app  the real app, served as in production (`bihuan serve --workers N`, BIHUAN_ENV=production,
       SECRET_KEY set, DATABASE_URL on PostgreSQL), bearer token of `insp_dept`, URL-encoded
       `deadline=<today + 30 days>`, every request on a different hazard in state `reported`;
  (a)  the same SQL the app issues for one assign, replayed through psycopg alone (no
       SQLAlchemy, no HTTP) by as many threads as there are clients, one connection each, on
       fresh hazards in the same database: the ceiling the database and driver put on the app;
  (b)  a bare FastAPI endpoint (bench/bare_app.py: no DB, a small JSON) under the same uvicorn
       call as `bihuan serve` (same workers, proxy_headers, access log), same client load: the
       ceiling the server and the load generator put on the app.

The issue's target: app throughput >= 50% of (a), and app p99 <= 100 ms.

What it does: creates a fresh database (bihuan_bench_<random>) on the --pg-url server,
migrates it and loads the demo county (in this process, as `bihuan migrate` and `bihuan demo`
do), starts the server and has enterprise user ent_a report
--templates hazards over HTTP (POST /api/v1/hazards, multipart, one small random JPEG each),
clones the rest from those in SQL (see clone_hazards: reporting over HTTP slows down as the
enterprise's photos accumulate, so 4,400 reports would take minutes; --setup http does it
anyway), captures the assign's SQL, runs (a), the app and (b) (warm-up, then --requests
measured requests each), checks the outcome, and drops the database and the media directory at
the end, also on error, Ctrl-C or SIGTERM. Setup takes ~15 s, the whole run ~2 minutes.

How (a) is captured, and how faithful it is
--------------------------------------------
One assign is sent in-process (Starlette TestClient) to the real app, using the app's own engine
(app.db.get_engine: same URL, pool, pre-ping, psycopg dialect) on the bench database. During
that one request every DBAPI call is recorded by wrapping psycopg.Cursor.execute/executemany,
psycopg.Connection.commit/rollback and the connection's setters (autocommit, ...): the exact SQL
text SQLAlchemy hands to psycopg (pyformat placeholders, ::casts, the "insertmanyvalues" form of
the 3-row assignment INSERT), the exact parameter objects, the rowcounts and the rows returned
(serial sequences are moved to a distinctive range, from 10^9, for that one request, so that
the ids its INSERTs generate cannot be mistaken for other numbers). That is more than
SQLAlchemy's `before_cursor_execute` event shows: the pool's pre-ping (";", which SQLAlchemy's
psycopg dialect runs with autocommit switched on, so it is a transaction of its own), the
COMMIT, and the reset-on-return ROLLBACK (a no-op on an idle psycopg connection). The event
listener is attached too, as a cross-check: both must list the same statements.

The replay makes those calls, in order, on plain psycopg connections with default settings
(non-autocommit, so psycopg sends the same implicit BEGIN; server-side binding and the default
prepare_threshold, so statements get prepared after 5 uses on a connection, as in the app). Per
hazard it rebinds, in parameters and inside JSON parameters (an outbox message's payload, say):
the captured hazard's id and code; every timestamp, datetime or ISO text, to the transaction's
time; every id a captured INSERT ... RETURNING generated, to the id the same INSERT returns in
the replay (the new event's id in the outbox row, for instance); and the event's seq and
prev_hash from the row the replayed "last event" SELECT returned, with its hash computed by the
app's own app.services.timeline.compute_hash. Rows are fetched wherever the app fetched them; an
UPDATE whose rowcount differs from the captured one is an error, as SQLAlchemy's version check
would make it.

Not reproduced: the Python work of SQLAlchemy and the app (by design); the app's connection
pool (each replay thread keeps one connection, while the app's pool opens and closes connections
when a worker has more requests in flight than its pool_size: the "connections" per request
printed below); data-dependent branches (all hazards here take the same one: same enterprise,
same routing). The script checks the outcome: both sets of hazards must end the same way (state,
version, rows in every table that refers to a hazard, seq 2 chained to seq 1), `bihuan audit
verify` must find every chain intact, and the database work per request (pg_stat_database:
connections, commits, rows returned/fetched/inserted/updated) is printed for the app and for
(a), side by side.

Caveats printed with the figures: the load generator is Python (asyncio, raw HTTP/1.1 keep-alive
connections, uvloop when installed; or httpx with --client httpx) in this process, on the same
machine as the server and PostgreSQL, so it takes CPU from them; the CPU columns show how much.
The connections are opened once per server and reused for warm-up and measurement, and uvicorn's
workers share one listening socket, so the kernel decides which worker gets which connection; the
per-worker CPU split is printed to show the balance. Other programs running on the machine take
CPU too: the "other" column and the busiest other process show it, and the line "CPU of client +
server + PostgreSQL per request" gives a ratio that depends less on them than req/s does.

Usage:  .venv/bin/python bench/bench_assign.py [--workers 2] [--concurrency 32] [--requests 2000]
            [--warmup 200] [--pg-url URL] [--port 8765] [--client raw|httpx] [--setup clone|http]
            [--templates 64]
            [--smoke]   (tiny: 1 worker, 2 clients, 2 warm-up + 4 requests, 2 templates; for
                         tests/bench, its figures mean nothing)
"""


from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import psycopg.rows
from psycopg import sql
from psycopg.types.json import Json, Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import ROOT
from bench.lib.capture import SETTERS, Call, in_process_client, recorded_dbapi_calls
from bench.lib.cpu import CpuMeter, background_load
from bench.lib.database import (
    activity,
    create_database,
    database_name,
    drop_database,
    load_demo,
    migrate,
    next_to,
    vacuum_analyze,
)
from bench.lib.load import HttpxClient, RawClient, Request, Result, login, run_async
from bench.lib.output import log
from bench.lib.ports import pick_port
from bench.lib.server import (
    WITHOUT_SECOND_FACTOR,
    Server,
    bihuan_command,
    exit_on_signals,
    serve_argv,
)

DEMO_PASSWORD = "demo-pass-2026"
ASSIGN_PATH = "/api/v1/hazards/{}/actions/assign"
SMOKE = {"workers": 1, "concurrency": 2, "requests": 4, "warmup": 2, "templates": 2,
         "background_seconds": 0.5}


# --------------------------------------------------------------------------- the database



def hazard_shapes(url: str, ids: list[int]) -> Counter[tuple[Any, ...]]:
    """How the hazards ended: state, version, rows per table that refers to the hazard, and
    whether event seq 2 links to seq 1."""
    with psycopg.connect(url) as conn:
        counts = []
        for table in sorted(_referring(conn, "hazard")):
            for column, target in _foreign_keys(conn, table).items():
                if target == "hazard":
                    counts.append(
                        sql.SQL("{} || '=' || (SELECT count(*) FROM {} t WHERE t.{} = h.id)")
                        .format(sql.Literal(table), sql.Identifier(table), sql.Identifier(column)))
        rows = conn.execute(sql.SQL("""
            SELECT h.state, 'v' || h.version, {counts},
                   EXISTS (SELECT 1 FROM event e1 JOIN event e2
                             ON e2.hazard_id = e1.hazard_id AND e2.seq = 2 AND e1.seq = 1
                           WHERE e1.hazard_id = h.id AND e2.prev_hash = e1.hash)
            FROM hazard h WHERE h.id = ANY(%s)""").format(counts=sql.SQL(", ").join(counts)),
            (ids,)).fetchall()
    return Counter(tuple(r) for r in rows)


# --------------------------------------------------------------------------- setup


def noise_jpeg(width: int = 48, height: int = 32) -> bytes:
    """A small JPEG of random pixels: unique bytes and an unrelated perceptual hash each."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        buffer, "JPEG", quality=85)
    return buffer.getvalue()


def report_request(token: str, n: int) -> Request:
    """POST /api/v1/hazards as multipart: the fields of a general hazard and one photo."""
    boundary = f"bihuan-bench-{secrets.token_hex(8)}"
    fields = {"title": f"基准测试隐患 {n}", "description": "配电箱门未关闭，箱内线路裸露",
              "location": "二号车间东侧", "level": "general"}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields.items()
    ]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                 f'filename="bench-{n}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                 + noise_jpeg() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    headers = {"Authorization": f"Bearer {token}",
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    return Request("/api/v1/hazards", headers, b"".join(parts))


def create_hazards(port: int, count: int, clients: int = 8) -> list[int]:
    """Hazards in state `reported`, reported over HTTP by enterprise user ent_a."""
    token = login(port, "ent_a", DEMO_PASSWORD)
    requests = [report_request(token, n) for n in range(count)]

    async def go() -> Result:
        client = RawClient(port, clients)
        await client.open()
        result = Result("report", [], 0.0, bodies=[])
        try:
            await client.run(requests, result)
        finally:
            await client.close()
        return result

    result = run_async(go())
    if result.statuses != Counter({201: count}):
        raise RuntimeError(f"reporting hazards: {dict(result.statuses)}; {result.first_error}")
    ids = []
    for body in result.bodies or []:
        hazard = json.loads(body)
        if hazard["state"] != "reported":
            raise RuntimeError(f"a new hazard is in state {hazard['state']!r}, not reported")
        ids.append(hazard["id"])
    return ids


def _columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()
    return [r[0] for r in rows]


def _foreign_keys(conn: psycopg.Connection[Any], table: str) -> dict[str, str]:
    """column -> referenced table, for the single-column foreign keys of `table`."""
    rows = conn.execute(
        "SELECT a.attname, c.confrelid::regclass::text FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f' AND cardinality(c.conkey) = 1"
        " AND c.conrelid = %s::regclass", (sql.Identifier(table).as_string(conn),)).fetchall()
    return {column: target.strip('"') for column, target in rows}


def _referring(conn: psycopg.Connection[Any], table: str) -> list[str]:
    """The tables with a foreign key to `table`."""
    rows = conn.execute(
        "SELECT DISTINCT c.conrelid::regclass::text FROM pg_constraint c"
        " WHERE c.contype = 'f' AND c.confrelid = %s::regclass",
        (sql.Identifier(table).as_string(conn),)).fetchall()
    return [r[0].strip('"') for r in rows if r[0].strip('"') != table]


def _rows_referring(conn: psycopg.Connection[Any], table: str, hazard_fk: str,
                    template_ids: list[int]) -> int:
    """Rows of other tables that refer to rows of `table` belonging to the template hazards."""
    total = 0
    for other in _referring(conn, table):
        for column, target in _foreign_keys(conn, other).items():
            if target != table:
                continue
            found = conn.execute(sql.SQL(
                "SELECT count(*) FROM {} WHERE {} IN (SELECT id FROM {} WHERE {} = ANY(%s))"
            ).format(sql.Identifier(other), sql.Identifier(column), sql.Identifier(table),
                     sql.Identifier(hazard_fk)), (template_ids,)).fetchone()
            total += found[0] if found else 0
    return total


def clone_hazards(url: str, template_ids: list[int], count: int) -> list[int]:
    """`count` more hazards in state `reported`, copied in SQL from hazards the app created.

    Copy n takes template n % len(templates): the hazard row (own id, and the next code from
    the county's counter, as the app numbers them), its photo rows (same stored blob) and its
    timeline events, re-chained: each event names the new photo rows and its hash is recomputed
    with the app's own app.services.timeline.compute_hash. Every other column is copied as it
    is, whatever the schema has by then. Rows of other tables that refer to a template hazard
    (say, an outbox message per event) are copied too, their references to the hazard, its
    events and photos mapped to the copy's (JSON documents in them are copied as they are); if
    rows of yet other tables refer to those, or a table refers to the hazard twice, the clone
    stops rather than guess.
    """
    from app.services.hazards.timeline import GENESIS, compute_hash

    with psycopg.connect(url) as conn:
        # Other tables with rows for the templates (e.g. an outbox of timeline events): copied
        # at the end, their hazard/event/photo references mapped to the copies'.
        extra = []
        for table in _referring(conn, "hazard"):
            if table in ("photo", "event"):
                continue
            fks = _foreign_keys(conn, table)
            hazard_fk = [c for c, target in fks.items() if target == "hazard"]
            found = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {} = ANY(%s)").format(
                    sql.Identifier(table), sql.Identifier(hazard_fk[0])),
                (template_ids,)).fetchone()
            if not found or not found[0]:
                continue
            if len(hazard_fk) != 1 or _rows_referring(conn, table, hazard_fk[0], template_ids):
                raise RuntimeError(f"template hazards have rows in {table}: cannot clone them")
            extra.append((table, hazard_fk[0], fks))
        code = conn.execute("SELECT code FROM hazard WHERE id = %s",
                            (template_ids[0],)).fetchone()
        match = re.fullmatch(r"(YH-(\d{6})-(\d{4})-)(\d+)", code[0] if code else "")
        if match is None:
            raise RuntimeError(f"unexpected hazard code {code!r}")
        prefix, county, year, width = (match[1], match[2], int(match[3]), len(match[4]))
        bumped = conn.execute(
            "UPDATE hazard_counter SET last = last + %s WHERE county_code = %s AND year = %s"
            " RETURNING last", (count, county, year)).fetchone()
        assert bumped is not None
        first_seq = bumped[0] - count + 1

        conn.execute("""
            CREATE TEMP TABLE clone_map ON COMMIT DROP AS
            SELECT g.n, t.id AS template_id, nextval(pg_get_serial_sequence('hazard', 'id'))
                   AS new_id
            FROM generate_series(0, %(count)s - 1) AS g(n)
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
                  FROM hazard WHERE id = ANY(%(templates)s)) AS t
              ON t.k = g.n %% %(templates_n)s
            ORDER BY g.n""",
            {"count": count, "templates": template_ids, "templates_n": len(template_ids)})
        others = [c for c in _columns(conn, "hazard") if c not in ("id", "code")]
        conn.execute(
            sql.SQL("INSERT INTO hazard (id, code, {cols}) SELECT m.new_id, "
                    "%s || lpad((%s + m.n)::text, %s, '0'), {h_cols} "
                    "FROM clone_map m JOIN hazard h ON h.id = m.template_id").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, others)),
                h_cols=sql.SQL(", ").join(sql.Identifier("h", c) for c in others)),
            (prefix, first_seq, width))

        # Ids first: photos name their event, and events (append-only, never updated: a
        # trigger refuses it) name their photos and carry a hash over all of it.
        conn.execute("""
            CREATE TEMP TABLE photo_map ON COMMIT DROP AS
            SELECT m.new_id AS hazard_id, p.id AS template_photo_id, p.event_id,
                   nextval(pg_get_serial_sequence('photo', 'id')) AS new_photo_id
            FROM clone_map m JOIN photo p ON p.hazard_id = m.template_id""")
        conn.execute("""
            CREATE TEMP TABLE event_map ON COMMIT DROP AS
            SELECT m.new_id AS hazard_id, e.id AS template_event_id,
                   nextval(pg_get_serial_sequence('event', 'id')) AS new_event_id
            FROM clone_map m JOIN event e ON e.hazard_id = m.template_id""")
        new_photo = {(h, t): n for h, t, n in conn.execute(
            "SELECT hazard_id, template_photo_id, new_photo_id FROM photo_map")}
        with conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
            pairs = cursor.execute(
                "SELECT em.hazard_id AS new_hazard_id, em.new_event_id, e.* FROM event_map em"
                " JOIN event e ON e.id = em.template_event_id"
                " ORDER BY em.hazard_id, e.seq").fetchall()
        wrappers = {name: {"json": Json, "jsonb": Jsonb}[kind] for name, kind in conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND table_name = 'event' AND data_type IN ('json', 'jsonb')")}
        columns = _columns(conn, "event")
        rows = []
        heads: dict[int, tuple[int, str]] = {}
        last_hazard, prev = None, GENESIS
        for pair in pairs:
            event = {c: pair[c] for c in columns}
            hazard_id = pair["new_hazard_id"]
            if hazard_id != last_hazard:
                last_hazard, prev = hazard_id, GENESIS
            event.update(
                id=pair["new_event_id"], hazard_id=hazard_id, prev_hash=prev,
                photos=[{**ref, "id": new_photo[(hazard_id, ref["id"])]}
                        for ref in event["photos"] or []],
            )
            event["hash"] = prev = compute_hash(prev, SimpleNamespace(**event))
            heads[hazard_id] = (event["seq"], event["hash"])
            rows.append([wrappers[c](v) if c in wrappers else v for c, v in event.items()])
        with conn.cursor() as cursor:
            cursor.executemany(
                sql.SQL("INSERT INTO event ({}) VALUES ({})").format(
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns))),
                rows)
            # The clones' rows carry their template's chain head: give each its own.
            cursor.executemany("UPDATE hazard SET head_seq = %s, head_hash = %s WHERE id = %s",
                               [(seq, head, h) for h, (seq, head) in heads.items()])

        others = [c for c in _columns(conn, "photo") if c not in ("id", "hazard_id", "event_id")]
        conn.execute(
            sql.SQL("INSERT INTO photo (id, hazard_id, event_id, {cols}) SELECT pm.new_photo_id, "
                    "pm.hazard_id, em.new_event_id, {p_cols} FROM photo_map pm "
                    "JOIN photo p ON p.id = pm.template_photo_id "
                    "LEFT JOIN event_map em ON em.hazard_id = pm.hazard_id "
                    "AND em.template_event_id = pm.event_id").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, others)),
                p_cols=sql.SQL(", ").join(sql.Identifier("p", c) for c in others)))

        for table, hazard_fk, fks in extra:
            select = []
            for column in _columns(conn, table):
                target = fks.get(column)
                if column == hazard_fk:
                    select.append(sql.SQL("m.new_id"))
                elif target == "event":
                    select.append(sql.SQL(
                        "(SELECT new_event_id FROM event_map WHERE hazard_id = m.new_id"
                        " AND template_event_id = t.{})").format(sql.Identifier(column)))
                elif target == "photo":
                    select.append(sql.SQL(
                        "(SELECT new_photo_id FROM photo_map WHERE hazard_id = m.new_id"
                        " AND template_photo_id = t.{})").format(sql.Identifier(column)))
                elif column == "id":
                    select.append(sql.SQL("nextval(pg_get_serial_sequence({}, 'id'))").format(
                        sql.Literal(table)))
                else:
                    select.append(sql.Identifier("t", column))
            conn.execute(sql.SQL(
                "INSERT INTO {} ({}) SELECT {} FROM clone_map m JOIN {} t ON t.{} = m.template_id"
            ).format(sql.Identifier(table),
                     sql.SQL(", ").join(map(sql.Identifier, _columns(conn, table))),
                     sql.SQL(", ").join(select), sql.Identifier(table), sql.Identifier(hazard_fk)))
        new_ids = [r[0] for r in conn.execute("SELECT new_id FROM clone_map ORDER BY n")]
    return new_ids


GENERATED_FLOOR = 1_000_000_000  # ids the capture's INSERTs draw start here (see capture_assign)


class AssignReplay:
    """The DBAPI calls of one captured assign, re-bound and run for another hazard.

    Values that belong to the captured hazard are replaced, in parameters and inside JSON
    parameters alike: its id, its code, every timestamp (datetime, or its ISO text) by the
    transaction's time, and every id the capture's INSERT ... RETURNING generated (drawn from
    GENERATED_FLOOR up, so they cannot be mistaken for another number) by the id the same
    INSERT returns in the replay. The event's seq and prev_hash follow from the row the
    replayed "last event" SELECT returned, and its hash is computed as the app does.
    """

    def __init__(self, calls: list[Call], hazard_id: int, hazard_code: str) -> None:
        from app.services.hazards.timeline import compute_hash

        self.compute_hash = compute_hash
        self.calls = calls
        self.hazard_id, self.hazard_code = hazard_id, hazard_code
        # Writes whose rowcount SQLAlchemy checks (the version-checked UPDATE of the hazard).
        self.checked = {id(c) for c in calls if c.kind == "execute"
                        and str(c.query).lstrip().upper().startswith(("UPDATE", "DELETE"))}
        self.generated = {v for c in calls if str(c.query).lstrip().upper().startswith("INSERT")
                          for row in c.rows or [] for v in row
                          if type(v) is int and v >= GENERATED_FLOOR}
        self.times = {v.isoformat() for c in calls for v in self._walk(c.params)
                      if isinstance(v, datetime)}
        self.rebound = Counter[str]()
        for call in calls:
            for value in self._walk(call.params):
                if isinstance(value, datetime) or value in self.times:
                    self.rebound["timestamps"] += 1
                elif type(value) is int and value == hazard_id:
                    self.rebound["hazard id"] += 1
                elif type(value) is int and value in self.generated:
                    self.rebound["generated ids"] += 1
                elif value == hazard_code:
                    self.rebound["hazard code"] += 1

    @classmethod
    def _walk(cls, value: Any) -> Iterator[Any]:
        """Every scalar in a parameter set, JSON documents included."""
        if isinstance(value, Json | Jsonb):
            yield from cls._walk(value.obj)
        elif isinstance(value, dict):
            for item in value.values():
                yield from cls._walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from cls._walk(item)
        else:
            yield value

    def describe(self) -> str:
        """The call sequence, runs of statements collapsed: "autocommit=True, ';', ..."."""
        parts: list[str] = []
        run = 0
        for call in self.calls:
            if call.kind.startswith("execute") and str(call.query).strip() != ";":
                run += 1
                continue
            if run:
                parts.append(f"{run} statements")
                run = 0
            if call.kind in SETTERS:
                parts.append(f"{call.kind.removeprefix('set_')}={call.params}")
            elif call.kind == "execute":
                parts.append(repr(str(call.query)))
            else:
                parts.append(call.kind)
        if run:
            parts.append(f"{run} statements")
        return ", ".join(parts)

    def _event_hash(self, params: dict[str, Any]) -> str:
        """The chain hash of the event being inserted, by the app's own function (the app does
        this too; it keeps the replayed timelines valid for `bihuan audit verify`)."""
        content = {k: v.obj if isinstance(v, Json | Jsonb) else v for k, v in params.items()}
        return self.compute_hash(params["prev_hash"], SimpleNamespace(**content))

    def _bind(self, params: Any, subst: dict[Any, Any], now: datetime, last: Any) -> Any:
        def one(value: Any) -> Any:
            if isinstance(value, datetime):
                return now
            if isinstance(value, Json | Jsonb):
                return type(value)(one(value.obj))
            if isinstance(value, dict):
                return {k: one(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return type(value)(one(v) for v in value)
            if type(value) in (int, str) and value in subst:
                return subst[value]
            return value

        bound = one(params)
        if isinstance(bound, dict) and "prev_hash" in bound and "hash" in bound and last:
            captured = bound["hash"]
            bound["seq"] = last["seq"] + 1
            bound["prev_hash"] = last["hash"]
            bound["hash"] = self._event_hash(bound)
            subst[captured] = bound["hash"]  # the hazard's chain head, set next, names it
        return bound

    def run(self, conn: psycopg.Connection[Any], hazard_id: int, hazard_code: str) -> None:
        now = datetime.now(UTC)
        subst: dict[Any, Any] = {self.hazard_id: hazard_id, self.hazard_code: hazard_code}
        subst.update(dict.fromkeys(self.times, now.isoformat()))
        last: dict[str, Any] | None = None  # the latest row that had seq and hash columns
        for call in self.calls:
            if call.kind == "commit":
                conn.commit()
                continue
            if call.kind == "rollback":
                conn.rollback()
                continue
            if call.kind in SETTERS:
                getattr(conn, call.kind)(call.params)
                continue
            with conn.cursor() as cursor:
                if call.kind == "executemany":
                    cursor.executemany(
                        call.query, [self._bind(p, subst, now, last) for p in call.params],
                        **call.kwargs,
                    )
                else:
                    cursor.execute(call.query, self._bind(call.params, subst, now, last),
                                   **call.kwargs)
                if id(call) in self.checked and cursor.rowcount != call.rowcount:
                    raise RuntimeError(f"rowcount {cursor.rowcount} != {call.rowcount}: "
                                       f"{str(call.query)[:80]}")
                if cursor.description is None:
                    continue
                rows = cursor.fetchall()
                names = [c.name for c in cursor.description]
                if rows and "seq" in names and "hash" in names:
                    last = dict(zip(names, rows[0], strict=True))
                for captured, replayed in zip(call.rows or [], rows, strict=False):
                    for old, new in zip(captured, replayed, strict=False):
                        if type(old) is int and old in self.generated:
                            subst[old] = new


@contextlib.contextmanager
def distinctive_ids(url: str) -> Iterator[None]:
    """Let every serial id drawn inside the block start at GENERATED_FLOOR (a range per table),
    then put the sequences back: the capture's generated ids are then unmistakable."""
    with psycopg.connect(url, autocommit=True) as conn:
        sequences = [r[0] for r in conn.execute(
            "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences"
            " WHERE schemaname = current_schema() ORDER BY sequencename")]
        saved = [conn.execute("SELECT last_value, is_called FROM " + seq).fetchone()
                 for seq in sequences]
        for i, seq in enumerate(sequences):
            conn.execute("SELECT setval(%s, %s, false)", (seq, GENERATED_FLOOR + i * 10_000_000))
        try:
            yield
        finally:
            for seq, (value, called) in zip(sequences, saved, strict=True):
                conn.execute("SELECT setval(%s, %s, %s)", (seq, value, called))


def capture_assign(url: str, hazard_id: int, deadline: str) -> tuple[AssignReplay, list[str]]:
    """Send one assign in-process to the real app and record the SQL it runs."""
    from sqlalchemy import event

    from app.core.db import get_engine
    from app.main import create_app

    engine = get_engine()
    seen: list[str] = []
    recording = threading.Event()

    def before_cursor_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if recording.is_set():
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        with in_process_client(create_app()) as client:
            login = client.post("/api/v1/auth/token",
                                data={"username": "insp_dept", "password": DEMO_PASSWORD})
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            # The login returned its connection to the pool: the assign checks it out again,
            # with the pre-ping, as a server worker does on every request.
            with distinctive_ids(url), recorded_dbapi_calls() as calls:
                recording.set()
                response = client.post(ASSIGN_PATH.format(hazard_id), data={"deadline": deadline},
                                       headers=headers)
                recording.clear()
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)
        engine.dispose()
    if response.status_code != 200 or response.json().get("state") != "assigned":
        raise RuntimeError(f"capture assign failed: {response.status_code} {response.text}")
    executed = [str(c.query) for c in calls if c.kind.startswith("execute")]
    if [q for q in executed if q.strip() != ";"] != seen:
        raise RuntimeError("DBAPI calls and before_cursor_execute statements disagree")
    return AssignReplay(calls, hazard_id, response.json()["code"]), seen


# --------------------------------------------------------------------------- HTTP load


def http_phase(label: str, server: Server, client_kind: str, concurrency: int,
               warmup: list[Request], measured: list[Request], database: str) -> Result:
    async def go() -> Result:
        client: RawClient | HttpxClient = (RawClient if client_kind == "raw" else HttpxClient)(
            server.port, concurrency)
        await client.open()
        try:
            if warmup:  # on the same connections as the measurement
                await client.run(warmup, Result(label + " warm-up", [], 0.0))
            result = Result(label, [], 0.0)
            assert server.proc is not None
            with CpuMeter(server.proc.pid, database) as result.meter:
                await client.run(measured, result)
        finally:
            await client.close()
        return result

    try:
        return run_async(go())
    except (OSError, asyncio.IncompleteReadError) as error:
        raise RuntimeError(f"{label}: {error!r}; server log:\n{server.log_tail()}") from error


# --------------------------------------------------------------------------- (a) psycopg replay


def replay_phase(label: str, url: str, replay: AssignReplay, concurrency: int,
                 warmup: list[int], measured: list[int], database: str) -> Result:
    """The replay on `concurrency` threads, each with its own psycopg connection."""
    with psycopg.connect(url) as conn:
        codes = dict(conn.execute("SELECT id, code FROM hazard WHERE id = ANY(%s)",
                                  (warmup + measured,)).fetchall())
    conns = [psycopg.connect(url) for _ in range(concurrency)]

    def run(ids: list[int], result: Result, meter: CpuMeter | None = None) -> None:
        todo = iter(range(len(ids)))
        lock = threading.Lock()
        go, stop = threading.Event(), threading.Event()
        result.latencies = [0.0] * len(ids)

        def worker(conn: psycopg.Connection[Any]) -> None:
            go.wait()
            while not stop.is_set():
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                start = time.perf_counter()
                try:
                    replay.run(conn, ids[i], codes[ids[i]])
                    status = 200
                except (psycopg.Error, RuntimeError) as error:  # counted, like an HTTP 500
                    with contextlib.suppress(psycopg.Error):
                        conn.rollback()
                    status = 500
                    if not result.first_error:
                        result.first_error = repr(error)[:300]
                result.latencies[i] = time.perf_counter() - start
                with lock:
                    result.statuses[status] += 1

        threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in conns]
        for t in threads:
            t.start()
        try:
            with meter or contextlib.nullcontext():
                start = time.perf_counter()
                go.set()
                for t in threads:
                    t.join()
                result.wall = time.perf_counter() - start
        finally:  # interrupted: let each thread finish its transaction before conns close
            stop.set()
            go.set()
            for t in threads:
                t.join(timeout=30)

    try:
        if warmup:
            run(warmup, Result(label + " warm-up", [], 0.0))
        result = Result(label, [], 0.0)
        result.meter = CpuMeter(None, database)
        run(measured, result, result.meter)
    finally:
        for conn in conns:
            conn.close()
    return result


# --------------------------------------------------------------------------- report


def _ms(result: Result, group: str) -> str:
    assert result.meter is not None
    return f"{result.meter.per_request_ms(group, len(result.latencies)):.1f}"


def print_report(results: list[Result], notes: list[str], concurrency: int) -> None:
    app, direct, bare = results
    print()
    print(f"bench_assign: POST {ASSIGN_PATH.format('{id}')} (assign: reported -> assigned)")
    for note in notes:
        print(f"  {note}")
    print()
    header = (f"{'':42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}  "
              f"| CPU cores: {'client':>6} {'server':>6} {'pg':>6} {'other':>6}")
    print(header)
    print("-" * len(header))
    for r in results:
        cpu = " ".join(f"{r.cores(g):>6.2f}" for g in ("client", "server", "postgres", "other"))
        print(f"{r.label:42} {r.rps:>8.1f} {r.percentile_ms(0.5):>8.1f} "
              f"{r.percentile_ms(0.99):>8.1f} {r.errors:>6}  |{' ' * 11}{cpu}")
    print()
    ratio = app.rps / direct.rps
    p99 = app.percentile_ms(0.99)
    print(f"app / (a) throughput: {ratio:7.1%}     target >= 50%   "
          f"{'met' if ratio >= 0.5 else 'NOT MET'}")
    print(f"app p99 latency:      {p99:7.1f} ms  target <= 100 ms "
          f"{'met' if p99 <= 100 else 'NOT MET'}")
    print(f"app / (b) throughput: {app.rps / bare.rps:7.1%}     (of the bare-server ceiling)")
    print(f"CPU per request, ms: app server {_ms(app, 'server')}, app PostgreSQL "
          f"{_ms(app, 'postgres')}; (a) psycopg client {_ms(direct, 'client')}, (a) PostgreSQL "
          f"{_ms(direct, 'postgres')}; (b) server {_ms(bare, 'server')}")
    own = {r.label: sum(r.meter.groups[g] for g in ("client", "server", "postgres"))
           / len(r.latencies) for r in (app, direct) if r.meter}
    if len(own) == 2:
        print(f"CPU of client + server + PostgreSQL per request: app {own[app.label] * 1000:.1f} "
              f"ms, (a) {own[direct.label] * 1000:.1f} ms; (a)/app = "
              f"{own[direct.label] / own[app.label]:.1%} (what the throughput ratio tends to "
              "when both are CPU-bound on the same cores; less sensitive to other load)")
    print(f"Little's law: {concurrency} clients at throughput X wait {concurrency}/X on average, "
          f"so a p99 <= 100 ms needs X well above {concurrency / 0.1:.0f} req/s "
          f"((a) reached {direct.rps:.0f}).")
    print(f"CPU columns: cores busy on average over each measured run ({os.cpu_count()} CPUs), "
          "from /proc; client = this script (load generator or replay threads); other = the "
          "rest of the machine (other programs, uncharged kernel time).")
    for r in results:
        assert r.meter is not None
        extras = []
        if r.meter.workers:
            extras.append("uvicorn workers " + " / ".join(
                f"{c / r.wall:.2f}" for c in r.meter.workers))
        name, cpu = r.meter.busiest_other
        if cpu / r.wall >= 0.05:
            extras.append(f"busiest other process: {name} {cpu / r.wall:.2f}")
        if extras:
            print(f"  {r.label.split()[0]:5} cores: " + "; ".join(extras))
    for r in results:
        if r.first_error:
            print(f"first error in {r.label!r}: {r.first_error}")


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2,
                        help="uvicorn workers for the app and the bare server (default 2)")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="concurrent clients / replay threads (default 32)")
    parser.add_argument("--requests", type=int, default=2000,
                        help="measured requests per row (default 2000)")
    parser.add_argument("--warmup", type=int, default=200,
                        help="warm-up requests per row, not measured (default 200)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a database on the server where this user may create databases")
    parser.add_argument("--port", type=int, default=8765,
                        help="loopback port of the app server; the bare server uses port+1")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="load generator: raw asyncio HTTP/1.1 (default) or httpx")
    parser.add_argument("--setup", choices=("clone", "http"), default="clone",
                        help="how the hazards are made: --templates of them reported over "
                             "HTTP and the rest cloned from those in SQL (default), or all "
                             "reported over HTTP (slow: reporting slows down as an "
                             "enterprise's photos accumulate)")
    parser.add_argument("--templates", type=int, default=64,
                        help="hazards reported over HTTP with --setup clone (default 64)")
    parser.add_argument("--background-seconds", type=float, default=2.0,
                        help="how long the machine's other load is sampled first (default 2)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, to check the bench runs (figures mean nothing)")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    if min(args.requests, args.concurrency, args.workers, args.templates) < 1 or args.warmup < 0:
        parser.error("--requests, --concurrency, --workers and --templates must be >= 1, "
                     "--warmup >= 0")
    return args


def main() -> None:
    args = parse_args()
    name = database_name()
    url = next_to(args.pg_url, name)
    shm = Path("/dev/shm")
    work = Path(tempfile.mkdtemp(prefix="bihuan-bench-"))
    # The assign never touches photos; the setup's go to memory when it can (no fsync cost).
    media = Path(tempfile.mkdtemp(prefix="bihuan-bench-media-", dir=shm if shm.is_dir() else None))
    settings = {"DATABASE_URL": url, "MEDIA_ROOT": str(media),
                "SECRET_KEY": secrets.token_urlsafe(48), "BIHUAN_ENV": "production",
                **WITHOUT_SECOND_FACTOR}
    env = {**os.environ, **settings,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    os.environ.update(settings)  # read by the app modules imported below, in this process
    servers: list[Server] = []
    created = False
    started = time.monotonic()
    exit_on_signals()  # SIGTERM and SIGINT clean up too
    try:
        background = background_load(name, args.background_seconds)
        log(f"machine: {background}")
        create_database(args.pg_url, name)
        created = True
        log(f"database {name} created; migrate, load the demo county")
        migrate(url)
        load_demo(url)

        per_row = args.warmup + args.requests
        port = pick_port(args.port)
        app_server = Server("app", serve_argv(port, args.workers), env, port,
                            work / "app-server.log")
        servers.append(app_server)
        app_server.start()
        needed = 2 * per_row + 1
        reported = needed if args.setup == "http" else min(needed, args.templates)
        t0 = time.perf_counter()
        ids = create_hazards(port, reported)
        app_server.stop()
        log(f"{len(ids)} hazards reported as ent_a over HTTP (POST /api/v1/hazards, one photo "
            f"each, 8 clients) in {time.perf_counter() - t0:.1f} s")
        if needed > len(ids):
            t0 = time.perf_counter()
            ids += clone_hazards(url, ids, needed - len(ids))
            log(f"{needed - reported} more cloned from them in SQL in "
                f"{time.perf_counter() - t0:.1f} s")
        # Both rows get every other hazard (as many reported as cloned ones in each); the
        # captured one has the largest id, unlike any other integer in the statements.
        *pool, capture_id = sorted(ids)
        app_ids, direct_ids = pool[0::2], pool[1::2]
        if capture_id <= 10:
            raise RuntimeError("the captured hazard's id must not look like other small ids")

        deadline = (date.today() + timedelta(days=30)).isoformat()
        replay, statements = capture_assign(url, capture_id, deadline)
        log(f"captured one assign: {len(statements)} statements seen by before_cursor_execute;"
            f" DBAPI calls: {replay.describe()}; re-bound per hazard: {dict(replay.rebound)},"
            " event seq/prev_hash/hash")

        # (a) first, with no server running: only PostgreSQL and this process are busy.
        vacuum_analyze(url)
        log(f"(a) psycopg replay: {args.concurrency} threads, {args.warmup} warm-up + "
            f"{args.requests} measured")
        before = activity(url)
        direct = replay_phase(f"(a)   same SQL via psycopg, {args.concurrency} threads", url,
                              replay, args.concurrency, direct_ids[: args.warmup],
                              direct_ids[args.warmup :], name)
        time.sleep(1.0)  # let the closed backends flush their statistics
        direct_work = per_request(before, activity(url), per_row)

        vacuum_analyze(url)
        before = activity(url)
        app_server.start()  # a fresh server process
        token = login(port, "insp_dept", DEMO_PASSWORD)
        log(f"app: `bihuan serve --workers {args.workers}` up; {args.warmup} warm-up + "
            f"{args.requests} measured assigns")
        headers = {"Authorization": f"Bearer {token}",
                   "Content-Type": "application/x-www-form-urlencoded"}
        body = urllib.parse.urlencode({"deadline": deadline}).encode()
        requests = [Request(ASSIGN_PATH.format(i), headers, body) for i in app_ids]
        app_result = http_phase("app   POST /hazards/{id}/actions/assign", app_server,
                                args.client, args.concurrency, requests[: args.warmup],
                                requests[args.warmup :], name)
        app_server.stop()
        time.sleep(1.0)
        app_work = per_request(before, activity(url), per_row)  # (includes the one login)

        bare_port = pick_port(port + 1)
        bare_server = Server("bare", serve_argv(bare_port, args.workers, "bench.bare_app:app"),
                             env, bare_port, work / "bare-server.log")
        servers.append(bare_server)
        bare_server.start()
        log(f"(b) bare server up; {args.warmup} warm-up + {args.requests} measured requests")
        bare_requests = [Request("/bare", headers, body)] * per_row
        bare = http_phase("(b)   bare FastAPI endpoint, no DB", bare_server, args.client,
                          args.concurrency, bare_requests[: args.warmup],
                          bare_requests[args.warmup :], name)
        bare_server.stop()

        shapes = {"app": hazard_shapes(url, app_ids), "(a)": hazard_shapes(url, direct_ids)}
        audit = subprocess.run(bihuan_command("audit", "verify"), cwd=ROOT, env=env,
                               capture_output=True, text=True, check=False, timeout=600)
        audited = (audit.stdout.strip().splitlines() or ["?"])[-1]
        if audit.returncode != 0:
            audited = f"FAILED: {(audit.stdout + audit.stderr).strip()[-500:]}"
        with psycopg.connect(url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        notes = report_notes(args, row[0] if row else "?", background, shapes,
                             {"app": app_work, "(a)": direct_work}, statements, audited)
        print_report([app_result, direct, bare], notes, args.concurrency)
        if shapes["app"] != shapes["(a)"]:
            print("WARNING: the app's hazards and the replayed ones did not end the same way")
        log(f"done in {time.monotonic() - started:.0f} s")
    except BaseException:
        for server in servers:
            log(f"{server.label} server log, last lines:\n{server.log_tail()}")
        raise
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                server.stop()
        if created:
            try:
                drop_database(url, args.pg_url)
                log(f"database {name} dropped")
            except psycopg.Error as error:
                log(f"could not drop database {name}: {error}")
        shutil.rmtree(media, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def per_request(before: dict[str, int], after: dict[str, int], n: int) -> dict[str, float]:
    return {k: (after[k] - before[k]) / n for k in before}


def report_notes(args: argparse.Namespace, version: str, background: str,
                 shapes: dict[str, Counter[tuple[Any, ...]]], work: dict[str, dict[str, float]],
                 statements: list[str], audited: str) -> list[str]:
    client = ("raw asyncio HTTP/1.1 keep-alive connections" if args.client == "raw"
              else "httpx.AsyncClient")
    notes = [
        f"PostgreSQL {version} on 127.0.0.1, a fresh database; app: `bihuan serve --workers "
        f"{args.workers}` (uvicorn), BIHUAN_ENV=production; (b): the same uvicorn.run call.",
        f"{args.concurrency} concurrent clients; {args.warmup} warm-up + {args.requests} "
        "measured requests per row; each assign on a different hazard in state reported.",
        f"Load generator: Python ({client}) in this process, on the SAME {os.cpu_count()}-CPU "
        f"machine as the server and PostgreSQL, competing with them for CPU; {background}.",
        f"(a) replays the app's {len(statements)} statements + pool pre-ping + COMMIT per assign, "
        "captured from the app (see the docstring).",
    ]
    for label, shape in shapes.items():
        described = "; ".join(
            f"{n} x {' '.join(map(str, key[:-1]))}, seq 2 "
            f"{'chained to' if key[-1] else 'NOT CHAINED to'} seq 1"
            for key, n in sorted(shape.items(), key=lambda kv: -kv[1]))
        notes.append(f"{label + ' hazards:':13} {described}")
    notes.append(f"`bihuan audit verify` afterwards: {audited}")
    for label, per in work.items():
        notes.append(f"{label + ' per request:':17} " + ", ".join(
            f"{k} {v:.2f}" for k, v in per.items()) + "  (pg_stat_database; connections = "
            "new PostgreSQL sessions)")
    return notes


if __name__ == "__main__":
    main()
