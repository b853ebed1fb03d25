"""Public tips (docs/api.md v1.1 "Public tips"): a tip without an account, the tipster's
receipt, and the staff's triage and rewards."""

from dataclasses import asdict
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from app.core.clock import local_today
from app.http.deps import ActionFormDep, ActorDep, ClockDep, SessionDep, TipFormDep, client_address
from app.http.downloads import tip_photo_response
from app.http.idempotency import REPLAYED_HEADER, KeyHeader, form_fingerprint
from app.http.openapi import BINARY, READ, READ_ONE, WRITE, errors, form_body
from app.services.media.imaging.process import PhotoVariant
from app.services.tips import figures, receipts, reward_list, rewards, triage
from app.services.tips import report as tip_report
from app.services.tips.schemas import (
    TipActionOut,
    TipFigureRow,
    TipFiguresOut,
    TipFigureValues,
    TipMergeFields,
    TipOut,
    TipPublicStatus,
    TipReceipt,
    TipRejectFields,
    TipRewardFields,
    TipRewardOut,
    TipStatus,
    reward_of,
)
from app.services.tips.timeline import tip_events
from app.workflow.fields import ReportFields

router = APIRouter(tags=["tips"])

TipActionName = Annotated[str, Path(json_schema_extra={"enum": list(triage.TIP_ACTIONS)})]


@router.post("/tips", response_model=TipReceipt, status_code=201,
             openapi_extra=form_body("TipForm", tip_report.TipFields, photos=True,
                                     photos_required=True),
             responses=errors(413, 415, 422, 429))
def submit_tip(request: Request, response: Response, form: TipFormDep, session: SessionDep,
               clock: ClockDep, key: KeyHeader = None) -> TipReceipt:
    """群众举报 (no account): what, where, optional phone, one or more `photos`. Answers the
    receipt code (查询码) the tipster follows the outcome with. With an `Idempotency-Key`, a
    retry of the same request answers the same receipt (`Idempotent-Replayed: true`)."""
    once = tip_report.SentOnce(key, form_fingerprint(request, form)) if key else None
    tip, replayed = tip_report.submit_tip_once(
        session, form=form.fields, uploads=form.photos, address=client_address(request),
        clock=clock, channel="api", once=once)
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return TipReceipt(receipt=tip.receipt, status=TipStatus(tip.status))


@router.get("/tips/receipt/{receipt}", response_model=TipPublicStatus,
            response_model_exclude_none=True,
            responses=errors(404, 422))
def tip_by_receipt(receipt: str, session: SessionDep) -> TipPublicStatus:
    """The tipster's view: status, outcome and the reward notice; nothing else."""
    return receipts.tip_status(session, receipt)


@router.get("/tips", response_model=list[TipOut], responses=errors(*READ, 403))
def list_tips(actor: ActorDep, session: SessionDep, clock: ClockDep,
              status: TipStatus | None = None) -> list[TipOut]:
    """The tips the caller handles, newest first (at most 200)."""
    today = local_today(clock)
    return [TipOut.of(t, today) for t in triage.list_tips(session, actor, status)]


@router.get("/tips/{tip_id:int}", response_model=TipOut, responses=errors(*READ_ONE))
def get_tip(tip_id: int, actor: ActorDep, session: SessionDep, clock: ClockDep) -> TipOut:
    """One tip with the phone and its own hash-chained timeline (handling staff only)."""
    tip = triage.visible_tip(session, actor, tip_id)
    out = TipOut.of(tip, local_today(clock), tip_events(session, tip.id))
    out.similar_hazard_ids, out.similar_tip_ids, out.similar_photos = triage.duplicate_hints(
        session, actor, tip)
    return out


@router.get(
    "/tips/{tip_id:int}/photos/{photo_id:int}",
    response_class=Response,
    responses={200: {"description": "The original, or an upright JPEG without EXIF",
                     "content": {"image/*": BINARY}}, **errors(*READ_ONE)},
)
def tip_photo(tip_id: int, photo_id: int, actor: ActorDep, session: SessionDep,
              variant: PhotoVariant | None = None) -> Response:
    """A tip's photo, for the handling staff (the original keeps its EXIF, GPS included)."""
    return tip_photo_response(session, actor, tip_id, photo_id, variant)


