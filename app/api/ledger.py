"""隐患台账 export: GET /api/v1/hazards/ledger?format=xlsx|csv, with the hazard list's filters.

Registered before the hazards router (app/main.py): otherwise `/hazards/{hazard_id}` would
take "ledger" for a hazard id and answer 422.
"""

from collections.abc import Iterator
from typing import IO, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from app.api.deps import ActorDep, ClockDep, HazardFiltersDep, SessionDep
from app.clock import Clock, local_today
from app.permissions import Actor
from app.services import ledger as ledger_service
from app.services.hazards import HazardFilters

router = APIRouter(prefix="/hazards", tags=["hazards"])

CHUNK = 256 * 1024


@router.get(
    "/ledger",
    response_class=StreamingResponse,
    responses={200: {
        "description": "隐患台账 (XLSX, or CSV in UTF-8 with a BOM), as an attachment",
        "content": {media_type: {} for media_type in ledger_service.MEDIA_TYPES.values()},
    }},
)
def export_ledger(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    filters: HazardFiltersDep,
    fmt: Annotated[ledger_service.LedgerFormat, Query(alias="format")] = (
        ledger_service.LedgerFormat.xlsx
    ),
) -> StreamingResponse:
    """隐患台账: every hazard the caller may see that matches the filters, oldest first."""
    return ledger_response(session, actor, filters, clock, fmt)


def ledger_response(session: Session, actor: Actor, filters: HazardFilters, clock: Clock,
                    fmt: ledger_service.LedgerFormat) -> StreamingResponse:
    """The export as a download, for the API and for the pages alike."""
    # The database is read here, while the request's transaction is open, rows streamed from
    # the cursor into a temporary file in batches (memory stays flat); the transaction ends when
    # this returns (SessionDep commits) and the response is sent from disk. Streaming from the
    # cursor to the client instead would hold the transaction open for as long as the slowest
    # client takes to download, and on SQLite every transaction is BEGIN IMMEDIATE: it holds
    # the write lock, so every other request waits (busy_timeout 30 s, then fails).
    # For the same reason the XLSX is written after the transaction: openpyxl takes ~0.3 ms a
    # row (30 s for 100,000), reading the rows about a tenth of that (bench/bench_ledger.py).
    # The price: its headers go out first (no Content-Length), so a failure while writing it
    # (a full disk) ends the download unfinished instead of answering 500.
    name, ascii_name = ledger_service.file_names(fmt, local_today(clock))
    headers = {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
        ),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    spool = ledger_service.spool_file()
    try:
        if fmt == ledger_service.LedgerFormat.csv:
            ledger_service.export_ledger(
                session, actor=actor, filters=filters, clock=clock, fmt=fmt, out=spool
            )
            headers["Content-Length"] = str(spool.tell())
            spool.seek(0)
            body = _chunks(spool)
        else:
            ledger_service.spool_rows(
                session, actor=actor, filters=filters, clock=clock, out=spool,
                max_rows=ledger_service.XLSX_MAX_ROWS,
            )
            body = _xlsx_chunks(spool)
    except BaseException:
        spool.close()
        raise
    return StreamingResponse(
        body, media_type=ledger_service.MEDIA_TYPES[fmt], headers=headers,
        # The generators close the files; this covers a response that never started them.
        background=BackgroundTask(spool.close),
    )


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


def _xlsx_chunks(rows: IO[bytes]) -> Iterator[bytes]:
    """Write the spooled rows as XLSX (after the transaction), then send the file."""
    workbook = ledger_service.spool_file()
    try:
        try:
            ledger_service.write_xlsx(ledger_service.spooled_rows(rows), workbook)
        finally:
            rows.close()
        workbook.seek(0)
    except BaseException:
        workbook.close()
        raise
    yield from _chunks(workbook)
