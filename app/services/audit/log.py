"""Writing the security audit log: one chained entry per security-relevant act.

Two ways in. `record` adds the entry to the caller's transaction: a change and its entry commit
together or not at all (a user update, an organisation change). `record_kept` is for acts whose
request fails (a refused request, a failed login): the entry is written in a transaction of its
own once the request's has ended, whether that committed or rolled back (core/db.py, kept
writes). Who acted, from where and in which request comes from the caller and the request's
context (core/logs.py: REQUEST_ID, CLIENT_ADDRESS).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.core.crypto import Profile, link_hash
from app.core.db import keep_write
from app.core.errors import DomainError, Forbidden, OutOfScope
from app.core.logs import CLIENT_ADDRESS, REQUEST_ID
from app.models import AuditChain, AuditEntry, User
from app.services.hazards.timeline import APPEND_ONLY

APPEND_ONLY[AuditEntry] = "audit log entries"


class AuditAction(StrEnum):
    login = "login"
    login_failed = "login_failed"
    logout = "logout"
    password_change = "password_change"  # noqa: S105 (an action's name)
    password_reset = "password_reset"  # noqa: S105
    otp_enable = "otp_enable"
    otp_reset = "otp_reset"
    user_create = "user_create"
    user_update = "user_update"
    unlock = "unlock"
    region_create = "region_create"
    region_update = "region_update"
    unit_create = "unit_create"
    unit_update = "unit_update"
    enterprise_create = "enterprise_create"
    enterprise_update = "enterprise_update"
    export = "export"
    refused = "refused"
    setting_change = "setting_change"
    audit_purge = "audit_purge"
    onboarding_import = "onboarding_import"


class AuditResult(StrEnum):
    success = "success"
    failure = "failure"
    refused = "refused"


@dataclass(frozen=True)
class Who:
    """The account an entry is about: a user, or only the username someone tried."""

    user_id: int | None
    username: str
    role: str | None

    @classmethod
    def of_actor(cls, actor: Actor) -> "Who":
        return cls(actor.id, actor.username, str(actor.role))

    @classmethod
    def of_user(cls, user: User) -> "Who":
        return cls(user.id, user.username, str(user.role))

    @classmethod
    def tried(cls, username: str) -> "Who":
        """A name typed at the login form that names no account (bounded: it is the caller's)."""
        return cls(None, username[:64], None)

    @classmethod
    def system(cls) -> "Who":
        """The command line or the worker."""
        return cls(None, "system", None)


def canonical_content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "user_id": entry.user_id,
        "username": entry.username,
        "role": entry.role,
        "source_ip": entry.source_ip,
        "action": entry.action,
        "object": entry.object,
        "result": entry.result,
        "request_id": entry.request_id,
        "detail": entry.detail,
    }


def compute_hash(entry: AuditEntry, profile: Profile | None = None) -> str:
    """The entry's link hash; a check passes the profile it was written with
    (services/crypto/state.chain_profiles: `.of("audit_entry", entry.seq)`)."""
    return link_hash(entry.prev_hash, canonical_content(entry), profile)


def record(session: Session, *, who: Who, action: AuditAction, at: datetime,
           object: str = "", result: AuditResult = AuditResult.success,
           detail: dict[str, Any] | None = None) -> AuditEntry:
    """Append an entry in the caller's transaction.

    The head row is updated first: that takes its lock (a row lock on PostgreSQL, the write
    lock on SQLite), so concurrent writers append one after another and the chain never forks.
    """
    session.flush()
    session.execute(update(AuditChain).where(AuditChain.id == 1)
                    .values(seq=AuditChain.seq + 1))
    seq, prev_hash = session.execute(
        select(AuditChain.seq, AuditChain.hash).where(AuditChain.id == 1)).one()
    request_id = REQUEST_ID.get()
    entry = AuditEntry(
        seq=seq, at=at, user_id=who.user_id, username=who.username, role=who.role,
        source_ip=CLIENT_ADDRESS.get(), action=str(action), object=object[:200],
        result=str(result), request_id=None if request_id == "-" else request_id,
        detail=detail, prev_hash=prev_hash,
    )
    entry.hash = compute_hash(entry)
    session.add(entry)
    session.execute(update(AuditChain).where(AuditChain.id == 1).values(hash=entry.hash))
    return entry


def record_export(session: Session, *, actor: Actor, at: datetime, object: str,
                  detail: dict[str, Any] | None = None) -> None:
    """An export (ledger, statistics, dossier, the audit log): in the export's transaction."""
    record(session, who=Who.of_actor(actor), action=AuditAction.export, at=at, object=object,
           detail=detail)


def refused(error: DomainError) -> bool:
    """A refusal the log keeps: every 403, and a 404 on a row that exists out of scope."""
    return isinstance(error, Forbidden | OutOfScope)


def record_refusal(session: Session, *, actor: Actor, error: DomainError, at: datetime,
                   method: str, path: str) -> None:
    """Keep the refusal of a signed-in caller's request (its transaction rolls back)."""
    object = error.object if isinstance(error, OutOfScope) else f"{method} {path}"
    detail: dict[str, Any] = {"status": error.status_code, "method": method, "path": path[:200]}
    if isinstance(error.detail, str):
        detail["reason"] = error.detail[:200]
    record_kept(session, who=Who.of_actor(actor), action=AuditAction.refused, at=at,
                object=object, detail=detail)


def record_kept(session: Session, *, who: Who, action: AuditAction, at: datetime,
                object: str = "", result: AuditResult = AuditResult.refused,
                detail: dict[str, Any] | None = None) -> None:
    """Append an entry once the caller's transaction has ended, even if it rolls back.

    The request context is read now: the write runs after the request's work."""
    request_id, address = REQUEST_ID.get(), CLIENT_ADDRESS.get()

    def write(tx: Session) -> None:
        request_token, address_token = REQUEST_ID.set(request_id), CLIENT_ADDRESS.set(address)
        try:
            record(tx, who=who, action=action, at=at, object=object, result=result,
                   detail=detail)
        finally:
            REQUEST_ID.reset(request_token)
            CLIENT_ADDRESS.reset(address_token)

    keep_write(session, write)
