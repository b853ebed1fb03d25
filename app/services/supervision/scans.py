"""双重督办: the worker's scan: reminders, overdue notices, escalation, recomputed deadlines.

The scan is idempotent and catch-up safe: every step is keyed by (hazard, kind, deadline) in
supervision_step, inserted with ON CONFLICT DO NOTHING, so a re-run or a second worker finds
the step taken and issues nothing; a missed run is simply caught up by the next. Each hazard
is handled in its own short transaction under its row lock (SKIP LOCKED on PostgreSQL, so
racing workers share the work instead of queueing on it).

What is due is first decided from a read-only snapshot (on SQLite a read takes no write
lock), so only the hazards with a step to take open a write transaction: a scan of many
hazards with nothing due holds the database's write lock not at all, and one with steps due
holds it for one hazard's steps at a time.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.db import READ_ONLY, transaction
from app.models import Event, Hazard, Region
from app.models.enums import Duty, HazardLevel, PartyType, RegionLevel
from app.models.supervision import InboxMessage, Notice, NoticeCounter, SupervisionStep
from app.services.hazards.sequences import next_number
from app.services.hazards.timeline import append_event
from app.services.org.regions import ancestor_at_level
from app.services.supervision import evaluation
from app.services.supervision.ladder import STEP_LABELS, due_steps, ladder_for
from app.workflow.deadlines import DayUnit, Deadline, add_days, working_days_between
from app.workflow.states import RECTIFICATION_OPEN, HazardState

REQUIREMENT = ("该隐患已超过整改期限。请接单后立即组织整改，落实临时管控措施；"
               "监管单位督促整改并跟踪复核。")


@dataclass
class ScanReport:
    hazards: int = 0
    steps: list[tuple[int, str]] = field(default_factory=list)  # (hazard id, step kind)
    recomputed: list[int] = field(default_factory=list)  # provisional deadlines counted again


def scan(sessions: sessionmaker[Session], clock: Clock) -> ScanReport:
    """One pass over every open hazard with a deadline; safe to run again at any time."""
    report = ScanReport()
    report.recomputed = recompute_provisional_deadlines(sessions, clock)
    today = local_today(clock)
    scanned = ((Hazard.state.in_(RECTIFICATION_OPEN) & Hazard.deadline.is_not(None))
               | ((Hazard.state == HazardState.rectified) & Hazard.listing.is_not(None)))
    with sessions() as session:
        session.connection(execution_options={READ_ONLY: True})
        rows = session.execute(select(Hazard.id, Hazard.state, Hazard.level, Hazard.deadline)
                               .where(scanned).order_by(Hazard.id)).all()
        taken = {(hazard_id, kind) for hazard_id, kind in session.execute(
            select(SupervisionStep.hazard_id, SupervisionStep.kind)
            .join(Hazard, Hazard.id == SupervisionStep.hazard_id)
            .where(scanned, SupervisionStep.deadline == Hazard.deadline))}
    for hazard_id, state, level, deadline in rows:
        report.hazards += 1
        if state != HazardState.rectified and all(
                (hazard_id, kind) in taken for kind in steps_due(level, deadline, today).kinds):
            continue  # nothing new for this hazard: no write transaction at all
        with sessions() as session, transaction(session) as tx:
            done = supervise_hazard(tx, hazard_id, now=clock.now(), today=today)
        report.steps += [(hazard_id, kind) for kind in done]
    return report


@dataclass(frozen=True)
class Due:
    kinds: tuple[str, ...]  # the steps due for the current deadline, in the order taken
    working_days: int  # left before the deadline, or overdue once it has passed


def steps_due(level: HazardLevel, deadline: date, today: date) -> Due:
    """The steps a hazard's deadline calls for today, whether or not already taken."""
    settings = get_settings()
    if deadline >= today:
        ahead, _ = working_days_between(today, deadline)
        return Due(("reminder",) if ahead <= settings.remind_working_days else (), ahead)
    overdue_working, _ = working_days_between(deadline, today)
    ladder = ladder_for(level, settings.escalation_general, settings.escalation_major)
    return Due(("overdue", *(f"escalate:{step.step}"
                             for step in due_steps(ladder, overdue_working))), overdue_working)


