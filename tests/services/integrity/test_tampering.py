"""`bihuan audit verify` names every tampering of someone with database access (docs/integrity.md):
the append-only triggers are dropped first, as an intruder would, on SQLite and PostgreSQL."""

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.clock import FixedClock
from app.core.db import transaction
from app.models import AuditCheckpoint, AuditCheckpointHead, Hazard
from app.services.hazards.actions import perform_action
from app.services.integrity import keys
from app.services.integrity.checkpoints import take_checkpoint
from app.services.integrity.verify import Verifier
from tests.committed import DEADLINE, actor_of, committed_report
from tests.fixtures.clock import START
from tests.services.integrity import tampering


def accepted_hazard(engine: Engine) -> int:
    """A hazard with three events: reported, assigned (deadline set), accepted."""
    clock = FixedClock(START)
    hazard_id = committed_report(engine, clock)
    for username, action, form in (("insp_dept", "assign", {"deadline": DEADLINE}),
                                   ("ent_a", "accept", {})):
        with Session(engine) as session, transaction(session) as tx:
            perform_action(tx, actor=actor_of(engine, username), hazard_id=hazard_id,
                           action=action, form=form, uploads=[], clock=clock)
    return hazard_id


def code_of(engine: Engine, hazard_id: int) -> str:
    with Session(engine) as session:
        return session.get_one(Hazard, hazard_id).code


def verify(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["audit", "verify", *args])
    return result.exit_code, result.output


