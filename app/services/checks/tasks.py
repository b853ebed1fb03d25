"""排查任务: tasks scheduled from each control measure's frequency, listed, and answered item by
item (正常, or 发现隐患: a hazard in `reported` through the report service, linked to the item).
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, exists, func, insert, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from app.access.actor import Actor
from app.access.roles import may, require_task_answerer
from app.access.scopes import check_enterprises, hazard_visibility
from app.core.clock import Clock, local_today
from app.core.cursors import decode_cursor, encode_cursor
from app.core.db import UTCDateTime, count_if, valid_id
from app.core.errors import Conflict, NotFound, Unprocessable
from app.models import (
    CheckItem,
    CheckItemPhoto,
    CheckTask,
    ControlMeasure,
    Enterprise,
    Hazard,
    RiskPoint,
)
from app.models.checks import Frequency, Outcome, TaskKind, TaskState
from app.models.enums import HazardLevel, PartyType
from app.models.supervision import InboxMessage
from app.services.checks.register import of_visible_enterprise
from app.services.checks.schemas import CheckItemOut, CheckTaskOut
from app.services.hazards import photos as photo_service
from app.services.hazards import report as report_service
from app.services.media.imaging.staged import StagedFile
from app.services.media.storage import get_storage
from app.workflow.deadlines import is_working_day

MAX_RESULTS = 200  # items answered in one request
MAX_NOTE = 2000


# --- Periods -------------------------------------------------------------------------------

def period_of(frequency: Frequency, today: date) -> tuple[date, date] | None:
    """(first day, due day) of the period holding `today` (local dates); None when no task is
    due for it today (a daily check on a day off: weekends and statutory holidays)."""
    if frequency == Frequency.daily:
        return (today, today) if is_working_day(today)[0] else None
    if frequency == Frequency.weekly:
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=6)
    first_month = today.month if frequency == Frequency.monthly else (
        (today.month - 1) // 3 * 3 + 1)
    months = 1 if frequency == Frequency.monthly else 3
    start = date(today.year, first_month, 1)
    following = first_month + months
    end = (date(today.year + 1, following - 12, 1) if following > 12
           else date(today.year, following, 1))
    return start, end - timedelta(days=1)


# --- Generation (the worker) ---------------------------------------------------------------

def _insert(session: Session, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on either database: several workers may race."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def missing_tasks(session: Session, frequency: Frequency, start: date) -> Any:
    """The active measures of this frequency without a task for the period starting `start`."""
    return (
        select(ControlMeasure.id, RiskPoint.enterprise_id)
        .join(RiskPoint, RiskPoint.id == ControlMeasure.risk_point_id)
        .where(ControlMeasure.active, ControlMeasure.frequency == frequency,
               ~exists().where(CheckTask.measure_id == ControlMeasure.id,
                               CheckTask.period_start == start))
    )


def tasks_missing(session: Session, today: date) -> int:
    """How many tasks today's generation would create (the worker's read-only look first)."""
    count = 0
    for frequency in Frequency:
        period = period_of(frequency, today)
        if period is not None:
            missing = missing_tasks(session, frequency, period[0]).subquery()
            count += session.scalar(select(func.count()).select_from(missing)) or 0
    return count


def generate_tasks(session: Session, clock: Clock) -> int:
    """Create today's due tasks (one per active measure per period) and their item; safe to
    run again and concurrently: a task that exists is never made twice. Flushes only."""
    today, now = local_today(clock), clock.now()
    made = 0
    for frequency in Frequency:
        period = period_of(frequency, today)
        if period is None:
            continue
        start, due = period
        missing = missing_tasks(session, frequency, start).subquery()
        tasks = _insert(session, CheckTask).from_select(
            ["measure_id", "enterprise_id", "kind", "period_start", "due_on", "state",
             "created_at"],
            select(missing.c.id, missing.c.enterprise_id, literal(str(TaskKind.routine)),
                   literal(start, Date()), literal(due, Date()), literal(str(TaskState.due)),
                   literal(now, UTCDateTime()))
            # SQLite parses `SELECT … FROM t ON CONFLICT` as a join without a WHERE here.
            .where(true()),
        ).on_conflict_do_nothing().returning(CheckTask.id)
        # Counted from RETURNING: psycopg reports no rowcount for INSERT … SELECT.
        made += len(session.execute(tasks).all())
        items = _insert(session, CheckItem).from_select(
            ["task_id", "position", "content"],
            select(CheckTask.id, literal(0), ControlMeasure.check_item)
            .join(ControlMeasure, ControlMeasure.id == CheckTask.measure_id)
            .where(CheckTask.period_start == start, ControlMeasure.frequency == frequency,
                   ~exists().where(CheckItem.task_id == CheckTask.id)),
        ).on_conflict_do_nothing()
        session.execute(items)
    return made


# --- Reading -------------------------------------------------------------------------------

def state_of(task: CheckTask, today: date) -> TaskState:
    if task.state == TaskState.done:
        return TaskState.done
    return TaskState.overdue if task.due_on < today else TaskState.due


def list_tasks(session: Session, actor: Actor, *, enterprise_id: int | None,
               state: TaskState | None, limit: int, cursor: str | None,
               today: date) -> tuple[list[CheckTask], str | None]:
    """The tasks the actor may see, newest first; a filter outside its reach matches none."""
    before = decode_cursor(cursor) if cursor is not None else None
    query = (select(CheckTask).where(CheckTask.enterprise_id.in_(check_enterprises(actor)))
             .options(selectinload(CheckTask.items)).order_by(CheckTask.id.desc())
             .limit(limit + 1))
    if enterprise_id is not None:
        query = query.where(CheckTask.enterprise_id == (
            enterprise_id if valid_id(enterprise_id) else -1))
    if state == TaskState.done:
        query = query.where(CheckTask.state == TaskState.done)
    elif state == TaskState.due:
        query = query.where(CheckTask.state == TaskState.due, CheckTask.due_on >= today)
    elif state == TaskState.overdue:
        query = query.where(CheckTask.state == TaskState.due, CheckTask.due_on < today)
    if before is not None:
        query = query.where(CheckTask.id < before)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more else None


def open_tasks(session: Session, actor: Actor, limit: int = MAX_RESULTS) -> list[CheckTask]:
    """The tasks the actor itself has to record, not done, soonest due first: an enterprise
    user its enterprise's self-checks, an inspector the inspections it opened."""
    query = (select(CheckTask).where(CheckTask.state == TaskState.due,
                                     CheckTask.enterprise_id.in_(check_enterprises(actor)))
             .options(selectinload(CheckTask.items))
             .order_by(CheckTask.due_on, CheckTask.id).limit(limit))
    if may(actor, "check_answer"):
        query = query.where(CheckTask.inspector_id.is_(None))
    elif may(actor, "inspect"):
        query = query.where(CheckTask.inspector_id == actor.id)
    else:
        return []
    return list(session.scalars(query))


