"""The checkpoint key: an Ed25519 key pair in PEM files, never in the database.

The private key (AUDIT_SIGNING_KEY_FILE) signs checkpoints; verifying needs only the public
key, read from AUDIT_PUBLIC_KEY_FILE or derived from the private key.
"""

import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.core.config import get_settings


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
