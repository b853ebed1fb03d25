"""Onboarding import (初始化导入): templates, and the dry run / commit of a filled one."""

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.access.actor import Actor
from app.core.config import get_settings
from app.core.errors import PayloadTooLarge
from app.http.deps import ActorDep, ClockDep, SessionDep
from app.http.openapi import BINARY, errors
from app.http.uploads import Limits, StagedForm, read_streaming_form
from app.services.onboarding import files as onboarding_files
from app.services.onboarding import imports as onboarding_service
from app.services.onboarding.schemas import ImportOut, ImportRefused
from app.services.onboarding.spec import SPECS, ImportKind

router = APIRouter(prefix="/admin/import", tags=["admin"])

FORM_OVERHEAD = 64 * 1024  # the multipart envelope around the file


def import_actor(actor: ActorDep) -> Actor:
    # Checked before the upload is read: a refused caller's file is never staged.
    onboarding_service.check_may_import(actor)
    return actor


ImportActor = Annotated[Actor, Depends(import_actor)]


async def read_import_form(request: Request) -> AsyncIterator[StagedForm]:
    """The upload, staged with the import's size limit (413 as soon as it is crossed)."""
    limit = get_settings().import_max_bytes
    limits = Limits(max_file_bytes=limit, max_request_bytes=limit + FORM_OVERHEAD, max_files=1)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_request_bytes:
        raise PayloadTooLarge(f"文件超过 {limit // (1024 * 1024)} MB 上限")
    form = await read_streaming_form(request.headers.get("content-type", ""), request.stream(),
                                     limits, get_settings().media_root / "staging")
    try:
        yield form
    finally:
        form.discard()


def _attachment(data: bytes, media_type: str, name: str, ascii_name: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"),
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/template.xlsx", response_class=Response, responses={200: {
    "description": "导入模板（XLSX）：说明页，以及区划、监管单位、企业、用户四张表",
    "content": {onboarding_files.XLSX_MEDIA_TYPE: BINARY}}, **errors(401, 403)})
def xlsx_template(actor: ImportActor) -> Response:
    """The import template, one sheet per kind, headers with notes."""
    return _attachment(onboarding_files.xlsx_template(), onboarding_files.XLSX_MEDIA_TYPE,
                       "初始化导入模板.xlsx", "onboarding-template.xlsx")


@router.get("/templates/{kind}.csv", response_class=Response, responses={200: {
    "description": "一类数据的 CSV 模板（UTF-8 带 BOM）：中文表头一行、英文列名一行",
    "content": {"text/csv": BINARY}}, **errors(401, 403, 404, 422)})
def csv_template(kind: ImportKind, actor: ImportActor) -> Response:
    """The CSV template of one kind."""
    label = SPECS[kind].sheet
    return _attachment(onboarding_files.csv_template(kind), onboarding_files.CSV_MEDIA_TYPE,
                       f"初始化导入模板-{label}.csv", f"onboarding-{kind}.csv")


IMPORT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {
            "type": "string", "format": "binary",
            "description": "XLSX 工作簿（区划、监管单位、企业、用户，任选几张表）或一类数据的 "
                           "CSV（UTF-8，可带 BOM，或 GB18030；须给出 kind）"}},
    }},
}}}


@router.post(
    "",
    response_model=ImportOut,
    openapi_extra=IMPORT_BODY,
    responses={
        201: {"model": ImportOut, "description": "正式导入成功：新建的数量和初始密码"},
        **errors(401, 403, 413, 415),
        422: {"model": ImportRefused,
              "description": "正式导入被拒绝（列出全部问题，未写入任何数据），或文件无法读取"},
    },
)
async def run_import(
    actor: ImportActor,
    form: Annotated[StagedForm, Depends(read_import_form, scope="function")],
    session: SessionDep,
    clock: ClockDep,
    response: Response,
    dry_run: Annotated[bool, Query(
        description="true：只校验并列出全部问题；false：正式导入")] = True,
    kind: Annotated[ImportKind | None, Query(
        description="CSV 文件的数据类别（XLSX：只导入这张表）")] = None,
) -> ImportOut:
    """初始化导入 by an admin, within its region subtree. A dry run (the default) answers 200
    with every problem; a commit writes everything or nothing: 201 with what was created and
    the new users' initial passwords (shown this once), or 422 with the problems."""
    report = await run_in_threadpool(
        onboarding_service.import_upload, session, actor=actor, files=form.files, kind=kind,
        dry_run=dry_run, clock=clock)
    if not dry_run:
        response.status_code = 201
    return ImportOut.of(report)
