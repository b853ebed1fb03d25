"""Idempotency keys: a retried create or action answers with the first result, done once.

A client (the offline drafts of the web pages, a phone on a weak signal) sends an
`Idempotency-Key` header it chose for one submission and sends the same key on every retry.

- The key is claimed in the request's own transaction, before the effect, and its row gets
  the response once the effect is done. The row therefore exists exactly when the effect
  does: a request that fails (any error status) leaves no key, so errors are never replayed
  and a retry with the same key is simply tried again.
- Keys are per user. The same key with a different request (method, path, form fields, the
  SHA-256 of each file) answers 422.
- A concurrent duplicate waits for the first and then answers as it did: on PostgreSQL its
  INSERT of the key blocks on the unique index until the first commits (or rolls back, and
  then it goes ahead itself); SQLite writers are serialised by BEGIN IMMEDIATE.
- Rows older than IDEMPOTENCY_KEY_HOURS are deleted by `bihuan worker`; until then a key is
  replayed however old it is.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import Conflict, Unprocessable
from app.models import IdempotencyKey

MAX_KEY_LENGTH = 255
# Printable ASCII without spaces: what a UUID or any sane token is made of.
KEY_PATTERN = r"^[\x21-\x7e]+$"
# Form fields that differ between two sends of the same submission (a web form's CSRF token
# is renewed at each login) and so are left out of the fingerprint.
UNFINGERPRINTED_FIELDS = frozenset({"csrf_token"})


@dataclass(frozen=True)
class Outcome:
    """A response worth replaying: its status, JSON body ("" for a redirect), redirect target."""

    status_code: int
    body: str = ""
    location: str | None = None
    replayed: bool = False


def fingerprint(*, method: str, path: str, fields: Mapping[str, str],
                files: Iterable[tuple[str, str]]) -> str:
    """SHA-256 (hex) of what makes two requests the same: method, path, the form fields and
    each file part as (field name, SHA-256 of its bytes), in the order sent. A blank field
    counts as absent, as it does when the fields are read (workflow.fields.parse_fields): an
    offline draft made by an older page, without a field added since, is still the same."""
    material = {
        "method": method.upper(),
        "path": path,
        "fields": sorted((k, v) for k, v in fields.items()
                         if k not in UNFINGERPRINTED_FIELDS and v.strip()),
        "files": [list(f) for f in files],
    }
    encoded = json.dumps(material, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def run_once(session: Session, *, user_id: int, key: str, method: str, path: str,
             request_fingerprint: str, now: datetime,
             work: Callable[[], Outcome]) -> Outcome:
    """Do `work` once for (user, key): the first call does it and records its outcome in the
    same transaction; later calls with the same request get that outcome (replayed=True);
    with another request they raise 422."""
    earlier = _find(session, user_id, key)
    if earlier is not None:
        return _replay(earlier, request_fingerprint)
    claim = IdempotencyKey(user_id=user_id, key=key, method=method.upper(), path=path[:500],
                           fingerprint=request_fingerprint, status_code=0, body="",
                           created_at=now)
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        # A duplicate in flight committed first (our INSERT waited for it): answer as it did.
        earlier = _find(session, user_id, key)
        if earlier is None:  # deleted in between by the worker: too old to tell
            raise Conflict("同一请求正在处理，请稍后重试") from None
        return _replay(earlier, request_fingerprint)
    outcome = work()
    claim.status_code, claim.body, claim.location = (
        outcome.status_code, outcome.body, outcome.location)
    session.flush()
    return outcome


def purge_expired(session: Session, *, now: datetime, max_age: timedelta) -> int:
    """Delete keys older than `max_age`; returns how many."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - max_age))
    return int(getattr(result, "rowcount", 0) or 0)


def _find(session: Session, user_id: int, key: str) -> IdempotencyKey | None:
    return session.scalars(select(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)).one_or_none()


def _replay(record: IdempotencyKey, request_fingerprint: str) -> Outcome:
    if record.fingerprint != request_fingerprint:
        raise Unprocessable("Idempotency-Key 已用于另一个不同的请求；新的请求请换一个键")
    return Outcome(record.status_code, record.body, record.location, replayed=True)
