"""The worker's scan keeps its write transactions short (docs/architecture.md).

What is due is decided from a read-only snapshot, so a hazard with nothing due takes no write
transaction, one with steps due takes one of its own for just those steps, and a write by
anyone else (an action, a login) goes through while the scan runs, on SQLite too, where one
writer at a time holds the database.
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from threading import Event as Signal
from threading import Thread
from typing import Any

import pytest
from sqlalchemy import Engine, event, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import FixedClock
from app.core.db import READ_ONLY, make_engine, transaction
from app.models import Assignment, Hazard
from app.services.accounts.auth import login
from app.services.hazards.actions import perform_action
from app.services.org.demo import DEMO_PASSWORD
from app.services.supervision import scans
from app.services.supervision.scans import scan
from tests.committed import actor_of, committed_report
from tests.fixtures.clock import START

OVERDUE = FixedClock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))  # 6 working days after 11-25


def assigned(engine: Engine, deadline: str) -> int:
    clock = FixedClock(START)
    hazard_id = committed_report(engine, clock)
    with Session(engine) as session, transaction(session) as tx:
        perform_action(tx, actor=actor_of(engine, "insp_dept"), hazard_id=hazard_id,
                       action="assign", form={"deadline": deadline}, uploads=[], clock=clock)
    return hazard_id


def set_deadline(engine: Engine, hazard_id: int, deadline: str) -> None:
    """A deadline stored before dates were bounded (the database may hold one)."""
    on = datetime.fromisoformat(deadline).date()
    with Session(engine) as session, transaction(session) as tx:
        tx.execute(update(Hazard).where(Hazard.id == hazard_id).values(deadline=on))
        tx.execute(update(Assignment).where(Assignment.hazard_id == hazard_id)
                   .values(deadline=on))


class WriteTransactions:
    """The write transactions begun on an engine, each with how long it was open."""

    def __init__(self, engine: Engine) -> None:
        self.held: list[float] = []
        self._began: dict[int, float] = {}
        self.engine = engine
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, connection: Any) -> None:
        if not connection.get_execution_options().get(READ_ONLY, False):
            self._began[id(connection)] = time.perf_counter()

    def _end(self, connection: Any) -> None:
        began = self._began.pop(id(connection), None)
        if began is not None:
            self.held.append(time.perf_counter() - began)

    def close(self) -> None:
        for name, listener in (("begin", self._begin), ("commit", self._end),
                               ("rollback", self._end)):
            event.remove(self.engine, name, listener)


@pytest.fixture
def writes(loaded: Engine) -> Iterator[WriteTransactions]:
    watched = WriteTransactions(loaded)
    yield watched
    watched.close()


def test_hazards_with_nothing_due_take_no_write_transaction(loaded: Engine, writes) -> None:
    overdue = assigned(loaded, "2026-11-25")
    idle = [assigned(loaded, "2026-12-31") for _ in range(3)]
    set_deadline(loaded, idle[0], "9999-12-31")  # counted in no time now (was 49 s)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    writes.held.clear()
    first = scan(sessions, OVERDUE)
    assert first.hazards == 4
    assert {hazard_id for hazard_id, _ in first.steps} == {overdue}
    assert len(writes.held) == 1  # the overdue hazard's steps, in one transaction
    assert max(writes.held) < 0.5
    writes.held.clear()
    again = scan(sessions, OVERDUE)
    assert (again.hazards, again.steps) == (4, [])
    assert writes.held == []  # everything already taken: the scan only read


def test_a_write_goes_through_while_the_scan_counts(loaded: Engine, monkeypatch) -> None:
    """The scan is held (as by a slow count) while it decides; an action and a login by
    someone else meanwhile succeed, with a busy timeout far shorter than the hold."""
    assigned(loaded, "2026-11-25")
    other = committed_report(loaded, FixedClock(START))
    inspector = actor_of(loaded, "insp_dept")
    counting, written = Signal(), Signal()
    count = scans.working_days_between

    def slow_count(*args: Any) -> Any:
        if not counting.is_set():
            counting.set()
            written.wait(timeout=5)
        return count(*args)

    monkeypatch.setattr(scans, "working_days_between", slow_count)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    worker = Thread(target=scan, args=(sessions, OVERDUE))
    worker.start()
    impatient = make_engine(loaded.url.render_as_string(hide_password=False))

    @event.listens_for(impatient, "connect")
    def _short_wait(dbapi_connection: Any, _record: Any) -> None:
        if impatient.dialect.name == "sqlite":
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=300")
            cursor.close()

    try:
        assert counting.wait(timeout=10)
        with Session(impatient) as session, transaction(session) as tx:
            perform_action(tx, actor=inspector, hazard_id=other,
                           action="assign", form={"deadline": "2026-12-20"}, uploads=[],
                           clock=FixedClock(START))
        with Session(impatient) as session, transaction(session) as tx:
            assert login(tx, username="ent_a", password=DEMO_PASSWORD, clock=OVERDUE)
    finally:
        written.set()
        worker.join(timeout=30)
        impatient.dispose()
    assert not worker.is_alive()
