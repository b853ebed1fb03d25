"""The data each action requires (docs/domain.md, the transition table's evidence and data).

Parsed from the form into a pydantic model per action; problems come back as a list in the
shape FastAPI uses for 422 so the machine can refuse in the contract's order.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic import field_validator as validator
from pydantic_core import PydanticCustomError

from app.core.schemas import MAX_ID, RowId
from app.core.validation import MESSAGES
from app.models.enums import HazardLevel
from app.workflow.deadlines import DayUnit

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=2000)]

# The Chinese words for pydantic's error types: one catalogue (app/core/validation.py).


class ActionFields(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    # The hazard's version the client saw (optimistic concurrency); pages send it hidden.
    expected_version: int | None = Field(None, ge=0, le=MAX_ID,
                                         json_schema_extra={"x-page": False})


# How far ahead a date an action sets may lie: a deadline beyond this is a typing error (a
# year 9999 deadline once made the worker count working days for most of a minute). Every date
# field of an action is checked against its own horizon, from today on.
DEADLINE_HORIZON_YEARS = 3
HORIZON_YEARS: dict[str, int] = {
    "deadline": DEADLINE_HORIZON_YEARS,
    "plan_deadline": DEADLINE_HORIZON_YEARS,
}


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def date_range(today: date, field: str) -> tuple[date, date]:
    """The dates a field accepts: today … today + its horizon, both included."""
    return today, years_after(today, HORIZON_YEARS.get(field, DEADLINE_HORIZON_YEARS))


def _in_range(value: date | None, info: ValidationInfo) -> date | None:
    today: date | None = (info.context or {}).get("today")
    if value is None or today is None:
        return value
    earliest, latest = date_range(today, info.field_name or "")
    if not earliest <= value <= latest:
        start = "期限不能早于今天" if value < earliest else f"期限不能晚于 {latest}"
        raise PydanticCustomError("date_range", "{start}（应在 {earliest} 至 {latest} 之间）",
                                  {"start": start, "earliest": str(earliest),
                                   "latest": str(latest)})
    return value


MAJOR_BASIS_PREFIX = "经评估认定："


class ReportFields(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: ShortText
    description: Text
    location: ShortText
    level: HazardLevel
    # Not RowId: an enterprise id out of range is answered as any enterprise that does not
    # exist or is out of reach, with one and the same 422 (services/hazards/report.py), so
    # the answer never tells which ids are real.
    enterprise_id: int | None = None
    category: Annotated[str | None, StringConstraints(max_length=100)] = None
    major_clause: Annotated[str | None, StringConstraints(max_length=500)] = None
    criterion_id: RowId | None = None
    # A major hazard matching no clause is one the reporter judged major by assessment (high
    # harm or difficulty, may need stopping production): the basis says why, and is kept as
    # the hazard's 判定依据 prefixed MAJOR_BASIS_PREFIX (within major_clause's 500).
    major_basis: Annotated[str | None, StringConstraints(max_length=480)] = Field(
        None, title="经评估认定的依据",
        description="未对应判定标准条款的重大事故隐患填写：为何认定为重大")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)

    @model_validator(mode="after")
    def _major_has_a_basis(self) -> "ReportFields":
        if self.level == HazardLevel.major and not (
                self.major_clause or self.criterion_id is not None or self.major_basis):
            raise PydanticCustomError(
                "major_basis_missing",
                "重大事故隐患须注明符合的判定标准条款（major_clause 或 criterion_id），"
                "或填写经评估认定的依据（major_basis）")
        return self

    def stated_basis(self) -> str | None:
        """The hazard's 判定依据: the clause, else the assessment's basis, marked as such."""
        if self.major_clause:
            return self.major_clause
        return f"{MAJOR_BASIS_PREFIX}{self.major_basis}" if self.major_basis else None


# Each field's title and description are the words of its page form (app/web/forms.py builds
# the forms from these models, the OpenAPI document the request bodies). `x-page: False` marks
# a field only API clients send, `x-page-required` one the page requires although the API
# accepts an alternative; `x-choices` gives an enumeration's words.
API_ONLY = {"x-page": False}


def _title(title: str, hint: str | None = None) -> Any:
    return Field(title=title, description=hint)


class AssignFields(ActionFields):
    """交办: a deadline date, or a number of calendar or working days from today (one of
    `deadline` and `deadline_days`)."""

    # The page offers the date only, so there it is required.
    deadline: date | None = Field(None, title="整改期限",
                                  description="交办给企业整改，并同时交办监管单位督促（双重交办）",
                                  json_schema_extra={"x-page-required": True})
    deadline_days: int | None = Field(None, ge=1, le=366, title="整改期限（天数）",
                                      json_schema_extra=API_ONLY)
    deadline_unit: DayUnit = Field(DayUnit.calendar, title="天数的计算方式",
                                   json_schema_extra=API_ONLY)
    supervising_unit_id: RowId | None = Field(None, title="监管单位", json_schema_extra=API_ONLY)
    check_deadline = validator("deadline")(_in_range)

    @model_validator(mode="after")
    def _one_deadline(self) -> "AssignFields":
        if (self.deadline is None) == (self.deadline_days is None):
            raise PydanticCustomError("missing", "请填写整改期限 deadline（或 deadline_days）")
        return self


class RejectFields(ActionFields):
    reason: Text = _title("不予受理的原因", "如：不属于隐患、重复上报")


class SubmitFields(ActionFields):
    note: Text = _title("整改情况", "说明采取了哪些整改措施")


class VerifyFields(ActionFields):
    note: Text = _title("验收意见")


class SpotCheckFields(ActionFields):
    note: Text = _title("抽查意见")


class CloseFields(ActionFields):
    note: OptionalText = Field(None, title="销号说明")


class ReturnFields(ActionFields):
    """验收不通过 / 抽查不通过: back to the enterprise, optionally with a new deadline."""

    reason: Text = _title("不通过的原因")
    deadline: date | None = Field(None, title="新的整改期限", description="不填写则保持原期限")
    check_deadline = validator("deadline")(_in_range)


class AcceptFields(ActionFields):
    """签收. A major hazard also needs its five-determination plan (五定)."""


class MajorAcceptFields(ActionFields):
    plan_owner: ShortText = _title("责任人", "姓名及职务")
    plan_measures: Text = _title("整改措施")
    plan_funds: Decimal = Field(ge=0, max_digits=14, decimal_places=2, title="整改资金（元）")
    plan_deadline: date = _title("整改时限")
    plan_contingency: Text = _title("应急预案", "整改期间的临时管控和应急措施")
    check_deadline = validator("plan_deadline")(_in_range)


class ExtensionFields(ActionFields):
    """延期申请: the new deadline, why, and the interim control measures meanwhile."""

    deadline: date = _title("申请延期至")
    reason: Text = _title("延期原因")
    interim_measures: Text = _title("临时管控措施", "延期期间如何管控风险")
    check_deadline = validator("deadline")(_in_range)


class ExtensionDecision(StrEnum):
    approve = "approve"
    refuse = "refuse"


class DecisionFields(BaseModel):
    """The supervising unit's decision on an extension request."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    decision: ExtensionDecision = Field(
        title="审批结果", json_schema_extra={"x-choices": {ExtensionDecision.approve: "同意",
                                                            ExtensionDecision.refuse: "不同意"}})
    note: OptionalText = Field(None, title="审批意见")


