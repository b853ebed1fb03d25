"""CRYPTO_PROFILE=gm end to end on committed databases (docs/integrity.md, "国密 profile"):
SM3 chains and HMAC-SM3 checkpoints that `bihuan audit verify` checks, a tampered event named,
the database's recorded profile winning over the setting, the refusal to run a database
written under another profile, and `bihuan crypto rekey` there and back."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core import db as app_db
from app.core.clock import FixedClock
from app.core.config import get_settings
from app.core.crypto import PREFIX, link_hash, stored_key_id, write_key_file
from app.core.db import make_engine, transaction
from app.models import AuditCheckpoint, AuditEntry, CryptoState, Event, OutboxMessage, User
from app.services.audit.log import AuditAction, Who, record
from app.services.audit.log import compute_hash as audit_hash
from app.services.hazards.timeline import canonical_content
from app.services.integrity import keys
from app.services.org.demo import load_demo
from tests.fixtures.clock import START
from tests.fixtures.databases import migrate
from tests.services.integrity import tampering
from tests.services.integrity.test_tampering import accepted_hazard, broken, code_of, verify

PHONE = "13812345678"


def use(monkeypatch, url: str, **env: str | None) -> CliRunner:
    """The CLI on `url` with these settings (None unsets one)."""
    monkeypatch.setenv("DATABASE_URL", url)
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    for cached in (get_settings, app_db.get_engine, app_db.get_sessionmaker):
        cached.cache_clear()
    return CliRunner()


@pytest.fixture
def keyfiles(tmp_path: Path) -> dict[str, str]:
    paths = {"personal": tmp_path / "personal.key", "hmac": tmp_path / "hmac.key",
             "personal2": tmp_path / "personal2.key", "ed25519": tmp_path / "ed25519.pem"}
    for name, path in paths.items():
        if name == "ed25519":
            keys.generate(path)
        else:
            write_key_file(path)
    return {name: str(path) for name, path in paths.items()} | {
        "copies": str(tmp_path / "copies")}


def gm_env(files: dict[str, str], personal: str = "personal") -> dict[str, str | None]:
    return {"CRYPTO_PROFILE": "gm", "PERSONAL_DATA_KEY_FILE": files[personal],
            "AUDIT_HMAC_KEY_FILE": files["hmac"], "AUDIT_SIGNING_KEY_FILE": None,
            "AUDIT_CHECKPOINT_DIR": files["copies"]}


def default_env(files: dict[str, str]) -> dict[str, str | None]:
    return {"CRYPTO_PROFILE": "default", "PERSONAL_DATA_KEY_FILE": None,
            "AUDIT_HMAC_KEY_FILE": None, "AUDIT_SIGNING_KEY_FILE": files["ed25519"],
            "AUDIT_CHECKPOINT_DIR": files["copies"]}


@pytest.fixture
def restore_settings(monkeypatch) -> Iterator[None]:
    yield
    app_db.get_engine().dispose()
    monkeypatch.undo()
    for cached in (get_settings, app_db.get_engine, app_db.get_sessionmaker):
        cached.cache_clear()


def loaded_with(monkeypatch, url: str, env: dict[str, str | None]) -> Engine:
    """A new database migrated and given the demo organisation under `env`."""
    use(monkeypatch, url, **env)
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        load_demo(session, clock=FixedClock(START))
        session.scalars(select(User).where(User.username == "ent_a")).one().phone = PHONE
    return engine


def raw_phone(engine: Engine, username: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text('SELECT phone FROM "user" WHERE username = :u'),
                                {"u": username}).scalar())


def test_gm_chains_and_checkpoints_verify(monkeypatch, fresh_url, keyfiles,
                                          restore_settings) -> None:
    engine = loaded_with(monkeypatch, fresh_url, gm_env(keyfiles))
    hazard_id = accepted_hazard(engine)
    with Session(engine) as session:
        assert session.get_one(CryptoState, 1).chain_profile == "gm"
        first = session.scalars(select(Event).where(Event.hazard_id == hazard_id)
                                .order_by(Event.seq)).first()
        assert first is not None
        content = canonical_content(first)
        assert first.hash == link_hash(first.prev_hash, content, "gm")
        assert first.hash != link_hash(first.prev_hash, content, "default")
    runner = use(monkeypatch, fresh_url, **gm_env(keyfiles))
    result = runner.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        checkpoint = session.scalars(select(AuditCheckpoint)).one()
        payload = json.loads(checkpoint.payload)
        assert payload["signature_scheme"] == "hmac-sm3" and "heads_sm3" in payload
        assert payload["chains"] == {"profile": "gm", "epochs": []}
        assert len(checkpoint.signature) == 64  # HMAC-SM3, hex
        told = session.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == "audit_checkpoint")).one().payload["checkpoint"]
        assert told["heads_sm3"] == checkpoint.heads_digest and "heads_sha256" not in told
    status, output = verify(runner)
    assert status == 0, output
    assert "all 3 events verified; every chain is intact" in output
    assert "checkpoint #1" in output and "not checked" not in output
    # From the external copy too.
    status, output = verify(runner, "--checkpoint-file",
                            str(Path(keyfiles["copies"]) / "checkpoint-00000001.json"))
    assert status == 0, output
    engine.dispose()


def test_a_tampered_event_is_named_under_gm(monkeypatch, fresh_url, keyfiles,
                                            restore_settings) -> None:
    engine = loaded_with(monkeypatch, fresh_url, gm_env(keyfiles))
    hazard_id = accepted_hazard(engine)
    runner = use(monkeypatch, fresh_url, **gm_env(keyfiles))
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    with engine.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        conn.execute(text("UPDATE event SET note = '已整改' WHERE hazard_id = :h AND seq = 2"),
                     {"h": hazard_id})
    status, output = verify(runner)
    assert status == 1
    lines = broken(output, code_of(engine, hazard_id), hazard_id)
    assert any("(seq 2): content does not match its hash (edited)" in line for line in lines)
    engine.dispose()


def test_a_forged_hmac_checkpoint_is_refused(monkeypatch, fresh_url, keyfiles, tmp_path,
                                             restore_settings) -> None:
    engine = loaded_with(monkeypatch, fresh_url, gm_env(keyfiles))
    accepted_hazard(engine)
    runner = use(monkeypatch, fresh_url, **gm_env(keyfiles))
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    stranger = tmp_path / "stranger.key"
    write_key_file(stranger)
    runner = use(monkeypatch, fresh_url, AUDIT_HMAC_KEY_FILE=str(stranger))
    status, output = verify(runner)
    assert status == 1
    assert "BROKEN checkpoint #1: its signature does not verify" in output
    engine.dispose()


def test_verify_uses_the_databases_profile_not_the_setting(monkeypatch, fresh_url, keyfiles,
                                                           restore_settings) -> None:
    engine = loaded_with(monkeypatch, fresh_url, gm_env(keyfiles))
    accepted_hazard(engine)
    # Someone runs verify with the default profile on the gm database: SM3 still.
    runner = use(monkeypatch, fresh_url, **default_env(keyfiles))
    status, output = verify(runner)
    assert status == 0, output
    assert "CRYPTO_PROFILE is default but this database's chains are written with gm" in output
    engine.dispose()


def test_the_app_refuses_a_database_written_under_the_other_profile(
        monkeypatch, fresh_url, keyfiles, restore_settings) -> None:
    engine = loaded_with(monkeypatch, fresh_url, default_env(keyfiles))
    accepted_hazard(engine)
    runner = use(monkeypatch, fresh_url, **gm_env(keyfiles))
    result = runner.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 1
    assert "数据库的哈希链以 CRYPTO_PROFILE=default 写成" in result.output
    result = runner.invoke(cli, ["check-config"])
    assert result.exit_code == 1
    assert "数据库的哈希链以 CRYPTO_PROFILE=default 写成" in result.output
    assert "数据库中的个人信息为明文" in result.output
    engine.dispose()


def test_a_new_database_adopts_the_profile_it_is_started_with(
        monkeypatch, fresh_url, keyfiles, restore_settings) -> None:
    use(monkeypatch, fresh_url, **default_env(keyfiles))
    migrate(fresh_url)  # migrated under default, nothing written yet
    runner = use(monkeypatch, fresh_url, **gm_env(keyfiles))
    result = runner.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    engine = make_engine(fresh_url)
    with Session(engine) as session:
        state = session.get_one(CryptoState, 1)
        assert state.chain_profile == "gm" and state.personal_key_id is not None
    engine.dispose()


def test_the_app_refuses_a_database_not_migrated_yet(monkeypatch, fresh_url,
                                                    restore_settings) -> None:
    """Not a traceback: the command to run. check-config passes (the image runs it before
    `bihuan migrate`); the server and the worker refuse until the database is migrated."""
    runner = use(monkeypatch, fresh_url, CRYPTO_PROFILE="default")
    for command in (["serve"], ["worker", "--once"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 1, result.output
        assert "请先运行 `bihuan migrate`" in result.output
    migrate(fresh_url)
    assert runner.invoke(cli, ["worker", "--once"]).exit_code == 0


def test_check_config_names_gm_without_keys(monkeypatch, fresh_url, restore_settings) -> None:
    runner = use(monkeypatch, fresh_url, CRYPTO_PROFILE="gm", PERSONAL_DATA_KEY_FILE=None,
                 AUDIT_HMAC_KEY_FILE=None)
    result = runner.invoke(cli, ["check-config"])
    assert result.exit_code == 1
    assert "CRYPTO_PROFILE=gm 但未设置 PERSONAL_DATA_KEY_FILE" in result.output
    assert "CRYPTO_PROFILE=gm 但未设置 AUDIT_HMAC_KEY_FILE" in result.output
    migrate(fresh_url)
    result = runner.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 1
    assert "CRYPTO_PROFILE=gm 但未设置 PERSONAL_DATA_KEY_FILE" in result.output


def test_rekey_there_and_back(monkeypatch, fresh_url, keyfiles, restore_settings) -> None:
    """A default database with chains, a checkpoint and a phone moves to gm: the phone is
    encrypted, old links verify with SHA-256 and new ones are SM3; then to another key; then
    back; each step verifies, a rerun changes nothing, and a missing old key is named."""
    engine = loaded_with(monkeypatch, fresh_url, default_env(keyfiles))
    hazard_id = accepted_hazard(engine)
    runner = use(monkeypatch, fresh_url, **default_env(keyfiles))
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    assert raw_phone(engine, "ent_a") == PHONE

    runner = use(monkeypatch, fresh_url, **gm_env(keyfiles))
    result = runner.invoke(cli, ["crypto", "rekey", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "user.phone: 1 re-encrypted" in result.output
    assert "chains: links so far stay default, new ones gm" in result.output
    stored = raw_phone(engine, "ent_a")
    assert stored.startswith(PREFIX) and PHONE not in stored
    with Session(engine) as session:
        assert session.scalars(select(User.phone).where(User.username == "ent_a")).one() == PHONE
        state = session.get_one(CryptoState, 1)
        assert state.chain_profile == "gm" and state.epochs[0]["profile"] == "default"
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and entry.action == "setting_change"
        assert entry.hash == audit_hash(entry, "gm")  # written after the switch: SM3
    again = runner.invoke(cli, ["crypto", "rekey"])
    assert again.exit_code == 0 and "user.phone: 0 re-encrypted, 1 already so" in again.output
    # The app runs again; new links are SM3, old ones SHA-256, verify holds (old Ed25519
    # checkpoint not checkable without its key: a note; then an HMAC-SM3 one).
    assert runner.invoke(cli, ["worker", "--once"]).exit_code == 0
    with Session(engine) as session, transaction(session) as tx:
        record(tx, who=Who.system(), action=AuditAction.export, at=START, object="ledger")
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    status, output = verify(runner)
    assert status == 0, output
    assert "checkpoint #2" in output

    # Another key: without the old one the data is refused by name; with it, moved.
    runner = use(monkeypatch, fresh_url, **gm_env(keyfiles, "personal2"))
    refused = runner.invoke(cli, ["crypto", "rekey"])
    assert refused.exit_code == 1
    assert "个人信息以密钥" in refused.output and "--from-key-file" in refused.output
    result = runner.invoke(cli, ["crypto", "rekey", "--from-key-file", keyfiles["personal"]])
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        new_id = session.get_one(CryptoState, 1).personal_key_id
    assert stored_key_id(raw_phone(engine, "ent_a")) == new_id != stored_key_id(stored)

    # And back to the default profile: plaintext again, chains verify across both epochs.
    runner = use(monkeypatch, fresh_url,
                 **default_env(keyfiles) | {"AUDIT_HMAC_KEY_FILE": keyfiles["hmac"]})
    result = runner.invoke(cli, ["crypto", "rekey", "--from-key-file", keyfiles["personal2"]])
    assert result.exit_code == 0, result.output
    assert raw_phone(engine, "ent_a") == PHONE
    status, output = verify(runner)
    assert status == 0, output
    assert code_of(engine, hazard_id) not in output
    engine.dispose()


def test_an_edited_crypto_state_is_seen_by_the_checkpoint(monkeypatch, fresh_url, keyfiles,
                                                          restore_settings) -> None:
    engine = loaded_with(monkeypatch, fresh_url, gm_env(keyfiles))
    accepted_hazard(engine)
    runner = use(monkeypatch, fresh_url, **gm_env(keyfiles))
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE crypto_state SET chain_profile = 'default'"))
    status, output = verify(runner)
    assert status == 1
    assert "the chains' profiles it signed are not the database's" in output
    engine.dispose()
