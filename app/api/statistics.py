"""季度统计分析: GET the quarter's figures (JSON or XLSX), POST a filing (上报), list filings."""

import gc
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.config import get_settings
from app.core.errors import PayloadTooLarge
from app.http.deps import ActorDep, ClockDep, SessionDep, action_form_limits
from app.http.openapi import BINARY, errors, form_body
from app.http.uploads import read_streaming_form
from app.services.audit.log import record_export
from app.services.statistics import filing as quarterly_filing
from app.services.statistics import quarterly
from app.services.statistics import report as quarterly_report
from app.services.statistics import xlsx as quarterly_xlsx
from app.services.statistics.schemas import FilingOut, GroupBy, QuarterlyOut

router = APIRouter(prefix="/statistics", tags=["statistics"])

Year = Annotated[int, Query(ge=quarterly.MIN_YEAR, le=quarterly.MAX_YEAR, description="年度")]
QuarterNo = Annotated[int, Query(ge=1, le=4, description="季度 1–4")]
MAX_JSON_BYTES = 64 * 1024


class StatisticsFormat(StrEnum):
    json = "json"
    xlsx = "xlsx"


@router.get(
    "/quarterly",
    response_model=QuarterlyOut,
    responses={200: {"description": "季度统计（JSON，或 format=xlsx 时为 XLSX 附件）",
                     "content": {quarterly_xlsx.MEDIA_TYPE: BINARY}},
               **errors(401, 403, 404, 422)},
)
def quarterly_statistics(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    year: Year,
    quarter: QuarterNo,
    by: Annotated[GroupBy, Query(description="按企业、监管单位或区域汇总")] = (
        GroupBy.enterprise
    ),
    region_id: Annotated[
        int | None, Query(description="限定区域（含下级）；按区域汇总时为起始区域")
    ] = None,
    fmt: Annotated[StatisticsFormat, Query(alias="format")] = StatisticsFormat.json,
) -> Any:
    """季度统计分析 of what the caller may see: an enterprise user its own enterprise, an
    inspector its unit's enterprises, a committee or admin its region; with the due date, each
    filer's filing status and who has not filed."""
    with gc_paused():
        report = quarterly_report.quarterly_report(
            session, actor=actor, year=year, quarter=quarter, by=by, region_id=region_id,
            clock=clock)
        if fmt == StatisticsFormat.json:
            # Serialised once, here: returned as a model it would be validated again.
            return Response(QuarterlyOut.of(report).model_dump_json(),
                            media_type="application/json")
        content = quarterly_xlsx.write_quarterly_xlsx(report)
    record_export(session, actor=actor, at=clock.now(), object="statistics",
                  detail={"format": "xlsx", "year": year, "quarter": quarter, "by": str(by),
                          "region_id": region_id})
    name, ascii_name = quarterly_xlsx.file_names(report)
    return Response(
        content,
        media_type=quarterly_xlsx.MEDIA_TYPE,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
            ),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile. A province's report allocates some hundred
    thousand short-lived objects, none in a cycle; each allocation burst would otherwise
    trigger collections that walk the whole process's heap (a third of the request's time,
    bench/bench_quarterly.py). Reference counting still frees everything as usual. Requests
    overlapping on other threads: the first to pause resumes collection when it is done."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def filing_actor(actor: ActorDep) -> Actor:
    # Before the body is read: a role that may never file gets 403, whatever it sent.
    require_role(actor, "quarterly_filing")
    return actor


async def read_fields(request: Request) -> AsyncIterator[dict[str, Any]]:
    """The body's fields: a JSON object, or a URL-encoded or multipart form."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "application/json":
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_JSON_BYTES:
                raise PayloadTooLarge("请求内容过大")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise quarterly.invalid("body", "json", "JSON 格式错误") from None
        if not isinstance(data, dict):
            raise quarterly.invalid("body", "json", "请求体应为 JSON 对象")
        yield data
        return
    settings = get_settings()
    form = await read_streaming_form(content_type, request.stream(), action_form_limits(),
                                     settings.media_root / "staging")
    try:
        yield dict(form.fields)
    finally:
        form.discard()


@router.post("/quarterly/filings", response_model=FilingOut, status_code=201,
             openapi_extra=form_body("QuarterlyFilingForm", quarterly_filing.FilingFields,
                                     json=True),
             responses=errors(401, 403, 409, 413, 415, 422))
def file_quarterly(
    actor: Annotated[Actor, Depends(filing_actor)],
    fields: Annotated[dict[str, Any], Depends(read_fields, scope="function")],
    session: SessionDep,
    clock: ClockDep,
) -> FilingOut:
    """上报季度统计: an enterprise user files its enterprise's figures, an inspector its unit's,
    for a quarter that has ended. Filing again adds a new version (201); the latest counts."""
    filing = quarterly_filing.file_quarterly(session, actor=actor, data=fields, clock=clock)
    return FilingOut.of(filing)


@router.get("/quarterly/filings", response_model=list[FilingOut],
            responses=errors(401, 403, 422))
def list_filings(
    actor: ActorDep, session: SessionDep, year: Year, quarter: QuarterNo
) -> list[FilingOut]:
    """Every filing (all versions) for the quarter by the enterprises and units in scope."""
    filings = quarterly_filing.list_filings(session, actor=actor, year=year, quarter=quarter)
    return [FilingOut.of(f) for f in filings]
