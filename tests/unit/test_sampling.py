from decimal import Decimal

from app.models.enums import HazardLevel
from app.workflow.sampling import draw, draw_value


def test_draw_is_reproducible_from_its_seed() -> None:
    first = draw(hazard_code="YH-339901-2026-00001", level=HazardLevel.general,
                 rate=Decimal("0.5"), failed_before=False)
    again = draw(hazard_code="YH-339901-2026-00001", level=HazardLevel.general,
                 rate=Decimal("0.5"), failed_before=False, seed=first.seed)
    assert again == first
    assert first.value == draw_value(first.seed, "YH-339901-2026-00001")
    assert first.drawn == (first.value < 0.5)


def test_major_hazards_and_previous_failures_are_always_drawn() -> None:
    major = draw(hazard_code="X", level=HazardLevel.major, rate=Decimal(0), failed_before=False)
    assert major.drawn and major.reason == "major"
    again = draw(hazard_code="X", level=HazardLevel.general, rate=Decimal(0), failed_before=True)
    assert again.drawn and again.reason == "previous_failure"


def test_general_hazards_are_drawn_at_the_rate() -> None:
    outcomes = [
        draw(hazard_code=f"YH-339901-2026-{n:05d}", level=HazardLevel.general,
             rate=Decimal("0.3"), failed_before=False, seed="fixed-seed").drawn
        for n in range(2000)
    ]
    assert 0.25 < sum(outcomes) / len(outcomes) < 0.35
    never = draw(hazard_code="Y", level=HazardLevel.general, rate=Decimal(0), failed_before=False)
    always = draw(hazard_code="Y", level=HazardLevel.general, rate=Decimal(1), failed_before=False)
    assert not never.drawn and always.drawn
