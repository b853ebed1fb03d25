"""The OpenAPI document says what the server really accepts and answers (docs/api.md).

Outside clients are generated from it (tests/api/test_generated_client.py drives the loop with
one); these tests pin the parts a generator needs: the form bodies, the enumerations, every
error status with the one error schema, formats of dates and times, unique schema names,
media types of downloads, and path parameters typed so that no route depends on the order
the routers are registered in.
"""

import importlib
import pkgutil
from typing import Any

import pytest
from fastapi import APIRouter
from starlette.convertors import IntegerConvertor
from starlette.routing import Route

import app.api
import app.web
from app.main import create_app
from app.workflow.table import TRANSITION_ACTIONS
from tests.api.helpers import report

APP = create_app()
# Every router's own routes, pages included (the app mounts them; a router holds its routes).
ROUTES = [route for package in (app.api, app.web)
          for module in pkgutil.iter_modules(package.__path__)
          for route in getattr(importlib.import_module(f"{package.__name__}.{module.name}"),
                               "router", APIRouter()).routes
          if isinstance(route, Route)]
DOCUMENT = APP.openapi()
SCHEMAS = DOCUMENT["components"]["schemas"]
OPERATIONS = [(method, path, operation) for path, item in DOCUMENT["paths"].items()
              for method, operation in item.items()]
FORM_ROUTES = {
    ("post", "/api/v1/hazards"): ("ReportForm", True),
    ("post", "/api/v1/hazards/{hazard_id}/actions/{action}"): ("ActionForm", False),
    ("post", "/api/v1/hazards/{hazard_id}/extensions"): ("ExtensionForm", False),
    ("post", "/api/v1/hazards/{hazard_id}/extensions/{extension_id}/decision"):
        ("ExtensionDecisionForm", False),
    ("post", "/api/v1/hazards/{hazard_id}/interviews"): ("InterviewForm", False),
    ("post", "/api/v1/hazards/{hazard_id}/listing"): ("ListingForm", False),
    ("post", "/api/v1/hazards/{hazard_id}/delisting"): ("DelistingForm", False),
    ("post", "/api/v1/hazards/{hazard_id}/evaluations"): ("EvaluationForm", False),
    ("post", "/api/v1/statistics/quarterly/filings"): ("QuarterlyFilingForm", False),
    ("post", "/api/v1/check-tasks/{task_id}/results"): ("CheckResultsForm", False),
    ("post", "/api/v1/sweeps/{sweep_id}/answers"): ("CheckResultsForm", False),
}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def walk(node: Any, path: tuple[str, ...] = ()) -> Any:
    """Every (path, property name, property schema) in the document's schemas."""
    if isinstance(node, dict):
        for name, value in node.get("properties", {}).items():
            yield path, name, value
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))


def formats(schema: dict[str, Any]) -> set[str | None]:
    options = schema.get("anyOf", [schema])
    return {resolve(o).get("format") for o in options if o.get("type") != "null"}


@pytest.mark.parametrize(("method", "path"), sorted(FORM_ROUTES))
def test_every_form_endpoint_describes_its_body(method: str, path: str) -> None:
    name, photos_required = FORM_ROUTES[(method, path)]
    body = DOCUMENT["paths"][path][method]["requestBody"]
    content = body["content"]
    multipart = resolve(content["multipart/form-data"]["schema"])
    assert multipart["properties"], name
    fields = resolve(content.get("application/x-www-form-urlencoded",
                                 content["multipart/form-data"])["schema"])
    assert set(fields["properties"]) <= set(multipart["properties"])
    # Files can only travel in a multipart body: where they are required, no URL-encoded one.
    assert ("application/x-www-form-urlencoded" in content) is not photos_required
    if "photos" in multipart["properties"]:
        photos = multipart["properties"]["photos"]
        assert photos["type"] == "array"
        assert photos["items"] == {"type": "string", "format": "binary"}
        assert ("photos" in multipart.get("required", [])) is photos_required


def test_the_report_body_is_the_field_model_the_service_validates_with() -> None:
    report_form = SCHEMAS["ReportForm"]
    assert set(report_form["required"]) == {"title", "description", "location", "level",
                                            "photos"}
    assert resolve(report_form["properties"]["level"])["enum"] == ["general", "major"]
    assert report_form["properties"]["title"]["maxLength"] == 200


def test_the_action_body_lists_each_actions_fields() -> None:
    by_action = SCHEMAS["ActionFormFields"]["x-fields-by-action"]
    assert set(by_action) == {*TRANSITION_ACTIONS, "accept (major)"}
    assert by_action["reject"]["required"] == ["reason"]
    assert "plan_funds" in by_action["accept (major)"]["required"]
    assert by_action["assign"]["required"] == []  # deadline or deadline_days: one of them
    assert {"deadline", "deadline_days", "supervising_unit_id"} <= set(
        by_action["assign"]["optional"])


