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

HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif",
               b"avis"}
# Major brands of image sequences (a burst or an animation as a track, ISO/IEC 23008-12 §10):
# not one photo. A file of still images (brand heic, mif1, ...) may hold several: the primary
# image is the photo, the others are grid tiles, alpha, depth, a second eye, a burst's rest.
SEQUENCE_BRANDS = {b"msf1", b"hevc", b"hevx", b"avis"}
# Content that turns an image into something else when another program opens it.
SMUGGLED = re.compile(
    rb"PK\x03\x04|PK\x05\x06|Rar!\x1a\x07|7z\xbc\xaf\x27\x1c|%PDF-|<\?php|<script|<html|<svg"
    rb"|<\?xml|<!doctype|\x7fELF",
    re.IGNORECASE,
)
ZIP_END = b"PK\x05\x06"
ZIP_END_WINDOW = 65_557  # the end-of-central-directory record sits within this of the end


def sniff(head: bytes) -> str | None:
    """'jpeg', 'png', 'webp', 'heif' or 'avif' from the first bytes (64 of them: an ftyp box's
    compatible brands); None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "avif" if _is_avif(head) else "heif"
    return None


AVIF_BRANDS = {b"avif", b"avis"}
HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}


def _brands(head: bytes) -> list[bytes]:
    """The ftyp box's major brand and compatible brands (as far as `head` holds them)."""
    (size,) = struct.unpack_from(">I", head, 0)
    box = head[:max(16, min(size, len(head)))]
    return [box[8:12]] + [box[i:i + 4] for i in range(16, len(box) - 3, 4)]


def _is_avif(head: bytes) -> bool:
    """AV1 pictures (AVIF): the major brand says so, or a generic one (mif1, msf1) with avif
    among the compatible brands and no HEVC brand."""
    brands = _brands(head)
    if brands[0] in AVIF_BRANDS:
        return True
    return brands[0] in (b"mif1", b"msf1") and bool(AVIF_BRANDS & set(brands[1:])) \
        and not HEVC_BRANDS & set(brands[1:])


def is_image_sequence(head: bytes) -> bool:
    """Whether a HEIF (or AVIF) file's major brand says it is an image sequence."""
    return head[4:8] == b"ftyp" and head[8:12] in SEQUENCE_BRANDS


def check_structure(path: Path, kind: str, name: str) -> None:
    """Raise 415 if the file's structure is broken or carries smuggled content."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if kind == "jpeg":
            extent = _jpeg_extent(m)
        else:
            walk = {"png": _png_end, "webp": _riff_end, "heif": _bmff_end, "avif": _bmff_end}
            end = walk[kind](m)
            extent = None if end is None else (end, [])
        if extent is None:
            raise UnsupportedMedia(f"「{name}」图片数据不完整或已损坏")
        end, gaps = extent
        if any(SMUGGLED.search(m, start, stop) for start, stop in gaps):
            raise UnsupportedMedia(f"「{name}」图片中夹带了其他类型的文件，已拒收")
        if end < len(m) and SMUGGLED.search(m, end):
            raise UnsupportedMedia(f"「{name}」图片末尾附带了其他类型的文件，已拒收")
        if m.find(ZIP_END, max(0, len(m) - ZIP_END_WINDOW)) != -1:
            raise UnsupportedMedia(f"「{name}」同时是一个压缩包，已拒收")


def _jpeg_extent(m: mmap.mmap) -> tuple[int, list[tuple[int, int]]] | None:
    """Where the JPEG ends, and the stretches between its frames that belong to none.

    A multi-picture JPEG (MPO: Ultra HDR gain maps, stereo and multi-frame cameras) declares
    its further frames in the first frame's MPF index (APP2); their compressed data is part of
    the picture, and may hold any byte sequence, a ZIP signature included. The end is then the
    EOI of the last declared frame. An index that cannot be read, or a frame that is not where
    it says, is ignored (as Pillow does): the file is then one frame, and what follows it is
    searched like anything appended. None if the first frame never ends.
    """
    first = _jpeg_walk(m, 0)
    if first is None:
        return None
    end, mpf = first
    if mpf is None:
        return end, []
    first_end, gaps = end, []
    for start in sorted(_mpf_frames(m, mpf) or []):
        walked = _jpeg_walk(m, start) if m[start:start + 3] == b"\xff\xd8\xff" else None
        if start < end or walked is None:  # overlapping the frame before it, or not a JPEG
            return first_end, []
        if start > end:
            gaps.append((end, start))
        end = walked[0]
    return end, gaps


MPF_MAX_FRAMES = 64
MP_ENTRY = 0xB002


def _mpf_frames(m: mmap.mmap, mpf: int) -> list[int] | None:
    """The start offsets of the frames after the first, from the MPF index at `mpf` (the
    TIFF header after b"MPF\\0"); None if the index is unreadable."""
    order = bytes(m[mpf:mpf + 4])
    if order not in (b"II*\x00", b"MM\x00*"):
        return None
    endian = "<" if order[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(endian + "I", m, mpf + 4)
        (count,) = struct.unpack_from(endian + "H", m, mpf + ifd)
        for n in range(min(count, 32)):
            tag, _type, length, value = struct.unpack_from(
                endian + "HHII", m, mpf + ifd + 2 + 12 * n)
            if tag != MP_ENTRY:
                continue
            if length % 16 or not 16 <= length <= 16 * MPF_MAX_FRAMES:
                return None
            starts = []
            for entry in range(1, length // 16):  # entry 0 is the first frame, at offset 0
                size, offset = struct.unpack_from(endian + "II", m, mpf + value + 16 * entry + 4)
                if offset == 0 or size == 0:
                    return None
                if mpf + offset + size > len(m):
                    return None
                starts.append(mpf + offset)
            return starts
    except struct.error:
        return None
    return None


def _jpeg_walk(m: mmap.mmap, start: int) -> tuple[int, int | None] | None:
    """Offset just past the EOI marker of the image starting at `start` (SOI), and where its
    MPF index is (None without one); None if it never ends."""
    pos, size, mpf = start + 2, len(m), None
    while pos + 2 <= size:
        if m[pos] != 0xFF:
            return None
        marker = m[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2, mpf
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > size:
            return None
        (length,) = struct.unpack_from(">H", m, pos + 2)
        if length < 2:
            return None
        if marker == 0xE2 and mpf is None and m[pos + 4:pos + 8] == b"MPF\x00":
            mpf = pos + 8
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
