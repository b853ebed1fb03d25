"""Kept ranking months on committed data: two requests counting the same month at once, the
worker keeping the last month, `bihuan ranking forget`."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.clock import FixedClock
from app.core.db import READ_ONLY, get_sessionmaker, transaction
from app.models import RankingMonth
from app.services.board import kept_months as ranking_months
from app.services.board import ranking as ranking_service
from tests.committed import actor_of, committed_report
from tests.fixtures.clock import START

OCTOBER = FixedClock(datetime(2026, 10, 12, 2, 0, tzinfo=UTC))


def kept_months(engine: Engine) -> list[tuple[str, int]]:
    with Session(engine) as session:
        return [tuple(row) for row in session.execute(
            select(RankingMonth.month, func.count()).group_by(RankingMonth.month)
            .order_by(RankingMonth.month))]


def test_two_requests_counting_the_same_month_at_once_both_answer(loaded: Engine,
                                                                  monkeypatch) -> None:
    committed_report(loaded, OCTOBER)
    actor = actor_of(loaded, "anweiban")
    both_counted = Barrier(2, timeout=60)
    store = ranking_months.store

    def store_together(session: Session, **kwargs: Any) -> bool:
        both_counted.wait()  # both have read and counted; now both store
        return store(session, **kwargs)

    monkeypatch.setattr(ranking_months, "store", store_together)

    def request(_: int) -> dict[str, Any]:
        with Session(loaded) as session:
            session.connection(execution_options={READ_ONLY: True})  # as a GET (app.db)
            with transaction(session) as tx:
                answer = ranking_service.ranking(tx, actor=actor, month="2026-10",
                                                 region_id=None, clock=FixedClock(START))
        return answer

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(request, range(2))
    assert first == second
    assert [row["components"]["self_found"]["numerator"] for row in first["townships"]] \
        == [1, 0]
    assert kept_months(loaded) == [("2026-10", 2)]


def test_the_worker_keeps_the_last_month_once(loaded: Engine, cli_on: CliRunner,
                                              monkeypatch) -> None:
    committed_report(loaded, OCTOBER)
    monkeypatch.setattr("app.cli.get_clock", lambda: FixedClock(START))
    first = cli_on.invoke(cli, ["worker", "--once"])
    assert first.exit_code == 0, first.output
    assert "ranking 2026-10: counts of 2 townships kept" in first.output
    assert kept_months(loaded) == [("2026-10", 2)]
    again = cli_on.invoke(cli, ["worker", "--once"])
    assert "ranking" not in again.output
    # Within the hour after a month's end nothing is kept yet.
    just_ended = FixedClock(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    assert ranking_service.freeze_last_month(get_sessionmaker(), just_ended) == ("2026-11", 0)
    assert kept_months(loaded) == [("2026-10", 2)]


def test_forget_drops_kept_months_to_be_counted_again(loaded: Engine,
                                                      cli_on: CliRunner) -> None:
    sessions = get_sessionmaker()
    for now in (datetime(2026, 10, 5, tzinfo=UTC), START):  # keeps September, then October
        ranking_service.freeze_last_month(sessions, FixedClock(now))
    assert kept_months(loaded) == [("2026-09", 2), ("2026-10", 2)]
    bad = cli_on.invoke(cli, ["ranking", "forget", "--since", "2026-13"])
    assert bad.exit_code == 1 and kept_months(loaded) == [("2026-09", 2), ("2026-10", 2)]
    since = cli_on.invoke(cli, ["ranking", "forget", "--since", "2026-10"])
    assert since.exit_code == 0, since.output
    assert "2 kept township-months dropped" in since.output
    assert kept_months(loaded) == [("2026-09", 2)]
    every = cli_on.invoke(cli, ["ranking", "forget"])
    assert "2 kept township-months dropped" in every.output and kept_months(loaded) == []
