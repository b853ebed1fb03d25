"""Signed checkpoints of every chain's head (`bihuan audit checkpoint`, the worker daily).

A checkpoint reads each hazard row's chain head (id, code, seq, hash) in id order, keyset
batch by batch, keeps them (models/integrity.AuditCheckpointHead) and signs, with the
Ed25519 key the database does not hold, a payload naming their count, the number of events
they cover, their SHA-256 over the sorted head lines, the previous checkpoint's digest, and
the security audit log's head and purge base (seq and hash of each: docs/audit.md).
Someone who can write to the database can then still delete or rewrite a hazard, but no
longer make it agree with a checkpoint: `bihuan audit verify` names the hazards that differ.

With AUDIT_CHECKPOINT_DIR set, each checkpoint is also written there, outside the database:
`checkpoint-<id>.json` (the signed payload) and `checkpoint-<id>.heads.gz` (the head lines).
With photos in S3 (and AUDIT_CHECKPOINT_S3 not false) the same two files go to the bucket,
as `<S3_PREFIX>audit/checkpoint-<id>.json` and `.heads.gz`. Copies are made before the
checkpoint commits, and removed again if it rolls back.
"""

import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.crypto import digest_name, new_digest
from app.core.db import on_rollback
from app.models import AuditChain, AuditCheckpoint, AuditCheckpointHead, Hazard
from app.services.crypto.state import ChainProfiles, chain_profiles
from app.services.integrity import keys
from app.services.outbox.webhooks import enqueue_checkpoint

if TYPE_CHECKING:
    from app.services.media.storage.s3 import S3Storage

FORMAT = "bihuan-audit-checkpoint/1"
BATCH = 5000
# Checkpoints whose heads are kept in the database (older ones keep their signed row only).
KEEP_HEADS = 7
# Where the copies go in the bucket, under S3_PREFIX.
S3_FOLDER = "audit/"


class CopyProblem(Exception):
    """A copy outside the database is asked for where there is nowhere to make it."""


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


def take_checkpoint(session: Session, *, key: "Ed25519PrivateKey | keys.Signer", now: datetime,
                    copy_dir: Path | None = None, bucket: "S3Storage | None" = None,
                    batch: int = BATCH) -> AuditCheckpoint:
    """Sign the head of every chain now; the caller commits (heads and row together).
    Copies go to `copy_dir` and `bucket` when given (see checkpoint_bucket). The heads'
    digest is the chains' current profile's (SHA-256 or SM3), the signature the key's
    (Ed25519, or HMAC-SM3 under gm: keys.load_signer)."""
    signer = keys.ed25519_signer(key) if isinstance(key, Ed25519PrivateKey) else key
    profiles = chain_profiles(session)
    previous = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())
                               .limit(1)).first()
    checkpoint = AuditCheckpoint(taken_at=now.astimezone(UTC), hazards=0, events=0,
                                 heads_digest="", payload="", signature="",
                                 key_id=signer.key_id,
                                 previous_digest=previous.heads_digest if previous else None)
    session.add(checkpoint)
    sign_audit_head(session, checkpoint)
    session.flush()
    digest = new_digest(profiles.current)
    copies = _Copies(session, checkpoint.id, copy_dir, bucket)
    try:
        for heads in current_heads(session, batch):
            session.execute(insert(AuditCheckpointHead), [
                {"checkpoint_id": checkpoint.id, "hazard_id": h.hazard_id, "code": h.code,
                 "seq": h.seq, "hash": h.hash} for h in heads])
            for head in heads:
                line = head_line(head)
                digest.update(line)
                copies.write_head(line)
            checkpoint.hazards += len(heads)
            checkpoint.events += sum(h.seq for h in heads)
        copies.heads_done()
        checkpoint.heads_digest = digest.hexdigest()
        checkpoint.payload = canonical(payload_of(checkpoint, profiles, signer.scheme))
        checkpoint.signature = signer.sign(checkpoint.payload)
        copied = copies.signed(checkpoint)
    finally:
        copies.close()
    checkpoint.copied_to = "\n".join(copied) or None
    # Told to subscribed webhooks once committed (topic audit_checkpoint): one more copy.
    enqueue_checkpoint(session, checkpoint=checkpoint)
    _prune_heads(session)
    session.flush()
    return checkpoint


def sign_audit_head(session: Session, checkpoint: AuditCheckpoint) -> None:
    """Take the audit log's head and purge base into the checkpoint. No lock: a writer
    changes the head row in its own transaction, so a read sees a committed head whole (and
    holding the lock for the checkpoint's length would stall every login)."""
    head = session.execute(select(AuditChain.seq, AuditChain.hash, AuditChain.base_seq,
                                  AuditChain.base_hash).where(AuditChain.id == 1)).one()
    checkpoint.audit_seq, checkpoint.audit_hash = head.seq, head.hash
    checkpoint.audit_base_seq, checkpoint.audit_base_hash = head.base_seq, head.base_hash


