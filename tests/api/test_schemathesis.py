"""Schemathesis against the app's own OpenAPI schema, in-process (ASGI): no request gets a 5xx.

The schema is read once at import from a throwaway `create_app()` (it is never sent a request),
so new endpoints are picked up without changes here. Every generated request goes to the
per-test `app` fixture (`case.call_and_validate(app=app)`): it runs inside that test's
rolled-back transaction, with the demo county loaded and the clock fixed.

One test item per operation. Each request is sent as one of several demo users or anonymously;
the user is picked from the request's content (not drawn separately), so a failing example
replays as the same user, and the `X-Test-User` header in the reproduction names it.

Responses are checked for no server error and, where the schema documents the status code,
for conforming to it (body schema, content type, headers). Undocumented 4xx (401/403/404/409)
are expected here and not checked against the schema.

`seeded` reports a few hazards with photos first; the hooks below steer part of the generated
path ids, action names, photo variants, list filters and cursors and login credentials towards
real values, so the code behind "it exists" is reached as well as the 404/422 paths. They also
mix in values that are valid per the schema but easy for random generation to miss: the edges
of the database's integer types as ids, and NUL / LIKE wildcards in search text.

`test_no_server_error_on_edge_values` sends each of those edge values for every integer, date
and text parameter of every operation, deterministically, so that class of 500 never depends on
what the fuzzer happens to draw.
"""

import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis import HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from app.core.cursors import encode_cursor
from app.main import create_app
from app.services.org.demo import DEMO_PASSWORD
from app.workflow.table import TRANSITION_ACTIONS
from tests.api.helpers import act, in_days, ok, report

pytestmark = pytest.mark.schemathesis

RAW_SCHEMA = create_app().openapi()
# The tests send the credentials themselves (see `sender`), so schemathesis is told not to
# generate or strip the bearer header: an authenticated request stays authenticated.
schema = schemathesis.openapi.from_dict(
    RAW_SCHEMA,
    config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}}),
)

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]

FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,  # no example database on disk
    derandomize=True,  # the same requests on every run: a stable gate, not a flaky one
    # A failure here is one bad request; shrinking it would only multiply the run time.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    # The fixtures are function-scoped on purpose: one rolled-back transaction per operation.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)

# Rows made by `seeded` for the running test; the hooks read this when drawing.
KNOWN: dict[str, list[Any]] = {
    name: []
    for name in ("hazard_id", "photo_id", "enterprise_id", "region_id", "unit_id", "cursor")
}
# 0, -1, and both sides of the int32 (PostgreSQL INTEGER) and int64 (SQLite) limits.
EDGE_IDS = [0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1]
# The first and last dates Python knows, and the edges of the database's date types.
EDGE_DATES = ["0001-01-01", "9999-12-31", "1900-01-01", "4713-01-01"]
EDGE_MONTHS = ["0001-01", "9999-12", "2100-01", "2026-00"]
# Search text the database may take differently from Python: NUL, LIKE wildcards, quotes.
EDGE_TEXTS = ["\x00", "a\x00b", "%", "_", "\\", "'", "%_\\%"]
# Who sends the requests (None: no credentials). ent_b and insp_town differ from ent_a and
# insp_dept only in scope, which the other users' 404s already reach.
ACTORS = ["ent_a", "insp_dept", "anweiban", "admin", "secadmin", "auditor", None]
# Logins tried besides the generated ones.
USERS = ["ent_a", "ent_b", "insp_dept", "insp_town", "anweiban", "admin", "nobody", "ent_a\x00"]


def _sometimes(original: Any, real: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(original), real)


@schema.hook
def flatmap_path_parameters(
    context: HookContext, path_parameters: Any
) -> st.SearchStrategy[Any]:
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    choices: dict[str, st.SearchStrategy[Any]] = {}
    for name in path_parameters:
        if name.endswith("_id"):
            # Rows `seeded` made, else the first few ids (which exist for some tables).
            real = KNOWN.get(name) or [1, 2, 3]
            choices[name] = st.sampled_from(real + EDGE_IDS)
    if "action" in path_parameters:
        choices["action"] = st.sampled_from(TRANSITION_ACTIONS)
    if not choices:
        return st.just(path_parameters)
    return _sometimes(path_parameters, st.fixed_dictionaries(choices).map(
        lambda values: {**path_parameters, **values}))


@schema.hook
def flatmap_query(context: HookContext, query: Any) -> st.SearchStrategy[Any]:
    operation = context.operation
    if operation is None or not isinstance(query, dict):
        return st.just(query)
    extra: dict[str, st.SearchStrategy[Any]] = {}
    if "q" in operation.query:
        extra["q"] = st.sampled_from(EDGE_TEXTS)
    if operation.path.endswith("/photos/{photo_id}"):
        extra["variant"] = st.sampled_from(["thumb", "preview"])
    if operation.path.endswith("/hazards") and operation.method.upper() == "GET":
        for name in ("enterprise_id", "region_id", "unit_id"):
            extra[name] = st.sampled_from(KNOWN[name] + EDGE_IDS)
        # A real next-page cursor, or forged ones for the edge ids.
        extra["cursor"] = st.sampled_from(
            KNOWN["cursor"] + [encode_cursor(edge, "h") for edge in EDGE_IDS])
    if not extra:
        return st.just(query)
    return _sometimes(query, st.fixed_dictionaries({}, optional=extra).map(
        lambda values: {**query, **values}))


