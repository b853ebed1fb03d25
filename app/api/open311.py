"""Open311 GeoReport v2 at /open311/v2/ (JSON): services, a request (a public tip) and its
status. The format's own errors are not used: errors are `{"detail"}` as everywhere."""

from fastapi import APIRouter, Request

from app.http.deps import ActionFormDep, ClockDep, SessionDep
from app.http.openapi import errors
from app.services.tips import open311

router = APIRouter(prefix="/open311/v2", tags=["open311"])


@router.get("/services.json", response_model=list[open311.Service])
def services() -> list[open311.Service]:
    """One service per hazard category."""
    return open311.services()


@router.post("/requests.json", response_model=list[open311.RequestCreated], status_code=201,
             responses=errors(413, 415, 422, 429))
def create_request(request: Request, form: ActionFormDep, session: SessionDep,
                   clock: ClockDep) -> list[open311.RequestCreated]:
    """A service request (a tip): `service_code`, `description`, `lat` and `long` or
    `address_string`, optional `phone`, one or more files `media`."""
    media = [f for f in form.files if f.field_name == "media" and (f.filename or f.size)]
    address = request.client.host if request.client else "unknown"
    return [open311.create_request(session, form=form.fields, media=media, address=address,
                                   clock=clock)]


@router.get("/requests/{request_id}.json", response_model=list[open311.ServiceRequest],
            responses=errors(404, 422))
def get_request(request_id: str, session: SessionDep) -> list[open311.ServiceRequest]:
    """The request's status: open or closed, with the public outcome as `status_notes`."""
    return [open311.get_request(session, request_id)]
