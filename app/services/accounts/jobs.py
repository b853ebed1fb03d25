"""The accounts' worker job: forget revoked page sessions that have expired anyway."""

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.db import transaction
from app.core.jobs import Job, JobResult
from app.services.accounts.auth import purge_revoked_sessions


def purge_sessions(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    with sessions() as session, transaction(session) as tx:
        purged = purge_revoked_sessions(tx, now=clock.now())
    return JobResult(lines=[f"revoked page sessions: {purged} expired removed"]
                     if purged else [])


JOBS = (Job("revoked sessions", purge_sessions),)
