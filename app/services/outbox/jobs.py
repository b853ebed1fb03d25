"""The outbox's worker job: webhook deliveries (with retries) and SMS of committed events."""

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.jobs import Job, JobResult
from app.services.outbox.webhooks import deliver_due


def deliver(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    sent = deliver_due(sessions, clock)
    summary = (f"outbox: {sent.dispatched} messages, {sent.sms} SMS; webhooks "
               f"{sent.delivered} delivered, {sent.retrying} to retry, {sent.dead} dead")
    busy = sent.sms or sent.delivered or sent.retrying or sent.dead
    return JobResult(lines=[summary] if busy else [], summary=None if busy else summary)


JOBS = (Job("outbox delivery", deliver),)
