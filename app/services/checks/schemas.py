"""Request and response models of the 排查 side (docs/api.md v1.1, "The 排查 side")."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.core.schemas import LocalDateTime, RowId
from app.models.checks import Frequency, Outcome, RiskLevel, TaskKind, TaskState

MAX_MEASURES = 50  # per risk point
MAX_SWEEP_ITEMS = 50
MAX_PAGE = 200


def _text(max_length: int) -> type[str]:
    return Annotated[str, StringConstraints(  # type: ignore[return-value]
        strip_whitespace=True, min_length=1, max_length=max_length, pattern=r"^[^\x00]*$")]


Name = _text(200)
Place = _text(300)
CheckItemText = _text(500)
Owner = _text(100)
Content = _text(2000)
Factors = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=2000,
                                                  pattern=r"^[^\x00]*$")]


class MeasureIn(BaseModel):
    """A control measure (管控措施). With `id` (PATCH only), the measure kept and updated."""

    model_config = ConfigDict(extra="forbid")

    id: RowId | None = Field(None, description="PATCH: an existing measure of this risk point")
    content: Content = Field(title="管控措施")
    check_item: CheckItemText = Field(title="排查内容")
    frequency: Frequency = Field(title="排查频次")
    owner: Owner = Field(title="责任人")


class RiskPointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(title="风险点名称")
    place: Place = Field(title="所在位置")
    level: RiskLevel = Field(title="风险等级", description="major 重大(红) · high 较大(橙) · "
                                                        "medium 一般(黄) · low 低(蓝)")
    hazard_factors: Factors = Field(None, title="危险有害因素")
    measures: list[MeasureIn] = Field(min_length=1, max_length=MAX_MEASURES)


class RiskPointPatch(BaseModel):
    """Only the fields sent change; `measures`, when sent, is the whole new list (measures
    left out are retired, kept on record for the tasks that name them)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    place: Place | None = None
    level: RiskLevel | None = None
    hazard_factors: Factors = None
    measures: list[MeasureIn] | None = Field(None, min_length=1, max_length=MAX_MEASURES)
    expected_version: int | None = Field(None, ge=1, le=2**31 - 1)


class MeasureOut(BaseModel):
    id: int
    content: str
    check_item: str
    frequency: Frequency
    owner: str


class RiskPointOut(BaseModel):
    id: int
    enterprise_id: int
    name: str
    place: str
    level: RiskLevel
    colour: str = Field(description="red · orange · yellow · blue")
    hazard_factors: str | None
    measures: list[MeasureOut]
    version: int
    created_at: LocalDateTime
    updated_at: LocalDateTime


class RiskPointPage(BaseModel):
    items: list[RiskPointOut]
    next_cursor: str | None


class CheckItemOut(BaseModel):
    id: int
    content: str
    outcome: Outcome | None
    note: str | None
    hazard_id: int | None
    photos: int = Field(description="photos kept with a 正常 record (a hazard's are its own)")
    answered_at: LocalDateTime | None


class CheckTaskOut(BaseModel):
    id: int
    enterprise_id: int
    kind: TaskKind
    measure_id: int | None
    risk_point_id: int | None
    sweep_id: int | None
    campaign_id: int | None
    inspector_id: int | None = Field(description="部门检查: the inspector who runs it")
    period_start: date
    due_on: date
    state: TaskState
    done_at: LocalDateTime | None
    items: list[CheckItemOut]


class CheckTaskPage(BaseModel):
    items: list[CheckTaskOut]
    next_cursor: str | None


class SweepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_id: RowId = Field(title="排查范围（地区）")
    industry_id: RowId = Field(title="行业")
    deadline: date = Field(title="完成期限")
    items: list[CheckItemText] = Field(min_length=1, max_length=MAX_SWEEP_ITEMS,
                                       title="排查内容")


