"""Use case: take an action on a hazard (交办, 签收, 整改完成, 验收, 抽查, 销号, ...).

The order of checks is the order of the contract's error statuses (docs/api.md):
visibility (404), role (403), state and version (409), duty (403), uploads (413/415),
evidence and fields (422). The transition, its effects, its event and its photos are written
in the caller's one transaction, so they commit together or not at all.
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.duties import relations_to
from app.access.roles import check_role, require_role
from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden
from app.models import Assignment, Enterprise, Event, Hazard, Region, SpotCheckPolicy
from app.models.enums import Duty, HazardLevel, PartyType
from app.services.audit.log import AuditAction, Who, record
from app.services.hazards import photos as photo_service
from app.services.hazards.queries import visible_hazard
from app.services.hazards.routing import supervising_units
from app.services.hazards.timeline import append_event
from app.services.org.regions import path_codes
from app.services.supervision import evaluation
from app.workflow import sampling
from app.workflow.deadlines import Deadline, add_days
from app.workflow.fields import (
    AssignFields,
    CloseFields,
    MajorAcceptFields,
    RejectFields,
    ReturnFields,
    SpotCheckFields,
    SubmitFields,
    VerifyFields,
    fields_model,
    parse_fields,
)
from app.workflow.machine import Attempt, fire
from app.workflow.states import ENDED_STATES, HazardState


class Step:
    """What one action changes besides the state: filled by the action's effect."""

    def __init__(self, note: str | None = None) -> None:
        self.note = note
        self.data: dict[str, Any] = {}
        self.follow_ups: list[Callable[[], None]] = []


def perform_action(
    session: Session,
    *,
    actor: Actor,
    hazard_id: int,
    action: str,
    form: dict[str, Any],
    uploads: list[photo_service.Upload],
    clock: Clock,
) -> Hazard:
    hazard = visible_hazard(session, actor, hazard_id, for_update=True)
    check_role(action, actor.role)
    _check_expected_version(hazard, form.get("expected_version"))
    today = local_today(clock)
    fields, field_errors = parse_fields(fields_model(action, hazard.level), form, today=today)
    photos, upload_error = photo_service.inspect_uploads(uploads)
    from_state = HazardState(hazard.state)
    new_state = fire(
        action,
        Attempt(
            state=from_state,
            relations=relations_to(session, actor, hazard),
            photo_count=len(uploads),
            spot_check_drawn=hazard.spot_check_drawn,
            listed=hazard.under_listing,
            evaluation_missing=(evaluation.needs_evaluation(hazard)
                                and evaluation.pending_evaluation(session, hazard) is None),
            upload_error=upload_error,
            field_errors=field_errors,
        ),
    )
    now = clock.now()
    step = EFFECTS[action](session, hazard, fields, actor, now)
    if action in ("verify", "return"):
        late = evaluation.review_lateness(session, hazard, now, get_settings().tz)
        if late is not None:
            step.data["review_late"] = late  # 复核超期, on record against the acting unit
    hazard.state = new_state
    hazard.updated_at = now
    if new_state in ENDED_STATES:
        hazard.ended_at = now  # the time of the close or reject event appended below
    rows = photo_service.store_photos(
        session, hazard=hazard, action=action, photos=photos, uploaded_by_id=actor.id, at=now
    )
    append_event(
        session,
        hazard=hazard,
        action=action,
        from_state=from_state,
        to_state=new_state,
        actor=actor,
        at=now,
        note=step.note,
        data=step.data,
        photos=rows,
    )
    for follow_up in step.follow_ups:
        follow_up()
    session.flush()
    return hazard


def _check_expected_version(hazard: Hazard, expected: Any) -> None:
    if expected in (None, ""):
        return
    try:
        stale = int(expected) != hazard.version
    except (TypeError, ValueError):
        return  # malformed: the field parser answers 422
    if stale:
        raise Conflict(f"隐患已被他人更新（当前版本 {hazard.version}），请刷新后重试")


# Effects: one function per action. They may add rows and schedule follow-up events.

Effect = Callable[[Session, Hazard, Any, Actor, datetime], Step]


def _assign(session: Session, hazard: Hazard, fields: AssignFields, actor: Actor,
            now: datetime) -> Step:
    enterprise = session.get_one(Enterprise, hazard.enterprise_id)
    units = supervising_units(session, enterprise, fields.supervising_unit_id)
    deadline = _assigned_deadline(fields, now)
    hazard.deadline_provisional = deadline.provisional
    parties = [(PartyType.enterprise, enterprise.id, Duty.rectify)] + [
        (PartyType.unit, unit.id, Duty.supervise) for unit in units
    ]
    for party_type, party_id, duty in parties:
        session.add(
            Assignment(hazard=hazard, party_type=party_type, party_id=party_id, duty=duty,
                       deadline=deadline.on, created_at=now)
        )
    hazard.deadline = deadline.on
    step = Step()
    step.data = {
        "deadline": deadline.on.isoformat(),
        "deadline_basis": {"days": fields.deadline_days, "unit": fields.deadline_unit,
                           "provisional": deadline.provisional} if fields.deadline_days else None,
        "assignments": [
            {"party_type": t, "party_id": i, "duty": d} for t, i, d in parties
        ],
    }
    return step


def _assigned_deadline(fields: AssignFields, now: datetime) -> Deadline:
    if fields.deadline is not None:
        return Deadline(fields.deadline, False)
    assert fields.deadline_days is not None
    today = now.astimezone(get_settings().tz).date()
    return add_days(today, fields.deadline_days, fields.deadline_unit)


