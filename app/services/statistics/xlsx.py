"""The quarterly statistics (季度统计分析) as an XLSX workbook.

A few hundred rows at most, so a normal (not write-only) workbook built in memory: sheet
季度统计 (one row per enterprise, unit or region, then 合计), sheet 未上报名单 (who has not filed)
and sheet 说明 (the period, the due date and the definitions).
"""

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.core.config import get_settings
from app.models.enums import PartyType
from app.services.hazards.ledger import XLSX_DATE_FORMAT, XLSX_DATETIME_FORMAT, XLSX_MONEY_FORMAT
from app.services.statistics.quarterly import FIGURE_LABELS, FUNDS_UNIT
from app.services.statistics.report import Report, Row
from app.services.statistics.schemas import GroupBy

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET, NOT_FILED_SHEET, ABOUT_SHEET = "季度统计", "未上报名单", "说明"
TOTAL = "合计"
RATE_FORMAT = "0.00%"
KIND_LABELS = {GroupBy.enterprise: "企业", GroupBy.unit: "监管单位", GroupBy.region: "区域"}
PARTY_LABELS = {PartyType.enterprise: "企业", PartyType.unit: "监管单位"}
# Leading columns by grouping: (header, width).
LEAD: dict[GroupBy, tuple[tuple[str, int], ...]] = {
    GroupBy.enterprise: (("企业名称", 28), ("统一社会信用代码", 21), ("所属乡镇", 12)),
    GroupBy.unit: (("监管单位", 28),),
    GroupBy.region: (("区域", 16), ("区划代码", 15)),
}
# Trailing columns by grouping: who filed (enterprises and units), filing counts (regions).
TRAIL: dict[GroupBy, tuple[tuple[str, int], ...]] = {
    GroupBy.enterprise: (("上报状态", 12), ("上报时间", 17), ("上报版本", 9)),
    GroupBy.unit: (("上报状态", 12), ("上报时间", 17), ("上报版本", 9)),
    GroupBy.region: (("企业数", 8), ("已上报企业数", 12)),
}
DEFINITIONS = (
    ("统计口径", "以季度结束时的处理记录为准，季度结束后数字不再变化（北京时间）"),
    ("排查隐患数", "本季上报、且季度结束前未被不予受理的隐患"),
    ("本季整改数", "本季首次验收通过（含其后的抽查、销号）的隐患，不论何时上报"),
    ("季末未整改数", "季度结束时已上报、未被不予受理、尚未验收通过的隐患"),
    ("上季结转数", "季度开始前上报、季初尚未验收通过的隐患"),
    ("整改率", "本季整改数 ÷（本季整改数 + 季末未整改数）"),
    ("重大隐患列入治理计划数", "本季签收并制定五定方案的重大隐患"),
    ("计划治理资金", f"上述五定方案资金之和，单位：{FUNDS_UNIT}"),
    ("上报状态", "以首次上报时间判断是否逾期；再次上报以最新版本为准"),
)


def _text(value: str) -> str:
    # Characters XML 1.0 cannot hold would make openpyxl refuse the whole file; a leading "="
    # is kept as text below (data_type "s"), never a formula.
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def put_row(sheet: Worksheet, row: int, values: Sequence[Any]) -> None:
    """One row of values: text as text (never a formula), local times, money and rates
    formatted (used by the tips' reward list too)."""
    tz = get_settings().tz
    for column, value in enumerate(values, 1):
        if isinstance(value, datetime):
            value = value.astimezone(tz).replace(tzinfo=None)  # Excel has no time zones
        cell = sheet.cell(row=row, column=column, value=_text(value) if isinstance(value, str)
                          else value)
        if isinstance(value, str):
            cell.data_type = "s"
        elif isinstance(value, datetime):
            cell.number_format = XLSX_DATETIME_FORMAT
        elif isinstance(value, Decimal):
            cell.number_format = XLSX_MONEY_FORMAT
        elif isinstance(value, float):
            cell.number_format = RATE_FORMAT


def header_row(sheet: Worksheet, columns: Sequence[tuple[str, int]]) -> None:
    bold = Font(bold=True)
    for index, (title, width) in enumerate(columns, 1):
        sheet.cell(row=1, column=index, value=title).font = bold
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _lead(by: GroupBy, row: Row) -> list[Any]:
    if by == GroupBy.enterprise:
        return [row.name, row.code, row.region_name]
    if by == GroupBy.unit:
        return [row.name]
    return [row.name, row.code]


def _trail(by: GroupBy, row: Row) -> list[Any]:
    if by == GroupBy.region:
        return [row.enterprises, row.enterprises_filed]
    filing = row.filing
    if filing is None:
        return [None, None, None]
    return [filing.label, filing.filed_at, filing.version]


def write_quarterly_xlsx(report: Report) -> bytes:
    by = report.by
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET
    figure_columns = [(label, 12) for label in FIGURE_LABELS.values()]
    header_row(sheet, [*LEAD[by], *figure_columns, *TRAIL[by]])
    line = 1
    for row in report.rows:
        line += 1
        put_row(sheet, line, [*_lead(by, row), *row.figures.as_dict().values(), *_trail(by, row)])
    line += 1
    blanks = [None] * (len(LEAD[by]) - 1)
    put_row(sheet, line, [TOTAL, *blanks, *report.total.as_dict().values()])
    sheet.cell(row=line, column=1).font = Font(bold=True)

    missing = workbook.create_sheet(NOT_FILED_SHEET)
    header_row(missing, [("类型", 10), ("名称", 32)])
    for index, party in enumerate(report.not_filed, 2):
        put_row(missing, index, [PARTY_LABELS[party.party_type], party.name])

    about = workbook.create_sheet(ABOUT_SHEET)
    header_row(about, [("项目", 22), ("内容", 70)])
    q = report.quarter
    facts: list[tuple[str, Any]] = [
        ("年度", q.year), ("季度", q.quarter), ("统计期起", q.first_day), ("统计期止", q.last_day),
        ("上报截止日期", q.due_on), ("季度已结束", "是" if report.ended else "否（截至目前）"),
        ("汇总方式", KIND_LABELS[by]), ("资金单位", FUNDS_UNIT), *DEFINITIONS,
    ]
    for index, (name, value) in enumerate(facts, 2):
        put_row(about, index, [name, value])
        if not isinstance(value, str | int):
            about.cell(row=index, column=2).number_format = XLSX_DATE_FORMAT
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def file_names(report: Report) -> tuple[str, str]:
    """The download's name (e.g. 季度统计-2026Q3-企业.xlsx) and an ASCII fallback."""
    q, by = report.quarter, report.by
    return (f"季度统计-{q.year}Q{q.quarter}-{KIND_LABELS[by]}.xlsx",
            f"quarterly-{q.year}Q{q.quarter}-{by}.xlsx")
