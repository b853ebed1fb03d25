"""criteria catalogue: sources, successors, a search column; load app/data/criteria/catalogue

Adds criteria_document.year and .superseded_by_id (a document replaced by another, e.g.
GB 35181-2017 by GB 35181-2025), criterion.source_date, .search_text (article, item and text
in lower case and the text's pinyin initials, for the clause picker) and .superseded_by_id
(the entry that replaced it).

Then loads the catalogue files (app/data/criteria/catalogue/*.csv, described in the README
beside them) the way an import does: an entry whose article, item and text are unchanged
keeps its row and id; an entry no longer in the files is superseded, never deleted (a hazard
citing it keeps its citation), and names its successor of the same article and item; new
entries are added. For the files shipped with this revision that means: 第一、二、十五条 of
GM2023 (purpose, scope, commencement: not criteria) superseded; HG2017 item 8 superseded by
its corrected text; MK2021 (煤矿, 第三条) and GB35181-2017 (6.1–6.5, marked as replaced by
GB35181-2025, a document without entries yet) added.

Downgrade drops the new columns only. The catalogue rows stay as they are: hazards may cite
the new ones, and upgrading again finds every row unchanged.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 21:20:00
"""

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any

import sqlalchemy as sa
from alembic import op
from pypinyin import Style, lazy_pinyin

from app.db import UTCDateTime

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["doc_code", "doc_title", "doc_number", "doc_year", "doc_superseded_by", "article",
           "item", "industry", "text", "source_url", "source_date", "verification"]
STATUSES = ("verified", "single_source", "unverified")

# What the catalogue README says of each file (frozen here: the README may move on).
DOCUMENTS = [
    {
        "file": "gm2023.csv",
        "code": "GM2023",
        "completeness": "partial",
        "completeness_note": (
            "不完整：收录64项具体情形中的36项和第十四条。缺：第四条（冶金）（五）至（八）；"
            "第五条（有色）（一）至（七）；第七条（机械）（三）至（七）；第八条（轻工）、"
            "第九条（纺织）全部；第十一条（粉尘涉爆）（九）（十）；第十三条（有限空间）（二）。"
            "第一、二、十五条（目的、适用范围、施行日期）不是判定情形，已移出（保留供已引用的隐患）。"
            "官方全文未能读到，条目均未与官方文本逐字核对，部分仅有单一来源（见各条目核对状态）。"
        ),
    },
    {
        "file": "hg2017.csv",
        "code": "HG2017",
        "completeness": "complete",
        "completeness_note": (
            "收录全部20项。第1–14项两个独立转载一致；第15–20项未能在转载中读到全文"
            "（仅见于两个独立项目的代码文件），须与官方通知核对。"
        ),
    },
    {
        "file": "mk2021.csv",
        "code": "MK2021",
        "completeness": "partial",
        "completeness_note": (
            "不完整：仅收录第三条所列15个方面。第四条至第十八条（各方面的具体情形）未能读到。"
            "第一、二条（目的、适用范围）不是判定情形，未收录。"
        ),
    },
    {
        # No clause text of it could be read yet; it is here as GB 35181-2017's successor.
        "file": None,
        "code": "GB35181-2025",
        "title": "重大火灾隐患判定规则",
        "number": "GB 35181-2025",
        "year": 2025,
        "completeness": "partial",
        "completeness_note": (
            "不完整：条文未能读到，尚未收录。2025-04-25发布，2025-11-01实施，代替GB 35181-2017；"
            "第5章为直接判定要素，第6章为综合判定要素及综合判定规则，附录A为火灾自动报警系统和"
            "固定灭火设施不能正常运行的判定规则。"
        ),
    },
    {
        "file": "gb35181-2017.csv",
        "code": "GB35181-2017",
        "completeness": "partial",
        "completeness_note": (
            "不完整：仅收录第6章直接判定要素6.1至6.5（单一来源）；其余直接判定要素、第7章综合判定"
            "要素未能读到。已被GB 35181-2025代替（2025-11-01起）：条目保留供已引用的隐患，"
            "不再供新上报引用。"
        ),
    },
]


def upgrade() -> None:
    with op.batch_alter_table('criteria_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_criteria_document_superseded_by_id_criteria_document'),
            'criteria_document', ['superseded_by_id'], ['id'])
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_criterion_superseded_by_id_criterion'),
                                    'criterion', ['superseded_by_id'], ['id'])
    _load_catalogue()
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.alter_column('search_text', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_criterion_superseded_by_id_criterion'),
                                 type_='foreignkey')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('search_text')
        batch_op.drop_column('source_date')
    with op.batch_alter_table('criteria_document', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_criteria_document_superseded_by_id_criteria_document'),
            type_='foreignkey')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('year')


# Frozen table shapes for the data load: the app's models may change after this revision.
_document = sa.table(
    'criteria_document',
    sa.column('id', sa.Integer()), sa.column('code', sa.String()), sa.column('title', sa.String()),
    sa.column('issuing_number', sa.String()), sa.column('year', sa.Integer()),
    sa.column('completeness', sa.String()), sa.column('completeness_note', sa.Text()),
    sa.column('superseded_by_id', sa.Integer()), sa.column('updated_at', UTCDateTime()),
)
_criterion = sa.table(
    'criterion',
    sa.column('id', sa.Integer()), sa.column('document_id', sa.Integer()),
    sa.column('position', sa.Integer()), sa.column('article', sa.String()),
    sa.column('item', sa.String()), sa.column('industry', sa.String()),
    sa.column('text', sa.Text()), sa.column('source_url', sa.String()),
    sa.column('source_date', sa.Date()), sa.column('verification', sa.String()),
    sa.column('verification_note', sa.String()), sa.column('search_text', sa.Text()),
    sa.column('superseded_at', UTCDateTime()), sa.column('superseded_by_id', sa.Integer()),
)


