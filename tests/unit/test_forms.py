"""Page forms come from the field models the services validate with (one declaration)."""

from datetime import date

import pytest
from pydantic import BaseModel

from app.models.enums import HazardLevel
from app.web.forms import form_fields
from app.workflow.fields import (
    EvaluationFields,
    ExtensionFields,
    ListingFields,
    fields_model,
    parse_fields,
)
from app.workflow.table import TRANSITION_ACTIONS

MODELS = [fields_model(action, level) for action in TRANSITION_ACTIONS for level in HazardLevel]
MODELS += [ExtensionFields, ListingFields, EvaluationFields]


@pytest.mark.parametrize("model", sorted(set(MODELS), key=lambda m: m.__name__),
                         ids=lambda m: m.__name__)
def test_every_form_field_is_one_the_model_validates(model: type[BaseModel]) -> None:
    shown = form_fields(model)
    assert {f.name for f in shown} <= set(model.model_fields)
    assert "expected_version" not in {f.name for f in shown}
    for f in shown:
        assert f.label and f.kind in ("text", "textarea", "date", "number", "choice")
        # Whatever the model requires the page requires too.
        assert f.required or not model.model_fields[f.name].is_required()


def test_the_words_and_kinds_come_from_the_models() -> None:
    reject = {f.name: f for f in form_fields(fields_model("reject", HazardLevel.general))}
    assert reject["reason"].label == "不予受理的原因" and reject["reason"].kind == "textarea"
    returned = {f.name: f for f in form_fields(fields_model("return", HazardLevel.general))}
    assert returned["deadline"].kind == "date" and not returned["deadline"].required
    plan = [f.name for f in form_fields(fields_model("accept", HazardLevel.major))]
    assert plan == ["plan_owner", "plan_measures", "plan_funds", "plan_deadline",
                    "plan_contingency"]
    assert form_fields(fields_model("accept", HazardLevel.general)) == ()
    # The page offers the deadline as a date only (the API also takes a number of days).
    assign = form_fields(fields_model("assign", HazardLevel.general))
    assert [(f.name, f.kind, f.required) for f in assign] == [("deadline", "date", True)]
    level = form_fields(ListingFields)[0]
    assert level.kind == "choice" and level.choices == {"county": "县级", "city": "市级",
                                                         "province": "省级"}


def test_a_model_field_without_words_is_refused() -> None:
    class Careless(BaseModel):
        note: str

    with pytest.raises(ValueError, match="note"):
        form_fields(Careless)


def test_the_listing_model_is_what_the_service_validates() -> None:
    parsed, errors = parse_fields(ListingFields, {"level": "city", "authority": " 市安委会 ",
                                                  "document_number": "市安委〔2026〕1号"},
                                  today=date(2026, 12, 4))
    assert errors == [] and parsed is not None and parsed.authority == "市安委会"
    _, errors = parse_fields(ListingFields, {"level": "town", "authority": "x",
                                             "document_number": "y"}, today=date(2026, 12, 4))
    assert [e["loc"] for e in errors] == [["body", "level"]]
