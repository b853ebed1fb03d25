"""Racing filings of the same quarter (committed data, real concurrency on both databases)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.clock import FixedClock
from app.core.db import transaction
from app.core.errors import Conflict
from app.models import QuarterlyFiling, QuarterlyTally
from app.services.statistics.filing import file_quarterly
from tests.committed import actor_of, committed_report

IN_Q3 = datetime(2026, 8, 10, 2, 0, tzinfo=UTC)
AFTER_Q3 = datetime(2026, 10, 10, 2, 0, tzinfo=UTC)


def test_racing_filings_get_consecutive_versions_or_409(loaded: Engine) -> None:
    """Each filing also finds Q3 untallied and tallies it: one tally results."""
    committed_report(loaded, FixedClock(IN_Q3))
    actor = actor_of(loaded, "ent_a")
    barrier = Barrier(4)

    def run(_: int) -> str:
        barrier.wait()
        try:
            with Session(loaded) as session, transaction(session) as tx:
                file_quarterly(tx, actor=actor, data={"year": 2026, "quarter": 3},
                               clock=FixedClock(AFTER_Q3))
            return "ok"
        except Conflict:
            return "409"

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    assert set(results) <= {"ok", "409"} and "ok" in results
    with Session(loaded) as session:
        versions = session.scalars(select(QuarterlyFiling.version)
                                   .order_by(QuarterlyFiling.version)).all()
        tallies = session.scalars(select(QuarterlyTally.quarter)).all()
    assert versions == list(range(1, results.count("ok") + 1))
    assert tallies == [3]
