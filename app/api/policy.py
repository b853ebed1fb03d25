from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.http.deps import ActorDep, ClockDep, SessionDep
from app.services.hazards import actions as action_service

router = APIRouter(prefix="/spot-check-policy", tags=["spot-checks"])


class PolicyIn(BaseModel):
    rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)]


class PolicyOut(BaseModel):
    region_id: int
    rate: Decimal


@router.put("", response_model=PolicyOut)
def set_policy(body: PolicyIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> PolicyOut:
    """安委办 sets the share of verified general hazards drawn for spot-checks in its region
    (major hazards are always drawn)."""
    policy = action_service.set_spot_check_rate(
        session, actor=actor, rate=body.rate, at=clock.now()
    )
    return PolicyOut(region_id=policy.region_id, rate=policy.rate)