class SweepOut(BaseModel):
    id: int
    hazard_id: int
    region_id: int
    industry_id: int
    deadline: date
    items: list[str]
    created_at: LocalDateTime
    enterprises: int = Field(description="enterprises the sweep went to")
    answered: int = Field(description="enterprises that answered every item")
    hazards_found: int
    overdue: int = Field(description="enterprises past the deadline with items unanswered")
    hazard_ids: list[int] = Field(description="the hazards the sweep found")


# --- Starter library (风险点参考库) ----------------------------------------------------------

MAX_ADOPT_ITEMS = 50


class LibrarySource(BaseModel):
    document: str = Field(description="the criteria document the item is drawn from")
    doc_code: str
    clause: str = Field(description="条、项 as the document numbers them")
    url: str | None = Field(description="where the clause's text was read")
    verified: bool = Field(description="false: the text was read in one source only")


class LibraryItemOut(BaseModel):
    key: str = Field(description="the item's key, to choose it when adopting")
    check_item: str
    source: LibrarySource


class LibraryTemplateOut(BaseModel):
    code: str
    industry: str
    risk_point: str
    hazard_factors: str
    items: list[LibraryItemOut]


class LibraryOut(BaseModel):
    templates: list[LibraryTemplateOut]


LibraryKey = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                              pattern=r"^[^\x00]*$")]


class AdoptIn(BaseModel):
    """Adopt a template: the level and place are the enterprise's own assessment."""

    model_config = ConfigDict(extra="forbid")

    template: Annotated[str, StringConstraints(min_length=1, max_length=64,
                                               pattern=r"^[a-z0-9-]+$")] = Field(title="模板")
    name: Name | None = Field(None, title="风险点名称", description="default: the template's")
    place: Place = Field(title="所在位置")
    level: RiskLevel = Field(title="风险等级")
    frequency: Frequency = Field(title="排查频次")
    owner: Owner = Field(title="责任人")
    items: list[LibraryKey] | None = Field(None, min_length=1, max_length=MAX_ADOPT_ITEMS,
                                           title="选用的排查项", description="default: all")


# --- Campaigns (专项排查) and inspections (部门检查) -------------------------------------------

MAX_CAMPAIGN_ENTERPRISES = 5000
MAX_INSPECTION_POINTS = 200


class CampaignIn(BaseModel):
    """To the enterprises named, or to every enterprise (of an industry) in a region
    subtree; either way only those the issuer supervises."""

    model_config = ConfigDict(extra="forbid")

    title: Name = Field(title="专项排查名称")
    deadline: date = Field(title="完成期限")
    items: list[CheckItemText] = Field(min_length=1, max_length=MAX_SWEEP_ITEMS,
                                       title="排查内容")
    enterprise_ids: list[RowId] | None = Field(None, min_length=1,
                                               max_length=MAX_CAMPAIGN_ENTERPRISES,
                                               title="企业")
    region_id: RowId | None = Field(None, title="地区")
    industry_id: RowId | None = Field(None, title="行业", description="with region_id only")

    @model_validator(mode="after")
    def one_target(self) -> "CampaignIn":
        if (self.enterprise_ids is None) == (self.region_id is None):
            raise ValueError("请指定企业（enterprise_ids）或地区（region_id），二者选一")
        if self.industry_id is not None and self.region_id is None:
            raise ValueError("行业（industry_id）只能与地区（region_id）一起使用")
        return self


class CampaignOut(BaseModel):
    id: int
    title: str
    deadline: date
    items: list[str]
    created_at: LocalDateTime
    enterprises: int = Field(description="enterprises the campaign went to (that you see)")
    answered: int = Field(description="enterprises that answered every item")
    hazards_found: int
    overdue: int = Field(description="enterprises past the deadline with items unanswered")
    hazard_ids: list[int]


class InspectionIn(BaseModel):
    """部门检查: the enterprise's own check items (of every risk point, or those named), and
    any further items the inspector adds."""

    model_config = ConfigDict(extra="forbid")

    risk_point_ids: list[RowId] | None = Field(None, min_length=1,
                                               max_length=MAX_INSPECTION_POINTS,
                                               title="风险点")
    items: list[CheckItemText] = Field(default_factory=list, max_length=MAX_SWEEP_ITEMS,
                                       title="补充检查内容")


