"""Response models of the criteria catalogue (重大事故隐患判定标准)."""

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
    Verification.unverified: "未核实，须对照官方文本",
}


class DocumentRef(BaseModel):
    code: str
    title: str
    issuing_number: str | None
    completeness: Completeness
    completeness_label: str
    completeness_note: str

    @classmethod
    def of(cls, document: CriteriaDocument) -> "DocumentRef":
        completeness = Completeness(document.completeness)
        return cls(
            code=document.code, title=document.title, issuing_number=document.issuing_number,
            completeness=completeness, completeness_label=COMPLETENESS_LABELS[completeness],
            completeness_note=document.completeness_note,
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
    superseded: bool
    superseded_at: LocalDateTime | None

    @classmethod
    def of(cls, criterion: Criterion) -> "CriterionOut":
        verification = Verification(criterion.verification)
        return cls(
            id=criterion.id, document=DocumentRef.of(criterion.document),
            article=criterion.article, item=criterion.item, industry=criterion.industry,
            text=criterion.text, citation=citation(criterion.document, criterion),
            verification=verification, verification_label=VERIFICATION_LABELS[verification],
            verification_note=criterion.verification_note, source_url=criterion.source_url,
            superseded=criterion.superseded_at is not None, superseded_at=criterion.superseded_at,
        )


class CriterionPage(BaseModel):
    items: list[CriterionOut]
    total: int


class DocumentOut(DocumentRef):
    id: int
    verified: int  # active entries by status
    unverified: int
    superseded: int  # entries replaced by a later import, kept for the hazards citing them
    industries: list[str]
    updated_at: LocalDateTime

    @classmethod
    def of_summary(cls, summary: "DocumentSummary") -> "DocumentOut":
        document = summary.document
        return cls(
            **DocumentRef.of(document).model_dump(), id=document.id,
            verified=summary.verified, unverified=summary.unverified,
            superseded=summary.superseded, industries=summary.industries,
            updated_at=document.updated_at,
        )


class ImportedDocument(DocumentRef):
    created: bool  # the document was new to the catalogue
    added: int  # new entries
    kept: int  # entries whose article, item and text were unchanged (their ids stay)
    superseded: int  # entries no longer in the text: hidden from search, kept for citations
    verified: int
    unverified: int

    @classmethod
    def of_result(cls, result: "ImportResult") -> "ImportedDocument":
        return cls(
            **DocumentRef.of(result.document).model_dump(), created=result.created,
            added=result.added, kept=result.kept, superseded=result.superseded,
            verified=result.verified, unverified=result.unverified,
        )


class CatalogueImportOut(BaseModel):
    documents: list[ImportedDocument]
