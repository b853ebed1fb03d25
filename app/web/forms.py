"""The pages' forms, built from the pydantic field models the services validate with
(app/workflow/fields.py): a field's name, kind, whether it is required, its words and its
choices are declared there once, and the OpenAPI request bodies come from the same models."""

import types
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

# Longer text than this gets a textarea.
SHORT_TEXT = 200


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"  # text, textarea, date, number, choice
    required: bool = True
    hint: str = ""
    choices: dict[str, str] = field(default_factory=dict)  # value → words, for kind "choice"


def form_fields(model: type[BaseModel]) -> tuple[FormField, ...]:
    """The fields a page form shows for this model, in its order (API-only ones left out).
    A field meant for the page without a title is a mistake in the model: it raises."""
    shown = [(name, info) for name, info in model.model_fields.items()
             if _extra(info).get("x-page", True)]
    untitled = [name for name, info in shown if not info.title]
    if untitled:
        raise ValueError(f"{model.__name__}: no title for {', '.join(untitled)}")
    return tuple(_form_field(name, info) for name, info in shown)


def _form_field(name: str, info: FieldInfo) -> FormField:
    choices = {str(value): words for value, words in _extra(info).get("x-choices", {}).items()}
    return FormField(name=name, label=info.title or name, kind=_kind(info, choices),
                     required=info.is_required() or bool(_extra(info).get("x-page-required")),
                     hint=info.description or "", choices=choices)


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _kind(info: FieldInfo, choices: dict[str, str]) -> str:
    annotation = _without_none(info.annotation)
    if choices or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return "choice"
    if annotation is date:
        return "date"
    if annotation in (int, float, Decimal):
        return "number"
    longest = min((m.max_length for m in _flat(info.metadata)
                   if getattr(m, "max_length", None) is not None), default=None)
    return "text" if longest is not None and longest <= SHORT_TEXT else "textarea"


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _flat(metadata: list[Any]) -> list[Any]:
    """Constraints, with grouped ones (pydantic's StringConstraints) opened up."""
    out = []
    for item in metadata:
        out.append(item)
        if hasattr(item, "__iter__") and not isinstance(item, str | bytes):
            out.extend(item)
    return out
