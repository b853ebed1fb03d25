"""The cryptographic profile (docs/integrity.md, "国密 profile").

`CRYPTO_PROFILE=default` chains with SHA-256, signs checkpoints with Ed25519 and keeps personal
data as written; `gm` (国密, for 密评) chains with SM3 (GB/T 32905), signs checkpoints with
HMAC-SM3 and stores personal data SM4-GCM-encrypted (GB/T 32907), all from `cryptography`.

A database records which digest its chains were written with (models/crypto.CryptoState,
services/crypto/state.py), so `bihuan audit verify` always recomputes a link with the digest
it was written with, whatever the setting says now. The functions here take that profile as
an argument where it matters and default to the setting for what is written now.
"""

import base64
import hashlib
import json
import operator
import os
import secrets
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from app.core.config import get_settings

Profile = Literal["default", "gm"]
PROFILES: tuple[Profile, ...] = ("default", "gm")

# The stored form of an SM4-GCM ciphertext: PREFIX, the key's id, ":", base64url of
# nonce ‖ ciphertext ‖ tag. Plaintext (the default profile) never starts with it: phone
# numbers are digits, OTP secrets base32.
PREFIX = "sm4gcm1:"
_NONCE = 12
_TAG = 16
# Binds every ciphertext to this use: a value cut from elsewhere does not decrypt here.
_AAD = b"bihuan personal data v1"


def current_profile() -> Profile:
    return get_settings().crypto_profile


# Digests


class _Sm3:
    """hashlib's interface over cryptography's SM3."""

    def __init__(self) -> None:
        self._hash = hashes.Hash(hashes.SM3())

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.finalize().hex()


def new_digest(profile: Profile | None = None) -> Any:
    """An incremental digest of the profile (`update`, `hexdigest`): SHA-256 or SM3."""
    if (profile or current_profile()) == "gm":
        return _Sm3()
    return hashlib.sha256()


def digest_hex(data: bytes, profile: Profile | None = None) -> str:
    """The profile's digest of `data`, hex (the setting's profile when none is given)."""
    digest = new_digest(profile)
    digest.update(data)
    return str(digest.hexdigest())


def digest_name(profile: Profile) -> str:
    return "sm3" if profile == "gm" else "sha256"


def canonical_json(content: dict[str, Any]) -> str:
    """Sorted-key compact JSON: the same content always hashes the same."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, content: dict[str, Any], profile: Profile | None = None) -> str:
    """One link of a chain: the digest over the previous hash and the canonical JSON content
    (every chain hashes the same way: hazards' and tips' timelines, the audit log). Written
    with the setting's profile; verified with the profile the link was written with."""
    return digest_hex(f"{prev_hash}\n{canonical_json(content)}".encode(), profile)


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


# Key files


class KeyFileProblem(Exception):
    """A key file is missing, unreadable, too widely readable or not a key."""


def read_key_file(path: Path, setting: str, min_bytes: int = 16) -> bytes:
    """A symmetric key kept as hex text in a file (mode 0600), never in the database."""
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except OSError as error:
        raise KeyFileProblem(f"{setting}: cannot read {path}: {error.strerror}") from error
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileProblem(f"{setting}: {path} is readable by others: chmod 600 it")
    try:
        key = bytes.fromhex(text)
    except ValueError as error:
        raise KeyFileProblem(f"{setting}: {path} does not hold a hex key") from error
    if len(key) < min_bytes:
        raise KeyFileProblem(f"{setting}: {path} holds {len(key)} bytes, at least "
                             f"{min_bytes} are needed")
    return key


