"""Open311 GeoReport v2 at /open311/v2/, in both of the spec's formats (`.json` and `.xml`):
services, a request (a public tip) and its status.

JSON errors are `{"detail"}` as everywhere; an `.xml` endpoint answers GeoReport's
`<errors><error><code/><description/></error></errors>` (main.py's handler asks
`wants_xml`), since a client that asked for XML parses XML."""

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.http.deps import ClockDep, SessionDep, TipFormDep, client_address
from app.http.openapi import ERROR_TEXT, errors, ref
from app.http.uploads import StagedForm
from app.services.tips import open311

router = APIRouter(prefix="/open311/v2", tags=["open311"])

PREFIX = "/open311/v2/"
XML_TYPE = "application/xml"
XML_BODY = {"content": {XML_TYPE: {"schema": {"type": "string"}}}}


def xml_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error statuses of an `.xml` endpoint: GeoReport's `<errors>` (one `<error>` with
    `code` and `description` per problem, the `detail` of the JSON error schema)."""
    return {status: {"description": ERROR_TEXT[status],
                     "content": {XML_TYPE: {"schema": ref("ErrorOut")}}}
            for status in sorted(set(statuses))}


def wants_xml(request: Request) -> bool:
    """An Open311 endpoint in its XML format (the format is the path's extension)."""
    path = request.url.path
    return path.startswith(PREFIX) and path.endswith(".xml")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def xml_document(root: str, item: str, rows: list[BaseModel]) -> bytes:
    """GeoReport's XML: a root element, one child per row, one element per field (the JSON
    names; an absent value an empty element)."""
    top = Element(root)
    for row in rows:
        child = SubElement(top, item)
        for name, value in row.model_dump(mode="json").items():
            SubElement(child, name).text = _text(value)
    return tostring(top, encoding="utf-8", xml_declaration=True)


def xml_error(status: int, detail: Any) -> Response:
    """GeoReport's error list; a 422's field problems become one <error> each."""
    top = Element("errors")
    problems = detail if isinstance(detail, list) else [detail]
    for problem in problems:
        error = SubElement(top, "error")
        SubElement(error, "code").text = str(status)
        text = problem.get("msg", "") if isinstance(problem, dict) else str(problem)
        if isinstance(problem, dict) and problem.get("loc"):
            text = f"{problem['loc'][-1]}: {text}"
        SubElement(error, "description").text = text
    return Response(tostring(top, encoding="utf-8", xml_declaration=True), status_code=status,
                    media_type=XML_TYPE)


def _xml(root: str, item: str, rows: list[BaseModel], status: int = 200) -> Response:
    return Response(xml_document(root, item, rows), status_code=status, media_type=XML_TYPE)


def _create(request: Request, form: StagedForm, session: SessionDep,
            clock: ClockDep) -> open311.RequestCreated:
    media = [f for f in form.files if f.field_name == "media" and (f.filename or f.size)]
    return open311.create_request(session, form=form.fields, media=media,
                                  address=client_address(request), clock=clock)


@router.get("/services.json", response_model=list[open311.Service])
def services() -> list[open311.Service]:
    """One service per hazard category."""
    return open311.services()


@router.get("/services.xml", response_class=Response, responses={200: XML_BODY})
def services_xml() -> Response:
    """The same, as `<services><service>…</service></services>`."""
    return _xml("services", "service", list(open311.services()))


@router.post("/requests.json", response_model=list[open311.RequestCreated], status_code=201,
             responses=errors(413, 415, 422, 429))
def create_request(request: Request, form: TipFormDep, session: SessionDep,
                   clock: ClockDep) -> list[open311.RequestCreated]:
    """A service request (a tip): `service_code`, `description`, `lat` and `long` or
    `address_string`, optional `phone`, one or more files `media`; `jurisdiction_id`,
    `api_key` and the spec's contact fields are accepted and not kept (one jurisdiction, no
    account)."""
    return [_create(request, form, session, clock)]


@router.post("/requests.xml", response_class=Response, status_code=201,
             responses={201: XML_BODY, **xml_errors(413, 415, 422, 429)})
def create_request_xml(request: Request, form: TipFormDep, session: SessionDep,
                       clock: ClockDep) -> Response:
    """The same, answering `<service_requests><request>…</request></service_requests>`;
    errors as GeoReport's `<errors>`."""
    return _xml("service_requests", "request", [_create(request, form, session, clock)], 201)


@router.get("/requests/{request_id}.json", response_model=list[open311.ServiceRequest],
            responses=errors(404, 422))
def get_request(request_id: str, session: SessionDep) -> list[open311.ServiceRequest]:
    """The request's status: open or closed, with the public outcome as `status_notes`."""
    return [open311.get_request(session, request_id)]


@router.get("/requests/{request_id}.xml", response_class=Response,
            responses={200: XML_BODY, **xml_errors(404, 422)})
def get_request_xml(request_id: str, session: SessionDep) -> Response:
    """The same, as `<service_requests><request>…</request></service_requests>`."""
    return _xml("service_requests", "request", [open311.get_request(session, request_id)])
