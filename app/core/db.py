"""Database plumbing: declarative base, engine, and the one-transaction-per-request session."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    case,
    create_engine,
    event,
    func,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.core.config import get_settings
from app.core.errors import DomainError, NotFound, OutOfScope
from app.core.schemas import MAX_ID

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


logger = logging.getLogger(__name__)
# Session.info key of the writes that outlive their transaction (keep_write).
KEPT_WRITES = "kept_writes"

# Execution option marking a transaction that only reads (SQLite begins it without the lock).
READ_ONLY = "bihuan_read_only"

# Lookups answer "not found" up front for an id outside the primary keys' range (MAX_ID,
# app/core/schemas.py, where the type of ids sent as data is declared too).


def valid_id(value: int | None) -> bool:
    return value is not None and 1 <= value <= MAX_ID


def not_visible(session: Session, model: type[Any], row_id: int, detail: str) -> NotFound:
    """The 404 for a scoped lookup that found nothing: OutOfScope when the row exists (the
    audit log records the refusal), a plain NotFound when it does not. Both answer alike."""
    if valid_id(row_id) and session.get(model, row_id) is not None:
        return OutOfScope(detail, object=f"{model.__tablename__}:{row_id}")
    return NotFound(detail)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every backend (SQLite keeps it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """COUNT of the rows meeting a condition, as SUM(CASE ...): SQLite and PostgreSQL both
    take it (unlike COUNT(*) FILTER)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def local_date_text(column: ColumnElement[datetime], dialect: str,
                    at: datetime) -> ColumnElement[str]:
    """SQL for the local calendar date ('YYYY-MM-DD') of a stored UTC timestamp.

    PostgreSQL converts with the zone's rules; SQLite has no time zones and adds the zone's
    UTC offset at `at` (exact for Asia/Shanghai, which keeps +08:00 all year).
    """
    tz = get_settings().tz
    if dialect == "postgresql":
        return func.to_char(func.timezone(tz.key, column), "YYYY-MM-DD")
    offset = at.astimezone(tz).utcoffset() or timedelta(0)
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def _prepare_sqlite(engine: Engine) -> None:
    """Hand transaction control to SQLAlchemy and serialise writers.

    pysqlite's own BEGIN handling breaks SAVEPOINTs (the test isolation recipe), and a
    deferred BEGIN lets two racing writers both read before one upgrades to a write lock
    and fails with "database is locked". BEGIN IMMEDIATE makes the second wait instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read-only request (GET) reads a WAL snapshot without taking the write lock, so a
        # long read (a ledger export) never stalls writers.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _prepare_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # Keep about as many connections as a worker has requests in flight: overflow connections
    # are closed on return, and reopening them costs PostgreSQL more than the queries do
    # (bench/bench_assign.py). Mind max_connections: workers × (pool + overflow).
    kwargs.setdefault("pool_size", get_settings().db_pool_size)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    _prepare_postgresql(engine)
    return engine


# Session settings of every PostgreSQL connection (see _prepare_postgresql); the benches give
# their raw-SQL connections the same ones.
POSTGRESQL_SETTINGS = {"jit": "off", "plan_cache_mode": "force_custom_plan"}


def postgresql_options() -> str:
    """POSTGRESQL_SETTINGS as a libpq `options` string, for connections made outside the app."""
    return " ".join(f"-c {name}={value}" for name, value in POSTGRESQL_SETTINGS.items())


def _prepare_postgresql(engine: Engine) -> None:
    """Switch JIT compilation and generic plans off on every connection.

    JIT: the app's queries are short indexed reads; their cost estimates (a ranking's
    correlated "latest event before the cutoff" lookups) can pass jit_above_cost although they
    run in well under a second, and compiling then costs more than it saves
    (bench/bench_board.py).

    Generic plans: psycopg prepares a statement on its fifth run, and PostgreSQL may then plan
    it once for any parameters. The data is skewed (one enterprise or township can hold a
    hundred times the average), so a plan made for the average was a disaster for the big
    ones: an enterprise's first page took 353 ms instead of 0.4 ms by fetching and sorting all
    its 57,000 hazards; the province's quarterly statistics took 9 s instead of 0.1 s, a
    scope's region path being such a parameter (bench/bench_quarterly.py). Planning each run
    with its real parameters costs about a millisecond at most.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            for name, value in POSTGRESQL_SETTINGS.items():
                cursor.execute(f"SET {name} = {value}")
        # Commit the implicit transaction: a rollback would undo the settings.
        dbapi_connection.commit()


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """`with transaction(session) as tx:` commits when the block succeeds and rolls back
    when it raises (the exception reaches this code, then goes on to the caller). Only this
    and the request's session dependency commit; services flush.

    Some refusals must still persist what led to them (a failed login counts toward the
    lockout): those DomainErrors say so with ``keeps_transaction``. Writes registered with
    `keep_write` (the audit log's record of a refusal) run once the transaction has ended,
    committed or rolled back, in a transaction of their own.
    """
    try:
        yield session
    except DomainError as error:
        if error.keeps_transaction:
            session.commit()
        else:
            rollback(session)
        _run_kept_writes(session)
        raise
    except BaseException:
        rollback(session)
        _run_kept_writes(session)
        raise
    else:
        session.commit()
        session.info.pop("on_rollback", None)
        _run_kept_writes(session)


def keep_write(session: Session, write: Callable[[Session], None]) -> None:
    """Run `write` after the session's transaction ends, whatever its outcome, and commit it."""
    session.info.setdefault(KEPT_WRITES, []).append(write)


def _run_kept_writes(session: Session) -> None:
    writes: list[Callable[[Session], None]] = session.info.pop(KEPT_WRITES, [])
    if not writes:
        return
    try:
        for write in writes:
            write(session)
        session.commit()
    except Exception:
        # The request's own outcome stands; the loss is logged, never turned into a 500.
        logger.exception("a kept write (audit entry) failed after its request")
        session.rollback()


def rollback(session: Session) -> None:
    """Run the undo actions registered for work outside the database, then roll back.

    Undo runs first, while the transaction still holds its locks: a concurrent request
    that is about to reuse a blob this one created waits on those locks (see
    services.photos.store_photos), so it never sees a blob that is then deleted.
    """
    undo: list[Callable[[], None]] = session.info.pop("on_rollback", [])
    try:
        for action in reversed(undo):
            action()
    finally:
        session.rollback()


def on_rollback(session: Session, action: Callable[[], None]) -> None:
    """Register an undo (e.g. delete a blob this transaction wrote) for a rollback."""
    session.info.setdefault("on_rollback", []).append(action)


def get_session(request: Request) -> Iterator[Session]:
    with get_sessionmaker()() as session:
        if request.method in ("GET", "HEAD"):
            session.connection(execution_options={READ_ONLY: True})
        with transaction(session) as tx:
            yield tx
