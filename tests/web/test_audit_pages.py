"""The audit admin's page of the security audit log: search, CSV link, refusals shown."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.clock import FixedClock
from app.models import Region, User
from app.models.enums import Role
from app.services.accounts.users import create_user
from tests.web.pages import User as Browser
from tests.web.pages import csrf_of

PASSWORD = "Audit-pass-2026"


@pytest.fixture
def auditor(db: Session, users: dict[str, User], clock: FixedClock) -> str:
    create_user(db, username="audit_t", password=PASSWORD, role=Role.audit_admin,
                region_id=db.get_one(Region, users["admin"].region_id).id, clock=clock)
    db.commit()
    return "audit_t"


def signed_in(app, username: str, password: str) -> TestClient:
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token, "next": "/audit-log"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def test_the_audit_admin_searches_the_log_and_sees_a_refused_page(app, auditor) -> None:
    enterprise = Browser(app, "ent_a")
    assert enterprise.get("/audit-log").status_code == 403
    assert "安全审计" not in enterprise.get("/notices").text  # no menu link for others
    client = signed_in(app, auditor, PASSWORD)
    page = client.get("/audit-log", params={"username": "ent_a", "action": "refused"})
    assert page.status_code == 200
    assert '<a href="/audit-log">安全审计</a>' in page.text
    assert "GET /audit-log" in page.text and "拒绝访问" in page.text
    link = re.search(r'href="(/audit-log\?[^"]*format=csv[^"]*)"', page.text)
    assert link, "the CSV link carries the filters"
    url = link.group(1).replace("&amp;", "&")
    assert "username=ent_a" in url and "action=refused" in url
    export = client.get(url)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "GET /audit-log" in export.content.decode("utf-8-sig")


def test_a_bad_search_is_refused_not_a_500(app, auditor) -> None:
    client = signed_in(app, auditor, PASSWORD)
    assert client.get("/audit-log", params={"from": "2026-13-40"}).status_code == 422
    response = client.get("/audit-log", params={"from": "2026-05-02", "to": "2026-05-01"})
    assert response.status_code == 422
    assert "开始日期不能晚于结束日期" in response.text
