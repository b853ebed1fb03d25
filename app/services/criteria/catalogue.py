"""The criteria catalogue (重大事故隐患判定标准): search it, list its documents, import text.

An import replaces a document's entries: after it, the document's active entries are exactly
the file's rows. Replaced entries are never deleted but superseded (kept, hidden from search),
because hazards cite entries by id and a citation must keep the text it cited. An entry whose
article, item and text are unchanged keeps its row and id, so re-importing a file (or the
official text confirming an entry) leaves existing citations on active entries.
"""

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.db import valid_id
from app.core.errors import NotFound, PayloadTooLarge, Unprocessable
from app.models import CriteriaDocument, Criterion
from app.models.criteria import Completeness, Verification
from app.services.media.imaging.staged import StagedFile

COLUMNS = ("doc_code", "doc_title", "article", "item", "industry", "text", "source_url",
           "verification")
REQUIRED = ("doc_code", "doc_title", "text")
MAX_LENGTHS = {"doc_code": 32, "doc_title": 200, "article": 32, "item": 32, "industry": 50,
               "text": 20000, "source_url": 500, "verification": 500}
DOC_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_ERRORS = 100
MAX_PAGE = 200

# How the `verification` column reads (case-insensitive): the first word decides the status,
# the rest (after a colon) is kept as the note. The data README's own mark for 2+ sources:
VERIFIED_MARK = "two or more sources"

MESSAGES = {
    "not_found": "判定标准条目不存在",
    "too_large": f"文件超过 {MAX_IMPORT_BYTES // (1024 * 1024)} MB 上限",
    "no_file": "请上传 CSV 文件（表单字段 file）",
    "encoding": "文件不是 UTF-8 编码：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」",
    "csv": "CSV 格式错误：{error}",
    "empty": "文件没有数据行",
    "too_many_rows": f"一次最多导入 {MAX_ROWS} 行",
    "missing_column": "缺少列 {column}",
    "unknown_column": "未知的列 {column}（应为 " + ",".join(COLUMNS) + "）",
    "duplicate_column": "列 {column} 重复",
    "field_count": "该行有 {got} 个字段，表头有 {want} 个",
    "required": "必填",
    "too_long": "超过 {limit} 个字符",
    "control": "含有不允许的控制字符",
    "doc_code": "文件编号只能由字母、数字和 _ . - 组成",
    "title_differs": "同一文件中 {code} 的标题与第 {row} 行不一致",
    "duplicate_entry": "与第 {row} 行的条、项重复（{code} {label}）",
    "verification": "核对状态应为 two or more sources、verified[: 依据] 或 unverified[: 原因]",
    "completeness": "完整性应为 complete（完整）或 partial（不完整）",
    "more_errors": "另有 {count} 处错误未列出",
    "query": "搜索条件含有不允许的控制字符",
    "new_document_note": "导入时未说明是否完整",
}


@dataclass(frozen=True)
class DocumentSummary:
    document: CriteriaDocument
    verified: int
    unverified: int
    superseded: int
    industries: list[str]


@dataclass
class ImportResult:
    """What an import did to one document."""

    document: CriteriaDocument
    created: bool
    added: int = 0
    kept: int = 0
    superseded: int = 0
    verified: int = 0
    unverified: int = 0


@dataclass(frozen=True)
class _Entry:
    doc_code: str
    doc_title: str
    article: str
    item: str
    industry: str
    text: str
    source_url: str
    verification: Verification
    verification_note: str


@dataclass
class _Errors:
    items: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, row: int, column: str, msg: str, kind: str = "value_error") -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append({"loc": ["body", "file", row, column], "row": row,
                               "column": column, "msg": msg, "type": kind})

    def raise_if_any(self) -> None:
        if not self.count:
            return
        items = list(self.items)
        if self.count > len(items):
            items.append({"loc": ["body", "file"], "msg": MESSAGES["more_errors"].format(
                count=self.count - len(items)), "type": "value_error"})
        raise Unprocessable(items)


def _file_error(msg: str, kind: str = "value_error") -> Unprocessable:
    return Unprocessable([{"loc": ["body", "file"], "msg": msg, "type": kind}])


# --- reading -------------------------------------------------------------------------------


def get_active_criterion(session: Session, criterion_id: int) -> Criterion | None:
    """The entry with this id if it is in force (not superseded), with its document loaded.

    For a hazard that names a criterion: only an active entry may be newly cited.
    """
    if not valid_id(criterion_id):
        return None
    return session.scalars(
        select(Criterion).options(joinedload(Criterion.document))
        .where(Criterion.id == criterion_id, Criterion.superseded_at.is_(None))
    ).first()


