"""专项排查 and 部门检查.

A campaign: the committee or a department sends check items to a set of enterprises (named,
or every one of an industry in a region subtree), only those it supervises; each answers
like any check task by the deadline. An inspection: an inspector opens a task at one
enterprise with that enterprise's own check items (and any it adds) and records the results
itself on site; each 发现隐患 is reported by the inspector and may be assigned at once.
"""

from datetime import date

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import check_enterprises, statistics_region_paths
from app.core.clock import Clock, local_today
from app.core.db import valid_id
from app.core.errors import NotFound, Unprocessable
from app.models import (
    CheckCampaign,
    CheckItem,
    CheckTask,
    ControlMeasure,
    Enterprise,
    Industry,
    Region,
    RiskPoint,
)
from app.models.checks import TaskKind, TaskState
from app.services.checks.register import visible_enterprise
from app.services.checks.schemas import CampaignIn, CampaignOut, InspectionIn
from app.services.checks.tasks import MAX_RESULTS, figures, issue_tasks
from app.workflow.fields import date_range


def _field_error(name: str, message: str) -> Unprocessable:
    return Unprocessable([{"loc": ["body", name], "msg": message, "type": "value_error"}])


def _targets(session: Session, actor: Actor, body: CampaignIn) -> Select[tuple[int]]:
    """The enterprises the campaign goes to (a SELECT of ids), all within the issuer's reach;
    a named enterprise outside it, or a region outside it, is 422 saying which."""
    reach = check_enterprises(actor)
    if body.enterprise_ids is not None:
        wanted = set(body.enterprise_ids)
        seen = set(session.scalars(select(Enterprise.id).where(
            Enterprise.id.in_(wanted), Enterprise.id.in_(reach))))
        missing = sorted(wanted - seen)
        if missing:
            shown = "、".join(str(i) for i in missing[:10])
            raise _field_error("enterprise_ids", f"企业不存在或不在您的监管范围内：{shown}")
        return select(Enterprise.id).where(Enterprise.id.in_(wanted))
    region = session.get(Region, body.region_id)
    paths = statistics_region_paths(session, actor)
    if region is None or not any(region.path.startswith(path) for path in paths):
        raise _field_error("region_id", "地区不存在或不在您的管辖范围内")
    query = (select(Enterprise.id).join(Region, Region.id == Enterprise.region_id)
             .where(Region.path.startswith(region.path, autoescape=True),
                    Enterprise.id.in_(reach)))
    if body.industry_id is not None:
        if session.get(Industry, body.industry_id) is None:
            raise _field_error("industry_id", "行业不存在")
        query = query.where(Enterprise.industry_id == body.industry_id)
    return query


def launch_campaign(session: Session, actor: Actor, body: CampaignIn,
                    clock: Clock) -> CheckCampaign:
    """The campaign and one task per enterprise (every item), set-based, in one transaction;
    an empty set of enterprises is refused with the reason."""
    require_role(actor, "check_campaign")
    today, now = local_today(clock), clock.now()
    earliest, latest = date_range(today, "deadline")
    if not earliest <= body.deadline <= latest:
        raise _field_error("deadline", f"完成期限应在 {earliest} 至 {latest} 之间")
    targets = _targets(session, actor, body).subquery()
    if not session.scalar(select(func.count()).select_from(targets)):
        raise _field_error("region_id", "该范围内没有您监管的企业，专项排查没有对象")
    campaign = CheckCampaign(title=body.title, deadline=body.deadline, items=list(body.items),
                             created_by_id=actor.id, created_at=now)
    session.add(campaign)
    session.flush()
    issue_tasks(session, targets=targets, kind=TaskKind.campaign, link=CheckTask.campaign_id,
                link_id=campaign.id, items=list(body.items), due_on=body.deadline, today=today,
                now=now)
    return campaign


def visible_campaign(session: Session, actor: Actor, campaign_id: int) -> CheckCampaign:
    """Seen by whoever sees one of the enterprises it went to (its issuer among them)."""
    campaign = session.get(CheckCampaign, campaign_id) if valid_id(campaign_id) else None
    if campaign is not None and session.scalar(select(exists().where(
            CheckTask.campaign_id == campaign.id,
            CheckTask.enterprise_id.in_(check_enterprises(actor))))):
        return campaign
    raise NotFound("专项排查不存在")


def campaign_out(session: Session, actor: Actor, campaign: CheckCampaign,
                 today: date) -> CampaignOut:
    counted = figures(session, actor, CheckTask.campaign_id == campaign.id, today)
    return CampaignOut(id=campaign.id, title=campaign.title, deadline=campaign.deadline,
                       items=list(campaign.items), created_at=campaign.created_at,
                       enterprises=counted.enterprises, answered=counted.answered,
                       overdue=counted.overdue, hazards_found=len(counted.hazard_ids),
                       hazard_ids=counted.hazard_ids)


def open_inspection(session: Session, actor: Actor, enterprise_id: int, body: InspectionIn,
                    clock: Clock) -> CheckTask:
    """A task at the enterprise, due today, run by this inspector: the active check items of
    its risk points (all, or those named) and the items added."""
    visible_enterprise(session, actor, enterprise_id)
    require_role(actor, "inspect")
    query = (select(ControlMeasure.check_item, RiskPoint.id)
             .join(RiskPoint, RiskPoint.id == ControlMeasure.risk_point_id)
             .where(RiskPoint.enterprise_id == enterprise_id, ControlMeasure.active)
             .order_by(RiskPoint.id, ControlMeasure.id))
    if body.risk_point_ids is not None:
        wanted = set(body.risk_point_ids)
        own = set(session.scalars(select(RiskPoint.id).where(
            RiskPoint.id.in_(wanted), RiskPoint.enterprise_id == enterprise_id)))
        if wanted - own:
            raise _field_error("risk_point_ids", "不是该企业的风险点")
        query = query.where(RiskPoint.id.in_(wanted))
    contents = list(dict.fromkeys([row[0] for row in session.execute(query)]
                                  + list(body.items)))
    if not contents:
        raise _field_error("items", "该企业没有登记排查项目，请补充检查内容")
    if len(contents) > MAX_RESULTS:
        raise _field_error("risk_point_ids",
                           f"一次检查最多 {MAX_RESULTS} 项，请选择部分风险点")
    today, now = local_today(clock), clock.now()
    task = CheckTask(enterprise_id=enterprise_id, kind=TaskKind.inspection,
                     inspector_id=actor.id, period_start=today, due_on=today,
                     state=TaskState.due, created_at=now)
    task.items = [CheckItem(position=i, content=c) for i, c in enumerate(contents)]
    session.add(task)
    session.flush()
    return task


def inspectable_enterprises(session: Session, actor: Actor,
                            limit: int = 500) -> list[tuple[int, str]]:
    """(id, name) of the enterprises the inspector may inspect, by name: the page's choice."""
    return [(row[0], row[1]) for row in session.execute(
        select(Enterprise.id, Enterprise.name)
        .where(Enterprise.id.in_(check_enterprises(actor)))
        .order_by(Enterprise.name).limit(limit))]
