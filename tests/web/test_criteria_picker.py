"""The report form's clause list (判定标准条款) and the cited clause on the hazard page."""

import html
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CriteriaDocument, Criterion
from tests.web.pages import User

OPTION = re.compile(r'<option value="(\d+)" data-industry="([^"]*)"')


def test_an_enterprise_picks_from_the_clauses_of_its_industry(app, db: Session) -> None:
    ent = User(app, "ent_a")  # 演示机械制造有限公司: 机械
    form = ent.get("/hazards/new").text
    industries = {industry for _, industry in OPTION.findall(form)}
    assert industries == {"机械", "通用", "粉尘涉爆", "涉氨制冷", "有限空间"}
    assert "化工和危险化学品" not in form  # not its industry
    assert 'data-criteria-filter' in form and "拼音首字母" in form

    entry = db.scalars(select(Criterion).join(Criterion.document).where(
        CriteriaDocument.code == "GM2023", Criterion.article == "第十一条",
        Criterion.item == "（一）", Criterion.superseded_at.is_(None))).one()
    hazard_id = ent.report(level="major", criterion_id=str(entry.id))
    page = html.unescape(ent.get(f"/hazards/{hazard_id}").text)
    assert "判定标准条款" in page
    assert f"《工贸企业重大事故隐患判定标准》第十一条（一）：{entry.text}" in page


def test_an_inspector_sees_every_clause_with_the_enterprises_industries(app) -> None:
    insp = User(app, "insp_dept")
    form = insp.get("/hazards/new").text
    assert {"机械", "危险化学品", "煤矿"} <= {i for _, i in OPTION.findall(form)}
    assert 'data-industries="机械 通用 粉尘涉爆 涉氨制冷 有限空间 消防"' in form
    # Only clauses in force are offered: GB 35181-2017 was replaced by 2025.
    assert "重大火灾隐患判定方法" not in form


def test_a_hazard_citing_a_replaced_clause_shows_the_text_it_cited(app, db: Session) -> None:
    ent = User(app, "ent_a")
    entry = db.scalars(select(Criterion).join(Criterion.document).where(
        CriteriaDocument.code == "GM2023", Criterion.article == "第三条",
        Criterion.item == "（二）")).one()
    hazard_id = ent.report(level="major", criterion_id=str(entry.id))
    entry.superseded_at = entry.document.updated_at  # as a later import would
    db.flush()
    page = html.unescape(ent.get(f"/hazards/{hazard_id}").text)
    assert entry.text in page and "已被新文本取代" in page
