"""The criteria catalogue (重大事故隐患判定标准): search it, list its documents, import text.

An import replaces a document's entries: after it, the document's active entries are exactly
the file's rows. Replaced entries are never deleted but superseded (kept, hidden from search),
because hazards cite entries by id and a citation must keep the text it cited. An entry whose
article, item and text are unchanged keeps its row and id, so re-importing a file (or the
official text confirming an entry) leaves existing citations on active entries. A
superseded entry names its successor (the entry of the same article and item in the later
import), and a whole document can be marked as replaced by another (GB 35181-2017 by
GB 35181-2025): its entries stay readable but are no longer offered for new citations.
The file format and the picker's rules are described in docs/domain.md (criteria catalogue).
"""

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from app.access.actor import Actor
from app.access.roles import require_role
from app.access.scopes import reportable_enterprises
from app.core.cursors import decode_cursor, encode_cursor
from app.core.db import valid_id
from app.core.errors import NotFound, PayloadTooLarge, Unprocessable
from app.models import CriteriaDocument, Criterion, Enterprise
from app.models.criteria import Completeness, Verification
from app.services.media.imaging.staged import StagedFile

COLUMNS = ("doc_code", "doc_title", "article", "item", "industry", "text", "source_url",
           "verification")
# Columns a file may add (the shipped catalogue has them all); a file without them imports
# as before, and a document keeps what it had for an absent column.
OPTIONAL_COLUMNS = ("doc_number", "doc_year", "doc_superseded_by", "source_date")
ALL_COLUMNS = COLUMNS + OPTIONAL_COLUMNS
REQUIRED = ("doc_code", "doc_title", "text")
MAX_LENGTHS = {"doc_code": 32, "doc_title": 200, "article": 32, "item": 32, "industry": 50,
               "text": 20000, "source_url": 500, "verification": 500, "doc_number": 100,
               "doc_year": 4, "doc_superseded_by": 32, "source_date": 10}
# Per-document columns: every row of a document must give the same value.
DOCUMENT_COLUMNS = ("doc_title", "doc_number", "doc_year", "doc_superseded_by")
YEARS = (1949, 2100)
DOC_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_ERRORS = 100
MAX_PAGE = 200
MAX_PICKER = 2000  # the report form's list: the whole catalogue in force, with room to grow

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
    "unknown_column": "未知的列 {column}（应为 " + ",".join(ALL_COLUMNS) + "）",
    "duplicate_column": "列 {column} 重复",
    "field_count": "该行有 {got} 个字段，表头有 {want} 个",
    "required": "必填",
    "too_long": "超过 {limit} 个字符",
    "control": "含有不允许的控制字符",
    "doc_code": "文件编号只能由字母、数字和 _ . - 组成",
    "title_differs": "同一文件中 {code} 的标题与第 {row} 行不一致",
    "document_differs": "同一文件中 {code} 的 {column} 与第 {row} 行不一致",
    "doc_year": f"年份应为 {YEARS[0]}–{YEARS[1]} 之间的四位数字",
    "source_date": "日期应为 YYYY-MM-DD（1949-01-01 至 2100-12-31）",
    "successor_unknown": "取代它的文件 {code} 不在目录中，也不在本文件中",
    "successor_self": "文件不能被自身取代",
    "duplicate_entry": "与第 {row} 行的条、项重复（{code} {label}）",
    "verification": ("核对状态应为 verified[: 依据]、single_source[: 出处]、unverified[: 原因]"
                     " 或 two or more sources"),
    "completeness": "完整性应为 complete（完整）或 partial（不完整）",
    "more_errors": "另有 {count} 处错误未列出",
    "query": "搜索条件含有不允许的控制字符",
    "cursor": "无效的分页游标",
    "enterprise": "企业不存在或不在您的上报范围内",
    "new_document_note": "导入时未说明是否完整",
}


@dataclass(frozen=True)
class DocumentSummary:
    document: CriteriaDocument
    verified: int
    single_source: int
    unverified: int
    superseded: int
    industries: list[str]


@dataclass(frozen=True)
class CriteriaPage:
    items: list[Criterion]
    total: int
    next_cursor: str | None


