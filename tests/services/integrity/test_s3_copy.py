"""With photos in S3, each checkpoint is copied to the bucket too (docs/integrity.md), and a copy
downloaded from there is what `bihuan audit verify --checkpoint-file` checks the database
against, even once every checkpoint is gone from it. S3 is a moto server (or the one CI names)."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.clock import FixedClock
from app.core.config import Settings, get_settings
from app.models import AuditCheckpoint, AuditCheckpointHead, Hazard, Photo
from app.services.integrity import checkpoints
from app.services.media.storage import get_storage
from app.services.media.storage.s3 import S3Storage
from tests.committed import committed_report
from tests.fixtures.clock import START
from tests.fixtures.storage import s3_client
from tests.services.integrity import tampering

NAMES = ["audit/checkpoint-00000001.heads.gz", "audit/checkpoint-00000001.json"]


@pytest.fixture
def bucket(audited: CliRunner, s3_settings: Settings, monkeypatch) -> Iterator[Settings]:
    """Photos in the session's test bucket under a prefix of this test's own, no copy
    directory: the bucket is the only copy outside the database."""
    prefix = f"t-{uuid.uuid4().hex[:12]}/"
    environ = {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
               "S3_BUCKET": s3_settings.s3_bucket, "S3_PREFIX": prefix,
               "S3_REGION": s3_settings.s3_region, "S3_ACCESS_KEY_ID": "testing",
               "S3_SECRET_ACCESS_KEY": "testing"}
    for name, value in environ.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("AUDIT_CHECKPOINT_DIR")
    get_settings.cache_clear()
    get_storage.cache_clear()
    settings = s3_settings.model_copy(update={"s3_prefix": prefix})
    S3Storage.from_settings(settings, create_bucket=True).probe()
    yield settings
    get_settings.cache_clear()
    get_storage.cache_clear()


def keys_in(settings: Settings) -> list[str]:
    pages = s3_client(settings).get_paginator("list_objects_v2").paginate(
        Bucket=settings.s3_bucket, Prefix=settings.s3_prefix + "audit/")
    return sorted(item["Key"].removeprefix(settings.s3_prefix)
                  for page in pages for item in page.get("Contents", []))


def download(settings: Settings, into: Path) -> Path:
    """What the county does: fetch both files of the copy (aws s3 cp, here boto3)."""
    into.mkdir()
    for name in NAMES:
        s3_client(settings).download_file(settings.s3_bucket, settings.s3_prefix + name,
                                          str(into / name.removeprefix("audit/")))
    return into / "checkpoint-00000001.json"


def verify(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["audit", "verify", *args])
    return result.exit_code, result.output


def test_the_checkpoint_is_copied_to_the_bucket_and_the_copy_names_a_deleted_hazard(
        loaded: Engine, audited: CliRunner, bucket: Settings, tmp_path: Path) -> None:
    clock = FixedClock(START)
    hazard_id, other = committed_report(loaded, clock), committed_report(loaded, clock)
    result = audited.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    url = f"s3://{bucket.s3_bucket}/{bucket.s3_prefix}audit/checkpoint-00000001.json"
    assert f"copy written to {url}" in result.output.splitlines()
    assert keys_in(bucket) == NAMES
    with Session(loaded) as session:
        # The photos' gc lists originals only: it never takes the audit copies for orphans.
        photos = set(session.scalars(select(Photo.sha256)))
        assert {info.sha256 for info in get_storage().iter_originals()} == photos
        assert session.scalars(select(AuditCheckpoint)).one().copied_to == url
        code = session.get_one(Hazard, hazard_id).code

    copy = download(bucket, tmp_path / "county")
    assert verify(audited, "--checkpoint-file", str(copy))[0] == 0
    # An intruder deletes a hazard with everything referring to it, and every checkpoint.
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.delete_hazard(conn, hazard_id)
        conn.execute(delete(AuditCheckpointHead))
        conn.execute(delete(AuditCheckpoint))
    status, output = verify(audited, "--checkpoint-file", str(copy))
    assert status == 1
    named = [line for line in output.splitlines()
             if line.startswith(f"BROKEN hazard {code} (id {hazard_id})")]
    assert len(named) == 1 and "missing: checkpoint #1" in named[0]
    assert f"(id {other})" not in output


def test_a_checkpoint_rolled_back_leaves_no_copy_in_the_bucket(
        loaded: Engine, audited: CliRunner, bucket: Settings, monkeypatch) -> None:
    committed_report(loaded, FixedClock(START))

    def fail(session: Session) -> None:
        raise RuntimeError("the database went away after the copies were made")

    monkeypatch.setattr(checkpoints, "_prune_heads", fail)
    result = audited.invoke(cli, ["audit", "checkpoint"])
    assert isinstance(result.exception, RuntimeError)
    assert keys_in(bucket) == []
    with Session(loaded) as session:
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0


def test_audit_checkpoint_s3_false_keeps_the_copy_out_of_the_bucket(
        loaded: Engine, audited: CliRunner, bucket: Settings, monkeypatch) -> None:
    monkeypatch.setenv("AUDIT_CHECKPOINT_S3", "false")
    get_settings.cache_clear()
    result = audited.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert "copy written" not in result.output
    assert keys_in(bucket) == []


def test_audit_checkpoint_s3_true_without_a_bucket_is_refused(
        loaded: Engine, audited: CliRunner, monkeypatch) -> None:
    monkeypatch.setenv("AUDIT_CHECKPOINT_S3", "true")
    monkeypatch.setenv("STORAGE_BACKEND", "local")
    get_settings.cache_clear()
    result = audited.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 1
    assert "AUDIT_CHECKPOINT_S3=true but STORAGE_BACKEND is not s3" in result.output
    with Session(loaded) as session:
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0


def test_a_bucket_that_does_not_answer_fails_the_checkpoint_and_leaves_no_copy(
        loaded: Engine, audited: CliRunner, bucket: Settings, monkeypatch,
        tmp_path: Path) -> None:
    committed_report(loaded, FixedClock(START))
    monkeypatch.setenv("AUDIT_CHECKPOINT_DIR", str(tmp_path / "copies"))
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:1")  # nothing listens there
    get_settings.cache_clear()
    get_storage.cache_clear()
    result = audited.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code != 0 and result.exception is not None
    assert "Could not connect" in str(result.exception)  # the upload's error, not the undo's
    assert list((tmp_path / "copies").iterdir()) == []
    with Session(loaded) as session:
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0
