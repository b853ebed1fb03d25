"""The hazard state machine: one module-level `transitions` machine shared by all hazards.

The machine has no model attached. Each request builds an `Attempt` (the hazard's state and
everything the guards need to know, gathered beforehand) and fires the action on it; the
machine answers with the new state or the refusal. Guards are pure and do no I/O.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transitions import EventData, Machine, MachineError

from app.core.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from app.workflow.states import ENDED_STATES, HazardState
from app.workflow.table import (
    ACTION_LABELS,
    RULES,
    STATE_LABELS,
    TRANSITION_ACTIONS,
    Relation,
    Rule,
)


@dataclass
class Attempt:
    """One try at an action: the machine's per-call model."""

    state: str
    relations: frozenset[Relation]
    photo_count: int = 0
    spot_check_drawn: bool | None = None
    evaluation_missing: bool = False  # a listed major hazard not yet evaluated (评估)
    listed: bool = False  # under 挂牌督办 now (Hazard.under_listing)
    # Problems found while reading the request, reported in the contract's order by the guards.
    upload_error: DomainError | None = None
    field_errors: list[dict[str, Any]] = field(default_factory=list)
    refusal: DomainError | None = None


Guard = Callable[[Attempt, Rule], DomainError | None]


def not_drawn_for_spot_check(attempt: Attempt, rule: Rule) -> DomainError | None:
    if rule.only_if_not_drawn and attempt.spot_check_drawn is not False:
        return Conflict("该隐患已被抽中，须先抽查后方可销号")
    return None


def delisted_first(attempt: Attempt, rule: Rule) -> DomainError | None:
    """A listed hazard ends (销号, 不予受理) only once the listing authority has lifted the
    listing (摘牌), a decision of its own with its own record: never implicitly."""
    if attempt.listed and rule.dest in ENDED_STATES:
        return Conflict(f"该隐患正在挂牌督办，须先摘牌，方可{ACTION_LABELS[rule.action]}")
    return None


def evaluated_first(attempt: Attempt, rule: Rule) -> DomainError | None:
    if rule.needs_evaluation and attempt.evaluation_missing:
        return Conflict("挂牌督办的重大事故隐患须先提交整改评估（自评或第三方评估），再验收")
    return None


def holds_duty(attempt: Attempt, rule: Rule) -> DomainError | None:
    if rule.party not in attempt.relations:
        return Forbidden(f"您所在单位对该隐患没有{ACTION_LABELS[rule.action]}的职责")
    return None


def uploads_valid(attempt: Attempt, rule: Rule) -> DomainError | None:
    return attempt.upload_error


def evidence_present(attempt: Attempt, rule: Rule) -> DomainError | None:
    if rule.evidence and attempt.photo_count < 1:
        return Unprocessable(f"{ACTION_LABELS[rule.action]}须上传至少一张照片作为证据")
    return None


def fields_valid(attempt: Attempt, rule: Rule) -> DomainError | None:
    return Unprocessable(attempt.field_errors) if attempt.field_errors else None


# Order matters: it is the order of the error statuses in docs/api.md (409, 403, 413/415, 422).
GUARDS: tuple[Guard, ...] = (
    delisted_first,
    not_drawn_for_spot_check,
    evaluated_first,
    holds_duty,
    uploads_valid,
    evidence_present,
    fields_valid,
)


def _condition(guard: Guard, rule: Rule) -> Callable[[EventData], bool]:
    def check(event: EventData) -> bool:
        attempt = event.model
        assert isinstance(attempt, Attempt)
        refusal = guard(attempt, rule)
        if refusal is not None:
            attempt.refusal = refusal
            return False
        return True

    return check


def _build_machine() -> Machine:
    transitions = [
        {
            "trigger": rule.action,
            "source": rule.source.value,
            "dest": rule.dest.value,
            "conditions": [_condition(guard, rule) for guard in GUARDS],
        }
        for rule in RULES
        if rule.source is not None
    ]
    return Machine(
        model=None,
        states=[state.value for state in HazardState],
        transitions=transitions,
        initial=None,
        auto_transitions=False,
        model_attribute="state",
        send_event=True,
    )


MACHINE = _build_machine()


def fire(action: str, attempt: Attempt) -> HazardState:
    """Run ``action`` on the attempt; return the new state or raise the first refusal.

    The caller has asked the access policy first (app.access.roles.check_role): the action
    is known and the role may take it.
    """
    if action not in TRANSITION_ACTIONS:
        raise NotFound(f"未知操作: {action}")
    try:
        moved = MACHINE.events[action].trigger(attempt)
    except MachineError:
        state_label = STATE_LABELS[HazardState(attempt.state)]
        raise Conflict(
            f"隐患当前为「{state_label}」状态，不能进行「{ACTION_LABELS[action]}」操作"
        ) from None
    if not moved:
        assert attempt.refusal is not None
        raise attempt.refusal
    return HazardState(attempt.state)


def check_report(attempt: Attempt) -> None:
    """Apply the guards of the report row (∅ → reported), which the machine cannot hold.
    The caller has asked the access policy whether the role may report."""
    rule = next(r for r in RULES if r.action == "report")
    for guard in GUARDS:
        refusal = guard(attempt, rule)
        if refusal is not None:
            raise refusal