@dataclass
class ImportResult:
    """What an import did to one document."""

    document: CriteriaDocument
    created: bool
    added: int = 0
    kept: int = 0
    superseded: int = 0
    verified: int = 0
    single_source: int = 0
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
    # None: the column is absent from the file (the document keeps what it has).
    doc_number: str | None = None
    doc_year: int | None = None
    doc_superseded_by: str | None = None
    source_date: date | None = None


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


# Which of the catalogue's industries (fields) apply to an enterprise of an industry: the
# names the catalogue uses for it, the 工贸 standard's cross-cutting articles for a 工贸
# industry, and fire for everyone.
INDUSTRY_ALIASES = {"化工": ("危险化学品",), "危化": ("危险化学品",)}
GONGMAO = ("冶金", "有色", "建材", "机械", "轻工", "纺织", "烟草", "商贸")
GONGMAO_CROSS_CUTTING = ("通用", "粉尘涉爆", "涉氨制冷", "有限空间")
EVERY_ENTERPRISE = ("消防",)


def industries_for(industry_name: str) -> list[str]:
    """The catalogue industries a clause picker offers an enterprise of this industry."""
    names = list(INDUSTRY_ALIASES.get(industry_name, (industry_name,)))
    if industry_name in GONGMAO:
        names += GONGMAO_CROSS_CUTTING
    return names + [name for name in EVERY_ENTERPRISE if name not in names]


def enterprise_industries(session: Session, actor: Actor, enterprise_id: int) -> list[str]:
    """industries_for the enterprise's industry; 404 for an enterprise the caller may not
    report for (the picker serves the report form)."""
    enterprise = session.scalars(
        reportable_enterprises(actor).options(joinedload(Enterprise.industry))
        .where(Enterprise.id == enterprise_id)
    ).first() if valid_id(enterprise_id) else None
    if enterprise is None:
        raise NotFound(MESSAGES["enterprise"])
    return industries_for(enterprise.industry.name)


# --- reading -------------------------------------------------------------------------------


def in_force() -> ColumnElement[bool]:
    """An entry that may be newly cited: not superseded, in a document not replaced.
    (For a query that joins Criterion.document.)"""
    return and_(Criterion.superseded_at.is_(None), CriteriaDocument.superseded_by_id.is_(None))


