"""Pages of the 排查 side: the public 安全码 page (an enterprise's name and colour, at the
signed address its QR code holds; no login, nothing else shown) and the 风险点参考库 page, from
which an enterprise adopts a template into its register."""

import base64
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.access.roles import may, require_role
from app.core.clock import local_today
from app.core.errors import DomainError, Unprocessable
from app.http.deps import ClockDep, SessionDep
from app.http.render import render
from app.models.checks import Frequency, RiskLevel
from app.services.checks import library, register, safety_code
from app.services.checks.schemas import AdoptIn
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
