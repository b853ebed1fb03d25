"""Photo storage: content-addressed blobs behind one small interface."""

from functools import lru_cache
from typing import BinaryIO, Protocol

from app.config import get_settings


class BlobStorage(Protocol):
    def put(self, sha256: str, source: BinaryIO) -> bool:
        """Store the bytes under their SHA-256 atomically; True if this call created the blob."""
        ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...

    def get_derived(self, sha256: str, variant: str) -> bytes | None: ...

    def put_derived(self, sha256: str, variant: str, data: bytes) -> None: ...


@lru_cache
def get_storage() -> BlobStorage:
    from app.storage.local import LocalStorage

    return LocalStorage(get_settings().media_root)