@router.post("/tips/{tip_id:int}/actions/{action}", response_model=TipActionOut,
             openapi_extra=form_body(
                 "TipActionForm", ReportFields, TipMergeFields, TipRejectFields,
                 fields_by={"convert": ReportFields, "merge": TipMergeFields,
                            "reject": TipRejectFields},
                 description="convert: the fields of a report (defaults from the tip); "
                             "merge: hazard_id; reject: reason (the tipster reads it)."),
             responses=errors(*WRITE))
def tip_action(tip_id: int, action: TipActionName, actor: ActorDep, form: ActionFormDep,
               session: SessionDep, clock: ClockDep) -> TipActionOut:
    """转为隐患 (convert), 合并 (merge) or 不予受理 (reject)."""
    tip = triage.perform_tip_action(session, actor=actor, tip_id=tip_id, action=action,
                                    form=form.fields, clock=clock)
    return TipActionOut(id=tip.id, status=TipStatus(tip.status), hazard_id=tip.hazard_id)


@router.post("/tips/{tip_id:int}/reward", response_model=TipRewardOut,
             openapi_extra=form_body("TipRewardForm", TipRewardFields),
             responses=errors(*WRITE))
def decide_reward(tip_id: int, actor: ActorDep, form: ActionFormDep, session: SessionDep,
                  clock: ClockDep) -> TipRewardOut:
    """举报奖励 (committee): the amount by the rule table, the rule, the claim deadline."""
    tip = rewards.decide_reward(session, actor=actor, tip_id=tip_id, form=form.fields,
                                clock=clock)
    out = reward_of(tip)
    assert out is not None
    return out


@router.post("/tips/{tip_id:int}/reward/paid", response_model=TipRewardOut,
             responses=errors(*WRITE))
def reward_paid(tip_id: int, actor: ActorDep, session: SessionDep,
                clock: ClockDep) -> TipRewardOut:
    """The reward paid (on record)."""
    tip = rewards.mark_paid(session, actor=actor, tip_id=tip_id, clock=clock)
    out = reward_of(tip)
    assert out is not None
    return out




@router.get("/tips/figures", response_model=TipFiguresOut, responses=errors(*READ, 403))
def tip_figures(actor: ActorDep, session: SessionDep, clock: ClockDep,
                from_: Annotated[date | None, Query(alias="from")] = None,
                to: date | None = None) -> TipFiguresOut:
    """群众举报的统计 by township and month (default: this month so far): received, converted,
    merged, rejected, overdue, rewards decided and paid with their amounts."""
    today = local_today(clock)
    report = figures.tip_figures(session, actor=actor, start=from_ or today.replace(day=1),
                                 end=to or today, clock=clock)

    def row(cell: figures.Cell) -> TipFigureRow:
        return TipFigureRow(region_id=cell.region_id, region_name=cell.region_name,
                            month=cell.month, **asdict(cell.figures))

    return TipFiguresOut(start=report.start, end=report.end, labels=figures.LABELS,
                         rows=[row(c) for c in report.rows],
                         by_township=[row(c) for c in report.by_township],
                         total=TipFigureValues(**asdict(report.total)))


@router.get("/tips/rewards.xlsx", response_class=Response,
            responses={200: {"description": "举报奖励季度清单（XLSX）",
                             "content": {reward_list.MEDIA_TYPE: BINARY}},
                       **errors(*READ, 403)})
def reward_list_xlsx(actor: ActorDep, session: SessionDep, clock: ClockDep,
                     year: Annotated[int, Query(ge=2000, le=2100, description="年度")],
                     quarter: Annotated[int, Query(ge=1, le=4, description="季度 1–4")]
                     ) -> Response:
    """举报奖励季度清单 (committee): the rewards decided in the quarter, without the tipsters'
    phones or receipts."""
    rows = reward_list.reward_rows(session, actor=actor, year=year, quarter=quarter,
                                   clock=clock)
    name, ascii_name = reward_list.file_names(year, quarter)
    return Response(reward_list.write_reward_xlsx(rows, year, quarter),
                    media_type=reward_list.MEDIA_TYPE, headers={
                        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                                               f"filename*=UTF-8''{quote(name, safe='')}",
                        "Cache-Control": "no-store"})
