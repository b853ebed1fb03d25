"""Media garbage collection: stored blobs no photo refers to, photos whose blob is gone, and
staging files left behind.

Blobs are written before their row is committed (and removed again on rollback), so a crash in
between leaves an unreferenced blob. Those are deleted once older than a grace period, which
keeps uploads still in flight. A photo row whose blob is missing is lost evidence: it is only
reported, loudly. An upload's staging files are removed when its request ends, whatever
happened, unless the process itself was killed (kill -9, out of memory): a staging file not
written to for an hour belongs to no request any more, and is removed too.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CheckItemPhoto, Hazard, Photo, TipPhoto
from app.services.hazards.photos import lock_blob
from app.services.media.storage import BlobInfo, BlobStorage

STREAM_ROWS = 10_000
IN_CHUNK = 500
STAGING_MAX_AGE = timedelta(hours=1)  # far beyond any request's life


@dataclass(frozen=True)
class StagedLeftover:
    """A file in the staging directory older than STAGING_MAX_AGE."""

    name: str
    size: int
    modified_at: datetime


@dataclass(frozen=True)
class MissingBlob:
    photo_id: int
    hazard_code: str
    sha256: str


@dataclass
class GcReport:
    now: datetime
    grace: timedelta
    blobs: int = 0  # originals in storage
    referenced: int = 0  # distinct sha256 in the photo table
    orphans: list[BlobInfo] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    missing: list[MissingBlob] = field(default_factory=list)
    staged: list[StagedLeftover] = field(default_factory=list)  # older than STAGING_MAX_AGE
    staged_removed: list[str] = field(default_factory=list)

    def is_old(self, blob: BlobInfo) -> bool:
        return blob.modified_at < self.now - self.grace

    @property
    def old_orphans(self) -> list[BlobInfo]:
        return [b for b in self.orphans if self.is_old(b)]


def collect_garbage(
    session: Session, storage: BlobStorage, *, now: datetime, grace: timedelta,
    delete: bool = False, staging: Path | None = None,
) -> GcReport:
    """Compare storage with the photo table; with `delete`, remove orphans older than `grace`
    and the files in `staging` older than STAGING_MAX_AGE.

    A blob any photo row refers to is never removed, however old. The session is only read,
    and its transaction is ended between phases (see `_end_read`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    report = GcReport(now=now, grace=grace)
    if staging is not None:
        _sweep_staging(report, staging, delete)
    unseen = _referenced(session)
    report.referenced = len(unseen)
    _end_read(session)
    for blob in storage.iter_originals():
        report.blobs += 1
        if blob.sha256 in unseen:
            unseen.discard(blob.sha256)
            continue
        report.orphans.append(blob)
        if delete and report.is_old(blob) and _delete_unreferenced(session, storage, blob):
            report.deleted.append(blob.sha256)
    # What is left was referenced but not listed; ask once more before calling it lost.
    gone = sorted(sha for sha in unseen if not storage.exists(sha))
    report.missing = list(_rows_of(session, gone))
    _end_read(session)
    return report


def _sweep_staging(report: GcReport, staging: Path, delete: bool) -> None:
    """Find (and with `delete` remove) staging files not written to for STAGING_MAX_AGE."""
    if not staging.is_dir():
        return
    cutoff = report.now - STAGING_MAX_AGE
    for path in sorted(staging.iterdir()):
        try:
            stat = path.lstat()
        except FileNotFoundError:
            continue  # its request just ended
        if not path.is_file() or path.is_symlink():
            continue
        modified = datetime.fromtimestamp(stat.st_mtime, UTC)
        if modified >= cutoff:
            continue
        report.staged.append(StagedLeftover(path.name, stat.st_size, modified))
        if delete:
            path.unlink(missing_ok=True)
            report.staged_removed.append(path.name)


def _referenced(session: Session) -> set[str]:
    """Every distinct sha256 in the photo table, streamed from the database.

    Simple approach: the set is held in memory (roughly 150 bytes a photo, ~150 MB per million
    distinct photos). Should that ever matter, merge-join the two sorted streams instead: S3
    lists keys in order and ix_photo_sha256 gives `ORDER BY sha256` cheaply.
    """
    rows = session.scalars(
        select(Photo.sha256).distinct().execution_options(yield_per=STREAM_ROWS)
    )
    # A public tip's photos (models/tips.py) are blobs too, before and after a conversion.
    tips = session.scalars(
        select(TipPhoto.sha256).distinct().execution_options(yield_per=STREAM_ROWS)
    )
    # A check item's 正常 photos (models/checks.py) too.
    items = session.scalars(
        select(CheckItemPhoto.sha256).distinct().execution_options(yield_per=STREAM_ROWS)
    )
    return set(rows) | set(tips) | set(items)


def _delete_unreferenced(session: Session, storage: BlobStorage, blob: BlobInfo) -> bool:
    """Delete the blob unless a row refers to it now, holding the blob's lock meanwhile.

    The lock is the one uploads take before reusing a stored blob (photos.lock_blob), so
    an upload of the same bytes in flight either commits first (and the re-check sees its
    row) or waits until the blob is gone (and stores it again).
    """
    try:
        lock_blob(session, blob.sha256)
        if session.scalar(select(Photo.id).where(Photo.sha256 == blob.sha256).limit(1)):
            return False
        if session.scalar(select(TipPhoto.id).where(TipPhoto.sha256 == blob.sha256).limit(1)):
            return False
        if session.scalar(select(CheckItemPhoto.id)
                          .where(CheckItemPhoto.sha256 == blob.sha256).limit(1)):
            return False
        storage.delete(blob.sha256)
        return True
    finally:
        _end_read(session)


def _rows_of(session: Session, digests: list[str]) -> Iterator[MissingBlob]:
    for start in range(0, len(digests), IN_CHUNK):
        chunk = digests[start:start + IN_CHUNK]
        rows = session.execute(
            select(Photo.id, Hazard.code, Photo.sha256)
            .join(Hazard, Hazard.id == Photo.hazard_id)
            .where(Photo.sha256.in_(chunk))
            .order_by(Photo.id)
        )
        for photo_id, code, sha256 in rows:
            yield MissingBlob(photo_id, code, sha256)


def _end_read(session: Session) -> None:
    """End the read transaction: on SQLite every transaction is BEGIN IMMEDIATE and would
    block writers while storage is listed; elsewhere a fresh one sees rows committed since."""
    session.rollback()
