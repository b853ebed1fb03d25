"""Hazard states of the closed loop (DOMAIN.md)."""

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
