"""The security audit log for the audit admin: search and CSV export (docs/audit.md)."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import LocalDateTime
from app.http.deps import ActorDep, ClockDep, SessionDep
from app.http.downloads import audit_csv_response
from app.http.openapi import errors
from app.services.audit import search as service

router = APIRouter(tags=["audit"])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(validation_alias="seq", description="记录序号（链上的位置）")
    at: LocalDateTime
    username: str
    role: str | None
    source_ip: str | None
    action: str
    object: str
    result: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


@router.get("/audit-log", response_model=AuditPage, responses={
    **errors(401, 403, 422),
    200: {"description": "审计记录（JSON，或 format=csv 时为 CSV 附件）",
          "content": {"text/csv": {"schema": {"type": "string"}}}}})
def audit_log(filters: Annotated[service.AuditFilters, Query()], actor: ActorDep,
              session: SessionDep, clock: ClockDep) -> AuditPage | Response:
    """安全审计日志（仅审计管理员）: newest first; `format=csv` exports every entry the filters
    select (the export is itself recorded)."""
    if filters.format == service.AuditFormat.csv:
        return audit_csv_response(session, actor, filters, clock)
    entries, next_cursor = service.search(session, actor=actor, filters=filters, clock=clock)
    return AuditPage(items=[AuditEntryOut.model_validate(e) for e in entries],
                     next_cursor=next_cursor)
