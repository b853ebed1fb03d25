"""Rules of 双重督办: who may do what outside the state machine, and the escalation ladder."""

from dataclasses import dataclass

from app.models.enums import HazardLevel, Role

# Actions outside the state machine (records on a hazard, settings, administration) and the
# roles that may take them; permissions.require_role reads this table.
SIDE_ACTION_ROLES: dict[str, frozenset[Role]] = {
    "extension_request": frozenset({Role.enterprise}),
    "extension_decision": frozenset({Role.inspector}),
    "interview": frozenset({Role.committee}),  # 约谈/通报
    "listing": frozenset({Role.committee}),  # 挂牌督办
    "delisting": frozenset({Role.committee}),  # 摘牌
    "notice_ack": frozenset({Role.enterprise, Role.inspector}),
    "evaluate": frozenset({Role.enterprise}),  # 评估 before review of a listed major hazard
    "spot_check_policy": frozenset({Role.committee}),  # the draw rate for its region
    "criteria_import": frozenset({Role.admin}),  # the catalogue is shared by every region
    "webhooks": frozenset({Role.admin}),  # subscriptions of the admin's region
    # The committee's figures. The board counts only what the caller may see, so an
    # inspector may look at its own scope; the ranking compares townships, which only the
    # county's committee (and admin) oversee. Enterprises see neither.
    "board": frozenset({Role.committee, Role.admin, Role.inspector}),  # 动态清零看板
    "ranking": frozenset({Role.committee, Role.admin}),  # 亮晒排名
}

STEP_LABELS = {"interview": "约谈/通报", "listing": "挂牌督办"}


@dataclass(frozen=True)
class LadderStep:
    step: str  # "interview" or "listing"
    working_days_overdue: int


def parse_ladder(spec: str) -> tuple[LadderStep, ...]:
    """'interview:5,listing:15' → the steps in order (ESCALATION_GENERAL / _MAJOR settings)."""
    steps = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, days = part.partition(":")
        if name not in STEP_LABELS or not days.isdigit():
            raise ValueError(f"bad escalation step {part!r}: use interview:N or listing:N")
        steps.append(LadderStep(name, int(days)))
    return tuple(sorted(steps, key=lambda s: s.working_days_overdue))


def ladder_for(level: HazardLevel, general: str, major: str) -> tuple[LadderStep, ...]:
    return parse_ladder(major if level == HazardLevel.major else general)


def due_steps(ladder: tuple[LadderStep, ...], working_days_overdue: int) -> list[LadderStep]:
    """The escalation steps reached at this many working days overdue."""
    return [s for s in ladder if working_days_overdue >= s.working_days_overdue]
