"""The 国密 profile's primitives against their standards' vectors, and personal data at rest
(app/core/crypto.py, app/services/accounts/otp.py; docs/integrity.md "国密 profile")."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.core.config import get_settings
from app.core.crypto import (
    PREFIX,
    PersonalDataError,
    PersonalKey,
    blind_index,
    decrypt_personal,
    decrypt_with,
    digest_hex,
    encrypt_personal,
    hmac_sm3,
    link_hash,
    write_key_file,
)
from app.services.accounts.otp import otp_at, sm3_otp, totp_sha1


@pytest.fixture
def gm(monkeypatch, tmp_path: Path) -> Iterator[Path]:
    """CRYPTO_PROFILE=gm with a personal data key file; yields the key file."""
    key = tmp_path / "personal.key"
    write_key_file(key)
    monkeypatch.setenv("CRYPTO_PROFILE", "gm")
    monkeypatch.setenv("PERSONAL_DATA_KEY_FILE", str(key))
    get_settings.cache_clear()
    yield key
    monkeypatch.undo()
    get_settings.cache_clear()


def test_sm3_gives_the_gb_t_32905_vectors() -> None:
    assert digest_hex(b"abc", "gm") == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    assert digest_hex(b"abcd" * 16, "gm") == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    assert digest_hex(b"abc", "default") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_sm4_is_the_gb_t_32907_cipher() -> None:
    # GB/T 32907-2016 appendix A, example 1: key = plaintext = 0123456789abcdeffedcba9876543210.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(key) + encryptor.finalize()).hex() == (
        "681edf34d206965e86b3e94f536e4246")


def test_hmac_sm3_is_rfc_2104_over_sm3() -> None:
    # HMAC by its definition (RFC 2104) with SM3's 64-byte block, against the library's.
    key, message = b"key", b"The quick brown fox jumps over the lazy dog"
    block = key.ljust(64, b"\0")
    inner = bytes.fromhex(digest_hex(bytes(b ^ 0x36 for b in block) + message, "gm"))
    outer = digest_hex(bytes(b ^ 0x5C for b in block) + inner, "gm")
    assert hmac_sm3(key, message).hex() == outer


def test_a_chain_link_uses_the_profile_asked_for() -> None:
    content = {"seq": 1, "action": "report"}
    sm3, sha = link_hash("0" * 64, content, "gm"), link_hash("0" * 64, content, "default")
    assert sm3 != sha
    assert sm3 == digest_hex(b"0" * 64 + b'\n{"action":"report","seq":1}', "gm")


# RFC 6238 appendix B (SHA1, key "12345678901234567890"), the last 6 of its 8 digits.
RFC_6238 = [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"),
            (1234567890, "005924"), (2000000000, "279037"), (20000000000, "353130")]


@pytest.mark.parametrize(("time", "code"), RFC_6238)
def test_the_default_otp_is_rfc_6238(time: int, code: str) -> None:
    assert totp_sha1(b"12345678901234567890", time // 30) == code
    assert otp_at(b"12345678901234567890", time // 30) == code


def test_the_gm_otp_is_gm_t_0021_sm3_derivation(gm: Path) -> None:
    """No published GM/T 0021 vector is at hand: the derivation is checked step by step
    against its definition (ID = T zero-padded to 128 bits, S = SM3(K‖ID), OD = the sum of
    S's eight 32-bit words mod 2^32, P = OD mod 10^6) with SM3 itself checked above."""
    secret, step = b"1234567890abcdef", 1111111109 // 30
    s = bytes.fromhex(digest_hex(secret + step.to_bytes(8, "big") + bytes(8), "gm"))
    od = sum(int.from_bytes(s[i:i + 4], "big") for i in range(0, 32, 4)) % 2**32
    assert otp_at(secret, step) == f"{od % 10**6:06d}" == sm3_otp(secret, step)
    assert otp_at(secret, step) != totp_sha1(secret, step)
    codes = {otp_at(secret, n) for n in range(step, step + 200)}
    assert len(codes) > 190  # a new code each step
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert otp_at(b"another secret!!", step) != otp_at(secret, step)
    # An event factor or a challenge changes the code (ID = T ‖ C ‖ Q).
    assert sm3_otp(secret, step, counter=1) != sm3_otp(secret, step)
    assert sm3_otp(secret, step, challenge=b"1234") != sm3_otp(secret, step)


def test_personal_data_is_plaintext_in_the_default_profile() -> None:
    assert encrypt_personal("13800000000") == "13800000000"
    assert decrypt_personal("13800000000") == "13800000000"


def test_personal_data_is_sm4_gcm_under_gm(gm: Path) -> None:
    stored = encrypt_personal("13800000000")
    assert stored.startswith(PREFIX) and "13800000000" not in stored
    assert len(stored) <= 128  # the columns' width
    assert encrypt_personal("13800000000") != stored  # a fresh nonce each time
    assert decrypt_personal(stored) == "13800000000"
    assert decrypt_personal("13900000000") == "13900000000"  # written before gm: as is


def test_a_wrong_key_is_named_not_guessed(gm: Path, tmp_path: Path) -> None:
    stored = encrypt_personal("13800000000")
    other = tmp_path / "other.key"
    write_key_file(other)
    with pytest.raises(PersonalDataError, match=r"个人信息以密钥 .* 加密，配置的密钥是"):
        decrypt_with([PersonalKey.from_file(other)], stored)


def test_an_altered_ciphertext_is_refused(gm: Path) -> None:
    stored = encrypt_personal("13800000000")
    flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
    with pytest.raises(PersonalDataError, match="校验失败"):
        decrypt_personal(flipped)


def test_gm_without_a_key_refuses_to_write_plaintext(monkeypatch) -> None:
    monkeypatch.setenv("CRYPTO_PROFILE", "gm")
    monkeypatch.delenv("PERSONAL_DATA_KEY_FILE", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(PersonalDataError, match="PERSONAL_DATA_KEY_FILE"):
            encrypt_personal("13800000000")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_the_blind_index_is_keyed_under_gm(gm: Path, tmp_path: Path) -> None:
    assert blind_index("13800000000") == blind_index("13800000000")
    assert blind_index("13800000000") != blind_index("13800000001")
    other = tmp_path / "other.key"
    write_key_file(other)
    assert blind_index("13800000000", key=PersonalKey.from_file(other)) != blind_index(
        "13800000000")
    assert blind_index("13800000000", "default") != blind_index("13800000000")


def test_a_key_file_readable_by_others_is_refused(gm: Path) -> None:
    gm.chmod(0o644)
    get_settings.cache_clear()
    with pytest.raises(PersonalDataError, match="readable by others"):
        encrypt_personal("13800000000")
