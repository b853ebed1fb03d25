"""亮晒排名: GET /api/v1/board/ranking — hand-counted components, from the timeline as of the
month's end, ties, weights from settings, scoping, bad months; ended months kept
(ranking_month) and served from their counts."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from app.core.security import issue_token
from app.models import RankingMonth, Region
from app.services.accounts.users import create_user
from app.services.board.kept_months import COUNTS_VERSION
from app.services.checks.tasks import generate_tasks
from tests.api.board_story import Story, build_story, set_day
from tests.api.helpers import act, ok, report
from tests.api.test_checks import MEASURE, add_point, answer
from tests.api.test_notice_numbers import neighbouring_county_reporter

# October 2026 ends at 2026-11-01 00:00 in Shanghai (10-31 16:00 UTC); it is kept from 01:00.
OCTOBER_ENDED = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)


def get_ranking(client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/board/ranking", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def by_name(ranking: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in ranking["townships"]}


def kept(db, month: str = "2026-10") -> dict[int, RankingMonth]:
    db.expire_all()
    return {row.region_id: row for row in db.scalars(
        select(RankingMonth).where(RankingMonth.month == month))}


def test_october_ranking_by_hand_and_unchanged_by_later_events(client, auth, db,
                                                               clock) -> None:
    story: Story = build_story(
        client, auth, db, clock,
        before_november=lambda: get_ranking(client, auth("anweiban"), month="2026-10"))
    # Seen on 11-01 (counted and kept), then on 11-23 after H1 and H4 were closed and H6
    # reported: the same, read back from the kept counts.
    assert set(kept(db)) == {story.town1, story.town2}
    later = get_ranking(client, auth("anweiban"), month="2026-10")
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
        client, auth, db, clock, settings) -> None:
    set_day(clock, date(2026, 10, 12))
    report(client, auth, "ent_b")
    report(client, auth, "ent_a")
    set_day(clock, date(2026, 11, 23))
    ranking = get_ranking(client, auth("anweiban"), month="2026-10")
    # Both: one hazard found by the enterprise, not yet assigned: rectification 0,
    # overdue score 1, self-found 1 → (0 + 0.15 + 0.15) / 0.6 = 50.
    assert [(r["name"], r["index"], r["rank"]) for r in ranking["townships"]] == [
        ("城关镇", 50.0, 1), ("清溪镇", 50.0, 1)]
    counted_at = {i: row.computed_at for i, row in kept(db).items()}
    settings.ranking_weight_self_found = 0
    reweighted = get_ranking(client, auth("anweiban"), month="2026-10")
    assert reweighted["weights"]["self_found"] == 0
    assert [r["index"] for r in reweighted["townships"]] == [33.33, 33.33]  # 0.15 / 0.45
    # From the same kept counts: the weights apply when the month is read.
    assert {i: row.computed_at for i, row in kept(db).items()} == counted_at


def test_townships_without_hazards_are_listed_last_unranked(client, auth, clock) -> None:
    set_day(clock, date(2026, 10, 12))
    report(client, auth, "ent_b")
    set_day(clock, date(2026, 11, 23))
    ranking = get_ranking(client, auth("anweiban"), month="2026-10")
    assert [(r["name"], r["rank"], r["index"] is None) for r in ranking["townships"]] == [
        ("清溪镇", 1, False), ("城关镇", None, True)]
    assert ranking["labels"]["unranked"] == "本月无隐患数据，不参与排名"


def test_current_month_is_provisional_and_default_is_last_month(client, auth, db) -> None:
    report(client, auth, "ent_a")
    current = get_ranking(client, auth("anweiban"), month="2026-11")
    assert current["provisional"] is True
    assert current["as_of"] == "2026-11-23T10:00:00+08:00"
    assert by_name(current)["城关镇"]["components"]["self_found"]["numerator"] == 1
    assert kept(db, "2026-11") == {}  # counted live until it has ended
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


def test_a_kept_month_answers_exactly_as_counted_live(client, auth, db, clock) -> None:
    def just_after_october() -> dict[str, Any]:
        clock.at = OCTOBER_ENDED.replace(minute=30)  # 00:30 on 11-01: counted live
        live = get_ranking(client, auth("anweiban"), month="2026-10")
        assert kept(db) == {}
        return live

    story = build_story(client, auth, db, clock, before_november=just_after_october)
    stored = get_ranking(client, auth("anweiban"), month="2026-10")  # 11-23: counted, kept
    assert stored == story.ranking_after_october
    assert set(kept(db)) == {story.town1, story.town2}
    assert get_ranking(client, auth("anweiban"), month="2026-10") == stored  # read back
    rows = kept(db)
    assert (rows[story.town2].base, rows[story.town2].overdue) == (1, 1)
    assert (rows[story.town1].submitted, rows[story.town1].on_time) == (3, 2)


def test_a_month_is_kept_from_an_hour_after_its_end(client, auth, db, clock) -> None:
    set_day(clock, date(2026, 10, 12))
    report(client, auth, "ent_a")
    clock.at = OCTOBER_ENDED.replace(minute=59, second=59)
    assert get_ranking(client, auth("anweiban"), month="2026-10")["provisional"] is False
    assert kept(db) == {}
    clock.at = OCTOBER_ENDED.replace(hour=17)
    get_ranking(client, auth("anweiban"), month="2026-10")
    assert len(kept(db)) == 2


def test_a_kept_month_is_served_from_its_counts_unless_counted_otherwise(
        client, auth, db, clock) -> None:
    set_day(clock, date(2026, 10, 12))
    report(client, auth, "ent_a")
    set_day(clock, date(2026, 11, 23))
    first = get_ranking(client, auth("anweiban"), month="2026-10")
    town1 = by_name(first)["城关镇"]["region_id"]
    assert by_name(first)["城关镇"]["components"]["self_found"]["denominator"] == 1
    # Read from the kept row: what it says is what the ranking shows.
    db.execute(update(RankingMonth).where(RankingMonth.region_id == town1)
               .values(found=4, self_found=3))
    shown = by_name(get_ranking(client, auth("anweiban"), month="2026-10"))["城关镇"]
    assert shown["components"]["self_found"] == {"numerator": 3, "denominator": 4,
                                                  "rate": 0.75, "score": 0.75}
    # A row counted by other rules (or for another window) is counted again and replaced.
    db.execute(update(RankingMonth).where(RankingMonth.region_id == town1)
               .values(version=COUNTS_VERSION - 1))
    assert get_ranking(client, auth("anweiban"), month="2026-10") == first
    row = kept(db)[town1]
    assert (row.version, row.found, row.self_found) == (COUNTS_VERSION, 1, 1)


def test_county_and_province_rank_from_the_same_kept_counts(client, auth, db, clock,
                                                           users) -> None:
    story = build_story(client, auth, db, clock)
    # 邻县城关镇: two hazards assigned on 10-08 with deadline 10-10, never accepted: both
    # overdue at the end of October.
    neighbour, enterprise_id = neighbouring_county_reporter(db, clock)
    set_day(clock, date(2026, 10, 8))
    for _ in range(2):
        hazard = report(client, lambda _name: neighbour, "anweiban_2",
                        enterprise_id=str(enterprise_id))["id"]
        ok(act(client, lambda _name: neighbour, "anweiban_2", hazard, "assign",
               {"deadline": "2026-10-10"}))
    set_day(clock, date(2026, 11, 23))
    province = db.scalars(select(Region).where(Region.code == "330000000000")).one()
    user = create_user(db, username="anweiban_sheng", password="province-pass-2026",
                       role="committee", region_id=province.id, clock=clock)
    province_auth = {"Authorization": f"Bearer {issue_token(user.id, clock.now())}"}

    county = get_ranking(client, auth("anweiban"), month="2026-10")  # keeps 2 townships
    assert set(kept(db)) == {story.town1, story.town2}
    whole = get_ranking(client, province_auth, month="2026-10")  # keeps the third
    there = get_ranking(client, neighbour, month="2026-10")

    assert [r["name"] for r in county["townships"]] == ["城关镇", "清溪镇"]
    assert [r["name"] for r in there["townships"]] == ["邻县城关镇"]
    assert sorted(r["name"] for r in whole["townships"]) == ["城关镇", "清溪镇", "邻县城关镇"]
    assert len(kept(db)) == 3
    counts = {"numerator", "denominator", "count"}

    def raw(row: dict[str, Any]) -> dict[str, Any]:
        return {name: {k: v for k, v in c.items() if k in counts}
                for name, c in row["components"].items()}

    for name, row in by_name(county).items():
        assert raw(by_name(whole)[name]) == raw(row), name
    assert raw(by_name(whole)["邻县城关镇"]) == raw(by_name(there)["邻县城关镇"])
    # The overdue score is normalised among the townships ranked together: 清溪镇's one
    # overdue hazard is the most in its county, half the most in the province.
    assert by_name(county)["清溪镇"]["components"]["overdue"] == {"count": 1, "score": 0.0}
    assert by_name(whole)["清溪镇"]["components"]["overdue"] == {"count": 1, "score": 0.5}
    assert by_name(whole)["邻县城关镇"]["components"]["overdue"] == {"count": 2, "score": 0.0}
    # The province asking for the demo county sees what the county's committee sees.
    county_id = db.scalars(select(Region.id).where(Region.code == "339901000000")).one()
    assert get_ranking(client, province_auth, month="2026-10",
                       region_id=county_id)["townships"] == county["townships"]
    # Kept counts of another county stay out of sight: 404 for its region, as before.
    response = client.get("/api/v1/board/ranking", params={"region_id": story.town1},
                          headers=neighbour)
    assert response.status_code == 404


def test_check_completion_is_a_component_only_when_weighted(client, auth, db, clock,
                                                             settings) -> None:
    set_day(clock, date(2026, 10, 12))
    for username in ("ent_a", "ent_b"):
        report(client, auth, username)
        add_point(client, auth, username, measures=[{**MEASURE, "frequency": "monthly"}])
    generate_tasks(db, clock)  # October's tasks, due 10-31
    task = client.get("/api/v1/check-tasks", headers=auth("ent_a")).json()["items"][0]
    ok(answer(client, auth, task["id"], [{"item_id": task["items"][0]["id"],
                                          "outcome": "ok"}]))
    set_day(clock, date(2026, 11, 23))
    plain = get_ranking(client, auth("anweiban"), month="2026-10")
    assert "completion" not in plain["weights"]
    assert all("completion" not in r["components"] for r in plain["townships"])
    assert [r["index"] for r in plain["townships"]] == [50.0, 50.0]  # as without checks
    settings.ranking_weight_completion = 0.4
    weighted = by_name(get_ranking(client, auth("anweiban"), month="2026-10"))
    assert weighted["城关镇"]["components"]["completion"] == {
        "numerator": 1, "denominator": 1, "rate": 1.0, "score": 1.0}
    assert weighted["清溪镇"]["components"]["completion"]["rate"] == 0.0
    # (0 + 0.15 + 0.15 + 0.4 × score) / 1.0
    assert (weighted["城关镇"]["index"], weighted["清溪镇"]["index"]) == (70.0, 30.0)
    assert weighted["城关镇"]["rank"] == 1
