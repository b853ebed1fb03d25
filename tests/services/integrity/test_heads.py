"""Each hazard row carries its chain head, written with the event; the migration fills it."""

from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.cli import alembic_config
from app.core.clock import FixedClock
from app.core.db import make_engine, transaction
from app.models import Event, Hazard
from app.services.hazards.actions import perform_action
from app.services.org.demo import load_demo
from tests.committed import DEADLINE, actor_of, committed_report
from tests.fixtures.clock import START


def assigned_hazard(engine: Engine) -> int:
    clock = FixedClock(START)
    hazard_id = committed_report(engine, clock)
    with Session(engine) as session, transaction(session) as tx:
        perform_action(tx, actor=actor_of(engine, "insp_dept"), hazard_id=hazard_id,
                       action="assign", form={"deadline": DEADLINE}, uploads=[], clock=clock)
    return hazard_id


def last_event(session: Session, hazard_id: int) -> Event:
    return session.scalars(select(Event).where(Event.hazard_id == hazard_id)
                           .order_by(Event.seq.desc()).limit(1)).one()


def test_the_hazard_row_carries_the_head_of_its_chain(loaded: Engine) -> None:
    hazard_id = assigned_hazard(loaded)
    with Session(loaded) as session:
        hazard = session.get_one(Hazard, hazard_id)
        last = last_event(session, hazard_id)
        assert (hazard.head_seq, hazard.head_hash) == (2, last.hash)
        # The head moves with every event, yet `version` still counts the hazard's changes
        # (report, assign), as clients' expected_version knows it.
        assert hazard.version == 2


def test_the_migration_fills_the_heads_of_existing_chains(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "head")
    engine = make_engine(fresh_url)
    with Session(engine) as session, session.begin():
        load_demo(session, clock=FixedClock(START))
    hazard_id = assigned_hazard(engine)
    engine.dispose()
    command.downgrade(config, "0018")
    command.upgrade(config, "head")
    engine = make_engine(fresh_url)
    try:
        with Session(engine) as session:
            hazard = session.get_one(Hazard, hazard_id)
            assert (hazard.head_seq, hazard.head_hash) == (2, last_event(session, hazard_id).hash)
    finally:
        engine.dispose()
