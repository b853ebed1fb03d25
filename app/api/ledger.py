"""隐患台账 export: GET /api/v1/hazards/ledger?format=xlsx|csv, with the hazard list's filters.

Registered before the hazards router (app/main.py): otherwise `/hazards/{hazard_id}` would
take "ledger" for a hazard id and answer 422.
"""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.http import downloads
from app.http.deps import ActorDep, ClockDep, HazardFiltersDep, SessionDep
from app.services.hazards import ledger as ledger_service

router = APIRouter(prefix="/hazards", tags=["hazards"])



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
    return downloads.ledger_response(session, actor, filters, clock, fmt)


