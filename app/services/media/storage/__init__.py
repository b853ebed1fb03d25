"""Photo storage: content-addressed blobs behind one small interface.

Originals are stored under their SHA-256 and never modified; derivatives (thumb, preview) are
stored beside them and can always be made again from the original.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import BinaryIO, Protocol

from app.core.config import get_settings


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    size: int
    modified_at: datetime  # timezone-aware


class BlobStorage(Protocol):
    def put(self, sha256: str, source: BinaryIO) -> bool:
        """Store the bytes under their SHA-256 atomically; True if this call created the blob."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """A readable binary file of the original; raises FileNotFoundError if missing."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None:
        """Remove the original and its derivatives; no error if missing."""
        ...

    def get_derived(self, sha256: str, variant: str) -> bytes | None: ...

    def put_derived(self, sha256: str, variant: str, data: bytes) -> None: ...

    def iter_originals(self) -> Iterator[BlobInfo]:
        """Every stored original (for garbage collection)."""
        ...

    def probe(self) -> None:
        """Write and remove a small object; raises when the storage is not writable (/readyz)."""
        ...


@lru_cache
def get_storage() -> BlobStorage:
    settings = get_settings()
    if settings.storage_backend == "s3":
        from app.services.media.storage.s3 import S3Storage

        return S3Storage.from_settings(settings)
    from app.services.media.storage.local import LocalStorage

    return LocalStorage(settings.media_root)
