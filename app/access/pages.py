"""The buttons and links a page shows, from the same rules the services apply.

Pages never compare roles: they hand the facts a service found to these functions and show
what the flags allow. A flag only hides what the service would refuse anyway.
"""

from dataclasses import dataclass

from app.access.actor import Actor
from app.access.roles import may, open_actions
from app.models.enums import HazardLevel
from app.workflow.states import RECTIFICATION_OPEN, HazardState
from app.workflow.table import Relation


@dataclass(frozen=True)
class HazardFacts:
    """What the services know of a hazard that decides its page's buttons."""

    state: HazardState
    level: HazardLevel
    has_deadline: bool
    spot_check_drawn: bool | None
    listed: bool
    listable: bool  # supervision.listing.listable
    extension_pending: bool
    evaluation_due: bool  # a listed major hazard awaiting its 评估 (supervision.evaluation)


@dataclass(frozen=True)
class HazardFlags:
    actions: tuple[str, ...]  # the loop's buttons
    may_see_notices: bool  # the notices addressed to the actor's party
    may_request_extension: bool
    may_decide_extension: bool
    may_evaluate: bool
    may_list: bool
    may_delist: bool
    has_dossier: bool


def hazard_flags(actor: Actor, relations: frozenset[Relation], facts: HazardFacts) -> HazardFlags:
    return HazardFlags(
        actions=open_actions(facts.state, actor.role, relations, facts.spot_check_drawn),
        may_see_notices=may(actor, "notice_ack"),
        may_request_extension=(
            may(actor, "extension_request") and Relation.rectifier in relations
            and facts.state in RECTIFICATION_OPEN and facts.has_deadline
            and not facts.extension_pending),
        may_decide_extension=(may(actor, "extension_decision")
                              and Relation.supervisor in relations and facts.extension_pending),
        may_evaluate=(may(actor, "evaluate") and Relation.rectifier in relations
                      and facts.state == HazardState.rectified and facts.evaluation_due),
        may_list=may(actor, "listing") and facts.listable and not facts.listed,
        may_delist=may(actor, "delisting") and facts.listed,
        # The dossier is every major hazard's: whoever sees the hazard may read it (the API
        # answers anyone who may see the hazard, the admin included).
        has_dossier=facts.level == HazardLevel.major,
    )
