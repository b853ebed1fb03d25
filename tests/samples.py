"""Generated test images: small unique JPEGs, phone-like JPEGs with EXIF, a hostile corpus."""

import hashlib
import io
import struct
import tempfile
import zipfile
import zlib
from datetime import datetime
from functools import cache
from pathlib import Path

from PIL import Image

from app.services.media.imaging.process import ORIENTATION_TRANSPOSE
from app.services.media.imaging.staged import StagedFile

# The inverse of each EXIF orientation's transpose: stored = upright.transpose(INVERSE[o]).
INVERSE = {**ORIENTATION_TRANSPOSE, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def phone_jpeg(
    *,
    size: tuple[int, int] = (640, 480),
    orientation: int | None = None,
    taken: datetime | None = None,
    offset: str | None = "+08:00",
    gps: tuple[float, float] | None = None,
    seed: int = 1,
    quality: int = 90,
    raw_exif: dict[int, object] | None = None,
) -> bytes:
    """A JPEG like a phone's: a textured scene, EXIF time, GPS, camera and orientation."""
    image = scene(size, seed)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "HUAWEI", "P60 Pro"
    if orientation is not None:
        exif[0x0112] = orientation
    if taken is not None:
        details = exif.get_ifd(0x8769)
        details[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if offset:
            details[0x9011] = offset
    if gps is not None:
        place = exif.get_ifd(0x8825)
        place[1], place[2] = ("N" if gps[0] >= 0 else "S"), _dms(abs(gps[0]))
        place[3], place[4] = ("E" if gps[1] >= 0 else "W"), _dms(abs(gps[1]))
    for tag, value in (raw_exif or {}).items():
        exif[tag] = value
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def scene(size: tuple[int, int], seed: int) -> Image.Image:
    """A deterministic picture with structure (so perceptual hashes differ between seeds)."""
    width, height = size
    image = Image.new("RGB", size, (40 + seed * 53 % 200, 90, 140))
    block = Image.new("RGB", (width // 3, height // 3), (250, 250, 240))
    image.paste(block, ((seed * 97) % (width - width // 3), (seed * 61) % (height - height // 3)))
    noise = Image.effect_noise(size, 25).convert("RGB")
    return Image.blend(image, noise, 0.15)


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def flat_jpeg(width: int, height: int) -> bytes:
    """A valid baseline JPEG (4:2:0) of any size, mid-grey, written by hand in ~2 bits a
    block: a 200 MP phone photo's dimensions in about a megabyte, without 600 MB of pixels."""
    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    # One Huffman code, "0", for symbol 0: in the DC table "no difference", in the AC table
    # "end of block". Every block is then two zero bits.
    huffman = bytes([1] + [0] * 15) + b"\x00"
    mcus = -(-width // 16) * -(-height // 16)
    bits = mcus * 6 * 2  # four luma and two chroma blocks a unit
    scan = b"\x00" * (bits // 8) + (b"" if bits % 8 == 0 else bytes([0xFF >> (bits % 8)]))
    if scan.endswith(b"\xff"):
        scan += b"\x00"  # stuffing
    return (b"\xff\xd8"
            + segment(0xDB, b"\x00" + bytes([1] * 64))
            + segment(0xC0, struct.pack(">BHHB", 8, height, width, 3)
                      + b"\x01\x22\x00" + b"\x02\x11\x00" + b"\x03\x11\x00")
            + segment(0xC4, b"\x00" + huffman) + segment(0xC4, b"\x10" + huffman)
            + segment(0xDA, b"\x03" + b"\x01\x00\x02\x00\x03\x00" + b"\x00\x3f\x00")
            + scan + b"\xff\xd9")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 100_000) -> bytes:
    """A PNG whose header claims side×side pixels of zeros: kilobytes on the wire."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (side + 1) * 64, 9)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows)
            + _png_chunk(b"IEND", b""))


def png_text_bomb() -> bytes:
    """A valid small PNG carrying a compressed text chunk that inflates to 64 MB."""
    small = encode(Image.new("L", (16, 16), 128), "PNG")
    text = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (64 << 20), 9))
    return small[:33] + text + small[33:]


def jpeg_with_zip() -> bytes:
    return phone_jpeg() + zip_archive()


def mpo(*, size: tuple[int, int] = (480, 360), in_second_frame: bytes = b"",
        between: bytes = b"", appended: bytes = b"") -> bytes:
    """A two-frame multi-picture JPEG as Pillow writes it (the MPF index in the first frame's
    APP2, as Ultra HDR gain maps and stereo cameras have it).

    `in_second_frame` overwrites bytes in the middle of the second frame's compressed data
    (where a ZIP signature may occur by chance: the file stays a valid MPO), `between` is
    inserted between the frames (the index moved to match), `appended` follows the last one.
    """
    frames = [scene(size, 21), scene(size, 22)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:], quality=90)
    mpf = data.index(b"MPF\x00") + 4  # the TIFF header the index's offsets count from
    (ifd,) = struct.unpack_from("<I", data, mpf + 4)
    (count,) = struct.unpack_from("<H", data, mpf + ifd)
    entries = next(value for n in range(count) for tag, _, _, value in
                   [struct.unpack_from("<HHII", data, mpf + ifd + 2 + 12 * n)] if tag == 0xB002)
    (second,) = struct.unpack_from("<I", data, mpf + entries + 16 + 8)
    second += mpf
    if in_second_frame:
        scan = data.index(b"\xff\xda", second)
        at = next(i for i in range(scan + 200, len(data))
                  if b"\xff" not in data[i - 2:i + len(in_second_frame) + 2])
        data = data[:at] + in_second_frame + data[at + len(in_second_frame):]
    if between:
        moved = struct.pack("<I", second - mpf + len(between))
        at = mpf + entries + 16 + 8
        data = data[:at] + moved + data[at + 4:second] + between + data[second:]
    return data + appended


def zip_archive() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.html", "<script>alert(1)</script>")
    return archive.getvalue()


@cache
def hostile_corpus() -> dict[str, bytes]:
    """Files a hostile or broken client might send; each must be refused with a 4xx."""
    jpeg = phone_jpeg(size=(800, 600))
    rgb = scene((120, 90), 3)
    frames = [scene((64, 64), n) for n in range(3)]
    return {
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "zero.jpg": b"",
        "bomb.png": png_bomb(),
        "text-bomb.png": png_text_bomb(),
        "script.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "page.jpg": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        "doc.pdf": b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
        "zip-appended.jpg": jpeg_with_zip(),
        "zip-after-mpo.jpg": mpo(appended=zip_archive()),
        "zip-between-mpo-frames.jpg": mpo(between=zip_archive()),
        "absurd-orientation.jpg": phone_jpeg(raw_exif={0x0112: 42}),
        "absurd-gps.jpg": phone_jpeg(gps=(95.5, 200.0)),
        "absurd-time.jpg": _absurd_time(),
        "cmyk.jpg": encode(rgb.convert("CMYK"), "JPEG"),
        "16bit.png": encode(Image.new("I;16", (64, 64), 40000), "PNG"),
        "animated.gif": encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "animated.webp": encode(frames[0], "WEBP", save_all=True, append_images=frames[1:]),
    }


def _absurd_time() -> bytes:
    image = scene((64, 64), 5)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:13:45 99:61:00"
    return encode(image, "JPEG", exif=exif)


_counter = iter(range(1, 10**9))


def jpeg_bytes(size: tuple[int, int] = (64, 48), exif: bytes | None = None) -> bytes:
    """A small, unique JPEG (each call paints a different colour, and numbers itself in a
    comment: colours alone repeat after 256 calls, and a repeated image is a reused blob
    that outlives a rolled-back test)."""
    n = next(_counter)
    image = Image.new("RGB", size, ((n * 37) % 256, (n * 91) % 256, (n * 13) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, comment=f"test image {n}".encode(),
               **({"exif": exif} if exif else {}))
    return out.getvalue()


def staged_jpeg(directory: Path, data: bytes | None = None) -> StagedFile:
    """A JPEG staged on disk as the upload reader leaves it, for service-level tests."""
    data = data if data is not None else jpeg_bytes()
    path = Path(tempfile.mkstemp(dir=directory, suffix=".jpg")[1])
    path.write_bytes(data)
    return StagedFile("photos", "scene.jpg", path, len(data), hashlib.sha256(data).hexdigest())


def photo(name: str = "scene.jpg", data: bytes | None = None,
          content_type: str = "image/jpeg") -> tuple[str, tuple[str, bytes, str]]:
    return ("photos", (name, data if data is not None else jpeg_bytes(), content_type))
