"""Administration pages (docs/admin.md): lists as tables, forms built from the same pydantic
models the API validates with, and the same services behind both. A temporary password is
shown once, on the page that made it."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.access.actor import Actor
from app.access.admin import (
    managed_roles,
    may_manage,
    may_set_status,
    require_org_admin,
    require_user_admin,
)
from app.core.errors import DomainError
from app.core.schemas import NO_NUL
from app.http.deps import ClockDep, SessionDep
from app.http.uploads import StagedForm
from app.models.enums import UnitKind
from app.services.accounts import users as user_service
from app.services.accounts.schemas import UserIn, UserPatch
from app.services.org import admin as org
from app.services.org.schemas import (
    EnterpriseIn,
    EnterprisePatch,
    RegionIn,
    RegionPatch,
    UnitIn,
    UnitPatch,
)
from app.web.responses import PageRejected, page, redirect
from app.web.session import CsrfFormDep, WebActorDep
from app.workflow.table import ROLE_LABELS

router = APIRouter(prefix="/admin", include_in_schema=False)

Cursor = Annotated[str | None, Query(max_length=100, pattern=NO_NUL)]
Search = Annotated[str | None, Query(max_length=64, pattern=NO_NUL)]
Done = Annotated[str | None, Query(max_length=20)]
PAGE_SIZE = 50
CHOICE_LIMIT = 1000  # options in a select: a county's units, townships and enterprises

WORDS = {
    "users": "用户", "enterprises": "企业", "units": "监管单位", "regions": "区划",
    "saved": "已保存", "unlocked": "已解锁", "deactivated": "账号已停用，其登录已全部失效",
    "activated": "账号已启用",
}
UNIT_KIND_LABELS = {UnitKind.department: "行业部门", UnitKind.township: "乡镇（街道）"}
LEVEL_LABELS = {"province": "省", "city": "市", "county": "县（区）", "township": "乡镇（街道）"}


@dataclass
class FormField:
    """One control of an administration form (label and hint from the model's field)."""

    name: str
    label: str
    kind: str = "text"  # text | select | checkboxes
    hint: str = ""
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)


def fields_of(model: type[BaseModel], names: tuple[str, ...],
              choices: dict[str, list[tuple[str, str]]], multi: tuple[str, ...] = (),
              ) -> list[FormField]:
    found = []
    for name in names:
        info = model.model_fields[name]
        kind = "checkboxes" if name in multi else "select" if name in choices else "text"
        found.append(FormField(name=name, label=info.title or name, kind=kind,
                               hint=info.description or "", required=info.is_required(),
                               choices=choices.get(name, [])))
    return found


def form_data(form: StagedForm, fields: list[FormField], *, patch: bool) -> dict[str, Any]:
    """The form's values as the API's body: checkboxes named `<field>.<id>` become lists;
    an empty control is left out of a new record and clears an edited one."""
    data: dict[str, Any] = {}
    for f in fields:
        if f.kind == "checkboxes":
            prefix = f"{f.name}."
            chosen = [key[len(prefix):] for key in form.fields if key.startswith(prefix)]
            if chosen:  # none ticked: the list is left as it is (a department needs one)
                data[f.name] = chosen
            continue
        value = form.fields.get(f.name, "").strip()
        if value:
            data[f.name] = value
        elif patch and not f.required:
            data[f.name] = None
    return data


def field_messages(detail: Any) -> tuple[dict[str, str], list[str]]:
    """A refusal's detail as (message per field, messages for the whole form)."""
    if not isinstance(detail, list):
        return {}, [str(detail)]
    by_field: dict[str, str] = {}
    general: list[str] = []
    for item in detail:
        loc = [str(p) for p in item.get("loc", []) if p != "body"] if isinstance(item, dict) else []
        if loc:
            by_field.setdefault(loc[0], str(item.get("msg", "")))
        else:
            general.append(str(item.get("msg", item) if isinstance(item, dict) else item))
    return by_field, general


def refused(request: Request, error: DomainError, template: str, **context: Any) -> PageRejected:
    errors, general = field_messages(error.detail)
    return PageRejected(page(request, template, status=error.status_code, errors=errors,
                             general_errors=general, **context), error)


# Choices -----------------------------------------------------------------------------------

def region_choices(session: Any, actor: Actor, level: str | None = None) -> list[tuple[str, str]]:
    return [(str(r.id), f"{r.name}（{r.code}）")
            for r in org.region_options(session, actor, level, CHOICE_LIMIT)]


