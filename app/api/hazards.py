"""Hazard endpoints (docs/api.md): report, list, read, timeline, actions, photos, the ledger
export and the spot-check policy."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.core.clock import local_today
from app.core.schemas import NO_NUL
from app.http import downloads
from app.http.deps import ActionFormDep, ActorDep, ClockDep, HazardFiltersDep, SessionDep
from app.http.idempotency import IdempotencyDep
from app.http.openapi import BINARY, READ, READ_ONE, UPLOAD, WRITE, errors, form_body
from app.services.hazards import actions as action_service
from app.services.hazards import ledger as ledger_service
from app.services.hazards import queries as hazard_service
from app.services.hazards import report as report_service
from app.services.hazards.schemas import EventOut, HazardOut, HazardPage, PolicyIn, PolicyOut
from app.services.hazards.shown import hazard_out, hazards_out
from app.services.media.imaging.process import PhotoVariant
from app.workflow.fields import ACTION_FIELDS, MajorAcceptFields, ReportFields
from app.workflow.table import TRANSITION_ACTIONS

router = APIRouter(tags=["hazards"])

# The action's name is an enumeration in the document; the server answers 404 for any other
# (an action the loop does not know names nothing, like an unknown hazard: docs/api.md).
ActionName = Annotated[str, Path(json_schema_extra={"enum": list(TRANSITION_ACTIONS)})]
ACTION_BODY = form_body(
    "ActionForm", *ACTION_FIELDS.values(), MajorAcceptFields, photos=True,
    fields_by={**ACTION_FIELDS, "accept (major)": MajorAcceptFields},
    description="Fields by action (x-fields-by-action); `photos` where the action needs "
                "evidence (submit, verify, spot_check).")


@router.post("/hazards", response_model=HazardOut, status_code=201,
             openapi_extra=form_body("ReportForm", ReportFields, photos=True,
                                     photos_required=True),
             responses=errors(*UPLOAD))
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


@router.get("/hazards", response_model=HazardPage, responses=errors(*READ))
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


@router.get(
    "/hazards/ledger",
    response_class=StreamingResponse,
    responses={200: {
        "description": "隐患台账 (XLSX, or CSV in UTF-8 with a BOM), as an attachment",
        "content": {media_type: BINARY for media_type in ledger_service.MEDIA_TYPES.values()},
    }, **errors(*READ)},
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
    return downloads.ledger_response(session, actor, filters, clock, fmt)


@router.get("/hazards/{hazard_id:int}", response_model=HazardOut, responses=errors(*READ_ONE))
def get_hazard(hazard_id: int, actor: ActorDep, session: SessionDep, clock: ClockDep) -> HazardOut:
    hazard = hazard_service.visible_hazard(session, actor, hazard_id)
    return hazard_out(session, actor, hazard, local_today(clock))


@router.get("/hazards/{hazard_id:int}/events", response_model=list[EventOut],
            responses=errors(*READ_ONE))
def hazard_events(hazard_id: int, actor: ActorDep, session: SessionDep) -> list[EventOut]:
    """The timeline, oldest first."""
    events = hazard_service.hazard_events(session, actor=actor, hazard_id=hazard_id)
    return [EventOut.of(e) for e in events]


@router.post("/hazards/{hazard_id:int}/actions/{action}", response_model=HazardOut,
             openapi_extra=ACTION_BODY, responses=errors(*UPLOAD))
async def take_action(
    hazard_id: int,
    action: ActionName,
    actor: ActorDep,
    form: ActionFormDep,
    session: SessionDep,
    clock: ClockDep,
    once: IdempotencyDep,
) -> HazardOut:
    """One step of the loop: assign, reject, accept, submit, verify, return, spot_check,
    spot_check_fail, close (fields by action as in docs/api.md). With an `Idempotency-Key`, a
    retry answers with the first result and records no second event."""

    def work() -> HazardOut:
        hazard = action_service.perform_action(
            session, actor=actor, hazard_id=hazard_id, action=action,
            form=form.fields, uploads=form.photos, clock=clock)
        return hazard_out(session, actor, hazard, local_today(clock))

    return await once.json(work, form=form)


@router.get(
    "/photos/{photo_id:int}",
    response_class=Response,
    responses={200: {
        "description": "The original byte for byte (its own type), or a derived JPEG",
        "content": {"image/*": BINARY},
    }, 304: {"description": "Not modified (If-None-Match)"}, **errors(*READ_ONE)},
)
async def get_photo(
    photo_id: int,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    variant: PhotoVariant | None = None,
) -> Response:
    """The original (byte-for-byte), or `?variant=thumb|preview`: an upright JPEG without EXIF."""
    return await downloads.photo_response(request, session, actor, photo_id, variant)


@router.put("/spot-check-policy", response_model=PolicyOut, tags=["spot-checks"],
            responses=errors(*WRITE))
def set_policy(body: PolicyIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> PolicyOut:
    """安委办 sets the share of verified general hazards drawn for spot-checks in its region
    (major hazards are always drawn)."""
    policy = action_service.set_spot_check_rate(
        session, actor=actor, rate=body.rate, at=clock.now()
    )
    return PolicyOut(region_id=policy.region_id, rate=policy.rate)
