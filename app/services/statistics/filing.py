"""季度统计上报: filing a quarter's statistics, and who has filed (2007 rules, art. 14)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import party_of, require_role
from app.access.scopes import quarterly_filing_visibility
from app.core.clock import Clock
from app.core.errors import Conflict, Forbidden, Unprocessable
from app.core.schemas import NO_NUL
from app.models import QuarterlyFiling
from app.models.enums import PartyType
from app.services.statistics.quarterly import (
    MAX_YEAR,
    MIN_YEAR,
    Figures,
    Quarter,
    check_quarter,
    hazard_figures,
    invalid,
    local_date,
    sum_figures,
)
from app.services.statistics.schemas import FilingState
from app.workflow.fields import parse_fields

FILING_STATE_LABELS = {
    FilingState.on_time: "已按时上报",
    FilingState.late: "逾期上报",
    FilingState.pending: "未上报",
    FilingState.overdue: "逾期未上报",
}


# --- filings -------------------------------------------------------------------------------


@dataclass
class FilingStatus:
    state: FilingState
    version: int | None = None
    first_filed_at: datetime | None = None
    filed_at: datetime | None = None  # the latest filing, the one that counts

    @property
    def filed(self) -> bool:
        return self.version is not None

    @property
    def late(self) -> bool | None:
        return self.state == FilingState.late if self.filed else None

    @property
    def label(self) -> str:
        return FILING_STATE_LABELS[self.state]


def filing_statuses(
    session: Session, *, actor: Actor, quarter: Quarter
) -> dict[tuple[PartyType, int], FilingStatus]:
    """Every filing party in the actor's scope that has filed for the quarter, with its status;
    a party that is missing has not filed. Late is judged on the first filing: a correction
    filed after the due date does not make an on-time filing late."""
    query = (
        select(QuarterlyFiling.party_type, QuarterlyFiling.party_id,
               func.max(QuarterlyFiling.version), func.min(QuarterlyFiling.filed_at),
               func.max(QuarterlyFiling.filed_at))
        .where(QuarterlyFiling.year == quarter.year, QuarterlyFiling.quarter == quarter.quarter,
               quarterly_filing_visibility(actor))
        .group_by(QuarterlyFiling.party_type, QuarterlyFiling.party_id)
    )
    statuses = {}
    for party_type, party_id, version, first, latest in session.execute(query):
        state = FilingState.late if local_date(first) > quarter.due_on else FilingState.on_time
        statuses[(PartyType(party_type), party_id)] = FilingStatus(state, version, first, latest)
    return statuses


def not_filed_status(quarter: Quarter, today: date) -> FilingStatus:
    return FilingStatus(FilingState.overdue if today > quarter.due_on else FilingState.pending)


# --- filing --------------------------------------------------------------------------------


class FilingFields(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    quarter: int = Field(ge=1, le=4)
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)


def file_quarterly(
    session: Session, *, actor: Actor, data: dict[str, Any], clock: Clock
) -> QuarterlyFiling:
    """上报季度统计: snapshot the filer's figures for an ended quarter as its next version.

    An enterprise user files for its enterprise, an inspector for its unit. Filing again is
    allowed (a correction): it adds a version and the latest counts; lateness is recorded on
    each filing, and a party's status is judged on its first one.
    """
    require_role(actor, "quarterly_filing")
    party = party_of(actor)
    if party is None:
        raise Forbidden("您的账号未关联企业或监管单位，不能上报季度统计")
    party_type, party_id = party
    now = clock.now()
    fields_, errors = parse_fields(FilingFields, data, today=local_date(now))
    if not isinstance(fields_, FilingFields):
        raise Unprocessable(errors)
    q = Quarter(fields_.year, fields_.quarter)
    if q.end_at() > now:
        raise invalid("body", "quarter", "该季度尚未结束，结束后才能上报")
    # A filer's statistics scope is exactly its party: its enterprise, or its unit's.
    figures = sum_figures(hazard_figures(session, actor=actor, quarter=q, region_path=None,
                                         now=now).values())
    last = session.scalar(
        select(func.max(QuarterlyFiling.version)).where(
            QuarterlyFiling.party_type == party_type, QuarterlyFiling.party_id == party_id,
            QuarterlyFiling.year == q.year, QuarterlyFiling.quarter == q.quarter,
        )
    )
    filing = QuarterlyFiling(
        party_type=party_type, party_id=party_id, year=q.year, quarter=q.quarter,
        version=(last or 0) + 1, figures=_snapshot(figures), note=fields_.note or None,
        filed_by_id=actor.id, filed_at=now, due_on=q.due_on,
        late=local_date(now) > q.due_on,
    )
    try:
        with session.begin_nested():
            session.add(filing)
    except IntegrityError as exc:
        # Two filings raced for the same version (PostgreSQL; SQLite writers are serialised).
        raise Conflict("同一季度的另一份上报正在提交，请刷新后重试") from exc
    return filing


def _snapshot(figures: Figures) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in figures.as_dict().items()}


def list_filings(
    session: Session, *, actor: Actor, year: int, quarter: int
) -> list[QuarterlyFiling]:
    """Every version filed for the quarter by the parties in the actor's scope, oldest first."""
    q = check_quarter(year, quarter)
    return list(session.scalars(
        select(QuarterlyFiling)
        .where(QuarterlyFiling.year == q.year, QuarterlyFiling.quarter == q.quarter,
               quarterly_filing_visibility(actor))
        .order_by(QuarterlyFiling.id)
    ))

