"""Databases of their own for tests that need committed data (races, CLI, migrations)."""

import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.access.actor import Actor, load_actor
from app.core import db as app_db
from app.core.clock import FixedClock
from app.core.config import get_settings
from app.core.db import make_engine, transaction
from app.models import User
from app.services.hazards import queries as hazard_service
from app.services.media.imaging.staged import StagedFile
from app.services.org.demo import load_demo
from tests.conftest import START, create_database, drop_database, migrate, staged_jpeg

DEADLINE = (date(2026, 11, 23) + timedelta(days=10)).isoformat()


@pytest.fixture
def fresh_url() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
def loaded(fresh_url: str) -> Iterator[Engine]:
    migrate(fresh_url)
    engine = make_engine(fresh_url)
    with Session(engine) as session, session.begin():
        load_demo(session, clock=FixedClock(START))
    yield engine
    engine.dispose()


def actor_of(engine: Engine, username: str) -> Actor:
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return load_actor(session, user)


def committed_report(engine: Engine, clock: FixedClock, username: str = "ent_a") -> int:
    with Session(engine) as session:
        with transaction(session) as tx:
            hazard = hazard_service.report_hazard(
                tx, actor=actor_of(engine, username), clock=clock,
                form={"title": "叉车无证驾驶", "description": "仓库叉车由无证人员驾驶",
                      "location": "成品仓库", "level": "general"},
                uploads=[_upload()],
            )
        return hazard.id


def _upload() -> StagedFile:
    return staged_jpeg(Path(tempfile.gettempdir()))


@pytest.fixture
def cli_on(loaded: Engine, monkeypatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", loaded.url.render_as_string(hide_password=False))
    for cached in (get_settings, app_db.get_engine, app_db.get_sessionmaker):
        cached.cache_clear()
    yield CliRunner()
    app_db.get_engine().dispose()
    monkeypatch.undo()
    for cached in (get_settings, app_db.get_engine, app_db.get_sessionmaker):
        cached.cache_clear()


