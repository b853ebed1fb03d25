"""The worker takes a checkpoint once a day when a key is set, and none without one."""

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.core.clock import FixedClock
from app.models import AuditCheckpoint
from app.services.integrity.jobs import checkpoint_when_due
from app.services.integrity.keys import load_public_key, signature_holds
from tests.committed import committed_report
from tests.fixtures.clock import START


def checkpoints(engine: Engine) -> list[AuditCheckpoint]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))


def test_the_worker_takes_one_checkpoint_a_day(loaded: Engine, audited: CliRunner,
                                               tmp_path: Path) -> None:
    committed_report(loaded, FixedClock(START))
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    clock = FixedClock(START)
    first = checkpoint_when_due(sessions, clock)
    assert first.lines == ["audit checkpoint #1: 1 hazards, 1 events signed"]
    clock.advance(timedelta(hours=23))
    assert checkpoint_when_due(sessions, clock).lines == []
    clock.advance(timedelta(hours=1))
    assert checkpoint_when_due(sessions, clock).lines == [
        "audit checkpoint #2: 1 hazards, 1 events signed"]
    taken = checkpoints(loaded)
    assert [c.taken_at for c in taken] == [START, START + timedelta(hours=24)]
    assert taken[1].previous_digest == taken[0].heads_digest
    key = load_public_key()
    assert key is not None
    assert all(signature_holds(key, c.signature, c.payload) for c in taken)
    copies = sorted(p.name for p in (tmp_path / "copies").iterdir())
    assert copies == ["checkpoint-00000001.heads.gz", "checkpoint-00000001.json",
                      "checkpoint-00000002.heads.gz", "checkpoint-00000002.json"]


def test_without_a_key_the_worker_takes_none(loaded: Engine, cli_on: CliRunner) -> None:
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    result = checkpoint_when_due(sessions, FixedClock(START))
    assert result.lines == []
    assert "no AUDIT_SIGNING_KEY_FILE" in (result.summary or "")
    with Session(loaded) as session:
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0
