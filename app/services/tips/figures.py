"""群众举报的统计: tips received, converted, merged, rejected and overdue, rewards decided and
paid, by township and month — for the API (GET /tips/figures) and the board page.

Counts and sums only: never a phone, a receipt or what a tip said. A tip counts in the month
it was received (its conversion, merge, rejection and overdue as they stand now); a reward in
the month it was decided, its payment in the month it was paid (local dates). The ranking's
self-found share is not touched: a converted tip's hazard is reported by staff, never by the
enterprise (services/board/ranking.py counts reporter_role == enterprise).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import tip_visibility
from app.core.clock import Clock, local_day_end, local_day_start, local_today
from app.core.config import get_settings
from app.models import Region, Tip
from app.services.board.clearance import check_period
from app.services.tips.schemas import TipStatus

COUNTS = ("received", "converted", "merged", "rejected", "overdue", "rewards_decided",
          "rewards_paid")
LABELS = {"received": "收到举报", "converted": "转为隐患", "merged": "合并办理",
          "rejected": "不予受理", "overdue": "超期未办", "rewards_decided": "决定奖励",
          "rewards_paid": "已发放奖励", "reward_amount_decided": "决定奖励金额（元）",
          "reward_amount_paid": "已发放金额（元）"}
UNPLACED = "未定位"


@dataclass
class Figures:
    received: int = 0
    converted: int = 0
    merged: int = 0
    rejected: int = 0
    overdue: int = 0
    rewards_decided: int = 0
    rewards_paid: int = 0
    reward_amount_decided: int = 0
    reward_amount_paid: int = 0

    def add(self, other: "Figures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Cell:
    region_id: int | None
    region_name: str
    month: str  # YYYY-MM
    figures: Figures = field(default_factory=Figures)


@dataclass
class TipFigures:
    start: date
    end: date
    rows: list[Cell]  # by township, then month
    by_township: list[Cell]  # month "" : the period's sum per township
    total: Figures


def _month(at: datetime | None) -> str | None:
    return at.astimezone(get_settings().tz).strftime("%Y-%m") if at else None


def tip_figures(session: Session, *, actor: Actor, start: date, end: date,
                clock: Clock) -> TipFigures:
    """The figures of the tips the actor handles (access/scopes.tip_visibility)."""
    require_role(actor, "tip_triage")
    check_period(start, end)
    since, until = local_day_start(start), local_day_end(end)
    today = local_today(clock)

    def within(column: Any) -> Any:
        return (column >= since) & (column < until)

    rows = session.execute(
        select(Tip.region_id, Tip.status, Tip.was_overdue, Tip.due_on, Tip.received_at,
               Tip.reward_amount, Tip.reward_decided_at, Tip.reward_paid_at)
        .where(tip_visibility(actor), or_(within(Tip.received_at),
                                          within(Tip.reward_decided_at),
                                          within(Tip.reward_paid_at)))).all()
    cells: dict[tuple[int | None, str], Figures] = {}

    def cell(region_id: int | None, month: str) -> Figures:
        return cells.setdefault((region_id, month), Figures())

    for row in rows:
        if since <= row.received_at < until:
            f = cell(row.region_id, _month(row.received_at) or "")
            f.received += 1
            f.converted += row.status == TipStatus.converted
            f.merged += row.status == TipStatus.merged
            f.rejected += row.status == TipStatus.rejected
            f.overdue += bool(row.was_overdue or (row.status == TipStatus.received
                                                   and row.due_on < today))
        amount = row.reward_amount or 0
        if row.reward_decided_at and since <= row.reward_decided_at < until:
            f = cell(row.region_id, _month(row.reward_decided_at) or "")
            f.rewards_decided += 1
            f.reward_amount_decided += amount
        if row.reward_paid_at and since <= row.reward_paid_at < until:
            f = cell(row.region_id, _month(row.reward_paid_at) or "")
            f.rewards_paid += 1
            f.reward_amount_paid += amount
    return _report(session, start, end, cells)


def _report(session: Session, start: date, end: date,
            cells: dict[tuple[int | None, str], Figures]) -> TipFigures:
    ids = {region_id for region_id, _ in cells if region_id is not None}
    names = dict(session.execute(select(Region.id, Region.name).where(Region.id.in_(ids))).all()
                 ) if ids else {}

    def order(key: tuple[int | None, str]) -> tuple[bool, str, int, str]:
        region_id, month = key
        return (region_id is None, names.get(region_id, ""), region_id or 0, month)

    rows = [Cell(r, names.get(r, UNPLACED) if r else UNPLACED, m, f)
            for (r, m), f in sorted(cells.items(), key=lambda kv: order(kv[0]))]
    townships: dict[int | None, Cell] = {}
    total = Figures()
    for row in rows:
        townships.setdefault(row.region_id, Cell(row.region_id, row.region_name, "")
                             ).figures.add(row.figures)
        total.add(row.figures)
    return TipFigures(start=start, end=end, rows=rows, by_township=list(townships.values()),
                      total=total)
