"""The public tip pages (no account, no cookie): /tip, and the status page of a receipt."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.core.errors import DomainError
from app.core.schemas import MAX_ID
from app.http.deps import ClockDep, SessionDep, TipFormDep, client_address
from app.http.idempotency import REPLAYED_HEADER, KeyHeader, form_fingerprint
from app.services.checks import safety_code
from app.services.tips import receipts
from app.services.tips import report as tip_report
from app.web.responses import page, redirect, reject, typed_values

router = APIRouter(include_in_schema=False)

STATUS_WORDS = {"received": "已受理，核查中", "converted": "已交办整改", "merged": "处理中",
                "rejected": "不予受理", "closed": "已办结"}


@router.get("/tip", response_class=HTMLResponse)
def tip_form(request: Request, session: SessionDep,
             enterprise: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
             s: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    """The tip form; from an enterprise's 安全码 (`?enterprise=&s=`), about that enterprise."""
    if enterprise is None:
        return page(request, "tip.html", values={}, errors={})
    named = safety_code.public_enterprise(session, enterprise, s)
    return page(request, "tip.html", errors={}, about=named.name,
                values={"enterprise_code": safety_code.tip_code(named.id)})


@router.post("/tip", response_class=HTMLResponse)
def send_tip(request: Request, form: TipFormDep, session: SessionDep, clock: ClockDep,
             key: KeyHeader = None) -> HTMLResponse:
    """The form sent by the browser, or an offline draft sent by offline.js with its
    Idempotency-Key: a retry of the same draft shows the same receipt, stored once."""
    once = tip_report.SentOnce(key, form_fingerprint(request, form)) if key else None
    try:
        tip, replayed = tip_report.submit_tip_once(
            session, form=form.fields, uploads=form.photos, address=client_address(request),
            clock=clock, channel="page", once=once)
    except DomainError as error:
        raise reject(request, error, "tip.html", values=typed_values(form)) from error
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return page(request, "tip_sent.html", status=201, headers=headers, receipt=tip.receipt)


@router.get("/tip/status", response_class=HTMLResponse)
def status_form(request: Request,
                receipt: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    if receipt:
        return redirect(request, f"/tip/status/{receipt.strip()}")
    return page(request, "tip_status.html", tip_state=None, status_words=STATUS_WORDS)


@router.get("/tip/status/{receipt}", response_class=HTMLResponse)
def tip_status(request: Request, receipt: str, session: SessionDep) -> HTMLResponse:
    status = receipts.tip_status(session, receipt)  # 404 page for an unknown receipt
    return page(request, "tip_status.html", tip_state=status, status_words=STATUS_WORDS,
                receipt=receipt)
