"""The pages' words: field names in messages, action hints and queue names, in one catalogue.

The forms' fields and their words are declared on the field models (app/workflow/fields.py,
built into forms by app/web/forms.py).

State, action, role and level labels come from app/workflow/table.py (shared with the API,
the dossier and the ledger); this catalogue holds only what the pages add.
"""

from app.workflow.fields import LISTING_LEVEL_LABELS
from app.workflow.states import HazardState
from app.workflow.table import ACTION_LABELS, rule_for

FIELD_LABELS: dict[str, str] = {
    "title": "隐患名称",
    "description": "隐患描述",
    "location": "所在位置",
    "level": "隐患等级",
    "category": "隐患类别",
    "major_clause": "重大隐患判定依据",
    "major_basis": "经评估认定的依据",
    "enterprise_id": "所在企业",
    "photos": "照片",
    "deadline": "整改期限",
    "deadline_days": "整改期限（天数）",
    "supervising_unit_id": "监管单位",
    "reason": "原因",
    "note": "说明",
    "plan_owner": "责任人",
    "plan_measures": "整改措施",
    "plan_funds": "整改资金（元）",
    "plan_deadline": "整改时限",
    "plan_contingency": "应急预案",
    "interim_measures": "临时管控措施",
    "decision": "审批结果",
    "authority": "督办机关",
    "document_number": "督办文号",
    "expected_version": "版本",
    "kind": "评估方式",
    "summary": "评估结论",
    "evaluator": "评估机构",
    "phone": "联系电话",
    "enterprise_name": "企业名称",
    "region_id": "所在乡镇（街道）",
    "lat": "纬度",
    "lon": "经度",
    "username": "用户名",
    "password": "密码",
    "current_password": "当前密码",
    "new_password": "新密码",
    "otp": "动态口令",
}

ACTION_HINTS: dict[str, str] = {
    "accept": "签收后即进入整改，请按期完成整改并上传整改后照片。",
    "submit": "请拍摄整改后的现场照片（原图上传，不压缩）。",
    "verify": "请到现场核实，拍摄验收照片。",
    "return": "请拍摄现场照片，说明不通过的原因。",
    "spot_check": "请到现场抽查，拍摄抽查照片。",
    "spot_check_fail": "抽查不通过将退回企业重新整改，原验收记录留档备查（责任倒查）。",
    "close": "销号后该隐患闭环结束。",
}

# The words of a listing's level, for the hazard page's badge.
LISTING_LEVELS = LISTING_LEVEL_LABELS

LEVEL_CHOICES = {"general": "一般事故隐患", "major": "重大事故隐患"}

QUEUE_LABELS: dict[str, str] = {
    # enterprise
    "overdue": "超期",
    "returned": "被退回",
    "to_accept": "待签收",
    "rectifying": "整改中",
    "waiting": "等待监管部门处理",
    # inspector
    "to_assign": "待交办",
    "to_verify": "待验收",
    # committee
    "to_spot_check": "待抽查",
    "to_close": "待销号",
    "major_open": "未销号的重大隐患",
}

QUEUE_EMPTY: dict[str, str] = {
    "overdue": "没有超期的隐患。",
    "returned": "没有被退回的隐患。",
    "to_accept": "没有待签收的隐患。",
    "rectifying": "没有整改中的隐患。",
    "waiting": "没有等待处理的隐患。",
    "to_assign": "没有待交办的隐患。",
    "to_verify": "没有待验收的隐患。",
    "to_spot_check": "没有待抽查的隐患。",
    "to_close": "没有待销号的隐患。",
    "major_open": "没有未销号的重大隐患。",
}

DRAW_REASONS = {"major": "重大隐患必抽", "previous_failure": "曾抽查不通过，必抽",
                "rate": "按比例随机抽取"}

EXTENSION_STATUS = {"pending": "待审批", "approved": "已同意", "refused": "不同意"}

EVIDENCE_HINT = "可拍照或从相册选择，可多张；照片原图上传，作为证据留存。"


def action_title(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def needs_photos(action: str, state: HazardState) -> bool:
    rule = rule_for(action, state)
    return bool(rule and rule.evidence)