def get_active_criterion(session: Session, criterion_id: int) -> Criterion | None:
    """The entry with this id if it is in force, with its document loaded.

    For a hazard that names a criterion: only an entry in force may be newly cited.
    """
    if not valid_id(criterion_id):
        return None
    return session.scalars(
        select(Criterion).join(Criterion.document).options(joinedload(Criterion.document))
        .where(Criterion.id == criterion_id, in_force())
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


def initials_of(text: str) -> str:
    """The pinyin initials of the Chinese characters of `text`, lower case (粉尘 → fc); other
    characters are left out, so that typed initials match across punctuation."""
    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")).lower()


def search_text_of(article: str, item: str, text: str) -> str:
    """The search column: the parts a word may match, each on a line of its own (a word has
    no line break, so it never spans two parts); the initials last, matched by Latin words."""
    return "\n".join([article.lower(), item.lower(), text.lower(), initials_of(text)])


def _after(session: Session, cursor: str) -> ColumnElement[bool]:
    """Rows after the cursor's row in catalogue order (document code, position, id)."""
    last = session.execute(
        select(CriteriaDocument.code, Criterion.position, Criterion.id)
        .join(Criterion.document).where(Criterion.id == decode_cursor(cursor, "c"))
    ).first()
    if last is None:  # a cursor for a row that does not exist was never handed out
        raise Unprocessable([{"loc": ["query", "cursor"], "msg": MESSAGES["cursor"],
                              "type": "value_error"}])
    code, position, row_id = last
    return or_(
        CriteriaDocument.code > code,
        and_(CriteriaDocument.code == code, or_(
            Criterion.position > position,
            and_(Criterion.position == position, Criterion.id > row_id),
        )),
    )


def _term(term: str) -> ColumnElement[bool]:
    """One search word: a case-insensitive substring of the text, article or item; a word of
    Latin letters also matches the text's pinyin initials (fcbz finds 粉尘爆炸). Only words of
    Latin letters can occur in the initials' line, so others match the first three alone."""
    return Criterion.search_text.contains(term.lower(), autoescape=True)


def search_criteria(
    session: Session,
    *,
    q: str | None = None,
    industries: Sequence[str] = (),
    within: Sequence[str] | None = None,
    document: str | None = None,
    include_superseded: bool = False,
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
) -> CriteriaPage:
    """Entries matching every word of `q` (see _term), of any of the industries, of one of
    `within` when given (an enterprise's industries_for), and of the document code; only
    those in force unless asked. Returns one page in document and
    catalogue order, the total count, and the keyset cursor of the next page (pass it back
    as `cursor`; `offset` still works, for the clients that page by offset)."""
    query: Select[tuple[Criterion]] = select(Criterion).join(Criterion.document)
    if not include_superseded:
        query = query.where(in_force())
    code = _clean(document, "document")
    if code:
        query = query.where(CriteriaDocument.code == code.upper())
    wanted = [name for name in (_clean(i, "industry") for i in industries) if name]
    if wanted:
        query = query.where(Criterion.industry.in_(wanted))
    if within is not None:
        query = query.where(Criterion.industry.in_(list(within)))
    for term in _clean(q, "q").split():
        query = query.where(_term(term))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if cursor:
        query = query.where(_after(session, cursor))
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(session.scalars(
        query.options(joinedload(Criterion.document))
        .order_by(CriteriaDocument.code, Criterion.position, Criterion.id)
        .limit(limit + 1).offset(max(0, offset))
    ))
    next_cursor = encode_cursor(rows[limit - 1].id, "c") if len(rows) > limit else None
    return CriteriaPage(items=rows[:limit], total=total, next_cursor=next_cursor)


def picker_entries(session: Session, industries: Sequence[str] | None = None) -> list[Criterion]:
    """The entries a report may cite (in force), in catalogue order, with their documents;
    only of these industries when given. For the report form's clause list."""
    query = (select(Criterion).join(Criterion.document).options(joinedload(Criterion.document))
             .where(in_force()))
    if industries is not None:
        query = query.where(Criterion.industry.in_(list(industries)))
    return list(session.scalars(
        query.order_by(CriteriaDocument.code, Criterion.position, Criterion.id)
        .limit(MAX_PICKER)))


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
            single_source=counts.get(document.id, {}).get(Verification.single_source, 0),
            unverified=counts.get(document.id, {}).get(Verification.unverified, 0),
            superseded=counts.get(document.id, {}).get("superseded", 0),
            industries=industries.get(document.id, []),
        )
        for document in session.scalars(
            select(CriteriaDocument).options(joinedload(CriteriaDocument.superseded_by))
            .order_by(CriteriaDocument.code))
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
        if name not in ALL_COLUMNS:
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
    if word in {v.value for v in Verification}:
        return Verification(word), note
    if not value.strip():
        return Verification.unverified, ""
    return None


def _optional(raw: Mapping[str, str | None], name: str) -> str | None:
    """An optional column's value: None when the file has no such column."""
    value = raw.get(name)
    return None if value is None else value.strip()


def _year(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) != 4 or not YEARS[0] <= int(value) <= YEARS[1]:
        raise ValueError(value)
    return int(value)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    parsed = date.fromisoformat(value)  # ValueError when malformed
    if len(value) != 10 or not date(YEARS[0], 1, 1) <= parsed <= date(YEARS[1], 12, 31):
        raise ValueError(value)
    return parsed


def _document_values(row: Mapping[str, str], number: int, errors: _Errors,
                     first: dict[tuple[str, str], tuple[str, int]]) -> None:
    """Every row of a document gives the same title, number, year and successor."""
    code = row["doc_code"].upper()
    for name in DOCUMENT_COLUMNS:
        value, row_number = first.setdefault((code, name), (row.get(name, ""), number))
        if value != row.get(name, ""):
            key = "title_differs" if name == "doc_title" else "document_differs"
            errors.add(number, name, MESSAGES[key].format(code=code, column=name,
                                                          row=row_number))


