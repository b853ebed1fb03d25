"""The checkpoint key: an Ed25519 key pair in PEM files, never in the database.

The private key (AUDIT_SIGNING_KEY_FILE) signs checkpoints; verifying needs only the public
key, read from AUDIT_PUBLIC_KEY_FILE or derived from the private key. Under CRYPTO_PROFILE=gm
checkpoints are signed with HMAC-SM3 instead (AUDIT_HMAC_KEY_FILE, a symmetric key: a host
that verifies needs the same key).
"""

import hashlib
import hmac as std_hmac
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.core.config import get_settings
from app.core.crypto import KeyFileProblem, hmac_sm3, read_key_file
from app.core.crypto import key_id as crypto_key_id


class KeyProblem(Exception):
    """The key file is missing, unreadable, not Ed25519 or too widely readable."""


def generate(path: Path) -> Ed25519PublicKey:
    """Write a new private key to `path` (mode 0600, refusing to overwrite)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return key.public_key()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key: names the key a checkpoint was signed with."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_signing_key(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or get_settings().audit_signing_key_file
    if path is None:
        raise KeyProblem("AUDIT_SIGNING_KEY_FILE is not set: create a key with "
                        "`bihuan audit keygen PATH` and point the setting at it")
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as error:
        raise KeyProblem(f"cannot read the signing key {path}: {error.strerror}") from error
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyProblem(f"the signing key {path} is readable by others: chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as error:
        raise KeyProblem(f"{path} is not a PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{path} is not an Ed25519 key")
    return key


def load_public_key() -> Ed25519PublicKey | None:
    """The key checkpoints are verified with; None when neither setting names one."""
    settings = get_settings()
    if settings.audit_public_key_file is not None:
        path = settings.audit_public_key_file
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except OSError as error:
            raise KeyProblem(f"cannot read the public key {path}: {error.strerror}") from error
        except ValueError as error:
            raise KeyProblem(f"{path} is not a PEM public key") from error
        if not isinstance(key, Ed25519PublicKey):
            raise KeyProblem(f"{path} is not an Ed25519 key")
        return key
    if settings.audit_signing_key_file is not None:
        return load_signing_key().public_key()
    return None


def signature_holds(key: Ed25519PublicKey, signature_hex: str, payload: str) -> bool:
    try:
        key.verify(bytes.fromhex(signature_hex), payload.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


# The profile's signer (CRYPTO_PROFILE=gm: HMAC-SM3 with AUDIT_HMAC_KEY_FILE)

ED25519 = "ed25519"
HMAC_SM3 = "hmac-sm3"
HMAC_KEY_BYTES = 32


@dataclass(frozen=True)
class Signer:
    """Signs a checkpoint's payload: Ed25519 (default profile) or HMAC-SM3 (gm)."""

    scheme: str
    key_id: str
    _sign: Callable[[bytes], bytes]

    def sign(self, payload: str) -> str:
        return self._sign(payload.encode()).hex()


def ed25519_signer(key: Ed25519PrivateKey) -> Signer:
    return Signer(ED25519, key_id(key.public_key()), key.sign)


def load_hmac_key(path: Path | None = None) -> bytes:
    path = path or get_settings().audit_hmac_key_file
    if path is None:
        raise KeyProblem("AUDIT_HMAC_KEY_FILE is not set: CRYPTO_PROFILE=gm signs checkpoints "
                         "with HMAC-SM3; create a key with `bihuan crypto keygen PATH`")
    try:
        return read_key_file(path, "AUDIT_HMAC_KEY_FILE", HMAC_KEY_BYTES)
    except KeyFileProblem as problem:
        raise KeyProblem(str(problem)) from problem


def hmac_signer(key: bytes) -> Signer:
    return Signer(HMAC_SM3, crypto_key_id(key, "checkpoint"), lambda data: hmac_sm3(key, data))


def load_signer() -> Signer:
    """The signer of the configured profile (KeyProblem when its key is not set)."""
    if get_settings().crypto_profile == "gm":
        return hmac_signer(load_hmac_key())
    return ed25519_signer(load_signing_key())


def signer_configured() -> bool:
    settings = get_settings()
    if settings.crypto_profile == "gm":
        return settings.audit_hmac_key_file is not None
    return settings.audit_signing_key_file is not None


def load_hmac_checker() -> bytes | None:
    """The HMAC-SM3 key to check gm checkpoints with; None when AUDIT_HMAC_KEY_FILE is unset."""
    return load_hmac_key() if get_settings().audit_hmac_key_file is not None else None


def hmac_holds(key: bytes, signature_hex: str, payload: str) -> bool:
    try:
        expected = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    return std_hmac.compare_digest(hmac_sm3(key, payload.encode()), expected)