def _reject(session: Session, hazard: Hazard, fields: RejectFields, actor: Actor,
            now: datetime) -> Step:
    return Step(fields.reason)


def _accept(session: Session, hazard: Hazard, fields: BaseModel, actor: Actor,
            now: datetime) -> Step:
    step = Step()
    if isinstance(fields, MajorAcceptFields):
        plan = {
            "owner": fields.plan_owner,
            "measures": fields.plan_measures,
            "funds": str(fields.plan_funds),
            "deadline": fields.plan_deadline.isoformat(),
            "contingency": fields.plan_contingency,
        }
        hazard.plan = plan
        step.data = {"plan": plan}
    return step


def _with_note(session: Session, hazard: Hazard,
               fields: SubmitFields | SpotCheckFields | CloseFields, actor: Actor,
               now: datetime) -> Step:
    return Step(fields.note)


def _verify(session: Session, hazard: Hazard, fields: VerifyFields, actor: Actor,
            now: datetime) -> Step:
    step = Step(fields.note)
    failed_before = session.scalar(
        select(Event.id).where(Event.hazard_id == hazard.id, Event.action == "spot_check_fail")
        .limit(1)
    ) is not None
    draw = sampling.draw(
        hazard_code=hazard.code,
        level=HazardLevel(hazard.level),
        rate=spot_check_rate(session, hazard),
        failed_before=failed_before,
    )
    hazard.spot_check_drawn = draw.drawn

    def record_draw() -> None:
        append_event(
            session, hazard=hazard, action="sample", from_state=HazardState.verified,
            to_state=HazardState.verified, actor=actor, at=now,
            note="抽中，待抽查" if draw.drawn else "未抽中，可直接销号", data=draw.as_data(),
        )

    step.follow_ups.append(record_draw)
    return step


def _return(session: Session, hazard: Hazard, fields: ReturnFields, actor: Actor,
            now: datetime) -> Step:
    step = Step(fields.reason)
    if fields.deadline is not None:
        step.data["deadline"] = _reset_deadline(hazard, fields.deadline)
    return step


def _spot_check_fail(session: Session, hazard: Hazard, fields: ReturnFields, actor: Actor,
                     now: datetime) -> Step:
    step = _return(session, hazard, fields, actor, now)
    verification = session.scalars(
        select(Event).where(Event.hazard_id == hazard.id, Event.action == "verify")
        .order_by(Event.seq.desc()).limit(1)
    ).first()
    if verification is not None:
        # 责任倒查: the failed verification stays on record against its verifier.
        step.data["failed_verification"] = {
            "event_id": verification.id,
            "verifier_id": verification.actor_id,
            "verifier_unit_id": verification.actor_unit_id,
            "verified_at": verification.at.isoformat(),
        }
    hazard.spot_check_drawn = None
    return step


def _close(session: Session, hazard: Hazard, fields: CloseFields, actor: Actor,
           now: datetime) -> Step:
    step = Step(fields.note)
    step.data["spot_checked"] = hazard.state == HazardState.spot_checked
    if hazard.state == HazardState.verified:
        step.data["closed_without_spot_check"] = "not drawn in the sample"
    return step


def _reset_deadline(hazard: Hazard, deadline: date) -> dict[str, str | None]:
    previous = hazard.deadline
    hazard.deadline = deadline
    for assignment in hazard.assignments:
        assignment.deadline = deadline
    return {"from": previous.isoformat() if previous else None, "to": deadline.isoformat()}


EFFECTS: dict[str, Effect] = {
    "assign": _assign,
    "reject": _reject,
    "accept": _accept,
    "submit": _with_note,
    "verify": _verify,
    "return": _return,
    "spot_check": _with_note,
    "spot_check_fail": _spot_check_fail,
    "close": _close,
}


def spot_check_rate(session: Session, hazard: Hazard) -> Decimal:
    """The rate set by the committee of the nearest region above the hazard, else the default."""
    region_path = session.scalar(select(Region.path).where(Region.id == hazard.region_id))
    policy = session.scalars(
        select(SpotCheckPolicy)
        .join(Region, Region.id == SpotCheckPolicy.region_id)
        .where(Region.code.in_(path_codes(region_path or "")))
        .order_by(Region.path.desc())
        .limit(1)
    ).first()
    if policy is not None:
        return Decimal(policy.rate)
    return Decimal(str(get_settings().default_spot_check_rate))


def set_spot_check_rate(
    session: Session, *, actor: Actor, rate: Decimal, at: datetime
) -> SpotCheckPolicy:
    """A committee sets the draw rate for general hazards in its own region."""
    require_role(actor, "spot_check_policy")
    if actor.region_id is None:
        raise Forbidden("该账号未设置所辖区域")
    policy = session.scalars(
        select(SpotCheckPolicy).where(SpotCheckPolicy.region_id == actor.region_id)
    ).first()
    before = None if policy is None else str(Decimal(policy.rate).normalize())
    if policy is None:
        policy = SpotCheckPolicy(region_id=actor.region_id)
        session.add(policy)
    policy.rate = rate
    policy.updated_by_id = actor.id
    policy.updated_at = at
    session.flush()
    record(session, who=Who.of_actor(actor), action=AuditAction.setting_change, at=at,
           object=f"spot_check_policy:{actor.region_id}",
           detail={"before": {"rate": before}, "after": {"rate": str(rate.normalize())}})
    return policy