def write_key_file(path: Path, size: int = 32) -> None:
    """A new random key as hex (mode 0600), refusing to overwrite (FileExistsError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(size) + "\n")


def key_id(key: bytes, purpose: str) -> str:
    """Names a symmetric key without revealing it: 16 hex digits of HMAC-SM3(key, purpose)."""
    return hmac_sm3(key, f"bihuan key id|{purpose}".encode()).hex()[:16]


# Personal data at rest (SM4-GCM)


class PersonalDataError(Exception):
    """Stored personal data that cannot be read with the configured key (or any key)."""


@dataclass(frozen=True)
class PersonalKey:
    """The keys derived from PERSONAL_DATA_KEY_FILE: SM4's (16 bytes), the blind index's,
    and the id stored beside each ciphertext."""

    sm4: bytes
    index: bytes
    id: str

    @classmethod
    def of(cls, master: bytes) -> "PersonalKey":
        return cls(sm4=hmac_sm3(master, b"bihuan sm4 personal data")[:16],
                   index=hmac_sm3(master, b"bihuan blind index"),
                   id=key_id(master, "personal"))

    @classmethod
    def from_file(cls, path: Path) -> "PersonalKey":
        return _key_from_file(str(path), path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=8)
def _key_from_file(path: str, _mtime: int) -> PersonalKey:
    return PersonalKey.of(read_key_file(Path(path), "PERSONAL_DATA_KEY_FILE"))


def personal_key() -> PersonalKey | None:
    """The configured key (None without PERSONAL_DATA_KEY_FILE)."""
    path = get_settings().personal_data_key_file
    if path is None:
        return None
    try:
        return PersonalKey.from_file(path)
    except KeyFileProblem as problem:
        raise PersonalDataError(str(problem)) from problem


def _required_key() -> PersonalKey:
    key = personal_key()
    if key is None:
        raise PersonalDataError("CRYPTO_PROFILE=gm 需要 PERSONAL_DATA_KEY_FILE（个人信息的 SM4 "
                                "密钥）：用 `bihuan crypto keygen PATH` 生成")
    return key


def is_encrypted(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


def stored_key_id(stored: str) -> str | None:
    """The id of the key a stored value was encrypted with (None: plaintext)."""
    if not is_encrypted(stored):
        return None
    return stored[len(PREFIX):].split(":", 1)[0]


def encrypt_with(key: PersonalKey, text: str) -> str:
    nonce = secrets.token_bytes(_NONCE)
    encryptor = Cipher(algorithms.SM4(key.sm4), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(_AAD)
    sealed = encryptor.update(text.encode()) + encryptor.finalize() + encryptor.tag
    return f"{PREFIX}{key.id}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def decrypt_with(keys: list[PersonalKey], stored: str) -> str:
    """Plaintext of a stored value with whichever of `keys` it names; plaintext as is."""
    if not is_encrypted(stored):
        return stored
    kid, _, body = stored[len(PREFIX):].partition(":")
    key = next((k for k in keys if k.id == kid), None)
    if key is None:
        known = "、".join(k.id for k in keys) or "无"
        raise PersonalDataError(f"个人信息以密钥 {kid} 加密，配置的密钥是 {known}：请设置正确的 "
                                "PERSONAL_DATA_KEY_FILE，或用 `bihuan crypto rekey "
                                "--from-key-file 旧密钥` 重新加密")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        nonce, sealed, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
        decryptor = Cipher(algorithms.SM4(key.sm4), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(_AAD)
        return (decryptor.update(sealed) + decryptor.finalize()).decode()
    except (ValueError, InvalidTag) as error:
        raise PersonalDataError(f"个人信息密文（密钥 {kid}）校验失败：被篡改或截断") from error


def encrypt_personal(text: str) -> str:
    """The stored form of personal data: SM4-GCM ciphertext under gm, `text` itself under
    the default profile."""
    if current_profile() != "gm":
        return text
    return encrypt_with(_required_key(), text)


def decrypt_personal(stored: str) -> str:
    """Personal data as written: decrypted when stored encrypted (with the configured key,
    whatever the profile), as is when stored in plaintext. PersonalDataError when the key is
    missing or not the one it was encrypted with."""
    if not is_encrypted(stored):
        return stored
    key = personal_key()
    return decrypt_with([key] if key is not None else [], stored)


def blind_index(text: str, profile: Profile | None = None,
                key: PersonalKey | None = None) -> str:
    """A deterministic stand-in for comparing personal data without decrypting it (a tip's
    phone for the rate limit): HMAC-SM3 under the personal key in gm, SHA-256 in the
    default profile (where the value itself is stored in plaintext anyway)."""
    if (profile or current_profile()) == "gm":
        return hmac_sm3((key or _required_key()).index, text.encode()).hex()
    return hashlib.sha256(f"bihuan blind index|{text}".encode()).hexdigest()


class PersonalText(TypeDecorator[str]):
    """A column of personal data: encrypted on the way in (encrypt_personal), decrypted on
    the way out (decrypt_personal). Ciphertexts differ each time, so the column cannot be
    compared in SQL: compare a blind index column instead (a comparison raises)."""

    impl = String
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[str]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in (operator.eq, operator.ne) and other and other[0] is None:
                return super().operate(op, *other, **kwargs)
            if op in (operator.eq, operator.ne) or getattr(op, "__name__", "") in (
                    "in_op", "not_in_op", "like_op", "ilike_op", "contains_op",
                    "startswith_op", "endswith_op"):
                raise TypeError("personal data is stored encrypted under CRYPTO_PROFILE=gm: "
                                "compare its blind index (app/core/crypto.blind_index)")
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or is_encrypted(value):
            return value
        return encrypt_personal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return decrypt_personal(value) if value is not None else None
