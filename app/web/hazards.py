"""Hazard pages: report, the hazard page, and the forms of the loop's actions and records.

Each POST handler is a thin call into a service: on success 303 to the hazard page; on a
refusal the form again, with what was typed and the service's messages, at its status.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import check_may_report, check_role, is_enterprise_user
from app.access.scopes import reportable_enterprises
from app.core.clock import local_today
from app.core.errors import DomainError
from app.http import labels
from app.http.deps import ClockDep, SessionDep
from app.http.downloads import dossier_page
from app.models.enums import HazardLevel
from app.services.criteria import catalogue as criteria_service
from app.services.hazards import actions as action_service
from app.services.hazards import dossier as dossier_service
from app.services.hazards import queries as hazard_service
from app.services.hazards import report as report_service
from app.web.forms import form_fields
from app.web.idempotency import WebIdempotencyDep
from app.web.responses import page, redirect, reject, typed_values
from app.web.session import CsrfFormDep, WebActorDep
from app.web.views import hazard_view
from app.workflow.fields import fields_model
from app.workflow.states import HazardState

router = APIRouter(include_in_schema=False)




# 上报

def _report_context(session: Session, actor: Actor) -> dict[str, Any]:
    enterprises = [] if is_enterprise_user(actor) else list(
        session.scalars(reportable_enterprises(actor)))
    # The clause list: an enterprise user sees what applies to its own industry; others see
    # the whole catalogue, narrowed by the page's script to the chosen enterprise's industry.
    own = (criteria_service.enterprise_industries(session, actor, actor.enterprise_id or 0)
           if is_enterprise_user(actor) else None)
    return {"enterprises": enterprises,
            "industries_of": {e.id: criteria_service.industries_for(e.industry.name)
                              for e in enterprises},
            "criteria": criteria_service.picker_entries(session, own)}


@router.get("/hazards/new")
def report_form(request: Request, actor: WebActorDep, session: SessionDep) -> Response:
    check_may_report(actor.role)  # the same refusal the report itself gives (403)
    return page(request, "report.html", values={"level": "general"},
                **_report_context(session, actor))


@router.post("/hazards/new")
async def report(request: Request, actor: WebActorDep, form: CsrfFormDep, session: SessionDep,
                 clock: ClockDep, once: WebIdempotencyDep) -> Response:
    def work() -> str:
        hazard = report_service.report_hazard(
            session, actor=actor, form=form.fields, uploads=form.photos, clock=clock)
        return f"/hazards/{hazard.id}"

    try:
        target = await once.location(work, form=form)
    except DomainError as error:
        raise reject(request, error, "report.html", values=typed_values(form),
                     **_report_context(session, actor)) from None
    return redirect(request, target)


# The hazard page

@router.get("/hazards/{hazard_id:int}")
def hazard_page(request: Request, hazard_id: int, actor: WebActorDep, session: SessionDep,
                clock: ClockDep) -> Response:
    view = hazard_view(session, actor, hazard_id, local_today(clock))
    return page(request, "hazard.html", view=view, hazard=view.hazard)


@router.get("/hazards/{hazard_id:int}/dossier")
def dossier(hazard_id: int, actor: WebActorDep, session: SessionDep, clock: ClockDep) -> Response:
    record = dossier_service.build(session, actor=actor, hazard_id=hazard_id, now=clock.now())
    return dossier_page(record)


# The loop's actions (交办 … 销号)

def _action_context(session: Session, actor: Actor, hazard_id: int,
                    action: str) -> dict[str, Any]:
    hazard = hazard_service.visible_hazard(session, actor, hazard_id)
    check_role(action, actor.role)  # unknown action 404, a role that never may 403
    return {"hazard": hazard, "action": action,
            "fields": form_fields(fields_model(action, HazardLevel(hazard.level))),
            "photos": labels.needs_photos(action, HazardState(hazard.state))}


@router.get("/hazards/{hazard_id:int}/actions/{action}")
def action_form(request: Request, hazard_id: int, action: str, actor: WebActorDep,
                session: SessionDep) -> Response:
    context = _action_context(session, actor, hazard_id, action)
    return page(request, "action.html", values={}, **context)


@router.post("/hazards/{hazard_id:int}/actions/{action}")
async def take_action(request: Request, hazard_id: int, action: str, actor: WebActorDep,
                      form: CsrfFormDep, session: SessionDep, clock: ClockDep,
                      once: WebIdempotencyDep) -> Response:
    def work() -> str:
        action_service.perform_action(
            session, actor=actor, hazard_id=hazard_id, action=action, form=form.fields,
            uploads=form.photos, clock=clock)
        return f"/hazards/{hazard_id}"

    try:
        target = await once.location(work, form=form)
    except DomainError as error:
        context = _action_context(session, actor, hazard_id, action)
        raise reject(request, error, "action.html", values=typed_values(form), **context) from None
    return redirect(request, target)


















