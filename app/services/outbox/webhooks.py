"""The transactional outbox: notifications written with their event, sent after commit.

`enqueue` is called by append_event, so a message commits or rolls back with its event.
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
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.client import HTTPException
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.clock import Clock
from app.core.config import get_settings
from app.core.db import transaction, valid_id
from app.core.errors import Forbidden, NotFound
from app.models import Event, Hazard, OutboxMessage, Region, Webhook, WebhookDelivery
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
        rows = tx.execute(
            select(OutboxMessage, Region.path)
            .join(Hazard, Hazard.id == OutboxMessage.hazard_id)
            .join(Region, Region.id == Hazard.region_id)
            .where(OutboxMessage.dispatched_at.is_(None))
            .order_by(OutboxMessage.id).limit(BATCH)
            .with_for_update(of=OutboxMessage, skip_locked=True)).all()
        hooks = tx.execute(select(Webhook, Region.path)
                           .join(Region, Region.id == Webhook.region_id)
                           .where(Webhook.active)).all() if rows else []
        for message, path in rows:
            for hook, hook_path in hooks:
                # A hook hears of its region subtree only, and nothing from before it.
                if (path.startswith(hook_path) and hook.created_at <= message.created_at
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


def urllib_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=timeout) as response:
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
    hook = Webhook(url=url, secret=secrets.token_hex(32), topics=sorted(set(topics)),
                   region_id=region.id, active=True, created_by_id=actor.id, created_at=now)
    session.add(hook)
    session.flush()
    return hook


def list_webhooks(session: Session, *, actor: Actor) -> list[Webhook]:
    scope = _admin_scope(actor)
    return list(session.scalars(
        select(Webhook).join(Region, Region.id == Webhook.region_id)
        .where(Region.path.startswith(scope, autoescape=True)).order_by(Webhook.id)))


def _visible_webhook(session: Session, actor: Actor, webhook_id: int) -> Webhook:
    scope = _admin_scope(actor)
    hook = session.get(Webhook, webhook_id) if valid_id(webhook_id) else None
    if hook is None or not session.get_one(Region, hook.region_id).path.startswith(scope):
        raise NotFound("Webhook 不存在")
    return hook


def deactivate_webhook(session: Session, *, actor: Actor, webhook_id: int) -> Webhook:
    """Stop the subscription; its pending deliveries become dead letters."""
    hook = _visible_webhook(session, actor, webhook_id)
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