def unit_choices(session: Any, actor: Actor) -> list[tuple[str, str]]:
    return [(str(u.id), u.name) for u in org.unit_options(session, actor, CHOICE_LIMIT)]


def enterprise_choices(session: Any, actor: Actor) -> list[tuple[str, str]]:
    return [(str(e.id), e.name) for e in org.enterprise_options(session, actor, CHOICE_LIMIT)]


def industry_choices(session: Any) -> list[tuple[str, str]]:
    return [(str(i.id), i.name) for i in org.industries(session)]


def role_choices(actor: Actor) -> list[tuple[str, str]]:
    return [(str(r), ROLE_LABELS[r]) for r in managed_roles(actor)]


# Users -------------------------------------------------------------------------------------

def user_fields(session: Any, actor: Actor, model: type[BaseModel]) -> list[FormField]:
    names = ("username", "display_name", "role", "enterprise_id", "unit_id", "region_id",
             "phone") if model is UserIn else ("display_name", "role", "enterprise_id",
                                               "unit_id", "region_id", "phone")
    return fields_of(model, names, {
        "role": role_choices(actor), "enterprise_id": enterprise_choices(session, actor),
        "unit_id": unit_choices(session, actor), "region_id": region_choices(session, actor)})


@router.get("/users")
def users_page(request: Request, actor: WebActorDep, session: SessionDep,
               cursor: Cursor = None, q: Search = None) -> Response:
    rows, next_cursor = user_service.list_users(session, actor, role=None, q=q,
                                                limit=PAGE_SIZE, cursor=cursor)
    return page(request, "admin_users.html", rows=rows, next_cursor=next_cursor, q=q or "",
                role_labels=ROLE_LABELS, may_create=bool(managed_roles(actor)))


@router.get("/users/new")
def new_user_page(request: Request, actor: WebActorDep, session: SessionDep) -> Response:
    require_user_admin(actor)
    return page(request, "admin_form.html", title="新建用户", action="/admin/users/new",
                fields=user_fields(session, actor, UserIn), values={}, back="/admin/users")


@router.post("/users/new")
def create_user(request: Request, actor: WebActorDep, form: CsrfFormDep, session: SessionDep,
                clock: ClockDep) -> Response:
    fields = user_fields(session, actor, UserIn)
    try:
        user, password = user_service.admin_create_user(
            session, actor, form_data(form, fields, patch=False), clock)
    except DomainError as error:
        raise refused(request, error, "admin_form.html", title="新建用户",
                      action="/admin/users/new", fields=fields, values=form.fields,
                      back="/admin/users") from None
    return page(request, "admin_password.html", user=user, password=password, created=True)


def _user_context(session: Any, actor: Actor, user: Any) -> dict[str, Any]:
    return {"user": user, "role_labels": ROLE_LABELS, "may_edit": may_manage(actor, user.role),
            "may_set_status": may_set_status(actor, user.role),
            "fields": user_fields(session, actor, UserPatch),
            "action": f"/admin/users/{user.id}", "title": f"用户 {user.username}"}


def _user_values(user: Any) -> dict[str, str]:
    return {name: "" if getattr(user, name) is None else str(getattr(user, name))
            for name in ("display_name", "role", "enterprise_id", "unit_id", "region_id",
                         "phone")}


