"""The roles of every action, and every question a caller asks about a role.

The loop's actions name their roles in the transition table (app/workflow/table.py: one row
per action and state); the actions outside the machine name theirs in `SIDE_ACTION_ROLES`
below. Every comparison of a role with another lives in this package: services raise on its
refusals, routers and pages read its answers (tests/test_access_rules.py enforces it).
"""

from enum import StrEnum

from app.access.actor import Actor
from app.core.config import get_settings
from app.core.errors import Forbidden, NotFound
from app.models.enums import PartyType, Role
from app.workflow.states import HazardState
from app.workflow.table import ACTION_LABELS, RULES, TRANSITION_ACTIONS, Relation, roles_for

# Actions outside the state machine (records on a hazard, settings, administration) and the
# roles that may take them.
SIDE_ACTION_ROLES: dict[str, frozenset[Role]] = {
    "extension_request": frozenset({Role.enterprise}),
    "extension_decision": frozenset({Role.inspector}),
    "interview": frozenset({Role.committee}),  # 约谈/通报
    "listing": frozenset({Role.committee}),  # 挂牌督办
    "delisting": frozenset({Role.committee}),  # 摘牌
    # Only a notice's recipients acknowledge; the committee reads notices on the timeline.
    "notice_ack": frozenset({Role.enterprise, Role.inspector}),
    "evaluate": frozenset({Role.enterprise}),  # 评估 before review of a listed major hazard
    "spot_check_policy": frozenset({Role.committee}),  # the draw rate for its region
    "criteria_import": frozenset({Role.admin}),  # the catalogue is shared by every region
    "webhooks": frozenset({Role.admin}),  # subscriptions of the admin's region
    "onboarding_import": frozenset({Role.admin}),  # regions, units, enterprises, users
    # 季度统计: an enterprise files its own, an inspector its unit's (2007 rules, art. 14).
    "quarterly_filing": frozenset({Role.enterprise, Role.inspector}),
    # Quarterly figures rolled up by unit or region; an enterprise user sees only its own row.
    "quarterly_rollup": frozenset({Role.inspector, Role.committee, Role.admin}),
    # The committee's figures. The board counts only what the caller may see, so an
    # inspector may look at its own scope; the ranking compares townships, which only the
    # county's committee (and admin) oversee. Enterprises see neither.
    "board": frozenset({Role.committee, Role.admin, Role.inspector}),  # 动态清零看板
    "ranking": frozenset({Role.committee, Role.admin}),  # 亮晒排名
    # 督办单: recipients list theirs, a committee or admin its region's.
    "notices": frozenset({Role.enterprise, Role.inspector, Role.committee, Role.admin}),
    # 风险分级管控: an enterprise keeps its own register; its supervising units and the
    # committee read it (visibility: scopes.check_enterprises).
    "risk_register_edit": frozenset({Role.enterprise}),
    # 排查任务 and 举一反三 answers: the enterprise records its own checks.
    "check_answer": frozenset({Role.enterprise}),
    # 举一反三: the committee or a supervising department launches a sweep from a hazard.
    "sweep": frozenset({Role.committee, Role.inspector}),
    # 专项排查: the committee or a department sends check items to a set of enterprises.
    "check_campaign": frozenset({Role.committee, Role.inspector}),
    # 部门检查: an inspector runs the enterprise's items on site and records what it finds.
    "inspect": frozenset({Role.inspector}),
    # Exchange with provincial platforms: a county's (or city's) committee or admin exports
    # its region's day.
    "exchange_export": frozenset({Role.committee, Role.admin}),
    # 群众举报: the county's committee handles tips, an inspector those routed to its unit
    # (visibility: scopes.tip_visibility); the committee alone decides rewards.
    "tip_triage": frozenset({Role.committee, Role.inspector}),
    "tip_reward": frozenset({Role.committee}),
    # 三员分立: the security admin resets a user's second factor (a lost phone).
    "otp_reset": frozenset({Role.security_admin}),
    # Administration (docs/admin.md). 三员分立: the system admin keeps the organisation
    # (regions, units, enterprises) and the ordinary accounts; the security admin the
    # security and audit admins' accounts, and deactivation and unlocking of anyone; the
    # audit admin none of it. Which accounts each may change: app/access/admin.py.
    "org_admin": frozenset({Role.admin}),
    "user_admin": frozenset({Role.admin, Role.security_admin}),
    "user_deactivate": frozenset({Role.admin, Role.security_admin}),
    "user_unlock": frozenset({Role.admin, Role.security_admin}),
    # 安全审计: the audit admin alone reads and exports the security audit log (三员分立).
    "audit_log": frozenset({Role.audit_admin}),
}


class Scope(StrEnum):
    """What a user's account is bound to: the fact its visibility is computed from."""

    enterprise = "enterprise"
    unit = "unit"
    region = "region"


