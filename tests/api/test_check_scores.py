"""排查 scores on the board: completion rate, overdue tasks, self-check vs inspection, the
双重预防 index and the 四色 colour, per enterprise and township, within the caller's reach."""

from datetime import timedelta

import pytest

from app.services.checks.tasks import generate_tasks
from tests.api.helpers import act, in_days, neighbouring_county, report
from tests.api.test_checks import add_point, answer, enterprise_id


def scores(client, auth, username: str = "anweiban", **params) -> dict:
    response = client.get("/api/v1/board/checks", params=params, headers=auth(username))
    assert response.status_code == 200, response.text
    return response.json()


def row(body: dict, eid: int) -> dict:
    return next(e for e in body["by_enterprise"] if e["enterprise_id"] == eid)


def test_completion_overdue_and_the_index(client, auth, db, clock) -> None:
    a, b = enterprise_id(client, auth, "ent_a"), enterprise_id(client, auth, "ent_b")
    add_point(client, auth, "ent_a", level="medium")  # one daily item
    add_point(client, auth, "ent_b", level="low")
    generate_tasks(db, clock)
    tasks = client.get("/api/v1/check-tasks", headers=auth("ent_a")).json()["items"]
    answer(client, auth, tasks[0]["id"], [{"item_id": tasks[0]["items"][0]["id"],
                                           "outcome": "ok"}])
    clock.advance(timedelta(days=1))  # ent_b's task of yesterday is now overdue
    body = scores(client, auth, **{"from": (clock.now().date() - timedelta(days=1)).isoformat()})
    ra, rb = row(body, a), row(body, b)
    assert (ra["items_due"], ra["items_on_time"], ra["completion_rate"]) == (1, 1, 1.0)
    assert ra["index"] == 100.0 and ra["colour"] == "yellow"
    assert (rb["items_due"], rb["items_on_time"], rb["overdue_tasks"]) == (1, 0, 1)
    assert rb["index"] == 50.0 and rb["colour"] == "blue"
    assert body["totals"]["items_due"] == 2 and body["totals"]["overdue_tasks"] == 1
    assert body["totals"]["colour"] == "yellow"
    assert {t["name"] for t in body["by_township"]} >= {"城关镇", "清溪镇"}
    assert "× 50" in body["formula"]
    assert ra["lat"] is not None  # the demo enterprises have coordinates: a map


def test_self_check_against_inspection_and_a_major_hazard_zeroes_the_index(client, auth,
                                                                           db, clock) -> None:
    a = enterprise_id(client, auth, "ent_a")
    report(client, auth, "ent_a")
    report(client, auth, "insp_dept", enterprise_id=str(a))
    major = report(client, auth, "ent_a", level="major", major_clause="第三条（一）")
    ra = row(scores(client, auth), a)
    assert (ra["hazards_self"], ra["hazards_inspection"]) == (2, 1)
    assert ra["colour"] == "red" and ra["open_major_hazards"] == 1
    assert ra["index"] == 50.0  # nothing checked (A = 0); no deadline yet (B = 50)
    assigned = act(client, auth, "insp_dept", major["id"], "assign",
                   {"deadline": in_days(1)})
    assert assigned.status_code == 200, assigned.text
    clock.advance(timedelta(days=3))  # the major hazard's deadline has passed, still open
    late = row(scores(client, auth), a)
    assert late["overdue_major_hazards"] == 1 and late["index"] == 0.0


@pytest.mark.parametrize(("username", "status", "enterprises"), [
    ("ent_a", 403, None), ("insp_town", 200, 1), ("insp_dept", 200, 2),
    ("anweiban", 200, 2), ("admin", 200, 2)])
def test_who_sees_the_scores(client, auth, username, status, enterprises) -> None:
    response = client.get("/api/v1/board/checks", headers=auth(username))
    assert response.status_code == status
    if enterprises is not None:
        assert len(response.json()["by_enterprise"]) == enterprises


def test_another_county_sees_none_of_it_and_input_is_bounded(client, auth, db, clock) -> None:
    county, _, headers = neighbouring_county(db, clock)
    db.commit()
    other = client.get("/api/v1/board/checks", headers=headers).json()
    assert other["by_enterprise"] == [] and other["totals"]["items_due"] == 0
    assert client.get("/api/v1/board/checks", params={"region_id": county.id},
                      headers=auth("anweiban")).status_code == 404
    assert client.get("/api/v1/board/checks", params={"region_id": 10**12},
                      headers=auth("anweiban")).status_code == 404
    for bad in ({"from": "2026-11-10", "to": "2026-11-01"},
                {"from": "2024-01-01", "to": "2026-01-01"}, {"from": "x"}):
        response = client.get("/api/v1/board/checks", params=bad, headers=auth("anweiban"))
        assert response.status_code == 422, bad
