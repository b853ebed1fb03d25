"""Response models of the quarterly statistics (季度统计分析) API."""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import LocalDateTime
from app.models import QuarterlyFiling
from app.models.enums import PartyType

if TYPE_CHECKING:
    from app.services.statistics.report import Report, Row


class FilingState(StrEnum):
    on_time = "on_time"  # 已按时上报
    late = "late"  # 逾期上报
    pending = "pending"  # 未上报 (the due date has not passed)
    overdue = "overdue"  # 逾期未上报


class GroupBy(StrEnum):
    enterprise = "enterprise"
    unit = "unit"
    region = "region"


class FiguresOut(BaseModel):
    """The figures of one enterprise, unit or region (definitions: README, 季度统计分析)."""

    found: int = Field(description="排查隐患数：本季上报且季末前未被不予受理的隐患")
    rectified: int = Field(description="本季整改数：本季首次验收通过（或其后状态）的隐患")
    outstanding: int = Field(description="季末未整改数")
    carried_over: int = Field(description="上季结转数：季初已上报且未整改")
    rectification_rate: float | None = Field(
        description="整改率 = 本季整改数 /（本季整改数 + 季末未整改数），0 项时为 null")
    general_found: int
    general_rectified: int
    general_outstanding: int
    general_carried_over: int
    general_rectification_rate: float | None
    major_found: int
    major_rectified: int
    major_outstanding: int
    major_carried_over: int
    major_rectification_rate: float | None
    major_planned: int = Field(description="重大隐患列入治理计划数：本季签收（五定方案）的重大隐患")
    funds_planned: Decimal = Field(
        description="计划治理资金（元）：本季签收的重大隐患五定方案资金之和")


class RowOut(BaseModel):
    kind: str = Field(description="enterprise / unit / region")
    id: int
    name: str
    code: str | None = Field(description="企业的统一社会信用代码，或区域的区划代码")
    region_name: str | None = Field(description="企业所属乡镇")
    figures: FiguresOut
    filed: bool | None = Field(description="是否已上报（企业、单位行）")
    filing_status: FilingState | None
    filing_status_label: str | None
    filing_version: int | None = Field(description="最新一次上报的版本号（以最新为准）")
    first_filed_at: LocalDateTime | None
    filed_at: LocalDateTime | None = Field(description="最新一次上报时间")
    late: bool | None = Field(description="首次上报晚于截止日期")
    enterprises: int | None = Field(description="区域行：范围内企业数")
    enterprises_filed: int | None = Field(description="区域行：其中已上报的企业数")

    @staticmethod
    def data(row: "Row") -> dict[str, Any]:
        """The row as RowOut's fields, for QuarterlyOut to validate with all the others."""
        filing = row.filing
        return {
            "kind": row.kind, "id": row.id, "name": row.name, "code": row.code,
            "region_name": row.region_name, "figures": row.figures.as_dict(),
            "filed": filing.filed if filing else None,
            "filing_status": filing.state if filing else None,
            "filing_status_label": filing.label if filing else None,
            "filing_version": filing.version if filing else None,
            "first_filed_at": filing.first_filed_at if filing else None,
            "filed_at": filing.filed_at if filing else None,
            "late": filing.late if filing else None,
            "enterprises": row.enterprises, "enterprises_filed": row.enterprises_filed,
        }


class PartyOut(BaseModel):
    party_type: PartyType
    party_id: int
    name: str


class QuarterlyOut(BaseModel):
    year: int
    quarter: int
    by: GroupBy
    region_id: int | None = Field(description="所选区域（按区域汇总时为起始区域）")
    period_start: date
    period_end: date
    due_on: date = Field(description="上报截止日期：季度结束后次月 15 日")
    ended: bool = Field(description="该季度是否已结束（未结束时为截至目前的数字）")
    funds_unit: str
    total: FiguresOut = Field(description="范围内合计（按单位汇总时各行可能重叠，合计不重复计数）")
    rows: list[RowOut]
    not_filed: list[PartyOut] = Field(description="范围内尚未上报的企业和监管单位")

    @classmethod
    def of(cls, report: "Report") -> "QuarterlyOut":
        # Validated once as a whole: a province's 20,000 rows one by one cost several times
        # as much.
        q = report.quarter
        return cls.model_validate({
            "year": q.year, "quarter": q.quarter, "by": report.by,
            "region_id": report.region_id, "period_start": q.first_day,
            "period_end": q.last_day, "due_on": q.due_on, "ended": report.ended,
            "funds_unit": report.funds_unit, "total": report.total.as_dict(),
            "rows": [RowOut.data(row) for row in report.rows],
            "not_filed": [{"party_type": p.party_type, "party_id": p.id, "name": p.name}
                          for p in report.not_filed],
        })


class FilingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    party_type: PartyType
    party_id: int
    year: int
    quarter: int
    version: int = Field(description="同一季度再次上报时递增，以最新版本为准")
    figures: FiguresOut = Field(description="上报时的统计数字快照")
    note: str | None
    filed_by_id: int
    filed_at: LocalDateTime
    due_on: date
    late: bool = Field(description="晚于截止日期上报")

    @classmethod
    def of(cls, filing: QuarterlyFiling) -> "FilingOut":
        data: dict[str, Any] = {
            name: getattr(filing, name) for name in cls.model_fields if name != "figures"}
        return cls(**data, figures=FiguresOut(**filing.figures))
