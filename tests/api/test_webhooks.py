"""Webhook subscriptions over HTTP: admin only, scoped to the admin's region, secret shown once."""

import socket
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from app.models import OutboxMessage, Region, Webhook
from app.models.enums import RegionLevel
from app.services.outbox.webhooks import deliver_due
from tests.api.helpers import START, report

HOOK = {"url": "https://hooks.example.org/bihuan", "topics": ["report", "assign"]}


def create(client, auth, username: str = "admin", **body) -> dict:
    response = client.post("/api/v1/webhooks", json={**HOOK, **body}, headers=auth(username))
    assert response.status_code == 201, response.text
    return response.json()


def neighbouring_county_hook(db, users) -> Webhook:
    """A webhook of a county beside the demo county (outside the admin's subtree)."""
    city = db.scalars(select(Region).where(Region.code == "339900000000")).one()
    county = Region(code="339902000000", name="邻县", level=RegionLevel.county, parent=city,
                    path=f"{city.path}339902000000/")
    db.add(county)
    db.flush()
    hook = Webhook(url="https://elsewhere.example.org/", secret="s" * 64, topics=[],
                   region_id=county.id, active=True, created_by_id=users["admin"].id,
                   created_at=START)
    db.add(hook)
    db.flush()
    return hook


def test_admin_creates_lists_and_deactivates(client, auth, users) -> None:
    hook = create(client, auth)
    assert len(hook["secret"]) == 64 and int(hook["secret"], 16) >= 0
    assert hook["region_id"] == users["admin"].region_id and hook["active"] is True
    assert hook["url"] == HOOK["url"] and hook["topics"] == ["assign", "report"]

    listed = client.get("/api/v1/webhooks", headers=auth("admin")).json()
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]

    gone = client.delete(f"/api/v1/webhooks/{hook['id']}", headers=auth("admin"))
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert client.get("/api/v1/webhooks", headers=auth("admin")).json()[0]["active"] is False


def test_only_an_admin_manages_webhooks(client, auth) -> None:
    hook = create(client, auth)
    for username in ("ent_a", "insp_dept", "anweiban"):
        headers = auth(username)
        assert client.post("/api/v1/webhooks", json=HOOK, headers=headers).status_code == 403
        assert client.get("/api/v1/webhooks", headers=headers).status_code == 403
        for method, path in (("DELETE", ""), ("GET", "/deliveries")):
            response = client.request(method, f"/api/v1/webhooks/{hook['id']}{path}",
                                      headers=headers)
            assert response.status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 401


def test_the_url_must_be_http_and_topics_well_formed(client, auth) -> None:
    for url in ("ftp://example.org/x", "file:///etc/passwd", "javascript:alert(1)",
                "not a url", "http://" + "a" * 500 + ".org/"):
        response = client.post("/api/v1/webhooks", json={"url": url}, headers=auth("admin"))
        assert response.status_code == 422, url
    bad_topic = client.post("/api/v1/webhooks", json={**HOOK, "topics": ["Report!"]},
                            headers=auth("admin"))
    assert bad_topic.status_code == 422
    assert create(client, auth, url="https://hooks.example.org/all", topics=[])["topics"] == []


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/hook", "http://localhost/hook", "http://LOCALHOST./hook",
    "http://api.localhost/hook", "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook",
    "http://10.0.0.5/hook", "http://172.16.3.4/hook", "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/hook",
    "http://100.64.0.1/hook", "http://0.0.0.0/hook", "http://[fd00::5]/hook",
    "http://224.0.0.1/hook", "http://2130706433/hook",
])
def test_the_url_may_not_point_inside(client, auth, settings, url: str) -> None:
    response = client.post("/api/v1/webhooks", json={"url": url}, headers=auth("admin"))
    assert response.status_code == 422, (url, response.text)
    assert "WEBHOOK_ALLOW_PRIVATE" in response.json()["detail"][0]["msg"]
    settings.webhook_allow_private = True
    assert client.post("/api/v1/webhooks", json={"url": url},
                       headers=auth("admin")).status_code == 201


def test_a_name_resolving_inside_is_refused(client, auth, monkeypatch) -> None:
    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        address = {"intranet.example.org": "10.1.2.3", "hooks.example.org": "93.184.216.34"}
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address[host], port))]

    monkeypatch.setattr("app.services.outbox.webhooks.socket.getaddrinfo", getaddrinfo)
    response = client.post("/api/v1/webhooks", json={"url": "https://intranet.example.org/x"},
                           headers=auth("admin"))
    assert response.status_code == 422 and "10.1.2.3" in response.json()["detail"][0]["msg"]
    assert create(client, auth, url="https://hooks.example.org/x")["url"]


def test_other_regions_webhooks_are_not_found(client, auth, db, users) -> None:
    other = neighbouring_county_hook(db, users)
    assert client.get("/api/v1/webhooks", headers=auth("admin")).json() == []
    for method, path in (("DELETE", ""), ("GET", "/deliveries")):
        for hook_id in (other.id, 999_999, 2**63):
            response = client.request(method, f"/api/v1/webhooks/{hook_id}{path}",
                                      headers=auth("admin"))
            assert response.status_code == 404, (method, hook_id)
    assert db.get(Webhook, other.id).active is True
    # A subscription may be narrowed to a township of the admin's county, not moved outside it.
    township = db.scalars(select(Region).where(Region.code == "339901101000")).one()
    assert create(client, auth, region_id=township.id)["region_id"] == township.id
    outside = client.post("/api/v1/webhooks", json={**HOOK, "region_id": other.region_id},
                          headers=auth("admin"))
    assert outside.status_code == 404


def test_delivery_log_after_commit(client, auth, db, clock) -> None:
    hook = create(client, auth)
    hazard = report(client, auth, "ent_a")
    # The report's message is in the committed request's transaction, not yet sent anywhere.
    message = db.scalars(select(OutboxMessage).where(OutboxMessage.hazard_id == hazard["id"])
                         ).one()
    assert message.topic == "report" and message.dispatched_at is None
    log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=auth("admin"))
    assert log.json() == []

    sent: list[str] = []

    def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        sent.append(url)
        return 204

    @contextmanager
    def test_session():  # the worker's sessions, joined to this test's transaction
        yield db

    report_ = deliver_due(test_session, clock, http_client=post)  # type: ignore[arg-type]
    assert report_.delivered == 1 and sent == [HOOK["url"]]
    [row] = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                       headers=auth("admin")).json()
    assert (row["message_id"], row["status"], row["attempts"], row["last_status_code"]) == \
        (message.id, "delivered", 1, 204)
