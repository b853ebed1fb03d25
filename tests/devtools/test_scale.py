"""`bihuan scale generate`: refuses what it must not fill; fills an empty PostgreSQL database
with data the rest of the system accepts (chains verify, assignments route, codes count)."""

from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.clock import FixedClock
from app.core.db import make_engine
from app.devtools.scale import ScaleRefused, generate
from app.models import Assignment, Enterprise, Event, Hazard, HazardCounter, Region, Unit, User
from app.services.hazards.routing import supervising_units
from app.services.hazards.timeline import verify_chains
from app.services.integrity.verify import Verifier
from app.services.org.uscc import is_valid_uscc
from app.workflow.states import ENDING_ACTIONS, RECTIFICATION_OPEN, HazardState
from tests.committed import committed_report
from tests.fixtures.clock import START
from tests.fixtures.databases import ON_POSTGRESQL, create_database, drop_database, migrate

TODAY = date(2026, 11, 23)  # START in Shanghai


def test_generate_refuses_sqlite_and_a_database_holding_hazards(loaded: Engine,
                                                                cli_on: CliRunner) -> None:
    committed_report(loaded, FixedClock(START))
    result = cli_on.invoke(cli, ["scale", "generate", "--hazards", "10", "--enterprises", "2",
                                 "--townships", "1"])
    assert result.exit_code == 1
    if loaded.dialect.name == "sqlite":
        assert "refused: the scale generator writes with PostgreSQL COPY" in result.output
    else:
        assert "refused: the database already holds hazards" in result.output
    with Session(loaded) as session:  # nothing was written
        assert session.scalar(select(func.count()).select_from(Hazard)) == 1


def _generated(url: str, hazards: int, seed: int) -> None:
    migrate(url)
    generate(url, hazards=hazards, enterprises=200, townships=20, seed=seed, year=2026,
             now=START, echo=lambda _: None)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the generator is PostgreSQL-only (COPY); "
                    "its refusal of SQLite is tested above")
def test_generate_fills_an_empty_postgresql_database(fresh_url: str) -> None:
    _generated(fresh_url, 2000, seed=7)
    engine = make_engine(fresh_url)
    with Session(engine) as session:
        _check_counts(session)
        _check_regions_and_enterprises(session)
        _check_states(session)
        assert list(verify_chains(session)) == []
        # Every row's head, state, level and deadline agree with its timeline too.
        assert [f.line() for f in Verifier(session, None, batch=300).findings()] == []
        _check_timelines(session)
        _check_assignments(session)
        _check_codes(session)
        _check_vacuumed(session)
    engine.dispose()


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _check_counts(session: Session) -> None:
    assert _count(session, Hazard) == 2000
    assert _count(session, Enterprise) == 200
    assert _count(session, Region, Region.level == "township") == 20
    assert _count(session, Region, Region.level == "county") == 2
    assert _count(session, Region, Region.level == "province") == 1
    roles = Counter(session.scalars(select(User.role)))
    # 200 enterprise users; 2 counties × 3 departments + 20 township offices; a committee per
    # county, city and province; an admin per county and the province.
    assert roles == {"enterprise": 200, "inspector": 26, "committee": 4, "admin": 3}


def _check_regions_and_enterprises(session: Session) -> None:
    regions = {r.id: r for r in session.scalars(select(Region))}
    widths = {"province": 2, "city": 4, "county": 6, "township": 9}
    for region in regions.values():
        assert len(region.code) == 12 and region.code.isdigit()
        assert region.code[widths[region.level]:].strip("0") == ""
        if region.parent_id is not None:
            parent = regions[region.parent_id]
            assert region.code.startswith(parent.code[:widths[parent.level]])
            assert region.path == f"{parent.path}{region.code}/"
    for enterprise in session.scalars(select(Enterprise)):
        assert is_valid_uscc(enterprise.uscc), enterprise.uscc
        assert regions[enterprise.region_id].level == "township"
        # 统一社会信用代码 positions 3–8: the registering county
        county = regions[regions[enterprise.region_id].parent_id]
        assert enterprise.uscc[2:8] == county.code[:6]


def _check_states(session: Session) -> None:
    states = set(session.scalars(select(Hazard.state).distinct()))
    assert states == set(HazardState)
    assert set(session.scalars(select(Hazard.level).distinct())) == {"general", "major"}
    overdue = _count(session, Hazard, Hazard.state.in_(RECTIFICATION_OPEN),
                     Hazard.deadline < TODAY)
    assert overdue > 0
    # Overdue now means overdue on record (the worker would have issued its notices).
    assert _count(session, Hazard, Hazard.state.in_(RECTIFICATION_OPEN),
                  Hazard.deadline < TODAY, Hazard.was_overdue.is_(False)) == 0
    assert _count(session, Hazard, Hazard.listing.is_not(None)) > 0
    assert _count(session, Hazard, Hazard.listing.is_not(None),
                  Hazard.state == HazardState.closed) == 0  # delisted at write-off
    assert _count(session, Hazard, Hazard.state == HazardState.spot_checked,
                  Hazard.spot_check_drawn.is_not(True)) == 0
    assert _count(session, Hazard, Hazard.level == "major", Hazard.state.in_(
        ("rectifying", "rectified", "verified", "spot_checked", "closed")),
        Hazard.plan.is_(None)) == 0


