"""The worker's job list, collected from each domain's `jobs.py`, and one pass over it.

`bihuan worker` runs a pass every WORKER_INTERVAL_SECONDS. Every job is safe to run again at
any time and by several workers at once on PostgreSQL (each step is taken once); run one on
SQLite. A new domain with periodic work adds its `JOBS` here.
"""

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.jobs import Job
from app.http import jobs as http_jobs
from app.services.accounts import jobs as account_jobs
from app.services.board import jobs as board_jobs
from app.services.checks import jobs as check_jobs
from app.services.integrity import jobs as integrity_jobs
from app.services.operations.metrics import WORKER_STEPS
from app.services.outbox import jobs as outbox_jobs
from app.services.supervision import jobs as supervision_jobs
from app.services.tips import jobs as tip_jobs

# Order matters: the scan's notices are events whose webhooks and SMS the outbox then sends.
JOBS: tuple[Job, ...] = (
    *supervision_jobs.JOBS,
    *tip_jobs.JOBS,
    *outbox_jobs.JOBS,
    *board_jobs.JOBS,
    *check_jobs.JOBS,
    *http_jobs.JOBS,
    *account_jobs.JOBS,
    *integrity_jobs.JOBS,
)


def run_once(sessions: sessionmaker[Session], clock: Clock, echo: Callable[[str], None], *,
             summaries: bool = False) -> None:
    """One pass over every job; `summaries` also prints what each job found to do."""
    for job in JOBS:
        result = job.run(sessions, clock)
        WORKER_STEPS.labels(job.name).inc()
        for line in result.lines:
            echo(line)
        if summaries and result.summary:
            echo(result.summary)
