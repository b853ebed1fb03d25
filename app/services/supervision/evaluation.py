"""评估 (2007 rules, art. 18): a listed major hazard's rectification is evaluated — by the
enterprise itself or by a third party, report attached — before the supervising unit
reviews it; the review is due within REVIEW_DAYS of the request, and a late one is kept on
record against the unit.
"""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.duties import relations_to
from app.access.roles import require_role
from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, Unprocessable
from app.models import Event, Hazard
from app.models.enums import HazardLevel
from app.services.hazards import photos as photo_service
from app.services.hazards.queries import visible_hazard
from app.services.hazards.timeline import append_event
from app.workflow.fields import (
    EVALUATION_KIND_LABELS,
    EvaluationFields,
    EvaluationKind,
    parse_fields,
)
from app.workflow.states import HazardState
from app.workflow.table import Relation

REVIEW_DAYS = 10  # calendar days, as the rules count them
# The words of the refusals the evaluation form has always given.
EVALUATION_ERRORS: dict[str, dict[str, Any]] = {
    "kind": {"loc": ["body", "kind"], "msg": "kind 应为 self 或 third_party", "type": "enum"},
    "summary": {"loc": ["body", "summary"], "msg": "请填写评估结论", "type": "missing"},
}


def needs_evaluation(hazard: Hazard) -> bool:
    return hazard.level == HazardLevel.major and hazard.listing is not None


def pending_evaluation(session: Session, hazard: Hazard) -> Event | None:
    """The evaluation filed since the last rectification was submitted, if any."""
    latest = session.scalars(
        select(Event).where(Event.hazard_id == hazard.id,
                            Event.action.in_(("submit", "evaluate")))
        .order_by(Event.seq.desc()).limit(1)
    ).first()
    return latest if latest is not None and latest.action == "evaluate" else None


def review_due_on(evaluation: Event, tz: Any) -> date:
    return evaluation.at.astimezone(tz).date() + timedelta(days=REVIEW_DAYS)


def review_lateness(session: Session, hazard: Hazard, now: datetime,
                    tz: Any) -> dict[str, Any] | None:
    """For a verify/return: how late the review is, or None when on time or not required."""
    evaluation = pending_evaluation(session, hazard) if needs_evaluation(hazard) else None
    if evaluation is None:
        return None
    due = review_due_on(evaluation, tz)
    today = now.astimezone(tz).date()
    if today <= due:
        return None
    return {"evaluation_event_id": evaluation.id, "due_on": str(due),
            "days_late": (today - due).days}


def evaluate(session: Session, *, actor: Actor, hazard_id: int, form: dict[str, Any],
             uploads: list[photo_service.Upload], clock: Clock) -> Hazard:
    hazard = visible_hazard(session, actor, hazard_id, for_update=True)
    require_role(actor, "evaluate")
    if hazard.state != HazardState.rectified or not needs_evaluation(hazard):
        raise Conflict("只有已挂牌的重大事故隐患在整改完成后需要提交评估")
    if Relation.rectifier not in relations_to(session, actor, hazard):
        raise Forbidden("只有负责整改的企业可以提交评估")
    photos, upload_error = photo_service.inspect_uploads(uploads)
    if upload_error is not None:
        raise upload_error
    fields, problems = parse_fields(EvaluationFields, form, today=local_today(clock))
    errors = [EVALUATION_ERRORS.get(str(problem["loc"][-1]), problem) for problem in problems]
    kind = fields.kind if isinstance(fields, EvaluationFields) else form.get("kind")
    evaluator = fields.evaluator if isinstance(fields, EvaluationFields) else None
    if kind == EvaluationKind.third_party and not evaluator:
        errors.append({"loc": ["body", "evaluator"], "msg": "第三方评估须填写评估机构",
                       "type": "missing"})
    if not photos:
        errors.append({"loc": ["body", "photos"], "msg": "请上传评估报告（拍照或扫描件）",
                       "type": "missing"})
    if errors or not isinstance(fields, EvaluationFields):
        raise Unprocessable(errors)
    now = clock.now()
    rows = photo_service.store_photos(session, hazard=hazard, action="evaluate", photos=photos,
                                      uploaded_by_id=actor.id, at=now)
    append_event(session, hazard=hazard, action="evaluate", from_state=hazard.state,
                 to_state=hazard.state, actor=actor, at=now, note=fields.summary, photos=rows,
                 data={"kind": str(fields.kind),
                       "kind_label": EVALUATION_KIND_LABELS[fields.kind],
                       "evaluator": evaluator or None,
                       "review_due_on": str(now.astimezone(get_settings().tz).date()
                                            + timedelta(days=REVIEW_DAYS))})
    return hazard

