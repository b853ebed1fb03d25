"""The committee's board (动态清零看板) and township ranking (亮晒排名)."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.core.clock import local_today
from app.http.deps import ActorDep, ClockDep, SessionDep
from app.http.openapi import errors
from app.models.enums import HazardLevel
from app.services.board import clearance as board_service
from app.services.board import criteria as criteria_board
from app.services.board import ranking as ranking_service
from app.services.board.schemas import BoardOut, CriteriaBoardOut, RankingOut

router = APIRouter(prefix="/board", tags=["board"])


@router.get("", response_model=BoardOut, response_model_by_alias=True,
            responses=errors(401, 403, 404, 422))
def get_board(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    level: HazardLevel | None = None,
    from_: Annotated[date | None, Query(alias="from", description="默认：本月 1 日")] = None,
    to: Annotated[date | None, Query(description="默认：今天")] = None,
    region_id: Annotated[int | None, Query(description="只看该区域（含下级）")] = None,
) -> Response:
    """动态清零看板 of what the caller may see: totals, by township, by industry, monthly
    trend; each figure with the hazard-list query that lists it (see README)."""
    today = local_today(clock)
    query = board_service.BoardQuery.of(level, from_, to, today, region_id)
    return _json(BoardOut.model_validate(
        board_service.board(session, actor=actor, query=query, clock=clock)))


@router.get("/ranking", response_model=RankingOut, responses=errors(401, 403, 404, 422))
def get_ranking(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    month: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$",
                                       description="YYYY-MM；默认：上个月")] = None,
    region_id: Annotated[int | None, Query(description="只排该区域内的乡镇")] = None,
) -> Response:
    """亮晒排名 of the townships under the caller's region for a month, from the timeline as
    of the month's end (formula in the response and in README)."""
    body = RankingOut.model_validate(ranking_service.ranking(
        session, actor=actor, month=month, region_id=region_id, clock=clock))
    # 排查完成率 is a component only while weighted: absent (not null) otherwise.
    weighted = "completion" in body.weights
    return _json(body, None if weighted else
                 {"townships": {"__all__": {"components": {"completion"}}}})


@router.get("/criteria", response_model=CriteriaBoardOut, response_model_by_alias=True,
            responses=errors(401, 403, 404, 422))
def get_board_criteria(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    from_: Annotated[date | None, Query(alias="from", description="默认：本月 1 日")] = None,
    to: Annotated[date | None, Query(description="默认：今天")] = None,
    region_id: Annotated[int | None, Query(description="只看该区域（含下级）")] = None,
) -> Response:
    """重大事故隐患按判定标准条款计数 (what a 举一反三 sweep starts from): the major hazards
    reported in the period that the caller may see, by document and by the clause cited."""
    return _json(CriteriaBoardOut.model_validate(criteria_board.by_criterion(
        session, actor=actor, start=from_, end=to, region_id=region_id, clock=clock)))


def _json(body: BoardOut | RankingOut | CriteriaBoardOut, exclude: Any = None) -> Response:
    """The response validated once, serialised by pydantic: returning the model would have
    FastAPI dump, re-validate and re-encode it (response_model stays for the docs)."""
    return Response(body.model_dump_json(by_alias=True, exclude=exclude),
                    media_type="application/json")
