"""Migration 0031 on a database that already holds chains and phones: it records SHA-256 as
the chains' profile whatever CRYPTO_PROFILE says (so a gm start is refused until a rekey), and
gives existing tips' phones their blind index; and it goes down again."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from app.core.config import get_settings
from app.core.crypto import blind_index
from app.core.db import make_engine
from app.core.migrations import alembic_config
from tests.fixtures.databases import migrate


def test_an_existing_database_is_recorded_as_sha256_chained(monkeypatch, fresh_url) -> None:
    migrate(fresh_url, "0024")
    engine = make_engine(fresh_url)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_entry (seq, at, username, action, object, result, prev_hash, "
            "hash) VALUES (1, :at, 'system', 'export', 'ledger', 'success', :g, :g)"),
            {"at": at, "g": "0" * 64})
        conn.execute(text(
            "INSERT INTO tip (receipt, status, description, location, phone, received_at, "
            "updated_at, due_on, head_seq, head_hash) VALUES ('r1', 'received', 'd', 'l', "
            "'13812345678', :at, :at, :on, 0, :g)"), {"at": at, "on": at.date(), "g": "0" * 64})
    monkeypatch.setenv("CRYPTO_PROFILE", "gm")
    get_settings.cache_clear()
    try:
        migrate(fresh_url)
        with engine.connect() as conn:
            state = conn.execute(text("SELECT chain_profile, personal_key_id FROM "
                                      "crypto_state")).one()
            index = conn.execute(text("SELECT phone_index FROM tip")).scalar()
        assert tuple(state) == ("default", None)
        assert index == blind_index("13812345678", "default")
        command.downgrade(alembic_config(fresh_url), "0024")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT phone FROM tip")).scalar() == "13812345678"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        engine.dispose()
