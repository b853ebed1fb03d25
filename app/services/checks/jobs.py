"""The checks domain's worker job: schedule the check tasks due from each measure's frequency."""

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock, local_today
from app.core.db import READ_ONLY, transaction
from app.core.jobs import Job, JobResult
from app.services.checks.tasks import (
    generate_tasks,
    remind_overdue,
    reminders_missing,
    tasks_missing,
)


def schedule_check_tasks(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    """One task per active measure per period (daily on working days; weekly, monthly,
    quarterly by local calendar periods). Decided from a read-only snapshot; written in one
    short transaction only when something is missing."""
    with sessions() as session:
        session.connection(execution_options={READ_ONLY: True})
        missing = tasks_missing(session, local_today(clock))
        session.rollback()
    made = 0
    if missing:
        with sessions() as session, transaction(session) as tx:
            made = generate_tasks(tx, clock)
    return JobResult(lines=[f"check tasks: {made} scheduled"] if made else [],
                     summary=f"check tasks: {made} scheduled")


def remind_overdue_tasks(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    """One reminder to the enterprise for each check task past its day (once per task);
    a read-only look first, a write only when one is due."""
    with sessions() as session:
        session.connection(execution_options={READ_ONLY: True})
        missing = reminders_missing(session, local_today(clock))
        session.rollback()
    sent = 0
    if missing:
        with sessions() as session, transaction(session) as tx:
            sent = remind_overdue(tx, clock)
    return JobResult(lines=[f"check reminders: {sent} sent"] if sent else [],
                     summary=f"check reminders: {sent} sent")


JOBS = (Job("check tasks", schedule_check_tasks),
        Job("check reminders", remind_overdue_tasks))
