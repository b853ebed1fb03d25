"""Idempotency keys under concurrency and from the worker, on a committed database."""

from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.core.clock import FixedClock
from app.core.config import get_settings
from app.core.db import transaction
from app.http.idempotency_keys import Outcome, fingerprint, run_once
from app.models import Event, Hazard, IdempotencyKey
from app.services.hazards import report as report_service
from tests.committed import _upload, actor_of
from tests.core.test_db import race
from tests.fixtures.clock import START

FIELDS = {"title": "粉尘除尘器未接地", "description": "抛光车间除尘器未做防静电接地",
          "location": "抛光车间", "level": "general"}


def test_racing_duplicates_make_one_hazard(loaded: Engine) -> None:
    """Eight sends of one submission at once: one hazard, one event, eight equal answers."""
    clock = FixedClock(START)
    actor = actor_of(loaded, "ent_a")
    request = fingerprint(method="POST", path="/api/v1/hazards", fields=FIELDS,
                          files=[("photos", "same-photo")])
    answers: list[Outcome] = []

    def send() -> None:
        with Session(loaded) as session, transaction(session) as tx:
            answers.append(run_once(
                tx, user_id=actor.id, key="race-key", method="POST",
                path="/api/v1/hazards", request_fingerprint=request, now=clock.now(),
                work=lambda tx=tx: report(tx)))

    def report(tx: Session) -> Outcome:
        hazard = report_service.report_hazard(
            tx, actor=actor, form=FIELDS, uploads=[_upload()], clock=clock)
        return Outcome(201, f'{{"id":{hazard.id},"code":"{hazard.code}"}}')

    assert race(8, send) == ["ok"] * 8
    assert len({a.body for a in answers}) == 1
    assert sorted(a.replayed for a in answers) == [False] + [True] * 7
    with Session(loaded) as session:
        hazards = session.scalars(select(Hazard).where(Hazard.title == FIELDS["title"])).all()
        assert len(hazards) == 1
        assert answers[0].body == f'{{"id":{hazards[0].id},"code":"{hazards[0].code}"}}'
        assert session.scalar(select(func.count()).select_from(Event)
                              .where(Event.hazard_id == hazards[0].id)) == 1


def test_the_worker_removes_expired_keys(loaded: Engine, cli_on, monkeypatch) -> None:
    from app.cli import cli

    now = FixedClock(START).now()
    with Session(loaded) as session, session.begin():
        user_id = actor_of(loaded, "ent_a").id
        for key, age in (("fresh", timedelta(hours=1)), ("stale", timedelta(hours=30))):
            session.add(IdempotencyKey(user_id=user_id, key=key, method="POST", path="/x",
                                       fingerprint="0" * 64, status_code=201, body="{}",
                                       created_at=now - age))
    monkeypatch.setattr("app.cli.get_clock", lambda: FixedClock(START))
    monkeypatch.setenv("IDEMPOTENCY_KEY_HOURS", "24")
    get_settings.cache_clear()
    result = cli_on.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "idempotency keys: 1 expired removed" in result.output
    with Session(loaded) as session:
        assert session.scalars(select(IdempotencyKey.key)).all() == ["fresh"]
