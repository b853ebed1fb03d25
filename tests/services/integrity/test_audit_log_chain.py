"""`bihuan audit verify` and `bihuan audit purge` on the security audit log (docs/audit.md):
tampering is done as a DBA would, through raw SQL with the append-only triggers dropped."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings
from app.core.db import transaction
from app.models import AuditChain, AuditCheckpoint, AuditEntry
from app.services.audit.log import AuditAction, AuditResult, Who, compute_hash, record


def log_entries(engine: Engine, count: int, *, days_ago: float = 0) -> None:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    with Session(engine) as session, transaction(session) as tx:
        for n in range(count):
            record(tx, who=Who.tried(f"user{n}"), action=AuditAction.login,
                   result=AuditResult.success, at=at + timedelta(seconds=n),
                   object=f"n:{n}")


def run(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["audit", *args])
    return result.exit_code, result.output


def audit_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("BROKEN audit log")]


def drop_triggers(conn: Connection) -> None:
    """What a DBA does first: the log's append-only triggers (migration 0024) go."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry"))
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))


def rehash_from(conn: Connection, seq: int) -> None:
    """Recompute every hash from `seq` on and the head: a log that holds together by itself."""
    with Session(bind=conn) as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        prev = None
        for entry in rows:
            if entry.seq >= seq:
                if prev is not None:
                    entry.prev_hash = prev
                entry.hash = compute_hash(entry)
                conn.execute(update(AuditEntry.__table__)
                             .where(AuditEntry.__table__.c.seq == entry.seq)
                             .values(prev_hash=entry.prev_hash, hash=entry.hash))
            prev = entry.hash
        session.expunge_all()
        conn.execute(update(AuditChain.__table__).where(AuditChain.__table__.c.id == 1)
                     .values(hash=prev, seq=rows[-1].seq))


def test_an_intact_log_verifies_and_its_head_is_signed(loaded: Engine,
                                                       audited: CliRunner) -> None:
    log_entries(loaded, 4)
    assert run(audited, "checkpoint")[0] == 0
    status, output = run(audited, "verify")
    assert status == 0, output
    assert "the audit log's 4 entries are intact" in output
    with Session(loaded) as session:
        signed = json.loads(session.scalars(select(AuditCheckpoint)).one().payload)
        head = session.get_one(AuditChain, 1)
        assert signed["audit_log"] == {"seq": 4, "hash": head.hash, "base_seq": 0,
                                       "base_hash": head.base_hash}


def test_an_edited_entry_is_named(loaded: Engine, audited: CliRunner) -> None:
    log_entries(loaded, 4)
    with loaded.begin() as conn:
        drop_triggers(conn)
        conn.execute(text("UPDATE audit_entry SET username = 'nobody' WHERE seq = 2"))
    status, output = run(audited, "verify")
    assert status == 1
    assert audit_lines(output) == [
        "BROKEN audit log entry seq 2: content does not match its hash (edited)"]


def test_a_deleted_entry_is_named(loaded: Engine, audited: CliRunner) -> None:
    log_entries(loaded, 5)
    with loaded.begin() as conn:
        drop_triggers(conn)
        conn.execute(text("DELETE FROM audit_entry WHERE seq IN (2, 3)"))
    status, output = run(audited, "verify")
    assert status == 1
    assert audit_lines(output) == [
        "BROKEN audit log entry seq 4: seqs 2–3 missing before it (deleted)"]


