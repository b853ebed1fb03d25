"""The data each action requires (DOMAIN.md's "evidence and data required" column).

Parsed from the form into a pydantic model per action; problems come back as a list in the
shape FastAPI uses for 422 so the machine can refuse in the contract's order.
"""

from datetime import date
from decimal import Decimal
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

from app.models.enums import HazardLevel
from app.workflow.deadlines import DayUnit

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=2000)]

MESSAGES = {
    "missing": "必填项",
    "string_too_short": "不能为空",
    "string_too_long": "内容过长",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期格式应为 YYYY-MM-DD",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "enum": "取值无效",
    "literal_error": "取值无效",
}


class ActionFields(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    expected_version: int | None = None


def _not_past(value: date | None, info: ValidationInfo) -> date | None:
    today: date | None = (info.context or {}).get("today")
    if value is not None and today is not None and value < today:
        raise ValueError("期限不能早于今天")
    return value


class ReportFields(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: ShortText
    description: Text
    location: ShortText
    level: HazardLevel
    enterprise_id: int | None = None
    category: Annotated[str | None, StringConstraints(max_length=100)] = None
    major_clause: Annotated[str | None, StringConstraints(max_length=500)] = None
    criterion_id: int | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class AssignFields(ActionFields):
    """交办: a deadline date (API.md), or a number of calendar or working days from today."""

    deadline: date | None = None
    deadline_days: int | None = Field(None, ge=1, le=366)
    deadline_unit: DayUnit = DayUnit.calendar
    supervising_unit_id: int | None = None
    check_deadline = validator("deadline")(_not_past)

    @model_validator(mode="after")
    def _one_deadline(self) -> "AssignFields":
        if (self.deadline is None) == (self.deadline_days is None):
            raise PydanticCustomError("missing", "请填写整改期限 deadline（或 deadline_days）")
        return self


class ReasonFields(ActionFields):
    reason: Text


class NoteFields(ActionFields):
    note: Text


class CloseFields(ActionFields):
    note: OptionalText = None


class ReturnFields(ReasonFields):
    deadline: date | None = None
    check_deadline = validator("deadline")(_not_past)


class AcceptFields(ActionFields):
    """签收. A major hazard also needs its five-determination plan (五定)."""


class MajorAcceptFields(ActionFields):
    plan_owner: ShortText  # 责任人
    plan_measures: Text  # 措施
    plan_funds: Decimal = Field(ge=0, max_digits=14, decimal_places=2)  # 资金 (元)
    plan_deadline: date  # 时限
    plan_contingency: Text  # 应急预案
    check_deadline = validator("plan_deadline")(_not_past)


class ExtensionFields(ActionFields):
    """延期申请: the new deadline, why, and the interim control measures meanwhile."""

    deadline: date
    reason: Text
    interim_measures: Text  # 临时管控措施
    check_deadline = validator("deadline")(_not_past)


ACTION_FIELDS: dict[str, type[ActionFields]] = {
    "assign": AssignFields,
    "reject": ReasonFields,
    "accept": AcceptFields,
    "submit": NoteFields,
    "verify": NoteFields,
    "return": ReturnFields,
    "spot_check": NoteFields,
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
        errors = [
            {
                "loc": ["body", *err["loc"]],
                "msg": MESSAGES.get(err["type"], err["msg"].removeprefix("Value error, ")),
                "type": err["type"],
            }
            for err in exc.errors(include_url=False)
        ]
        return None, errors
