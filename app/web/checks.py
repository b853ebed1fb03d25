"""Pages of the 排查 side: the public 安全码 page (an enterprise's name and colour, at the
signed address its QR code holds; no login, nothing else shown) and the 风险点参考库 page, from
which an enterprise adopts a template into its register."""

import base64
from dataclasses import replace
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.access.roles import may, may_answer_task, require_role
from app.core.clock import local_today
from app.core.errors import DomainError, Unprocessable
from app.http.deps import ClockDep, SessionDep
from app.http.render import render
from app.models.checks import Frequency, RiskLevel, TaskKind
from app.services.checks import campaigns, library, register, safety_code, tasks
from app.services.checks.schemas import AdoptIn, InspectionIn
from app.web.idempotency import WebIdempotencyDep
from app.web.responses import page, redirect, reject, typed_values
from app.web.session import CsrfFormDep, WebActorDep
from app.workflow.fields import parse_fields

router = APIRouter(include_in_schema=False)

LEVEL_LABELS = {RiskLevel.major: "重大（红）", RiskLevel.high: "较大（橙）",
                RiskLevel.medium: "一般（黄）", RiskLevel.low: "低（蓝）"}
FREQUENCY_LABELS = {Frequency.daily: "每个工作日", Frequency.weekly: "每周",
                    Frequency.monthly: "每月", Frequency.quarterly: "每季度"}


