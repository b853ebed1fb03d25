"""The outbox on committed data, delivered to a webhook receiver on loopback.

The receiver is a real HTTP server on 127.0.0.1; time is the injected clock, so the retry
schedule is checked by moving the clock, never by sleeping.
"""

import hashlib
import hmac
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Barrier
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.core.clock import FixedClock
from app.core.db import transaction
from app.models import AuditCheckpoint, Event, OutboxMessage, Region, Webhook, WebhookDelivery
from app.services.hazards import actions
from app.services.hazards.actions import perform_action
from app.services.integrity import checkpoints, keys
from app.services.integrity.checkpoints import take_checkpoint
from app.services.outbox.webhooks import (
    CHECKPOINT_TOPIC,
    UnsafeDestination,
    create_webhook,
    deliver_due,
    resolve_destination,
    urllib_post,
)
from app.services.supervision.scans import scan
from tests.committed import DEADLINE, actor_of, committed_report
from tests.fixtures.clock import START

OTHER_TOWNSHIP = "339901101000"  # 清溪镇: ent_a's hazards are in 城关镇


@pytest.fixture(autouse=True)
def loopback_allowed(settings, monkeypatch) -> None:
    """The receiver listens on 127.0.0.1: allowed here as a deployment would allow an
    intranet receiver (WEBHOOK_ALLOW_PRIVATE); the worker command reads it from the env."""
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    settings.webhook_allow_private = True


