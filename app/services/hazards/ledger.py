"""隐患台账: the hazard ledger, exported as XLSX or CSV with the hazard list's filters and scope.

Rows are read from the database in batches (``yield_per``) and written to a file as they
arrive, so memory stays flat however many hazards match: the CSV directly; for the XLSX the
rows are first spooled (`spool_rows`), so that openpyxl, ten times slower than the read, can
write the workbook after the request's transaction has ended (see app/api/ledger.py).
"""

import codecs
import csv
import io
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased, load_only, raiseload

from app.access.actor import Actor
from app.core.clock import Clock, local_today
from app.core.config import get_settings
from app.core.errors import Unprocessable
from app.models import Enterprise, Event, Hazard, Industry, Region
from app.services.hazards.filters import HazardFilters
from app.services.hazards.queries import filtered_query
from app.workflow.deadlines import is_overdue
from app.workflow.states import HazardState
from app.workflow.table import LEVEL_LABELS, ROLE_LABELS, STATE_LABELS

if TYPE_CHECKING:  # openpyxl's private module: for the annotation only
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

BATCH = 1000  # rows fetched per round trip (a server-side cursor on PostgreSQL)


class LedgerFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


MEDIA_TYPES: dict[LedgerFormat, str] = {
    LedgerFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    LedgerFormat.csv: "text/csv; charset=utf-8",
}

# The ledger's strings, in one place.
FILE_STEM = "隐患台账"
ASCII_FILE_STEM = "hazard-ledger"
SHEET_TITLE = "隐患台账"
# (header, column width in the XLSX), in column order.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("隐患编号", 22),
    ("隐患名称", 30),
    ("隐患等级", 9),
    ("状态", 10),
    ("企业名称", 28),
    ("统一社会信用代码", 21),
    ("所属乡镇", 12),
    ("行业", 10),
    ("隐患位置", 24),
    ("上报时间", 17),
    ("上报人角色", 10),
    ("整改期限", 12),
    ("是否超期", 9),
    ("判定依据", 30),
    ("销号时间", 17),
    ("整改资金（元）", 14),
)
HEADERS: tuple[str, ...] = tuple(header for header, _ in COLUMNS)
YES, NO = "是", "否"
TOO_MANY_ROWS = "超过 Excel 的行数上限，请缩小筛选范围或导出 CSV"

# Excel's last row is 1,048,576; one is the header.
XLSX_MAX_ROWS = 1_048_575
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
XLSX_MONEY_FORMAT = "#,##0.00"
# OWASP "CSV injection": a cell starting with one of these is taken for a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Value = str | date | datetime | Decimal | None


def ledger_query(actor: Actor, filters: HazardFilters, today: date) -> Select[Any]:
    """The list's query (same filters, same scope) joined with what the ledger shows.

    The joined tables are aliases so that they can never be correlated into the scope and
    filter subqueries, which select from the same tables.
    """
    enterprise, township, industry = aliased(Enterprise), aliased(Region), aliased(Industry)
    closed_at = (
        select(func.max(Event.at))
        .where(Event.hazard_id == Hazard.id, Event.action == "close")
        .correlate(Hazard)
        .scalar_subquery()
    )
    return (
        filtered_query(actor, filters, today)
        .join(enterprise, enterprise.id == Hazard.enterprise_id)
        .join(township, township.id == Hazard.region_id)
        .join(industry, industry.id == enterprise.industry_id)
        .add_columns(
            enterprise.name,
            enterprise.uscc,
            township.name,
            industry.name,
            case((Hazard.state == HazardState.closed, closed_at), else_=None),
        )
        .options(
            load_only(
                Hazard.code, Hazard.title, Hazard.level, Hazard.state, Hazard.location,
                Hazard.reported_at, Hazard.reporter_role, Hazard.deadline, Hazard.major_clause,
                Hazard.plan,
            ),
            raiseload("*"),  # a lazy load here would be one query per row
        )
        .order_by(Hazard.id)
    )


def ledger_rows(
    session: Session, *, actor: Actor, filters: HazardFilters, clock: Clock
) -> Iterator[tuple[Value, ...]]:
    """The ledger's rows in report order, read from the database batch by batch."""
    today, tz = local_today(clock), get_settings().tz
    query = ledger_query(actor, filters, today).execution_options(yield_per=BATCH)
    for row in session.execute(query):
        yield row_values(row, today=today, tz=tz)


def row_values(row: Sequence[Any], *, today: date, tz: tzinfo) -> tuple[Value, ...]:
    """One row of `ledger_query` as the ledger's typed values, times in local time."""
    hazard, enterprise, uscc, township, industry, closed_at = row
    return (
        hazard.code,
        hazard.title,
        LEVEL_LABELS.get(hazard.level, hazard.level),
        STATE_LABELS.get(hazard.state, hazard.state),
        enterprise,
        uscc,
        township,
        industry,
        hazard.location,
        hazard.reported_at.astimezone(tz),
        ROLE_LABELS.get(hazard.reporter_role, hazard.reporter_role),
        hazard.deadline,
        YES if is_overdue(hazard, today) else NO,
        hazard.major_clause,
        closed_at.astimezone(tz) if closed_at is not None else None,
        _funds(hazard.plan),
    )


