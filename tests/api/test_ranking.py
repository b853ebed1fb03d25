"""亮晒排名: GET /api/v1/board/ranking — hand-counted components, from the timeline as of the
month's end, ties, weights from settings, scoping, bad months."""

from datetime import date
from typing import Any

import pytest

from tests.api.board_story import Story, build_story, set_day
from tests.api.helpers import report


def get_ranking(client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/board/ranking", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def by_name(ranking: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in ranking["townships"]}


def test_october_ranking_by_hand_and_unchanged_by_later_events(client, auth, db,
                                                               clock) -> None:
    story: Story = build_story(
        client, auth, db, clock,
        before_november=lambda: get_ranking(client, auth("anweiban"), month="2026-10"))
    later = get_ranking(client, auth("anweiban"), month="2026-10")
    # Seen on 11-01, then on 11-23 after H1 and H4 were closed and H6 reported: the same.
    assert later == story.ranking_after_october
    assert later["month"] == "2026-10" and later["provisional"] is False
    assert later["as_of"] == "2026-11-01T00:00:00+08:00"
    assert later["weights"] == {"rectification": 0.3, "on_time": 0.25, "overdue": 0.15,
                                "spot_check": 0.15, "self_found": 0.15}
    towns = by_name(later)
    # 城关镇: base H1 (open since 09-20) and H4 (found 10-08 by an inspector); at 11-01 H4 is
    # verified (rectified), H1 awaits verification. Submissions: H1 10-08 (deadline 10-10),
    # H4 10-18 (10-20) on time, H1 10-28 (deadline reset to 10-25 by the failed spot-check)
    # late. One spot-check in October, failed.
    assert towns["城关镇"]["components"] == {
        "rectification": {"numerator": 1, "denominator": 2, "rate": 0.5, "score": 0.5},
        "on_time": {"numerator": 2, "denominator": 3, "rate": 0.6667, "score": 0.6667},
        "overdue": {"count": 0, "score": 1.0},
        "spot_check": {"numerator": 1, "denominator": 1, "rate": 1.0, "score": 0.0},
        "self_found": {"numerator": 0, "denominator": 1, "rate": 0.0, "score": 0.0},
    }
    # 0.3 × 0.5 + 0.25 × 2/3 + 0.15 × 1 + 0.15 × 0 + 0.15 × 0 = 0.46667
    assert towns["城关镇"]["index"] == 46.67
    # 清溪镇: base H2 only (H5 was rejected in October); H2 overdue since 10-06, no
    # submission, no spot-check, nothing found: only rectification and overdue count.
    assert towns["清溪镇"]["components"] == {
        "rectification": {"numerator": 0, "denominator": 1, "rate": 0.0, "score": 0.0},
        "on_time": {"numerator": 0, "denominator": 0, "rate": None, "score": None},
        "overdue": {"count": 1, "score": 0.0},
        "spot_check": {"numerator": 0, "denominator": 0, "rate": None, "score": None},
        "self_found": {"numerator": 0, "denominator": 0, "rate": None, "score": None},
    }
    assert towns["清溪镇"]["index"] == 0.0
    assert [(row["name"], row["rank"]) for row in later["townships"]] == [
        ("城关镇", 1), ("清溪镇", 2)]


def test_september_ranking_from_the_timeline(client, auth, db, clock) -> None:
    build_story(client, auth, db, clock)
    towns = by_name(get_ranking(client, auth("anweiban"), month="2026-09"))
    # 城关镇: H1 and H3 found by ent_a; H3 closed 09-20 (rectified), H1 rectifying with a
    # deadline ahead; H3 submitted on time and spot-checked (passed).
    assert towns["城关镇"]["components"] == {
        "rectification": {"numerator": 1, "denominator": 2, "rate": 0.5, "score": 0.5},
        "on_time": {"numerator": 1, "denominator": 1, "rate": 1.0, "score": 1.0},
        "overdue": {"count": 0, "score": 1.0},
        "spot_check": {"numerator": 0, "denominator": 1, "rate": 0.0, "score": 1.0},
        "self_found": {"numerator": 2, "denominator": 2, "rate": 1.0, "score": 1.0},
    }
    assert towns["城关镇"]["index"] == 85.0  # 0.15 + 0.25 + 0.15 + 0.15 + 0.15
    # 清溪镇: H2 found by ent_b, rectifying, its deadline (10-05) not yet passed on 09-30.
    assert towns["清溪镇"]["components"]["overdue"] == {"count": 0, "score": 1.0}
    assert towns["清溪镇"]["components"]["self_found"]["rate"] == 1.0
    assert towns["清溪镇"]["index"] == pytest.approx(50.0)  # (0 + 0.15 + 0.15) / 0.6


def test_ties_share_a_rank_listed_by_code_and_weights_come_from_settings(
        client, auth, clock, settings) -> None:
    set_day(clock, date(2026, 10, 12))
    report(client, auth, "ent_b")
    report(client, auth, "ent_a")
    set_day(clock, date(2026, 11, 23))
    ranking = get_ranking(client, auth("anweiban"), month="2026-10")
    # Both: one hazard found by the enterprise, not yet assigned: rectification 0,
    # overdue score 1, self-found 1 → (0 + 0.15 + 0.15) / 0.6 = 50.
    assert [(r["name"], r["index"], r["rank"]) for r in ranking["townships"]] == [
        ("城关镇", 50.0, 1), ("清溪镇", 50.0, 1)]
    settings.ranking_weight_self_found = 0
    reweighted = get_ranking(client, auth("anweiban"), month="2026-10")
    assert reweighted["weights"]["self_found"] == 0
    assert [r["index"] for r in reweighted["townships"]] == [33.33, 33.33]  # 0.15 / 0.45


def test_townships_without_hazards_are_listed_last_unranked(client, auth, clock) -> None:
    set_day(clock, date(2026, 10, 12))
    report(client, auth, "ent_b")
    set_day(clock, date(2026, 11, 23))
    ranking = get_ranking(client, auth("anweiban"), month="2026-10")
    assert [(r["name"], r["rank"], r["index"] is None) for r in ranking["townships"]] == [
        ("清溪镇", 1, False), ("城关镇", None, True)]
    assert ranking["labels"]["unranked"] == "本月无隐患数据，不参与排名"


def test_current_month_is_provisional_and_default_is_last_month(client, auth) -> None:
    report(client, auth, "ent_a")
    current = get_ranking(client, auth("anweiban"), month="2026-11")
    assert current["provisional"] is True
    assert current["as_of"] == "2026-11-23T10:00:00+08:00"
    assert by_name(current)["城关镇"]["components"]["self_found"]["numerator"] == 1
    default = get_ranking(client, auth("anweiban"))
    assert (default["month"], default["provisional"]) == ("2026-10", False)


@pytest.mark.parametrize("month", ["2026-12", "2026-13", "2026-1", "abc", "1999-12", "2026-00",
                                   "0000-01"])
def test_bad_or_future_month_answers_422(client, auth, month: str) -> None:
    response = client.get("/api/v1/board/ranking", params={"month": month},
                          headers=auth("anweiban"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "month"]


def test_only_committee_and_admin_rank_townships(client, auth) -> None:
    for username in ("ent_a", "insp_town", "insp_dept"):
        response = client.get("/api/v1/board/ranking", headers=auth(username))
        assert response.status_code == 403, username
    assert get_ranking(client, auth("admin"), month="2026-10")["townships"]


def test_region_outside_the_committee_answers_404(client, auth) -> None:
    for region_id in (2**31 - 1, 0):
        response = client.get("/api/v1/board/ranking", params={"region_id": region_id},
                              headers=auth("anweiban"))
        assert response.status_code == 404