def supervise_hazard(session: Session, hazard_id: int, *, now: datetime, today: date) -> list[str]:
    """Take whatever supervision steps are due for one hazard; return their kinds."""
    hazard = session.scalars(
        select(Hazard).where(Hazard.id == hazard_id).with_for_update(skip_locked=True)
    ).first()
    if hazard is not None and hazard.state == HazardState.rectified:
        return _check_review(session, hazard, now, today)
    if hazard is None or hazard.state not in RECTIFICATION_OPEN or hazard.deadline is None:
        return []  # gone, moved on, or being handled by another worker right now
    due = steps_due(hazard.level, hazard.deadline, today)
    taken: list[str] = []
    for kind in due.kinds:
        if not _take(session, hazard, kind, now):
            continue
        if kind == "reminder":
            _remind(session, hazard, now, due.working_days)
        elif kind == "overdue":
            _issue_notices(session, hazard, now, today)
        else:
            _escalate(session, hazard, kind.removeprefix("escalate:"), due.working_days, now)
        taken.append(kind)
    return taken


def _check_review(session: Session, hazard: Hazard, now: datetime, today: date) -> list[str]:
    """A listed major hazard's evaluation awaits review: flag the unit once it is late."""
    pending = evaluation.pending_evaluation(session, hazard)
    if pending is None or not evaluation.needs_evaluation(hazard):
        return []
    due = evaluation.review_due_on(pending, get_settings().tz)
    if today <= due or not _take(session, hazard, "review_overdue", now, key=due):
        return []
    submitted = pending.at.astimezone(get_settings().tz).date()
    note = f"评估报告已于 {submitted} 提交，监管单位应于 {due} 前复核，已超期"
    append_event(session, hazard=hazard, action="review_overdue", from_state=hazard.state,
                 to_state=hazard.state, actor=None, at=now, note=note,
                 data={"evaluation_event_id": pending.id, "due_on": str(due),
                       "supervising_units": [a.party_id for a in hazard.assignments
                                             if a.duty == Duty.supervise]})
    county = _county_of(session, hazard)
    _message(session, "region", county.id, hazard, "review_overdue",
             f"复核超期：{hazard.code}", note, now)
    return ["review_overdue"]


def _take(session: Session, hazard: Hazard, kind: str, now: datetime,
          key: date | None = None) -> bool:
    """Record the step for the hazard's current deadline (or another key date); False if it
    was already taken."""
    key = key or hazard.deadline
    assert key is not None
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(SupervisionStep)
        .values(hazard_id=hazard.id, kind=kind, deadline=key, taken_at=now)
        .on_conflict_do_nothing()
        .returning(SupervisionStep.id)
    ).first()
    return inserted is not None


def _remind(session: Session, hazard: Hazard, now: datetime, working_days_left: int) -> None:
    note = f"整改期限 {hazard.deadline} 临近（剩余 {working_days_left} 个工作日）"
    append_event(session, hazard=hazard, action="remind", from_state=hazard.state,
                 to_state=hazard.state, actor=None, at=now, note=note,
                 data={"deadline": str(hazard.deadline), "working_days_left": working_days_left})
    _message(session, PartyType.enterprise, hazard.enterprise_id, hazard, "remind",
             f"临期提醒：{hazard.code}", note, now)


def _issue_notices(session: Session, hazard: Hazard, now: datetime, today: date) -> None:
    """One numbered 督办单 to the enterprise and one to each supervising unit, together."""
    assert hazard.deadline is not None
    hazard.was_overdue = True
    county = _county_of(session, hazard)
    days_overdue = (today - hazard.deadline).days
    recipients = [(PartyType.enterprise, hazard.enterprise_id)] + [
        (PartyType.unit, a.party_id) for a in hazard.assignments if a.duty == Duty.supervise
    ]
    notices = []
    county_code = county.code[:6]
    for recipient_type, recipient_id in recipients:
        notice = Notice(
            county_code=county_code,
            number=_next_notice_number(session, county_code, now.astimezone(
                get_settings().tz).year),
            hazard_id=hazard.id, recipient_type=recipient_type, recipient_id=recipient_id,
            deadline=hazard.deadline, days_overdue=days_overdue, requirement=REQUIREMENT,
            issued_at=now,
        )
        session.add(notice)
        notices.append(notice)
        _message(session, recipient_type, recipient_id, hazard, "supervision_notice",
                 f"督办单 {notice.number}：{hazard.code}",
                 f"整改期限 {hazard.deadline} 已超期 {days_overdue} 天。{REQUIREMENT}", now)
    session.flush()
    append_event(
        session, hazard=hazard, action="supervision_notice", from_state=hazard.state,
        to_state=hazard.state, actor=None, at=now,
        note=f"超期 {days_overdue} 天，同时向企业和监管单位下发督办单",
        data={"deadline": str(hazard.deadline), "days_overdue": days_overdue,
              "notices": [{"id": n.id, "number": n.number, "recipient_type": n.recipient_type,
                           "recipient_id": n.recipient_id} for n in notices]},
    )


