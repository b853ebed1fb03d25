"""Throwaway databases next to a given server URL (or an SQLite file), and the set-up and
upkeep a bench does on them: migrate, the demo county, VACUUM ANALYZE, activity counters."""

import contextlib
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.lib.output import log


def psycopg_url(url: str) -> str:
    """The libpq form of a PostgreSQL URL (no +psycopg driver), for psycopg.connect."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def next_to(server_url: str, name: str) -> str:
    """The URL of database `name` on the same server, as the same user."""
    return make_url(psycopg_url(server_url)).set(database=name).render_as_string(
        hide_password=False)


def admin_execute(server_url: str, statement: sql.Composable) -> None:
    """One statement outside a transaction (CREATE DATABASE cannot run inside one)."""
    with psycopg.connect(psycopg_url(server_url), autocommit=True) as conn:
        conn.execute(statement)


def database_name(prefix: str = "bihuan_bench") -> str:
    """A name no other run uses: `prefix`_<random>."""
    return f"{prefix}_{secrets.token_hex(5)}"


def create_database(server_url: str, name: str | None = None) -> str:
    """A new, empty database on that server (named `name`, or database_name()); its URL."""
    name = name or database_name()
    admin_execute(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return next_to(server_url, name)


def drop_database(url: str, server_url: str) -> None:
    """Drop the database of `url` (connected to `server_url`'s), closing its sessions."""
    name = make_url(url).database
    assert name, url
    admin_execute(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)))


@contextlib.contextmanager
def scratch_database(server_url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database for one run, dropped at the end, also on error: on the PostgreSQL
    server of `server_url`, or without one an SQLite file in `workdir`."""
    if not server_url:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    url = create_database(server_url)
    try:
        yield url
    finally:
        try:
            drop_database(url, server_url)
            log(f"database {make_url(url).database} dropped")
        except psycopg.Error as error:
            log(f"could not drop database {make_url(url).database}: {error}")


def migrate(url: str) -> None:
    """`bihuan migrate` in this process: `alembic upgrade head`."""
    from alembic import command

    from app.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


def load_demo(url: str, now: datetime | None = None) -> None:
    """The demo county, as `bihuan demo` loads it (at `now`, or the real time)."""
    from sqlalchemy.orm import Session

    from app.core.clock import FixedClock, SystemClock
    from app.core.db import make_engine
    from app.services.org import demo

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        demo.load_demo(session, clock=FixedClock(now) if now else SystemClock())
    engine.dispose()


def vacuum_analyze(url: str) -> None:
    """VACUUM ANALYZE, so that a phase starts on fresh statistics and a clean visibility map."""
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def activity(url: str) -> dict[str, int]:
    """This database's cumulative counters (a fresh connection: no cached stats snapshot)."""
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT sessions, xact_commit, xact_rollback, tup_returned, tup_fetched,"
            " tup_inserted, tup_updated FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    keys = ("connections", "commits", "rollbacks", "rows returned", "rows fetched",
            "inserted", "updated")
    return dict(zip(keys, row, strict=True))
