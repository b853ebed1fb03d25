"""`bihuan backup` → `bihuan restore`: the restored copy passes `audit verify` and serves the
same photos (docs/deploy.md, "Backups"); on SQLite and PostgreSQL, photos on disk and in S3."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import app.http.downloads
import app.services.media.storage
from app.cli import cli
from app.core import db as app_db
from app.core.clock import FixedClock
from app.core.config import get_settings
from app.core.db import transaction
from app.core.security import issue_token
from app.main import create_app
from app.models import Photo, User
from app.services.audit.log import AuditAction, Who, record
from app.services.hazards import photos as photo_service
from app.services.integrity import keys
from app.services.media.storage import BlobStorage
from app.services.media.storage.local import LocalStorage
from tests.committed import committed_report
from tests.fixtures.clock import START
from tests.fixtures.databases import create_database, drop_database
from tests.fixtures.storage import Backend


def use_storage(monkeypatch: pytest.MonkeyPatch, storage: BlobStorage) -> None:
    """Where the app and the commands keep photos from now on."""
    for module in (photo_service, app.services.media.storage, app.http.downloads):
        monkeypatch.setattr(module, "get_storage", lambda: storage)


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    app_db.get_engine().dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    for cached in (get_settings, app_db.get_engine, app_db.get_sessionmaker):
        cached.cache_clear()


@pytest.fixture
def audited(cli_on: CliRunner, monkeypatch: pytest.MonkeyPatch,
            tmp_path: Path) -> Iterator[CliRunner]:
    """The CLI with a checkpoint key outside the database (and outside the backup)."""
    key = tmp_path / "audit-key.pem"
    keys.generate(key)
    monkeypatch.setenv("AUDIT_SIGNING_KEY_FILE", str(key))
    get_settings.cache_clear()
    yield cli_on
    get_settings.cache_clear()


@pytest.fixture
def target_url() -> Iterator[str]:
    url = create_database()
    yield url
    app_db.get_engine().dispose()
    drop_database(url)


def a_hazard_with_a_photo_and_log(engine: Engine) -> tuple[int, str]:
    hazard_id = committed_report(engine, FixedClock(START))
    with Session(engine) as session, transaction(session) as tx:
        record(tx, who=Who.system(), action=AuditAction.setting_change, at=START,
               object="spot_check_policy:1")
        photo = tx.scalars(select(Photo).where(Photo.hazard_id == hazard_id)).one()
        return photo.id, photo.sha256


def test_a_restored_copy_verifies_and_serves_the_same_photos(
        loaded: Engine, audited: CliRunner, backend: Backend, target_url: str,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_storage(monkeypatch, backend.storage)
    photo_id, sha256 = a_hazard_with_a_photo_and_log(loaded)
    with backend.storage.open(sha256) as blob:
        original = blob.read()
    assert audited.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    result = audited.invoke(cli, ["backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert "1 photos" in result.output
    assert (tmp_path / "backup" / "media" / sha256[:2] / sha256).read_bytes() == original

    restored_storage = LocalStorage(tmp_path / "restored-media")
    use_storage(monkeypatch, restored_storage)
    use_database(monkeypatch, target_url)
    result = audited.invoke(cli, ["restore", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    verified = audited.invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "checkpoint #1" in verified.output
    assert "the audit log's 1 entries are intact" in verified.output

    with Session(app_db.get_engine()) as session:
        user = session.scalars(select(User).where(User.username == "ent_a")).one()
        token = issue_token(user.id, datetime.now(UTC), user.token_version)
    with TestClient(create_app()) as client:
        response = client.get(f"/api/v1/photos/{photo_id}",
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.content == original
        thumb = client.get(f"/api/v1/photos/{photo_id}", params={"variant": "thumb"},
                           headers={"Authorization": f"Bearer {token}"})
        assert thumb.status_code == 200  # derivatives are made again from the original


def test_restore_refuses_a_damaged_backup_and_a_database_in_use(
        loaded: Engine, cli_on: CliRunner, tmp_path: Path, target_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    storage = LocalStorage(tmp_path / "media")
    use_storage(monkeypatch, storage)
    _, sha256 = a_hazard_with_a_photo_and_log(loaded)
    assert cli_on.invoke(cli, ["backup", str(tmp_path / "backup")]).exit_code == 0
    again = cli_on.invoke(cli, ["backup", str(tmp_path / "backup")])
    assert again.exit_code == 1 and "new directory" in again.output
    # Restoring over the live database is refused (SQLite: the file; PostgreSQL: its tables).
    in_use = cli_on.invoke(cli, ["restore", str(tmp_path / "backup")])
    assert in_use.exit_code == 1 and "refused" in in_use.output
    blob = tmp_path / "backup" / "media" / sha256[:2] / sha256
    blob.write_bytes(blob.read_bytes()[:-1] + b"\x00")
    use_database(monkeypatch, target_url)
    damaged = cli_on.invoke(cli, ["restore", str(tmp_path / "backup")])
    assert damaged.exit_code == 1 and "damaged" in damaged.output
    (tmp_path / "backup" / "manifest.json").unlink()
    unfinished = cli_on.invoke(cli, ["restore", str(tmp_path / "backup")])
    assert unfinished.exit_code == 1 and "not a finished backup" in unfinished.output
