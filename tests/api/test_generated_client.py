"""A client generated from the app's OpenAPI document drives the whole loop (docs/api.md).

openapi-python-client generates a package from `app.openapi()` into a temporary folder; the
tests then use its functions and models only, no raw HTTP: log in, report with photos, take
every step through close, and read a 409 and a 422 through the generated error model. The
generated client sends through the test client, so each request reaches the app under test
inside the test's rolled-back transaction.
"""

import hashlib
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.services.org.demo import DEMO_PASSWORD
from tests.api.helpers import PLAN, TODAY, in_days
from tests.samples import jpeg_bytes

PACKAGE = "bihuan_client"
# Client-side settings: read the photo and the XLSX downloads as bytes.
CONFIG = {
    "package_name_override": PACKAGE,
    "project_name_override": "bihuan-client",
    "post_hooks": [],
    "content_type_overrides": {
        "image/*": "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
            "application/octet-stream",
    },
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, importable as `bihuan_client` for this module's tests."""
    folder = tmp_path_factory.mktemp("generated")
    (folder / "openapi.json").write_text(json.dumps(create_app().openapi()), encoding="utf-8")
    (folder / "config.yaml").write_text(json.dumps(CONFIG), encoding="utf-8")  # JSON is YAML
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [str(generator), "generate", "--path", "openapi.json", "--config", "config.yaml",
         "--meta", "none", "--output-path", PACKAGE],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every operation and model must be generated: a warning means part of the contract is
    # not expressible to clients.
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class Api:
    """The generated modules, and generated clients that send to the app under test."""

    def __init__(self, package: ModuleType, app: FastAPI) -> None:
        self.package, self.app = package, app
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.types = importlib.import_module(f"{PACKAGE}.types")

    def op(self, tag: str, name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")

    def _client(self, kind: Any, **token: str) -> Any:
        client = kind(base_url="http://testserver", **token)
        headers = {"Authorization": f"Bearer {token['token']}"} if token else {}
        client.set_httpx_client(TestClient(self.app, headers=headers))
        return client

    def login(self, username: str) -> Any:
        """The user's own client, after logging in through the generated login operation."""
        token = self.op("auth", "issue_token").sync(
            client=self._client(self.package.Client),
            body=self.models.TokenForm(username=username, password=DEMO_PASSWORD))
        assert isinstance(token, self.models.Token), token
        return self._client(self.package.AuthenticatedClient, token=token.access_token)

    def photos(self, count: int) -> list[Any]:
        return [self.types.File(payload=BytesIO(jpeg_bytes()), file_name=f"photo-{i}.jpg",
                                mime_type="image/jpeg") for i in range(count)]


@pytest.fixture
def api(generated: ModuleType, app: FastAPI) -> Api:
    return Api(generated, app)


def act(api: Api, client: Any, hazard_id: int, action: str, body: Any) -> Any:
    op = api.op("hazards", "take_action")
    return op.sync(hazard_id=hazard_id, action=op.TakeActionAction(action), client=client,
                   body=body)


def test_the_generated_client_drives_a_major_hazard_through_close(api: Api) -> None:
    m = api.models
    ent_a, insp_dept = api.login("ent_a"), api.login("insp_dept")
    insp_town, anweiban = api.login("insp_town"), api.login("anweiban")

    hazard = api.op("hazards", "report_hazard").sync(client=ent_a, body=m.ReportForm(
            title="液氨储罐区未设置泄漏报警", description="液氨储罐区无气体泄漏检测报警装置",
            location="冷库机房", level=m.HazardLevel.MAJOR, major_clause="第四条第（一）项",
            photos=api.photos(2)))
    assert isinstance(hazard, m.HazardOut), hazard
    assert hazard.state == m.HazardState.REPORTED and len(hazard.photos) == 2

    steps = [
        (insp_dept, "assign", m.ActionFormFields(deadline=TODAY.replace(day=30))),
        (ent_a, "accept", m.ActionFormFields(
            plan_owner=PLAN["plan_owner"], plan_measures=PLAN["plan_measures"],
            plan_funds=PLAN["plan_funds"], plan_deadline=TODAY.replace(day=28),
            plan_contingency=PLAN["plan_contingency"])),
        (ent_a, "submit", m.ActionForm(note="已加装泄漏报警并联动排风", photos=api.photos(1))),
        (insp_town, "verify", m.ActionForm(note="现场复核合格", photos=api.photos(1))),
        (anweiban, "spot_check", m.ActionForm(note="抽查合格", photos=api.photos(1))),
        (anweiban, "close", m.ActionFormFields(note="同意销号")),
    ]
    states = []
    for user, action, body in steps:
        hazard = act(api, user, hazard.id, action, body)
        assert isinstance(hazard, m.HazardOut), (action, hazard)
        states.append(hazard.state)
    assert states == [m.HazardState(s) for s in (
        "assigned", "rectifying", "rectified", "verified", "spot_checked", "closed")]

    events = api.op("hazards", "hazard_events").sync(hazard_id=hazard.id, client=ent_a)
    original = api.op("hazards", "get_photo").sync_detailed(
        photo_id=hazard.photos[0].id, client=ent_a)
    assert [e.action for e in events][-1] == "close"
    assert original.status_code == 200
    assert hashlib.sha256(original.parsed.payload.read()).hexdigest() == hazard.photos[0].sha256


def test_errors_arrive_as_the_generated_error_model(api: Api) -> None:
    m = api.models
    ent_a, insp_dept = api.login("ent_a"), api.login("insp_dept")
    hazard = api.op("hazards", "report_hazard").sync(client=ent_a, body=m.ReportForm(
            title="配电箱未接地", description="车间二配电箱外壳未接地", location="二号车间",
            level=m.HazardLevel.GENERAL, photos=api.photos(1)))

    # 409: the enterprise cannot submit what was never assigned.
    stale = act(api, ent_a, hazard.id, "submit",
                m.ActionForm(note="已整改", photos=api.photos(1)))
    assert isinstance(stale, m.ErrorOut)
    assert isinstance(stale.detail, str) and stale.detail

    # 422: assign without a deadline; the detail is the list of field errors.
    missing = act(api, insp_dept, hazard.id, "assign", m.ActionFormFields())
    assert isinstance(missing, m.ErrorOut)
    assert isinstance(missing.detail, list)
    assert [(e.loc, e.type_) for e in missing.detail] == [(["body"], "missing")]
    assert "deadline" in missing.detail[0].msg
    assigned = act(api, insp_dept, hazard.id, "assign", m.ActionFormFields(deadline_days=10))
    assert isinstance(assigned, m.HazardOut) and str(assigned.deadline) == in_days(10)
