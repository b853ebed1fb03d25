"""Supervision endpoints: notices, extensions, interview and listing records, inbox."""

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from app.core.clock import local_today
from app.http import downloads
from app.http.deps import ActionFormDep, ActorDep, ClockDep, SessionDep
from app.http.idempotency import IdempotencyDep
from app.http.openapi import READ_ONE, UPLOAD, WRITE, errors, form_body
from app.services.hazards import dossier as dossier_service
from app.services.hazards.schemas import EventOut, HazardOut
from app.services.hazards.shown import hazard_out
from app.services.supervision import evaluation
from app.services.supervision import extensions as extension_service
from app.services.supervision import listing as listing_service
from app.services.supervision import notices as notice_service
from app.services.supervision.schemas import ExtensionOut, InboxMessageOut, NoticeOut
from app.workflow.fields import (
    DecisionFields,
    DelistingFields,
    EvaluationFields,
    ExtensionFields,
    InterviewFields,
    ListingFields,
)

router = APIRouter(tags=["supervision"])


@router.get("/notices", response_model=list[NoticeOut], responses=errors(401))
def list_notices(actor: ActorDep, session: SessionDep) -> list[NoticeOut]:
    """督办单 addressed to the caller's enterprise or unit (a committee: its region's)."""
    return [NoticeOut.model_validate(n) for n in notice_service.list_notices(session, actor=actor)]


@router.post("/notices/{notice_id:int}/ack", response_model=NoticeOut, responses=errors(*WRITE))
async def acknowledge_notice(notice_id: int, actor: ActorDep, session: SessionDep,
                             clock: ClockDep, once: IdempotencyDep) -> NoticeOut:
    def work() -> NoticeOut:
        notice = notice_service.acknowledge(session, actor=actor, notice_id=notice_id,
                                     now=clock.now())
        return NoticeOut.model_validate(notice)

    return await once.json(work)


@router.get("/hazards/{hazard_id:int}/extensions", response_model=list[ExtensionOut],
            responses=errors(*READ_ONE))
def list_extensions(hazard_id: int, actor: ActorDep, session: SessionDep) -> list[ExtensionOut]:
    """The deadline history: every extension request and its decision."""
    rows = extension_service.extensions_of(session, actor=actor, hazard_id=hazard_id)
    return [ExtensionOut.model_validate(e) for e in rows]


@router.post("/hazards/{hazard_id:int}/extensions", response_model=ExtensionOut,
             status_code=201, responses=errors(*UPLOAD),
             openapi_extra=form_body("ExtensionForm", ExtensionFields, photos=True))
async def request_extension(hazard_id: int, actor: ActorDep, form: ActionFormDep,
                            session: SessionDep, clock: ClockDep,
                            once: IdempotencyDep) -> ExtensionOut:
    """延期申请 (form: deadline, reason, interim_measures; photos optional)."""

    def work() -> ExtensionOut:
        extension = extension_service.request_extension(
            session, actor=actor, hazard_id=hazard_id, form=form.fields,
            uploads=form.photos, clock=clock)
        return ExtensionOut.model_validate(extension)

    return await once.json(work, status_code=201, form=form)


@router.post("/hazards/{hazard_id:int}/extensions/{extension_id:int}/decision",
             response_model=ExtensionOut, responses=errors(*WRITE),
             openapi_extra=form_body("ExtensionDecisionForm", DecisionFields))
async def decide_extension(hazard_id: int, extension_id: int, actor: ActorDep,
                           form: ActionFormDep, session: SessionDep,
                           clock: ClockDep) -> ExtensionOut:
    """The supervising unit approves or refuses (form: decision=approve|refuse, note)."""
    extension = await run_in_threadpool(
        extension_service.decide_extension, session, actor=actor, hazard_id=hazard_id,
        extension_id=extension_id, form=form.fields, clock=clock)
    return ExtensionOut.model_validate(extension)


@router.post("/hazards/{hazard_id:int}/interviews", response_model=HazardOut,
             responses=errors(*WRITE), openapi_extra=form_body("InterviewForm", InterviewFields))