def get_criterion(session: Session, criterion_id: int) -> Criterion:
    """The entry with this id, superseded or not (a hazard's citation stays readable); 404."""
    criterion = None
    if valid_id(criterion_id):
        criterion = session.scalars(
            select(Criterion).options(joinedload(Criterion.document))
            .where(Criterion.id == criterion_id)
        ).first()
    if criterion is None:
        raise NotFound(MESSAGES["not_found"])
    return criterion


def _clean(value: str | None, name: str) -> str:
    value = (value or "").strip()
    if _has_control(value):
        raise Unprocessable([{"loc": ["query", name], "msg": MESSAGES["query"],
                              "type": "value_error"}])
    return value


def search_criteria(
    session: Session,
    *,
    q: str | None = None,
    industries: Sequence[str] = (),
    document: str | None = None,
    include_superseded: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Criterion], int]:
    """Entries matching every word of `q` (case-insensitive substring of text, article or
    item), of any of the industries and of the document code; active ones unless asked.
    Returns one page in document and catalogue order, and the total count."""
    query: Select[Criterion] = select(Criterion).join(Criterion.document)
    if not include_superseded:
        query = query.where(Criterion.superseded_at.is_(None))
    code = _clean(document, "document")
    if code:
        query = query.where(CriteriaDocument.code == code.upper())
    wanted = [name for name in (_clean(i, "industry") for i in industries) if name]
    if wanted:
        query = query.where(Criterion.industry.in_(wanted))
    for term in _clean(q, "q").split():
        query = query.where(or_(*(
            column.icontains(term, autoescape=True)
            for column in (Criterion.text, Criterion.article, Criterion.item)
        )))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.options(joinedload(Criterion.document))
        .order_by(CriteriaDocument.code, Criterion.position, Criterion.id)
        .limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
    )
    return list(page), total


