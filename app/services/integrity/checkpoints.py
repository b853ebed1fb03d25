"""Signed checkpoints of every chain's head (`bihuan audit checkpoint`, the worker daily).

A checkpoint reads each hazard row's chain head (id, code, seq, hash) in id order, keyset
batch by batch, keeps them (models/integrity.AuditCheckpointHead) and signs, with the
Ed25519 key the database does not hold, a payload naming their count, the number of events
they cover, their SHA-256 over the sorted head lines and the previous checkpoint's digest.
Someone who can write to the database can then still delete or rewrite a hazard, but no
longer make it agree with a checkpoint: `bihuan audit verify` names the hazards that differ.

With AUDIT_CHECKPOINT_DIR set, each checkpoint is also written there, outside the database:
`checkpoint-<id>.json` (the signed payload) and `checkpoint-<id>.heads.gz` (the head lines).
"""

import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.core.db import on_rollback
from app.models import AuditCheckpoint, AuditCheckpointHead, Hazard
from app.services.integrity import keys

FORMAT = "bihuan-audit-checkpoint/1"
BATCH = 5000
# Checkpoints whose heads are kept in the database (older ones keep their signed row only).
KEEP_HEADS = 7


@dataclass(frozen=True)
class Head:
    hazard_id: int
    code: str
    seq: int
    hash: str


def head_line(head: Head) -> bytes:
    """One head as the digest reads it (and the file copy holds it)."""
    return f"{head.hazard_id}\t{head.code}\t{head.seq}\t{head.hash}\n".encode()


def parse_head_line(line: str) -> Head:
    hazard_id, code, seq, head_hash = line.rstrip("\n").split("\t")
    return Head(int(hazard_id), code, int(seq), head_hash)


def current_heads(session: Session, batch: int = BATCH) -> Iterator[list[Head]]:
    """Every hazard row's head in id order, in keyset batches."""
    after = 0
    while True:
        rows = session.execute(
            select(Hazard.id, Hazard.code, Hazard.head_seq, Hazard.head_hash)
            .where(Hazard.id > after).order_by(Hazard.id).limit(batch)).all()
        if not rows:
            return
        yield [Head(*row) for row in rows]
        after = rows[-1].id


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def take_checkpoint(session: Session, *, key: Ed25519PrivateKey, now: datetime,
                    copy_dir: Path | None = None, batch: int = BATCH) -> AuditCheckpoint:
    """Sign the head of every chain now; the caller commits (heads and row together)."""
    previous = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())
                               .limit(1)).first()
    public = key.public_key()
    checkpoint = AuditCheckpoint(taken_at=now.astimezone(UTC), hazards=0, events=0,
                                 heads_digest="", payload="", signature="",
                                 key_id=keys.key_id(public),
                                 previous_digest=previous.heads_digest if previous else None)
    session.add(checkpoint)
    session.flush()
    digest = hashlib.sha256()
    heads_file = _open_copy(session, copy_dir, checkpoint.id)
    try:
        for heads in current_heads(session, batch):
            session.execute(insert(AuditCheckpointHead), [
                {"checkpoint_id": checkpoint.id, "hazard_id": h.hazard_id, "code": h.code,
                 "seq": h.seq, "hash": h.hash} for h in heads])
            for head in heads:
                line = head_line(head)
                digest.update(line)
                if heads_file is not None:
                    heads_file.write(line)
            checkpoint.hazards += len(heads)
            checkpoint.events += sum(h.seq for h in heads)
    finally:
        if heads_file is not None:
            heads_file.close()
    checkpoint.heads_digest = digest.hexdigest()
    checkpoint.payload = canonical(payload_of(checkpoint))
    checkpoint.signature = key.sign(checkpoint.payload.encode()).hex()
    if copy_dir is not None:
        checkpoint.copied_to = str(_write_signed_copy(copy_dir, checkpoint))
    _prune_heads(session)
    session.flush()
    return checkpoint


def payload_of(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "checkpoint": checkpoint.id,
        "taken_at": checkpoint.taken_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "hazards": checkpoint.hazards,
        "events": checkpoint.events,
        "heads_sha256": checkpoint.heads_digest,
        "previous_heads_sha256": checkpoint.previous_digest,
        "key_id": checkpoint.key_id,
    }


def copy_paths(copy_dir: Path, checkpoint_id: int) -> tuple[Path, Path]:
    stem = f"checkpoint-{checkpoint_id:08d}"
    return copy_dir / f"{stem}.json", copy_dir / f"{stem}.heads.gz"


def _open_copy(session: Session, copy_dir: Path | None, checkpoint_id: int) -> Any:
    if copy_dir is None:
        return None
    copy_dir.mkdir(parents=True, exist_ok=True)
    signed, heads = copy_paths(copy_dir, checkpoint_id)
    on_rollback(session, lambda: [p.unlink(missing_ok=True) for p in (signed, heads)])
    return gzip.open(heads, "wb")


def _write_signed_copy(copy_dir: Path, checkpoint: AuditCheckpoint) -> Path:
    signed, _ = copy_paths(copy_dir, checkpoint.id)
    document = {"payload": checkpoint.payload, "signature": checkpoint.signature}
    temporary = signed.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    os.replace(temporary, signed)
    return signed


def _prune_heads(session: Session) -> None:
    kept = select(AuditCheckpoint.id).order_by(AuditCheckpoint.id.desc()).limit(KEEP_HEADS)
    session.execute(delete(AuditCheckpointHead).where(
        AuditCheckpointHead.checkpoint_id.not_in(kept)))
