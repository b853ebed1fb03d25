"""The board's worker job: keep last month's township counts once it has ended (亮晒排名)."""

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.jobs import Job, JobResult
from app.services.board.ranking import freeze_last_month


def keep_last_month(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    month, counted = freeze_last_month(sessions, clock)
    return JobResult(lines=[f"ranking {month}: counts of {counted} townships kept"]
                     if counted else [])


JOBS = (Job("ranking months", keep_last_month),)
