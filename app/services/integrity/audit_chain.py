"""`bihuan audit verify` on the security audit log (docs/audit.md, "Verify").

The entries after the purge base (audit_chain.base_seq) are walked in seq order, keyset batch
by batch, as plain rows. Named, by seq:

- an entry whose content does not match its hash (edited), or whose prev_hash is not the
  hash before it (the chain was cut and re-linked);
- seqs missing between base and head (deleted entries);
- a log that ends before its head row says (the newest entries deleted: truncated), or goes
  on past it;
- a purge base that no `audit_purge` entry put there (the oldest entries deleted by hand);
- against the latest signed checkpoint: a log shorter than the head it signed (truncated,
  the head row "fixed" to match), an entry at that seq that is not the one signed (the log
  rewritten and re-hashed), a base moved since with no purge recorded after it.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditChain, AuditEntry
from app.services.audit.log import AuditAction, compute_hash
from app.services.crypto.state import ChainProfiles, chain_profiles

BATCH = 5000
_COLUMNS = tuple(AuditEntry.__table__.c)


@dataclass(frozen=True)
class SignedAuditHead:
    """The audit log's head and base as a checkpoint signed them."""

    checkpoint_id: int
    seq: int
    hash: str
    base_seq: int
    base_hash: str


@dataclass(frozen=True)
class AuditProblem:
    problem: str
    seq: int | None = None

    def line(self) -> str:
        if self.seq is None:
            return f"BROKEN audit log: {self.problem}"
        return f"BROKEN audit log entry seq {self.seq}: {self.problem}"


@dataclass
class AuditWalk:
    """What the walk saw; complete once audit_problems is exhausted."""

    entries: int = 0
    last_seq: int = 0
    last_hash: str = ""
    # The latest audit_purge entry: (its seq, the base it says it moved to).
    last_purge: tuple[int, Any] | None = None
    # The hash of the entry at the signed seq, once seen.
    at_signed: str | None = None


def signed_head_of(checkpoint_id: int, payload: dict[str, Any]) -> SignedAuditHead | None:
    """The audit head a checkpoint's payload signed; None for one taken before (no head)."""
    head = payload.get("audit_log")
    if not isinstance(head, dict) or head.get("seq") is None:
        return None
    return SignedAuditHead(checkpoint_id, int(head["seq"]), str(head["hash"]),
                           int(head["base_seq"]), str(head["base_hash"]))


def audit_problems(session: Session, signed: SignedAuditHead | None,
                   walk: "AuditWalk | None" = None, batch: int = BATCH,
                   profiles: ChainProfiles | None = None) -> Iterator[AuditProblem]:
    """Every problem of the audit chain; each link is checked with the digest it was written
    with (`profiles`: the database's crypto state, read here when not given)."""
    profiles = profiles if profiles is not None else chain_profiles(session)
    head = session.execute(select(AuditChain.seq, AuditChain.hash, AuditChain.base_seq,
                                  AuditChain.base_hash).where(AuditChain.id == 1)).one()
    walk = walk if walk is not None else AuditWalk()
    walk.last_seq, walk.last_hash = head.base_seq, head.base_hash
    yield from _entries(session, head.base_seq, head.base_hash, signed, walk, batch, profiles)
    yield from _against_head(head, walk)
    yield from _base_problems(head, walk)
    if signed is not None:
        yield from _against_checkpoint(head, signed, walk)


def _entries(session: Session, base_seq: int, base_hash: str, signed: SignedAuditHead | None,
             walk: AuditWalk, batch: int, profiles: ChainProfiles) -> Iterator[AuditProblem]:
    expected_seq, expected_prev, after = base_seq + 1, base_hash, base_seq
    while True:
        rows = list(session.execute(select(*_COLUMNS).where(AuditEntry.seq > after)
                                    .order_by(AuditEntry.seq).limit(batch)))
        for row in rows:
            if row.seq != expected_seq:
                missing = (f"seq {expected_seq}" if row.seq == expected_seq + 1
                           else f"seqs {expected_seq}–{row.seq - 1}")
                yield AuditProblem(f"{missing} missing before it (deleted)", row.seq)
            elif row.prev_hash != expected_prev:
                yield AuditProblem(f"its prev_hash is not the hash of entry seq {row.seq - 1}: "
                                   "the chain was cut and linked again", row.seq)
            profile = profiles.of("audit_entry", row.seq)
            if compute_hash(cast(AuditEntry, row), profile) != row.hash:
                yield AuditProblem("content does not match its hash (edited)", row.seq)
            if row.action == AuditAction.audit_purge:
                detail = row.detail if isinstance(row.detail, dict) else {}
                walk.last_purge = (row.seq, detail.get("up_to_seq"))
            if signed is not None and row.seq == signed.seq:
                walk.at_signed = row.hash
            expected_seq, expected_prev = row.seq + 1, row.hash
            walk.last_seq, walk.last_hash = row.seq, row.hash
        walk.entries += len(rows)
        if len(rows) < batch:
            return
        after = rows[-1].seq


def _against_head(head: Any, walk: AuditWalk) -> Iterator[AuditProblem]:
    if head.seq > walk.last_seq:
        yield AuditProblem(f"the log ends at seq {walk.last_seq} but its head is seq {head.seq}:"
                           " the newest entries were deleted (truncated)")
    elif head.seq < walk.last_seq:
        yield AuditProblem(f"entries go on to seq {walk.last_seq} past the head seq {head.seq}:"
                           " added behind the log's back")
    elif head.hash != walk.last_hash:
        yield AuditProblem(f"the head hash is not that of the last entry (seq {walk.last_seq}):"
                           " the log or its head was rewritten", walk.last_seq)


def _base_problems(head: Any, walk: AuditWalk) -> Iterator[AuditProblem]:
    """A base past 0 was put there by a purge, which recorded it (the newest purge entry,
    never itself purged by the purge that wrote it, names the current base)."""
    if head.base_seq == 0:
        return
    if walk.last_purge is None or walk.last_purge[1] != head.base_seq:
        yield AuditProblem(f"the log starts after seq {head.base_seq}, but no audit_purge entry "
                           "moved its start there: its oldest entries were deleted by hand")


def _against_checkpoint(head: Any, signed: SignedAuditHead,
                        walk: AuditWalk) -> Iterator[AuditProblem]:
    name = f"checkpoint #{signed.checkpoint_id}"
    if signed.seq > walk.last_seq:
        yield AuditProblem(f"the log ends at seq {walk.last_seq}, shorter than the head seq "
                           f"{signed.seq} signed by {name} (truncated)")
    elif signed.seq > head.base_seq and walk.at_signed != signed.hash:
        state = "missing" if walk.at_signed is None else "not the one signed"
        yield AuditProblem(f"the entry at seq {signed.seq} is {state} by {name}: the log was "
                           "rewritten", signed.seq)
    if head.base_seq < signed.base_seq:
        yield AuditProblem(f"the log's start went back from seq {signed.base_seq} ({name}) to "
                           f"{head.base_seq}")
    elif head.base_seq > signed.base_seq and (walk.last_purge is None
                                              or walk.last_purge[0] <= signed.seq):
        yield AuditProblem(f"the log's start moved from seq {signed.base_seq} ({name}) to "
                           f"{head.base_seq} with no purge recorded since: entries deleted")
