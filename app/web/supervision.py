"""Pages of 双重督办: 督办单 and their acknowledgement, 延期申请 and its decision, 整改评估,
挂牌督办 and 摘牌."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.access.roles import may
from app.core.errors import DomainError
from app.http.deps import ClockDep, SessionDep
from app.services.hazards import queries as hazard_service
from app.services.supervision import evaluation
from app.services.supervision import extensions as extension_service
from app.services.supervision import listing as listing_service
from app.services.supervision import notices as notice_service
from app.web.forms import form_fields
from app.web.idempotency import WebIdempotencyDep
from app.web.responses import page, redirect, reject, typed_values
from app.web.session import CsrfFormDep, WebActorDep, safe_next
from app.workflow.fields import EvaluationFields, ExtensionFields, ListingFields

EXTENSION_FORM = form_fields(ExtensionFields)
LISTING_FORM = form_fields(ListingFields)
EVALUATION_FORM = form_fields(EvaluationFields)

router = APIRouter(include_in_schema=False)


@router.get("/notices")
def notices(request: Request, actor: WebActorDep, session: SessionDep) -> Response:
    rows = notice_service.list_notices(session, actor=actor)
    may_ack = may(actor, "notice_ack")
    return page(request, "notices.html", notices=rows, may_ack=may_ack)


@router.post("/notices/{notice_id:int}/ack")
def acknowledge_notice(request: Request, notice_id: int, actor: WebActorDep, form: CsrfFormDep,
                       session: SessionDep, clock: ClockDep) -> Response:
    notice_service.acknowledge(session, actor=actor, notice_id=notice_id, now=clock.now())
    return redirect(request, safe_next(form.fields.get("next")) if form.fields.get("next")
                    else "/notices")


@router.get("/hazards/{hazard_id:int}/extension")
def extension_form(request: Request, hazard_id: int, actor: WebActorDep,
                   session: SessionDep) -> Response:
    hazard = hazard_service.visible_hazard(session, actor, hazard_id)
    return page(request, "extension.html", hazard=hazard, values={}, fields=EXTENSION_FORM)


@router.post("/hazards/{hazard_id:int}/extension")
async def request_extension(request: Request, hazard_id: int, actor: WebActorDep,
                            form: CsrfFormDep, session: SessionDep, clock: ClockDep,
                            once: WebIdempotencyDep) -> Response:
    def work() -> str:
        extension_service.request_extension(
            session, actor=actor, hazard_id=hazard_id, form=form.fields, uploads=form.photos,
            clock=clock)
        return f"/hazards/{hazard_id}"

    try:
        target = await once.location(work, form=form)
    except DomainError as error:
        hazard = hazard_service.visible_hazard(session, actor, hazard_id)
        raise reject(request, error, "extension.html", hazard=hazard, fields=EXTENSION_FORM,
                     values=typed_values(form)) from None
    return redirect(request, target)


@router.post("/hazards/{hazard_id:int}/extensions/{extension_id:int}/decision")
def decide_extension(request: Request, hazard_id: int, extension_id: int, actor: WebActorDep,
                     form: CsrfFormDep, session: SessionDep, clock: ClockDep) -> Response:
    extension_service.decide_extension(session, actor=actor, hazard_id=hazard_id,
                                         extension_id=extension_id, form=form.fields,
                                         clock=clock)
    return redirect(request, f"/hazards/{hazard_id}")


@router.get("/hazards/{hazard_id:int}/evaluation")
def evaluation_form(request: Request, hazard_id: int, actor: WebActorDep,
                    session: SessionDep) -> Response:
    hazard = hazard_service.visible_hazard(session, actor, hazard_id)
    return page(request, "evaluation.html", hazard=hazard, values={"kind": "self"},
                fields=EVALUATION_FORM)


@router.post("/hazards/{hazard_id:int}/evaluation")
async def evaluate(request: Request, hazard_id: int, actor: WebActorDep, form: CsrfFormDep,
                   session: SessionDep, clock: ClockDep, once: WebIdempotencyDep) -> Response:
    def work() -> str:
        evaluation.evaluate(session, actor=actor, hazard_id=hazard_id, form=form.fields,
                            uploads=form.photos, clock=clock)
        return f"/hazards/{hazard_id}"

    try:
        target = await once.location(work, form=form)
    except DomainError as error:
        hazard = hazard_service.visible_hazard(session, actor, hazard_id)
        raise reject(request, error, "evaluation.html", hazard=hazard, values=typed_values(form),
                     fields=EVALUATION_FORM) from None
    return redirect(request, target)


@router.get("/hazards/{hazard_id:int}/listing")
def listing_form(request: Request, hazard_id: int, actor: WebActorDep,
                 session: SessionDep) -> Response:
    hazard = hazard_service.visible_hazard(session, actor, hazard_id)
    return page(request, "listing.html", hazard=hazard, values={"level": "county"},
                fields=LISTING_FORM)


@router.post("/hazards/{hazard_id:int}/listing")
def list_hazard(request: Request, hazard_id: int, actor: WebActorDep, form: CsrfFormDep,
                session: SessionDep, clock: ClockDep) -> Response:
    try:
        listing_service.list_hazard(session, actor=actor, hazard_id=hazard_id,
                                        form=form.fields, clock=clock)
    except DomainError as error:
        hazard = hazard_service.visible_hazard(session, actor, hazard_id)
        raise reject(request, error, "listing.html", hazard=hazard, fields=LISTING_FORM,
                     values=typed_values(form)) from None
    return redirect(request, f"/hazards/{hazard_id}")


@router.post("/hazards/{hazard_id:int}/delisting")
def delist_hazard(request: Request, hazard_id: int, actor: WebActorDep, form: CsrfFormDep,
                  session: SessionDep, clock: ClockDep) -> Response:
    listing_service.delist_hazard(session, actor=actor, hazard_id=hazard_id,
                                      form=form.fields, clock=clock)
    return redirect(request, f"/hazards/{hazard_id}")

