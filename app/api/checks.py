"""The 排查 side (docs/api.md v1.1): risk register, check tasks, 举一反三 sweeps."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.core.clock import local_today
from app.core.schemas import NO_NUL
from app.http.deps import ActionFormDep, ActorDep, ClockDep, SessionDep
from app.http.idempotency import IdempotencyDep
from app.http.openapi import BINARY, READ, READ_ONE, UPLOAD, WRITE, errors
from app.models.checks import Outcome, TaskState
from app.services.checks import (
    campaigns,
    exchange,
    library,
    register,
    safety_code,
    scores,
    sweeps,
    tasks,
)
from app.services.checks.schemas import (
    MAX_PAGE,
    AdoptIn,
    CampaignIn,
    CampaignOut,
    CheckScoresOut,
    CheckTaskOut,
    CheckTaskPage,
    ExchangeDay,
    InspectionIn,
    LibraryOut,
    RiskPointIn,
    RiskPointOut,
    RiskPointPage,
    RiskPointPatch,
    SweepIn,
    SweepOut,
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


@router.get("/risk-library", response_model=LibraryOut, responses=errors(*READ))
def get_risk_library(
    actor: ActorDep,
    industry: Annotated[str | None, Query(max_length=50, pattern=NO_NUL)] = None,
) -> LibraryOut:
    """风险点参考库: typical risk points per industry, each item a clause of the shipped
    criteria (its document, clause, source and verification named)."""
    return LibraryOut(templates=library.library(industry))


@router.post("/enterprises/{enterprise_id:int}/risk-points/adopt", response_model=RiskPointOut,
             status_code=201, responses=errors(*WRITE))
def adopt_risk_point(enterprise_id: int, body: AdoptIn, actor: ActorDep, session: SessionDep,
                     clock: ClockDep) -> RiskPointOut:
    """The enterprise adopts a library template (all its items, or those chosen) as a risk
    point with its own place, level, owner and frequency."""
    point = library.adopt(session, actor, enterprise_id, body, clock)
    return register.risk_point_out(point)


@router.patch("/risk-points/{risk_point_id:int}", response_model=RiskPointOut,
              responses=errors(*WRITE))
def update_risk_point(risk_point_id: int, body: RiskPointPatch, actor: ActorDep,
                      session: SessionDep, clock: ClockDep) -> RiskPointOut:
    """Change a risk point; `measures`, when sent, replaces the list (ids keep a measure)."""
    point = register.update_risk_point(session, actor, risk_point_id, body, clock)
    return register.risk_point_out(point)


def _results_schema(title: str, files: bool) -> dict[str, Any]:
    """The results form: fields named per item, `results[i].…` with i = 0, 1, … (shown for
    i = 0; each further item repeats them with its own index)."""
    properties: dict[str, Any] = {
        "results[0].item_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1,
                               "description": "排查项 id（任务的 items[].id）"},
        "results[0].outcome": {"type": "string", "enum": [str(o) for o in Outcome],
                               "description": "ok 正常 · hazard 发现隐患（须附照片）"},
        "results[0].note": {"type": "string", "maxLength": tasks.MAX_NOTE,
                            "description": "说明；发现隐患时为隐患描述"},
    }
    if files:
        properties["results[0].photos"] = {
            "type": "array", "items": {"type": "string", "format": "binary"},
            "description": "现场照片：发现隐患时必填，正常时可选"
                           "（每个文件一个 `results[i].photos` 部分）"}
    return {"type": "object", "title": title, "properties": properties,
            "required": ["results[0].item_id", "results[0].outcome"],
            "description": f"Items i = 0 … {tasks.MAX_RESULTS - 1}, each with the same fields "
                           "as results[0]; a hazard outcome requires photos, "
                           "an ok outcome may have them."}


RESULTS_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": _results_schema("CheckResultsForm", files=True)},
    "application/x-www-form-urlencoded": {
        "schema": _results_schema("CheckResultsFormFields", files=False)},
}}}


@router.get("/check-tasks", response_model=CheckTaskPage, responses=errors(*READ))
def list_check_tasks(
    actor: ActorDep, session: SessionDep, clock: ClockDep,
    enterprise_id: Annotated[int | None, Query(ge=1)] = None,
    state: TaskState | None = None, limit: Limit = 50, cursor: Cursor = None,
) -> CheckTaskPage:
    """排查任务 the caller may see, newest first; `state` due (not yet past its day), overdue
    or done."""
    today = local_today(clock)
    rows, next_cursor = tasks.list_tasks(session, actor, enterprise_id=enterprise_id,
                                         state=state, limit=limit, cursor=cursor, today=today)
    return CheckTaskPage(items=tasks.tasks_out(session, rows, today), next_cursor=next_cursor)


@router.post("/check-tasks/{task_id:int}/results", response_model=CheckTaskOut,
             openapi_extra=RESULTS_BODY, responses=errors(*UPLOAD))
async def record_check_results(task_id: int, actor: ActorDep, form: ActionFormDep,
                               session: SessionDep, clock: ClockDep,
                               once: IdempotencyDep) -> CheckTaskOut:
    """Record items of a task: 正常, or 发现隐患 with photos (each reported as a hazard in
    `reported`, routed like any report). With an `Idempotency-Key` a retry records once."""

    def work() -> CheckTaskOut:
        task = tasks.answer_task(session, actor, task_id,
                                 tasks.ResultsForm(form.fields, form.files), clock)
        return tasks.tasks_out(session, [task], local_today(clock))[0]

    return await once.json(work, form=form)


@router.post("/hazards/{hazard_id:int}/sweeps", response_model=SweepOut, status_code=201,
             tags=["sweeps"], responses=errors(*WRITE))
def launch_sweep(hazard_id: int, body: SweepIn, actor: ActorDep, session: SessionDep,
                 clock: ClockDep) -> SweepOut:
    """举一反三 (committee, inspector): the items go to every enterprise of the industry in the
    region subtree that the caller supervises, each a check task due by `deadline`."""
    sweep = sweeps.launch_sweep(session, actor, hazard_id, body, clock)
    return sweeps.sweep_out(session, actor, sweep, local_today(clock))


@router.get("/sweeps/{sweep_id:int}", response_model=SweepOut, tags=["sweeps"],
            responses=errors(*READ_ONE))
def get_sweep(sweep_id: int, actor: ActorDep, session: SessionDep,
              clock: ClockDep) -> SweepOut:
    """The sweep and its figures, over the enterprises the caller may see."""
    sweep = sweeps.visible_sweep(session, actor, sweep_id)
    return sweeps.sweep_out(session, actor, sweep, local_today(clock))


@router.post("/sweeps/{sweep_id:int}/answers", response_model=CheckTaskOut, tags=["sweeps"],
             openapi_extra=RESULTS_BODY, responses=errors(*UPLOAD))
async def answer_sweep(sweep_id: int, actor: ActorDep, form: ActionFormDep,
                       session: SessionDep, clock: ClockDep,
                       once: IdempotencyDep) -> CheckTaskOut:
    """The enterprise answers the sweep's items, like a check task's results → its task."""

    def work() -> CheckTaskOut:
        task = sweeps.answer_sweep(session, actor, sweep_id,
                                   tasks.ResultsForm(form.fields, form.files), clock)
        return tasks.tasks_out(session, [task], local_today(clock))[0]

    return await once.json(work, form=form)


@router.post("/check-campaigns", response_model=CampaignOut, status_code=201,
             tags=["campaigns"], responses=errors(401, 403, 422))
def launch_campaign(body: CampaignIn, actor: ActorDep, session: SessionDep,
                    clock: ClockDep) -> CampaignOut:
    """专项排查 (committee, inspector): the items go to the enterprises named, or to every
    enterprise (of the industry) in the region subtree, that the caller supervises; each a
    check task due by `deadline`, answered with its results."""
    campaign = campaigns.launch_campaign(session, actor, body, clock)
    return campaigns.campaign_out(session, actor, campaign, local_today(clock))


@router.get("/check-campaigns/{campaign_id:int}", response_model=CampaignOut,
            tags=["campaigns"], responses=errors(*READ_ONE))
def get_campaign(campaign_id: int, actor: ActorDep, session: SessionDep,
                 clock: ClockDep) -> CampaignOut:
    """The campaign and its figures, over the enterprises the caller may see."""
    campaign = campaigns.visible_campaign(session, actor, campaign_id)
    return campaigns.campaign_out(session, actor, campaign, local_today(clock))


@router.post("/enterprises/{enterprise_id:int}/inspections", response_model=CheckTaskOut,
             status_code=201, tags=["inspections"], responses=errors(*WRITE))
def open_inspection(enterprise_id: int, body: InspectionIn, actor: ActorDep,
                    session: SessionDep, clock: ClockDep) -> CheckTaskOut:
    """部门检查 (inspector): a task at the enterprise with its own check items (of the risk
    points named, or all) and any added; the inspector records the results with
    `POST /check-tasks/{id}/results`, each 发现隐患 reported by it and assignable at once."""
    task = campaigns.open_inspection(session, actor, enterprise_id, body, clock)
    return tasks.tasks_out(session, [task], local_today(clock))[0]


@router.get("/board/checks", response_model=CheckScoresOut, response_model_by_alias=True,
            tags=["board"], responses=errors(401, 403, 404, 422))
def get_check_scores(
    actor: ActorDep, session: SessionDep, clock: ClockDep,
    from_: Annotated[date | None, Query(alias="from", description="默认：本月 1 日")] = None,
    to: Annotated[date | None, Query(description="默认：今天")] = None,
    region_id: Annotated[int | None, Query(description="只看该区域（含下级）")] = None,
) -> dict[str, Any]:
    """排查 scores of the enterprises the caller supervises: completion rate, overdue tasks,
    hazards found by self-check and by inspection, the 双重预防 index (`formula`) and the
    四色 colour, in total, per township and per enterprise (with coordinates for a map)."""
    return scores.check_scores(session, actor, start=from_, end=to, region_id=region_id,
                               clock=clock)


@router.get("/exchange/daily", response_model=ExchangeDay, tags=["exchange"],
            responses=errors(401, 403, 422))
def get_exchange_day(
    actor: ActorDep, session: SessionDep, clock: ClockDep,
    day: Annotated[date | None, Query(alias="date", description="默认：昨天")] = None,
) -> dict[str, Any]:
    """省级平台数据交换 (committee, admin): one local day's risk points, measures, check
    records and hazards of the caller's region, field by field in docs/checks.md."""
    return exchange.daily_export(session, actor, day, clock)


@router.get("/enterprises/{enterprise_id:int}/safety-code", response_class=Response,
            tags=["safety-code"],
            responses={200: {"description": "安全码: PNG QR code of the signed public page",
                             "content": {"image/png": BINARY}}, **errors(*READ_ONE)})
def get_safety_code(enterprise_id: int, request: Request, actor: ActorDep,
                    session: SessionDep) -> Response:
    """The enterprise's QR code: the signed address of its public page (name and colour)."""
    register.visible_enterprise(session, actor, enterprise_id)
    url = str(request.base_url).rstrip("/") + safety_code.public_path(enterprise_id)
    return Response(safety_code.qr_png(url), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})
