"""The escalation ladder of 双重督办: which step (约谈/通报, 挂牌督办) is due how long overdue."""

from dataclasses import dataclass

from app.models.enums import HazardLevel

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