def _check_timelines(session: Session) -> None:
    last: dict[int, Event] = {}
    endings: dict[int, datetime] = {}
    for event in session.scalars(select(Event).order_by(Event.hazard_id, Event.seq)):
        if event.action in ENDING_ACTIONS:
            endings[event.hazard_id] = event.at
        previous = last.get(event.hazard_id)
        if previous is None:
            assert event.action == "report" and event.from_state is None
        else:
            assert event.at >= previous.at
            assert event.from_state == previous.to_state
        last[event.hazard_id] = event
    hazards = {h.id: h for h in session.scalars(select(Hazard))}
    assert set(last) == set(hazards)
    for hazard_id, event in last.items():
        assert event.to_state == hazards[hazard_id].state
        assert event.at <= START
        # The row keeps when the hazard ended, as the timeline says (the board reads it).
        assert hazards[hazard_id].ended_at == endings.get(hazard_id)
    verified = _count(session, Event, Event.action == "verify")
    assert verified > 0 and _count(session, Event, Event.action == "sample") == verified


def _check_assignments(session: Session) -> None:
    by_hazard: dict[int, list[Assignment]] = {}
    for assignment in session.scalars(select(Assignment)):
        by_hazard.setdefault(assignment.hazard_id, []).append(assignment)
    units: dict[int, set[int]] = {}
    for hazard in session.scalars(select(Hazard)):
        rows = by_hazard.get(hazard.id, [])
        if hazard.state in ("reported", "rejected"):
            assert rows == [] and hazard.deadline is None
            continue
        enterprise = session.get_one(Enterprise, hazard.enterprise_id)
        if enterprise.id not in units:  # 双重交办 as the app routes it
            units[enterprise.id] = {u.id for u in supervising_units(session, enterprise, None)}
        assert sorted((a.party_type, a.duty) for a in rows) == [
            ("enterprise", "rectify"), ("unit", "supervise"), ("unit", "supervise")]
        assert {a.party_id for a in rows if a.party_type == "unit"} == units[enterprise.id]
        assert [a.party_id for a in rows if a.party_type == "enterprise"] == [enterprise.id]
        assert {a.deadline for a in rows} == {hazard.deadline}
    kinds = {u.kind for u in session.scalars(select(Unit))}
    assert kinds == {"department", "township"}


def _check_vacuumed(session: Session) -> None:
    """The benches measure a database as autovacuum keeps it: every page of the big tables
    marked all-visible, so the keyset and covering indexes answer without reading the table."""
    rows = session.execute(text(
        "SELECT relname, relpages, relallvisible FROM pg_class "
        "WHERE relname IN ('hazard', 'event', 'assignment')")).all()
    assert len(rows) == 3
    for name, pages, visible in rows:
        assert pages > 0 and visible == pages, name


def _check_codes(session: Session) -> None:
    seqs: dict[str, list[int]] = {}
    for code in session.scalars(select(Hazard.code).order_by(Hazard.id)):
        _, county, year, seq = code.split("-")
        assert year == "2026"
        seqs.setdefault(county, []).append(int(seq))
    counters = {c.county_code: c.last for c in session.scalars(select(HazardCounter))}
    assert counters == {county: len(numbers) for county, numbers in seqs.items()}
    for numbers in seqs.values():
        assert numbers == list(range(1, len(numbers) + 1))  # in report (id) order


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the generator is PostgreSQL-only (COPY)")
def test_generation_is_reproducible_and_refuses_to_run_twice(fresh_url: str) -> None:
    other = create_database()
    try:
        _generated(fresh_url, 300, seed=11)
        _generated(other, 300, seed=11)
        chains = []
        for url in (fresh_url, other):
            engine = make_engine(url)
            with Session(engine) as session:
                chains.append(list(session.execute(
                    select(Event.hazard_id, Event.seq, Event.hash).order_by(Event.id))))
            engine.dispose()
        assert chains[0] == chains[1] and len(chains[0]) > 300
    finally:
        drop_database(other)
    with pytest.raises(ScaleRefused, match="already holds hazards"):
        generate(fresh_url, hazards=10, enterprises=2, townships=1, seed=1, year=2026,
                 now=START, echo=lambda _: None)
