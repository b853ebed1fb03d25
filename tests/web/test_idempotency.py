"""The pages' forms honour Idempotency-Key like the API (what offline drafts rely on)."""

import re

from sqlalchemy import func, select

from app.models import Event, Hazard
from tests.samples import jpeg_bytes, photo

FIELDS = {"title": "行车钢丝绳断股", "description": "二号行车主钢丝绳断股三处",
          "location": "装配车间", "level": "general"}


def sign_in(client, username: str) -> str:
    """Signs in through the login form; returns the page's CSRF token."""
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text)[1]
    response = client.post("/login", data={"csrf_token": token, "username": username,
                                            "password": "demo-pass-2026"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text)[1]


def test_a_resent_report_form_makes_one_hazard(client, db) -> None:
    token = sign_in(client, "ent_a")
    image = jpeg_bytes()

    def send():
        return client.post("/hazards/new", data={**FIELDS, "csrf_token": token},
                           files=[photo(data=image)], follow_redirects=False,
                           headers={"Idempotency-Key": "draft-0001"})

    first, again = send(), send()
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    hazard = db.scalars(select(Hazard).where(Hazard.title == FIELDS["title"])).one()
    assert first.headers["location"] == f"/hazards/{hazard.id}"
    assert db.scalar(select(func.count()).select_from(Event)
                     .where(Event.hazard_id == hazard.id)) == 1


def test_a_draft_sent_after_signing_in_again_is_still_the_same_request(client, db) -> None:
    """The CSRF token changes with the session; the key still names the same submission."""
    image = jpeg_bytes()
    first_token = sign_in(client, "ent_a")
    first = client.post("/hazards/new", data={**FIELDS, "csrf_token": first_token},
                        files=[photo(data=image)], follow_redirects=False,
                        headers={"Idempotency-Key": "draft-0002"})
    client.cookies.clear()
    second_token = sign_in(client, "ent_a")
    assert second_token != first_token
    again = client.post("/hazards/new", data={**FIELDS, "csrf_token": second_token},
                        files=[photo(data=image)], follow_redirects=False,
                        headers={"Idempotency-Key": "draft-0002"})
    assert (again.status_code, again.headers["location"]) == (303, first.headers["location"])
    assert db.scalar(select(func.count()).select_from(Hazard)
                     .where(Hazard.title == FIELDS["title"])) == 1


def test_a_refused_form_leaves_the_key_free(client, db) -> None:
    token = sign_in(client, "ent_a")
    image = jpeg_bytes()
    headers = {"Idempotency-Key": "draft-0003"}
    refused = client.post("/hazards/new", data={**FIELDS, "title": "", "csrf_token": token},
                          files=[photo(data=image)], headers=headers, follow_redirects=False)
    assert refused.status_code == 422
    fixed = client.post("/hazards/new", data={**FIELDS, "csrf_token": token},
                        files=[photo(data=image)], headers=headers, follow_redirects=False)
    assert fixed.status_code == 303
    assert db.scalar(select(func.count()).select_from(Hazard)
                     .where(Hazard.title == FIELDS["title"])) == 1
