"""`bihuan media gc`: orphan blobs and photos whose blob is missing, on committed data.

The service is run on both storage backends (the S3 one over HTTP, see tests/unit/test_storage);
the command on local storage, whose file times the tests can set.
"""

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import app.services.media.storage
from app.cli import cli
from app.core.clock import FixedClock
from app.core.config import get_settings
from app.core.db import transaction
from app.models import Hazard, Photo
from app.services.hazards import photos as photo_service
from app.services.hazards import report as report_service
from app.services.media.gc import GcReport, MissingBlob, collect_garbage
from app.services.media.storage import BlobInfo, BlobStorage
from app.services.media.storage.local import LocalStorage
from app.services.tips import report as tip_report
from tests.committed import actor_of, committed_report
from tests.fixtures.clock import START
from tests.fixtures.storage import Backend, digest
from tests.samples import jpeg_bytes, staged_jpeg

GRACE = timedelta(hours=24)


@pytest.fixture
def storage(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> BlobStorage:
    """The backend under test, also where the app stores the photos of reported hazards."""
    monkeypatch.setattr(photo_service, "get_storage", lambda: backend.storage)
    monkeypatch.setattr(app.services.media.storage, "get_storage", lambda: backend.storage)
    return backend.storage


def photo_of(engine: Engine, hazard_id: int) -> Photo:
    with Session(engine) as session:
        return session.scalars(select(Photo).where(Photo.hazard_id == hazard_id)).one()


def hazard_code(engine: Engine, hazard_id: int) -> str:
    with Session(engine) as session:
        return session.get_one(Hazard, hazard_id).code


def orphan(storage: BlobStorage) -> BlobInfo:
    """A blob no photo row refers to, with a derivative."""
    data = jpeg_bytes()
    storage.put(digest(data), io.BytesIO(data))
    storage.put_derived(digest(data), "thumb", b"thumb")
    return next(b for b in storage.iter_originals() if b.sha256 == digest(data))


def gc(engine: Engine, storage: BlobStorage, now: datetime, delete: bool = False) -> GcReport:
    with Session(engine) as session:
        return collect_garbage(session, storage, now=now, grace=GRACE, delete=delete)


def test_report_finds_an_orphan_and_a_photo_whose_blob_is_gone(
    loaded: Engine, storage: BlobStorage,
) -> None:
    clock = FixedClock(START)
    kept = photo_of(loaded, committed_report(loaded, clock))
    lost_hazard = committed_report(loaded, clock)
    lost = photo_of(loaded, lost_hazard)
    stray = orphan(storage)
    storage.delete(lost.sha256)

    report = gc(loaded, storage, now=datetime.now(UTC), delete=False)

    assert [b.sha256 for b in report.orphans] == [stray.sha256]
    assert report.missing == [MissingBlob(lost.id, hazard_code(loaded, lost_hazard), lost.sha256)]
    assert (report.blobs, report.referenced, report.deleted) == (2, 2, [])
    assert storage.exists(stray.sha256)
    assert storage.exists(kept.sha256)


def test_delete_removes_only_orphans_past_the_grace_period(
    loaded: Engine, storage: BlobStorage,
) -> None:
    referenced = photo_of(loaded, committed_report(loaded, FixedClock(START)))
    stray = orphan(storage)
    young = stray.modified_at + GRACE - timedelta(minutes=1)
    old = stray.modified_at + timedelta(days=3650)

    assert gc(loaded, storage, now=young, delete=True).deleted == []
    assert gc(loaded, storage, now=old, delete=False).deleted == []
    assert storage.exists(stray.sha256)

    report = gc(loaded, storage, now=old, delete=True)
    assert report.deleted == [stray.sha256]
    assert not storage.exists(stray.sha256)
    assert storage.get_derived(stray.sha256, "thumb") is None
    # Older still than the orphan, but a photo refers to it.
    assert storage.exists(referenced.sha256)
    assert gc(loaded, storage, now=old, delete=True).orphans == []


class UploadDuringListing:
    """Storage whose listing lets a request run as each blob is listed, as in production."""

    def __init__(self, storage: BlobStorage, during: Callable[[BlobInfo], None]) -> None:
        self.storage, self.during = storage, during

    def __getattr__(self, name: str):
        return getattr(self.storage, name)

    def iter_originals(self) -> Iterator[BlobInfo]:
        for blob in self.storage.iter_originals():
            self.during(blob)
            yield blob


def test_a_photo_committed_while_gc_runs_keeps_its_blob(
    loaded: Engine, storage: BlobStorage, tmp_path: Path,
) -> None:
    data = jpeg_bytes()
    storage.put(digest(data), io.BytesIO(data))

    def same_photo_uploaded_again(blob: BlobInfo) -> None:
        if blob.sha256 != digest(data):
            return
        with Session(loaded) as session, transaction(session) as tx:
            report_service.report_hazard(
                tx, actor=actor_of(loaded, "ent_a"), clock=FixedClock(START),
                uploads=[staged_jpeg(tmp_path, data)],
                form={"title": "t", "description": "d", "location": "l", "level": "general"},
            )

    racing = UploadDuringListing(storage, same_photo_uploaded_again)
    report = gc(loaded, racing, now=datetime.now(UTC) + timedelta(days=30), delete=True)
    assert [b.sha256 for b in report.orphans] == [digest(data)]  # as first read
    assert report.deleted == []
    assert storage.exists(digest(data))
    assert gc(loaded, storage, now=datetime.now(UTC)).orphans == []


@pytest.fixture
def local_media(cli_on: CliRunner, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> LocalStorage:
    local = LocalStorage(tmp_path / "media")
    monkeypatch.setattr(photo_service, "get_storage", lambda: local)
    monkeypatch.setattr(app.services.media.storage, "get_storage", lambda: local)
    return local


def age(storage: LocalStorage, sha256: str, hours: float) -> None:
    path = storage.root / "originals" / sha256[:2] / sha256[2:4] / sha256
    stamp = (datetime.now(UTC) - timedelta(hours=hours)).timestamp()
    os.utime(path, (stamp, stamp))


def line_of(output: str, sha256: str) -> str:
    return next(line for line in output.splitlines() if sha256 in line)


def test_the_command_reports_and_fails_on_lost_evidence(
    loaded: Engine, cli_on: CliRunner, local_media: LocalStorage,
) -> None:
    clock = FixedClock(START)
    committed_report(loaded, clock)
    lost = photo_of(loaded, committed_report(loaded, clock))
    local_media.delete(lost.sha256)
    stale, fresh = orphan(local_media), orphan(local_media)
    age(local_media, stale.sha256, hours=48)

    result = cli_on.invoke(cli, ["media", "gc"])

    assert result.exit_code == 1, result.output
    assert f"MISSING blob {lost.sha256} of photo {lost.id}" in result.output
    assert line_of(result.output, stale.sha256).endswith("would be deleted (run with --delete)")
    assert line_of(result.output, fresh.sha256).endswith("kept (younger than 24 h)")
    assert "evidence lost" in result.output
    assert local_media.exists(stale.sha256)


def test_the_command_deletes_old_orphans_only_when_asked(
    loaded: Engine, cli_on: CliRunner, local_media: LocalStorage,
) -> None:
    referenced = photo_of(loaded, committed_report(loaded, FixedClock(START)))
    age(local_media, referenced.sha256, hours=24 * 400)
    stale, fresh = orphan(local_media), orphan(local_media)
    age(local_media, stale.sha256, hours=48)

    result = cli_on.invoke(cli, ["media", "gc", "--delete"])
    assert result.exit_code == 0, result.output
    assert "3 blobs stored, 1 referenced by photos; 2 unreferenced (1 older than 24 h, " \
           "1 deleted)" in result.output
    assert not local_media.exists(stale.sha256)
    assert local_media.exists(fresh.sha256)
    assert local_media.exists(referenced.sha256)

    assert cli_on.invoke(cli, ["media", "gc", "--dry-run", "--grace-hours", "0"]).exit_code == 0
    assert local_media.exists(fresh.sha256)
    result = cli_on.invoke(cli, ["media", "gc", "--delete", "--grace-hours", "0"])
    assert result.exit_code == 0, result.output
    assert not local_media.exists(fresh.sha256)
    assert local_media.exists(referenced.sha256)
    assert line_of(result.output, fresh.sha256).endswith(": deleted")
    assert "2 blobs stored, 1 referenced by photos; 1 unreferenced (1 older than 0 h, " \
           "1 deleted)" in result.output


KILLED_UPLOAD = """
import asyncio, sys
from pathlib import Path
from app.http.uploads import Limits, read_streaming_form

async def body():
    yield (b"--b\\r\\nContent-Disposition: form-data; name=\\"photos\\"; filename=\\"a.jpg\\"\\r\\n"
           b"Content-Type: image/jpeg\\r\\n\\r\\n" + b"\\xff\\xd8" * 40000)
    print("streaming", flush=True)
    await asyncio.sleep(600)  # the rest never comes: the process is killed meanwhile

limits = Limits(max_file_bytes=1 << 24, max_request_bytes=1 << 25, max_files=9)
asyncio.run(read_streaming_form("multipart/form-data; boundary=b", body(), limits,
                                Path(sys.argv[1])))
"""


def killed_mid_upload(staging: Path) -> Path:
    """The staging file a process killed with SIGKILL while it streamed an upload leaves."""
    upload = subprocess.Popen([sys.executable, "-c", KILLED_UPLOAD, str(staging)],
                              stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[3])
    try:
        assert upload.stdout is not None
        assert upload.stdout.readline() == b"streaming\n"
        upload.send_signal(signal.SIGKILL)
    finally:
        upload.wait(timeout=30)
    (left,) = staging.iterdir()
    return left


def test_the_command_removes_staging_files_a_killed_upload_left_after_an_hour(
    loaded: Engine, cli_on: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "media"))
    get_settings.cache_clear()
    staging = tmp_path / "media" / "staging"
    left = killed_mid_upload(staging)
    assert left.name.startswith("upload-") and left.stat().st_size == 80_000
    stamp = (datetime.now(UTC) - timedelta(minutes=61)).timestamp()
    os.utime(left, (stamp, stamp))
    recent = staging / "upload-in-flight"
    recent.write_bytes(b"\xff\xd8")  # an upload still streaming (written to just now)
    os.utime(recent, (stamp + 120, stamp + 120))  # 59 minutes ago

    result = cli_on.invoke(cli, ["media", "gc"])
    assert result.exit_code == 0, result.output
    assert line_of(result.output, left.name).endswith("would be removed (run with --delete)")
    assert left.exists()

    result = cli_on.invoke(cli, ["media", "gc", "--delete"])
    assert result.exit_code == 0, result.output
    assert f"STAGED {left.name} 80000 bytes, last written " in result.output
    assert line_of(result.output, left.name).endswith(": removed")
    assert "1 staging file(s) older than 1 h left by interrupted uploads, 1 removed" \
        in result.output
    assert sorted(staging.iterdir()) == [recent]


def test_a_public_tips_photos_are_referenced(
    loaded: Engine, storage: BlobStorage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """A tip's photos (models/tips.py: TipPhoto) live in the same blobs: never orphans."""
    monkeypatch.setattr(tip_report, "get_storage", lambda: storage)
    with Session(loaded) as session, transaction(session) as tx:
        tip = tip_report.submit_tip(
            tx, form={"description": "消防通道堵塞", "location": "园区北门"},
            uploads=[staged_jpeg(tmp_path)], address="198.51.100.7", clock=FixedClock(START))
        sha = tip.photos[0].sha256
    blob = next(b for b in storage.iter_originals() if b.sha256 == sha)

    report = gc(loaded, storage, now=blob.modified_at + timedelta(days=3650), delete=True)

    assert sha not in {b.sha256 for b in report.orphans}
    assert report.deleted == []
    assert storage.exists(sha)
