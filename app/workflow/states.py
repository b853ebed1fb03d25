"""Hazard states of the closed loop (docs/domain.md)."""

from enum import StrEnum


class HazardState(StrEnum):
    reported = "reported"  # 已上报
    assigned = "assigned"  # 已交办
    rectifying = "rectifying"  # 整改中
    rectified = "rectified"  # 待验收
    verified = "verified"  # 已验收
    spot_checked = "spot_checked"  # 已抽查
    closed = "closed"  # 已销号
    rejected = "rejected"  # 不予受理


# States in which the rectifying enterprise still owes the work: past the deadline, overdue.
RECTIFICATION_OPEN = (HazardState.assigned, HazardState.rectifying)

# States a hazard never leaves; it counts as open (未销号) until it reaches one of them.
ENDED_STATES = (HazardState.closed, HazardState.rejected)
OPEN_STATES = tuple(s for s in HazardState if s not in ENDED_STATES)
# The actions that move a hazard into an ended state: each hazard has at most one of them,
# and its time is when the hazard stopped being open.
ENDING_ACTIONS = ("close", "reject")
# Rectification verified (验收通过) or beyond: the enterprise's work is accepted.
RECTIFIED_STATES = (HazardState.verified, HazardState.spot_checked, HazardState.closed)