def tasks_out(session: Session, tasks: list[CheckTask], today: date) -> list[CheckTaskOut]:
    measure_ids = {t.measure_id for t in tasks if t.measure_id is not None}
    points = dict(session.execute(
        select(ControlMeasure.id, ControlMeasure.risk_point_id)
        .where(ControlMeasure.id.in_(measure_ids))).all()) if measure_ids else {}
    item_ids = [i.id for t in tasks for i in t.items]
    photos = {item_id: count for item_id, count in session.execute(
        select(CheckItemPhoto.item_id, func.count()).where(CheckItemPhoto.item_id.in_(item_ids))
        .group_by(CheckItemPhoto.item_id))} if item_ids else {}
    return [CheckTaskOut(
        id=t.id, enterprise_id=t.enterprise_id, kind=t.kind, measure_id=t.measure_id,
        risk_point_id=points.get(t.measure_id) if t.measure_id else None,
        sweep_id=t.sweep_id, campaign_id=t.campaign_id, inspector_id=t.inspector_id,
        period_start=t.period_start, due_on=t.due_on,
        state=state_of(t, today), done_at=t.done_at,
        items=[CheckItemOut(id=i.id, content=i.content, outcome=i.outcome, note=i.note,
                            hazard_id=i.hazard_id, photos=photos.get(i.id, 0),
                            answered_at=i.answered_at)
               for i in t.items])
        for t in tasks]


