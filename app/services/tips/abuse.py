"""Abuse control's record: every refused tip (rate limits, rejected uploads, bad fields) is
kept in tip_refusal — when, from which address, by which channel, why — so that the staff can
see a flood or a probe. Never the phone number or what the tip said.

A refusal rolls the request's work back; its record must still persist, so the refusal says
`keeps_transaction` once everything the attempt did has been undone (a savepoint)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.core.errors import DomainError
from app.models import TipRefusal

CHANNELS = ("api", "page", "open311")
# The kind of refusal when the code that refused did not name one, by HTTP status.
KIND_BY_STATUS = {413: "upload", 415: "upload", 422: "fields", 429: "rate_address"}
T = TypeVar("T")


def refusal_kind(error: DomainError, kind: str) -> DomainError:
    """Name what refused (e.g. `rate_phone`) on the error raised."""
    error.refusal_kind = kind  # type: ignore[attr-defined]
    return error


def _reason(detail: Any) -> str:
    if isinstance(detail, list):
        parts = [f"{'.'.join(str(x) for x in p.get('loc', [])[1:])}: {p.get('msg', '')}"
                 if isinstance(p, dict) else str(p) for p in detail]
        return "; ".join(parts)[:300]
    return str(detail)[:300]


def record_refusal(session: Session, *, error: DomainError, address: str, channel: str,
                   at: datetime) -> None:
    kind = getattr(error, "refusal_kind", None) or KIND_BY_STATUS.get(error.status_code, "other")
    session.add(TipRefusal(at=at, address=address[:64], channel=channel,
                           status=error.status_code, kind=kind, reason=_reason(error.detail)))
    session.flush()
    error.keeps_transaction = True  # the record outlives the refusal's rollback


@contextmanager
def refusals_recorded(session: Session, *, address: str, channel: str,
                      now: Callable[[], datetime]) -> Iterator[None]:
    """Run an attempt in a savepoint; a refusal undoes the attempt and is recorded."""
    try:
        with session.begin_nested():
            yield
    except DomainError as error:
        record_refusal(session, error=error, address=address, channel=channel, at=now())
        raise
