import pytest

from app.services.uscc import check_character, is_valid_uscc


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
