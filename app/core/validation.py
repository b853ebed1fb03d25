"""Validating a body with a pydantic model, refused in Chinese.

`MESSAGES` gives the words for pydantic's error types (the hazard actions' forms and the
administration's JSON bodies use them alike); `parse_body` validates and raises 422 with a list
of field errors in FastAPI's shape (`loc`, `msg`, `type`).
"""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.core.errors import Unprocessable

M = TypeVar("M", bound=BaseModel)

MESSAGES = {
    "missing": "必填项",
    "string_too_short": "不能为空",
    "string_too_long": "内容过长（最多 {max_length} 字）",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期格式应为 YYYY-MM-DD",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "greater_than_equal": "应不小于 {ge}",
    "less_than_equal": "应不大于 {le}",
    "greater_than": "应大于 {gt}",
    "less_than": "应小于 {lt}",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "enum": "取值无效",
    "literal_error": "取值无效",
    "extra_forbidden": "不认识的字段",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
}


def invalid(field: str, message: str, kind: str = "value_error") -> Unprocessable:
    """A 422 naming one field of the body."""
    return Unprocessable([{"loc": ["body", field], "msg": message, "type": kind}])


def message(error: Any) -> str:
    """One pydantic error in Chinese (a validator's own ValueError speaks for itself)."""
    kind = error["type"]
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ")
    template = MESSAGES.get(kind)
    if template is None:
        return "取值无效"
    try:
        return template.format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        return template


def parse_body(model: type[M], data: dict[str, Any]) -> M:
    """The body as `model`, or 422 with every field's problem in Chinese."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Unprocessable([
            {"loc": ["body", *error["loc"]], "msg": message(error), "type": error["type"]}
            for error in exc.errors(include_url=False)
        ]) from None