async def record_interview(hazard_id: int, actor: ActorDep, form: ActionFormDep,
                           session: SessionDep, clock: ClockDep) -> HazardOut:
    """约谈/通报, recorded by the committee (form: kind=约谈|通报, document, note)."""
    hazard = await run_in_threadpool(listing_service.record_interview, session, actor=actor,
                                     hazard_id=hazard_id, form=form.fields, clock=clock)
    return hazard_out(session, actor, hazard, local_today(clock))


@router.post("/hazards/{hazard_id:int}/listing", response_model=HazardOut,
             responses=errors(*WRITE), openapi_extra=form_body("ListingForm", ListingFields))
async def list_hazard(hazard_id: int, actor: ActorDep, form: ActionFormDep,
                      session: SessionDep, clock: ClockDep) -> HazardOut:
    """挂牌督办 (form: level=province|city|county, authority, document_number)."""
    hazard = await run_in_threadpool(listing_service.list_hazard, session, actor=actor,
                                     hazard_id=hazard_id, form=form.fields, clock=clock)
    return hazard_out(session, actor, hazard, local_today(clock))


@router.post("/hazards/{hazard_id:int}/delisting", response_model=HazardOut,
             responses=errors(*WRITE), openapi_extra=form_body("DelistingForm", DelistingFields))
async def delist_hazard(hazard_id: int, actor: ActorDep, form: ActionFormDep,
                        session: SessionDep, clock: ClockDep) -> HazardOut:
    """摘牌."""
    hazard = await run_in_threadpool(listing_service.delist_hazard, session, actor=actor,
                                     hazard_id=hazard_id, form=form.fields, clock=clock)
    return hazard_out(session, actor, hazard, local_today(clock))


@router.post("/hazards/{hazard_id:int}/evaluations", response_model=HazardOut,
             responses=errors(*UPLOAD),
             openapi_extra=form_body("EvaluationForm", EvaluationFields, photos=True))
async def evaluate(hazard_id: int, actor: ActorDep, form: ActionFormDep, session: SessionDep,
                   clock: ClockDep) -> HazardOut:
    """整改评估 of a listed major hazard, before review (form: kind=self|third_party, summary,
    evaluator; the report as `photos`)."""
    hazard = await run_in_threadpool(evaluation.evaluate, session, actor=actor,
                                     hazard_id=hazard_id, form=form.fields,
                                     uploads=form.photos, clock=clock)
    return hazard_out(session, actor, hazard, local_today(clock))


@router.get("/hazards/{hazard_id:int}/dossier", response_model=None, responses={
    200: {"description": "重大事故隐患档案（JSON，或 format=html 时为可打印的页面）",
          "content": {"application/json": {"schema": {"type": "object"}},
                      "text/html": {"schema": {"type": "string"}}}},
    **errors(*READ_ONE)})
def dossier(hazard_id: int, actor: ActorDep, session: SessionDep, clock: ClockDep,
            format: Literal["json", "html"] = "json") -> dict[str, Any] | HTMLResponse:
    """重大事故隐患档案: `?format=html` gives the printable page (photos embedded)."""
    record = dossier_service.build(session, actor=actor, hazard_id=hazard_id, now=clock.now())
    if format == "html":
        return downloads.dossier_page(record)
    today = local_today(clock)
    return {
        "hazard": hazard_out(session, actor, record.hazard, today).model_dump(mode="json"),
        **jsonable_encoder(dossier_service.as_data(record)),
        "notices": [NoticeOut.model_validate(n).model_dump(mode="json") for n in record.notices],
        "extensions": [ExtensionOut.model_validate(e).model_dump(mode="json")
                       for e in record.extensions],
        "timeline": [EventOut.of(e).model_dump(mode="json") for e in record.events],
    }




@router.get("/inbox", response_model=list[InboxMessageOut], responses=errors(401))
def inbox(actor: ActorDep, session: SessionDep) -> list[InboxMessageOut]:
    return [InboxMessageOut.model_validate(m) for m in notice_service.inbox(session, actor=actor)]