ROLE_SCOPES: dict[Role, Scope] = {
    Role.enterprise: Scope.enterprise,
    Role.inspector: Scope.unit,
    Role.committee: Scope.region,
    Role.admin: Scope.region,
    Role.security_admin: Scope.region,
    Role.audit_admin: Scope.region,
}


def scope_of(role: Role | str | None) -> Scope | None:
    """The scope an account of this role is bound to (onboarding asks); None for no role."""
    return ROLE_SCOPES[Role(role)] if role is not None else None


def may(actor: Actor, action: str) -> bool:
    """May the actor's role ever take this action (a loop or a side action)?"""
    if action in SIDE_ACTION_ROLES:
        return actor.role in SIDE_ACTION_ROLES[action]
    return actor.role in roles_for(action)


def require_role(actor: Actor, action: str) -> None:
    """403 unless the actor's role may take this action outside the state machine."""
    if actor.role not in SIDE_ACTION_ROLES[action]:
        raise Forbidden(f"您的角色不能进行「{ACTION_LABELS.get(action, action)}」操作")


def require_task_answerer(actor: Actor, inspector_id: int | None) -> None:
    """Who records a task's results: the enterprise its own checks; an inspection (部门检查)
    only the inspector who runs it (403 for anyone else who may see it)."""
    if inspector_id is None:
        require_role(actor, "check_answer")
        return
    require_role(actor, "inspect")
    if actor.id != inspector_id:
        raise Forbidden("只有开展该次检查的监管人员可以记录检查结果")


def may_answer_task(actor: Actor, inspector_id: int | None) -> bool:
    """The same rule as require_task_answerer, asked by a page (its answer form)."""
    if inspector_id is None:
        return may(actor, "check_answer")
    return may(actor, "inspect") and actor.id == inspector_id


def check_role(action: str, role: Role) -> None:
    """404 for an action the loop does not know; 403 when the role may never take it,
    whatever the hazard's state (checked before the machine looks at the state)."""
    if action not in TRANSITION_ACTIONS:
        raise NotFound(f"未知操作: {action}")
    if role not in roles_for(action):
        raise Forbidden(f"您的角色不能进行「{ACTION_LABELS[action]}」操作")


def check_may_report(role: Role) -> None:
    if role not in roles_for("report"):
        raise Forbidden("您的角色不能上报隐患")


def open_actions(state: HazardState, role: Role, relations: frozenset[Relation],
                 spot_check_drawn: bool | None) -> tuple[str, ...]:
    """The loop's actions this user may take on a hazard in this state (the page's buttons).

    The same rows the machine fires; evidence and fields are checked when the form is sent.
    """
    return tuple(dict.fromkeys(
        rule.action for rule in RULES
        if rule.source == state and role in rule.roles and rule.party in relations
        and not (rule.only_if_not_drawn and spot_check_drawn is not False)
    ))


def otp_required_for(role: Role | str) -> bool:
    """Must accounts of this role log in with a second factor (OTP_REQUIRED_ROLES)?"""
    return str(role) in get_settings().otp_required_role_names


def otp_enrolment_due(actor: Actor) -> bool:
    """The actor's role needs a second factor and the actor has none yet: its token or page
    session opens only the account's own pages until it enrols (docs/accounts.md)."""
    return not actor.otp_enabled and otp_required_for(actor.role)


def is_enterprise_user(actor: Actor) -> bool:
    return actor.role == Role.enterprise


def is_region_scoped(actor: Actor) -> bool:
    """A committee or admin: answers for a region subtree (its `region_path`)."""
    return actor.role in (Role.committee, Role.admin) and actor.region_path is not None


def unit_of(actor: Actor) -> int | None:
    """The inspector's unit (None for every other role)."""
    return actor.unit_id if actor.role == Role.inspector else None


def party_of(actor: Actor) -> tuple[PartyType, int] | None:
    """The party the actor acts for: an enterprise user's enterprise, an inspector's unit."""
    if actor.role == Role.enterprise and actor.enterprise_id is not None:
        return PartyType.enterprise, actor.enterprise_id
    if actor.role == Role.inspector and actor.unit_id is not None:
        return PartyType.unit, actor.unit_id
    return None


def inbox_of(actor: Actor) -> tuple[str, int] | None:
    """Whose inbox the actor reads: its enterprise's, its unit's, or its committee's region."""
    party = party_of(actor)
    if party is not None:
        return str(party[0]), party[1]
    if actor.role == Role.committee and actor.region_id is not None:
        return "region", actor.region_id
    return None


def navigation(actor: Actor) -> dict[str, bool]:
    """The links of the page's menu, from the same rules the endpoints apply."""
    return {
        "may_report": may(actor, "report"),
        "may_see_notices": may(actor, "notices"),
        "may_see_board": may(actor, "board"),
        "may_see_ranking": may(actor, "ranking"),
        "may_triage_tips": may(actor, "tip_triage"),
        "may_admin_org": may(actor, "org_admin"),
        "may_admin_users": may(actor, "user_admin"),
        "may_see_audit_log": may(actor, "audit_log"),
    }