class InterviewKind(StrEnum):
    interview = "约谈"
    circular = "通报"


class InterviewFields(BaseModel):
    """约谈/通报 recorded by the committee: which one, its document number, a note."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kind: InterviewKind = Field(title="方式")
    document: ShortText = _title("文书编号")
    note: OptionalText = Field(None, title="说明")


class DelistingFields(BaseModel):
    """摘牌: an optional note."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    note: OptionalText = Field(None, title="摘牌说明")


class ListingLevel(StrEnum):
    county = "county"
    city = "city"
    province = "province"


LISTING_LEVEL_LABELS = {ListingLevel.county: "县级", ListingLevel.city: "市级",
                        ListingLevel.province: "省级"}


class ListingFields(BaseModel):
    """挂牌督办: the level, the supervising authority and its document number."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    level: ListingLevel = Field(title="挂牌级别",
                                json_schema_extra={"x-choices": LISTING_LEVEL_LABELS})
    authority: ShortText = _title("督办机关", "如：演示县安全生产委员会")
    document_number: ShortText = _title("督办文号")


class EvaluationKind(StrEnum):
    self_assessed = "self"
    third_party = "third_party"


EVALUATION_KIND_LABELS = {EvaluationKind.self_assessed: "企业自评",
                          EvaluationKind.third_party: "第三方评估"}


class EvaluationFields(BaseModel):
    """整改评估 of a listed major hazard: self-assessed or by a third party (named)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kind: EvaluationKind = Field(title="评估方式",
                                 json_schema_extra={"x-choices": EVALUATION_KIND_LABELS})
    evaluator: str | None = Field(None, max_length=200, title="评估机构",
                                  description="第三方评估必填")
    summary: Text = _title("评估结论")


ACTION_FIELDS: dict[str, type[ActionFields]] = {
    "assign": AssignFields,
    "reject": RejectFields,
    "accept": AcceptFields,
    "submit": SubmitFields,
    "verify": VerifyFields,
    "return": ReturnFields,
    "spot_check": SpotCheckFields,
    "spot_check_fail": ReturnFields,
    "close": CloseFields,
}


def fields_model(action: str, level: HazardLevel) -> type[BaseModel]:
    if action == "report":
        return ReportFields
    if action == "accept" and level == HazardLevel.major:
        return MajorAcceptFields
    return ACTION_FIELDS[action]


def parse_fields(
    model: type[BaseModel], data: dict[str, Any], *, today: date
) -> tuple[BaseModel | None, list[dict[str, Any]]]:
    """Validate ``data``; return the model, or None and the errors as FastAPI shapes them."""
    cleaned = {k: v for k, v in data.items() if not (isinstance(v, str) and v.strip() == "")}
    try:
        return model.model_validate(cleaned, context={"today": today}), []
    except ValidationError as exc:
        return None, field_errors(exc.errors(include_url=False), ("body",))


def field_errors(raw: Sequence[Any], prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Pydantic's errors as the API answers them: `loc`, a Chinese `msg`, `type`. Never the
    input itself (it may be a password or a one-time code)."""
    return [
        {
            "loc": [*prefix, *err["loc"]],
            # A model-level rule (no field in loc) says itself which fields it wants.
            "msg": (MESSAGES[err["type"]].format(**err.get("ctx", {}))
                    if err["loc"] and err["type"] in MESSAGES
                    else str(err["msg"]).removeprefix("Value error, ")),
            "type": err["type"],
        }
        for err in raw
    ]
