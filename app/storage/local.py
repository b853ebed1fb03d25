"""Blobs on the local filesystem: originals/ab/cd/<sha256>, written temp file + fsync + rename."""

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _original(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / "originals" / sha256[:2] / sha256[2:4] / sha256

    def _derived(self, sha256: str, variant: str) -> Path:
        self._original(sha256)  # validates the digest
        return self.root / "derived" / sha256[:2] / f"{sha256}.{variant}"

    def _write_atomically(self, target: Path, source: BinaryIO) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, sha256: str, source: BinaryIO) -> bool:
        target = self._original(sha256)
        if target.exists():
            return False
        self._write_atomically(target, source)
        return True

    def open(self, sha256: str) -> BinaryIO:
        return self._original(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self._original(sha256).exists()

    def delete(self, sha256: str) -> None:
        self._original(sha256).unlink(missing_ok=True)

    def get_derived(self, sha256: str, variant: str) -> bytes | None:
        path = self._derived(sha256, variant)
        return path.read_bytes() if path.exists() else None

    def put_derived(self, sha256: str, variant: str, data: bytes) -> None:
        self._write_atomically(self._derived(sha256, variant), io.BytesIO(data))
