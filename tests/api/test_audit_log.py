"""The security audit log over HTTP: the audit admin's search and CSV export, and what the log
records by itself (refusals, exports, setting changes)."""

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from app.core.clock import FixedClock
from app.core.security import issue_token
from app.models import AuditEntry, Region, User
from app.models.enums import Role
from app.services.accounts.users import create_user
from app.services.audit.log import AuditAction, AuditResult, Who, record
from tests.api.helpers import report
from tests.fixtures.clock import START

URL = "/api/v1/audit-log"
ENTRY_FIELDS = {"id", "at", "username", "role", "source_ip", "action", "object", "result"}


@pytest.fixture
def staff(db: Session, users: dict[str, User], clock: FixedClock) -> dict[str, dict[str, str]]:
    """Headers for an audit admin and a security admin of the demo county (committed: a
    refused request rolls the test's savepoint back)."""
    county = db.get_one(Region, users["admin"].region_id)
    made = {}
    for username, role in (("audit_t", Role.audit_admin), ("secadmin_t", Role.security_admin)):
        user = create_user(db, username=username, password="Audit-pass-2026", role=role,
                           region_id=county.id, clock=clock)
        made[username] = {"Authorization": f"Bearer {issue_token(user.id, clock.now())}"}
    db.commit()
    return made


def entries(client, staff, **params) -> list[dict]:
    response = client.get(URL, params={"limit": 500, **params}, headers=staff["audit_t"])
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_only_the_audit_admin_reads_the_log(client, auth, staff) -> None:
    assert client.get(URL).status_code == 401
    for username in ("ent_a", "insp_dept", "insp_town", "anweiban", "admin"):
        response = client.get(URL, headers=auth(username))
        assert response.status_code == 403, username
        assert "审计" in response.json()["detail"]
    assert client.get(URL, headers=staff["secadmin_t"]).status_code == 403
    assert client.get(URL, params={"format": "csv"}, headers=auth("admin")).status_code == 403
    body = client.get(URL, headers=staff["audit_t"]).json()
    assert set(body) == {"items", "next_cursor"}
    assert body["items"], "the refusals above are in the log"
    assert all(set(item) == ENTRY_FIELDS for item in body["items"])


def test_a_refusal_is_kept_with_who_where_and_what(client, auth, staff, db) -> None:
    assert client.get(URL, headers=auth("anweiban")).status_code == 403
    kept = entries(client, staff, action="refused", username="anweiban")
    assert len(kept) == 1
    entry = kept[0]
    assert (entry["role"], entry["result"], entry["object"]) == (
        "committee", "refused", f"GET {URL}")
    assert entry["source_ip"] == "testclient"
    stored = db.get_one(AuditEntry, entry["id"])
    assert stored.request_id and stored.detail["status"] == 403


def test_a_404_on_a_row_out_of_scope_is_a_refusal_and_on_a_missing_one_is_not(
        client, auth, staff, db, users) -> None:
    hazard = report(client, auth, "ent_a")
    photo_id = hazard["photos"][0]["id"]
    enterprise_id = users["ent_a"].enterprise_id
    db.commit()
    for url in (f"/api/v1/hazards/{hazard['id']}", f"/api/v1/photos/{photo_id}",
                f"/api/v1/enterprises/{enterprise_id}/risk-points",
                "/api/v1/hazards/99999999", "/api/v1/photos/99999999",
                "/api/v1/enterprises/99999999/risk-points"):
        assert client.get(url, headers=auth("ent_b")).status_code == 404, url
    kept = entries(client, staff, action="refused", username="ent_b")
    assert sorted(e["object"] for e in kept) == sorted(
        [f"hazard:{hazard['id']}", f"photo:{photo_id}", f"enterprise:{enterprise_id}"])
    # The caller is told the same thing either way.
    assert client.get(f"/api/v1/hazards/{hazard['id']}", headers=auth("ent_b")).json() == (
        client.get("/api/v1/hazards/99999999", headers=auth("ent_b")).json())


def _seed(db: Session) -> list[AuditEntry]:
    made = []
    for day, who, action, result in (
            (0, "alice", AuditAction.login, AuditResult.success),
            (1, "alice", AuditAction.login_failed, AuditResult.failure),
            (2, "bob", AuditAction.login, AuditResult.success),
            (3, "bob", AuditAction.export, AuditResult.success),
            (4, "alice", AuditAction.logout, AuditResult.success)):
        made.append(record(db, who=Who.tried(who), action=action, result=result,
                           at=START + timedelta(days=day)))
    db.commit()
    return made