@dataclass(frozen=True)
class Figures:
    enterprises: int
    answered: int
    overdue: int
    hazard_ids: list[int]


def issue_tasks(session: Session, *, targets: Any, kind: TaskKind, link: Any, link_id: int,
                items: list[str], due_on: date, today: date, now: datetime) -> None:
    """One due task per target enterprise (`targets`: a subquery of `id`), each with every
    item, linked to its campaign or sweep (`link`: CheckTask.campaign_id or .sweep_id).
    Set-based, two statements per item at most: a province-wide sweep reaches thousands."""
    session.execute(CheckTask.__table__.insert().from_select(
        ["enterprise_id", "kind", link.key, "period_start", "due_on", "state", "created_at"],
        select(targets.c.id, literal(str(kind)), literal(link_id), literal(today, Date()),
               literal(due_on, Date()), literal(str(TaskState.due)),
               literal(now, UTCDateTime())).where(true())))
    for position, content in enumerate(items):
        session.execute(CheckItem.__table__.insert().from_select(
            ["task_id", "position", "content"],
            select(CheckTask.id, literal(position), literal(content))
            .where(link == link_id)))


def figures(session: Session, actor: Actor, tasks_of: Any, today: date) -> Figures:
    """A sweep's or a campaign's tasks (`tasks_of`: a condition on CheckTask) counted over
    the enterprises the caller may see, and the hazards they found that it may see."""
    counted = (select(CheckTask).where(tasks_of,
                                       CheckTask.enterprise_id.in_(check_enterprises(actor)))
               .subquery())
    row = session.execute(select(
        func.count(),
        count_if(counted.c.state == TaskState.done),
        count_if((counted.c.state == TaskState.due) & (counted.c.due_on < today)),
    ).select_from(counted)).one()
    hazard_ids = list(session.scalars(
        select(CheckItem.hazard_id)
        .join(Hazard, Hazard.id == CheckItem.hazard_id)
        .where(CheckItem.task_id.in_(select(counted.c.id)), hazard_visibility(actor))
        .order_by(CheckItem.hazard_id)))
    return Figures(enterprises=int(row[0]), answered=int(row[1] or 0),
                   overdue=int(row[2] or 0), hazard_ids=[h for h in hazard_ids if h is not None])


def visible_task(session: Session, actor: Actor, task_id: int, *,
                 for_update: bool = False) -> CheckTask:
    return of_visible_enterprise(session, actor, CheckTask, task_id, CheckTask.items,
                                 "排查任务不存在", for_update=for_update)


# --- Answering -----------------------------------------------------------------------------

_FIELD = re.compile(r"^results\[(\d{1,4})\]\.(item_id|outcome|note|photos)$")


@dataclass
class Result:
    index: int
    item_id: int | None = None
    outcome: Outcome | None = None
    note: str | None = None
    photos: list[StagedFile] = field(default_factory=list)


@dataclass(frozen=True)
class ResultsForm:
    """The form as read (app/http/uploads.py): its fields and its files, which keep their
    field names (`results[i].photos`)."""

    fields: dict[str, str]
    files: list[StagedFile]


