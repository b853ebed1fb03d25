"""Major hazards counted by the 判定标准 clause they cite (`GET /api/v1/board/criteria`).

Which clauses recur in a county is what a 举一反三 sweep is launched from. The hazards are
those the caller may see (the board's scope), major, reported in the period; each counted
under the catalogue entry it cites, as cited (an entry since replaced still counts under its
own text). Major hazards citing no entry (a clause typed as text, or an assessment's basis)
are counted apart.
"""

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.clock import Clock, local_today
from app.models import CriteriaDocument, Criterion, Hazard
from app.models.enums import HazardLevel
from app.services.board.clearance import BoardQuery, _check_region, check_period
from app.services.criteria.schemas import citation
from app.services.hazards.filters import HazardFilters
from app.services.hazards.queries import filtered_query


def by_criterion(session: Session, *, actor: Actor, start: date | None, end: date | None,
                 region_id: int | None, clock: Clock) -> dict[str, Any]:
    """The counts by document and by clause, most frequent first."""
    require_role(actor, "board")
    today = local_today(clock)
    query = BoardQuery.of(HazardLevel.major, start, end, today, region_id)
    check_period(query.start, query.end)
    _check_region(session, actor, query.region_id)
    scope = filtered_query(actor, HazardFilters(
        level=HazardLevel.major, region_id=query.region_id, reported_from=query.start,
        reported_to=query.end), today).with_only_columns(Hazard.id, Hazard.criterion_id)
    cited = scope.subquery()
    count = func.count(cited.c.id)
    rows = session.execute(
        select(Criterion, count).join(cited, cited.c.criterion_id == Criterion.id)
        .join(Criterion.document).group_by(Criterion.id, CriteriaDocument.code)
        .order_by(count.desc(), CriteriaDocument.code, Criterion.position, Criterion.id)
    ).all()
    total = session.scalar(select(func.count()).select_from(cited)) or 0
    clauses = [_clause(entry, n) for entry, n in rows]
    documents: dict[str, dict[str, Any]] = {}
    for clause in clauses:
        document = documents.setdefault(clause["document_code"], {
            "code": clause["document_code"], "title": clause["document_title"], "count": 0})
        document["count"] += clause["count"]
    return {
        "from": query.start, "to": query.end, "region_id": query.region_id,
        "as_of": clock.now(), "total": total,
        "uncited": total - sum(c["count"] for c in clauses),
        "by_document": sorted(documents.values(), key=lambda d: (-d["count"], d["code"])),
        "by_clause": clauses,
    }


def _clause(entry: Criterion, n: int) -> dict[str, Any]:
    return {"criterion_id": entry.id, "document_code": entry.document.code,
            "document_title": entry.document.title, "article": entry.article,
            "item": entry.item, "citation": citation(entry.document, entry),
            "text": entry.text, "in_force": (entry.superseded_at is None
                                             and entry.document.superseded_by_id is None),
            "count": n}