# --- Scores on the board (排查完成率, 双重预防指数, 四色图) ---------------------------

class ScoreFigures(BaseModel):
    items_due: int = Field(description="self-check items due in the period (day passed, or "
                                       "recorded)")
    items_on_time: int = Field(description="those recorded on or before their due day")
    completion_rate: float | None = Field(description="items_on_time / items_due")
    overdue_tasks: int = Field(description="self-check tasks past their day, not done (now)")
    hazards_self: int = Field(description="hazards reported in the period by the enterprise")
    hazards_inspection: int = Field(description="… by an inspector")
    hazards_due: int = Field(description="hazards whose deadline fell in the period and passed, "
                                         "or rectified already")
    hazards_on_time: int = Field(description="those rectified without ever being overdue")
    open_major_hazards: int
    overdue_major_hazards: int
    index: float = Field(description="双重预防指数 0–100 (formula)")
    colour: str = Field(description="四色: red · orange · yellow · blue")


class TownshipScore(ScoreFigures):
    region_id: int
    code: str
    name: str
    enterprises: int


class EnterpriseScore(ScoreFigures):
    enterprise_id: int
    name: str
    region_id: int
    lat: float | None
    lon: float | None


class CheckScoresOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    as_of: LocalDateTime
    formula: str
    totals: ScoreFigures
    by_township: list[TownshipScore]
    by_enterprise: list[EnterpriseScore]


# --- Provincial exchange (docs/checks.md "Provincial exchange") -----------------------------

class ExchangeEnterprise(BaseModel):
    enterprise_id: int
    uscc: str
    name: str
    region_code: str


class ExchangeMeasure(BaseModel):
    measure_id: int
    content: str
    check_item: str
    frequency: Frequency
    owner: str
    active: bool


class ExchangeRiskObject(BaseModel):
    risk_object_id: int
    enterprise_id: int
    name: str
    place: str
    risk_level: int = Field(description="1 重大 · 2 较大 · 3 一般 · 4 低")
    hazard_factors: str | None
    version: int
    updated_at: LocalDateTime
    measures: list[ExchangeMeasure]


class ExchangeRecord(BaseModel):
    record_id: int
    task_id: int
    task_kind: TaskKind
    enterprise_id: int
    risk_object_id: int | None
    measure_id: int | None
    check_item: str
    result: int = Field(description="0 正常 · 1 发现隐患")
    note: str | None
    hazard_id: int | None
    checked_at: LocalDateTime | None
    checked_by: str | None
    due_on: date
    on_time: bool | None


class ExchangePhoto(BaseModel):
    photo_id: int
    sha256: str
    url: str


class ExchangeHazard(BaseModel):
    hazard_id: int
    code: str
    enterprise_id: int
    name: str
    level: int = Field(description="0 一般 · 1 重大")
    source: str = Field(description="self_check · inspection · public")
    type: str | None
    description: str
    location: str
    reason: str | None = Field(description="not recorded by bihuan: always null")
    basis: str | None
    measures: str | None
    cost: str | None = Field(description="整改资金（元, decimal text） of a major hazard's plan")
    liable_person: str | None
    deadline: date | None
    acceptance_person: str | None
    acceptance_time: LocalDateTime | None
    acceptance_comment: str | None
    state: int = Field(description="0 未验收 · 1 已验收 · 9 已结束（销号或不予受理）")
    rejected: bool
    reported_at: LocalDateTime
    updated_at: LocalDateTime
    before_photos: list[ExchangePhoto]
    after_photos: list[ExchangePhoto]


class ExchangeDay(BaseModel):
    format: str
    date: date
    generated_at: LocalDateTime
    enterprises: list[ExchangeEnterprise]
    risk_objects: list[ExchangeRiskObject]
    check_records: list[ExchangeRecord]
    hazards: list[ExchangeHazard]
