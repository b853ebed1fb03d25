"""The transition table without a database: every (state, action, role) allowed or refused,
by the access policy's role check and the machine together, as the service runs them."""

import itertools

import pytest

from app.access.roles import check_may_report, check_role
from app.core.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable
from app.models.enums import Role
from app.workflow.machine import Attempt, check_report, fire
from app.workflow.states import HazardState
from app.workflow.table import RULES, TRANSITION_ACTIONS, Relation, roles_for, rule_for

ALL_RELATIONS = frozenset(Relation)

# The matrix of docs/domain.md, written out independently of the table it checks.
EXPECTED = {
    ("reported", "assign"): ("assigned", {Role.inspector, Role.committee}),
    ("reported", "reject"): ("rejected", {Role.inspector, Role.committee}),
    ("assigned", "accept"): ("rectifying", {Role.enterprise}),
    ("rectifying", "submit"): ("rectified", {Role.enterprise}),
    ("rectified", "verify"): ("verified", {Role.inspector}),
    ("rectified", "return"): ("rectifying", {Role.inspector}),
    ("verified", "spot_check"): ("spot_checked", {Role.committee}),
    ("verified", "spot_check_fail"): ("rectifying", {Role.committee}),
    ("spot_checked", "close"): ("closed", {Role.committee}),
    ("verified", "close"): ("closed", {Role.committee}),
}


def attempt(state: HazardState, **overrides: object) -> Attempt:
    values = {"relations": ALL_RELATIONS, "photo_count": 1, "spot_check_drawn": False}
    values.update(overrides)
    return Attempt(state=state, **values)  # type: ignore[arg-type]


def take(action: str, role: Role, attempt: Attempt) -> HazardState:
    """What the service does: the access policy's role check, then the machine."""
    check_role(action, role)
    return fire(action, attempt)


def take_report(role: Role, attempt: Attempt) -> None:
    check_may_report(role)
    check_report(attempt)


CASES = list(itertools.product(HazardState, TRANSITION_ACTIONS, Role))


@pytest.mark.parametrize(("state", "action", "role"), CASES,
                         ids=[f"{s}-{a}-{r}" for s, a, r in CASES])
def test_every_state_action_role(state: HazardState, action: str, role: Role) -> None:
    expected = EXPECTED.get((state.value, action))
    role_may_ever = any(role in roles for (_, a), (_, roles) in EXPECTED.items() if a == action)
    if not role_may_ever:
        with pytest.raises(Forbidden):
            take(action, role, attempt(state))
    elif expected is None:
        with pytest.raises(Conflict):
            take(action, role, attempt(state))
    else:
        assert take(action, role, attempt(state)) == HazardState(expected[0])


def test_table_matches_the_domain_matrix() -> None:
    rows = {(r.source.value, r.action): (r.dest.value, set(r.roles))
            for r in RULES if r.source is not None}
    assert rows == EXPECTED
    assert roles_for("report") == {Role.enterprise, Role.inspector, Role.committee}
    assert Role.admin not in set().union(*(r.roles for r in RULES))


@pytest.mark.parametrize("rule", [r for r in RULES if r.source is not None],
                         ids=lambda r: f"{r.action}-from-{r.source}")
def test_missing_duty_is_refused_with_403(rule) -> None:
    role = next(iter(rule.roles))
    relations = ALL_RELATIONS - {rule.party}
    with pytest.raises(Forbidden):
        take(rule.action, role, attempt(rule.source, relations=relations))


@pytest.mark.parametrize("rule", [r for r in RULES if r.evidence and r.source is not None],
                         ids=lambda r: r.action)
def test_evidence_actions_need_a_photo(rule) -> None:
    role = next(iter(rule.roles))
    with pytest.raises(Unprocessable):
        take(rule.action, role, attempt(rule.source, photo_count=0))


def test_actions_without_evidence_need_no_photo() -> None:
    no_evidence = {r.action for r in RULES if not r.evidence}
    assert no_evidence == {"assign", "reject", "accept", "close"}
    assert take("assign", Role.inspector, attempt(HazardState.reported, photo_count=0))


def test_close_from_verified_only_when_not_drawn() -> None:
    with pytest.raises(Conflict):
        take("close", Role.committee, attempt(HazardState.verified, spot_check_drawn=True))
    assert take("close", Role.committee, attempt(HazardState.verified,
                                 spot_check_drawn=False)) == HazardState.closed
    assert take("close", Role.committee, attempt(HazardState.spot_checked,
                                 spot_check_drawn=True)) == HazardState.closed


def test_refusals_come_in_the_contract_order() -> None:
    upload_error = PayloadTooLarge("too big")
    field_errors = [{"loc": ["body", "note"], "msg": "必填项", "type": "missing"}]
    everything_wrong = {"relations": frozenset(), "photo_count": 0,
                        "upload_error": upload_error, "field_errors": field_errors}
    # role (403) before state (409)
    with pytest.raises(Forbidden):
        take("verify", Role.enterprise, attempt(HazardState.reported, **everything_wrong))
    # state (409) before duty (403)
    with pytest.raises(Conflict):
        take("verify", Role.inspector, attempt(HazardState.reported, **everything_wrong))
    # duty (403) before uploads (413)
    with pytest.raises(Forbidden):
        take("verify", Role.inspector, attempt(HazardState.rectified, **everything_wrong))
    # uploads (413) before evidence and fields (422)
    with pytest.raises(PayloadTooLarge):
        take("verify", Role.inspector, attempt(HazardState.rectified,
                               **{**everything_wrong, "relations": ALL_RELATIONS}))
    with pytest.raises(Unprocessable):
        take("verify", Role.inspector, attempt(HazardState.rectified, photo_count=0,
                               field_errors=field_errors))


def test_unknown_action_is_not_found() -> None:
    with pytest.raises(NotFound):
        take("teleport", Role.committee, attempt(HazardState.reported))


def test_report_guards() -> None:
    with pytest.raises(Forbidden):
        take_report(Role.admin, attempt(HazardState.reported))
    with pytest.raises(Forbidden):
        take_report(Role.inspector, attempt(HazardState.reported, relations=frozenset()))
    with pytest.raises(Unprocessable):
        take_report(Role.enterprise, attempt(HazardState.reported, photo_count=0))
    take_report(Role.enterprise, attempt(HazardState.reported))


def test_rule_lookup() -> None:
    assert rule_for("close", HazardState.verified).only_if_not_drawn
    assert not rule_for("close", HazardState.spot_checked).only_if_not_drawn
    assert rule_for("close", HazardState.reported) is None
