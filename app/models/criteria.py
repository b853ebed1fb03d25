"""The criteria catalogue (重大事故隐患判定标准): documents and their numbered criteria."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime


class Completeness(StrEnum):
    complete = "complete"  # every criterion of the document is in the catalogue
    partial = "partial"  # some are missing: completeness_note says which


class Verification(StrEnum):
    # The text agrees in two or more independent sources (or was imported from the official
    # text and said so); the basis is in verification_note.
    verified = "verified"
    single_source = "single_source"  # read in one public reprint only
    unverified = "unverified"  # not checked against a reprint (e.g. only seen in code files)


class CriteriaDocument(Base):
    """One published standard, e.g. 《工贸企业重大事故隐患判定标准》 (code GM2023)."""

    __tablename__ = "criteria_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    issuing_number: Mapped[str | None] = mapped_column(String(100))  # 文号, e.g. 应急管理部令第10号
    year: Mapped[int | None]  # the year it was issued
    # The document that replaced it (GB 35181-2017 by GB 35181-2025): its entries stay for the
    # hazards citing them but are no longer offered for new citations.
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("criteria_document.id"))
    completeness: Mapped[Completeness] = mapped_column(String(16))
    completeness_note: Mapped[str] = mapped_column(Text, default="")
    # When the entries were last loaded (the migration, or an admin import).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="document", order_by="Criterion.position"
    )
    superseded_by: Mapped["CriteriaDocument | None"] = relationship(remote_side=[id])


class Criterion(Base):
    """One entry of a document: a numbered item (第三条（一）), or a whole article.

    Entries are never deleted: an import that replaces a document's text marks the entries it
    drops as superseded (superseded_at set). Hazards may cite an entry by id, and a citation
    must keep pointing at the text that was cited; search shows active entries only.
    """

    __tablename__ = "criterion"
    __table_args__ = (
        # At most one active entry per article and item of a document.
        Index(
            "uq_criterion_active", "document_id", "article", "item", unique=True,
            sqlite_where=sql_text("superseded_at IS NULL"),
            postgresql_where=sql_text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("criteria_document.id"), index=True)
    # The entry's place in its document as imported (the file's row order).
    position: Mapped[int]
    article: Mapped[str] = mapped_column(String(32), default="")  # 第N条; "" when un-articled
    item: Mapped[str] = mapped_column(String(32), default="")  # （一） or 1; "" for an article
    industry: Mapped[str] = mapped_column(String(50), default="")
    text: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str] = mapped_column(String(500), default="")
    source_date: Mapped[date | None]  # when the source was published (or, if undated, read)
    verification: Mapped[Verification] = mapped_column(String(16))
    verification_note: Mapped[str] = mapped_column(String(500), default="")
    # What search matches, derived at import: article, item and text in lower case, and the
    # text's pinyin initials (粉尘 → fc), so that the picker finds a clause typed on a phone
    # keyboard without Chinese input. One prepared column: one LIKE per word, no lower().
    search_text: Mapped[str] = mapped_column(Text, default="")
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The entry that replaced this one (same article and item in the later import), if any.
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("criterion.id"))

    document: Mapped[CriteriaDocument] = relationship(back_populates="criteria")
    superseded_by: Mapped["Criterion | None"] = relationship(remote_side=[id])
