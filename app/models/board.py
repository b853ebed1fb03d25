"""亮晒排名: the raw counts of an ended month, kept once computed
(app/services/board/ranking.py)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


class RankingMonth(Base):
    """One township's ranking counts for one ended month: each component's numerator and
    denominator and the overdue count, nothing derived.

    Scores, the overdue normalisation, the index, ranks and weights are computed when read,
    so a change of RANKING_WEIGHT_* applies at once and a county, its city or the province
    rank from the same rows. Why the counts of an ended month never change: the module
    docstring of app/services/board/ranking.py.
    """

    __tablename__ = "ranking_month"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), primary_key=True)
    # The window counted and the counting rules' version: a row for another window (the time
    # zone setting changed) or older rules is not used, but counted again and replaced.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int]
    base: Mapped[int]
    rectified: Mapped[int]
    overdue: Mapped[int]
    found: Mapped[int]
    self_found: Mapped[int]
    submitted: Mapped[int]
    on_time: Mapped[int]
    spot_checks: Mapped[int]
    spot_check_failures: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