def parse_results(form: ResultsForm) -> list[Result]:
    """`results[i].item_id`, `.outcome`, `.note` and files `results[i].photos`; 422 listing
    every problem."""
    found: dict[int, Result] = {}
    problems: list[dict[str, Any]] = []

    def entry(index: int) -> Result:
        return found.setdefault(index, Result(index))

    for name, value in form.fields.items():
        match = _FIELD.match(name)
        if match is None or match.group(2) == "photos":
            continue
        index, key = int(match.group(1)), match.group(2)
        if index >= MAX_RESULTS:
            problems.append(_problem(name, f"一次最多记录 {MAX_RESULTS} 项"))
            continue
        result, value = entry(index), value.strip()
        if key == "item_id":
            result.item_id = _row_id(value)
            if result.item_id is None:
                problems.append(_problem(name, "应为排查项的 id"))
        elif key == "outcome":
            if value not in tuple(Outcome):
                problems.append(_problem(name, "应为 ok（正常）或 hazard（发现隐患）"))
            else:
                result.outcome = Outcome(value)
        elif len(value) > MAX_NOTE:
            problems.append(_problem(name, f"内容过长（最多 {MAX_NOTE} 字）"))
        else:
            result.note = value or None
    for upload in form.files:
        match = _FIELD.match(upload.field_name)
        if match and match.group(2) == "photos" and (upload.filename or upload.size):
            index = int(match.group(1))
            if index < MAX_RESULTS:
                entry(index).photos.append(upload)
    if not found and not problems:
        problems.append(_problem("results", "请至少记录一项排查结果", "missing"))
    seen: set[int] = set()
    for result in sorted(found.values(), key=lambda r: r.index):
        prefix = f"results[{result.index}]"
        if result.item_id is None and not _has_problem(problems, f"{prefix}.item_id"):
            problems.append(_problem(f"{prefix}.item_id", "必填项", "missing"))
        if result.outcome is None and not _has_problem(problems, f"{prefix}.outcome"):
            problems.append(_problem(f"{prefix}.outcome", "必填项", "missing"))
        if result.outcome == Outcome.hazard and not result.photos:
            problems.append(_problem(f"{prefix}.photos", "发现隐患须附现场照片", "missing"))
        if result.item_id is not None:
            if result.item_id in seen:
                problems.append(_problem(f"{prefix}.item_id", "同一排查项只能记录一次"))
            seen.add(result.item_id)
    if problems:
        raise Unprocessable(problems)
    return sorted(found.values(), key=lambda r: r.index)


