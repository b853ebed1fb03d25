"""The password rule (等保三级): length, three classes, not the username, not a common one."""

import pytest

from app.services.accounts.passwords import strength_problem, temporary_password


@pytest.mark.parametrize(("password", "reason"), [
    ("Ab1!xyz", "至少 8 位"),
    ("abcdefgh12", "至少三类"),
    ("ABCDEFGH!!", "至少三类"),
    ("x" * 129 + "A1", "最多 128 位"),
    ("Insp_Dept-2026", "用户名"),
    ("P@ssw0rd", "常见"),
])
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    assert reason in (strength_problem(password, "insp_dept") or "")


@pytest.mark.parametrize("password", ["demo-pass-2026", "Zhang.San.1984", "安全生产Ab1!"])
def test_strong_passwords_pass(password: str) -> None:
    assert strength_problem(password, "ent_a") is None


def test_temporary_passwords_meet_the_rule_and_differ() -> None:
    made = {temporary_password() for _ in range(50)}
    assert len(made) == 50
    assert all(strength_problem(p, "someone") is None and len(p) == 16 for p in made)