class Receiver:
    """Records every request; answers 500 while `failures` lasts, then 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Message, bytes]] = []
        self.failures = 0
        self.delay = 0.0
        self.url = ""
        self.lock = threading.Lock()

    def headers(self, name: str) -> list[str]:
        return [str(h[name]) for _, h, _ in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delay)
            with state.lock:
                state.requests.append((self.path, self.headers, body))
                failing = state.failures > 0
                state.failures -= failing
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


def webhook(engine: Engine, url: str, *, region_code: str | None = None,
            topics: tuple[str, ...] = ()) -> tuple[int, str]:
    """A committed subscription made by the demo admin; (id, secret)."""
    admin = actor_of(engine, "admin")  # before the transaction: SQLite has one writer
    with Session(engine, expire_on_commit=False) as session, transaction(session) as tx:
        region_id = (tx.scalar(select(Region.id).where(Region.code == region_code))
                     if region_code else None)
        hook = create_webhook(tx, actor=admin, url=url, topics=list(topics),
                              region_id=region_id, now=START)
    return hook.id, hook.secret


def assign(engine: Engine, hazard_id: int, clock: FixedClock, deadline: str = DEADLINE) -> None:
    with Session(engine) as session, transaction(session) as tx:
        perform_action(tx, actor=actor_of(engine, "insp_dept"), hazard_id=hazard_id,
                       action="assign", form={"deadline": deadline}, uploads=[],
                       clock=clock)


def delivery(engine: Engine) -> WebhookDelivery:
    with Session(engine) as session:
        return session.scalars(select(WebhookDelivery)).one()


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_message_commits_with_its_event_small_and_without_photos(loaded: Engine) -> None:
    hazard_id = committed_report(loaded, FixedClock(START))
    with Session(loaded) as session:
        message = session.scalars(select(OutboxMessage)).one()
        event = session.scalars(select(Event)).one()
    assert (message.topic, message.hazard_id, message.event_id) == ("report", hazard_id, event.id)
    assert message.dispatched_at is None
    assert set(message.payload) == {"hazard", "event"}
    assert message.payload["hazard"]["state"] == "reported"
    assert message.payload["event"]["actor_role"] == "enterprise"
    assert "photos" not in json.dumps(message.payload) and len(json.dumps(message.payload)) < 600


def test_an_action_failing_midway_leaves_no_message_and_sends_nothing(
        loaded: Engine, receiver: Receiver, monkeypatch) -> None:
    clock = FixedClock(START)
    webhook(loaded, receiver.url)
    hazard_id = committed_report(loaded, clock)
    real_append = actions.append_event

    def append_then_fail(session: Session, **kwargs: object) -> None:
        real_append(session, **kwargs)  # type: ignore[arg-type]
        session.flush()
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        raise RuntimeError("disk full after the event was written")

    monkeypatch.setattr(actions, "append_event", append_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        assign(loaded, hazard_id, clock)
    assert count(loaded, OutboxMessage) == 1
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    assert deliver_due(sessions, clock).delivered == 1
    assert receiver.headers("X-Bihuan-Topic") == ["report"]


def test_delivery_is_signed_over_the_exact_body(loaded: Engine, receiver: Receiver) -> None:
    clock = FixedClock(START)
    hook_id, secret = webhook(loaded, receiver.url)
    hazard_id = committed_report(loaded, clock)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    report = deliver_due(sessions, clock)
    assert (report.dispatched, report.delivered, report.retrying, report.dead) == (1, 1, 0, 0)

    [(_, headers, body)] = receiver.requests
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Bihuan-Signature"], expected)
    forged = "sha256=" + hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Bihuan-Signature"] != forged
    row = delivery(loaded)
    assert headers["X-Bihuan-Delivery"] == str(row.id)
    assert headers["X-Bihuan-Topic"] == "report"
    assert headers["X-Bihuan-Timestamp"] == str(int(START.timestamp()))
    assert headers["Content-Type"].startswith("application/json")
    payload = json.loads(body)
    assert payload["hazard"]["id"] == hazard_id and payload["event"]["action"] == "report"
    assert payload["delivery_id"] == row.id and payload["timestamp"] == int(START.timestamp())
    assert (row.webhook_id, row.status, row.attempts, row.last_status_code) == \
        (hook_id, "delivered", 1, 200)
    assert row.delivered_at == START and len(row.log) == 1
    with Session(loaded) as session:
        assert session.scalars(select(OutboxMessage)).one().dispatched_at == START
    # Delivered once: later runs send nothing.
    clock.advance(timedelta(days=1))
    assert deliver_due(sessions, clock).delivered == 0
    assert len(receiver.requests) == 1


def test_retries_follow_the_exponential_backoff(loaded: Engine, receiver: Receiver) -> None:
    clock = FixedClock(START)
    webhook(loaded, receiver.url)
    committed_report(loaded, clock)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    receiver.failures = 2

    assert deliver_due(sessions, clock).retrying == 1  # t: 500
    assert delivery(loaded).next_attempt_at == START + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    deliver_due(sessions, clock)
    assert len(receiver.requests) == 1  # not due yet
    clock.advance(timedelta(seconds=1))
    assert deliver_due(sessions, clock).retrying == 1  # t+30: 500, next wait 60 s
    assert delivery(loaded).next_attempt_at == START + timedelta(seconds=90)
    clock.advance(timedelta(seconds=59))
    deliver_due(sessions, clock)
    assert len(receiver.requests) == 2
    clock.advance(timedelta(seconds=1))
    assert deliver_due(sessions, clock).delivered == 1  # t+90: 200

    at = int(START.timestamp())
    assert receiver.headers("X-Bihuan-Timestamp") == [str(at), str(at + 30), str(at + 90)]
    assert len(set(receiver.headers("X-Bihuan-Delivery"))) == 1
    row = delivery(loaded)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)
    assert [a["status_code"] for a in row.log] == [500, 500, 200]


def test_dead_letter_after_the_last_attempt(loaded: Engine, receiver: Receiver,
                                            settings) -> None:
    settings.webhook_max_attempts = 3
    clock = FixedClock(START)
    webhook(loaded, receiver.url)
    committed_report(loaded, clock)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    receiver.failures = 100

    reports = []
    for wait in (0, 30, 60):
        clock.advance(timedelta(seconds=wait))
        reports.append(deliver_due(sessions, clock))
    assert [(r.retrying, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    row = delivery(loaded)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == \
        ("dead", 3, 500, "HTTP 500")
    assert [a["at"] for a in row.log] == [
        (START + timedelta(seconds=s)).isoformat() for s in (0, 30, 90)]
    clock.advance(timedelta(days=7))
    deliver_due(sessions, clock)
    assert len(receiver.requests) == 3  # the dead letter is kept, never sent again


def test_unreachable_and_slow_receivers_are_failed_attempts(
        loaded: Engine, receiver: Receiver, settings) -> None:
    settings.webhook_timeout_seconds = 0.3
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    clock = FixedClock(START)
    webhook(loaded, f"http://127.0.0.1:{closed_port}/hook")
    webhook(loaded, receiver.url)
    receiver.delay = 1.0
    committed_report(loaded, clock)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    assert deliver_due(sessions, clock).retrying == 2
    with Session(loaded) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(r.status, r.attempts, r.last_status_code) for r in rows] == \
        [("pending", 1, None)] * 2
    assert "refused" in (rows[0].last_error or "").lower()
    assert "timed out" in (rows[1].last_error or "").lower()


def test_a_webhook_hears_only_its_region_and_topics(loaded: Engine, receiver: Receiver) -> None:
    clock = FixedClock(START)
    webhook(loaded, receiver.url + "/county")
    webhook(loaded, receiver.url + "/other-township", region_code=OTHER_TOWNSHIP)
    webhook(loaded, receiver.url + "/assign-only", topics=("assign",))
    hazard_id = committed_report(loaded, clock)
    assign(loaded, hazard_id, clock)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    assert deliver_due(sessions, clock).delivered == 3
    heard = sorted((path, headers["X-Bihuan-Topic"]) for path, headers, _ in receiver.requests)
    assert heard == [("/hook/assign-only", "assign"), ("/hook/county", "assign"),
                     ("/hook/county", "report")]


def test_racing_workers_send_each_delivery_once(loaded: Engine, receiver: Receiver) -> None:
    clock = FixedClock(START)
    webhook(loaded, receiver.url)
    for _ in range(4):
        committed_report(loaded, clock)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    barrier = Barrier(3)

    def worker(_: int) -> int:
        barrier.wait()
        return deliver_due(sessions, clock).delivered

    with ThreadPoolExecutor(3) as pool:
        assert sum(pool.map(worker, range(3))) == 4
    assert len(receiver.requests) == 4
    assert len(set(receiver.headers("X-Bihuan-Delivery"))) == 4
    assert count(loaded, WebhookDelivery) == 4


def test_supervision_notices_go_out_by_sms_after_commit(loaded: Engine, caplog) -> None:
    clock = FixedClock(START)
    hazard_id = committed_report(loaded, clock)
    assign(loaded, hazard_id, clock, deadline="2026-11-25")
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    overdue = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    assert [kind for _, kind in scan(sessions, overdue).steps] == ["overdue"]

    caplog.set_level(logging.INFO, logger="app.services.outbox.sms")
    assert deliver_due(sessions, overdue).sms == 3  # the enterprise and both units
    sent = [r.getMessage() for r in caplog.records if r.name == "app.services.outbox.sms"]
    assert len(sent) == 3 and all("督办〔2026〕第" in line for line in sent)
    assert any(line.startswith("SMS to enterprise:") for line in sent)
    assert deliver_due(sessions, overdue).sms == 0  # each message is dispatched once


def test_worker_command_delivers_the_outbox(loaded: Engine, cli_on: CliRunner,
                                            receiver: Receiver, monkeypatch) -> None:
    webhook(loaded, receiver.url)
    committed_report(loaded, FixedClock(START))
    monkeypatch.setattr("app.cli.get_clock", lambda: FixedClock(START))
    result = cli_on.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "webhooks 1 delivered, 0 to retry, 0 dead" in result.output
    assert len(receiver.requests) == 1


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> None:
    """Names resolve to these addresses (what a hostile DNS server would answer)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple]:
        if host in ("127.0.0.1", "::1"):  # connecting to a literal looks it up too
            return real(host, port, *args, **kwargs)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr("app.services.outbox.webhooks.socket.getaddrinfo", getaddrinfo)


