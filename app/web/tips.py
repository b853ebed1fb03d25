"""The public tip pages (no account, no cookie): /tip, and the status page of a receipt; and
the handling staff's pages: /tips (the list) and /tips/{id} (the tip, its duplicate hints,
its timeline, triage and the reward), on the same services as the API."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import may
from app.access.scopes import reportable_enterprises
from app.core.clock import Clock, local_today
from app.core.errors import Conflict, DomainError, Unprocessable
from app.core.schemas import MAX_ID
from app.http.deps import ClockDep, SessionDep, TipFormDep, client_address
from app.http.downloads import tip_photo_response
from app.http.idempotency import REPLAYED_HEADER, KeyHeader, form_fingerprint
from app.services.checks import safety_code
from app.services.media.imaging.process import PhotoVariant
from app.services.tips import receipts, rewards, triage
from app.services.tips import report as tip_report
from app.services.tips.schemas import TipStatus, reward_of
from app.services.tips.timeline import tip_events
from app.web.responses import page, redirect, reject, typed_values
from app.web.session import CsrfFormDep, WebActorDep

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


# ---- The handling staff's pages (committee; an inspector for the tips routed to it) ----

TIP_ACTION_WORDS = {"convert": "转为隐患", "merge": "合并到已有隐患", "reject": "不予受理"}


@router.get("/tips", response_class=HTMLResponse)
def tip_list(request: Request, actor: WebActorDep, session: SessionDep, clock: ClockDep,
             status: TipStatus | None = None) -> HTMLResponse:
    tips = triage.list_tips(session, actor, status)
    return page(request, "tip_list.html", tips=tips, today=local_today(clock), chosen=status,
                status_words=STATUS_WORDS)


def _tip_context(session: Session, actor: Actor, tip_id: int, clock: Clock) -> dict[str, Any]:
    tip = triage.visible_tip(session, actor, tip_id)
    hazard_ids, tip_ids, photo_matches = triage.duplicate_hints(session, actor, tip)
    enterprises = list(session.scalars(reportable_enterprises(actor)))
    return {"tip": tip, "events": tip_events(session, tip.id), "today": local_today(clock),
            "similar_hazard_ids": hazard_ids, "similar_tip_ids": tip_ids,
            "photo_matches": photo_matches, "enterprises": enterprises,
            "status_words": STATUS_WORDS, "action_words": TIP_ACTION_WORDS,
            "may_reward": may(actor, "tip_reward"), "reward": reward_of(tip)}


@router.get("/tips/{tip_id:int}", response_class=HTMLResponse)
def tip_page(request: Request, tip_id: int, actor: WebActorDep, session: SessionDep,
             clock: ClockDep) -> HTMLResponse:
    context = _tip_context(session, actor, tip_id, clock)
    values = {"description": context["tip"].description, "location": context["tip"].location,
              "enterprise_id": str(context["tip"].enterprise_id or "")}
    return page(request, "tip_detail.html", values=values, errors={}, **context)


@router.get("/tips/{tip_id:int}/photos/{photo_id:int}")
def tip_photo(tip_id: int, photo_id: int, actor: WebActorDep, session: SessionDep,
              variant: PhotoVariant | None = None) -> Response:
    return tip_photo_response(session, actor, tip_id, photo_id, variant)


@router.post("/tips/{tip_id:int}/actions/{action}")
def tip_action(request: Request, tip_id: int, action: str, actor: WebActorDep,
               form: CsrfFormDep, session: SessionDep, clock: ClockDep) -> Response:
    """转为隐患 (then the hazard's page), 合并 or 不予受理 (then the tip's)."""
    try:
        tip = triage.perform_tip_action(session, actor=actor, tip_id=tip_id, action=action,
                                        form=form.fields, clock=clock)
    except (Unprocessable, Conflict) as error:
        raise reject(request, error, "tip_detail.html", values=typed_values(form),
                     **_tip_context(session, actor, tip_id, clock)) from None
    if action == "convert" and tip.hazard_id is not None:
        return redirect(request, f"/hazards/{tip.hazard_id}")
    return redirect(request, f"/tips/{tip_id}")


@router.post("/tips/{tip_id:int}/reward")
def tip_reward(request: Request, tip_id: int, actor: WebActorDep, form: CsrfFormDep,
               session: SessionDep, clock: ClockDep) -> Response:
    try:
        rewards.decide_reward(session, actor=actor, tip_id=tip_id, form=form.fields,
                              clock=clock)
    except (Unprocessable, Conflict) as error:
        raise reject(request, error, "tip_detail.html", values=typed_values(form),
                     **_tip_context(session, actor, tip_id, clock)) from None
    return redirect(request, f"/tips/{tip_id}")


@router.post("/tips/{tip_id:int}/reward/paid")
def tip_reward_paid(request: Request, tip_id: int, actor: WebActorDep, form: CsrfFormDep,
                    session: SessionDep, clock: ClockDep) -> Response:
    rewards.mark_paid(session, actor=actor, tip_id=tip_id, clock=clock)
    return redirect(request, f"/tips/{tip_id}")
