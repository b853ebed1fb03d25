"""The hazard page's buttons: the table's rows open to a role and relation in a state."""

from app.access.roles import open_actions
from app.models.enums import Role
from app.workflow.states import HazardState as S
from app.workflow.table import Relation as R  # noqa: N817 (short in the table rows)


def test_committee_on_a_verified_hazard_depends_on_the_draw() -> None:
    overseer = frozenset({R.overseer, R.router, R.reporter})
    assert open_actions(S.verified, Role.committee, overseer, True) == (
        "spot_check", "spot_check_fail")
    assert open_actions(S.verified, Role.committee, overseer, False) == (
        "spot_check", "spot_check_fail", "close")
    assert open_actions(S.verified, Role.committee, overseer, None) == (
        "spot_check", "spot_check_fail")
    assert open_actions(S.spot_checked, Role.committee, overseer, True) == ("close",)


def test_duties_decide_what_is_open() -> None:
    assert open_actions(S.rectifying, Role.enterprise, frozenset({R.rectifier}), None) == (
        "submit",)
    assert open_actions(S.rectifying, Role.enterprise, frozenset({R.reporter}), None) == ()
    # An inspector who may route but holds no supervise assignment verifies nothing.
    assert open_actions(S.rectified, Role.inspector, frozenset({R.router}), None) == ()
    assert open_actions(S.rectified, Role.inspector, frozenset({R.supervisor}), None) == (
        "verify", "return")
    assert open_actions(S.reported, Role.inspector, frozenset({R.router}), None) == (
        "assign", "reject")
    assert open_actions(S.closed, Role.committee, frozenset({R.overseer}), False) == ()
