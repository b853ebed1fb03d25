"""What a file really is, from its bytes, whatever its name or Content-Type claims.

Besides the leading signature, the file's own structure is walked to its end (JPEG markers,
PNG chunks, the RIFF size, ISO-BMFF boxes), so data smuggled after the image — a ZIP, a PDF,
a script: a polyglot — is found and refused.
"""

import mmap
import re
import struct
from pathlib import Path

from app.core.errors import UnsupportedMedia

HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}
# Content that turns an image into something else when another program opens it.
SMUGGLED = re.compile(
    rb"PK\x03\x04|PK\x05\x06|Rar!\x1a\x07|7z\xbc\xaf\x27\x1c|%PDF-|<\?php|<script|<html|<svg"
    rb"|<\?xml|<!doctype|\x7fELF",
    re.IGNORECASE,
)
ZIP_END = b"PK\x05\x06"
ZIP_END_WINDOW = 65_557  # the end-of-central-directory record sits within this of the end


def sniff(head: bytes) -> str | None:
    """'jpeg', 'png', 'webp' or 'heif' from the first bytes; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "heif"
    return None


def check_structure(path: Path, kind: str, name: str) -> None:
    """Raise 415 if the file's structure is broken or carries smuggled content."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        end = {"jpeg": _jpeg_end, "png": _png_end, "webp": _riff_end, "heif": _bmff_end}[kind](m)
        if end is None:
            raise UnsupportedMedia(f"「{name}」图片数据不完整或已损坏")
        if end < len(m) and SMUGGLED.search(m, end):
            raise UnsupportedMedia(f"「{name}」图片末尾附带了其他类型的文件，已拒收")
        if m.find(ZIP_END, max(0, len(m) - ZIP_END_WINDOW)) != -1:
            raise UnsupportedMedia(f"「{name}」同时是一个压缩包，已拒收")


def _jpeg_end(m: mmap.mmap) -> int | None:
    """Offset just past the EOI marker of the first image, or None if it never ends."""
    pos, size = 2, len(m)
    while pos + 2 <= size:
        if m[pos] != 0xFF:
            return None
        marker = m[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > size:
            return None
        (length,) = struct.unpack_from(">H", m, pos + 2)
        if length < 2:
            return None
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data until the next real marker
            next_marker = _after_entropy(m, pos)
            if next_marker is None:
                return None
            pos = next_marker
    return None


# In entropy-coded data FF is followed by 00 (stuffing), D0–D7 (restart) or FF (fill);
# anything else is the next marker.
NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _after_entropy(m: mmap.mmap, pos: int) -> int | None:
    found = NEXT_MARKER.search(m, pos)  # type: ignore[call-overload]
    return found.start() if found else None


def _png_end(m: mmap.mmap) -> int | None:
    pos, size = 8, len(m)
    while pos + 12 <= size:
        length, chunk_type = struct.unpack_from(">I4s", m, pos)
        pos += 12 + length
        if chunk_type == b"IEND":
            return pos if pos <= size else None
    return None


def _riff_end(m: mmap.mmap) -> int | None:
    (riff_size,) = struct.unpack_from("<I", m, 4)
    end = 8 + riff_size + (riff_size & 1)
    return end if end <= len(m) else None


def _bmff_end(m: mmap.mmap) -> int | None:
    pos, size = 0, len(m)
    while pos + 8 <= size:
        (box_size,) = struct.unpack_from(">I", m, pos)
        if box_size == 1:
            if pos + 16 > size:
                return None
            (box_size,) = struct.unpack_from(">Q", m, pos + 8)
        elif box_size == 0:
            return size  # the last box runs to the end of the file
        if box_size < 8:
            return None
        pos += box_size
    return pos if pos == size else None
