"""上报: a hazard created in `reported` with its scene photos and first timeline event."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import check_may_report
from app.access.scopes import enterprise_in_scope
from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.db import valid_id
from app.core.errors import Unprocessable
from app.models import Enterprise, Hazard, HazardCounter, Region
from app.models.enums import RegionLevel
from app.services.criteria.catalogue import get_active_criterion
from app.services.hazards import photos as photo_service
from app.services.hazards.sequences import next_number
from app.services.hazards.timeline import append_event
from app.services.org.regions import ancestor_at_level
from app.workflow.fields import ReportFields, parse_fields
from app.workflow.machine import Attempt, check_report
from app.workflow.states import HazardState
from app.workflow.table import Relation


def _next_code(session: Session, county: Region, year: int) -> str:
    """YH-<6-digit county code>-<year>-<seq>, the sequence counted per county and year."""
    county_code = county.code[:6]
    return f"YH-{county_code}-{year}-{next_number(session, HazardCounter, county_code, year):05d}"


def reporting_enterprise(
    session: Session, actor: Actor, enterprise_id: Any, field_errors: list[dict[str, Any]]
) -> Enterprise | None:
    """The enterprise reported for, when the actor may report for it.

    One answer, 422 on the field, for an enterprise that does not exist and for one outside
    the actor's reach: a 403 for the second would tell a caller which ids are real.
    """
    if actor.enterprise_id is not None and enterprise_id in (None, ""):
        enterprise_id = actor.enterprise_id
    if enterprise_id in (None, ""):
        field_errors.append(
            {"loc": ["body", "enterprise_id"], "msg": "请选择隐患所在企业", "type": "missing"}
        )
        return None
    try:
        wanted = int(enterprise_id)
    except (TypeError, ValueError):
        return None  # the field parser reports the malformed id
    enterprise = session.get(Enterprise, wanted) if valid_id(wanted) else None
    if enterprise is None or not enterprise_in_scope(session, actor, enterprise):
        field_errors.append({"loc": ["body", "enterprise_id"], "type": "value_error",
                             "msg": UNKNOWN_ENTERPRISE})
        return None
    return enterprise


UNKNOWN_ENTERPRISE = "企业不存在或不在您的上报范围内"


def report_hazard(
    session: Session,
    *,
    actor: Actor,
    form: dict[str, Any],
    uploads: list[photo_service.Upload],
    clock: Clock,
) -> Hazard:
    """上报: create a hazard in `reported` with its scene photos and first timeline event."""
    check_may_report(actor.role)
    now = clock.now()
    parsed, field_errors = parse_fields(ReportFields, form, today=local_today(clock))
    enterprise = reporting_enterprise(session, actor, form.get("enterprise_id"), field_errors)
    # An enterprise out of reach is a field error above (422), like one that does not exist.
    relations = frozenset({Relation.reporter})
    photos, upload_error = photo_service.inspect_uploads(uploads)
    check_report(
        Attempt(
            state="",
            relations=relations,
            photo_count=len(uploads),
            upload_error=upload_error,
            field_errors=field_errors,
        )
    )
    assert isinstance(parsed, ReportFields) and enterprise is not None
    hazard = create_reported(session, actor=actor, parsed=parsed, enterprise=enterprise,
                             at=now)
    rows = photo_service.store_photos(
        session, hazard=hazard, action="report", photos=photos, uploaded_by_id=actor.id, at=now
    )
    append_event(
        session,
        hazard=hazard,
        action="report",
        from_state=None,
        to_state=HazardState.reported,
        actor=actor,
        at=now,
        note=parsed.description,
        data={"level": parsed.level, "title": parsed.title, "location": parsed.location,
              "major_clause": parsed.major_clause, "criterion_id": parsed.criterion_id,
              **({"major_basis": parsed.major_basis} if parsed.major_basis else {}),
              "enterprise_id": enterprise.id},
        photos=rows,
    )
    return hazard


def create_reported(session: Session, *, actor: Actor, parsed: ReportFields,
                    enterprise: Enterprise, at: datetime, source: str = "report",
                    tip_id: int | None = None) -> Hazard:
    """The hazard row in `reported`, numbered in its county (a report, or a converted tip)."""
    now = at
    if parsed.criterion_id is not None and get_active_criterion(session,
                                                                parsed.criterion_id) is None:
        raise Unprocessable([{"loc": ["body", "criterion_id"], "type": "value_error",
                              "msg": "判定标准条目不存在或已被新文本取代"}])
    county = ancestor_at_level(session, enterprise.region, RegionLevel.county)
    if county is None:
        raise Unprocessable("企业所在乡镇未挂在任何县级行政区下，无法编号")
    hazard = Hazard(
        code=_next_code(session, county, now.astimezone(get_settings().tz).year),
        state=HazardState.reported,
        level=parsed.level,
        title=parsed.title,
        description=parsed.description,
        location=parsed.location,
        category=parsed.category or None,
        major_clause=parsed.stated_basis(),
        criterion_id=parsed.criterion_id,
        lat=parsed.lat,
        lon=parsed.lon,
        enterprise_id=enterprise.id,
        region_id=enterprise.region_id,
        reported_by_id=actor.id,
        reporter_role=actor.role,
        reported_at=now,
        updated_at=now,
        source=source,
        tip_id=tip_id,
    )
    session.add(hazard)
    session.flush()
    return hazard
