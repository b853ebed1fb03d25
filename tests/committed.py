"""Helpers for tests on committed databases: an actor read from the database, a hazard
reported and committed through the service."""

import tempfile
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.access.actor import Actor, load_actor
from app.core.clock import FixedClock
from app.core.db import transaction
from app.models import User
from app.services.hazards import report as report_service
from app.services.media.imaging.staged import StagedFile
from tests.samples import staged_jpeg

DEADLINE = (date(2026, 11, 23) + timedelta(days=10)).isoformat()


def actor_of(engine: Engine, username: str) -> Actor:
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return load_actor(session, user)


def committed_report(engine: Engine, clock: FixedClock, username: str = "ent_a") -> int:
    with Session(engine) as session:
        with transaction(session) as tx:
            hazard = report_service.report_hazard(
                tx, actor=actor_of(engine, username), clock=clock,
                form={"title": "叉车无证驾驶", "description": "仓库叉车由无证人员驾驶",
                      "location": "成品仓库", "level": "general"},
                uploads=[_upload()],
            )
        return hazard.id


def _upload() -> StagedFile:
    return staged_jpeg(Path(tempfile.gettempdir()))
