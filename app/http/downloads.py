"""Downloads answered alike by the API and the pages: photos, the ledger, the dossier page."""

from collections.abc import Iterator
from typing import IO
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from app.access.actor import Actor
from app.core.clock import Clock, local_today
from app.core.errors import NotFound
from app.http.render import render
from app.services.audit import search as audit_search
from app.services.audit.log import record_export
from app.services.audit.search import AuditFilters
from app.services.criteria.schemas import citation
from app.services.hazards import dossier as dossier_service
from app.services.hazards import ledger as ledger_service
from app.services.hazards import photos as photo_service
from app.services.hazards.filters import HazardFilters
from app.services.media.storage import get_storage
from app.services.tips import triage as tip_triage

CHUNK = 256 * 1024
CACHE = "private, max-age=31536000, immutable"


async def photo_response(request: Request, session: Session, actor: Actor, photo_id: int,
                         variant: str | None) -> Response:
    """The photo for the API and for the pages alike: scoped by photos.visible_photo."""
    photo = await run_in_threadpool(photo_service.visible_photo, session, actor, photo_id)
    etag = f'"{photo.sha256}{"-" + variant if variant else ""}"'
    headers = {"ETag": etag, "Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if variant:
        data = await run_in_threadpool(photo_service.derivative, photo, variant)
        headers["Content-Disposition"] = f'inline; filename="photo-{photo.id}-{variant}.jpg"'
        return Response(data, media_type="image/jpeg", headers=headers)
    ext = photo.content_type.split("/")[-1]
    headers["Content-Disposition"] = f'inline; filename="photo-{photo.id}.{ext}"'
    headers["Content-Length"] = str(photo.size_bytes)
    return StreamingResponse(
        _blob_chunks(photo.sha256), media_type=photo.content_type, headers=headers
    )


def tip_photo_response(session: Session, actor: Actor, tip_id: int, photo_id: int,
                       variant: str | None) -> Response:
    """A tip's photo for its handling staff (API and pages): never cached by the browser,
    the original with its EXIF (GPS included: staff only)."""
    photo = tip_triage.visible_tip_photo(session, actor, tip_id, photo_id)
    storage = get_storage()
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if variant:
        data = storage.get_derived(photo.sha256, variant)
        if data is None:
            raise NotFound("照片不存在")
        return Response(data, media_type="image/jpeg", headers=headers)
    with storage.open(photo.sha256) as blob:
        return Response(blob.read(), media_type=photo.content_type, headers=headers)


def _blob_chunks(sha256: str) -> Iterator[bytes]:
    with get_storage().open(sha256) as blob:
        while chunk := blob.read(CHUNK):
            yield chunk


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
    record_export(session, actor=actor, at=clock.now(), object="ledger",
                  detail={"format": str(fmt), "filters": filters.params()})
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


def audit_csv_response(session: Session, actor: Actor, filters: AuditFilters,
                       clock: Clock) -> StreamingResponse:
    """The audit log's CSV export (recorded in the log), for the API and the page alike."""
    spool = audit_search.export_csv(session, actor=actor, filters=filters, clock=clock)
    name = audit_search.export_file_name(clock.now())
    return StreamingResponse(
        _chunks(spool), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"",
                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        background=BackgroundTask(spool.close))


def dossier_page(record: dossier_service.Dossier) -> HTMLResponse:
    """The printable dossier (photos embedded), for the API and for the pages alike."""
    page = render("dossier.html", **vars(record), write_off=record.write_off,
                  citation=(citation(record.criterion.document, record.criterion)
                            if record.criterion else None),
                  thumbs=dossier_service.thumbnails(record.hazard.photos))
    return HTMLResponse(page)