@router.get("/safety/{enterprise_id:int}", response_class=HTMLResponse)
def safety_page(enterprise_id: int, session: SessionDep,
                s: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    enterprise = safety_code.public_enterprise(session, enterprise_id, s)
    colour = safety_code.colour_of(session, enterprise.id)
    html = render("safety_code.html", name=enterprise.name, colour=colour,
                  colour_label=safety_code.COLOUR_LABELS[colour],
                  tip_url=f"/tip?enterprise={enterprise.id}&s={s}")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/enterprises/{enterprise_id:int}/safety-poster")
def safety_poster(request: Request, enterprise_id: int, actor: WebActorDep,
                  session: SessionDep, clock: ClockDep) -> Response:
    """The printable A4 安全码 poster: the enterprise's name, colour now and the QR code of its
    signed public page. For whoever sees the enterprise (404 otherwise)."""
    enterprise = register.visible_enterprise(session, actor, enterprise_id)
    colour = safety_code.colour_of(session, enterprise.id)
    url = str(request.base_url).rstrip("/") + safety_code.public_path(enterprise.id)
    return page(request, "safety_poster.html", name=enterprise.name, colour=colour,
                colour_label=safety_code.COLOUR_LABELS[colour],
                qr_base64=base64.b64encode(safety_code.qr_png(url)).decode(),
                printed_on=local_today(clock))


KIND_LABELS = {TaskKind.routine: "日常排查", TaskKind.sweep: "举一反三",
               TaskKind.campaign: "专项排查", TaskKind.inspection: "部门检查"}


@router.get("/checks")
def my_checks(request: Request, actor: WebActorDep, session: SessionDep,
              clock: ClockDep) -> Response:
    """我的排查任务: what the user itself has to record, soonest due first."""
    today = local_today(clock)
    rows = tasks.open_tasks(session, actor)
    inspectable = (campaigns.inspectable_enterprises(session, actor)
                   if may(actor, "inspect") else [])
    return page(request, "checks.html", tasks=tasks.tasks_out(session, rows, today),
                kinds=KIND_LABELS, today=today, inspectable=inspectable)


@router.post("/checks/inspections")
def open_inspection(request: Request, actor: WebActorDep, form: CsrfFormDep,
                    session: SessionDep, clock: ClockDep) -> Response:
    """部门检查 from the page: the chosen enterprise's own check items, then its task page."""
    raw = form.fields.get("enterprise_id", "")
    enterprise_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0
    task = campaigns.open_inspection(session, actor, enterprise_id, InspectionIn(), clock)
    return redirect(request, f"/checks/{task.id}")


def _task_context(session: SessionDep, actor: WebActorDep, task_id: int,
                  today: date) -> dict[str, object]:
    task = tasks.visible_task(session, actor, task_id)
    return {"task": tasks.tasks_out(session, [task], today)[0], "kinds": KIND_LABELS,
            "may_answer": may_answer_task(actor, task.inspector_id)}


@router.get("/checks/{task_id:int}")
def check_task_page(request: Request, task_id: int, actor: WebActorDep, session: SessionDep,
                    clock: ClockDep) -> Response:
    """One card per unanswered item, each its own small form (one screen on a phone) that
    the offline drafts send when there is a signal."""
    return page(request, "check_task.html",
                **_task_context(session, actor, task_id, local_today(clock)))


@router.post("/checks/{task_id:int}/items/{item_id:int}")
async def record_item(request: Request, task_id: int, item_id: int, actor: WebActorDep,
                      form: CsrfFormDep, session: SessionDep, clock: ClockDep,
                      once: WebIdempotencyDep) -> Response:
    """One item: `outcome` ok|hazard, `note`, files `photos`, as the API's results[0]."""
    fields = {"results[0].item_id": str(item_id),
              "results[0].outcome": form.fields.get("outcome", ""),
              "results[0].note": form.fields.get("note", "")}
    files = [replace(f, field_name="results[0].photos") for f in form.photos]

    def work() -> str:
        tasks.answer_task(session, actor, task_id, tasks.ResultsForm(fields, files), clock)
        return f"/checks/{task_id}#done-{item_id}"

    try:
        target = await once.location(work, form=form)
    except DomainError as error:
        raise reject(request, error, "check_task.html", failed=item_id,
                     values=typed_values(form),
                     **_task_context(session, actor, task_id, local_today(clock))) from None
    return redirect(request, target)


def _library_context(actor: WebActorDep, session: SessionDep, *, industry: str | None,
                     adopted: int | None = None) -> dict[str, object]:
    may_adopt = may(actor, "risk_register_edit") and actor.enterprise_id is not None
    points: list[object] = []
    if may_adopt and actor.enterprise_id is not None:
        points = list(register.list_risk_points(session, actor, actor.enterprise_id,
                                                limit=200, cursor=None)[0])
    return {"templates": library.library(industry), "industry": industry,
            "industries": list(dict.fromkeys(t.industry for t in library.templates())),
            "may_adopt": may_adopt, "points": points, "adopted": adopted,
            "levels": LEVEL_LABELS, "frequencies": FREQUENCY_LABELS}


@router.get("/risk-library")
def risk_library(request: Request, actor: WebActorDep, session: SessionDep,
                 industry: Annotated[str | None, Query(max_length=50)] = None,
                 adopted: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    return page(request, "risk_library.html",
                **_library_context(actor, session, industry=industry or None, adopted=adopted))


@router.post("/risk-library/adopt")
def adopt_template(request: Request, actor: WebActorDep, form: CsrfFormDep,
                   session: SessionDep, clock: ClockDep) -> Response:
    """Into the actor's own enterprise; the form names the `template`, and its checkboxes
    `item.<n>` carry the chosen items' keys (none ticked: all)."""
    require_role(actor, "risk_register_edit")
    fields = form.fields
    template = fields.get("template", "")
    chosen = [value for name, value in fields.items() if name.startswith("item.")]
    data = {key: fields.get(key, "") for key in ("name", "place", "level", "frequency",
                                                  "owner")}
    try:
        body, problems = parse_fields(AdoptIn, {**data, "template": template[:65],
                                                "items": chosen or None},
                                      today=local_today(clock))
        if body is None:
            raise Unprocessable(problems)
        assert isinstance(body, AdoptIn)
        point = library.adopt(session, actor, actor.enterprise_id or 0, body, clock)
    except DomainError as error:
        raise reject(request, error, "risk_library.html", values=typed_values(form),
                     failed=template,
                     **_library_context(actor, session, industry=None)) from None
    return redirect(request, f"/risk-library?adopted={point.id}")