def test_a_truncated_log_is_named_even_with_its_head_put_back(loaded: Engine,
                                                              audited: CliRunner) -> None:
    log_entries(loaded, 5)
    assert run(audited, "checkpoint")[0] == 0
    with loaded.begin() as conn:
        drop_triggers(conn)
        conn.execute(text("DELETE FROM audit_entry WHERE seq > 3"))
    status, output = run(audited, "verify")
    assert status == 1
    assert audit_lines(output) == [
        "BROKEN audit log: the log ends at seq 3 but its head is seq 5: the newest entries "
        "were deleted (truncated)",
        "BROKEN audit log: the log ends at seq 3, shorter than the head seq 5 signed by "
        "checkpoint #1 (truncated)"]
    with loaded.begin() as conn:  # the careful DBA makes the head agree
        last = conn.execute(text("SELECT hash FROM audit_entry WHERE seq = 3")).scalar_one()
        conn.execute(update(AuditChain.__table__).values(seq=3, hash=last))
    status, output = run(audited, "verify")
    assert status == 1
    assert audit_lines(output) == [
        "BROKEN audit log: the log ends at seq 3, shorter than the head seq 5 signed by "
        "checkpoint #1 (truncated)"]


def test_a_rewritten_log_disagrees_with_the_checkpoint(loaded: Engine,
                                                       audited: CliRunner) -> None:
    log_entries(loaded, 4)
    assert run(audited, "checkpoint")[0] == 0
    with loaded.begin() as conn:
        drop_triggers(conn)
        conn.execute(text("UPDATE audit_entry SET result = 'failure' WHERE seq = 2"))
        rehash_from(conn, 2)
    status, output = run(audited, "verify")
    assert status == 1
    assert audit_lines(output) == [
        "BROKEN audit log entry seq 4: the entry at seq 4 is not the one signed by "
        "checkpoint #1: the log was rewritten"]


def test_oldest_entries_deleted_by_hand_are_named(loaded: Engine, audited: CliRunner) -> None:
    log_entries(loaded, 4)
    with loaded.begin() as conn:
        drop_triggers(conn)
        base = conn.execute(text("SELECT hash FROM audit_entry WHERE seq = 2")).scalar_one()
        conn.execute(text("DELETE FROM audit_entry WHERE seq <= 2"))
        conn.execute(update(AuditChain.__table__).values(base_seq=2, base_hash=base))
    status, output = run(audited, "verify")
    assert status == 1
    assert audit_lines(output) == [
        "BROKEN audit log: the log starts after seq 2, but no audit_purge entry moved its "
        "start there: its oldest entries were deleted by hand"]


def test_purge_deletes_only_entries_past_retention_and_the_log_still_verifies(
        loaded: Engine, audited: CliRunner) -> None:
    log_entries(loaded, 3, days_ago=200)
    log_entries(loaded, 2, days_ago=10)
    assert run(audited, "checkpoint")[0] == 0
    status, output = run(audited, "purge")
    assert status == 0, output
    assert "purged 3 audit log entries" in output and "starts after seq 3" in output
    with Session(loaded) as session:
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert seqs == [4, 5, 6]
        purge_entry = session.get_one(AuditEntry, 6)
        assert (purge_entry.action, purge_entry.username) == ("audit_purge", "system")
        assert purge_entry.detail["deleted"] == 3 and purge_entry.detail["up_to_seq"] == 3
        head = session.get_one(AuditChain, 1)
        assert (head.base_seq, head.purging) == (3, False)
    status, output = run(audited, "verify")
    assert status == 0, output
    assert "the audit log's 3 entries are intact" in output
    # Outside a purge the database still refuses to delete an entry.
    with pytest.raises(Exception, match="never edited"), loaded.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 4"))


def test_purge_refuses_to_keep_less_than_the_retention(loaded: Engine,
                                                       audited: CliRunner) -> None:
    log_entries(loaded, 2, days_ago=200)
    status, output = run(audited, "purge", "--days", "100")
    assert status == 1 and "AUDIT_RETENTION_DAYS=180" in output
    with Session(loaded) as session:
        assert session.get_one(AuditChain, 1).base_seq == 0
    with pytest.raises(ValueError, match="AUDIT_RETENTION_DAYS"):
        Settings(AUDIT_RETENTION_DAYS=90)
    assert Settings(AUDIT_RETENTION_DAYS=365).audit_retention_days == 365