@router.get("/users/{user_id:int}")
def user_page(request: Request, user_id: int, actor: WebActorDep, session: SessionDep,
              done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    user = user_service.get_user(session, actor, user_id)
    return page(request, "admin_user.html", values=_user_values(user),
                notice=WORDS.get(done or ""), **_user_context(session, actor, user))


@router.post("/users/{user_id:int}")
def update_user(request: Request, user_id: int, actor: WebActorDep, form: CsrfFormDep,
                session: SessionDep, clock: ClockDep) -> Response:
    user = user_service.get_user(session, actor, user_id)
    context = _user_context(session, actor, user)
    try:
        user_service.update_user(session, actor, user_id,
                                 form_data(form, context["fields"], patch=True), clock)
    except DomainError as error:
        raise refused(request, error, "admin_user.html", values=form.fields,
                      **context) from None
    return redirect(request, f"/admin/users/{user_id}?done=saved")


@router.post("/users/{user_id:int}/active")
def set_active(request: Request, user_id: int, actor: WebActorDep, form: CsrfFormDep,
               session: SessionDep, clock: ClockDep) -> Response:
    active = form.fields.get("active") == "true"
    user_service.update_user(session, actor, user_id, {"active": active}, clock)
    done = "activated" if active else "deactivated"
    return redirect(request, f"/admin/users/{user_id}?done={done}")


@router.post("/users/{user_id:int}/password-reset")
def reset_password(request: Request, user_id: int, actor: WebActorDep, _form: CsrfFormDep,
                   session: SessionDep, clock: ClockDep) -> Response:
    password = user_service.reset_password(session, actor, user_id, clock)
    user = user_service.get_user(session, actor, user_id)
    return page(request, "admin_password.html", user=user, password=password, created=False)


@router.post("/users/{user_id:int}/unlock")
def unlock(request: Request, user_id: int, actor: WebActorDep, _form: CsrfFormDep,
           session: SessionDep, clock: ClockDep) -> Response:
    user_service.unlock_user(session, actor, user_id, clock)
    return redirect(request, f"/admin/users/{user_id}?done=unlocked")


# Regions, units, enterprises ------------------------------------------------------------------

@dataclass(frozen=True)
class OrgKind:
    """One kind of organisation record: its list's columns and its two forms."""

    name: str
    create_model: type[BaseModel]
    patch_model: type[BaseModel]
    create_fields: tuple[str, ...]
    patch_fields: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (attribute, heading)
    multi: tuple[str, ...] = ()


KINDS = {
    "regions": OrgKind("regions", RegionIn, RegionPatch, ("parent_id", "code", "name"),
                       ("name",), (("code", "区划代码"), ("name", "名称"), ("level", "级别"))),
    "units": OrgKind("units", UnitIn, UnitPatch,
                     ("name", "kind", "region_id", "industry_ids", "region_ids"),
                     ("name", "region_id", "industry_ids", "region_ids"),
                     (("name", "单位名称"), ("kind", "类型"), ("region_id", "所属区划")),
                     multi=("industry_ids", "region_ids")),
    "enterprises": OrgKind("enterprises", EnterpriseIn, EnterprisePatch,
                           ("name", "uscc", "region_id", "industry_id", "address", "lat", "lon"),
                           ("name", "uscc", "region_id", "industry_id", "address", "lat", "lon"),
                           (("name", "企业名称"), ("uscc", "统一社会信用代码"),
                            ("region_id", "所属乡镇"), ("address", "地址"))),
}
LISTS = {"regions": org.list_regions, "units": org.list_units,
         "enterprises": org.list_enterprises}
CREATE = {"regions": org.create_region, "units": org.create_unit,
          "enterprises": org.create_enterprise}
UPDATE = {"regions": org.update_region, "units": org.update_unit,
          "enterprises": org.update_enterprise}
ONE = {"regions": org.get_region, "units": org.get_unit, "enterprises": org.get_enterprise}


def _org_choices(session: Any, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    return {"parent_id": region_choices(session, actor, "county"),
            "region_id": region_choices(session, actor),
            "region_ids": region_choices(session, actor),
            "industry_id": industry_choices(session), "industry_ids": industry_choices(session),
            "kind": [(str(k), label) for k, label in UNIT_KIND_LABELS.items()]}


def _org_fields(session: Any, actor: Actor, kind: OrgKind, patch: bool) -> list[FormField]:
    model, names = ((kind.patch_model, kind.patch_fields) if patch
                    else (kind.create_model, kind.create_fields))
    return fields_of(model, names, _org_choices(session, actor), kind.multi)


def _values(row: Any, fields: list[FormField]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields:
        if f.kind == "checkboxes":
            attr = {"industry_ids": "industries", "region_ids": "regions"}[f.name]
            values[f.name] = [str(x.id) for x in getattr(row, attr)]
        else:
            value = getattr(row, f.name)
            values[f.name] = "" if value is None else str(value)
    return values


def _posted(form: StagedForm, fields: list[FormField]) -> dict[str, Any]:
    """What was typed, to show again with the refusal."""
    values: dict[str, Any] = dict(form.fields)
    for f in fields:
        if f.kind == "checkboxes":
            values[f.name] = [k[len(f.name) + 1:] for k in form.fields
                              if k.startswith(f"{f.name}.")]
    return values


def org_list(request: Request, kind: OrgKind, actor: Actor, session: Any,
             cursor: str | None) -> Response:
    rows, next_cursor = LISTS[kind.name](session, actor, limit=PAGE_SIZE, cursor=cursor)
    names = {key: dict(options) for key, options in _org_choices(session, actor).items()}
    return page(request, "admin_list.html", kind=kind, title=WORDS[kind.name], rows=rows,
                next_cursor=next_cursor, names=names, level_labels=LEVEL_LABELS)


def org_new(request: Request, kind: OrgKind, actor: Actor, session: Any) -> Response:
    require_org_admin(actor)
    return page(request, "admin_form.html", title=f"新建{WORDS[kind.name]}",
                action=f"/admin/{kind.name}/new", fields=_org_fields(session, actor, kind, False),
                values={}, back=f"/admin/{kind.name}")


def org_create(request: Request, kind: OrgKind, actor: Actor, form: StagedForm, session: Any,
               clock: Any) -> Response:
    fields = _org_fields(session, actor, kind, False)
    try:
        row = CREATE[kind.name](session, actor, form_data(form, fields, patch=False), clock)
    except DomainError as error:
        raise refused(request, error, "admin_form.html", title=f"新建{WORDS[kind.name]}",
                      action=f"/admin/{kind.name}/new", fields=fields,
                      values=_posted(form, fields), back=f"/admin/{kind.name}") from None
    return redirect(request, f"/admin/{kind.name}/{row.id}?done=saved")


def org_edit(request: Request, kind: OrgKind, row_id: int, actor: Actor, session: Any,
             done: str | None) -> Response:
    row = ONE[kind.name](session, actor, row_id)
    fields = _org_fields(session, actor, kind, True)
    return page(request, "admin_form.html", title=f"{WORDS[kind.name]}：{row.name}",
                action=f"/admin/{kind.name}/{row.id}", fields=fields, values=_values(row, fields),
                back=f"/admin/{kind.name}", notice=WORDS.get(done or ""))


def org_update(request: Request, kind: OrgKind, row_id: int, actor: Actor, form: StagedForm,
               session: Any, clock: Any) -> Response:
    row = ONE[kind.name](session, actor, row_id)
    fields = _org_fields(session, actor, kind, True)
    title, action = f"{WORDS[kind.name]}：{row.name}", f"/admin/{kind.name}/{row.id}"
    try:
        UPDATE[kind.name](session, actor, row_id, form_data(form, fields, patch=True), clock)
    except DomainError as error:
        raise refused(request, error, "admin_form.html", title=title, action=action,
                      fields=fields, values=_posted(form, fields),
                      back=f"/admin/{kind.name}") from None
    return redirect(request, f"{action}?done=saved")


def _routes(kind: OrgKind) -> None:
    """The five pages of one kind of record (ids in paths typed as integers)."""
    base = f"/{kind.name}"

    def list_page(request: Request, actor: WebActorDep, session: SessionDep,
                  cursor: Cursor = None) -> Response:
        return org_list(request, kind, actor, session, cursor)

    def new_page(request: Request, actor: WebActorDep, session: SessionDep) -> Response:
        return org_new(request, kind, actor, session)

    def create(request: Request, actor: WebActorDep, form: CsrfFormDep, session: SessionDep,
               clock: ClockDep) -> Response:
        return org_create(request, kind, actor, form, session, clock)

    def edit_page(request: Request, row_id: int, actor: WebActorDep, session: SessionDep,
                  done: Done = None) -> Response:
        return org_edit(request, kind, row_id, actor, session, done)

    def update(request: Request, row_id: int, actor: WebActorDep, form: CsrfFormDep,
               session: SessionDep, clock: ClockDep) -> Response:
        return org_update(request, kind, row_id, actor, form, session, clock)

    router.add_api_route(base, list_page, methods=["GET"], name=f"admin_{kind.name}")
    router.add_api_route(f"{base}/new", new_page, methods=["GET"],
                         name=f"admin_{kind.name}_new")
    router.add_api_route(f"{base}/new", create, methods=["POST"],
                         name=f"admin_{kind.name}_create")
    router.add_api_route(base + "/{row_id:int}", edit_page, methods=["GET"],
                         name=f"admin_{kind.name}_edit")
    router.add_api_route(base + "/{row_id:int}", update, methods=["POST"],
                         name=f"admin_{kind.name}_update")


for _kind in KINDS.values():
    _routes(_kind)
