"""The criteria catalogue (重大事故隐患判定标准): search, documents, one entry, admin import."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from app.access.actor import Actor
from app.core.schemas import NO_NUL
from app.http.deps import ActionFormDep, ActorDep, ClockDep, SessionDep
from app.http.openapi import READ, READ_ONE, errors
from app.services.criteria import catalogue as criteria_service
from app.services.criteria.schemas import (
    CatalogueImportOut,
    CriterionOut,
    CriterionPage,
    DocumentOut,
    ImportedDocument,
)

router = APIRouter(prefix="/criteria", tags=["criteria"])

Text50 = Annotated[str, Field(max_length=50, pattern=NO_NUL)]


@router.get("", response_model=CriterionPage, responses=errors(*READ))
def search_criteria(
    actor: ActorDep,
    session: SessionDep,
    q: Annotated[str | None, Query(
        max_length=100, pattern=NO_NUL,
        description="条款文字、条号或项号中的字词；多个词以空格分隔，须全部出现")] = None,
    industry: Annotated[list[Text50] | None, Query(
        max_length=20, description="行业，如 冶金、通用；可重复，任一即可")] = None,
    document: Annotated[str | None, Query(
        max_length=32, pattern=NO_NUL, description="文件编号，如 GM2023")] = None,
    include_superseded: Annotated[bool, Query(description="也列出已被新文本取代的条目")] = False,
    limit: Annotated[int, Query(ge=1, le=criteria_service.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[str | None, Query(
        max_length=64, pattern=NO_NUL, description="上一页的 next_cursor（按键集分页）")] = None,
    enterprise_id: Annotated[int | None, Query(
        description="只列适用于该企业行业的条目（须为您可上报的企业，否则 404）")] = None,
) -> Response:
    """查找判定标准条目 (in force unless `include_superseded`), in catalogue order. `q`'s
    words of Latin letters also match the text's pinyin initials (`fcbz` → 粉尘爆炸)."""
    within = (criteria_service.enterprise_industries(session, actor, enterprise_id)
              if enterprise_id is not None else None)
    page = criteria_service.search_criteria(
        session, q=q, industries=industry or [], within=within, document=document,
        include_superseded=include_superseded, limit=limit, offset=offset, cursor=cursor,
    )
    # Serialised once by pydantic: returning the model would have FastAPI validate and
    # encode it again, a third of the picker's time (bench/bench_criteria.py).
    body = CriterionPage(items=[CriterionOut.of(c) for c in page.items], total=page.total,
                         next_cursor=page.next_cursor)
    return Response(body.model_dump_json(), media_type="application/json")


@router.get("/documents", response_model=list[DocumentOut], responses=errors(401))
def list_documents(actor: ActorDep, session: SessionDep) -> list[DocumentOut]:
    """The documents of the catalogue: completeness, and entries counted by verification."""
    return [DocumentOut.of_summary(s) for s in criteria_service.list_documents(session)]


@router.get("/{criterion_id:int}", response_model=CriterionOut,
            responses=errors(*READ_ONE))
def get_criterion(criterion_id: int, actor: ActorDep, session: SessionDep) -> CriterionOut:
    """One entry, also when superseded (the text a hazard cited stays readable)."""
    return CriterionOut.of(criteria_service.get_criterion(session, criterion_id))


def import_actor(actor: ActorDep) -> Actor:
    # Checked before the upload is read: a refused caller's file is never staged.
    criteria_service.check_may_import(actor)
    return actor


IMPORT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "UTF-8 CSV，列为 " + ",".join(criteria_service.COLUMNS)},
            "completeness": {"type": "string", "enum": ["complete", "partial"],
                             "description": "文件是否完整；省略时已有文件保持原状，"
                                            "新文件记为不完整"},
            "completeness_note": {"type": "string", "description": "缺少哪些条款等说明"},
            "issuing_number": {"type": "string", "description": "文号"},
        },
    }},
}}}


@router.post("/import", response_model=CatalogueImportOut, openapi_extra=IMPORT_BODY,
             responses=errors(401, 403, 413, 415, 422))
async def import_criteria(
    actor: Annotated[Actor, Depends(import_actor)],
    form: ActionFormDep,
    session: SessionDep,
    clock: ClockDep,
) -> CatalogueImportOut:
    """系统管理员导入判定标准 CSV: each document in the file has its entries replaced
    (entries dropped from it are superseded, never deleted); other documents are untouched.
    A file with any bad row is refused whole (422, errors by row and column)."""
    results = await run_in_threadpool(
        criteria_service.import_upload,
        session, files=form.files, fields=form.fields, now=clock.now(),
    )
    return CatalogueImportOut(documents=[ImportedDocument.of_result(r) for r in results])
