"""The committee's records: 约谈/通报 and 挂牌督办 (listed supervision) and its lifting.

A listed hazard cannot end (销号, 不予受理) before it is delisted here: the machine's
`delisted_first` guard refuses it from `Hazard.under_listing`, which is also what the board and
the hazard list count as listed.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.clock import Clock, local_today
from app.core.errors import Conflict, Unprocessable
from app.models import Hazard
from app.models.enums import HazardLevel
from app.models.supervision import SupervisionStep
from app.services.hazards.queries import visible_hazard
from app.services.hazards.timeline import append_event
from app.workflow.fields import (
    DelistingFields,
    InterviewFields,
    ListingFields,
    parse_fields,
)
from app.workflow.states import ENDED_STATES


def record_interview(session: Session, *, actor: Actor, hazard_id: int, form: dict[str, Any],
                     clock: Clock) -> Hazard:
    hazard = visible_hazard(session, actor, hazard_id, for_update=True)
    require_role(actor, "interview")
    fields, errors = parse_fields(InterviewFields, form, today=local_today(clock))
    if fields is None:
        raise Unprocessable(errors)
    assert isinstance(fields, InterviewFields)
    append_event(session, hazard=hazard, action="interview", from_state=hazard.state,
                 to_state=hazard.state, actor=actor, at=clock.now(), note=fields.note or None,
                 data={"kind": fields.kind.value, "document": fields.document})
    return hazard


def listable(session: Session, hazard: Hazard) -> bool:
    """挂牌督办 is for an open hazard that is major, or that the escalation ladder has taken to
    listing (a general hazard long overdue, ESCALATION_GENERAL); never for an ended one."""
    if hazard.state in ENDED_STATES:
        return False
    if hazard.level == HazardLevel.major:
        return True
    return session.scalar(select(SupervisionStep.id).where(
        SupervisionStep.hazard_id == hazard.id,
        SupervisionStep.kind == "escalate:listing").limit(1)) is not None


def list_hazard(session: Session, *, actor: Actor, hazard_id: int, form: dict[str, Any],
                clock: Clock) -> Hazard:
    hazard = visible_hazard(session, actor, hazard_id, for_update=True)
    require_role(actor, "listing")
    if hazard.listing is not None:
        raise Conflict("该隐患已挂牌督办")
    if not listable(session, hazard):
        raise Conflict("只有未办结的重大事故隐患，或超期升级至挂牌督办的隐患，可以挂牌督办")
    fields, _ = parse_fields(ListingFields, form, today=local_today(clock))
    if not isinstance(fields, ListingFields):
        raise Unprocessable([{"loc": ["body"], "type": "value_error",
                              "msg": "需填写挂牌级别 level（province/city/county）、"
                                     "督办机关 authority 和文号 document_number"}])
    now = clock.now()
    hazard.listing = {"level": str(fields.level), "authority": fields.authority,
                      "document_number": fields.document_number,
                      "listed_on": str(local_today(clock))}
    append_event(session, hazard=hazard, action="listing", from_state=hazard.state,
                 to_state=hazard.state, actor=actor, at=now, data=dict(hazard.listing))
    return hazard


def delist_hazard(session: Session, *, actor: Actor, hazard_id: int, form: dict[str, Any],
                  clock: Clock) -> Hazard:
    hazard = visible_hazard(session, actor, hazard_id, for_update=True)
    require_role(actor, "delisting")
    if hazard.listing is None:
        raise Conflict("该隐患未挂牌")
    fields, errors = parse_fields(DelistingFields, form, today=local_today(clock))
    if fields is None:
        raise Unprocessable(errors)
    assert isinstance(fields, DelistingFields)
    previous = dict(hazard.listing)
    hazard.listing = None
    append_event(session, hazard=hazard, action="delisting", from_state=hazard.state,
                 to_state=hazard.state, actor=actor, at=clock.now(), note=fields.note or None,
                 data={"listing": previous})
    return hazard
