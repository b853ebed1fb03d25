"""督办单 numbers: each county counts its own from 1 every year, and two counties' first
notices (both 督办〔2026〕第1号) live side by side."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Enterprise, Industry, Notice, Unit
from app.services.org.uscc import check_character
from tests.api.helpers import act, neighbouring_county, ok, report
from tests.api.test_supervision import at_day, run_worker


def neighbouring_county_reporter(db, clock) -> tuple[dict[str, str], int]:
    """A second county with one enterprise, supervised by the demo industry department, and
    its committee's auth headers."""
    county, town, headers = neighbouring_county(db, clock)
    first17 = "91339902MA2B00003"
    enterprise = Enterprise(name="邻县机械厂", uscc=first17 + check_character(first17),
                            region=town, industry=db.scalars(
                                select(Industry).where(Industry.name == "机械")).one())
    db.add(enterprise)
    department = db.scalars(select(Unit).where(Unit.name == "演示县应急管理局")).one()
    department.regions.append(county)
    db.flush()
    return headers, enterprise.id


def overdue_numbers(db, hazard_id: int) -> list[tuple[str, str]]:
    return [(n.county_code, n.number) for n in db.scalars(
        select(Notice).where(Notice.hazard_id == hazard_id).order_by(Notice.id))]


def test_each_county_numbers_its_notices_from_one(client, auth, db, clock) -> None:
    headers, enterprise_id = neighbouring_county_reporter(db, clock)
    here = report(client, auth, "ent_a")["id"]
    ok(act(client, auth, "insp_dept", here, "assign", {"deadline": "2026-11-25"}))
    there = report(client, lambda _name: headers, "anweiban_2",
                   enterprise_id=str(enterprise_id))["id"]
    ok(act(client, lambda _name: headers, "anweiban_2", there, "assign",
           {"deadline": "2026-11-25"}))

    at_day(clock, date(2026, 11, 26))
    assert run_worker(db, clock, here) == ["overdue"]
    assert run_worker(db, clock, there) == ["overdue"]

    # Ours: enterprise A, the department and 城关镇's office; theirs: the enterprise and the
    # department (邻县城关镇 has no office).
    assert overdue_numbers(db, here) == [("339901", "督办〔2026〕第1号"),
                                         ("339901", "督办〔2026〕第2号"),
                                         ("339901", "督办〔2026〕第3号")]
    assert overdue_numbers(db, there) == [("339902", "督办〔2026〕第1号"),
                                          ("339902", "督办〔2026〕第2号")]


def test_a_number_is_still_unique_within_its_county(client, auth, db, clock) -> None:
    here = report(client, auth, "ent_a")["id"]
    ok(act(client, auth, "insp_dept", here, "assign", {"deadline": "2026-11-25"}))
    at_day(clock, date(2026, 11, 26))
    assert run_worker(db, clock, here) == ["overdue"]
    first = db.scalars(select(Notice).where(Notice.hazard_id == here)).first()
    assert first is not None
    duplicate = Notice(county_code=first.county_code, number=first.number, hazard_id=here,
                       recipient_type="unit", recipient_id=-1, deadline=first.deadline,
                       days_overdue=1, requirement="", issued_at=clock.now())
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(duplicate)
        db.flush()
