"""Reading the security audit log: the audit admin's search and its CSV export (docs/audit.md).

Entries come newest first, paged by keyset on seq (the cursor names the last seq shown). The
export writes every entry the filters select, in batches, to a spooled file while the
request's transaction is open; the export itself is an entry of the log, written in the same
transaction, so what was read and the record of reading it commit together.
"""

import csv
import io
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.clock import Clock, local_day_end, local_day_start
from app.core.config import get_settings
from app.core.cursors import decode_cursor, encode_cursor
from app.core.errors import Unprocessable
from app.core.schemas import NO_NUL
from app.models import AuditEntry
from app.services.audit.log import AuditAction, AuditResult, Who, record

MAX_LIMIT = 500
BATCH = 2000
CSV_COLUMNS = ("id", "at", "username", "role", "source_ip", "action", "object", "result",
               "request_id")
SPOOL_BYTES = 8 * 1024 * 1024


class AuditFormat(StrEnum):
    json = "json"
    csv = "csv"


class AuditFilters(BaseModel):
    """The query of GET /api/v1/audit-log and of the audit log page."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    from_: date | None = Field(None, alias="from", description="日期不早于（含，北京时间）")
    to: date | None = Field(None, description="日期不晚于（含，北京时间）")
    username: str | None = Field(None, max_length=64, pattern=NO_NUL, description="用户名")
    action: AuditAction | None = Field(None, description="操作类型")
    result: AuditResult | None = Field(None, description="结果")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, max_length=40)
    format: AuditFormat = Field(AuditFormat.json, description="csv：导出全部符合条件的记录")

    def params(self) -> dict[str, str]:
        """The filters that are set (not the page), as query parameters: the CSV link."""
        values = self.model_dump(mode="json", by_alias=True, exclude_none=True,
                                 exclude={"limit", "cursor", "format"})
        return {key: str(value) for key, value in values.items() if value != ""}


def _query(filters: AuditFilters) -> Select[tuple[AuditEntry]]:
    if filters.from_ and filters.to and filters.from_ > filters.to:
        raise Unprocessable([{"loc": ["query", "from"], "msg": "开始日期不能晚于结束日期",
                              "type": "value_error"}])
    query = select(AuditEntry).order_by(AuditEntry.seq.desc())
    if filters.from_ is not None:
        query = query.where(AuditEntry.at >= local_day_start(filters.from_))
    if filters.to is not None:
        query = query.where(AuditEntry.at < local_day_end(filters.to))
    if filters.username:
        query = query.where(AuditEntry.username == filters.username)
    if filters.action is not None:
        query = query.where(AuditEntry.action == str(filters.action))
    if filters.result is not None:
        query = query.where(AuditEntry.result == str(filters.result))
    return query


def search(session: Session, *, actor: Actor, filters: AuditFilters,
           clock: Clock) -> tuple[Sequence[AuditEntry], str | None]:
    """One page of entries, newest first, and the cursor of the next (None: the last)."""
    require_role(actor, "audit_log")
    query = _query(filters)
    if filters.cursor:
        query = query.where(AuditEntry.seq < decode_cursor(filters.cursor, "a"))
    rows = list(session.scalars(query.limit(filters.limit + 1)))
    more = len(rows) > filters.limit
    rows = rows[:filters.limit]
    return rows, encode_cursor(rows[-1].seq, "a") if more and rows else None


def csv_row(entry: Any) -> list[Any]:
    """An entry (row or model) as the CSV's columns; times in Asia/Shanghai."""
    at = entry.at.astimezone(get_settings().tz).isoformat(timespec="seconds")
    return [entry.seq, at, entry.username, entry.role or "", entry.source_ip or "",
            entry.action, entry.object, entry.result, entry.request_id or ""]


def export_csv(session: Session, *, actor: Actor, filters: AuditFilters,
               clock: Clock) -> IO[bytes]:
    """Every selected entry as CSV (UTF-8 with BOM, for Excel) in a spooled file, rewound;
    the export is recorded in the caller's transaction. The caller closes the file."""
    require_role(actor, "audit_log")
    query = _query(filters)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned)
    text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for entry in _batches(session, query):
        writer.writerow(csv_row(entry))
        count += 1
    text.flush()
    text.detach()
    record(session, who=Who.of_actor(actor), action=AuditAction.export, at=clock.now(),
           object="audit_log", detail={"format": "csv", "filters": filters.params(),
                                       "rows": count})
    spool.seek(0)
    return spool


def _batches(session: Session, query: Select[tuple[AuditEntry]]) -> Iterator[Row[Any]]:
    """Plain rows (not entities, which the session would keep), BATCH at a time by keyset:
    memory stays flat however many entries there are."""
    columns = query.with_only_columns(*AuditEntry.__table__.c)
    before: int | None = None
    while True:
        page = columns if before is None else columns.where(AuditEntry.seq < before)
        rows = list(session.execute(page.limit(BATCH)))
        yield from rows
        if len(rows) < BATCH:
            return
        before = rows[-1].seq


def export_file_name(at: datetime) -> str:
    return f"audit-log-{at.astimezone(get_settings().tz):%Y%m%d-%H%M%S}.csv"
