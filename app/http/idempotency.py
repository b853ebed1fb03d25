"""The `Idempotency-Key` header on create and action endpoints (logic: services.idempotency)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.clock import Clock
from app.http import idempotency_keys as idempotency
from app.http.deps import ActorDep, ClockDep, SessionDep
from app.http.idempotency_keys import Outcome
from app.http.uploads import StagedForm

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass
class Idempotency:
    """What an endpoint needs to do its work at most once per key."""

    session: Session
    user_id: int
    key: str | None
    method: str
    path: str
    clock: Clock

    async def json(self, work: Callable[[], BaseModel], *, status_code: int = 200,
                   form: StagedForm | None = None) -> Any:
        """Run `work` (in the thread pool) once; its model is the JSON answer."""
        if self.key is None:
            return await run_in_threadpool(work)

        def outcome() -> Outcome:
            return Outcome(status_code, work().model_dump_json(by_alias=True))

        result = await self._run(outcome, form)
        return Response(result.body, status_code=result.status_code,
                        media_type="application/json", headers=self._headers(result))

    async def location(self, work: Callable[[], str], *,
                       form: StagedForm | None = None) -> str:
        """Run `work` (in the thread pool) once; it returns the URL a page redirects to
        (303) after the POST, and a retry gets that same URL."""
        if self.key is None:
            return await run_in_threadpool(work)
        result = await self._run(lambda: Outcome(303, location=work()), form)
        assert result.location is not None
        return result.location

    async def _run(self, work: Callable[[], Outcome], form: StagedForm | None) -> Outcome:
        assert self.key is not None
        fields = form.fields if form else {}
        files = [(f.field_name, f.sha256) for f in form.files] if form else []
        request_fingerprint = idempotency.fingerprint(
            method=self.method, path=self.path, fields=fields, files=files)
        return await run_in_threadpool(
            idempotency.run_once, self.session, user_id=self.user_id, key=self.key,
            method=self.method, path=self.path, request_fingerprint=request_fingerprint,
            now=self.clock.now(), work=work)

    @staticmethod
    def _headers(result: Outcome) -> dict[str, str]:
        return {REPLAYED_HEADER: "true"} if result.replayed else {}


def form_fingerprint(request: Request, form: StagedForm) -> str:
    """What makes a retried form the same request (its fields and its files' SHA-256)."""
    return idempotency.fingerprint(method=request.method, path=request.url.path,
                                   fields=form.fields,
                                   files=[(f.field_name, f.sha256) for f in form.files])


KeyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=idempotency.MAX_KEY_LENGTH,
    pattern=idempotency.KEY_PATTERN,
    description="客户端为一次提交生成的唯一键（如 UUID）：重试时带同一个键，只会执行一次，"
                "返回第一次的结果")]


def api_idempotency(request: Request, actor: ActorDep, session: SessionDep, clock: ClockDep,
                    key: KeyHeader = None) -> Idempotency:
    return Idempotency(session=session, user_id=actor.id, key=key,
                       method=request.method, path=request.url.path, clock=clock)


IdempotencyDep = Annotated[Idempotency, Depends(api_idempotency)]