def _validate(rows: Sequence[Mapping[str, str | None]]) -> list[_Entry]:
    errors = _Errors()
    entries: list[_Entry] = []
    first: dict[tuple[str, str], tuple[str, int]] = {}
    labels: dict[tuple[str, str, str], int] = {}
    for number, raw in enumerate(rows, start=2):
        if _blank([raw.get(name) for name in ALL_COLUMNS]):
            continue  # an empty line, or a spreadsheet's empty row
        present = [name for name in ALL_COLUMNS if name in COLUMNS or raw.get(name) is not None]
        row = {name: (raw.get(name) or "").strip() for name in present}
        bad = False
        for name in present:
            if name in REQUIRED and not row[name]:
                errors.add(number, name, MESSAGES["required"], "missing")
                bad = True
            elif len(row[name]) > MAX_LENGTHS[name]:
                errors.add(number, name, MESSAGES["too_long"].format(limit=MAX_LENGTHS[name]))
                bad = True
            elif _has_control(row[name]) or (name != "text" and "\n" in row[name]):
                errors.add(number, name, MESSAGES["control"])
                bad = True
        for name in ("doc_code", "doc_superseded_by"):
            if row.get(name) and not bad and not DOC_CODE.fullmatch(row[name]):
                errors.add(number, name, MESSAGES["doc_code"])
                bad = True
        verification = _verification(row["verification"])
        if verification is None:
            errors.add(number, "verification", MESSAGES["verification"], "enum")
            bad = True
        try:
            year = _year(row.get("doc_year"))
        except ValueError:
            errors.add(number, "doc_year", MESSAGES["doc_year"])
            bad = True
        try:
            source_date = _date(row.get("source_date"))
        except ValueError:
            errors.add(number, "source_date", MESSAGES["source_date"])
            bad = True
        if bad or verification is None:
            continue
        code = row["doc_code"].upper()
        _document_values(row, number, errors, first)
        if row.get("doc_superseded_by", "").upper() == code:
            errors.add(number, "doc_superseded_by", MESSAGES["successor_self"])
        label = (code, row["article"], row["item"])
        if label in labels:
            errors.add(number, "item", MESSAGES["duplicate_entry"].format(
                row=labels[label], code=code, label=row["article"] + row["item"]))
        labels.setdefault(label, number)
        entries.append(_Entry(
            doc_code=code, doc_title=row["doc_title"], article=row["article"],
            item=row["item"], industry=row["industry"], text=row["text"],
            source_url=row["source_url"], verification=verification[0],
            verification_note=verification[1], doc_number=_optional(raw, "doc_number"),
            doc_year=year, source_date=source_date,
            doc_superseded_by=(None if raw.get("doc_superseded_by") is None
                               else row["doc_superseded_by"].upper()),
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
    _check_successors(session, by_code)
    results = [
        _replace(session, code, group, now=now, completeness=completeness,
                 completeness_note=completeness_note, issuing_number=issuing_number)
        for code, group in by_code.items()
    ]
    _link_successors(session, by_code, results)
    return results


def _check_successors(session: Session, by_code: Mapping[str, list[_Entry]]) -> None:
    """A document marked as replaced names one in the catalogue or in the same file."""
    known = set(by_code) | set(session.scalars(select(CriteriaDocument.code)))
    unknown = sorted({successor for group in by_code.values()
                      if (successor := group[0].doc_superseded_by) and successor not in known})
    if unknown:
        raise Unprocessable([
            {"loc": ["body", "file", "doc_superseded_by"], "type": "value_error",
             "msg": MESSAGES["successor_unknown"].format(code=code)} for code in unknown])


def _link_successors(session: Session, by_code: Mapping[str, list[_Entry]],
                     results: Sequence[ImportResult]) -> None:
    for result in results:
        successor = by_code[result.document.code][0].doc_superseded_by
        if successor is None:
            continue  # the file has no such column: the document keeps its mark
        result.document.superseded_by_id = (session.scalars(
            select(CriteriaDocument.id).where(CriteriaDocument.code == successor)).one()
            if successor else None)
    session.flush()


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
    elif entries[0].doc_number:
        document.issuing_number = entries[0].doc_number
    if entries[0].doc_year is not None:
        document.year = entries[0].doc_year
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
    stale_by_label = {(c.article, c.item): c for c in active.values()}
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
        criterion.source_date = entry.source_date
        criterion.verification = entry.verification
        criterion.verification_note = entry.verification_note
        criterion.search_text = search_text_of(entry.article, entry.item, entry.text)
        if entry.verification == Verification.verified:
            result.verified += 1
        elif entry.verification == Verification.single_source:
            result.single_source += 1
        else:
            result.unverified += 1
        replaced = stale_by_label.get((entry.article, entry.item))
        if replaced is not None:
            replaced.superseded_by = criterion
    session.flush()
    return result