def _funds(plan: dict[str, Any] | None) -> Decimal | str | None:
    funds = (plan or {}).get("funds")
    if funds in (None, ""):
        return None
    try:
        return Decimal(str(funds))
    except InvalidOperation:
        return str(funds)


def defuse_formula(text: str) -> str:
    """Prefix text a spreadsheet would evaluate with an apostrophe (OWASP's advice for CSV)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _csv_text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return defuse_formula(value)


def write_csv(rows: Iterable[tuple[Value, ...]], out: IO[bytes]) -> int:
    """UTF-8 with a BOM (so Excel takes it for UTF-8), CRLF rows; returns the rows written."""
    out.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    count = 0
    try:
        writer = csv.writer(text)
        writer.writerow(HEADERS)
        for row in rows:
            writer.writerow([_csv_text(value) for value in row])
            count += 1
        text.flush()
    finally:
        text.detach()  # leave `out` open for the caller
    return count


def _xlsx_cell(sheet: "WriteOnlyWorksheet", value: Value) -> Any:
    if isinstance(value, str):
        # Characters XML 1.0 cannot hold would make openpyxl refuse the whole file.
        text: str = ILLEGAL_CHARACTERS_RE.sub("", value)
        if text.startswith("="):
            # openpyxl would write it as a formula; a string cell is shown as is, never run.
            cell = WriteOnlyCell(sheet, text)
            cell.data_type = "s"
            return cell
        return text
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value.replace(tzinfo=None))  # Excel has no time zones
        cell.number_format = XLSX_DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = XLSX_DATE_FORMAT
        return cell
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = XLSX_MONEY_FORMAT
        return cell
    return value


def write_xlsx(rows: Iterable[tuple[Value, ...]], out: IO[bytes]) -> int:
    """One sheet in openpyxl's write-only mode: each row is written out as it is appended
    (openpyxl keeps the sheet in a temporary file until the workbook is zipped into `out`)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    for index, (_, width) in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        if count == XLSX_MAX_ROWS:
            raise Unprocessable(TOO_MANY_ROWS)
        sheet.append([_xlsx_cell(sheet, value) for value in row])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{count + 1}"
    workbook.save(out)
    return count


WRITERS = {LedgerFormat.xlsx: write_xlsx, LedgerFormat.csv: write_csv}


def export_ledger(
    session: Session,
    *,
    actor: Actor,
    filters: HazardFilters,
    clock: Clock,
    fmt: LedgerFormat,
    out: IO[bytes],
) -> int:
    """Write the ledger of the hazards the actor may see, filtered, to `out`; returns the rows."""
    rows = ledger_rows(session, actor=actor, filters=filters, clock=clock)
    return WRITERS[fmt](rows, out)


def spool_rows(
    session: Session,
    *,
    actor: Actor,
    filters: HazardFilters,
    clock: Clock,
    out: IO[bytes],
    max_rows: int | None = None,
) -> int:
    """Read the ledger's rows into `out` (pickled batches) for `spooled_rows` to give back;
    returns the count, or refuses (422) more than `max_rows`.

    As fast as the database read: the slow XLSX writing can then run after the transaction.
    """
    count = 0
    batch: list[tuple[Value, ...]] = []
    for row in ledger_rows(session, actor=actor, filters=filters, clock=clock):
        if count == max_rows:
            raise Unprocessable(TOO_MANY_ROWS)
        batch.append(row)
        count += 1
        if len(batch) == BATCH:
            pickle.dump(batch, out, pickle.HIGHEST_PROTOCOL)
            batch = []
    if batch:
        pickle.dump(batch, out, pickle.HIGHEST_PROTOCOL)
    return count


def spooled_rows(spool: IO[bytes]) -> Iterator[tuple[Value, ...]]:
    """The rows `spool_rows` wrote, from the start of the file, one batch in memory at a time."""
    spool.seek(0)
    while True:
        try:
            # Only ever a file this process wrote: an anonymous temporary file (spool_file).
            batch = pickle.load(spool)  # noqa: S301
        except EOFError:
            return
        yield from batch


def spool_file() -> IO[bytes]:
    """An anonymous temporary file under MEDIA_ROOT/staging (on disk, unlike a tmpfs /tmp).

    It has no name to clean up: the space is freed when it is closed, or when the process
    ends, whatever happened to the download.
    """
    staging = get_settings().media_root / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryFile(dir=staging, prefix="ledger-")


def file_names(fmt: LedgerFormat, today: date) -> tuple[str, str]:
    """The download's name (e.g. 隐患台账-20261123.xlsx) and an ASCII fallback."""
    stamp = today.strftime("%Y%m%d")
    return f"{FILE_STEM}-{stamp}.{fmt}", f"{ASCII_FILE_STEM}-{stamp}.{fmt}"
