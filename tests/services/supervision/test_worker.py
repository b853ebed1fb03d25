"""The supervision worker on committed data: repeated runs, racing workers, the command."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.core.clock import FixedClock
from app.core.db import transaction
from app.models import Event, Notice, SupervisionStep
from app.services.hazards.actions import perform_action
from app.services.supervision.scans import scan
from tests.committed import actor_of, committed_report
from tests.fixtures.clock import START

OVERDUE = FixedClock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))  # 6 working days after 11-25


def overdue_hazards(engine: Engine, n: int) -> list[int]:
    clock = FixedClock(START)
    ids = []
    for _ in range(n):
        hazard_id = committed_report(engine, clock)
        with Session(engine) as session, transaction(session) as tx:
            perform_action(tx, actor=actor_of(engine, "insp_dept"), hazard_id=hazard_id,
                           action="assign", form={"deadline": "2026-11-25"}, uploads=[],
                           clock=clock)
        ids.append(hazard_id)
    return ids


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_racing_workers_issue_each_notice_once(loaded: Engine) -> None:
    overdue_hazards(loaded, 4)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    barrier = Barrier(3)

    def worker(_: int) -> int:
        barrier.wait()
        return len(scan(sessions, OVERDUE).steps)

    with ThreadPoolExecutor(3) as pool:
        steps_taken = sum(pool.map(worker, range(3)))
    # Per hazard: overdue + 约谈/通报 (general: 5 working days); 3 notices each.
    assert steps_taken == 4 * 2
    assert count(loaded, SupervisionStep) == 8
    assert count(loaded, Notice) == 12
    assert len(scan(sessions, OVERDUE).steps) == 0
    with Session(loaded) as session:
        numbers = session.scalars(select(Notice.number)).all()
        notice_events = session.scalar(select(func.count()).select_from(Event)
                                       .where(Event.action == "supervision_notice"))
    assert len(set(numbers)) == 12
    assert notice_events == 4


def test_worker_command_runs_once(loaded: Engine, cli_on: CliRunner, monkeypatch) -> None:
    overdue_hazards(loaded, 1)
    monkeypatch.setattr("app.cli.get_clock", lambda: OVERDUE)
    first = cli_on.invoke(cli, ["worker", "--once"])
    assert first.exit_code == 0, first.output
    assert "overdue" in first.output and "took 2 steps" in first.output
    again = cli_on.invoke(cli, ["worker", "--once"])
    assert "took 0 steps" in again.output
