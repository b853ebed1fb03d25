"""The township ranking's ended months, kept (ranking_month): load, store, forget.

Counting a month from the timeline reads every hazard open in it, with the latest event
before the month's end for each: at 1,000,000 hazards a province's month takes seconds
(bench/bench_board.py), far from a plain indexed read. The counts of an ended month never
change, so they are counted once per township and kept; why they never change, and when a
month counts as ended for this purpose (FREEZE_MARGIN), is in app/services/board/ranking.py.

Only raw counts are kept (numerators, denominators, the overdue count): scores, the overdue
normalisation, the index, ranks and weights are computed when read.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.models import RankingMonth

logger = logging.getLogger(__name__)

# The counts of a township for a month, as the ranking's queries name them.
COUNTS = ("base", "rectified", "overdue", "found", "self_found", "submitted", "on_time",
          "spot_checks", "spot_check_failures")
# The counting rules' version: raise it when a count's definition changes, so that rows
# counted by the old rules are counted again instead of being served.
COUNTS_VERSION = 1

Counts = dict[int, dict[str, int]]  # township id → count name → value


def with_kept(query: Select[Any], region_id: ColumnElement[int], *, month: str,
              start: datetime, end: datetime) -> Select[Any]:
    """The query (of townships, `region_id` their id) with each one's kept counts for the
    month added as columns, in COUNTS order: all null where none are kept (for this very
    window and by these rules)."""
    table = RankingMonth.__table__
    return query.outerjoin(table, and_(
        table.c.region_id == region_id, table.c.month == month, table.c.starts_at == start,
        table.c.ends_at == end, table.c.version == COUNTS_VERSION,
    )).add_columns(*(table.c[name] for name in COUNTS))


def store(session: Session, *, month: str, start: datetime, end: datetime, counts: Counts,
          now: datetime) -> bool:
    """Keep the counts (replacing a row of another window or older rules); False if the
    database would not take them now, which only costs counting them again next time.

    Two requests storing the same month at once do not fail: the upsert gives the second
    the first's row to replace with the same counts. Rows go in township order, so two
    requests storing overlapping sets of townships wait for each other in one order and
    cannot deadlock.
    """
    if not counts:
        return True
    table = RankingMonth.__table__
    rows = [{"month": month, "region_id": region_id, "starts_at": start, "ends_at": end,
             "version": COUNTS_VERSION, **values, "computed_at": now}
            for region_id, values in sorted(counts.items())]
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    upsert = insert.on_conflict_do_update(
        index_elements=[table.c.month, table.c.region_id],
        set_={name: insert.excluded[name]
              for name in ("starts_at", "ends_at", "version", *COUNTS, "computed_at")})
    try:
        with session.begin_nested():
            session.execute(upsert, rows)
    except OperationalError:
        if dialect != "sqlite":
            raise
        # A GET reads a WAL snapshot (app.db): SQLite refuses to write from it once another
        # connection has written since ("database is locked"), e.g. a racing request that
        # stored the same month. The answer is exact all the same.
        logger.info("ranking %s: counts not kept this time (database busy)", month)
        return False
    return True


def forget(session: Session, *, since: str | None = None) -> int:
    """Drop the kept counts (of months from `since`, YYYY-MM, on), so that they are counted
    again from the timeline when next asked for; returns how many rows."""
    query = delete(RankingMonth)
    if since is not None:
        query = query.where(RankingMonth.month >= since)
    return int(getattr(session.execute(query), "rowcount", 0) or 0)