def _row_id(text: str) -> int | None:
    """An id as typed: ASCII digits within the primary keys' range ("①" is a digit to
    str.isdigit, not to int)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    value = int(text)
    return value if valid_id(value) else None


def _problem(name: str, message: str, kind: str = "value_error") -> dict[str, Any]:
    return {"loc": ["body", name], "msg": message, "type": kind}


def _has_problem(problems: list[dict[str, Any]], name: str) -> bool:
    return any(p["loc"] == ["body", name] for p in problems)


def record_results(session: Session, actor: Actor, task: CheckTask, form: ResultsForm,
                   clock: Clock, *, location: str) -> CheckTask:
    """Record the items answered (the caller loaded the task locked and checked the role).

    In the contract's order: an item not of this task 404, an item already recorded (or a
    task done) 409, then the form's problems 422; each 发现隐患 is then reported through the
    report service, in this one transaction with the records."""
    items = {item.id: item for item in task.items}
    results = _structure_after_lookup(form, items, task)
    enterprise_id = task.enterprise_id
    now, on_time = clock.now(), local_today(clock) <= task.due_on
    ok_photos = _checked_ok_photos(results)
    for result in results:
        assert result.item_id is not None and result.outcome is not None
        item = items[result.item_id]
        if result.outcome == Outcome.hazard:
            hazard = report_service.report_hazard(
                session, actor=actor, clock=clock, uploads=result.photos,
                form={"title": f"排查发现隐患：{item.content}"[:200],
                      "description": result.note or item.content,
                      "location": location[:200], "level": HazardLevel.general,
                      "enterprise_id": str(enterprise_id)})
            item.hazard_id = hazard.id
        else:
            _store_ok_photos(session, item, ok_photos.get(result.index, []), actor, now)
        item.outcome, item.note = result.outcome, result.note
        item.answered_by_id, item.answered_at, item.on_time = actor.id, now, on_time
    if all(item.outcome is not None for item in task.items):
        task.state, task.done_at = TaskState.done, now
    session.flush()
    return task


def _checked_ok_photos(results: list[Result]) -> dict[int, list[photo_service.CheckedPhoto]]:
    """Every 正常 photo checked (413/415) before anything is written; a 发现隐患's photos are
    checked by the report service."""
    checked: dict[int, list[photo_service.CheckedPhoto]] = {}
    for result in results:
        if result.outcome == Outcome.ok and result.photos:
            photos, error = photo_service.inspect_uploads(result.photos)
            if error is not None:
                raise error
            checked[result.index] = photos
    return checked


def _store_ok_photos(session: Session, item: CheckItem,
                     photos: list[photo_service.CheckedPhoto], actor: Actor,
                     now: datetime) -> None:
    storage = get_storage()
    for photo in photos:
        photo_service.store_blob(session, storage, photo)
        session.add(CheckItemPhoto(item_id=item.id, uploaded_by_id=actor.id, uploaded_at=now,
                                   **photo_service.photo_columns(photo)))


def _structure_after_lookup(form: ResultsForm, items: dict[int, CheckItem],
                            task: CheckTask) -> list[Result]:
    """Ids that name no item of the task answer 404 and answered ones 409 before the rest of
    the form is judged (422)."""
    raw_ids = [value for name, value in form.fields.items()
               if (m := _FIELD.match(name)) and m.group(2) == "item_id"]
    wanted = {i for i in (_row_id(r.strip()) for r in raw_ids) if i is not None}
    if any(item_id not in items for item_id in wanted):
        raise NotFound("排查项不存在")
    if task.state == TaskState.done:
        raise Conflict("该排查任务已完成")
    if any(items[item_id].outcome is not None for item_id in wanted):
        raise Conflict("该排查项已记录，不能重复记录")
    return parse_results(form)


def answer_task(session: Session, actor: Actor, task_id: int, form: ResultsForm,
                clock: Clock) -> CheckTask:
    task = visible_task(session, actor, task_id, for_update=True)
    require_task_answerer(actor, task.inspector_id)
    return record_results(session, actor, task, form, clock,
                          location=_location(session, task))


def _location(session: Session, task: CheckTask) -> str:
    """Where a hazard found by this task lies: its risk point's place, else the enterprise's
    address (or name)."""
    if task.measure_id is not None:
        place = session.scalar(select(RiskPoint.place).join(
            ControlMeasure, ControlMeasure.risk_point_id == RiskPoint.id)
            .where(ControlMeasure.id == task.measure_id))
        if place:
            return place
    row = session.execute(select(Enterprise.address, Enterprise.name)
                          .where(Enterprise.id == task.enterprise_id)).one()
    return row.address or row.name


# --- Overdue reminders (the worker) --------------------------------------------------------

def _overdue_unreminded(today: date) -> Any:
    """Self-check tasks (the enterprise's to answer: not an inspector's) past their day,
    not done, not yet reminded."""
    return ((CheckTask.state == TaskState.due) & (CheckTask.due_on < today)
            & CheckTask.reminded_at.is_(None) & CheckTask.inspector_id.is_(None))


def reminders_missing(session: Session, today: date) -> int:
    return session.scalar(select(func.count()).where(_overdue_unreminded(today))) or 0


def remind_overdue(session: Session, clock: Clock) -> int:
    """One inbox message to the enterprise per overdue task, once: the task is marked first
    (UPDATE … RETURNING, so a second worker racing finds nothing left), then messaged."""
    today, now = local_today(clock), clock.now()
    marked = session.execute(
        update(CheckTask).where(_overdue_unreminded(today)).values(reminded_at=now)
        .returning(CheckTask.id, CheckTask.enterprise_id, CheckTask.due_on)
        .execution_options(synchronize_session=False)).all()
    if marked:
        session.execute(insert(InboxMessage), [
            {"recipient_type": str(PartyType.enterprise), "recipient_id": enterprise_id,
             "hazard_id": None, "kind": "check_overdue",
             "title": f"排查任务超期：应于 {due_on} 前完成",
             "body": "请尽快完成该排查任务并逐项记录结果；超期任务计入排查完成率。",
             "data": {"task_id": task_id, "due_on": str(due_on)}, "created_at": now}
            for task_id, enterprise_id, due_on in marked])
    return len(marked)
