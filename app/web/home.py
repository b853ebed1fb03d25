"""Pages: each role's home, and the cookie-authenticated downloads (photos, the ledger)
that reuse the API's scoped services."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.core.clock import local_today
from app.http.deps import ClockDep, HazardFiltersDep, SessionDep
from app.http.downloads import ledger_response, photo_response
from app.models.enums import Role
from app.services.hazards import ledger as ledger_service
from app.services.hazards import queues
from app.web.responses import page
from app.web.session import WebActorDep

router = APIRouter(include_in_schema=False)

HOME_TEMPLATES = {Role.enterprise: "home_enterprise.html", Role.inspector: "home_inspector.html",
                  Role.committee: "home_committee.html", Role.admin: "home_admin.html",
                  Role.security_admin: "home_security_admin.html",
                  Role.audit_admin: "home_audit_admin.html"}








@router.get("/")
def home(request: Request, actor: WebActorDep, session: SessionDep, clock: ClockDep) -> Response:
    today = local_today(clock)
    work = queues.queues_for(session, actor, today)
    return page(request, HOME_TEMPLATES[actor.role], work=work, today=today)






@router.get("/photos/{photo_id:int}")
async def photo(request: Request, photo_id: int, actor: WebActorDep, session: SessionDep,
                variant: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    """The photo service's scoping, with the page's cookie instead of a bearer token."""
    return await photo_response(request, session, actor, photo_id, variant)


@router.get("/ledger")
def ledger(actor: WebActorDep, session: SessionDep, clock: ClockDep, filters: HazardFiltersDep,
           fmt: Annotated[ledger_service.LedgerFormat, Query(alias="format")] = (
               ledger_service.LedgerFormat.xlsx)) -> Response:
    """隐患台账 download for the pages: the same export as GET /api/v1/hazards/ledger."""
    return ledger_response(session, actor, filters, clock, fmt)

