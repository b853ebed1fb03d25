"""举报奖励季度清单: the rewards the committee decided in a quarter, as an XLSX workbook
(the statistics' openpyxl helpers: text never a formula, local times, money formatted).

An export: never the tipster's phone or receipt (举报人信息保密); the tipster is paid
against the receipt they show, which the committee looks up in the tip itself.
"""

import io
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import tip_visibility
from app.core.clock import Clock, local_today
from app.models import Hazard, Region, Tip
from app.models.enums import HazardLevel
from app.services.statistics.quarterly import Quarter, local_date
from app.services.statistics.xlsx import MEDIA_TYPE, header_row, put_row

__all__ = ["MEDIA_TYPE", "RewardRow", "file_names", "reward_rows", "write_reward_xlsx"]

SHEET, ABOUT_SHEET = "举报奖励清单", "说明"
COLUMNS = (("举报编号", 9), ("收到日期", 11), ("乡镇（街道）", 14), ("隐患编号", 18),
           ("隐患等级", 9), ("罚款金额（元）", 13), ("奖励规则", 40), ("奖励金额（元）", 13),
           ("决定日期", 11), ("领取截止", 11), ("发放日期", 11), ("状态", 10))
LEVELS = {HazardLevel.general: "一般", HazardLevel.major: "重大"}
MAX_ROWS = 10_000


@dataclass(frozen=True)
class RewardRow:
    tip_id: int
    received_on: date
    township: str
    hazard_code: str | None
    level: str
    fine: int | None
    rule: str
    amount: int
    decided_on: date
    claim_by: date
    paid_on: date | None
    state: str  # 已发放 | 待领取 | 逾期未领取


def _state(paid_at: datetime | None, claim_by: date, today: date) -> str:
    if paid_at is not None:
        return "已发放"
    return "待领取" if claim_by >= today else "逾期未领取"


def reward_rows(session: Session, *, actor: Actor, year: int, quarter: int,
                clock: Clock) -> list[RewardRow]:
    """The rewards decided in the quarter, of the tips the actor handles (committee)."""
    require_role(actor, "tip_reward")
    q = Quarter(year, quarter)
    today = local_today(clock)
    rows = session.execute(
        select(Tip, Hazard.code, Hazard.level, Region.name)
        .outerjoin(Hazard, Hazard.id == Tip.hazard_id)
        .outerjoin(Region, Region.id == Tip.region_id)
        .where(tip_visibility(actor), Tip.reward_decided_at >= q.start_at(),
               Tip.reward_decided_at < q.end_at(), Tip.reward_amount.is_not(None))
        .order_by(Tip.reward_decided_at, Tip.id).limit(MAX_ROWS)).all()
    out = []
    for tip, code, level, township in rows:
        assert tip.reward_decided_at is not None and tip.reward_claim_by is not None
        out.append(RewardRow(
            tip_id=tip.id, received_on=local_date(tip.received_at), township=township or "未定位",
            hazard_code=code, level=LEVELS.get(HazardLevel(level), "") if level else "",
            fine=tip.reward_fine, rule=tip.reward_rule or "", amount=tip.reward_amount or 0,
            decided_on=local_date(tip.reward_decided_at), claim_by=tip.reward_claim_by,
            paid_on=local_date(tip.reward_paid_at) if tip.reward_paid_at else None,
            state=_state(tip.reward_paid_at, tip.reward_claim_by, today)))
    return out


def write_reward_xlsx(rows: list[RewardRow], year: int, quarter: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET
    header_row(sheet, COLUMNS)
    for line, r in enumerate(rows, 2):
        put_row(sheet, line, [r.tip_id, r.received_on, r.township, r.hazard_code, r.level,
                              r.fine, r.rule, r.amount, r.decided_on, r.claim_by, r.paid_on,
                              r.state])
        for column in (2, 9, 10, 11):
            sheet.cell(row=line, column=column).number_format = "yyyy-mm-dd"
    total = len(rows) + 2
    put_row(sheet, total, ["合计", None, None, None, None, None, f"{len(rows)} 项",
                           sum(r.amount for r in rows), None, None, None,
                           f"已发放 {sum(r.amount for r in rows if r.paid_on)} 元"])
    sheet.cell(row=total, column=1).font = Font(bold=True)
    about = workbook.create_sheet(ABOUT_SHEET)
    header_row(about, (("项目", 16), ("内容", 70)))
    q = Quarter(year, quarter)
    for line, (name, value) in enumerate((
            ("年度", str(year)), ("季度", str(quarter)),
            ("统计期", f"{q.first_day} 至 {q.last_day}（按奖励决定日期）"),
            ("口径", "本季度由安委办决定的群众举报奖励；举报人信息保密，"
                     "清单不含举报人电话与查询码"),
            ("状态", "已发放：已登记发放；待领取：在领取期限内；逾期未领取：已过领取期限")), 2):
        put_row(about, line, [name, value])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def file_names(year: int, quarter: int) -> tuple[str, str]:
    return (f"举报奖励清单-{year}Q{quarter}.xlsx", f"tip-rewards-{year}Q{quarter}.xlsx")
