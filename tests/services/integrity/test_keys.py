"""The checkpoint key: created by `bihuan audit keygen`, refused when others may read it."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.services.integrity import keys


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    result = CliRunner().invoke(cli, ["audit", "keygen", str(path)])
    assert result.exit_code == 0, result.output
    assert path.stat().st_mode & 0o777 == 0o600
    public = keys.load_signing_key(path).public_key()
    assert keys.public_pem(public) in result.output
    again = CliRunner().invoke(cli, ["audit", "keygen", str(path)])
    assert again.exit_code == 1
    assert "never overwritten" in again.output


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    keys.generate(path)
    path.chmod(0o644)
    with pytest.raises(keys.KeyProblem, match="readable by others"):
        keys.load_signing_key(path)


def test_checkpoint_without_a_key_refuses(cli_on: CliRunner) -> None:
    result = cli_on.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 1
    assert "AUDIT_SIGNING_KEY_FILE is not set" in result.output
