"""The `Idempotency-Key` header on the pages' POST forms (offline drafts send one).

The same logic as the API (app/http/idempotency.py, app/http/idempotency_keys.py), keyed by the
user of the page's cookie session.
"""

from typing import Annotated

from fastapi import Depends, Request

from app.http.deps import ClockDep, SessionDep
from app.http.idempotency import Idempotency, KeyHeader
from app.web.session import WebActorDep


def web_idempotency(request: Request, actor: WebActorDep, session: SessionDep, clock: ClockDep,
                    key: KeyHeader = None) -> Idempotency:
    return Idempotency(session=session, user_id=actor.id, key=key,
                       method=request.method, path=request.url.path, clock=clock)


WebIdempotencyDep = Annotated[Idempotency, Depends(web_idempotency)]
