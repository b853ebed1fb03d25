"""The hazard list's filters, declared once: the query parameters of GET /api/v1/hazards and
of the ledger, the filters the board's figures link to, and the pages' lists.

Dates are local (Asia/Shanghai) days, both ends included; `region_id` takes the region's whole
subtree. Unknown query parameters are ignored, as they always were.
"""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import NO_NUL
from app.models.enums import HazardLevel
from app.workflow.states import HazardState


class HazardFilters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    state: HazardState | None = None
    level: HazardLevel | None = None
    enterprise_id: int | None = None
    region_id: int | None = Field(None, description="区域（含下级）")
    unit_id: int | None = None
    overdue: bool | None = None
    listed: bool | None = Field(None, description="挂牌督办中的隐患")
    q: str | None = Field(None, max_length=100, pattern=NO_NUL)
    industry_id: int | None = Field(None, description="企业所属行业")
    open: bool | None = Field(None, description="true：未销号（未销号且未不予受理）")
    rejected: bool | None = Field(None, description="不予受理的隐患")
    reported_from: date | None = Field(None, description="上报日期不早于（含）")
    reported_to: date | None = Field(None, description="上报日期不晚于（含）")
    closed_from: date | None = Field(None, description="销号日期不早于（含）")
    closed_to: date | None = Field(None, description="销号日期不晚于（含）")
    open_on: date | None = Field(None, description="该日结束时仍未销号")

    def params(self) -> dict[str, str]:
        """The filters that are set, as query parameters (a link to the list)."""
        values = self.model_dump(mode="json", exclude_none=True)
        return {key: str(value).lower() if isinstance(value, bool) else str(value)
                for key, value in values.items()}
