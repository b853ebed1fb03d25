"""An uploaded file staged on local disk (the photo pipeline reads it from there)."""

from dataclasses import dataclass
from pathlib import Path


@dataclass
class StagedFile:
    """An uploaded file on local disk, with its size and SHA-256."""

    field_name: str
    filename: str
    path: Path
    size: int = 0
    sha256: str = ""