def list_documents(session: Session) -> list[DocumentSummary]:
    """Every document with its completeness and the count of its entries by status."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(Criterion.document_id, Criterion.verification,
               Criterion.superseded_at.is_not(None), func.count())
        .group_by(Criterion.document_id, Criterion.verification,
                  Criterion.superseded_at.is_not(None))
    )
    for document_id, verification, superseded, n in rows:
        key = "superseded" if superseded else str(verification)
        bucket = counts.setdefault(document_id, {})
        bucket[key] = bucket.get(key, 0) + n
    industries: dict[int, list[str]] = {}
    for document_id, industry in session.execute(
        select(Criterion.document_id, Criterion.industry)
        .where(Criterion.superseded_at.is_(None), Criterion.industry != "")
        .order_by(Criterion.document_id, Criterion.position)
    ):
        names = industries.setdefault(document_id, [])
        if industry not in names:
            names.append(industry)
    return [
        DocumentSummary(
            document=document,
            verified=counts.get(document.id, {}).get(Verification.verified, 0),
            unverified=counts.get(document.id, {}).get(Verification.unverified, 0),
            superseded=counts.get(document.id, {}).get("superseded", 0),
            industries=industries.get(document.id, []),
        )
        for document in session.scalars(select(CriteriaDocument).order_by(CriteriaDocument.code))
    ]


# --- importing -----------------------------------------------------------------------------


def check_may_import(actor: Actor) -> None:
    """Only an admin loads text into the catalogue (it is shared by every region)."""
    require_role(actor, "criteria_import")


def parse_completeness(value: str | None) -> Completeness | None:
    """The optional `completeness` field: complete | partial, or absent (None)."""
    value = (value or "").strip().lower()
    if not value:
        return None
    try:
        return Completeness(value)
    except ValueError:
        raise Unprocessable([{"loc": ["body", "completeness"], "msg": MESSAGES["completeness"],
                              "type": "enum"}]) from None


def read_csv(data: bytes) -> list[dict[str, str]]:
    """The rows of a UTF-8 CSV (a BOM is allowed) with exactly the catalogue's columns, in any
    order. Row numbers in errors count the header as row 1, as a spreadsheet shows them."""
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(MESSAGES["too_large"])
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(MESSAGES["encoding"]) from None
    try:
        records = list(csv.reader(io.StringIO(content, newline="")))
    except csv.Error as error:
        raise _file_error(MESSAGES["csv"].format(error=error)) from None
    if not records:
        raise _file_error(MESSAGES["empty"], "missing")
    if len(records) - 1 > MAX_ROWS:
        raise _file_error(MESSAGES["too_many_rows"])
    header = [name.strip() for name in records[0]]
    errors = _Errors()
    for name in sorted(set(header)):
        if header.count(name) > 1:
            errors.add(1, name, MESSAGES["duplicate_column"].format(column=name))
        if name not in COLUMNS:
            errors.add(1, name, MESSAGES["unknown_column"].format(column=name))
    for name in COLUMNS:
        if name not in header:
            errors.add(1, name, MESSAGES["missing_column"].format(column=name), "missing")
    errors.raise_if_any()
    rows: list[dict[str, str]] = []
    for number, record in enumerate(records[1:], start=2):
        if _blank(record):
            rows.append({})  # kept, so that the rows after it keep their numbers
        elif len(record) != len(header):
            errors.add(number, "", MESSAGES["field_count"].format(got=len(record),
                                                                  want=len(header)))
        else:
            rows.append(dict(zip(header, record, strict=True)))
    errors.raise_if_any()
    return rows


def _blank(values: Sequence[str | None]) -> bool:
    return not any(value and value.strip() for value in values)


def _has_control(value: str) -> bool:
    return any((ch < " " and ch not in "\t\n\r") or ch == "\x7f" for ch in value)


def _verification(value: str) -> tuple[Verification, str] | None:
    word, _, note = value.partition(":")
    word, note = word.strip().lower(), note.strip()
    if value.strip().lower() == VERIFIED_MARK:
        return Verification.verified, value.strip()
    if word in ("verified", "unverified"):
        return Verification(word), note
    if not value.strip():
        return Verification.unverified, ""
    return None


def _validate(rows: Sequence[Mapping[str, str | None]]) -> list[_Entry]:
    errors = _Errors()
    entries: list[_Entry] = []
    titles: dict[str, tuple[str, int]] = {}
    labels: dict[tuple[str, str, str], int] = {}
    for number, raw in enumerate(rows, start=2):
        if _blank([raw.get(name) for name in COLUMNS]):
            continue  # an empty line, or a spreadsheet's empty row
        row = {name: (raw.get(name) or "").strip() for name in COLUMNS}
        bad = False
        for name in COLUMNS:
            if name in REQUIRED and not row[name]:
                errors.add(number, name, MESSAGES["required"], "missing")
                bad = True
            elif len(row[name]) > MAX_LENGTHS[name]:
                errors.add(number, name, MESSAGES["too_long"].format(limit=MAX_LENGTHS[name]))
                bad = True
            elif _has_control(row[name]) or (name != "text" and "\n" in row[name]):
                errors.add(number, name, MESSAGES["control"])
                bad = True
        if row["doc_code"] and not bad and not DOC_CODE.fullmatch(row["doc_code"]):
            errors.add(number, "doc_code", MESSAGES["doc_code"])
            bad = True
        verification = _verification(row["verification"])
        if verification is None:
            errors.add(number, "verification", MESSAGES["verification"], "enum")
            bad = True
        if bad or verification is None:
            continue
        code = row["doc_code"].upper()
        title, first = titles.setdefault(code, (row["doc_title"], number))
        if title != row["doc_title"]:
            errors.add(number, "doc_title", MESSAGES["title_differs"].format(code=code, row=first))
        label = (code, row["article"], row["item"])
        if label in labels:
            errors.add(number, "item", MESSAGES["duplicate_entry"].format(
                row=labels[label], code=code, label=row["article"] + row["item"]))
        labels.setdefault(label, number)
        entries.append(_Entry(
            doc_code=code, doc_title=row["doc_title"], article=row["article"],
            item=row["item"], industry=row["industry"], text=row["text"],
            source_url=row["source_url"], verification=verification[0],
            verification_note=verification[1],
        ))
    errors.raise_if_any()
    if not entries:
        raise _file_error(MESSAGES["empty"], "missing")
    return entries


def import_document(
    session: Session,
    rows: Sequence[Mapping[str, str | None]],
    *,
    now: datetime,
    completeness: Completeness | None = None,
    completeness_note: str | None = None,
    issuing_number: str | None = None,
) -> list[ImportResult]:
    """Replace the entries of every document named in `rows` (by doc_code) with the rows.

    Every row is checked first: any bad row raises Unprocessable listing each error by row
    (the header is row 1) and column, and nothing is written. Documents not named in the
    file are untouched. `completeness` (with its note) and `issuing_number`, when given,
    apply to every document in the file; otherwise an existing document keeps its own and a
    new one is recorded as partial. Flushes; the caller's transaction commits.
    """
    entries = _validate(rows)
    by_code: dict[str, list[_Entry]] = {}
    for entry in entries:
        by_code.setdefault(entry.doc_code, []).append(entry)
    return [
        _replace(session, code, group, now=now, completeness=completeness,
                 completeness_note=completeness_note, issuing_number=issuing_number)
        for code, group in by_code.items()
    ]


def import_csv(
    session: Session,
    data: bytes,
    *,
    now: datetime,
    completeness: Completeness | None = None,
    completeness_note: str | None = None,
    issuing_number: str | None = None,
) -> list[ImportResult]:
    """read_csv, then import_document."""
    return import_document(session, read_csv(data), now=now, completeness=completeness,
                           completeness_note=completeness_note, issuing_number=issuing_number)


def import_upload(
    session: Session, *, files: Sequence[StagedFile], fields: Mapping[str, str], now: datetime
) -> list[ImportResult]:
    """An import from the upload form: the CSV in file part `file`; optional fields
    `completeness`, `completeness_note`, `issuing_number`."""
    uploads = [f for f in files if f.field_name == "file" and (f.filename or f.size)]
    if len(uploads) != 1:
        raise Unprocessable([{"loc": ["body", "file"], "msg": MESSAGES["no_file"],
                              "type": "missing"}])
    completeness = parse_completeness(fields.get("completeness"))
    if uploads[0].size > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(MESSAGES["too_large"])
    return import_csv(
        session, uploads[0].path.read_bytes(), now=now, completeness=completeness,
        completeness_note=fields.get("completeness_note"),
        issuing_number=fields.get("issuing_number"),
    )


def _locked_document(
    session: Session, code: str, title: str, now: datetime
) -> tuple[CriteriaDocument, bool]:
    """The document row, created when missing, locked against a concurrent import."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(CriteriaDocument.__table__)
        .values(code=code, title=title, completeness=Completeness.partial,
                completeness_note=MESSAGES["new_document_note"], updated_at=now)
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(CriteriaDocument.__table__.c.id)
    ).first()
    document = session.scalars(
        select(CriteriaDocument).where(CriteriaDocument.code == code)
        .with_for_update().execution_options(populate_existing=True)
    ).one()
    return document, inserted is not None