def test_action_and_photo_variant_are_enumerations() -> None:
    action = next(p for p in DOCUMENT["paths"]["/api/v1/hazards/{hazard_id}/actions/{action}"][
        "post"]["parameters"] if p["name"] == "action")
    assert action["schema"]["enum"] == list(TRANSITION_ACTIONS)
    variant = next(p for p in DOCUMENT["paths"]["/api/v1/photos/{photo_id}"]["get"][
        "parameters"] if p["name"] == "variant")
    options = [resolve(o) for o in variant["schema"]["anyOf"] if o.get("type") != "null"]
    assert [o["enum"] for o in options] == [["preview", "thumb"]]


# The operations that take no token (and so never answer 401): logging in, and a public tip
# with its receipt (docs/api.md v1.1 "Public tips"), Open311 included.
PUBLIC = {("post", "/api/v1/auth/token"), ("post", "/api/v1/tips"),
          ("get", "/api/v1/tips/receipt/{receipt}")}


def test_every_error_status_refers_to_the_one_error_schema() -> None:
    assert "HTTPValidationError" not in SCHEMAS
    detail = SCHEMAS["ErrorOut"]["properties"]["detail"]
    assert {o.get("type") for o in detail["anyOf"]} == {"string", "array"}
    for method, path, operation in OPERATIONS:
        responses = operation["responses"]
        public = (method, path) in PUBLIC or path.startswith("/open311/")
        assert "401" in responses or public, (method, path)
        if public and path != "/api/v1/auth/token":
            assert "401" not in responses, (method, path)
        for status, response in responses.items():
            if int(status) < 400:
                continue
            schemas = {resolve(c["schema"]).get("title") for c in response["content"].values()}
            assert schemas <= {"ErrorOut", "ImportRefused"}, (method, path, status)


def test_writes_declare_their_conflicts_and_uploads_their_limits() -> None:
    for (method, path), (_, _) in FORM_ROUTES.items():
        responses = DOCUMENT["paths"][path][method]["responses"]
        assert {"401", "403", "409", "422"} <= set(responses), path
        body = resolve(DOCUMENT["paths"][path][method]["requestBody"]["content"][
            "multipart/form-data"]["schema"])
        if "photos" in body["properties"]:
            assert {"413", "415"} <= set(responses), path
    token = DOCUMENT["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"401", "429"} <= set(token)


def test_times_are_date_time_and_dates_are_date() -> None:
    checked = 0
    for _, name, schema in walk(SCHEMAS):
        if name == "at" or name.endswith("_at"):
            assert formats(schema) == {"date-time"}, name
            checked += 1
        elif name in ("deadline", "current_deadline", "requested_deadline", "plan_deadline"):
            assert formats(schema) == {"date"}, name
            checked += 1
    assert checked > 10


def test_schema_names_are_unique_and_readable() -> None:
    assert not [name for name in SCHEMAS if "__" in name or name.startswith("Body_")]
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids))


def test_downloads_declare_their_media_types() -> None:
    def media(path: str, method: str = "get") -> set[str]:
        return set(DOCUMENT["paths"][path][method]["responses"]["200"]["content"])

    assert media("/api/v1/photos/{photo_id}") == {"image/*"}
    assert media("/api/v1/hazards/ledger") == {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/csv; charset=utf-8"}
    assert media("/api/v1/hazards/{hazard_id}/dossier") == {"application/json", "text/html"}
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in media(
        "/api/v1/statistics/quarterly")
    assert media("/api/v1/admin/import/templates/{kind}.csv") == {"text/csv"}


def test_every_id_in_a_path_is_typed_as_an_integer() -> None:
    """With `{hazard_id:int}`, `/hazards/ledger` can never be taken for a hazard id, whatever
    the order of the routers; only names of things (an action, a template kind) are text."""
    # A receipt (and an Open311 request id, which is one) is a random code.
    text_parameters = {"action", "kind", "receipt", "request_id"}
    checked = 0
    for route in ROUTES:
        for name, convertor in route.param_convertors.items():
            if name in text_parameters:
                continue
            assert isinstance(convertor, IntegerConvertor), (route.path, name)
            checked += 1
    assert checked > 20


def test_a_path_naming_no_hazard_answers_404(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    for path in ("/api/v1/hazards/abc", "/api/v1/hazards/1e3", f"/api/v1/hazards/{hid}x",
                 "/api/v1/photos/abc"):
        response = client.get(path, headers=auth("ent_a"))
        assert response.status_code == 404, path
        assert isinstance(response.json()["detail"], str)
    assert client.get("/api/v1/hazards/ledger", headers=auth("ent_a")).status_code == 200
    assert client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).status_code == 200
