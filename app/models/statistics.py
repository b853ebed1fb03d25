"""季度统计上报: the quarterly statistics an enterprise or a supervising unit files."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.models.enums import PartyType


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
