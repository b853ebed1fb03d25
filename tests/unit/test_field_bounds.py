"""Every field an action takes is bounded (docs/domain.md): a new unbounded integer or
date field in app/workflow/fields.py fails here, before it reaches the database or the worker.
"""

import inspect
from datetime import date, timedelta
from typing import Annotated, Any, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from app.api.webhooks import WebhookIn
from app.core.schemas import MAX_ID
from app.workflow import fields

TODAY = date(2026, 11, 23)
MODELS = [model for _, model in inspect.getmembers(fields, inspect.isclass)
          if issubclass(model, BaseModel) and model.__module__ == fields.__name__] + [WebhookIn]


def _types(annotation: Any) -> set[Any]:
    """The plain types in an annotation (through Optional, unions and Annotated)."""
    if get_origin(annotation) is Annotated:
        return _types(get_args(annotation)[0])
    if get_args(annotation):
        return set().union(*(_types(arg) for arg in get_args(annotation)))
    return {annotation}


def _fields_of(kind: type) -> list[tuple[type[BaseModel], str]]:
    return [(model, name) for model in MODELS for name, info in model.model_fields.items()
            if kind in _types(info.annotation)]


# Checked by the service instead, with the answer of an unknown enterprise (one 422 for an
# id that does not exist, is out of reach or out of range: tests/api/test_errors.py).
CHECKED_BY_THE_SERVICE = {("ReportFields", "enterprise_id")}
INT_FIELDS = [(model, name) for model, name in _fields_of(int)
              if (model.__name__, name) not in CHECKED_BY_THE_SERVICE]
DATE_FIELDS = _fields_of(date)


def _errors(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    try:
        model.model_validate(data, context={"today": TODAY})
    except ValidationError as exc:
        return {str(err["loc"][0]): err["type"] for err in exc.errors() if err["loc"]}
    return {}


def test_the_models_have_the_fields_this_checks() -> None:
    names = {name for _, name in INT_FIELDS}
    assert {"supervising_unit_id", "criterion_id", "expected_version",
            "deadline_days", "region_id"} <= names
    assert {name for _, name in DATE_FIELDS} == {"deadline", "plan_deadline"}


@pytest.mark.parametrize(("model", "name"), INT_FIELDS,
                         ids=[f"{m.__name__}.{n}" for m, n in INT_FIELDS])
def test_every_integer_field_stays_within_the_databases_range(model, name) -> None:
    for value in (MAX_ID + 1, 2**63, 2**70):
        assert _errors(model, {name: value}).get(name) == "less_than_equal", value
    assert _errors(model, {name: -(2**63)}).get(name) == "greater_than_equal"


@pytest.mark.parametrize(("model", "name"), DATE_FIELDS,
                         ids=[f"{m.__name__}.{n}" for m, n in DATE_FIELDS])
def test_every_date_field_is_today_to_three_years_ahead(model, name) -> None:
    for value in ("9999-12-31", "2029-11-24", "2026-11-22", "0001-01-01"):
        assert _errors(model, {name: value}).get(name) == "date_range", value
    for value in ("2026-11-23", "2029-11-23"):
        assert name not in _errors(model, {name: value}), value


@settings(max_examples=300, deadline=None, derandomize=True)
@given(action=st.sampled_from(sorted(fields.ACTION_FIELDS)),
       data=st.dictionaries(st.sampled_from(["deadline", "deadline_days", "supervising_unit_id",
                                             "expected_version", "reason", "note",
                                             "plan_deadline"]),
                            st.one_of(st.integers(), st.dates().map(str),
                                      st.text(max_size=30)), max_size=4))
def test_parsing_any_action_form_answers_a_model_or_field_errors(action, data) -> None:
    model = fields.fields_model(action, fields.HazardLevel.general)
    parsed, errors = fields.parse_fields(model, {k: str(v) for k, v in data.items()},
                                         today=TODAY)
    assert (parsed is None) == bool(errors)
    for problem in errors:
        assert problem["loc"][0] == "body" and problem["msg"]
    deadline = getattr(parsed, "deadline", None)
    if deadline is not None:
        assert TODAY <= deadline <= TODAY + timedelta(days=3 * 366)
    unit = getattr(parsed, "supervising_unit_id", None)
    assert unit is None or 1 <= unit <= MAX_ID
