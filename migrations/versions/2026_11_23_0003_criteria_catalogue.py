"""criteria catalogue: 重大事故隐患判定标准, documents and entries, loaded from the packaged CSVs

Creates criteria_document and criterion and loads app/data/criteria/*.csv (see the README
there for what the files cover and how each row was checked), so every database has the
catalogue after `bihuan migrate`. Downgrade drops both tables.

The CSVs are read as they are packaged: change them only together with a new migration (or
load further text with `bihuan criteria import`), so existing databases get the same change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 02:02:21.092394
"""

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.resources import files

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["doc_code", "doc_title", "article", "item", "industry", "text", "source_url",
           "verification"]

# What the data README says of each file: its 文号, and whether it holds the whole document.
DOCUMENTS = [
    {
        "file": "gongmao-2023.csv",
        "code": "GM2023",
        "issuing_number": "应急管理部令第10号",
        "completeness": "partial",
        "completeness_note": (
            "不完整：收录第一、二、十四、十五条全文和64项具体情形中的36项。"
            "缺：第四条（冶金）（五）起；第五条（有色）（一）至（七）；第七条（机械）（三）起；"
            "第八条（轻工）、第九条（纺织）全部；第十一条（粉尘涉爆）（九）起；"
            "第十三条（有限空间）（二）起；第十条（烟草）是否另有条款未确认。"
            "官方全文（国务院公报2023年第19号、应急管理部网站）未能读到，条目均未与官方文本逐字核对，"
            "部分条目仅有单一来源或繁体转换来源（见各条目核对状态）；是否已有修订未核实。"
        ),
    },
    {
        "file": "huagong-2017.csv",
        "code": "HG2017",
        "issuing_number": "安监总管三〔2017〕121号",
        "completeness": "complete",
        "completeness_note": (
            "收录全部20项。第15–20项未能在网页上读到全文（第16–20项仅见于两个独立项目的代码文件），"
            "须与官方通知核对；"
            "第8项「除厂区(包括化工园区、工业园区）外」括号混用照录原样，待与官方通知核对。"
        ),
    },
]

VERIFIED_MARK = "two or more sources"
UNVERIFIED_PREFIX = "unverified:"


def upgrade() -> None:
    op.create_table('criteria_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('issuing_number', sa.String(length=100), nullable=True),
    sa.Column('completeness', sa.String(length=16), nullable=False),
    sa.Column('completeness_note', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criteria_document')),
    sa.UniqueConstraint('code', name=op.f('uq_criteria_document_code'))
    )
    op.create_table('criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('article', sa.String(length=32), nullable=False),
    sa.Column('item', sa.String(length=32), nullable=False),
    sa.Column('industry', sa.String(length=50), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=False),
    sa.Column('verification', sa.String(length=16), nullable=False),
    sa.Column('verification_note', sa.String(length=500), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['criteria_document.id'], name=op.f('fk_criterion_document_id_criteria_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion'))
    )
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criterion_document_id'), ['document_id'], unique=False)
        batch_op.create_index('uq_criterion_active', ['document_id', 'article', 'item'], unique=True, sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))

    _load_catalogue()


def downgrade() -> None:
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_index('uq_criterion_active', sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_criterion_document_id'))

    op.drop_table('criterion')
    op.drop_table('criteria_document')


# Frozen table shapes for the data load: the app's models may change after this revision.
_document = sa.table(
    'criteria_document',
    sa.column('id', sa.Integer()), sa.column('code', sa.String()), sa.column('title', sa.String()),
    sa.column('issuing_number', sa.String()), sa.column('completeness', sa.String()),
    sa.column('completeness_note', sa.Text()), sa.column('updated_at', UTCDateTime()),
)
_criterion = sa.table(
    'criterion',
    sa.column('document_id', sa.Integer()), sa.column('position', sa.Integer()),
    sa.column('article', sa.String()), sa.column('item', sa.String()),
    sa.column('industry', sa.String()), sa.column('text', sa.Text()),
    sa.column('source_url', sa.String()), sa.column('verification', sa.String()),
    sa.column('verification_note', sa.String()),
)


def _load_catalogue() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    for spec in DOCUMENTS:
        rows = _read_rows(spec["file"])
        titles = {row["doc_title"] for row in rows}
        if len(titles) != 1 or {row["doc_code"] for row in rows} != {spec["code"]}:
            raise RuntimeError(f"{spec['file']}: expected one document {spec['code']}")
        bind.execute(_document.insert().values(
            code=spec["code"], title=titles.pop(), issuing_number=spec["issuing_number"],
            completeness=spec["completeness"], completeness_note=spec["completeness_note"],
            updated_at=now,
        ))
        document_id = bind.execute(
            sa.select(_document.c.id).where(_document.c.code == spec["code"])
        ).scalar_one()
        bind.execute(_criterion.insert(), [
            {"document_id": document_id, "position": position, "article": row["article"],
             "item": row["item"], "industry": row["industry"], "text": row["text"],
             "source_url": row["source_url"], **_verification(row["verification"])}
            for position, row in enumerate(rows, start=1)
        ])


def _read_rows(name: str) -> list[dict[str, str]]:
    data = files("app").joinpath("data", "criteria", name).read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(data, newline=""))
    if reader.fieldnames != COLUMNS:
        raise RuntimeError(f"{name}: unexpected columns {reader.fieldnames}")
    rows = [{key: (value or "").strip() for key, value in row.items()} for row in reader]
    if not rows or any(not row["text"] for row in rows):
        raise RuntimeError(f"{name}: no rows, or a row without text")
    return rows


def _verification(value: str) -> dict[str, str]:
    """'two or more sources' is verified; 'unverified: <why>' keeps the why."""
    if value == VERIFIED_MARK:
        return {"verification": "verified", "verification_note": value}
    if value.startswith(UNVERIFIED_PREFIX):
        return {"verification": "unverified",
                "verification_note": value.removeprefix(UNVERIFIED_PREFIX).strip()}
    raise RuntimeError(f"unexpected verification value {value!r}")
