"""The transactional outbox: notifications written with their event, sent after commit.

`enqueue` is called by append_event, so a message commits or rolls back with its event;
`enqueue_checkpoint` by take_checkpoint, so a signed audit checkpoint is told to webhooks
(topic audit_checkpoint) exactly when it is committed.
`deliver_due` (each cycle of `bihuan worker`) only ever reads committed messages:
1. dispatch: claim undispatched messages, add a delivery row per matching active webhook,
   send the 督办单 SMS, stamp dispatched_at;
2. deliver: claim one due delivery at a time, leasing it in a short transaction (its
   next_attempt_at moves past the HTTP timeout), POST the signed body outside any
   transaction, then record the outcome: delivered, retry after a backoff, or dead.
Claims use FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers share the work and never
send one delivery twice at once (SQLite: one worker). Delivery is at least once (a worker
that dies mid-request leaves the lease to expire): receivers de-duplicate by X-Bihuan-Delivery.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.client import HTTPException
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.clock import Clock
from app.core.config import get_settings
from app.core.db import transaction, valid_id
from app.core.errors import Forbidden, NotFound, OutOfScope, Unprocessable
from app.models import (
    AuditCheckpoint,
    Event,
    Hazard,
    OutboxMessage,
    Region,
    Webhook,
    WebhookDelivery,
)
from app.services.outbox.sms import LoggingSmsGateway, SmsGateway, notice_sms

BATCH = 100
# POST (url, body, headers, timeout) and return the status code; raise OSError when unreachable.
HttpPost = Callable[[str, bytes, dict[str, str], float], int]


def enqueue(session: Session, *, hazard: Hazard, event: Event) -> None:
    """Add the event's message to the caller's transaction: small, and no photo bytes."""
    session.add(OutboxMessage(
        topic=event.action, hazard_id=hazard.id, event_id=event.id, created_at=event.at,
        payload={
            "hazard": {"id": hazard.id, "code": hazard.code, "level": str(hazard.level),
                       "state": event.to_state},
            "event": {"id": event.id, "seq": event.seq, "action": event.action,
                      "from_state": event.from_state, "to_state": event.to_state,
                      "at": event.at.isoformat(), "actor_role": event.actor_role,
                      "note": event.note},
        }))


CHECKPOINT_TOPIC = "audit_checkpoint"


def enqueue_checkpoint(session: Session, *, checkpoint: AuditCheckpoint) -> None:
    """Add the signed checkpoint's message to the caller's transaction: what it signed (the
    exact payload string and its Ed25519 signature, so a receiver can verify it with the
    public key) and its fields for reading; not the heads (one line per hazard). The heads'
    digest fields are named as signed: heads_sha256, or heads_sm3 under CRYPTO_PROFILE=gm."""
    digests = {name: value for name, value in json.loads(checkpoint.payload).items()
               if name.startswith(("heads_", "previous_heads_"))}
    session.add(OutboxMessage(
        topic=CHECKPOINT_TOPIC, hazard_id=None, event_id=None, created_at=checkpoint.taken_at,
        payload={"checkpoint": {
            "id": checkpoint.id, "taken_at": checkpoint.taken_at.isoformat(),
            "hazards": checkpoint.hazards, "events": checkpoint.events,
            **digests,
            "key_id": checkpoint.key_id,
            "payload": checkpoint.payload, "signature": checkpoint.signature}}))


@dataclass
class DeliveryReport:
    dispatched: int = 0  # outbox messages fanned out
    sms: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    url: str
    secret: str
    message_id: int
    topic: str
    payload: dict[str, Any]


def deliver_due(sessions: sessionmaker[Session], clock: Clock, *,
                http_client: HttpPost | None = None,
                sms: SmsGateway | None = None) -> DeliveryReport:
    """Fan out the committed messages, then try each delivery due now once; return counts."""
    report = DeliveryReport()
    while _dispatch(sessions, clock.now(), sms or LoggingSmsGateway(), report):
        pass
    # Only what is due when the run starts: a quick retry never keeps the worker here.
    due = clock.now()
    while (claim := _claim(sessions, due, clock.now())) is not None:
        started = time.monotonic()
        status_code, error = _attempt(claim, http_client or urllib_post, clock.now())
        _record(sessions, claim, clock.now(), status_code, error,
                round((time.monotonic() - started) * 1000), report)
    return report


def _dispatch(sessions: sessionmaker[Session], now: datetime, sms: SmsGateway,
              report: DeliveryReport) -> bool:
    """Fan out one batch of messages; False when none is waiting."""
    with sessions() as session, transaction(session) as tx:
        # Outer joins: a message without a hazard (an audit checkpoint) has no region path.
        rows = tx.execute(
            select(OutboxMessage, Region.path)
            .outerjoin(Hazard, Hazard.id == OutboxMessage.hazard_id)
            .outerjoin(Region, Region.id == Hazard.region_id)
            .where(OutboxMessage.dispatched_at.is_(None))
            .order_by(OutboxMessage.id).limit(BATCH)
            .with_for_update(of=OutboxMessage, skip_locked=True)).all()
        hooks = tx.execute(select(Webhook, Region.path)
                           .join(Region, Region.id == Webhook.region_id)
                           .where(Webhook.active)).all() if rows else []
        every_hazard: _Scope | None = None
        for message, path in rows:
            if path is None and every_hazard is None:
                every_hazard = _scope_of_every_hazard(tx)
            for hook, hook_path in hooks:
                # A hook hears of its region subtree only, and nothing from before it; of a
                # message about every hazard (a checkpoint) only if they are all inside it.
                inside = (path.startswith(hook_path) if path is not None
                          else every_hazard is not None and every_hazard.inside(hook_path))
                if (inside and hook.created_at <= message.created_at
                        and (not hook.topics or message.topic in hook.topics)):
                    tx.add(WebhookDelivery(message_id=message.id, webhook_id=hook.id,
                                           next_attempt_at=now, log=[]))
            if message.topic == "supervision_notice":
                event = tx.get_one(Event, message.event_id)
                for address, text in notice_sms(message.payload["hazard"]["code"],
                                                event.data):
                    sms.send(address, text)
                    report.sms += 1
            message.dispatched_at = now
    report.dispatched += len(rows)
    return bool(rows)


@dataclass(frozen=True)
class _Scope:
    """The smallest region subtree holding every hazard (None: there are no hazards)."""

    path: str | None

    def inside(self, hook_path: str) -> bool:
        return self.path is None or self.path.startswith(hook_path)


def _scope_of_every_hazard(session: Session) -> _Scope:
    """The common ancestor of the regions holding hazards: the common prefix of the least
    and greatest of their paths is that of all of them (one probe per region, not a read
    of every hazard), cut back to a whole path ("/33/3399/")."""
    least, greatest = session.execute(
        select(func.min(Region.path), func.max(Region.path))
        .where(select(Hazard.id).where(Hazard.region_id == Region.id).exists())).one()
    if least is None:
        return _Scope(None)
    same = next((i for i, (a, b) in enumerate(zip(least, greatest, strict=False)) if a != b),
                min(len(least), len(greatest)))
    return _Scope(least[:least.rfind("/", 0, same) + 1])


def _claim(sessions: sessionmaker[Session], due: datetime, now: datetime) -> _Claim | None:
    lease = timedelta(seconds=get_settings().webhook_timeout_seconds + 60)
    claim = None
    with sessions() as session, transaction(session) as tx:
        row = tx.execute(
            select(WebhookDelivery, Webhook, OutboxMessage)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .join(OutboxMessage, OutboxMessage.id == WebhookDelivery.message_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= due,
                   Webhook.active)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(1)
            .with_for_update(of=WebhookDelivery, skip_locked=True)).first()
        if row is not None:
            delivery, hook, message = row
            delivery.next_attempt_at = now + lease
            claim = _Claim(delivery.id, hook.url, hook.secret, message.id, message.topic,
                           message.payload)
    return claim


def sign(secret: str, body: bytes) -> str:
    """The X-Bihuan-Signature value: HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _attempt(claim: _Claim, post: HttpPost, now: datetime) -> tuple[int | None, str | None]:
    """POST the signed message; (status code, error), error None when it was delivered."""
    timestamp = int(now.timestamp())
    # The timestamp is inside the signed body too, so a receiver can refuse stale replays.
    body = json.dumps({"delivery_id": claim.delivery_id, "message_id": claim.message_id,
                       "topic": claim.topic, "timestamp": timestamp, **claim.payload},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=utf-8",
               "User-Agent": "bihuan-webhook/1",
               "X-Bihuan-Signature": sign(claim.secret, body),
               "X-Bihuan-Timestamp": str(timestamp),
               "X-Bihuan-Delivery": str(claim.delivery_id),
               "X-Bihuan-Topic": claim.topic}
    try:
        status_code = post(claim.url, body, headers, get_settings().webhook_timeout_seconds)
    except (OSError, HTTPException, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    return status_code, None if 200 <= status_code < 300 else f"HTTP {status_code}"


def retry_delay(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: base * 2**(n-1) seconds, at most the cap."""
    settings = get_settings()
    seconds = settings.webhook_retry_base_seconds * 2 ** min(attempts - 1, 40)
    return timedelta(seconds=min(seconds, settings.webhook_retry_cap_seconds))


def _record(sessions: sessionmaker[Session], claim: _Claim, now: datetime,
            status_code: int | None, error: str | None, ms: int,
            report: DeliveryReport) -> None:
    with sessions() as session, transaction(session) as tx:
        delivery = tx.get_one(WebhookDelivery, claim.delivery_id)
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = status_code, error
        delivery.log = [*delivery.log, {"at": now.isoformat(), "status_code": status_code,
                                        "error": error, "ms": ms}]
        if error is None:
            delivery.status, delivery.delivered_at = "delivered", now
            report.delivered += 1
        elif delivery.attempts >= get_settings().webhook_max_attempts:
            delivery.status = "dead"
            report.dead += 1
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            report.retrying += 1


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is a failed attempt: following it would resend the body to another host.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


# --- where a webhook may point ------------------------------------------------------------
# Only public addresses, unless WEBHOOK_ALLOW_PRIVATE: a subscription must never make the
# server call itself or the network behind it (its database, a metadata service at
# 169.254.169.254, a router's admin page). Checked when a webhook is subscribed, and again
# at each delivery on the addresses the name resolves to then, connecting to the very
# address checked (a name that resolved to a public address at subscription and to
# 127.0.0.1 since, DNS rebinding, is refused).

class UnsafeDestination(ValueError):
    """The URL names an address a webhook may not reach."""


def address_refusal(address: str) -> str | None:
    """Why a webhook may not reach this IP address; None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, what in ((ip.is_loopback, "本机回环"), (ip.is_link_local, "链路本地"),
                       (ip.is_private, "内网"), (ip.is_multicast, "组播"),
                       (ip.is_unspecified, "未指定"), (ip.is_reserved, "保留")):
        if test:
            return f"{address}（{what}地址）"
    return None if ip.is_global else f"{address}（非公网地址）"


def _host_of(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url}")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return None


def resolve_destination(url: str) -> list[str]:
    """The addresses a delivery to this URL may connect to (all the name resolves to);
    raise UnsafeDestination when any is not public, OSError when it does not resolve."""
    host, port = _host_of(url)
    if (literal := _literal(host)) is not None:
        addresses = [literal]
    else:
        if host.rstrip(".").lower() == "localhost" or host.rstrip(".").lower().endswith(
                ".localhost"):
            raise UnsafeDestination(f"{host}（本机回环地址）")
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    refusals = [r for r in map(address_refusal, addresses) if r is not None]
    if refusals:
        raise UnsafeDestination("、".join(refusals))
    return addresses


def check_subscribable(url: str) -> None:
    """422 for a URL that names (or resolves now to) an address a webhook may not reach.
    A name that does not resolve yet is accepted: every delivery checks it again."""
    if get_settings().webhook_allow_private:
        return
    try:
        resolve_destination(url)
    except UnsafeDestination as refused:
        raise Unprocessable([{
            "loc": ["body", "url"], "type": "value_error.webhook_destination",
            "msg": f"Webhook 地址不能指向本机、内网或链路本地地址：{refused}"
                   "（确需如此，由运维设置 WEBHOOK_ALLOW_PRIVATE）"}]) from None
    except OSError:
        return


class _Pinned:
    """http.client connections that connect to one checked address, whatever the name
    resolves to by then; the Host header, TLS SNI and certificate check keep the name."""

    def __init__(self, address: str) -> None:
        self.address = address

    def connection(self, base: type[http.client.HTTPConnection]) -> Callable[..., Any]:
        address = self.address

        def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            conn = base(host, **kwargs)

            def connect_to_checked(where: tuple[str, int], *args: Any) -> socket.socket:
                return socket.create_connection((address, where[1]), *args)

            conn._create_connection = connect_to_checked  # type: ignore[attr-defined]
            return conn

        return make


class _PinnedHTTP(urllib.request.HTTPHandler):
    def __init__(self, pinned: _Pinned) -> None:
        super().__init__()
        self.pinned = pinned

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(self.pinned.connection(http.client.HTTPConnection), req)


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, pinned: _Pinned) -> None:
        super().__init__()
        self.pinned = pinned

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(self.pinned.connection(http.client.HTTPSConnection), req,
                            context=self._context)  # type: ignore[attr-defined]


def _opener_for(url: str) -> urllib.request.OpenerDirector:
    """The opener of one delivery: any address when private ones are allowed; else one
    connecting to the address just checked. Through a configured proxy the proxy resolves
    the name, so only the check stands there."""
    if get_settings().webhook_allow_private:
        return _opener
    addresses = resolve_destination(url)
    host, _ = _host_of(url)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(host):
        return _opener
    pinned = _Pinned(addresses[0])
    return urllib.request.build_opener(_NoRedirect, _PinnedHTTP(pinned), _PinnedHTTPS(pinned))


def urllib_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    opener = _opener_for(url)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


# Subscriptions: an admin manages the webhooks of the region subtree they answer for.

def _admin_scope(actor: Actor) -> str:
    require_role(actor, "webhooks")
    if not actor.region_path:
        raise Forbidden("该账号未设置所辖区域")
    return actor.region_path


def create_webhook(session: Session, *, actor: Actor, url: str, topics: list[str],
                   region_id: int | None, now: datetime) -> Webhook:
    """A new subscription (default: the admin's whole region) with a fresh signing secret."""
    scope = _admin_scope(actor)
    region_id = actor.region_id if region_id is None else region_id
    region = session.get(Region, region_id) if valid_id(region_id) else None
    if region is None or not region.path.startswith(scope):
        raise NotFound("区域不存在")
    check_subscribable(url)
    hook = Webhook(url=url, secret=secrets.token_hex(32), topics=sorted(set(topics)),
                   region_id=region.id, active=True, created_by_id=actor.id, created_at=now)
    session.add(hook)
    session.flush()
    # The signing secret never goes into the log. (Imported here: the audit log imports the
    # timeline, which imports this module.)
    from app.services.audit import log as audit_log

    audit_log.record(session, who=audit_log.Who.of_actor(actor),
                     action=audit_log.AuditAction.setting_change, at=now,
                     object=f"webhook:{hook.id}", detail={"before": None, "after": {
                         "url": hook.url, "topics": hook.topics,
                         "region_id": hook.region_id, "active": True}})
    return hook


def list_webhooks(session: Session, *, actor: Actor) -> list[Webhook]:
    scope = _admin_scope(actor)
    return list(session.scalars(
        select(Webhook).join(Region, Region.id == Webhook.region_id)
        .where(Region.path.startswith(scope, autoescape=True)).order_by(Webhook.id)))


def _visible_webhook(session: Session, actor: Actor, webhook_id: int) -> Webhook:
    scope = _admin_scope(actor)
    hook = session.get(Webhook, webhook_id) if valid_id(webhook_id) else None
    if hook is None:
        raise NotFound("Webhook 不存在")
    if not session.get_one(Region, hook.region_id).path.startswith(scope):
        raise OutOfScope("Webhook 不存在", object=f"webhook:{hook.id}")
    return hook


def deactivate_webhook(session: Session, *, actor: Actor, webhook_id: int,
                       now: datetime) -> Webhook:
    """Stop the subscription; its pending deliveries become dead letters."""
    from app.services.audit import log as audit_log

    hook = _visible_webhook(session, actor, webhook_id)
    audit_log.record(session, who=audit_log.Who.of_actor(actor),
                     action=audit_log.AuditAction.setting_change, at=now,
                     object=f"webhook:{hook.id}",
                     detail={"before": {"active": hook.active}, "after": {"active": False}})
    hook.active = False
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.webhook_id == hook.id,
                           WebhookDelivery.status == "pending")
                    .values(status="dead", last_error="webhook deactivated"))
    return hook


def deliveries_of(session: Session, *, actor: Actor, webhook_id: int) -> list[WebhookDelivery]:
    """The delivery log of one webhook, newest first (the latest 200)."""
    hook = _visible_webhook(session, actor, webhook_id)
    return list(session.scalars(select(WebhookDelivery)
                                .where(WebhookDelivery.webhook_id == hook.id)
                                .order_by(WebhookDelivery.id.desc()).limit(200)))
