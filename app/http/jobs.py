"""The HTTP layer's worker job: drop idempotency keys past their lifetime."""

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.config import get_settings
from app.core.db import transaction
from app.core.jobs import Job, JobResult
from app.http.idempotency_keys import purge_expired


def purge_idempotency_keys(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    max_age = timedelta(hours=get_settings().idempotency_key_hours)
    with sessions() as session, transaction(session) as tx:
        purged = purge_expired(tx, now=clock.now(), max_age=max_age)
    return JobResult(lines=[f"idempotency keys: {purged} expired removed"] if purged else [])


JOBS = (Job("idempotency keys", purge_idempotency_keys),)
