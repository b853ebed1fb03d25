"""Response models of the criteria catalogue (重大事故隐患判定标准)."""

from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel

from app.core.schemas import LocalDateTime
from app.models import CriteriaDocument, Criterion
from app.models.criteria import Completeness, Verification

if TYPE_CHECKING:
    from app.services.criteria.catalogue import DocumentSummary, ImportResult

COMPLETENESS_LABELS = {
    Completeness.complete: "完整",
    Completeness.partial: "不完整（缺部分条款）",
}
# "verified" rests on the basis in verification_note (for the shipped data: two or more
# independent sources agree), not necessarily on the official text.
VERIFICATION_LABELS = {
    Verification.verified: "已核实",
    Verification.single_source: "仅一个来源，须对照官方文本",
    Verification.unverified: "未核实，须对照官方文本",
}


class DocumentRef(BaseModel):
    code: str
    title: str
    issuing_number: str | None
    year: int | None
    completeness: Completeness
    completeness_label: str
    completeness_note: str
    superseded_by: str | None  # the code of the document that replaced it

    @classmethod
    def of(cls, document: CriteriaDocument) -> "DocumentRef":
        completeness = Completeness(document.completeness)
        return cls(
            code=document.code, title=document.title, issuing_number=document.issuing_number,
            year=document.year, completeness=completeness,
            completeness_label=COMPLETENESS_LABELS[completeness],
            completeness_note=document.completeness_note,
            superseded_by=document.superseded_by.code if document.superseded_by else None,
        )


def citation(document: CriteriaDocument, criterion: Criterion) -> str:
    """How a hazard record names the entry: 《标题》第三条（一）, or 《标题》第1项 for a list."""
    item = f"第{criterion.item}项" if criterion.item.isdigit() else criterion.item
    return f"《{document.title}》{criterion.article}{item}"


class CriterionOut(BaseModel):
    id: int
    document: DocumentRef
    article: str
    item: str
    industry: str
    text: str
    citation: str
    verification: Verification
    verification_label: str
    verification_note: str
    source_url: str
    source_date: date | None
    superseded: bool
    superseded_at: LocalDateTime | None
    superseded_by_id: int | None  # the entry that replaced it
    in_force: bool  # may be newly cited: not superseded, its document not replaced

    @classmethod
    def of(cls, criterion: Criterion) -> "CriterionOut":
        verification = Verification(criterion.verification)
        return cls(
            id=criterion.id, document=DocumentRef.of(criterion.document),
            article=criterion.article, item=criterion.item, industry=criterion.industry,
            text=criterion.text, citation=citation(criterion.document, criterion),
            verification=verification, verification_label=VERIFICATION_LABELS[verification],
            verification_note=criterion.verification_note, source_url=criterion.source_url,
            source_date=criterion.source_date,
            superseded=criterion.superseded_at is not None, superseded_at=criterion.superseded_at,
            superseded_by_id=criterion.superseded_by_id,
            in_force=(criterion.superseded_at is None
                      and criterion.document.superseded_by_id is None),
        )


class CriterionPage(BaseModel):
    items: list[CriterionOut]
    total: int
    next_cursor: str | None  # pass as `cursor` for the next page; null on the last


class DocumentOut(DocumentRef):
    id: int
    verified: int  # active entries by status
    single_source: int
    unverified: int
    superseded: int  # entries replaced by a later import, kept for the hazards citing them
    industries: list[str]
    updated_at: LocalDateTime

    @classmethod
    def of_summary(cls, summary: "DocumentSummary") -> "DocumentOut":
        document = summary.document
        return cls(
            **DocumentRef.of(document).model_dump(), id=document.id,
            verified=summary.verified, single_source=summary.single_source,
            unverified=summary.unverified,
            superseded=summary.superseded, industries=summary.industries,
            updated_at=document.updated_at,
        )


class ImportedDocument(DocumentRef):
    created: bool  # the document was new to the catalogue
    added: int  # new entries
    kept: int  # entries whose article, item and text were unchanged (their ids stay)
    superseded: int  # entries no longer in the text: hidden from search, kept for citations
    verified: int
    single_source: int
    unverified: int

    @classmethod
    def of_result(cls, result: "ImportResult") -> "ImportedDocument":
        return cls(
            **DocumentRef.of(result.document).model_dump(), created=result.created,
            added=result.added, kept=result.kept, superseded=result.superseded,
            verified=result.verified, single_source=result.single_source,
            unverified=result.unverified,
        )


class CatalogueImportOut(BaseModel):
    documents: list[ImportedDocument]
