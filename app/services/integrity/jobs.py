"""The worker's checkpoint: one every AUDIT_CHECKPOINT_HOURS (a day), when a key is set."""

from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.config import get_settings
from app.core.db import transaction
from app.core.jobs import Job, JobResult
from app.models import AuditCheckpoint
from app.services.integrity.checkpoints import CopyProblem, checkpoint_bucket, take_checkpoint
from app.services.integrity.keys import KeyProblem, load_signer, signer_configured

# Several workers on PostgreSQL: the one holding this lock takes the checkpoint.
_LOCK = 0x6269_6875_616E  # "bihuan"


def checkpoint_when_due(sessions: sessionmaker[Session], clock: Clock) -> JobResult:
    settings = get_settings()
    if not signer_configured():
        setting = ("AUDIT_HMAC_KEY_FILE" if settings.crypto_profile == "gm"
                   else "AUDIT_SIGNING_KEY_FILE")
        return JobResult(summary=f"audit checkpoints: no {setting}, none taken")
    now = clock.now()
    with sessions() as session, transaction(session) as tx:
        if tx.get_bind().dialect.name == "postgresql" and not tx.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK}):
            return JobResult(summary="audit checkpoint: another worker is taking it")
        latest = tx.scalar(select(func.max(AuditCheckpoint.taken_at)))
        if latest is not None and now - latest < timedelta(hours=settings.audit_checkpoint_hours):
            return JobResult(summary=f"audit checkpoint: the latest is of {latest.isoformat()}")
        try:
            key = load_signer()
            bucket = checkpoint_bucket(settings)
        except (KeyProblem, CopyProblem) as problem:
            return JobResult(lines=[f"audit checkpoint refused: {problem}"])
        checkpoint = take_checkpoint(tx, key=key, now=now, copy_dir=settings.audit_checkpoint_dir,
                                     bucket=bucket)
        line = (f"audit checkpoint #{checkpoint.id}: {checkpoint.hazards} hazards, "
                f"{checkpoint.events} events signed")
    return JobResult(lines=[line])


JOBS = (Job("audit checkpoint", checkpoint_when_due),)
