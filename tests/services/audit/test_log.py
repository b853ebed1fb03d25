"""The security audit log's chain, its kept writes, and the database's refusal to edit it."""

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app.core.clock import FixedClock
from app.core.db import transaction
from app.core.errors import Forbidden
from app.core.logs import CLIENT_ADDRESS, REQUEST_ID
from app.models import AuditChain, AuditEntry, User
from app.services.audit.log import AuditAction, AuditResult, Who, compute_hash, record, record_kept
from tests.fixtures.clock import START


def _entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_entries_form_one_chain_with_the_request_context(db: Session) -> None:
    admin = db.scalars(select(User).where(User.username == "admin")).one()
    before = db.get(AuditChain, 1)
    assert before is not None
    start_seq, start_hash = before.seq, before.hash
    request_token, address_token = REQUEST_ID.set("req-1"), CLIENT_ADDRESS.set("10.0.0.7")
    try:
        first = record(db, who=Who.of_user(admin), action=AuditAction.user_update,
                       at=START, object="user:3", detail={"before": {"active": True},
                                                          "after": {"active": False}})
        second = record(db, who=Who.tried("nobody"), action=AuditAction.login_failed,
                        at=START, result=AuditResult.failure)
    finally:
        REQUEST_ID.reset(request_token)
        CLIENT_ADDRESS.reset(address_token)
    db.flush()
    assert (first.seq, second.seq) == (start_seq + 1, start_seq + 2)
    assert first.prev_hash == start_hash and second.prev_hash == first.hash
    assert (first.username, first.role, first.source_ip, first.request_id) == (
        "admin", "admin", "10.0.0.7", "req-1")
    assert second.user_id is None and second.username == "nobody"
    head = db.get(AuditChain, 1)
    db.refresh(head)
    assert (head.seq, head.hash) == (second.seq, second.hash)
    assert all(compute_hash(entry) == entry.hash for entry in (first, second))
    first.object = "user:4"  # any edit breaks the link
    assert compute_hash(first) != first.hash


def test_a_kept_entry_is_written_although_the_transaction_rolls_back(db: Session) -> None:
    count = db.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(Forbidden), transaction(db):
        record(db, who=Who.system(), action=AuditAction.user_update, at=START)  # rolled back
        record_kept(db, who=Who.tried("mallory"), action=AuditAction.refused, at=START,
                    object="hazard:1")
        raise Forbidden("no")
    entries = _entries(db)
    assert len(entries) == count + 1
    assert (entries[-1].username, entries[-1].action, entries[-1].result) == (
        "mallory", "refused", "refused")


def test_the_database_refuses_to_edit_or_delete_an_entry(loaded: Engine) -> None:
    with Session(loaded) as session, transaction(session):
        record(session, who=Who.system(), action=AuditAction.setting_change,
               at=FixedClock(START).now())
    for statement in ("UPDATE audit_entry SET result = 'success'", "DELETE FROM audit_entry",
                      "UPDATE audit_entry SET object = 'x'"):
        with pytest.raises(Exception, match="never edited"), loaded.begin() as conn:
            conn.execute(text(statement))
    with Session(loaded) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
        entry = session.scalars(select(AuditEntry)).one()
        entry.object = "edited through the ORM"
        with pytest.raises(RuntimeError, match="never edited"):
            session.flush()
