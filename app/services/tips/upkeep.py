"""The worker's care of tips' due dates (60 days from receipt, like a hazard's deadline):
a reminder to the handling committee `TIP_REMIND_DAYS` before an untriaged tip falls due, and
once it has passed, the tip marked overdue (kept as `was_overdue` for the figures), both on
the tip's own timeline.

Idempotent and catch-up safe like the hazards' scan (services/supervision/scans.py): every
step is keyed by (tip, kind, due date) in tip_step and inserted with ON CONFLICT DO NOTHING;
what is due is decided from a read-only snapshot, and each tip with a step to take is handled
in its own short transaction under its row lock.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.db import READ_ONLY, transaction
from app.models import Tip, TipStep
from app.models.supervision import InboxMessage
from app.services.tips.schemas import TipStatus
from app.services.tips.timeline import append_tip_event


def steps_due(due_on: date, today: date) -> tuple[str, ...]:
    """The steps an untriaged tip's due date calls for today (taken or not)."""
    if due_on < today:
        return ("overdue",)
    if (due_on - today).days <= get_settings().tip_remind_days:
        return ("reminder",)
    return ()


def scan_tips(sessions: sessionmaker[Session], clock: Clock) -> list[tuple[int, str]]:
    """One pass over the untriaged tips near or past their due date; the steps taken."""
    today = local_today(clock)
    horizon = today + timedelta(days=get_settings().tip_remind_days)
    untriaged = (Tip.status == TipStatus.received) & (Tip.due_on <= horizon)
    with sessions() as session:
        session.connection(execution_options={READ_ONLY: True})
        rows = session.execute(select(Tip.id, Tip.due_on).where(untriaged)
                               .order_by(Tip.id)).all()
        taken = {(tip_id, kind) for tip_id, kind in session.execute(
            select(TipStep.tip_id, TipStep.kind).join(Tip, Tip.id == TipStep.tip_id)
            .where(untriaged, TipStep.due_on == Tip.due_on))}
    steps: list[tuple[int, str]] = []
    for tip_id, due_on in rows:
        if all((tip_id, kind) in taken for kind in steps_due(due_on, today)):
            continue  # nothing new: no write transaction
        with sessions() as session, transaction(session) as tx:
            steps += [(tip_id, kind) for kind in
                      look_after_tip(tx, tip_id, now=clock.now(), today=today)]
    return steps


def look_after_tip(session: Session, tip_id: int, *, now: datetime, today: date) -> list[str]:
    tip = session.scalars(select(Tip).where(Tip.id == tip_id)
                          .with_for_update(skip_locked=True)).first()
    if tip is None or tip.status != TipStatus.received:
        return []  # triaged meanwhile, or another worker holds it right now
    done = []
    for kind in steps_due(tip.due_on, today):
        if not _take(session, tip, kind, now):
            continue
        if kind == "reminder":
            note = f"群众举报应于 {tip.due_on} 前办理（剩余 {(tip.due_on - today).days} 天）"
        else:
            tip.was_overdue = True
            note = f"群众举报已超过办理期限 {tip.due_on}（超期 {(today - tip.due_on).days} 天）"
        append_tip_event(session, tip=tip, action="remind" if kind == "reminder" else kind,
                         actor=None, at=now, note=note, data={"due_on": str(tip.due_on)})
        _message(session, tip, kind, note, now)
        done.append(kind)
    return done


def _take(session: Session, tip: Tip, kind: str, now: datetime) -> bool:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(TipStep)
        .values(tip_id=tip.id, kind=kind, due_on=tip.due_on, taken_at=now)
        .on_conflict_do_nothing()
        .returning(TipStep.id)).first()
    return inserted is not None


def _message(session: Session, tip: Tip, kind: str, note: str, now: datetime) -> None:
    """To the county committee that handles the tip (a tip nothing could place has no one
    county: every committee sees it in its list, marked overdue). Never the phone."""
    if tip.county_id is None:
        return
    title = f"{'举报临期提醒' if kind == 'reminder' else '举报超期'}：举报 {tip.id}"
    session.add(InboxMessage(recipient_type="region", recipient_id=tip.county_id,
                             hazard_id=None, kind=f"tip_{kind}", title=title, body=note,
                             data={"tip_id": tip.id}, created_at=now))
