"""The supervision domain's worker job: the scan of every open hazard with a deadline."""

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.jobs import Job, JobResult
from app.services.supervision.scans import scan


def scan_hazards(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    """Reminders, overdue notices to both sides, escalation, recomputed deadlines."""
    report = scan(sessions, clock)
    return JobResult(
        lines=[f"hazard {hazard_id}: {kind}" for hazard_id, kind in report.steps],
        summary=f"scanned {report.hazards} hazards, took {len(report.steps)} steps",
    )


JOBS = (Job("supervision scan", scan_hazards),)
