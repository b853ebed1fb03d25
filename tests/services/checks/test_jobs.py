"""The worker's check-task job on a committed database: idempotent, also when two run at once."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import FixedClock
from app.core.db import transaction
from app.models import CheckItem, CheckTask
from app.models.supervision import InboxMessage
from app.services.checks import register
from app.services.checks.jobs import remind_overdue_tasks, schedule_check_tasks
from app.services.checks.schemas import RiskPointIn
from tests.committed import actor_of
from tests.fixtures.clock import START

MEASURES = [{"content": "检测氧含量与有毒气体", "check_item": f"{f} 有限空间作业审批",
             "frequency": f, "owner": "安全员"} for f in ("daily", "weekly", "monthly")]


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (session.scalar(select(func.count()).select_from(CheckTask)) or 0,
                session.scalar(select(func.count()).select_from(CheckItem)) or 0)


def test_the_job_schedules_each_period_once(loaded: Engine) -> None:
    clock = FixedClock(START)  # a Monday
    actor = actor_of(loaded, "ent_a")
    with Session(loaded) as session, transaction(session) as tx:
        register.create_risk_point(tx, actor, actor.enterprise_id or 0, RiskPointIn.model_validate(
            {"name": "污水池", "place": "厂区东南", "level": "major", "measures": MEASURES}),
            clock)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: schedule_check_tasks(sessions, clock), range(2)))
    assert sorted(r.summary for r in results) == ["check tasks: 0 scheduled",
                                                  "check tasks: 3 scheduled"]
    assert counts(loaded) == (3, 3)
    assert schedule_check_tasks(sessions, clock).lines == []
    clock.advance(timedelta(days=1))  # Tuesday: only the daily check is new
    assert schedule_check_tasks(sessions, clock).lines == ["check tasks: 1 scheduled"]
    assert counts(loaded) == (4, 4)


def test_an_overdue_task_is_reminded_once_even_by_two_workers(loaded: Engine) -> None:
    clock = FixedClock(START)
    actor = actor_of(loaded, "ent_a")
    with Session(loaded) as session, transaction(session) as tx:
        register.create_risk_point(tx, actor, actor.enterprise_id or 0, RiskPointIn.model_validate(
            {"name": "污水池", "place": "厂区东南", "level": "major", "measures": MEASURES[:1]}),
            clock)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    schedule_check_tasks(sessions, clock)
    assert remind_overdue_tasks(sessions, clock).lines == []  # due today: not overdue yet
    clock.advance(timedelta(days=1))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: remind_overdue_tasks(sessions, clock), range(2)))
    assert sorted(r.summary for r in results) == ["check reminders: 0 sent",
                                                  "check reminders: 1 sent"]
    assert remind_overdue_tasks(sessions, clock).lines == []
    with Session(loaded) as session:
        messages = list(session.scalars(select(InboxMessage).where(
            InboxMessage.kind == "check_overdue")))
    assert [(m.recipient_type, m.recipient_id) for m in messages] == [
        ("enterprise", actor.enterprise_id)]
    assert "2026" in messages[0].title and messages[0].data["task_id"]
