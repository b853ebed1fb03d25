"""延期申请: the enterprise asks with a reason, the supervising unit approves or refuses;
the deadline's history is kept on the timeline."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.duties import relations_to
from app.access.roles import require_role
from app.core.clock import Clock, local_today
from app.core.db import valid_id
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models import Assignment
from app.models.supervision import Extension
from app.services.hazards import photos as photo_service
from app.services.hazards.queries import visible_hazard
from app.services.hazards.timeline import append_event
from app.workflow.fields import DecisionFields, ExtensionFields, parse_fields
from app.workflow.states import RECTIFICATION_OPEN
from app.workflow.table import Relation


def request_extension(session: Session, *, actor: Actor, hazard_id: int, form: dict[str, Any],
                      uploads: list[photo_service.Upload], clock: Clock) -> Extension:
    hazard = visible_hazard(session, actor, hazard_id, for_update=True)
    require_role(actor, "extension_request")
    if hazard.state not in RECTIFICATION_OPEN or hazard.deadline is None:
        raise Conflict("只有整改中的隐患可以申请延期")
    if session.scalar(select(Extension.id).where(Extension.hazard_id == hazard.id,
                                                 Extension.status == "pending")):
        raise Conflict("已有待审批的延期申请")
    if Relation.rectifier not in relations_to(session, actor, hazard):
        raise Forbidden("只有负责整改的企业可以申请延期")
    photos, upload_error = photo_service.inspect_uploads(uploads)
    if upload_error is not None:
        raise upload_error
    fields, errors = parse_fields(ExtensionFields, form, today=local_today(clock))
    if errors:
        raise Unprocessable(errors)
    assert isinstance(fields, ExtensionFields)
    if fields.deadline <= hazard.deadline:
        raise Unprocessable([{"loc": ["body", "deadline"], "msg": "延期后的期限应晚于当前期限",
                              "type": "value_error"}])
    now = clock.now()
    extension = Extension(hazard_id=hazard.id, requested_by_id=actor.id, requested_at=now,
                          current_deadline=hazard.deadline, requested_deadline=fields.deadline,
                          reason=fields.reason, interim_measures=fields.interim_measures)
    session.add(extension)
    session.flush()
    rows = photo_service.store_photos(session, hazard=hazard, action="extension_request",
                                      photos=photos, uploaded_by_id=actor.id, at=now)
    append_event(session, hazard=hazard, action="extension_request", from_state=hazard.state,
                 to_state=hazard.state, actor=actor, at=now, note=fields.reason, photos=rows,
                 data={"extension_id": extension.id, "from": str(hazard.deadline),
                       "to": str(fields.deadline), "interim_measures": fields.interim_measures})
    return extension


def decide_extension(session: Session, *, actor: Actor, hazard_id: int, extension_id: int,
                     form: dict[str, Any], clock: Clock) -> Extension:
    hazard = visible_hazard(session, actor, hazard_id, for_update=True)
    require_role(actor, "extension_decision")
    extension = session.get(Extension, extension_id) if valid_id(extension_id) else None
    if extension is None or extension.hazard_id != hazard.id:
        raise NotFound("延期申请不存在")
    if extension.status != "pending":
        raise Conflict("该延期申请已处理")
    if Relation.supervisor not in relations_to(session, actor, hazard):
        raise Forbidden("只有监管单位可以审批延期")
    fields, errors = parse_fields(DecisionFields, form, today=local_today(clock))
    if fields is None:
        raise Unprocessable(errors)
    assert isinstance(fields, DecisionFields)
    decision = fields.decision.value
    now = clock.now()
    extension.status = "approved" if decision == "approve" else "refused"
    extension.decided_by_id, extension.decided_at = actor.id, now
    extension.decision_note = fields.note or None
    data: dict[str, Any] = {"extension_id": extension.id}
    if decision == "approve":
        data["deadline"] = {"from": str(hazard.deadline), "to": str(extension.requested_deadline)}
        hazard.deadline = extension.requested_deadline
        for assignment in session.scalars(select(Assignment).where(
                Assignment.hazard_id == hazard.id)):
            assignment.deadline = extension.requested_deadline
    append_event(session, hazard=hazard, action=f"extension_{decision}",
                 from_state=hazard.state, to_state=hazard.state, actor=actor, at=now,
                 note=extension.decision_note, data=data)
    return extension


def extensions_of(session: Session, *, actor: Actor, hazard_id: int) -> list[Extension]:
    visible_hazard(session, actor, hazard_id)
    return list(session.scalars(select(Extension).where(Extension.hazard_id == hazard_id)
                                .order_by(Extension.id)))
