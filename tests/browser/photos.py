"""Test photos written to files for the file inputs: phone-like JPEGs taken now, at enterprise
A (so they raise no authenticity flag), or plain ones without EXIF (flagged)."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.samples import jpeg_bytes, phone_jpeg

ENTERPRISE_A = (29.8020, 119.6910)  # app/services/org/demo.py


def phone_photo(directory: Path, name: str, seed: int) -> Path:
    taken = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    path = directory / name
    path.write_bytes(phone_jpeg(size=(800, 600), taken=taken, gps=ENTERPRISE_A, seed=seed))
    return path


def plain_photo(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_bytes(jpeg_bytes((320, 240)))
    return path
