"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character."""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why `code` (already stripped and upper-cased) is not a valid code, in Chinese; None if
    it is. The reason is what an admin fixing a spreadsheet needs: length, a character the
    standard leaves out (I, O, S, V, Z), or the check character it should have."""
    if len(code) != LENGTH:
        return f"应为 {LENGTH} 位，实际为 {len(code)} 位"
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        shown = "、".join(repr(c) for c in bad)
        return f"含有不允许的字符 {shown}（只用数字和除 I、O、S、V、Z 以外的大写字母）"
    expected = check_character(code[:17])
    if expected != code[17]:
        return f"校验位（第 18 位）应为 {expected}，实际为 {code[17]}"
    return None


def is_valid_uscc(code: str) -> bool:
    return uscc_problem(code.strip().upper()) is None
