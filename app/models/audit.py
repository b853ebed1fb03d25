"""The security audit log (安全审计, 等保三级): one append-only, hash-chained table.

Every entry links to the one before it (seq order) by its hash, the way a hazard's timeline
does, and the chain's head is kept in `audit_chain` (one row), which every writer locks first:
entries are appended one at a time on both databases, so the chain never forks. Entries older
than AUDIT_RETENTION_DAYS may be purged (`bihuan audit purge`); the head then also records the
last purged entry (`base_seq`, `base_hash`), where verification starts from.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime

AUDIT_GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    # The chain's order, contiguous from base_seq + 1: a gap is a deleted entry.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Who: no foreign key, the log outlives any change to the accounts. None: no account
    # (a failed login with an unknown username keeps the name tried in `username`).
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    source_ip: Mapped[str | None] = mapped_column(String(45))
    # What: an action of services/audit/log.AuditAction, its object ("user:12",
    # "enterprise:3", "ledger"), and the result: success, failure or refused.
    action: Mapped[str] = mapped_column(String(40), index=True)
    object: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Before and after of a change, or other facts of the action; never a secret.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChain(Base):
    """The head of the audit chain (a single row, id 1), locked by each writer."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=AUDIT_GENESIS_HASH)
    # The last purged entry: verification starts after it.
    base_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    base_hash: Mapped[str] = mapped_column(String(64), default=AUDIT_GENESIS_HASH)
    # The database refuses to delete an entry (trigger, migration 0024) unless this is set:
    # `bihuan audit purge` sets it for its own transaction only. Editing is refused always.
    purging: Mapped[bool] = mapped_column(default=False, server_default=false())
