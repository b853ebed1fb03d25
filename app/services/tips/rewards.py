"""举报奖励 (2018 national measures; tiers in settings): the committee decides, the tipster is
told on the status page and claims within the window; payment is recorded.

A major hazard (or a violation punished with a fine) earns the rate of the fine, at least the
minimum and at most the maximum; a general hazard the fixed amount. All amounts whole 元.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.errors import Conflict, Unprocessable
from app.models import Hazard, Region, Tip
from app.models.enums import HazardLevel
from app.services.tips.schemas import TipStatus
from app.services.tips.timeline import append_tip_event
from app.services.tips.triage import visible_tip


@dataclass(frozen=True)
class Reward:
    amount: int
    rule: str


@dataclass(frozen=True)
class Tiers:
    major_rate: float
    major_min: int
    major_max: int
    general: int


def tiers_for(county_code: str | None) -> Tiers:
    """The national default (TIP_REWARD_*), with a county's own tiers where it has them
    (TIP_REWARD_COUNTIES)."""
    s = get_settings()
    local = s.tip_reward_counties.get(county_code or "")

    def pick(name: str) -> Any:
        mine = getattr(local, name) if local is not None else None
        return mine if mine is not None else getattr(s, f"tip_reward_{name}")

    return Tiers(pick("major_rate"), pick("major_min"), pick("major_max"), pick("general"))


def compute_reward(level: HazardLevel | None, fine: int | None,
                   county_code: str | None = None) -> Reward:
    """The amount by the rule table: a major hazard, or a violation fined (a positive fine),
    earns the fine-based tier; any other hazard the fixed amount."""
    t = tiers_for(county_code)
    if level == HazardLevel.major or (fine or 0) > 0:
        share = (Decimal(fine or 0) * Decimal(str(t.major_rate))).quantize(
            Decimal(1), rounding=ROUND_HALF_UP)
        amount = min(max(int(share), t.major_min), t.major_max)
        rate = f"{(Decimal(str(t.major_rate)) * 100).normalize():f}%"
        return Reward(amount, f"重大事故隐患或违法行为：罚款金额的 {rate}，最低 "
                              f"{t.major_min} 元，最高 {t.major_max} 元")
    return Reward(t.general, f"一般事故隐患：定额奖励 {t.general} 元")


def _fine(form: dict[str, Any]) -> int | None:
    raw = (form.get("fine_amount") or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value > Decimal(10**12):
        raise Unprocessable([{"loc": ["body", "fine_amount"], "type": "value_error",
                              "msg": "罚款金额应为不小于 0 的数（元）"}])
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decide_reward(session: Session, *, actor: Actor, tip_id: int, form: dict[str, Any],
                  clock: Clock) -> Tip:
    tip = visible_tip(session, actor, tip_id, for_update=True)
    require_role(actor, "tip_reward")
    if tip.status not in (TipStatus.converted, TipStatus.merged) or tip.hazard_id is None:
        raise Conflict("只有已核实（转为隐患或合并）的举报才能奖励")
    if tip.reward_amount is not None:
        raise Conflict("该举报的奖励已决定")
    note = (form.get("note") or "").strip()[:2000] or None
    fine = _fine(form)
    level = session.scalar(select(Hazard.level).where(Hazard.id == tip.hazard_id))
    county_code = session.scalar(select(Region.code).where(Region.id == tip.county_id)) \
        if tip.county_id is not None else None
    reward = compute_reward(HazardLevel(level) if level else None, fine, county_code)
    now = clock.now()
    tip.reward_amount, tip.reward_rule, tip.reward_fine = reward.amount, reward.rule, fine
    tip.reward_note, tip.reward_decided_at = note, now
    tip.reward_claim_by = local_today(clock) + timedelta(days=get_settings().tip_reward_claim_days)
    tip.updated_at = now
    append_tip_event(session, tip=tip, action="reward", actor=actor, at=now, note=note,
                     data={"amount": reward.amount, "rule": reward.rule, "fine_amount": fine,
                           "claim_by": tip.reward_claim_by})
    return tip


def mark_paid(session: Session, *, actor: Actor, tip_id: int, clock: Clock) -> Tip:
    tip = visible_tip(session, actor, tip_id, for_update=True)
    require_role(actor, "tip_reward")
    if tip.reward_amount is None:
        raise Conflict("尚未决定奖励")
    if tip.reward_paid_at is not None:
        raise Conflict("奖励已发放")
    now = clock.now()
    tip.reward_paid_at = tip.updated_at = now
    append_tip_event(session, tip=tip, action="reward_paid", actor=actor, at=now,
                     data={"amount": tip.reward_amount})
    return tip
