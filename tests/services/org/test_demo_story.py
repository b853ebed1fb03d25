"""The demo county's story (`bihuan demo`), loaded once on a database of its own: genuine
timelines, every state, the supervision it shows, figures on the board and the ranking, work
in every queue, and no second load."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.access.actor import Actor, load_actor
from app.access.scopes import hazard_visibility
from app.core.clock import FixedClock, local_today
from app.core.db import make_engine
from app.core.errors import Conflict
from app.models import Enterprise, Event, Hazard, Photo, RankingMonth, Region, User
from app.models.enums import RegionLevel
from app.models.statistics import QuarterlyFiling
from app.models.supervision import Extension, Notice
from app.services.board.clearance import BoardQuery, board
from app.services.board.ranking import ranking
from app.services.hazards.queues import queues_for
from app.services.hazards.timeline import verify_chains
from app.services.org.demo_story import STORY_DAYS, load_demo_county
from app.worker import run_once
from app.workflow.states import HazardState
from tests.fixtures.databases import create_database, drop_database, migrate

# 10:00 in Shanghai on a Friday: the story's "now".
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DEMO_USERS = ("ent_a", "ent_b", "insp_dept", "insp_town", "anweiban", "admin")


def _load(engine: Engine, now: datetime) -> None:
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    load_demo_county(sessions, clock=FixedClock(now),
                     worker=lambda clock: run_once(sessions, clock, lambda _line: None))


@pytest.fixture(scope="module")
def story() -> Iterator[Engine]:
    url = create_database()
    migrate(url)
    engine = make_engine(url)
    _load(engine, NOW)
    yield engine
    engine.dispose()
    drop_database(url)


def actor(engine: Engine, username: str) -> Actor:
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return load_actor(session, user)


def test_every_timeline_is_intact_and_in_the_past(story: Engine) -> None:
    with Session(story) as session:
        assert list(verify_chains(session)) == []
        first, last = session.execute(select(func.min(Event.at), func.max(Event.at))).one()
        events = session.scalar(select(func.count()).select_from(Event))
    assert events > 300
    assert NOW - timedelta(days=STORY_DAYS + 1) <= first.replace(tzinfo=UTC)
    assert last.replace(tzinfo=UTC) <= NOW


def test_every_state_at_both_levels_across_townships_and_industries(story: Engine) -> None:
    with Session(story) as session:
        hazards = session.execute(
            select(Hazard.state, Hazard.level, Region.name, Enterprise.industry_id)
            .join(Region, Region.id == Hazard.region_id)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)).all()
    assert 55 <= len(hazards) <= 70
    assert {state for state, *_ in hazards} == set(HazardState)
    levels = Counter(level for _, level, *_ in hazards)
    assert levels["major"] >= 4 and levels["general"] >= 50
    assert {town for _, _, town, _ in hazards} == {"城关镇", "清溪镇"}
    assert len({industry for *_, industry in hazards}) == 3
    # Found over the four months, not on one day.
    with Session(story) as session:
        months = {at.month for at in session.scalars(select(Hazard.reported_at))}
    assert len(months) >= 4


def test_the_photos_are_distinct_phone_photos_but_one_reused(story: Engine) -> None:
    with Session(story) as session:
        photos = session.scalars(select(Photo)).all()
        enterprises = {e.id: e for e in session.scalars(select(Enterprise))}
        hazards = {h.id: h for h in session.scalars(select(Hazard))}
    assert len(photos) > 150
    assert all(p.captured_at is not None and p.gps_lat is not None for p in photos)
    for photo in photos:
        site = enterprises[hazards[photo.hazard_id].enterprise_id]
        assert abs(photo.gps_lat - site.lat) < 0.005 and abs(photo.gps_lon - site.lon) < 0.005
    assert len({p.sha256 for p in photos}) == len(photos) - 1
    flagged = [p for p in photos if p.flags]
    assert len(flagged) == 1
    assert "reused_photo" in {f["code"] for f in flagged[0].flags}


def test_supervision_as_in_real_life(story: Engine) -> None:
    with Session(story) as session:
        actions = Counter(session.scalars(select(Event.action)))
        notices = session.scalars(select(Notice)).all()
        listed = session.scalars(select(Hazard).where(Hazard.listing.is_not(None))).all()
        statuses = Counter(session.scalars(select(Extension.status)))
        closes = session.scalars(select(Event.data).where(Event.action == "close")).all()
        worker_notices = session.scalars(select(Event.actor_id).where(
            Event.action == "supervision_notice")).all()
    for action in ("remind", "supervision_notice", "escalate", "notice_ack", "interview",
                   "listing", "evaluate", "delisting", "return", "spot_check_fail",
                   "extension_approve", "extension_refuse", "reject", "sample"):
        assert actions[action] > 0, action
    assert worker_notices and set(worker_notices) == {None}  # issued by the worker's scan
    assert any(n.acknowledged_at for n in notices) and any(not n.acknowledged_at
                                                           for n in notices)
    assert statuses["approved"] >= 1 and statuses["refused"] == 1 and statuses["pending"] == 1
    assert listed and all(h.level == "major" for h in listed)
    assert {c["spot_checked"] for c in closes} == {True, False}


def test_the_board_and_the_ranking_show_figures(story: Engine) -> None:
    committee = actor(story, "anweiban")
    clock = FixedClock(NOW)
    today = local_today(clock)
    with Session(story) as session:
        answer = board(session, actor=committee, clock=clock, query=BoardQuery(
            level=None, start=today - timedelta(days=STORY_DAYS), end=today))
        totals = {name: figure["count"] for name, figure in answer["totals"].items()
                  if isinstance(figure, dict)}
        assert totals["open"] > 0 and totals["overdue"] > 0 and totals["listed"] > 0
        assert totals["found"] > 50 and totals["closed"] > 20
        assert all(row["open"]["count"] for row in answer["by_township"])
        assert answer["totals"]["clearance_rate"] > 0
        ranked = ranking(session, actor=committee, month=None, region_id=None, clock=clock)
        kept = session.scalars(select(RankingMonth.month).distinct()).all()
        townships = session.scalar(select(func.count()).select_from(Region).where(
            Region.level == RegionLevel.township))
        kept_last = session.scalar(select(func.count()).select_from(RankingMonth).where(
            RankingMonth.month == "2026-10"))
    assert ranked["month"] == "2026-10" and not ranked["provisional"]
    assert [row["rank"] for row in ranked["townships"]] == [1, 2]
    assert {"2026-08", "2026-09", "2026-10"} <= set(kept)
    assert kept_last == townships
    # The quarter ended before the story's last days, filed on time and late.
    with Session(story) as session:
        filings = session.scalars(select(QuarterlyFiling)).all()
    assert {(f.year, f.quarter) for f in filings} == {(2026, 3)}
    assert {f.late for f in filings} == {True, False}


def test_every_demo_user_has_work_at_home(story: Engine) -> None:
    today = local_today(FixedClock(NOW))
    actors = {username: actor(story, username) for username in DEMO_USERS}
    with Session(story) as session:
        work = {username: queues_for(session, who, today) for username, who in actors.items()}
    for username, queues in work.items():
        if username == "admin":
            assert not queues.lists  # an admin administers: its home has no queues
            continue  # (its home's ledger holds every hazard: below)
        waiting = sum(len(hazards) for hazards in queues.lists.values())
        assert waiting + len(queues.extensions) > 0, username
    enterprise, inspector, committee = work["ent_a"], work["insp_dept"], work["anweiban"]
    with Session(story) as session:
        seen = session.scalar(select(func.count()).select_from(Hazard).where(
            hazard_visibility(actors["admin"])))
        assert seen == session.scalar(select(func.count()).select_from(Hazard))
    assert inspector.extensions and inspector.lists["to_verify"] and inspector.lists["overdue"]
    assert committee.lists["to_spot_check"] and committee.lists["to_close"]
    assert committee.lists["to_assign"] and committee.lists["major_open"]
    assert any(enterprise.lists.values())


def test_loading_twice_is_refused_and_changes_nothing(story: Engine) -> None:
    with Session(story) as session:
        before = session.scalar(select(func.count()).select_from(Event))
    with pytest.raises(Conflict):
        _load(story, NOW + timedelta(days=1))
    with Session(story) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == before


def test_the_story_is_the_same_on_the_same_day(story: Engine) -> None:
    """Deterministic: a second county loaded at the same moment tells the same story."""
    url = create_database()
    try:
        migrate(url)
        other = make_engine(url)
        _load(other, NOW)

        def summary(engine: Engine) -> tuple[list[tuple[str, str, str, date | None]], list[str]]:
            with Session(engine) as session:
                hazards = [tuple(row) for row in session.execute(
                    select(Hazard.code, Hazard.state, Hazard.title, Hazard.deadline)
                    .order_by(Hazard.code))]
                photos = list(session.scalars(select(Photo.sha256).order_by(Photo.id)))
            return hazards, photos

        assert summary(other) == summary(story)
        other.dispose()
    finally:
        drop_database(url)