def checkpoint(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output


def broken(output: str, code: str, hazard_id: int) -> list[str]:
    return [line for line in output.splitlines()
            if line.startswith(f"BROKEN hazard {code} (id {hazard_id})")]


def test_an_intact_database_verifies(loaded: Engine, audited: CliRunner) -> None:
    accepted_hazard(loaded)
    checkpoint(audited)
    status, output = verify(audited)
    assert status == 0, output
    assert "all 3 events verified; every chain is intact" in output
    assert "checkpoint #1" in output


def test_an_edited_event_is_named_with_the_hazard_code(loaded: Engine,
                                                       audited: CliRunner) -> None:
    hazard_id = accepted_hazard(loaded)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        conn.execute(text("UPDATE event SET note = '已整改' WHERE hazard_id = :h AND seq = 2"),
                     {"h": hazard_id})
    status, output = verify(audited)
    assert status == 1
    lines = broken(output, code_of(loaded, hazard_id), hazard_id)
    assert any("(seq 2): content does not match its hash (edited)" in line for line in lines)


def test_deleting_the_newest_events_is_seen_by_the_head(loaded: Engine,
                                                        audited: CliRunner) -> None:
    hazard_id = accepted_hazard(loaded)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.truncate(conn, hazard_id, keep=1, cover=False)
    status, output = verify(audited)
    assert status == 1
    lines = broken(output, code_of(loaded, hazard_id), hazard_id)
    assert any("chain ends at seq 1 but the hazard's head is seq 3" in line for line in lines)


@pytest.mark.parametrize(("column", "value", "named"), [
    ("state", "closed", "the row's state is closed but the timeline ends in rectifying"),
    ("level", "major", "the row's level is major but it was reported general"),
    ("deadline", date(2027, 6, 30), "the row's deadline is 2027-06-30 but the timeline set"),
])
def test_a_row_changed_behind_the_timeline_is_named(loaded: Engine, audited: CliRunner,
                                                    column: str, value: object,
                                                    named: str) -> None:
    hazard_id = accepted_hazard(loaded)
    with loaded.begin() as conn:
        conn.execute(update(Hazard.__table__).where(Hazard.__table__.c.id == hazard_id)
                     .values({column: value}))
    status, output = verify(audited)
    assert status == 1
    assert any(named in line for line in broken(output, code_of(loaded, hazard_id), hazard_id))


def test_a_covered_truncation_is_seen_by_the_checkpoint(loaded: Engine,
                                                        audited: CliRunner) -> None:
    hazard_id = accepted_hazard(loaded)
    checkpoint(audited)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.truncate(conn, hazard_id, keep=1, cover=True)
    status, output = verify(audited)
    assert status == 1
    lines = broken(output, code_of(loaded, hazard_id), hazard_id)
    assert len(lines) == 1  # head, state and deadline were made to agree: only the checkpoint
    assert "the chain ends at seq 1, shorter than its head seq 3 signed by checkpoint #1" \
        in lines[0]
    assert lines[0].endswith("(truncated)")


def test_a_rewritten_chain_is_seen_by_the_checkpoint(loaded: Engine,
                                                     audited: CliRunner) -> None:
    hazard_id = accepted_hazard(loaded)
    checkpoint(audited)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.rewrite_note(conn, hazard_id, seq=2, note="期限内已交办")
    status, output = verify(audited)
    assert status == 1
    lines = broken(output, code_of(loaded, hazard_id), hazard_id)
    assert len(lines) == 1
    assert "(seq 3): the event at seq 3 is not the one checkpoint #1" in lines[0]
    assert "the head moved without the events that lead to it" in lines[0]


def test_a_hazard_deleted_with_everything_referring_to_it_is_named(
        loaded: Engine, audited: CliRunner) -> None:
    hazard_id, other = accepted_hazard(loaded), accepted_hazard(loaded)
    code = code_of(loaded, hazard_id)
    checkpoint(audited)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.delete_hazard(conn, hazard_id)
    with Session(loaded) as session:
        assert session.get(Hazard, hazard_id) is None
    status, output = verify(audited)
    assert status == 1
    lines = broken(output, code, hazard_id)
    assert len(lines) == 1
    assert "missing: checkpoint #1" in lines[0]
    assert "signed it with head seq 3, and it is no longer in the database" in lines[0]
    assert broken(output, code_of(loaded, other), other) == []


def test_a_hazard_deleted_before_any_checkpoint_is_named_by_its_missing_code(
        loaded: Engine, audited: CliRunner) -> None:
    first, second = accepted_hazard(loaded), accepted_hazard(loaded)
    code = code_of(loaded, first)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.delete_hazard(conn, first)
    status, output = verify(audited)
    assert status == 1
    lines = [line for line in output.splitlines() if line.startswith("BROKEN")]
    assert lines == [f"BROKEN hazard {code} (id unknown): code issued (hazard_counter "
                     f"{code[3:9]}/2026 is at 2) but no hazard has it: deleted with everything "
                     "referring to it"]
    assert broken(output, code_of(loaded, second), second) == []


def test_deleting_the_checkpoint_heads_too_is_seen_and_the_copy_names_the_hazard(
        loaded: Engine, audited: CliRunner, tmp_path: Path) -> None:
    hazard_id = accepted_hazard(loaded)
    code = code_of(loaded, hazard_id)
    checkpoint(audited)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.delete_hazard(conn, hazard_id)
        conn.execute(delete(AuditCheckpointHead).where(
            AuditCheckpointHead.hazard_id == hazard_id))
    status, output = verify(audited)
    assert status == 1
    assert ("BROKEN checkpoint #1: the heads kept with it (0 hazards, 0 events) are not the "
            "ones it signed (1 hazards, 3 events") in output
    with loaded.begin() as conn:  # every checkpoint gone from the database: the copy remains
        conn.execute(delete(AuditCheckpointHead))
        conn.execute(delete(AuditCheckpoint))
    copy = tmp_path / "copies" / "checkpoint-00000001.json"
    status, output = verify(audited, "--checkpoint-file", str(copy))
    assert status == 1
    assert len(broken(output, code, hazard_id)) == 1
    assert "missing: checkpoint #1" in output


def test_a_forged_checkpoint_is_reported_and_the_signed_one_still_holds(
        loaded: Engine, audited: CliRunner, tmp_path: Path) -> None:
    hazard_id = accepted_hazard(loaded)
    code = code_of(loaded, hazard_id)
    checkpoint(audited)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.truncate(conn, hazard_id, keep=1, cover=True)
    # The intruder takes a checkpoint of the truncated chains with a key of their own.
    own_key = tmp_path / "intruder.pem"
    keys.generate(own_key)
    with Session(loaded) as session, transaction(session) as tx:
        forged = take_checkpoint(tx, key=keys.load_signing_key(own_key),
                                 now=FixedClock(START).now()).id
    status, output = verify(audited)
    assert status == 1
    assert (f"BROKEN checkpoint #{forged}: its signature does not verify with the configured "
            "key: forged or altered") in output
    lines = broken(output, code, hazard_id)
    assert len(lines) == 1
    assert "shorter than its head seq 3 signed by checkpoint #1" in lines[0]


def test_an_altered_checkpoint_payload_is_reported(loaded: Engine, audited: CliRunner) -> None:
    accepted_hazard(loaded)
    checkpoint(audited)
    with loaded.begin() as conn:
        payload = json.loads(conn.execute(select(AuditCheckpoint.payload)).scalar_one())
        payload["hazards"] = 0
        conn.execute(update(AuditCheckpoint).values(
            payload=json.dumps(payload, sort_keys=True, separators=(",", ":"))))
    status, output = verify(audited)
    assert status == 1
    assert "BROKEN checkpoint #1: its signature does not verify" in output


def test_verify_streams_in_batches_and_names_each_hazard(loaded: Engine,
                                                         audited: CliRunner) -> None:
    """Batches of two hazards: tampering on either side of a batch boundary is named."""
    ids = [accepted_hazard(loaded) for _ in range(5)]
    checkpoint(audited)
    with loaded.begin() as conn:
        tampering.drop_append_only_triggers(conn)
        tampering.truncate(conn, ids[1], keep=2, cover=True)
        tampering.delete_hazard(conn, ids[2])
        conn.execute(update(Hazard.__table__).where(Hazard.__table__.c.id == ids[4])
                     .values(state="closed"))
    with Session(loaded) as session:
        verifier = Verifier(session, keys.load_public_key(), batch=2)
        named = sorted({(f.hazard_id, f.problem.split(":")[0]) for f in verifier.findings()})
    assert [hazard_id for hazard_id, _ in named] == [ids[1], ids[2], ids[4]]
    assert verifier.hazards == 4
    assert verifier.events == 3 * 3 + 2


def test_a_damaged_copy_is_reported_not_a_crash(loaded: Engine, audited: CliRunner,
                                                tmp_path: Path) -> None:
    accepted_hazard(loaded)
    checkpoint(audited)
    heads = tmp_path / "copies" / "checkpoint-00000001.heads.gz"
    heads.write_bytes(heads.read_bytes()[:20])
    status, output = verify(audited, "--checkpoint-file",
                            str(tmp_path / "copies" / "checkpoint-00000001.json"))
    assert status == 1
    assert "BROKEN checkpoint #1: its heads cannot be read past hazard id 0" in output
