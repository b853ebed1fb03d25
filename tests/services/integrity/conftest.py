"""The tamper-evidence tests' fixture: the CLI with a checkpoint key and a copy directory."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.core.config import get_settings
from app.services.integrity import keys


@pytest.fixture
def audited(cli_on: CliRunner, monkeypatch, tmp_path: Path) -> Iterator[CliRunner]:
    """The CLI with a checkpoint key outside the database and a directory for the copies."""
    key = tmp_path / "audit-key.pem"
    keys.generate(key)
    monkeypatch.setenv("AUDIT_SIGNING_KEY_FILE", str(key))
    monkeypatch.setenv("AUDIT_CHECKPOINT_DIR", str(tmp_path / "copies"))
    get_settings.cache_clear()
    yield cli_on
    get_settings.cache_clear()
