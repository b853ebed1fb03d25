"""动态清零 board: GET /api/v1/board — hand-counted figures, drill-down to the list, scoping."""

from typing import Any

import pytest
from sqlalchemy import select

from app.models import Event, Hazard
from tests.api.board_story import Story, build_story
from tests.api.helpers import act, neighbouring_county, ok, report

FIGURES = ("open", "overdue", "listed", "open_at_start", "found", "closed")


def get_board(client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/board", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def counts(figures: dict[str, Any]) -> dict[str, Any]:
    return {**{name: figures[name]["count"] for name in FIGURES},
            "clearance_rate": figures["clearance_rate"]}


def listed_ids(client, headers: dict[str, str], params: dict[str, str]) -> set[int]:
    response = client.get("/api/v1/hazards", params={**params, "limit": 200}, headers=headers)
    assert response.status_code == 200, (params, response.text)
    body = response.json()
    assert body["next_cursor"] is None
    return {item["id"] for item in body["items"]}


def all_figures(board: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every drillable figure of a board, with a name saying where it is."""
    found = [(f"totals.{n}", board["totals"][n]) for n in FIGURES]
    for row in board["by_township"]:
        found += [(f"{row['name']}.{n}", row[n]) for n in FIGURES]
    for row in board["by_industry"]:
        found += [(f"{row['name']}.{n}", row[n]) for n in FIGURES]
    for month in board["trend"]:
        found += [(f"{month['month']}.{n}", month[n]) for n in ("found", "closed", "open_at_end")]
    return found


@pytest.fixture
def story(client, auth, db, clock) -> Story:
    return build_story(client, auth, db, clock)


def test_major_board_counts_by_hand(client, auth, story: Story) -> None:
    board = get_board(client, auth("anweiban"), level="major", **{"from": "2026-10-01"},
                      to="2026-11-30")
    assert board["from"] == "2026-10-01" and board["to"] == "2026-11-30"
    assert board["as_of"] == "2026-11-23T10:00:00+08:00"
    # Now (11-23): H2 and H6 open, H2 overdue and listed. Period: H1, H2 open on 09-30;
    # H4, H6 found; H1, H4 closed → 2 / (2 + 2).
    assert counts(board["totals"]) == {"open": 2, "overdue": 1, "listed": 1,
                                       "open_at_start": 2, "found": 2, "closed": 2,
                                       "clearance_rate": 0.5}
    towns = {row["name"]: row for row in board["by_township"]}
    assert [row["name"] for row in board["by_township"]] == ["城关镇", "清溪镇"]
    assert counts(towns["城关镇"]) == {"open": 1, "overdue": 0, "listed": 0, "open_at_start": 1,
                                      "found": 2, "closed": 2, "clearance_rate": 0.6667}
    assert counts(towns["清溪镇"]) == {"open": 1, "overdue": 1, "listed": 1, "open_at_start": 1,
                                      "found": 0, "closed": 0, "clearance_rate": 0.0}
    industries = {row["name"]: row for row in board["by_industry"]}
    assert set(industries) == {"机械", "化工"}
    assert counts(industries["机械"]) == {"open": 2, "overdue": 1, "listed": 1,
                                         "open_at_start": 2, "found": 1, "closed": 1,
                                         "clearance_rate": 0.3333}
    assert counts(industries["化工"]) == {"open": 0, "overdue": 0, "listed": 0,
                                         "open_at_start": 0, "found": 1, "closed": 1,
                                         "clearance_rate": 1.0}
    # October: H4 found, nothing closed, H1 H2 H4 open at its end; November: H6 found,
    # H1 H4 closed, H2 H6 open (the month's end is still ahead: open now).
    assert [(m["month"], m["found"]["count"], m["closed"]["count"], m["open_at_end"]["count"])
            for m in board["trend"]] == [("2026-10", 1, 0, 3), ("2026-11", 1, 2, 2)]
    assert board["labels"]["clearance_rate"] == "清零率"


def test_october_alone_and_general_hazards(client, auth, story: Story) -> None:
    october = get_board(client, auth("anweiban"), level="major", **{"from": "2026-10-01"},
                        to="2026-10-31")
    # Nothing closed in October; the figures "now" do not depend on the period.
    assert counts(october["totals"]) == {"open": 2, "overdue": 1, "listed": 1,
                                         "open_at_start": 2, "found": 1, "closed": 0,
                                         "clearance_rate": 0.0}
    general = get_board(client, auth("anweiban"), level="general", **{"from": "2026-09-01"},
                        to="2026-10-31")
    # H3 found and closed in September; H5 reported in October but rejected: not found.
    assert counts(general["totals"]) == {"open": 0, "overdue": 0, "listed": 0,
                                         "open_at_start": 0, "found": 1, "closed": 1,
                                         "clearance_rate": 1.0}
    both = get_board(client, auth("anweiban"), **{"from": "2026-09-01"}, to="2026-11-30")
    assert counts(both["totals"]) == {"open": 2, "overdue": 1, "listed": 1, "open_at_start": 0,
                                      "found": 5, "closed": 3, "clearance_rate": 0.6}
    assert [m["month"] for m in both["trend"]] == ["2026-09", "2026-10", "2026-11"]


@pytest.mark.parametrize("params", [
    {"level": "major", "from": "2026-10-01", "to": "2026-11-30"},
    {"level": "general", "from": "2026-09-01", "to": "2026-10-31"},
    {"from": "2026-09-15", "to": "2026-11-05"},
])
@pytest.mark.parametrize("username", ["anweiban", "admin", "insp_town", "insp_dept"])
def test_every_figure_drills_down_to_the_list(client, auth, story: Story, username: str,
                                              params: dict[str, str]) -> None:
    headers = auth(username)
    board = get_board(client, headers, **params)
    nonzero = 0
    for where, figure in all_figures(board):
        ids = listed_ids(client, headers, figure["params"])
        assert len(ids) == figure["count"], (where, figure)
        nonzero += figure["count"] > 0
    assert nonzero > 5
    # The ledger export takes the same filters.
    ledger = client.get("/api/v1/hazards/ledger", headers=headers,
                        params={**board["totals"]["found"]["params"], "format": "csv"})
    assert ledger.status_code == 200
    assert len(ledger.content.decode("utf-8-sig").strip().splitlines()) - 1 == \
        board["totals"]["found"]["count"]


def test_drill_down_lists_the_very_hazards(client, auth, story: Story) -> None:
    headers = auth("anweiban")
    board = get_board(client, headers, level="major", **{"from": "2026-10-01"},
                      to="2026-11-30")
    h = story.ids
    expected = {"open": {h["H2"], h["H6"]}, "overdue": {h["H2"]}, "listed": {h["H2"]},
                "open_at_start": {h["H1"], h["H2"]}, "found": {h["H4"], h["H6"]},
                "closed": {h["H1"], h["H4"]}}
    for name, ids in expected.items():
        assert listed_ids(client, headers, board["totals"][name]["params"]) == ids, name
    october = board["trend"][0]["open_at_end"]
    assert october["params"] == {"level": "major", "open_on": "2026-10-31"}
    assert listed_ids(client, headers, october["params"]) == {h["H1"], h["H2"], h["H4"]}
    chem = next(r for r in board["by_industry"] if r["name"] == "化工")
    assert chem["closed"]["params"] == {"level": "major", "industry_id": str(story.chemicals),
                                        "closed_from": "2026-10-01", "closed_to": "2026-11-30"}


def test_hazard_rows_keep_when_they_ended(db, story: Story) -> None:
    """The board reads a hazard's end from the row: it must be its close or reject event's
    time (H1, H3, H4 closed; H5 rejected), and nothing for the open ones (H2, H6)."""
    endings = dict(db.execute(select(Event.hazard_id, Event.at)
                              .where(Event.action.in_(("close", "reject")))).all())
    rows = {hazard.id: hazard for hazard in db.scalars(select(Hazard))}
    for name, hazard_id in story.ids.items():
        db.refresh(rows[hazard_id])
        assert rows[hazard_id].ended_at == endings.get(hazard_id), name
    assert {name for name, hazard_id in story.ids.items() if hazard_id in endings} == \
        {"H1", "H3", "H4", "H5"}


def test_ending_a_hazard_is_one_update(client, auth, db) -> None:
    """Keeping the end time on the row costs no extra update: the version moves by one."""
    hazard = report(client, auth, "ent_a")
    rejected = ok(act(client, auth, "insp_dept", hazard["id"], "reject", {"reason": "重复上报"}))
    assert rejected["version"] == hazard["version"] + 1
    ending = db.scalars(select(Event).where(Event.hazard_id == hazard["id"],
                                            Event.action == "reject")).one()
    assert db.get_one(Hazard, hazard["id"]).ended_at == ending.at


def test_region_filter_takes_the_subtree(client, auth, story: Story) -> None:
    headers = auth("anweiban")
    town = get_board(client, headers, level="major", region_id=story.town2,
                     **{"from": "2026-10-01"}, to="2026-11-30")
    assert [row["region_id"] for row in town["by_township"]] == [story.town2]
    assert counts(town["totals"]) == {"open": 1, "overdue": 1, "listed": 1, "open_at_start": 1,
                                      "found": 0, "closed": 0, "clearance_rate": 0.0}
    assert town["totals"]["open"]["params"] == {"level": "major", "region_id": str(story.town2),
                                                "open": "true"}
    county = client.get("/api/v1/me", headers=headers).json()["region_id"]
    whole = get_board(client, headers, level="major", region_id=county,
                      **{"from": "2026-10-01"}, to="2026-11-30")
    assert counts(whole["totals"])["open"] == 2


def test_inspector_of_township_1_never_counts_township_2(client, auth, story: Story) -> None:
    board = get_board(client, auth("insp_town"), level="major", **{"from": "2026-10-01"},
                      to="2026-11-30")
    assert [row["name"] for row in board["by_township"]] == ["城关镇"]
    # H1, H4, H6 of 城关镇; H2 (清溪镇, overdue and listed) is not counted anywhere.
    assert counts(board["totals"]) == {"open": 1, "overdue": 0, "listed": 0, "open_at_start": 1,
                                       "found": 2, "closed": 2, "clearance_rate": 0.6667}
    assert sum(m["open_at_end"]["count"] for m in board["trend"]) == 2 + 1
    # Asking for township 2 by id: 404, as the quarterly statistics answer (not 200 with its
    # name and zeros).
    other = client.get("/api/v1/board", params={"level": "major", "region_id": story.town2},
                       headers=auth("insp_town"))
    assert other.status_code == 404
    assert "清溪镇" not in other.text
    # Its own township still answers as before.
    own = get_board(client, auth("insp_town"), level="major", region_id=story.town1,
                    **{"from": "2026-10-01"}, to="2026-11-30")
    assert counts(own["totals"]) == counts(board["totals"])


def test_committee_of_another_county_counts_nothing_here(client, auth, db, clock,
                                                        story: Story) -> None:
    _county, _town, headers = neighbouring_county(db, clock)
    board = get_board(client, headers, **{"from": "2026-09-01"}, to="2026-11-30")
    assert [row["name"] for row in board["by_township"]] == ["邻县城关镇"]
    assert all(figure["count"] == 0 for _, figure in all_figures(board))
    assert board["by_industry"] == []
    # Our county's township is outside its region: 404, as for anything it may not see.
    response = client.get("/api/v1/board", params={"region_id": story.town1}, headers=headers)
    assert response.status_code == 404


def test_enterprise_users_may_not_see_the_board(client, auth) -> None:
    report(client, auth, "ent_a")
    response = client.get("/api/v1/board", headers=auth("ent_a"))
    assert response.status_code == 403
    assert "看板" in response.json()["detail"]
    assert client.get("/api/v1/board").status_code == 401


def test_defaults_are_this_month_to_today(client, auth) -> None:
    report(client, auth, "ent_a", level="major", major_clause="第四条")
    board = get_board(client, auth("anweiban"))
    assert (board["from"], board["to"], board["level"]) == ("2026-11-01", "2026-11-23", None)
    assert board["totals"]["found"]["count"] == 1


@pytest.mark.parametrize("params", [
    {"level": "huge"},
    {"from": "2026-13-01"},
    {"from": "2026-11-02", "to": "2026-11-01"},
    {"from": "1999-12-31", "to": "2000-01-31"},
    {"from": "2026-01-01", "to": "2100-01-01"},
    {"from": "2020-01-01", "to": "2023-01-01"},  # 37 months
    {"region_id": "abc"},
])
def test_bad_parameters_answer_422(client, auth, params: dict[str, str]) -> None:
    response = client.get("/api/v1/board", params=params, headers=auth("anweiban"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_unknown_region_answers_404(client, auth) -> None:
    for region_id in (2**31 - 1, 2**40, 0):
        response = client.get("/api/v1/board", params={"region_id": region_id},
                              headers=auth("anweiban"))
        assert response.status_code == 404
