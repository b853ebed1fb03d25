"""Hazard endpoints of API.md: report, list, read, timeline, actions."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.core.clock import local_today
from app.core.schemas import NO_NUL
from app.http.deps import ActionFormDep, ActorDep, ClockDep, HazardFiltersDep, SessionDep
from app.http.idempotency import IdempotencyDep
from app.services.hazards import actions as action_service
from app.services.hazards import queries as hazard_service
from app.services.hazards import report as report_service
from app.services.hazards.schemas import EventOut, HazardOut, HazardPage
from app.services.hazards.shown import hazard_out, hazards_out

router = APIRouter(prefix="/hazards", tags=["hazards"])


@router.post("", response_model=HazardOut, status_code=201)
async def report_hazard(
    actor: ActorDep, form: ActionFormDep, session: SessionDep, clock: ClockDep,
    once: IdempotencyDep,
) -> HazardOut:
    """上报隐患 (multipart: fields and one or more `photos`). With an `Idempotency-Key`, a
    retry answers with the first result and reports nothing more."""

    def work() -> HazardOut:
        hazard = report_service.report_hazard(
            session, actor=actor, form=form.fields, uploads=form.photos, clock=clock)
        return hazard_out(session, actor, hazard, local_today(clock))

    return await once.json(work, status_code=201, form=form)


@router.get("", response_model=HazardPage)
def list_hazards(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    filters: HazardFiltersDep,
    limit: Annotated[int, Query(ge=1, le=hazard_service.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
) -> Response:
    items, next_cursor = hazard_service.list_hazards(
        session, actor=actor, filters=filters, limit=limit, cursor=cursor, clock=clock
    )
    today = local_today(clock)
    page = HazardPage(items=hazards_out(session, actor, items, today), next_cursor=next_cursor)
    # Already validated as built: serialized once here, where returning the model would have
    # FastAPI validate it again against response_model (kept for the schema) and re-encode it.
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/{hazard_id}", response_model=HazardOut)
def get_hazard(hazard_id: int, actor: ActorDep, session: SessionDep, clock: ClockDep) -> HazardOut:
    hazard = hazard_service.visible_hazard(session, actor, hazard_id)
    return hazard_out(session, actor, hazard, local_today(clock))


@router.get("/{hazard_id}/events", response_model=list[EventOut])
def hazard_events(hazard_id: int, actor: ActorDep, session: SessionDep) -> list[EventOut]:
    """The timeline, oldest first."""
    events = hazard_service.hazard_events(session, actor=actor, hazard_id=hazard_id)
    return [EventOut.of(e) for e in events]


@router.post("/{hazard_id}/actions/{action}", response_model=HazardOut)
async def take_action(
    hazard_id: int,
    action: str,
    actor: ActorDep,
    form: ActionFormDep,
    session: SessionDep,
    clock: ClockDep,
    once: IdempotencyDep,
) -> HazardOut:
    """One step of the loop: assign, reject, accept, submit, verify, return, spot_check,
    spot_check_fail, close (fields by action as in API.md). With an `Idempotency-Key`, a
    retry answers with the first result and records no second event."""

    def work() -> HazardOut:
        hazard = action_service.perform_action(
            session, actor=actor, hazard_id=hazard_id, action=action,
            form=form.fields, uploads=form.photos, clock=clock)
        return hazard_out(session, actor, hazard, local_today(clock))

    return await once.json(work, form=form)
