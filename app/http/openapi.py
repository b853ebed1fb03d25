"""The OpenAPI document, as outside clients generate from it (docs/api.md).

FastAPI sees neither the form bodies (the services read them from the streaming form reader,
app/http/uploads.py) nor the errors the services raise. The routes declare both here: each
form body is built from the pydantic field models the services validate with and the page
forms are generated from (app/workflow/fields.py), and each error status refers to the one
error schema, `ErrorOut`, which is what the server really sends. `install()` puts the form
schemas into the document and replaces FastAPI's own validation-error schema by `ErrorOut`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.core.schemas import ErrorOut

ERROR_TEXT = {
    401: "未登录或令牌无效",
    403: "无权进行此操作（角色或职责不符）",
    404: "不存在，或调用者无权查看",
    409: "当前状态不允许此操作，expected_version 已过期，或同一请求正在处理",
    413: "上传内容超过大小上限",
    415: "文件不是支持的图片格式，或请求的内容类型不受支持",
    422: "字段缺失或无效：detail 为一句说明，或字段错误的列表",
    429: "请求过于频繁：Retry-After 给出等待的秒数",
}

# A download's body, whatever its media type.
BINARY = {"schema": {"type": "string", "format": "binary"}}

# The statuses most operations share: an authenticated read, and a write by a form.
READ = (401, 422)
READ_ONE = (401, 404, 422)
WRITE = (401, 403, 404, 409, 422)
UPLOAD = (*WRITE, 413, 415)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries: each status with the error schema and what it means here."""
    return {status: {"model": ErrorOut, "description": ERROR_TEXT[status]}
            for status in sorted(set(statuses))}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True)
class FormBody:
    """A form body: the union of the models' fields (a field in several models must be declared
    alike), and photo files when `photos` is set."""

    name: str
    models: tuple[type[BaseModel], ...]
    photos: bool
    photos_required: bool
    description: str
    fields_by: dict[str, type[BaseModel]] | None = None


_FORMS: dict[str, FormBody] = {}


def form_body(name: str, *models: type[BaseModel], photos: bool = False,
              photos_required: bool = False, url_encoded: bool = True, json: bool = False,
              description: str = "",
              fields_by: dict[str, type[BaseModel]] | None = None) -> dict[str, Any]:
    """`openapi_extra=` for a route reading its form with `ActionFormDep`.

    Multipart always; URL-encoded too where no file is required (files cannot be sent that
    way); JSON where the route reads that too. `fields_by` names, for a body shared by several
    actions, the model of each: the schema's `x-fields-by-action` then lists each action's
    required and optional fields.
    """
    _FORMS[name] = FormBody(name, models, photos, photos_required, description, fields_by)
    content: dict[str, Any] = {"multipart/form-data": {"schema": ref(name)}}
    if url_encoded and not photos_required:
        content["application/x-www-form-urlencoded"] = {"schema": ref(f"{name}Fields")}
    if json:
        content["application/json"] = {"schema": ref(f"{name}Fields")}
    return {"requestBody": {"required": True, "content": content}}


def _form_schemas(forms: Iterable[FormBody]) -> dict[str, Any]:
    """Each form as two component schemas, `<name>` (multipart) and `<name>Fields` (the same
    without files), plus the definitions (enums) the fields refer to."""
    models = {model for form in forms for model in form.models}
    keyed, top = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__qualname__)],
        ref_template="#/components/schemas/{model}")
    by_model = {model: schema for (model, _), schema in keyed.items()}
    definitions = top.get("$defs", {})
    schemas: dict[str, Any] = {}
    for form in forms:
        properties: dict[str, Any] = {}
        required: list[str] | None = None
        for model in form.models:
            schema = _resolve(by_model[model], definitions)
            for field_name, field_schema in schema.get("properties", {}).items():
                properties.setdefault(field_name, field_schema)
            if len(form.models) == 1:
                required = schema.get("required", [])
        fields: dict[str, Any] = {"type": "object", "title": f"{form.name}Fields",
                                  "properties": properties}
        if required:
            fields["required"] = required
        if form.description:
            fields["description"] = form.description
        if form.fields_by:
            fields["x-fields-by-action"] = _fields_by(form.fields_by)
        schemas[f"{form.name}Fields"] = fields
        upload = {**fields, "title": form.name, "properties": dict(properties)}
        if form.photos:
            upload["properties"]["photos"] = {
                "type": "array", "items": {"type": "string", "format": "binary"},
                "minItems": 1 if form.photos_required else 0,
                "description": "照片（每个文件一个 `photos` 部分）"}
            if form.photos_required:
                upload["required"] = [*upload.get("required", []), "photos"]
        schemas[form.name] = upload
    # The field models themselves are not components: only the forms made of them are.
    own = {model.__name__ for model in models}
    return {**{name: d for name, d in definitions.items() if name not in own}, **schemas}


def _resolve(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """A model's schema itself (models_json_schema answers a `$ref` into its `$defs`)."""
    if "$ref" in schema:
        return definitions[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _fields_by(models: dict[str, type[BaseModel]]) -> dict[str, Any]:
    listed = {}
    for action, model in models.items():
        required = [name for name, info in model.model_fields.items() if info.is_required()]
        optional = [name for name, info in model.model_fields.items()
                    if not info.is_required()]
        listed[action] = {"required": required, "optional": optional}
    return listed


def _error_schemas() -> dict[str, Any]:
    schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "ErrorOut": schema}


def _replace_validation_error(node: Any) -> Any:
    """FastAPI's HTTPValidationError refs → ErrorOut (the server's one error shape)."""
    if isinstance(node, dict):
        if node.get("$ref") == "#/components/schemas/HTTPValidationError":
            return ref("ErrorOut")
        return {key: _replace_validation_error(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_validation_error(value) for value in node]
    return node


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                   description=app.description, routes=app.routes)
            document = _replace_validation_error(document)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            schemas.update(_form_schemas(_FORMS.values()))
            schemas.update(_error_schemas())
            document["components"]["schemas"] = dict(sorted(schemas.items()))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
