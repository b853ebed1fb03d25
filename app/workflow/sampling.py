"""Spot-check sampling (抽查): every major hazard is drawn; general ones at the committee's rate.

A draw is reproducible from its seed: anyone holding the seed, the hazard code and the rate
recorded on the timeline can recompute the outcome.
"""

import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal

from app.models.enums import HazardLevel


@dataclass(frozen=True)
class Draw:
    seed: str
    rate: Decimal
    value: float  # uniform in [0, 1), from the seed and the hazard code
    drawn: bool
    reason: str  # why: "major", "previous_failure" or "rate"

    def as_data(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "rate": str(self.rate),
            "value": self.value,
            "drawn": self.drawn,
            "reason": self.reason,
            "algorithm": "sha256(seed|code)[:8]/2^64 < rate",
        }


def draw_value(seed: str, hazard_code: str) -> float:
    digest = hashlib.sha256(f"{seed}|{hazard_code}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def draw(
    *,
    hazard_code: str,
    level: HazardLevel,
    rate: Decimal,
    failed_before: bool,
    seed: str | None = None,
) -> Draw:
    seed = seed or secrets.token_hex(16)
    value = draw_value(seed, hazard_code)
    if level == HazardLevel.major:
        return Draw(seed, rate, value, True, "major")
    if failed_before:
        # A hazard that already failed a spot-check is always checked again.
        return Draw(seed, rate, value, True, "previous_failure")
    return Draw(seed, rate, value, value < float(rate), "rate")
