"""The tipster's view (查询码): the tip's status and public outcome, and the reward notice.

Nothing else: no staff name, no enterprise data, no other tip; an unknown receipt and a
malformed one answer the same 404.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.models import Hazard, Tip
from app.services.tips.schemas import RewardNotice, TipPublicStatus, TipStatus
from app.workflow.states import HazardState

OUTCOMES = {
    TipStatus.received: "已收到您的举报，正在核查处理",
    TipStatus.converted: "举报已核实，已作为隐患交办整改",
    TipStatus.merged: "举报的问题已在处理中（与已登记的隐患合并办理）",
    TipStatus.closed: "隐患已整改完毕并销号，已办结",
    TipStatus.rejected: "不予受理",
}


def find_by_receipt(session: Session, receipt: str) -> Tip:
    if not receipt or len(receipt) > 64:
        raise NotFound("查询码不存在")
    tip = session.scalar(select(Tip).where(Tip.receipt == receipt))
    if tip is None:
        raise NotFound("查询码不存在")
    return tip


def public_status(session: Session, tip: Tip) -> tuple[TipStatus, str]:
    """The status and outcome the tipster reads: from the tip, and its hazard once it has one."""
    status = TipStatus(tip.status)
    if status == TipStatus.rejected:
        return status, f"不予受理：{tip.reject_reason}" if tip.reject_reason else OUTCOMES[status]
    if tip.hazard_id is not None:
        state = session.scalar(select(Hazard.state).where(Hazard.id == tip.hazard_id))
        if state == HazardState.closed:
            return TipStatus.closed, OUTCOMES[TipStatus.closed]
        if state == HazardState.rejected:
            return TipStatus.rejected, "经核查，不属于需整改的隐患，不予受理"
    return status, OUTCOMES[status]


def tip_status(session: Session, receipt: str) -> TipPublicStatus:
    tip = find_by_receipt(session, receipt)
    status, outcome = public_status(session, tip)
    updated_at = tip.updated_at
    if tip.hazard_id is not None:  # the hazard's progress is the tip's too (已办结)
        hazard_updated = session.scalar(select(Hazard.updated_at)
                                        .where(Hazard.id == tip.hazard_id))
        if hazard_updated is not None and hazard_updated > updated_at:
            updated_at = hazard_updated
    reward = None
    if tip.reward_amount is not None and tip.reward_claim_by is not None:
        reward = RewardNotice(amount=tip.reward_amount, claim_by=tip.reward_claim_by,
                              paid=tip.reward_paid_at is not None)
    return TipPublicStatus(status=status, outcome=outcome, updated_at=updated_at,
                           reward=reward)