def _search_text(article: str, item: str, text: str) -> str:
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return "\n".join([article.lower(), item.lower(), text.lower(), initials])


def _load_catalogue() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    for spec in DOCUMENTS:
        if spec["file"] is None:
            _document_row(bind, spec, {"doc_title": spec["title"], "doc_number": spec["number"],
                                       "doc_year": str(spec["year"]), "doc_superseded_by": ""},
                          now)
            continue
        rows = _read_rows(spec["file"])
        if {row["doc_code"] for row in rows} != {spec["code"]}:
            raise RuntimeError(f"{spec['file']}: expected one document {spec['code']}")
        document_id = _document_row(bind, spec, rows[0], now)
        _replace(bind, document_id, rows, now)
    _link_successors(bind)
    # Entries imported by an admin before this revision, and superseded ones: searchable too.
    for row_id, article, item, text in bind.execute(
        sa.select(_criterion.c.id, _criterion.c.article, _criterion.c.item, _criterion.c.text)
        .where(_criterion.c.search_text == '')
    ).all():
        bind.execute(_criterion.update().where(_criterion.c.id == row_id)
                     .values(search_text=_search_text(article, item, text)))


def _document_row(bind: sa.Connection, spec: dict[str, Any], row: dict[str, str],
                  now: datetime) -> int:
    successor = None
    if row["doc_superseded_by"]:  # loaded before it (DOCUMENTS' order)
        successor = bind.execute(sa.select(_document.c.id).where(
            _document.c.code == row["doc_superseded_by"])).scalar_one()
    values = {"title": row["doc_title"], "issuing_number": row["doc_number"],
              "year": int(row["doc_year"]), "completeness": spec["completeness"],
              "completeness_note": spec["completeness_note"], "superseded_by_id": successor,
              "updated_at": now}
    found = bind.execute(
        sa.select(_document.c.id).where(_document.c.code == spec["code"])).scalar()
    if found is None:
        bind.execute(_document.insert().values(code=spec["code"], **values))
        return bind.execute(
            sa.select(_document.c.id).where(_document.c.code == spec["code"])).scalar_one()
    bind.execute(_document.update().where(_document.c.id == found).values(**values))
    return int(found)


def _replace(bind: sa.Connection, document_id: int, rows: list[dict[str, str]],
             now: datetime) -> None:
    active = {
        (r.article, r.item, r.text): r.id
        for r in bind.execute(sa.select(_criterion).where(
            _criterion.c.document_id == document_id, _criterion.c.superseded_at.is_(None)))
    }
    kept = {index: active.pop((row["article"], row["item"], row["text"]))
            for index, row in enumerate(rows)
            if (row["article"], row["item"], row["text"]) in active}
    if active:  # leave the active-entry unique index before the successors enter
        bind.execute(_criterion.update().where(_criterion.c.id.in_(list(active.values())))
                     .values(superseded_at=now))
    for index, row in enumerate(rows):
        values = {"position": index + 1, "industry": row["industry"],
                  "source_url": row["source_url"],
                  "source_date": date.fromisoformat(row["source_date"])
                  if row["source_date"] else None,
                  "search_text": _search_text(row["article"], row["item"], row["text"]),
                  **_verification(row["verification"])}
        if index in kept:
            bind.execute(_criterion.update().where(_criterion.c.id == kept[index])
                         .values(**values))
        else:
            bind.execute(_criterion.insert().values(
                document_id=document_id, article=row["article"], item=row["item"],
                text=row["text"], **values))


def _link_successors(bind: sa.Connection) -> None:
    """A superseded entry without a successor names the active entry of the same article
    and item, if there is one (also for entries superseded by imports before this revision)."""
    old = _criterion.alias("old")
    new = _criterion.alias("new")
    pairs = bind.execute(
        sa.select(old.c.id, new.c.id).join(new, sa.and_(
            new.c.document_id == old.c.document_id, new.c.article == old.c.article,
            new.c.item == old.c.item, new.c.superseded_at.is_(None)))
        .where(old.c.superseded_at.is_not(None), old.c.superseded_by_id.is_(None))
    ).all()
    for old_id, new_id in pairs:
        bind.execute(_criterion.update().where(_criterion.c.id == old_id)
                     .values(superseded_by_id=new_id))


def _read_rows(name: str) -> list[dict[str, str]]:
    data = (files("app").joinpath("data", "criteria", "catalogue", name)
            .read_bytes().decode("utf-8-sig"))
    reader = csv.DictReader(io.StringIO(data, newline=""))
    if reader.fieldnames != COLUMNS:
        raise RuntimeError(f"{name}: unexpected columns {reader.fieldnames}")
    rows = [{key: (value or "").strip() for key, value in row.items()} for row in reader]
    if not rows or any(not row["text"] for row in rows):
        raise RuntimeError(f"{name}: no rows, or a row without text")
    return rows


def _verification(value: str) -> dict[str, str]:
    """'<status>: <note>' with status verified, single_source or unverified."""
    word, _, note = value.partition(":")
    if word.strip() not in STATUSES:
        raise RuntimeError(f"unexpected verification value {value!r}")
    return {"verification": word.strip(), "verification_note": note.strip()}
