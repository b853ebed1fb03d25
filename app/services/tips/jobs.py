"""The tips domain's worker job: reminders and overdue marking of untriaged tips."""

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.jobs import Job, JobResult
from app.services.tips.upkeep import scan_tips


def look_after_tips(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    steps = scan_tips(sessions, clock)
    return JobResult(lines=[f"tip {tip_id}: {kind}" for tip_id, kind in steps],
                     summary=f"tips: {len(steps)} steps")


JOBS = (Job("tip due dates", look_after_tips),)
