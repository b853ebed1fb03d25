"""The 排查 side (docs/api.md v1.1): risk register, check tasks, 举一反三 sweeps."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.schemas import NO_NUL
from app.http.deps import ActorDep, ClockDep, SessionDep
from app.http.openapi import READ_ONE, WRITE, errors
from app.services.checks import register
from app.services.checks.schemas import (
    MAX_PAGE,
    RiskPointIn,
    RiskPointOut,
    RiskPointPage,
    RiskPointPatch,
)

router = APIRouter(tags=["checks"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=100, pattern=NO_NUL)]


@router.get("/enterprises/{enterprise_id:int}/risk-points", response_model=RiskPointPage,
            responses=errors(*READ_ONE))
def list_risk_points(enterprise_id: int, actor: ActorDep, session: SessionDep,
                     limit: Limit = 50, cursor: Cursor = None) -> RiskPointPage:
    """风险点清单: the enterprise's risk points, newest first."""
    rows, next_cursor = register.list_risk_points(session, actor, enterprise_id, limit=limit,
                                                  cursor=cursor)
    return RiskPointPage(items=[register.risk_point_out(p) for p in rows],
                         next_cursor=next_cursor)


@router.post("/enterprises/{enterprise_id:int}/risk-points", response_model=RiskPointOut,
             status_code=201, responses=errors(*WRITE))
def create_risk_point(enterprise_id: int, body: RiskPointIn, actor: ActorDep,
                      session: SessionDep, clock: ClockDep) -> RiskPointOut:
    """The enterprise adds a risk point with its control measures."""
    point = register.create_risk_point(session, actor, enterprise_id, body, clock)
    return register.risk_point_out(point)


@router.patch("/risk-points/{risk_point_id:int}", response_model=RiskPointOut,
              responses=errors(*WRITE))
def update_risk_point(risk_point_id: int, body: RiskPointPatch, actor: ActorDep,
                      session: SessionDep, clock: ClockDep) -> RiskPointOut:
    """Change a risk point; `measures`, when sent, replaces the list (ids keep a measure)."""
    point = register.update_risk_point(session, actor, risk_point_id, body, clock)
    return register.risk_point_out(point)