def test_a_name_rebound_to_loopback_after_subscribing_is_not_delivered(
        loaded: Engine, receiver: Receiver, settings, monkeypatch) -> None:
    """Subscribed while the name was public; it answers 127.0.0.1 at delivery time (DNS
    rebinding): the delivery is a failed attempt naming why, and nothing reaches loopback."""
    settings.webhook_allow_private = False
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://hooks.rebind.test:{port}/hook"
    fake_dns(monkeypatch, {"hooks.rebind.test": ["93.184.216.34"]})
    webhook(loaded, url)
    committed_report(loaded, FixedClock(START))
    fake_dns(monkeypatch, {"hooks.rebind.test": ["127.0.0.1"]})
    report = deliver_due(sessionmaker(bind=loaded, expire_on_commit=False), FixedClock(START))
    assert (report.delivered, report.retrying) == (0, 1)
    assert receiver.requests == []
    assert "127.0.0.1" in (delivery(loaded).last_error or "")
    # One public answer among private ones is no way round it either.
    fake_dns(monkeypatch, {"hooks.rebind.test": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(UnsafeDestination, match=r"10\.0\.0\.7"):
        resolve_destination(url)


def test_a_delivery_connects_to_the_address_it_checked(receiver: Receiver, settings,
                                                        monkeypatch) -> None:
    """The connection goes to the address resolved and checked, not to a second lookup;
    the request still names the host (Host header; SNI and certificate for https)."""
    settings.webhook_allow_private = False
    port = receiver.url.split(":")[2].split("/")[0]
    checked: list[str] = []
    monkeypatch.setattr("app.services.outbox.webhooks.resolve_destination",
                        lambda url: checked.append(url) or ["127.0.0.1"])
    fake_dns(monkeypatch, {})  # any other lookup of the name would fail
    url = f"http://receiver.invalid:{port}/hook"
    assert urllib_post(url, b"{}", {"Content-Type": "application/json"}, 5) == 200
    assert checked == [url]
    [(path, headers, _)] = receiver.requests
    assert path == "/hook" and headers["Host"] == f"receiver.invalid:{port}"


def _certificate(directory: Path, name: str) -> tuple[str, str]:
    """A self-signed certificate for `name`: (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_https_to_the_checked_address_keeps_the_name_for_tls(settings, monkeypatch,
                                                             tmp_path) -> None:
    """Over TLS the pinned connection still sends the name (SNI, Host) and checks the
    certificate against it: a certificate for another name is refused."""
    settings.webhook_allow_private = False
    cert, key = _certificate(tmp_path, "receiver.invalid")
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            hosts.append(str(self.headers["Host"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client_context = ssl.create_default_context(cafile=cert)
    monkeypatch.setattr(ssl, "_create_default_https_context", lambda: client_context)
    monkeypatch.setattr("app.services.outbox.webhooks.resolve_destination",
                        lambda url: ["127.0.0.1"])
    fake_dns(monkeypatch, {})  # no name resolves: only the pinned address is reachable
    port = server.server_address[1]
    try:
        url = f"https://receiver.invalid:{port}/hook"
        assert urllib_post(url, b"{}", {"Content-Type": "application/json"}, 5) == 200
        assert hosts == [f"receiver.invalid:{port}"]
        with pytest.raises(OSError, match="certificate"):
            urllib_post(f"https://other.invalid:{port}/hook", b"{}", {}, 5)
        assert len(hosts) == 1
    finally:
        server.shutdown()
        server.server_close()


def checkpoint_now(engine: Engine, key_path: Path, clock: FixedClock) -> AuditCheckpoint:
    with Session(engine, expire_on_commit=False) as session, transaction(session) as tx:
        return take_checkpoint(tx, key=keys.load_signing_key(key_path), now=clock.now())


def province_webhook(engine: Engine, url: str) -> None:
    """A hook of the province (above the demo admin's county, so written directly)."""
    admin = actor_of(engine, "admin")  # before the transaction: SQLite has one writer
    with Session(engine) as session, transaction(session) as tx:
        province = tx.scalars(select(Region).where(Region.parent_id.is_(None))).one()
        tx.add(Webhook(url=url, secret="s" * 64, topics=[], region_id=province.id, active=True,
                       created_by_id=admin.id, created_at=START))


def test_a_checkpoint_is_delivered_with_a_signature_the_public_key_verifies(
        loaded: Engine, receiver: Receiver, tmp_path: Path) -> None:
    clock = FixedClock(START)
    public = keys.generate(tmp_path / "audit-key.pem")
    _, secret = webhook(loaded, receiver.url, topics=(CHECKPOINT_TOPIC,))
    committed_report(loaded, clock)
    clock.advance(timedelta(hours=1))
    taken = checkpoint_now(loaded, tmp_path / "audit-key.pem", clock)
    with Session(loaded) as session:
        message = session.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == CHECKPOINT_TOPIC)).one()
        assert (message.hazard_id, message.event_id, message.created_at) == (
            None, None, taken.taken_at)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    assert deliver_due(sessions, clock).delivered == 1  # the report is not among its topics

    [(_, headers, body)] = receiver.requests
    assert headers["X-Bihuan-Topic"] == CHECKPOINT_TOPIC
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Bihuan-Signature"], expected)
    sent = json.loads(body)
    assert set(sent) == {"delivery_id", "message_id", "topic", "timestamp", "checkpoint"}
    copy = sent["checkpoint"]
    # The receiver checks what it was sent with the public key alone, then reads the fields.
    assert keys.signature_holds(public, copy["signature"], copy["payload"])
    assert copy["key_id"] == keys.key_id(public) == json.loads(copy["payload"])["key_id"]
    assert not keys.signature_holds(public, copy["signature"], copy["payload"].replace(
        '"hazards":1', '"hazards":0'))
    signed = json.loads(copy["payload"])
    assert (copy["id"], copy["hazards"], copy["events"], copy["heads_sha256"]) == (
        taken.id, 1, 1, taken.heads_digest)
    assert (signed["checkpoint"], signed["hazards"], signed["events"],
            signed["heads_sha256"]) == (taken.id, 1, 1, taken.heads_digest)
    assert datetime.fromisoformat(copy["taken_at"]) == taken.taken_at == START + timedelta(
        hours=1)
    assert (copy["payload"], copy["signature"]) == (taken.payload, taken.signature)
    assert "heads" not in copy and len(body) < 1500  # the heads (one line a hazard) stay home


def test_a_checkpoint_reaches_the_hooks_whose_region_holds_every_hazard(
        loaded: Engine, receiver: Receiver, tmp_path: Path) -> None:
    """A checkpoint is about every hazard: a hook hears of it, as of a hazard's events, only
    when all of them are inside its region (what it tells, the counts, is then no more than
    the hook's region holds), of its topics or of every topic."""
    clock = FixedClock(START)
    keys.generate(tmp_path / "audit-key.pem")
    province_webhook(loaded, receiver.url + "/province")
    webhook(loaded, receiver.url + "/county")
    webhook(loaded, receiver.url + "/county-checkpoints", topics=(CHECKPOINT_TOPIC,))
    webhook(loaded, receiver.url + "/county-reports", topics=("report",))
    webhook(loaded, receiver.url + "/chengguan", region_code="339901100000")
    webhook(loaded, receiver.url + "/qingxi", region_code=OTHER_TOWNSHIP)
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)

    def checkpoint_heard_by() -> list[str]:
        receiver.requests.clear()
        checkpoint_now(loaded, tmp_path / "audit-key.pem", clock)
        deliver_due(sessions, clock)
        return sorted(path.removeprefix("/hook/") for path, headers, _ in receiver.requests
                      if headers["X-Bihuan-Topic"] == CHECKPOINT_TOPIC)

    # No hazard at all: nothing outside any hook's region, so every hook may hear of it.
    assert checkpoint_heard_by() == ["chengguan", "county", "county-checkpoints", "province",
                                     "qingxi"]
    committed_report(loaded, clock)  # ent_a: 城关镇
    assert checkpoint_heard_by() == ["chengguan", "county", "county-checkpoints", "province"]
    committed_report(loaded, clock, "ent_b")  # 清溪镇: no township holds every hazard now
    assert checkpoint_heard_by() == ["county", "county-checkpoints", "province"]
    with Session(loaded) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dispatched_at.is_(None))) == 0


def test_a_checkpoint_rolled_back_sends_nothing(loaded: Engine, receiver: Receiver,
                                                tmp_path: Path, monkeypatch) -> None:
    clock = FixedClock(START)
    keys.generate(tmp_path / "audit-key.pem")
    webhook(loaded, receiver.url)

    def fail(session: Session) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(checkpoints, "_prune_heads", fail)
    with pytest.raises(RuntimeError):
        checkpoint_now(loaded, tmp_path / "audit-key.pem", clock)
    assert count(loaded, OutboxMessage) == 0
    sessions = sessionmaker(bind=loaded, expire_on_commit=False)
    assert deliver_due(sessions, clock).delivered == 0 and receiver.requests == []
