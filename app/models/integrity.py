"""Signed checkpoints of the timeline chains (app/services/integrity, `bihuan audit checkpoint`).

A checkpoint signs, with a key the database does not hold, the head (last seq and hash) of
every hazard's chain at one moment. Its heads are kept here, one row each, so that
`bihuan audit verify` can name a hazard whose chain lost events or was rewritten since; the
signed payload holds their digest, so an edited head row is seen as well. Copies of each
checkpoint go outside the database: to AUDIT_CHECKPOINT_DIR when set, to the S3 bucket when
photos are kept there, and to subscribed webhooks (docs/integrity.md).
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    hazards: Mapped[int]
    events: Mapped[int] = mapped_column(BigInteger)  # the sum of the heads' seqs
    # SHA-256 over the sorted heads' lines (services/integrity/checkpoints.head_line).
    heads_digest: Mapped[str] = mapped_column(String(64))
    # The previous checkpoint's heads digest: checkpoints form a chain of their own.
    previous_digest: Mapped[str | None] = mapped_column(String(64))
    # The signed bytes (canonical JSON of the fields above) and their Ed25519 signature (hex).
    payload: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    # SHA-256 of the signing public key (raw bytes), to tell keys apart after a rotation.
    key_id: Mapped[str] = mapped_column(String(64))
    # The security audit log's head and purge base (models/audit.AuditChain) when signed;
    # None in checkpoints taken before the log was included (migration 0030).
    audit_seq: Mapped[int | None] = mapped_column(BigInteger)
    audit_hash: Mapped[str | None] = mapped_column(String(64))
    audit_base_seq: Mapped[int | None] = mapped_column(BigInteger)
    audit_base_hash: Mapped[str | None] = mapped_column(String(64))
    # Where copies outside the database were written, one a line (a file path, an s3:// URL).
    copied_to: Mapped[str | None] = mapped_column(Text)


class AuditCheckpointHead(Base):
    __tablename__ = "audit_checkpoint_head"

    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("audit_checkpoint.id", ondelete="CASCADE"), primary_key=True)
    # No foreign key to hazard: a checkpoint must outlive a deleted hazard to name it.
    hazard_id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