def test_filters_select_by_day_user_action_and_result(client, staff, db) -> None:
    seeded = _seed(db)
    alice = entries(client, staff, username="alice")
    assert [e["id"] for e in alice] == [seeded[4].seq, seeded[1].seq, seeded[0].seq]
    assert [e["id"] for e in entries(client, staff, action="login")] == [
        seeded[2].seq, seeded[0].seq]
    assert [e["id"] for e in entries(client, staff, result="failure")] == [seeded[1].seq]
    local = [(START + timedelta(days=n)).astimezone(ZoneInfo("Asia/Shanghai")).date()
             for n in (1, 3)]
    window = entries(client, staff, **{"from": local[0].isoformat(), "to": local[1].isoformat()})
    assert [e["id"] for e in window if e["username"] in ("alice", "bob")] == [
        seeded[3].seq, seeded[2].seq, seeded[1].seq]


def test_pages_follow_the_cursor_newest_first(client, staff, db) -> None:
    seeded = _seed(db)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "username": "alice"} | ({"cursor": cursor} if cursor else {})
        page = client.get(URL, params=params, headers=staff["audit_t"]).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [seeded[4].seq, seeded[1].seq, seeded[0].seq]


def test_dates_at_the_calendar_edges_are_answered(client, staff) -> None:
    response = client.get(URL, params={"from": "0001-01-01", "to": "9999-12-31"},
                          headers=staff["audit_t"])
    assert response.status_code == 200


@pytest.mark.parametrize("params", [
    {"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 501}, {"action": "dance"},
    {"result": "maybe"}, {"from": "2026-13-01"}, {"from": "2026-05-02", "to": "2026-05-01"},
    {"username": "x" * 65}, {"format": "pdf"}, {"username": "a\x00b"},
])
def test_bad_queries_are_422_in_chinese(client, staff, params) -> None:
    response = client.get(URL, params=params, headers=staff["audit_t"])
    assert response.status_code == 422, response.text


def test_the_csv_export_holds_the_selection_and_is_itself_recorded(client, staff, db) -> None:
    seeded = _seed(db)
    response = client.get(URL, params={"format": "csv", "username": "bob"},
                          headers=staff["audit_t"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:8] == ["id", "at", "username", "role", "source_ip", "action", "object",
                           "result"]
    assert [int(r[0]) for r in rows[1:]] == [seeded[3].seq, seeded[2].seq]
    assert rows[1][5:8] == ["export", "", "success"]
    exports = entries(client, staff, action="export", username="audit_t")
    assert [e["object"] for e in exports] == ["audit_log"]
    stored = db.get_one(AuditEntry, exports[0]["id"])
    assert stored.detail == {"format": "csv", "filters": {"username": "bob"}, "rows": 2}


def test_ledger_statistics_and_dossier_exports_are_recorded(client, auth, staff) -> None:
    assert client.get("/api/v1/hazards/ledger", params={"format": "csv"},
                      headers=auth("anweiban")).status_code == 200
    assert client.get("/api/v1/statistics/quarterly",
                      params={"year": 2026, "quarter": 2, "format": "xlsx"},
                      headers=auth("anweiban")).status_code == 200
    major = report(client, auth, "ent_a", level="major", major_clause="第四条（一）")
    assert client.get(f"/api/v1/hazards/{major['id']}/dossier", params={"format": "html"},
                      headers=auth("anweiban")).status_code == 200
    exports = entries(client, staff, action="export", username="anweiban")
    assert sorted(e["object"] for e in exports) == sorted(
        ["ledger", "statistics", f"hazard:{major['id']}"])


def test_setting_changes_are_recorded_with_before_and_after(client, auth, staff, db,
                                                            settings) -> None:
    settings.webhook_allow_private = True  # a literal intranet address: no DNS in the test
    for rate in ("0.2", "0.3"):
        assert client.put("/api/v1/spot-check-policy", json={"rate": rate},
                          headers=auth("anweiban")).status_code == 200
    hook = client.post("/api/v1/webhooks", json={"url": "http://10.1.2.3/hook"},
                       headers=auth("admin"))
    assert hook.status_code == 201, hook.text
    assert client.delete(f"/api/v1/webhooks/{hook.json()['id']}",
                         headers=auth("admin")).status_code == 200
    changes = entries(client, staff, action="setting_change")
    details = [db.get_one(AuditEntry, e["id"]).detail for e in reversed(changes)]
    assert details[1] == {"before": {"rate": "0.2"}, "after": {"rate": "0.3"}}
    assert details[2]["after"]["url"] == "http://10.1.2.3/hook"
    assert details[3] == {"before": {"active": True}, "after": {"active": False}}
    secret = hook.json()["secret"]
    assert all(secret not in str(detail) for detail in details)
    assert [e["username"] for e in changes] == ["admin", "admin", "anweiban", "anweiban"]
