"""举一反三: from one hazard, the committee or a supervising department sends check items to every
enterprise of an industry in a region subtree; each enterprise answers every item by the
deadline, like a check task; the sweep counts who answered, who is overdue, what was found."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import check_enterprises, hazard_visibility, statistics_region_paths
from app.core.clock import Clock, local_today
from app.core.db import valid_id
from app.core.errors import NotFound, OutOfScope, Unprocessable
from app.models import CheckTask, Enterprise, Hazard, Industry, Region, Sweep
from app.models.checks import TaskKind
from app.services.checks.schemas import SweepIn, SweepOut
from app.services.checks.tasks import ResultsForm, figures, issue_tasks, record_results
from app.services.hazards.queries import visible_hazard
from app.services.hazards.timeline import append_event
from app.workflow.fields import date_range


def _field_error(name: str, message: str) -> Unprocessable:
    return Unprocessable([{"loc": ["body", name], "msg": message, "type": "value_error"}])


def launch_sweep(session: Session, actor: Actor, hazard_id: int, body: SweepIn,
                 clock: Clock) -> Sweep:
    """The sweep, its tasks (one per enterprise reached, each with every item) and an event
    on the hazard's timeline (from_state = to_state), in one transaction."""
    hazard = visible_hazard(session, actor, hazard_id, for_update=True)
    require_role(actor, "sweep")
    today, now = local_today(clock), clock.now()
    earliest, latest = date_range(today, "deadline")
    if not earliest <= body.deadline <= latest:
        raise _field_error("deadline", f"完成期限应在 {earliest} 至 {latest} 之间")
    region = session.get(Region, body.region_id)
    reach = statistics_region_paths(session, actor)
    if region is None or not any(region.path.startswith(path) for path in reach):
        raise _field_error("region_id", "地区不存在或不在您的管辖范围内")
    if session.get(Industry, body.industry_id) is None:
        raise _field_error("industry_id", "行业不存在")
    targets = (select(Enterprise.id)
               .join(Region, Region.id == Enterprise.region_id)
               .where(Region.path.startswith(region.path, autoescape=True),
                      Enterprise.industry_id == body.industry_id,
                      Enterprise.id.in_(check_enterprises(actor))))
    if not session.scalar(select(func.count()).select_from(targets.subquery())):
        raise _field_error("region_id", "该地区没有您监管的该行业企业，举一反三没有对象")
    sweep = Sweep(hazard_id=hazard.id, region_id=region.id, industry_id=body.industry_id,
                  deadline=body.deadline, items=list(body.items), created_by_id=actor.id,
                  created_at=now)
    session.add(sweep)
    session.flush()
    issue_tasks(session, targets=targets.subquery(), kind=TaskKind.sweep,
                link=CheckTask.sweep_id, link_id=sweep.id, items=list(body.items),
                due_on=body.deadline, today=today, now=now)
    enterprises = session.scalar(select(func.count()).where(CheckTask.sweep_id == sweep.id))
    append_event(session, hazard=hazard, action="sweep", from_state=hazard.state,
                 to_state=hazard.state, actor=actor, at=now,
                 note=f"举一反三：{len(body.items)} 项排查内容，{enterprises} 家企业，"
                      f"期限 {body.deadline}",
                 data={"sweep_id": sweep.id, "region_id": region.id,
                       "industry_id": body.industry_id, "deadline": body.deadline,
                       "enterprises": enterprises, "items": list(body.items)})
    return sweep


def visible_sweep(session: Session, actor: Actor, sweep_id: int) -> Sweep:
    """A sweep is seen by who sees its hazard, and by the enterprises it went to."""
    sweep = session.get(Sweep, sweep_id) if valid_id(sweep_id) else None
    if sweep is not None:
        sees_hazard = session.scalar(select(Hazard.id).where(
            Hazard.id == sweep.hazard_id, hazard_visibility(actor)))
        if sees_hazard is not None or _own_task(session, actor, sweep.id) is not None:
            return sweep
        raise OutOfScope("举一反三不存在", object=f"sweep:{sweep.id}")
    raise NotFound("举一反三不存在")


def _own_task(session: Session, actor: Actor, sweep_id: int) -> CheckTask | None:
    return session.scalars(select(CheckTask).where(
        CheckTask.sweep_id == sweep_id, CheckTask.enterprise_id.in_(check_enterprises(actor)),
        CheckTask.enterprise_id == (actor.enterprise_id or -1))).first()


def sweep_out(session: Session, actor: Actor, sweep: Sweep, today: date) -> SweepOut:
    """The sweep's figures, counted over the enterprises the caller may see."""
    counted = figures(session, actor, CheckTask.sweep_id == sweep.id, today)
    return SweepOut(id=sweep.id, hazard_id=sweep.hazard_id, region_id=sweep.region_id,
                    industry_id=sweep.industry_id, deadline=sweep.deadline,
                    items=list(sweep.items), created_at=sweep.created_at,
                    enterprises=counted.enterprises, answered=counted.answered,
                    hazards_found=len(counted.hazard_ids), overdue=counted.overdue,
                    hazard_ids=counted.hazard_ids)


def answer_sweep(session: Session, actor: Actor, sweep_id: int, form: ResultsForm,
                 clock: Clock) -> CheckTask:
    """The enterprise answers its items of the sweep (as a check task's results)."""
    sweep = visible_sweep(session, actor, sweep_id)
    require_role(actor, "check_answer")
    own = _own_task(session, actor, sweep.id)
    if own is None:
        raise NotFound("您的企业不在此次举一反三的范围内")
    task = session.scalars(select(CheckTask).where(CheckTask.id == own.id)
                           .with_for_update(of=CheckTask)).one()
    enterprise = session.get(Enterprise, task.enterprise_id)
    assert enterprise is not None
    return record_results(session, actor, task, form, clock,
                          location=enterprise.address or enterprise.name)
