"""季度统计上报: the quarterly statistics an enterprise or a supervising unit files."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime
from app.models.enums import PartyType
from app.models.hazards import Event, Hazard


class QuarterlyFiling(Base):
    """One filing of one party's figures for one quarter (2007 rules, art. 14).

    Filings are never edited: filing again adds the next version, and the latest version is
    the one that counts. The figures are a snapshot taken when it was filed.
    """

    __tablename__ = "quarterly_filing"
    __table_args__ = (
        # The unique key makes two racing refilings give one version each, never a fork.
        UniqueConstraint("party_type", "party_id", "year", "quarter", "version"),
        Index("ix_quarterly_filing_quarter", "year", "quarter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_type: Mapped[PartyType] = mapped_column(String(16))  # enterprise / unit
    party_id: Mapped[int]
    year: Mapped[int]
    quarter: Mapped[int]
    version: Mapped[int]  # 1, 2, ... per party and quarter
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on: Mapped[date] = mapped_column(Date)
    late: Mapped[bool]  # filed after due_on (Asia/Shanghai date)


class QuarterlyTally(Base):
    """A quarter whose figures are tallied in QuarterlyTallyCell
    (app/services/statistics/quarterly.py): one row, written once, some time after the quarter
    ended, with all its cells."""

    __tablename__ = "quarterly_tally"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    quarter: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QuarterlyTallyCell(Base):
    """An ended quarter's figures of the hazards of one enterprise in one township, all
    levels in one row. Never updated: an ended quarter's figures never change (see
    app/services/statistics/quarterly.py). Ids without foreign keys: a cell is read through
    the caller's scope, which joins the enterprise and the region anyway."""

    __tablename__ = "quarterly_tally_cell"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    quarter: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    enterprise_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    region_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    general_found: Mapped[int]
    general_rectified: Mapped[int]
    general_outstanding: Mapped[int]
    general_carried_over: Mapped[int]
    major_found: Mapped[int]
    major_rectified: Mapped[int]
    major_outstanding: Mapped[int]
    major_carried_over: Mapped[int]
    major_planned: Mapped[int]
    # The exact Decimal as text: cents are rounded once, on the sum a report shows.
    funds_planned: Mapped[str] = mapped_column(String(40))


# The quarterly statistics' indexes (migration 0016). A hazard's first entry into a done state
# (verified, spot-checked or closed) or into 不予受理, from the index alone: an event whose
# to_state is done and whose from_state is not. The first event with a done to_state always is
# one, since each event's from_state is the state the previous one left (app/workflow). The
# self-loops recorded in done states (抽查抽签, 摘牌) and the moves between them are left out.
MILESTONE_SQL = ("to_state IN ('verified', 'spot_checked', 'closed', 'rejected') "
                 "AND from_state NOT IN ('verified', 'spot_checked', 'closed')")
Index("ix_event_milestone", Event.hazard_id, Event.at, postgresql_include=["to_state"],
      postgresql_where=text(MILESTONE_SQL), sqlite_where=text(MILESTONE_SQL))
# 签收 (accept) events by hazard: a quarter's 五定 plans of the major hazards in scope.
ACCEPT_SQL = "action = 'accept'"
Index("ix_event_accept", Event.hazard_id, Event.at,
      postgresql_where=text(ACCEPT_SQL), sqlite_where=text(ACCEPT_SQL))
# An enterprise's hazards reported before a quarter's end, with what the figures read of them
# (PostgreSQL reads them from the index alone; they lie scattered over the table).
Index("ix_hazard_enterprise_reported", Hazard.enterprise_id, Hazard.reported_at,
      postgresql_include=["id", "level", "region_id"])
