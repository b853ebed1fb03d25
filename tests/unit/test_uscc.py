import pytest

from app.services.org.uscc import check_character, is_valid_uscc, uscc_problem


@pytest.mark.parametrize("code", [
    "91339901MA2B00001F",
    "91350100M000100Y43",  # a published example of the format
])
def test_valid_codes(code: str) -> None:
    assert is_valid_uscc(code)


@pytest.mark.parametrize("code", [
    "91339901MA2B00001G",  # wrong check character
    "91339901MA2B00001",  # too short
    "91339901MA2B00001FF",  # too long
    "91339901MI2B00001F",  # I is not in the alphabet
    "",
])
def test_invalid_codes(code: str) -> None:
    assert not is_valid_uscc(code)


def test_check_character_follows_gb32100() -> None:
    # Weighted sum modulo 31 over the 31-character alphabet.
    assert check_character("91339901MA2B00002") == "J"


@pytest.mark.parametrize(("code", "reason"), [
    ("91339901MA2B00001G", "校验位（第 18 位）应为 F，实际为 G"),
    ("91339901MA2B0001F", "应为 18 位，实际为 17 位"),
    ("91339901MI2B0O001F",
     "含有不允许的字符 'I'、'O'（只用数字和除 I、O、S、V、Z 以外的大写字母）"),
    ("91339901MA2B00001F", None),
])
def test_the_reason_names_what_is_wrong(code: str, reason: str | None) -> None:
    assert uscc_problem(code) == reason
