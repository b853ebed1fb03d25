"""`bihuan audit purge`: delete the entries older than AUDIT_RETENTION_DAYS (docs/audit.md).

Only a prefix of the chain goes: the entries up to the first one still within the retention
period, so what is left is still one contiguous chain, starting after the new base. The
database refuses to delete an entry unless audit_chain.purging is set (trigger, migration
0024); it is set here, in this transaction only (the update also takes the head row's lock,
so no entry is appended meanwhile), and cleared before the purge records itself.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.models import AuditChain, AuditEntry
from app.services.audit.log import AuditAction, Who, record


@dataclass(frozen=True)
class Purged:
    deleted: int
    up_to_seq: int
    cutoff: datetime


def purge(session: Session, *, now: datetime, retention_days: int) -> Purged:
    """Delete what is older than `retention_days` (the caller checks it is allowed) and
    record that it did; the caller commits."""
    cutoff = now - timedelta(days=retention_days)
    session.execute(update(AuditChain).where(AuditChain.id == 1).values(purging=True))
    base_seq, base_hash = session.execute(
        select(AuditChain.base_seq, AuditChain.base_hash).where(AuditChain.id == 1)).one()
    # Entries are appended in seq order but a kept one carries the time of its request, so
    # times need not rise with seq: stop before the first entry still to be kept.
    first_kept = session.scalar(select(func.min(AuditEntry.seq)).where(
        AuditEntry.seq > base_seq, AuditEntry.at >= cutoff))
    upto = session.scalar(select(func.max(AuditEntry.seq)).where(
        AuditEntry.seq > base_seq,
        *([AuditEntry.seq < first_kept] if first_kept is not None else [])))
    deleted = 0
    if upto is not None:
        new_base_hash = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == upto))
        deleted = session.execute(delete(AuditEntry).where(
            AuditEntry.seq > base_seq, AuditEntry.seq <= upto)).rowcount
        base_seq, base_hash = upto, new_base_hash
    session.execute(update(AuditChain).where(AuditChain.id == 1)
                    .values(purging=False, base_seq=base_seq, base_hash=base_hash))
    record(session, who=Who.system(), action=AuditAction.audit_purge, at=now,
           object="audit_log", detail={"deleted": deleted, "up_to_seq": base_seq,
                                       "cutoff": cutoff.isoformat(),
                                       "retention_days": retention_days})
    return Purged(deleted, base_seq, cutoff)