@schema.hook
def flatmap_body(context: HookContext, body: Any) -> st.SearchStrategy[Any]:
    path = context.operation.path if context.operation is not None else ""
    if not (path.endswith("/auth/token") and isinstance(body, dict)):
        return st.just(body)
    credentials = st.fixed_dictionaries({
        "username": st.sampled_from(USERS),
        "password": st.sampled_from([DEMO_PASSWORD, "wrong-password"]),
    })
    return _sometimes(body, credentials.map(lambda login: {**body, **login}))


@pytest.fixture
def seeded(request, client, auth) -> Iterator[dict[str, list[Any]]]:
    """Two hazards of ent_a (one of them assigned) and one of ent_b, with their photos.

    Only for the operations that can use them (hazard and photo ids, the hazard list).
    """
    if not any(part in request.node.name for part in ("/hazards", "/photos/")):
        yield KNOWN
        return
    first = report(client, auth, "ent_a")
    second = report(client, auth, "ent_a", photos=2)
    second = ok(act(client, auth, "insp_dept", second["id"], "assign",
                    {"deadline": in_days(10)}))
    other = report(client, auth, "ent_b")
    page = client.get("/api/v1/hazards", params={"limit": 1}, headers=auth("anweiban")).json()
    hazards = [first, second, other]
    KNOWN["hazard_id"] = [h["id"] for h in hazards]
    KNOWN["photo_id"] = [p["id"] for h in hazards for p in h["photos"]]
    KNOWN["enterprise_id"] = sorted({h["enterprise_id"] for h in hazards})
    KNOWN["region_id"] = sorted({h["region_id"] for h in hazards})
    KNOWN["unit_id"] = sorted({a["party_id"] for h in hazards for a in h["assignments"]
                               if a["party_type"] == "unit"})
    KNOWN["cursor"] = [page["next_cursor"]] if page.get("next_cursor") else []
    yield KNOWN
    for values in KNOWN.values():
        values.clear()


def sender(case: schemathesis.Case) -> str | None:
    """Who sends this request: picked from its content, so a replay is sent by the same user."""
    body = None if isinstance(case.body, NotSet) else case.body
    key = repr((case.method, case.path, case.path_parameters, case.query, body))
    return ACTORS[zlib.crc32(key.encode()) % len(ACTORS)]


@schema.parametrize()
@FUZZ
def test_no_server_error(
    case: schemathesis.Case, app, auth: Callable[[str], dict[str, str]], seeded
) -> None:
    username = sender(case)
    headers = {"X-Test-User": username or "anonymous", **(auth(username) if username else {})}
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)


def _is_date(parameter: dict[str, Any]) -> bool:
    spec = parameter.get("schema", {})
    return any(s.get("format") == "date" for s in [spec, *spec.get("anyOf", [])])


def _types(parameter: dict[str, Any]) -> set[str]:
    spec = parameter.get("schema", {})
    return {t.get("type") for t in [spec, *spec.get("anyOf", [])]} - {None, "null"}


def _edge_requests() -> dict[str, list[dict[str, Any]]]:
    """Per operation, one request per schema-valid edge value of each id or text parameter."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path, methods in RAW_SCHEMA["paths"].items():
        for method, operation in methods.items():
            parameters = operation.get("parameters", [])
            base = {p["name"]: (1 if "integer" in _types(p) else TRANSITION_ACTIONS[0])
                    for p in parameters if p["in"] == "path"}
            requests = []
            for parameter in parameters:
                name, where, types = parameter["name"], parameter["in"], _types(parameter)
                values: list[Any] = []
                if "integer" in types:
                    values = EDGE_IDS
                elif _is_date(parameter):
                    values = EDGE_DATES
                elif name == "month":
                    values = EDGE_MONTHS
                elif types == {"string"} and where == "query":
                    values = EDGE_TEXTS + ([encode_cursor(edge, "h") for edge in EDGE_IDS]
                                           if name == "cursor" else [])
                for value in values:
                    if where == "path":
                        requests.append({"path_parameters": {**base, name: value}})
                    elif where == "query":
                        requests.append({"path_parameters": base, "query": {name: value}})
            if requests:
                found[f"{method.upper()} {path}"] = requests
    return found


EDGE_REQUESTS = _edge_requests()


@pytest.mark.parametrize("operation", sorted(EDGE_REQUESTS))
def test_no_server_error_on_edge_values(operation: str, app, auth) -> None:
    """Every edge value of every id / text parameter, deterministically, as anweiban.

    All of them are sent; the first failure is raised with the list of all failing requests.
    """
    method, path = operation.split(" ", 1)
    failures: list[tuple[str, Exception]] = []
    for request in EDGE_REQUESTS[operation]:
        case = schema[path][method].Case(**request)
        try:
            case.call_and_validate(app=app, headers=auth("anweiban"), checks=CHECKS)
        except Exception as exc:
            failures.append((f"{case.method} {case.formatted_path} {case.query or ''}: "
                             f"{type(exc).__name__}", exc))
    if failures:
        first = failures[0][1]
        first.add_note(f"{len(failures)} edge request(s) failed:\n"
                       + "\n".join(line for line, _ in failures))
        raise first