def checkpoint_bucket(settings: Settings) -> "S3Storage | None":
    """The bucket checkpoints are copied to: the photos' (STORAGE_BACKEND=s3), unless
    AUDIT_CHECKPOINT_S3=false; AUDIT_CHECKPOINT_S3=true without it is a CopyProblem."""
    if settings.audit_checkpoint_s3 is False:
        return None
    if settings.storage_backend != "s3":
        if settings.audit_checkpoint_s3:
            raise CopyProblem("AUDIT_CHECKPOINT_S3=true but STORAGE_BACKEND is not s3: there "
                              "is no bucket to copy the checkpoint to")
        return None
    from app.services.media.storage import get_storage
    from app.services.media.storage.s3 import S3Storage

    storage = get_storage()
    assert isinstance(storage, S3Storage)
    return storage


def payload_of(checkpoint: AuditCheckpoint, profiles: ChainProfiles | None = None,
               scheme: str = keys.ED25519) -> dict[str, Any]:
    """The signed fields. A database that only ever chained with SHA-256 signs them as
    before; one that chains (or chained) with SM3 names its digest in the heads' field names
    (heads_sm3), its signature scheme, and the chains' profiles and epochs, so that an edited
    crypto_state row is seen by verify."""
    profiles = profiles or ChainProfiles("default")
    name = digest_name(profiles.current)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "checkpoint": checkpoint.id,
        "taken_at": checkpoint.taken_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "hazards": checkpoint.hazards,
        "events": checkpoint.events,
        f"heads_{name}": checkpoint.heads_digest,
        f"previous_heads_{name}": checkpoint.previous_digest,
        "key_id": checkpoint.key_id,
        "audit_log": {"seq": checkpoint.audit_seq, "hash": checkpoint.audit_hash,
                      "base_seq": checkpoint.audit_base_seq,
                      "base_hash": checkpoint.audit_base_hash},
    }
    if profiles.current != "default" or profiles.epochs or scheme != keys.ED25519:
        payload["signature_scheme"] = scheme
        payload["chains"] = profiles.signed()
    return payload


def copy_names(checkpoint_id: int) -> tuple[str, str]:
    """The copies' file names: the signed payload and its heads."""
    stem = f"checkpoint-{checkpoint_id:08d}"
    return f"{stem}.json", f"{stem}.heads.gz"


def copy_paths(copy_dir: Path, checkpoint_id: int) -> tuple[Path, Path]:
    signed, heads = copy_names(checkpoint_id)
    return copy_dir / signed, copy_dir / heads


def signed_document(checkpoint: AuditCheckpoint) -> bytes:
    """What checkpoint-<id>.json holds (what `bihuan audit verify --checkpoint-file` reads)."""
    document = {"payload": checkpoint.payload, "signature": checkpoint.signature}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode()


class _Copies:
    """The copies of one checkpoint outside the database, each undone if it rolls back.

    The heads are gzipped once, into the directory's file or (for the bucket alone) a
    temporary file, and uploaded from there; the signed JSON is written last, so a copy
    whose JSON is there is complete."""

    def __init__(self, session: Session, checkpoint_id: int, copy_dir: Path | None,
                 bucket: "S3Storage | None") -> None:
        self.checkpoint_id, self.copy_dir, self.bucket = checkpoint_id, copy_dir, bucket
        self._raw: IO[bytes] | None = None
        self._gzip: gzip.GzipFile | None = None
        if copy_dir is None and bucket is None:
            return
        signed_name, heads_name = copy_names(checkpoint_id)
        if copy_dir is not None:
            copy_dir.mkdir(parents=True, exist_ok=True)
            signed, heads = copy_paths(copy_dir, checkpoint_id)
            on_rollback(session, lambda: [p.unlink(missing_ok=True) for p in (signed, heads)])
            self._raw = heads.open("w+b")
        else:
            self._raw = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        if bucket is not None:
            on_rollback(session, lambda: [bucket.forget_document(S3_FOLDER + name)
                                          for name in (signed_name, heads_name)])
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb")

    def write_head(self, line: bytes) -> None:
        if self._gzip is not None:
            self._gzip.write(line)

    def heads_done(self) -> None:
        if self._gzip is not None:
            self._gzip.close()

    def signed(self, checkpoint: AuditCheckpoint) -> list[str]:
        """Write the signed payload (and upload the heads); where the copies went."""
        where: list[str] = []
        signed_name, heads_name = copy_names(checkpoint.id)
        document = signed_document(checkpoint)
        if self.copy_dir is not None:
            signed, _ = copy_paths(self.copy_dir, checkpoint.id)
            temporary = signed.with_suffix(".tmp")
            temporary.write_bytes(document)
            os.replace(temporary, signed)
            where.append(str(signed))
        if self.bucket is not None:
            assert self._raw is not None
            self._raw.flush()
            self._raw.seek(0)
            self.bucket.put_document(S3_FOLDER + heads_name, self._raw, "application/gzip")
            where.append(self.bucket.put_document(
                S3_FOLDER + signed_name, io.BytesIO(document), "application/json"))
        return where

    def close(self) -> None:
        if self._gzip is not None:
            self._gzip.close()
        if self._raw is not None:
            self._raw.close()


def _prune_heads(session: Session) -> None:
    kept = select(AuditCheckpoint.id).order_by(AuditCheckpoint.id.desc()).limit(KEEP_HEADS)
    session.execute(delete(AuditCheckpointHead).where(
        AuditCheckpointHead.checkpoint_id.not_in(kept)))
