"""风险点参考库: typical risk points per industry, each a group of criteria clauses
(app/data/checks/README.md), that an enterprise adopts into its register.

The library's check items are the shipped criteria rows themselves (app/data/criteria/*.csv),
read from the files so the wording and its source are the catalogue's, never retyped.
"""

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.clock import Clock
from app.core.errors import Unprocessable
from app.models import RiskPoint
from app.services.checks.register import create_risk_point, visible_enterprise
from app.services.checks.schemas import (
    AdoptIn,
    LibraryItemOut,
    LibrarySource,
    LibraryTemplateOut,
    MeasureIn,
    RiskPointIn,
)

DATA = Path(__file__).resolve().parents[2] / "data"
LIBRARY_FILE = DATA / "checks" / "starter-library.csv"
CRITERIA_FILES = (DATA / "criteria" / "gongmao-2023.csv", DATA / "criteria" / "huagong-2017.csv")


@dataclass(frozen=True)
class Template:
    code: str
    industry: str
    risk_point: str
    hazard_factors: str
    items: tuple[LibraryItemOut, ...]


def _criteria() -> dict[tuple[str, str, str], dict[str, str]]:
    rows: dict[tuple[str, str, str], dict[str, str]] = {}
    for path in CRITERIA_FILES:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows[(row["doc_code"], row["article"], row["item"])] = row
    return rows


def _item(row: dict[str, str]) -> LibraryItemOut:
    clause = f"{row['article']}{row['item']}" if row["article"] else f"第{row['item']}项"
    document = f"《{row['doc_title']}》"
    return LibraryItemOut(
        key=f"{row['doc_code']}:{row['article']}{row['item']}",
        check_item=f"对照{document}{clause}排查：{row['text']}",
        source=LibrarySource(document=row["doc_title"], doc_code=row["doc_code"],
                             clause=clause, url=row["source_url"] or None,
                             verified=row["verification"].lower().startswith("two or more")
                             or row["verification"].lower().startswith("verified")))


@cache
def templates() -> tuple[Template, ...]:
    """The library, in file order; a row naming a clause the catalogue lacks fails loudly
    (a test loads it), never silently drops an item."""
    criteria = _criteria()
    grouped: dict[str, tuple[dict[str, str], list[LibraryItemOut]]] = {}
    with LIBRARY_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            source = criteria[(row["doc_code"], row["article"], row["item"])]
            grouped.setdefault(row["template"], (row, []))[1].append(_item(source))
    return tuple(Template(code=code, industry=first["industry"],
                          risk_point=first["risk_point"], hazard_factors=first["hazard_factors"],
                          items=tuple(items))
                 for code, (first, items) in grouped.items())


def template_out(template: Template) -> LibraryTemplateOut:
    return LibraryTemplateOut(code=template.code, industry=template.industry,
                              risk_point=template.risk_point,
                              hazard_factors=template.hazard_factors, items=list(template.items))


def library(industry: str | None) -> list[LibraryTemplateOut]:
    return [template_out(t) for t in templates() if industry in (None, t.industry)]


def _error(name: str, message: str) -> Unprocessable:
    return Unprocessable([{"loc": ["body", name], "msg": message, "type": "value_error"}])


def adopt(session: Session, actor: Actor, enterprise_id: int, body: AdoptIn,
          clock: Clock) -> RiskPoint:
    """A risk point from a template: its items (all, or those chosen) become measures with
    the enterprise's owner and frequency; the level and place are the enterprise's own
    judgement, never the library's. Then an ordinary risk point, edited like any other."""
    visible_enterprise(session, actor, enterprise_id)
    require_role(actor, "risk_register_edit")
    template = next((t for t in templates() if t.code == body.template), None)
    if template is None:
        raise _error("template", "参考库中没有该风险点模板")
    chosen = list(template.items)
    if body.items is not None:
        by_key = {item.key: item for item in template.items}
        unknown = [key for key in body.items if key not in by_key]
        if unknown:
            raise _error("items", f"不是该模板的排查项：{'、'.join(unknown[:5])}")
        chosen = [by_key[key] for key in dict.fromkeys(body.items)]
    point = RiskPointIn(
        name=body.name or template.risk_point, place=body.place, level=body.level,
        hazard_factors=template.hazard_factors,
        measures=[MeasureIn(content=f"依据《{item.source.document}》{item.source.clause}落实管控，"
                                    "杜绝所列情形",
                            check_item=item.check_item, frequency=body.frequency,
                            owner=body.owner)
                  for item in chosen])
    return create_risk_point(session, actor, enterprise_id, point, clock)
