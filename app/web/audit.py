"""The audit admin's page: the security audit log, searched and exported (docs/audit.md).

The same filters as GET /api/v1/audit-log (services/audit/search.AuditFilters); the CSV link
carries them, and `?format=csv` answers the same export as the API (recorded in the log).
"""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.http.deps import ClockDep, SessionDep
from app.http.downloads import audit_csv_response
from app.services.audit import search as service
from app.services.audit.log import AuditAction, AuditResult
from app.web.responses import page
from app.web.session import WebActorDep

router = APIRouter(include_in_schema=False)

# The page's words for the log's actions and results.
ACTION_LABELS: dict[str, str] = {
    AuditAction.login: "登录", AuditAction.login_failed: "登录失败", AuditAction.logout: "退出",
    AuditAction.password_change: "修改密码", AuditAction.password_reset: "重置密码",
    AuditAction.otp_enable: "启用双因素认证", AuditAction.otp_reset: "重置双因素认证",
    AuditAction.user_create: "新建用户", AuditAction.user_update: "修改用户",
    AuditAction.unlock: "解除锁定", AuditAction.region_create: "新建区域",
    AuditAction.region_update: "修改区域", AuditAction.unit_create: "新建单位",
    AuditAction.unit_update: "修改单位", AuditAction.enterprise_create: "新建企业",
    AuditAction.enterprise_update: "修改企业", AuditAction.export: "导出",
    AuditAction.refused: "拒绝访问", AuditAction.setting_change: "修改设置",
    AuditAction.audit_purge: "清理过期审计记录",
}
RESULT_LABELS: dict[str, str] = {AuditResult.success: "成功", AuditResult.failure: "失败",
                                 AuditResult.refused: "拒绝"}


@router.get("/audit-log")
def audit_log(request: Request, actor: WebActorDep, session: SessionDep, clock: ClockDep,
              filters: Annotated[service.AuditFilters, Query()]) -> Response:
    """安全审计日志: search form, newest first, a page at a time, CSV export."""
    if filters.format == service.AuditFormat.csv:
        return audit_csv_response(session, actor, filters, clock)
    entries, next_cursor = service.search(session, actor=actor, filters=filters, clock=clock)
    params = filters.params()
    more = (f"/audit-log?{urlencode({**params, 'limit': filters.limit, 'cursor': next_cursor})}"
            if next_cursor else None)
    return page(request, "audit_log.html", entries=entries, filters=filters, more=more,
                csv_url=f"/audit-log?{urlencode({**params, 'format': 'csv'})}",
                action_labels=ACTION_LABELS, result_labels=RESULT_LABELS)
