"""The transition table of the closed loop, as data.

One row per (action, source state). The same rows build the state machine, the permission
matrix in the tests and the diagram in the docs; change a rule here and all three follow.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.models.enums import Role
from app.workflow.states import HazardState as S


class Relation(StrEnum):
    """How the acting user stands to a hazard; each action requires one of these."""

    reporter = "reporter"  # may report for the hazard's enterprise
    router = "router"  # inspector whose unit supervises the enterprise; committee over its region
    rectifier = "rectifier"  # enterprise holding the hazard's rectify assignment
    supervisor = "supervisor"  # inspector whose unit holds a supervise assignment
    overseer = "overseer"  # committee whose region contains the hazard


@dataclass(frozen=True)
class Rule:
    action: str
    source: S | None  # None: the hazard is created by this action
    dest: S
    roles: frozenset[Role]
    party: Relation
    evidence: bool  # at least one photo is required
    only_if_not_drawn: bool = False  # close without a spot-check
    needs_evaluation: bool = False  # a listed major hazard is evaluated (评估) first


def _rule(action: str, source: S | None, dest: S, roles: set[Role], party: Relation,
          evidence: bool = False, only_if_not_drawn: bool = False,
          needs_evaluation: bool = False) -> Rule:
    return Rule(action, source, dest, frozenset(roles), party, evidence, only_if_not_drawn,
                needs_evaluation)


ENT, INSP, COMM = Role.enterprise, Role.inspector, Role.committee

RULES: tuple[Rule, ...] = (
    _rule("report", None, S.reported, {ENT, INSP, COMM}, Relation.reporter, evidence=True),
    _rule("assign", S.reported, S.assigned, {INSP, COMM}, Relation.router),
    _rule("reject", S.reported, S.rejected, {INSP, COMM}, Relation.router),
    _rule("accept", S.assigned, S.rectifying, {ENT}, Relation.rectifier),
    _rule("submit", S.rectifying, S.rectified, {ENT}, Relation.rectifier, evidence=True),
    _rule("verify", S.rectified, S.verified, {INSP}, Relation.supervisor, evidence=True,
          needs_evaluation=True),
    _rule("return", S.rectified, S.rectifying, {INSP}, Relation.supervisor, evidence=True),
    _rule("spot_check", S.verified, S.spot_checked, {COMM}, Relation.overseer, evidence=True),
    _rule("spot_check_fail", S.verified, S.rectifying, {COMM}, Relation.overseer, evidence=True),
    _rule("close", S.spot_checked, S.closed, {COMM}, Relation.overseer),
    _rule("close", S.verified, S.closed, {COMM}, Relation.overseer, only_if_not_drawn=True),
)

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(rule.action for rule in RULES))
TRANSITION_ACTIONS: tuple[str, ...] = tuple(a for a in ACTIONS if a != "report")


def roles_for(action: str) -> frozenset[Role]:
    """Roles that may ever take ``action`` (whatever the state)."""
    return frozenset().union(*(rule.roles for rule in RULES if rule.action == action))


def rule_for(action: str, source: S | None) -> Rule | None:
    return next((r for r in RULES if r.action == action and r.source == source), None)


ACTION_LABELS: dict[str, str] = {
    "report": "上报",
    "assign": "交办",
    "reject": "不予受理",
    "accept": "签收整改",
    "submit": "整改完成",
    "verify": "验收通过",
    "return": "验收不通过",
    "spot_check": "抽查通过",
    "spot_check_fail": "抽查不通过",
    "close": "销号",
    # Events that record something without moving the hazard.
    "sample": "抽查抽签",
    "remind": "临期提醒",
    "supervision_notice": "超期督办",
    "escalate": "升级督办",
    "notice_ack": "签收督办单",
    "extension_request": "延期申请",
    "extension_approve": "同意延期",
    "extension_refuse": "不同意延期",
    "extension_decision": "延期审批",
    "spot_check_policy": "设置抽查比例",
    "criteria_import": "导入判定标准",
    "webhooks": "管理 Webhook",
    "onboarding_import": "初始化导入",
    "quarterly_filing": "上报季度统计",
    "quarterly_rollup": "按单位或区域汇总季度统计",
    "board": "查看动态清零看板",
    "ranking": "查看乡镇排名",
    "interview": "约谈/通报",
    "listing": "挂牌督办",
    "delisting": "摘牌",
    "evaluate": "整改评估",
    "review_overdue": "复核超期",
    "deadline_recomputed": "期限重算",
    "risk_register_edit": "编辑风险点",
    "check_answer": "记录排查结果",
    "sweep": "举一反三",
    "check_campaign": "下发专项排查",
    "inspect": "部门检查",
    "exchange_export": "导出省级平台交换数据",
    "audit_log": "查看安全审计日志",
}

STATE_LABELS: dict[S, str] = {
    S.reported: "已上报",
    S.assigned: "已交办",
    S.rectifying: "整改中",
    S.rectified: "待验收",
    S.verified: "已验收",
    S.spot_checked: "已抽查",
    S.closed: "已销号",
    S.rejected: "不予受理",
}


# Who acted, and how grave: the words users see (the timeline's "system" is the worker).
ROLE_LABELS: dict[str, str] = {
    Role.enterprise: "企业", Role.inspector: "监管人员", Role.committee: "安委办",
    Role.admin: "管理员", Role.security_admin: "安全管理员", Role.audit_admin: "审计管理员",
    "system": "系统",
}
LEVEL_LABELS: dict[str, str] = {"general": "一般", "major": "重大"}


def mermaid_diagram() -> str:
    """The state diagram for the docs, rendered from the same rows as the machine."""
    lines = ["stateDiagram-v2", "    [*] --> reported: report 上报"]
    for rule in RULES:
        if rule.source is not None:
            label = f"{rule.action} {ACTION_LABELS[rule.action]}"
            lines.append(f"    {rule.source} --> {rule.dest}: {label}")
    lines += ["    closed --> [*]", "    rejected --> [*]"]
    return "\n".join(lines)

