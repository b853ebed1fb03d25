"""The duties (relations) an actor holds on a hazard it can see: reporter, router, rectifier,
supervisor, overseer. The transition table names one per action (app/workflow/table.py)."""

from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.scopes import enterprise_in_scope
from app.models import Enterprise, Hazard
from app.models.enums import Duty, PartyType, Role
from app.workflow.table import Relation


def relations_to(session: Session, actor: Actor, hazard: Hazard) -> frozenset[Relation]:
    """The duties the actor holds on a hazard the actor can already see."""
    relations: set[Relation] = set()
    if actor.role == Role.enterprise and actor.enterprise_id == hazard.enterprise_id:
        relations.add(Relation.reporter)
        if _holds(hazard, PartyType.enterprise, actor.enterprise_id, Duty.rectify):
            relations.add(Relation.rectifier)
    elif actor.role == Role.inspector and actor.unit_id is not None:
        enterprise = session.get(Enterprise, hazard.enterprise_id)
        if enterprise is not None and enterprise_in_scope(session, actor, enterprise):
            relations.update((Relation.router, Relation.reporter))
        if _holds(hazard, PartyType.unit, actor.unit_id, Duty.supervise):
            relations.add(Relation.supervisor)
    elif actor.role == Role.committee:
        # Reaching here means the hazard lies in the committee's region subtree.
        relations.update((Relation.router, Relation.overseer, Relation.reporter))
    return frozenset(relations)


def _holds(hazard: Hazard, party_type: PartyType, party_id: int | None, duty: Duty) -> bool:
    return any(
        a.party_type == party_type and a.party_id == party_id and a.duty == duty
        for a in hazard.assignments
    )
