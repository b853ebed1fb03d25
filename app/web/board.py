"""The committee's pages: the 动态清零 board, the township ranking (亮晒排名), and the hazard
list every figure links to.

The figures come from the board and ranking services (the same as the API); each figure
carries the list's query parameters, so a click shows exactly the hazards it counts.
Charts are drawn by ECharts when `make install` vendored it; the tables are always there.
"""

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.access.roles import may
from app.core.clock import local_today
from app.core.schemas import NO_NUL
from app.http.deps import ClockDep, HazardFiltersDep, SessionDep
from app.models.enums import HazardLevel
from app.services.board import clearance as board_service
from app.services.board import ranking as ranking_service
from app.services.checks import scores as check_scores
from app.services.checks.safety_code import COLOUR_LABELS
from app.services.hazards import queries as hazard_service
from app.services.tips import figures as tip_figures
from app.web.pwa import STATIC
from app.web.responses import page
from app.web.session import WebActorDep

router = APIRouter(include_in_schema=False)

ECHARTS = STATIC / "vendor" / "echarts.min.js"
LIST_PAGE = 50
# The board's charts: which figures each one shows (labels come from the service).
GROUP_SERIES = ("open", "overdue", "listed", "closed")
TREND_SERIES = ("found", "closed", "open_at_end")
LEVEL_CHOICES = {"": "全部隐患", "general": "一般隐患", "major": "重大隐患"}
COLOUR_NAMES = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}


def list_url(params: dict[str, str]) -> str:
    """The hazard list page showing exactly the hazards a figure counts."""
    return "/hazards?" + urlencode(params) if params else "/hazards"


def charts_available() -> bool:
    return ECHARTS.is_file()


def _chart_groups(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One grouped bar chart: a category per row, a series per figure, a link per bar."""
    return {
        "categories": [row["name"] for row in rows],
        "series": [{"key": key, "values": [row[key]["count"] for row in rows],
                    "links": [list_url(row[key]["params"]) for row in rows]}
                   for key in GROUP_SERIES],
    }


def _chart_trend(months: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "categories": [m["month"] for m in months],
        "series": [{"key": key, "values": [m[key]["count"] for m in months],
                    "links": [list_url(m[key]["params"]) for m in months]}
                   for key in TREND_SERIES],
    }


@router.get("/board")
def board(
    request: Request,
    actor: WebActorDep,
    session: SessionDep,
    clock: ClockDep,
    level: HazardLevel | None = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> Response:
    today = local_today(clock)
    query = board_service.BoardQuery.of(level, from_, to, today)
    data = board_service.board(session, actor=actor, query=query, clock=clock)
    charts = {
        "labels": data["labels"],
        "township": _chart_groups(data["by_township"]),
        "industry": _chart_groups(data["by_industry"]),
        "trend": _chart_trend(data["trend"]),
    }
    # The tips' figures for whoever handles tips (the same service as GET /tips/figures).
    tips = (tip_figures.tip_figures(session, actor=actor, start=query.start, end=query.end,
                                    clock=clock) if may(actor, "tip_triage") else None)
    return page(request, "board.html", board=data, charts=charts, query=query,
                level_choices=LEVEL_CHOICES, group_series=GROUP_SERIES,
                trend_series=TREND_SERIES, list_url=list_url,
                echarts=charts_available(), tips=tips, tip_labels=tip_figures.LABELS)


@router.get("/board/checks")
def check_board(
    request: Request,
    actor: WebActorDep,
    session: SessionDep,
    clock: ClockDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> Response:
    """排查情况与四色图: the scores' tables coloured, and a scatter of the enterprises that
    have coordinates (on a plain longitude/latitude grid)."""
    scores = check_scores.check_scores(session, actor, start=from_, end=to, region_id=None,
                                       clock=clock)
    points = [{"name": e["name"], "lat": e["lat"], "lon": e["lon"], "colour": e["colour"],
               "label": COLOUR_LABELS[e["colour"]], "index": e["index"]}
              for e in scores["by_enterprise"] if e["lat"] is not None and e["lon"] is not None]
    return page(request, "check_board.html", scores=scores, points=points,
                echarts=charts_available(), colour_names=COLOUR_NAMES,
                township_names={t["region_id"]: t["name"] for t in scores["by_township"]})


@router.get("/ranking")
def ranking(
    request: Request,
    actor: WebActorDep,
    session: SessionDep,
    clock: ClockDep,
    month: Annotated[str | None, Query(max_length=7, pattern=NO_NUL)] = None,
) -> Response:
    data = ranking_service.ranking(session, actor=actor, month=month, region_id=None,
                                   clock=clock)
    return page(request, "ranking.html", ranking=data)


@router.get("/hazards")
def hazard_list(
    request: Request,
    actor: WebActorDep,
    session: SessionDep,
    clock: ClockDep,
    filters: HazardFiltersDep,
    cursor: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
) -> Response:
    """The hazards a board figure counts (the API list's filters and scoping), newest first."""
    items, next_cursor = hazard_service.list_hazards(
        session, actor=actor, filters=filters, limit=LIST_PAGE, cursor=cursor, clock=clock)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    more = f"/hazards?{urlencode([*params, ('cursor', next_cursor)])}" if next_cursor else None
    return page(request, "hazard_list.html", items=items, more=more,
                today=local_today(clock), filtered=bool(params))