def _replace(
    session: Session,
    code: str,
    entries: list[_Entry],
    *,
    now: datetime,
    completeness: Completeness | None,
    completeness_note: str | None,
    issuing_number: str | None,
) -> ImportResult:
    document, created = _locked_document(session, code, entries[0].doc_title, now)
    document.title = entries[0].doc_title
    document.updated_at = now
    if completeness is not None:
        document.completeness = completeness
        document.completeness_note = (completeness_note or "").strip()
    elif completeness_note is not None and completeness_note.strip():
        document.completeness_note = completeness_note.strip()
    if issuing_number is not None and issuing_number.strip():
        document.issuing_number = issuing_number.strip()
    result = ImportResult(document=document, created=created)

    active = {
        (c.article, c.item, c.text): c
        for c in session.scalars(select(Criterion).where(
            Criterion.document_id == document.id, Criterion.superseded_at.is_(None)))
    }
    kept: dict[int, Criterion] = {}
    for index, entry in enumerate(entries):
        existing = active.pop((entry.article, entry.item, entry.text), None)
        if existing is not None:
            kept[index] = existing
    for stale in active.values():
        stale.superseded_at = now
    result.superseded = len(active)
    # The superseded rows leave the active-entry unique index before their successors enter.
    session.flush()

    for position, entry in enumerate(entries, start=1):
        criterion = kept.get(position - 1)
        if criterion is None:
            criterion = Criterion(document_id=document.id, article=entry.article,
                                  item=entry.item, text=entry.text)
            session.add(criterion)
            result.added += 1
        else:
            result.kept += 1
        criterion.position = position
        criterion.industry = entry.industry
        criterion.source_url = entry.source_url
        criterion.verification = entry.verification
        criterion.verification_note = entry.verification_note
        if entry.verification == Verification.verified:
            result.verified += 1
        else:
            result.unverified += 1
    session.flush()
    return result