def _escalate(session: Session, hazard: Hazard, step: str, overdue_working: int,
              now: datetime) -> None:
    label = STEP_LABELS[step]
    note = f"超期 {overdue_working} 个工作日，应{label}"
    append_event(session, hazard=hazard, action="escalate", from_state=hazard.state,
                 to_state=hazard.state, actor=None, at=now, note=note,
                 data={"step": step, "working_days_overdue": overdue_working})
    county = _county_of(session, hazard)
    _message(session, "region", county.id, hazard, "escalate", f"{label}提示：{hazard.code}",
             note, now)


def _county_of(session: Session, hazard: Hazard) -> Region:
    township = session.get_one(Region, hazard.region_id)
    county = ancestor_at_level(session, township, RegionLevel.county)
    return county or township


def _next_notice_number(session: Session, county_code: str, year: int) -> str:
    return f"督办〔{year}〕第{next_number(session, NoticeCounter, county_code, year)}号"


def _message(session: Session, recipient_type: str, recipient_id: int, hazard: Hazard,
             kind: str, title: str, body: str, now: datetime) -> None:
    session.add(InboxMessage(recipient_type=str(recipient_type), recipient_id=recipient_id,
                             hazard_id=hazard.id, kind=kind, title=title, body=body,
                             data={"hazard_code": hazard.code}, created_at=now))


def recompute_provisional_deadlines(sessions: sessionmaker[Session], clock: Clock) -> list[int]:
    """Deadlines counted past the known holiday calendar, counted again with today's calendar.

    Only a deadline still as assigned is recomputed (an extension or a return has set a
    date of its own since). Returns the ids of hazards whose deadline changed or settled.
    Each is counted first in a read-only snapshot; only a deadline that moves opens a write
    transaction, and is counted again there under the hazard's lock.
    """
    with sessions() as session:
        session.connection(execution_options={READ_ONLY: True})
        ids = [hazard_id for hazard_id in session.scalars(select(Hazard.id).where(
            Hazard.deadline_provisional.is_(True), Hazard.state.in_(RECTIFICATION_OPEN)))
            if _fresh_deadline(session, session.get_one(Hazard, hazard_id)) is not None]
    changed = []
    for hazard_id in ids:
        with sessions() as session, transaction(session) as tx:
            if _recompute(tx, hazard_id, clock.now()):
                changed.append(hazard_id)
    return changed


def _fresh_deadline(session: Session, hazard: Hazard) -> Deadline | None:
    """The deadline counted again with today's calendar; None when it stays as it is."""
    if not hazard.deadline_provisional:
        return None
    assign = session.scalars(select(Event).where(Event.hazard_id == hazard.id,
                                                 Event.action == "assign")
                             .order_by(Event.seq.desc()).limit(1)).first()
    if assign is None:
        return None
    basis = assign.data.get("deadline_basis") or {}
    if not basis or str(hazard.deadline) != assign.data.get("deadline"):
        return None
    assigned_on = assign.at.astimezone(get_settings().tz).date()
    fresh = add_days(assigned_on, int(basis["days"]), DayUnit(basis["unit"]))
    if fresh.provisional and fresh.on == hazard.deadline:
        return None  # the calendar still does not reach that far
    return fresh


def _recompute(session: Session, hazard_id: int, now: datetime) -> bool:
    hazard = session.scalars(select(Hazard).where(Hazard.id == hazard_id)
                             .with_for_update(skip_locked=True)).first()
    fresh = _fresh_deadline(session, hazard) if hazard is not None else None
    if hazard is None or fresh is None:
        return False
    previous = hazard.deadline
    hazard.deadline, hazard.deadline_provisional = fresh.on, fresh.provisional
    for assignment in hazard.assignments:
        assignment.deadline = fresh.on
    append_event(session, hazard=hazard, action="deadline_recomputed", from_state=hazard.state,
                 to_state=hazard.state, actor=None, at=now,
                 note="节假日安排公布后重新计算整改期限",
                 data={"deadline": {"from": str(previous), "to": str(fresh.on)},
                       "provisional": fresh.provisional})
    return True
