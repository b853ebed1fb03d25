"""The worker's care of tips' due dates on committed data: a reminder before, overdue after,
each once however often (or by however many workers) the pass runs; a triaged tip left alone."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from threading import Barrier

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import FixedClock
from app.core.db import transaction
from app.models import InboxMessage, Region, Tip, TipEvent, TipStep
from app.services.tips.report import accept_tip
from app.services.tips.upkeep import scan_tips
from app.worker import JOBS
from tests.committed import _upload
from tests.fixtures.clock import START

RECEIVED = FixedClock(START)  # 2026-11-23 10:00 local; due 60 days later: 2027-01-22
DUE = date(2027, 1, 22)


def at_local(day: date) -> FixedClock:
    return FixedClock(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


def committed_tip(engine: Engine, **fields: str) -> int:
    with Session(engine) as session, transaction(session) as tx:
        tip = accept_tip(tx, form={"description": "消防通道堵塞", "location": "工业园区",
                                   "region_id": str(_township(tx)), **fields},
                         uploads=[_upload()], address="198.51.100.7", clock=RECEIVED)
        return tip.id


def _township(session: Session) -> int:
    return session.scalars(select(Region.id).where(Region.code == "339901100000")).one()


def events(engine: Engine, tip_id: int) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(TipEvent.action).where(TipEvent.tip_id == tip_id)
                                    .order_by(TipEvent.seq)))


def test_a_tip_is_due_in_60_days_reminded_a_week_before_then_marked_overdue(
        loaded: Engine) -> None:
    tip_id = committed_tip(loaded)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    with Session(loaded) as session:
        assert session.get_one(Tip, tip_id).due_on == DUE
    assert scan_tips(sessions, at_local(DUE - timedelta(days=8))) == []
    assert scan_tips(sessions, at_local(DUE - timedelta(days=7))) == [(tip_id, "reminder")]
    assert scan_tips(sessions, at_local(DUE - timedelta(days=2))) == []  # once per due date
    assert scan_tips(sessions, at_local(DUE)) == []  # due today is not yet overdue
    assert scan_tips(sessions, at_local(DUE + timedelta(days=1))) == [(tip_id, "overdue")]
    assert scan_tips(sessions, at_local(DUE + timedelta(days=9))) == []
    assert events(loaded, tip_id) == ["receive", "remind", "overdue"]
    with Session(loaded) as session:
        tip = session.get_one(Tip, tip_id)
        assert tip.was_overdue is True
        messages = session.scalars(select(InboxMessage).where(
            InboxMessage.kind.like("tip_%")).order_by(InboxMessage.id)).all()
        assert [(m.kind, m.recipient_type, m.recipient_id) for m in messages] == [
            ("tip_reminder", "region", tip.county_id), ("tip_overdue", "region", tip.county_id)]
        assert all(m.data == {"tip_id": tip_id} for m in messages)


def test_a_triaged_tip_is_not_reminded(loaded: Engine) -> None:
    tip_id = committed_tip(loaded)
    with Session(loaded) as session, transaction(session) as tx:
        tip = tx.get_one(Tip, tip_id)
        tip.status, tip.reject_reason = "rejected", "重复举报"
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    assert scan_tips(sessions, at_local(DUE + timedelta(days=1))) == []


def test_racing_workers_mark_each_tip_once_and_the_worker_runs_the_job(loaded: Engine) -> None:
    ids = [committed_tip(loaded) for _ in range(3)]
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    late = at_local(DUE + timedelta(days=3))
    barrier = Barrier(3)

    def worker(_: int) -> int:
        barrier.wait()
        return len(scan_tips(sessions, late))

    with ThreadPoolExecutor(3) as pool:
        assert sum(pool.map(worker, range(3))) == 3
    with Session(loaded) as session:
        assert session.scalar(select(func.count()).select_from(TipStep)) == 3
        assert set(session.scalars(select(TipStep.tip_id))) == set(ids)
    assert "tip due dates" in {job.name for job in JOBS}
