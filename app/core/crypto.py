"""The cryptographic profile: which digest chains the timelines and the audit log.

`CRYPTO_PROFILE=default` hashes with SHA-256; `gm` (国密, for 密评) with SM3 (GB/T 32905),
both from `cryptography`. A database keeps the profile it was started with: the chains already
written verify only under their own digest (docs/integrity.md).
"""

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hashes

from app.core.config import get_settings


def digest_hex(data: bytes) -> str:
    """The profile's digest of `data`, hex."""
    if get_settings().crypto_profile == "gm":
        sm3 = hashes.Hash(hashes.SM3())
        sm3.update(data)
        return sm3.finalize().hex()
    return hashlib.sha256(data).hexdigest()


def canonical_json(content: dict[str, Any]) -> str:
    """Sorted-key compact JSON: the same content always hashes the same."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """One link of a chain: the digest over the previous hash and the canonical JSON content
    (every chain hashes the same way: hazards' and tips' timelines, the audit log)."""
    return digest_hex(f"{prev_hash}\n{canonical_json(content)}".encode())
