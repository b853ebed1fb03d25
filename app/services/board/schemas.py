"""Response models of the committee's board (动态清零) and township ranking (亮晒排名)."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import LocalDateTime
from app.models.enums import HazardLevel


class Figure(BaseModel):
    count: int
    params: dict[str, str] = Field(
        description="GET /api/v1/hazards 的查询参数：列出的正是计入该数字的隐患")


class Figures(BaseModel):
    open: Figure
    overdue: Figure
    listed: Figure
    open_at_start: Figure
    found: Figure
    closed: Figure
    clearance_rate: float | None = Field(
        description="清零率 = closed / (open_at_start + found)；分母为 0 时为 null")


class TownshipFigures(Figures):
    region_id: int
    code: str
    name: str


class IndustryFigures(Figures):
    industry_id: int
    code: str
    name: str


class MonthFigures(BaseModel):
    month: str
    found: Figure
    closed: Figure
    open_at_end: Figure


class BoardOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    level: HazardLevel | None
    from_: date = Field(alias="from")
    to: date
    region_id: int | None
    as_of: LocalDateTime
    labels: dict[str, str]
    totals: Figures
    by_township: list[TownshipFigures]
    by_industry: list[IndustryFigures]
    trend: list[MonthFigures]


class Ratio(BaseModel):
    numerator: int
    denominator: int
    rate: float | None
    score: float | None


class OverdueCount(BaseModel):
    count: int
    score: float | None


class Components(BaseModel):
    rectification: Ratio
    on_time: Ratio
    overdue: OverdueCount
    spot_check: Ratio
    self_found: Ratio
    completion: Ratio | None = Field(
        None, description="排查完成率: present only when RANKING_WEIGHT_COMPLETION > 0")


class TownshipRank(BaseModel):
    region_id: int
    code: str
    name: str
    index: float | None
    rank: int | None
    components: Components


class RankingOut(BaseModel):
    month: str
    provisional: bool
    as_of: LocalDateTime
    weights: dict[str, float]
    formula: str
    labels: dict[str, str]
    townships: list[TownshipRank]


# --- major hazards by the 判定标准 clause they cite (board/criteria.py) ---------------------


class CriteriaDocumentCount(BaseModel):
    code: str
    title: str
    count: int


class CriterionCount(BaseModel):
    criterion_id: int
    document_code: str
    document_title: str
    article: str
    item: str
    citation: str
    text: str
    in_force: bool  # false: since replaced (counted under the text the hazards cited)
    count: int


class CriteriaBoardOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    region_id: int | None
    as_of: LocalDateTime
    total: int  # major hazards reported in the period, in the caller's scope
    uncited: int  # of them, citing no catalogue entry (a clause as text, an assessment)
    by_document: list[CriteriaDocumentCount]
    by_clause: list[CriterionCount]
