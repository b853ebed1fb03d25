"""The SQL a request sends, recorded in-process and replayed through psycopg alone: the
reference an endpoint is measured against (the same statements without the app around them)."""

import contextlib
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

# (SQL text, parameters, executemany?) as SQLAlchemy hands them to the driver
Statement = tuple[str, Any, bool]


@contextlib.contextmanager
def recorded_statements(engine: Any) -> Iterator[list[Statement]]:
    """Every statement `engine` sends while the block runs (before_cursor_execute)."""
    from sqlalchemy import event

    statements: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               many: bool) -> None:
        statements.append((statement, parameters, many))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def in_process_client(app: Any) -> Any:
    """Starlette's TestClient on `app`, without the deprecation warning its import gives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app)


class Capture:
    """The app in-process (create_app() on the app's engine), to record what a GET sends."""

    def __init__(self) -> None:
        from app.core.db import get_engine
        from app.main import create_app

        self.engine = get_engine()
        self.client = in_process_client(create_app())

    def request(self, path: str, headers: dict[str, str]) -> list[Statement]:
        """The statements one GET of `path` sends; refuses an error answer."""
        with recorded_statements(self.engine) as statements:
            response = self.client.get(path, headers=headers)
        response.raise_for_status()
        return statements


# An export writes its entry in the security audit log (services/audit/log.py): the head's
# UPDATE, its SELECT and the INSERT of the entry, whose seq (a captured parameter) exists once
# the request has committed. Replayed, that INSERT could only fail, so the reference leaves the
# audit statements out: it is then, if anything, cheaper than the request it stands for.
_AUDIT_LOG = re.compile(r"\b(audit_entry|audit_chain)\b")


def replay(conn: psycopg.Connection[Any], statements: list[Statement],
           first: str | None = None) -> int:
    """Run the statements in one transaction, rows fetched, committed as the request is (after
    `first`, e.g. SET TRANSACTION READ ONLY), but for the audit log's (_AUDIT_LOG); returns
    the rows fetched."""
    rows = 0
    with conn.cursor() as cursor:
        if first:
            cursor.execute(first)  # type: ignore[arg-type]
        for statement, parameters, many in statements:
            if _AUDIT_LOG.search(statement):
                continue
            if many:
                cursor.executemany(statement, parameters)  # type: ignore[arg-type]
                continue
            cursor.execute(statement, parameters or None)  # type: ignore[arg-type]
            if cursor.description is not None:
                rows += len(cursor.fetchall())
    conn.commit()
    return rows


# --------------------------------------------------------------------------- DBAPI calls


SETTERS = ("set_autocommit", "set_isolation_level", "set_read_only", "set_deferrable")


@dataclass
class Call:
    """One DBAPI call the app made: an execute on a cursor, a commit or a rollback."""

    kind: str  # "execute" | "executemany" | "commit" | "rollback" | one of SETTERS
    query: Any = None
    params: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    rowcount: int = -1
    rows: list[tuple[Any, ...]] | None = None  # what it returned, for the data flow


@contextlib.contextmanager
def recorded_dbapi_calls() -> Iterator[list[Call]]:
    """Every psycopg call made by anyone in this process while the block runs: more than
    before_cursor_execute shows (the pool's pre-ping, COMMIT, the reset-on-return ROLLBACK,
    autocommit switches), with the rows each returned."""
    calls: list[Call] = []
    cursor_execute, cursor_executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany
    commit, rollback = psycopg.Connection.commit, psycopg.Connection.rollback

    def execute(self: psycopg.Cursor[Any], query: Any, params: Any = None, **kw: Any) -> Any:
        result = cursor_execute(self, query, params, **kw)
        rows = None
        if self.description is not None:  # read the rows, then rewind for the app
            rows = self.fetchall()
            if rows:
                self.scroll(0, mode="absolute")
        calls.append(Call("execute", query, params, kw, self.rowcount, rows))
        return result

    def executemany(self: psycopg.Cursor[Any], query: Any, params_seq: Any, **kw: Any) -> Any:
        params_seq = list(params_seq)
        result = cursor_executemany(self, query, params_seq, **kw)
        calls.append(Call("executemany", query, params_seq, kw, self.rowcount))
        return result

    def do_commit(self: psycopg.Connection[Any]) -> None:
        calls.append(Call("commit"))
        commit(self)

    def do_rollback(self: psycopg.Connection[Any]) -> None:
        calls.append(Call("rollback"))
        rollback(self)

    def setter(name: str) -> Callable[[psycopg.Connection[Any], Any], None]:
        original = getattr(psycopg.Connection, name)

        def set_value(self: psycopg.Connection[Any], value: Any) -> None:
            calls.append(Call(name, params=value))
            original(self, value)

        return set_value

    patches: dict[tuple[type, str], Callable[..., Any]] = {
        (psycopg.Cursor, "execute"): execute,
        (psycopg.Cursor, "executemany"): executemany,
        (psycopg.Connection, "commit"): do_commit,
        (psycopg.Connection, "rollback"): do_rollback,
    }
    # Property setters (conn.autocommit = ...) go through these: SQLAlchemy's pre-ping on
    # psycopg switches autocommit on around its ";" and back off.
    for name in SETTERS:
        patches[(psycopg.Connection, name)] = setter(name)
    originals = {key: getattr(*key) for key in patches}
    try:
        for (cls, name), patch in patches.items():
            setattr(cls, name, patch)
        yield calls
    finally:
        for (cls, name), original in originals.items():
            setattr(cls, name, original)
