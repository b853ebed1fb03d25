"""Blobs on the local filesystem: originals/ab/cd/<sha256>, written temp file + fsync + rename."""

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from app.services.media.storage import BlobInfo

HEX = frozenset("0123456789abcdef")


def check_digest(sha256: str) -> str:
    if len(sha256) != 64 or not set(sha256) <= HEX:
        raise ValueError("not a SHA-256 hex digest")
    return sha256


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _original(self, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / "originals" / sha256[:2] / sha256[2:4] / sha256

    def _derived(self, sha256: str, variant: str) -> Path:
        check_digest(sha256)
        if not variant.isalnum():
            raise ValueError("bad variant name")
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
        for derived in self._derived(sha256, "x").parent.glob(f"{sha256}.*"):
            derived.unlink(missing_ok=True)

    def get_derived(self, sha256: str, variant: str) -> bytes | None:
        path = self._derived(sha256, variant)
        return path.read_bytes() if path.exists() else None

    def put_derived(self, sha256: str, variant: str, data: bytes) -> None:
        self._write_atomically(self._derived(sha256, variant), io.BytesIO(data))

    def probe(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-") as handle:
            handle.write(b"ok")
            handle.flush()

    def iter_originals(self) -> Iterator[BlobInfo]:
        for path in (self.root / "originals").glob("??/??/*"):
            if path.name.startswith(".tmp-") or len(path.name) != 64:
                continue
            stat = path.stat()
            yield BlobInfo(path.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))
