"""Validate an uploaded photo and produce everything kept about it, in one decode.

For a JPEG the decoder runs at reduced scale (Pillow's draft mode: DCT scaling by 1/2, 1/4
or 1/8), so a 12 MP phone photo is never decoded at full size to make a 1600 px preview;
the thumb is made from the preview. The full decode also proves the file is not truncated.

Two pixel ceilings, checked on the header before anything is decoded (the decompression-bomb
guard): a baseline JPEG, decoded at 1/8 scale whatever its size, may have up to
`max_jpeg_pixels` (200 MP: the high-resolution modes of today's phones, decoded in ~10 MB);
any other image (PNG, WebP, HEIF, a progressive JPEG, whose decoder needs the whole picture or
all its coefficients in memory) up to `max_pixels` (64 MP). See bench/bench_photo_sizes.py.
"""

import io
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pillow_heif
from PIL import Image, UnidentifiedImageError, features

from app.core.errors import PayloadTooLarge, UnsupportedMedia
from app.services.media.imaging.sniff import check_structure, is_image_sequence, sniff

pillow_heif.register_heif_opener()
Image.init()  # register every plugin now: Image.open(formats=...) only knows loaded ones
# Pillow's own bomb guard stays as a backstop above ours (it warns above this and refuses twice
# this at open); its default (89 MP) would refuse a 200 MP JPEG before our check could say why.
Image.MAX_IMAGE_PIXELS = 400_000_000

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
                 "heif": "image/heif", "avif": "image/avif"}
# Pillow >= 11.2 decodes AVIF where it is built with libavif (its wheels are); pillow-heif's
# libheif here has no AV1 decoder. Without it an AVIF file is refused as not supported.
AVIF_DECODES = bool(features.check("avif"))
# The decoder of each sniffed kind (a multi-picture JPEG opens as JPEG, then is an MPO).
PILLOW_FORMATS = {"jpeg": ["JPEG"], "png": ["PNG"], "webp": ["WEBP"], "heif": ["HEIF"],
                  "avif": ["AVIF"]}


class PhotoVariant(StrEnum):
    """The derived pictures: an upright JPEG without EXIF, long side at most so many pixels."""

    preview = "preview"
    thumb = "thumb"


VARIANT_SIDES = {PhotoVariant.preview: 1600, PhotoVariant.thumb: 320}
ACCEPTED_MODES = {"RGB", "RGBA", "RGBX", "L", "LA", "P", "PA", "YCbCr", "1"}
REJECTED_MODES = {"CMYK": "CMYK 印刷色彩模式", "I;16": "16 位深度", "I;16B": "16 位深度",
                  "I": "32 位整数像素", "F": "浮点像素", "LAB": "Lab 色彩模式"}

# EXIF orientation → the transpose that makes the image upright (as ImageOps.exif_transpose).
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
TAG_ORIENTATION, TAG_MAKE, TAG_MODEL = 0x0112, 0x010F, 0x0110
IFD_EXIF, IFD_GPS = 0x8769, 0x8825
TAG_DATETIME_ORIGINAL, TAG_OFFSET_ORIGINAL = 0x9003, 0x9011


@dataclass(frozen=True)
class PhotoFacts:
    kind: str
    content_type: str
    width: int  # as stored (before orientation)
    height: int
    orientation: int
    captured_at: datetime | None
    captured_offset_known: bool
    gps: tuple[float, float] | None
    make: str | None
    model: str | None
    phash: str  # 64-bit difference hash, hex
    derivatives: dict[str, bytes] = field(repr=False)


# Image work runs on a few dedicated threads, whatever thread the request runs on: this bounds
# the photos decoded at once, and with them the memory glibc keeps per thread after a
# photo is done (20 concurrent uploads on 20 request threads otherwise retain ~400 MB; see
# bench/bench_photos.py). The work is CPU-bound, so more threads would not be faster.
_IMAGE_THREADS = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                    thread_name_prefix="photo")


def process_photo(path: Path, *, name: str, max_pixels: int, tz: ZoneInfo,
                  max_jpeg_pixels: int | None = None) -> PhotoFacts:
    """Everything about one photo, or 413/415 with a message naming the file.

    `max_pixels` bounds images decoded whole, `max_jpeg_pixels` (default: the same) baseline
    JPEGs, decoded at reduced scale.
    """
    limits = _Limits(max_pixels, max(max_pixels, max_jpeg_pixels or 0))
    return _IMAGE_THREADS.submit(_process_photo, path, name=name, limits=limits, tz=tz).result()


@dataclass(frozen=True)
class _Limits:
    whole: int  # decoded at full size
    reduced: int  # baseline JPEG, decoded at 1/8 scale

    def of(self, image: Image.Image) -> int:
        return self.reduced if _reduced_decode(image) else self.whole


def _reduced_decode(image: Image.Image) -> bool:
    """A baseline JPEG: libjpeg decodes it scaled (1/8) a row of blocks at a time. A
    progressive one keeps every coefficient of the full picture until its last scan."""
    return image.format in ("JPEG", "MPO") and not image.info.get("progressive")


def _process_photo(path: Path, *, name: str, limits: _Limits, tz: ZoneInfo) -> PhotoFacts:
    with path.open("rb") as handle:
        head = handle.read(64)
    kind = sniff(head)
    if kind is None:
        raise UnsupportedMedia(f"「{name}」不是支持的图片格式（JPEG、HEIC、PNG、WebP、AVIF）")
    if kind in ("heif", "avif") and is_image_sequence(head):
        raise UnsupportedMedia(f"「{name}」是 {kind.upper()} 图像序列（连拍或动画），不是单张"
                               "照片，请导出其中一张静态照片后上传")
    if kind == "avif" and not AVIF_DECODES:
        raise UnsupportedMedia(f"「{name}」是 AVIF 格式，本系统不支持（服务器未安装 AVIF "
                               "解码器），请改用 JPEG 或 HEIC 格式上传")
    check_structure(path, kind, name)
    try:
        with Image.open(path, formats=PILLOW_FORMATS[kind]) as image:
            return _facts(image, kind, name, limits, tz)
    except (UnsupportedMedia, PayloadTooLarge):
        raise
    except Image.DecompressionBombError:
        # Pillow refused it at open, before the format's ceiling could be looked up.
        raise PayloadTooLarge(f"「{name}」像素数超过上限（普通 JPEG 照片最多 "
                              f"{_pixels(limits.reduced)}，其他格式最多 {_pixels(limits.whole)}）。"
                              f"{STANDARD_MODE}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            struct.error, ZeroDivisionError, KeyError, IndexError, TypeError):
        # Pillow's decoders signal hostile or broken input with any of these.
        raise UnsupportedMedia(f"「{name}」不是有效的图片文件，或文件已损坏") from None


STANDARD_MODE = "请在相机中关闭高像素模式（如 1 亿、2 亿像素），用标准模式拍摄后上传"


def _pixels(count: int) -> str:
    """A pixel count as a phone's camera names it: 1200 万像素, 2 亿像素."""
    if count >= 100_000_000:
        return f"{count / 100_000_000:.2f}".rstrip("0").rstrip(".") + " 亿像素"
    return f"{count / 10_000:.0f} 万像素"


def _too_many_pixels(image: Image.Image, name: str, limits: _Limits) -> PayloadTooLarge:
    width, height = image.size
    said = f"「{name}」有 {_pixels(width * height)}（{width}×{height}），超过"
    if _reduced_decode(image):
        return PayloadTooLarge(f"{said} {_pixels(limits.reduced)}的上限。{STANDARD_MODE}")
    what = "渐进式 JPEG" if image.format in ("JPEG", "MPO") else f"{image.format} 照片"
    also = (f"（普通 JPEG 照片可到 {_pixels(limits.reduced)}）"
            if limits.reduced > limits.whole else "")
    return PayloadTooLarge(f"{said}{what} {_pixels(limits.whole)}的上限{also}。{STANDARD_MODE}")


def _facts(image: Image.Image, kind: str, name: str, limits: _Limits,
           tz: ZoneInfo) -> PhotoFacts:
    width, height = image.size
    if width * height > limits.of(image):
        raise _too_many_pixels(image, name, limits)
    # A multi-picture JPEG (MPO) is its first frame; a HEIF file of several images is its
    # primary image (what Pillow opens); GIF and WebP frames are an animation.
    if getattr(image, "n_frames", 1) > 1 and image.format not in ("MPO", "HEIF"):
        raise UnsupportedMedia(f"「{name}」是动图，请上传静态照片")
    if image.mode in REJECTED_MODES or image.mode not in ACCEPTED_MODES:
        what = REJECTED_MODES.get(image.mode, image.mode)
        raise UnsupportedMedia(f"「{name}」使用了不支持的{what}，请上传手机拍摄的照片")
    exif = image.getexif()
    if image.format == "HEIF":
        # libheif decodes the picture already turned upright (its irot/imir boxes), and
        # pillow-heif sets the EXIF orientation to 1. Reported as for a JPEG: the orientation,
        # and the size as stored, before it is turned.
        orientation = _heif_orientation(image, name)
        if orientation >= 5:
            width, height = height, width
        turn = 1
    else:
        orientation = turn = _orientation(exif, name)
    captured_at, offset_known = _capture_time(exif, name, tz)
    gps = _gps(exif, name)
    derivatives, phash = _derive(image, turn)
    return PhotoFacts(
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        width=width,
        height=height,
        orientation=orientation,
        captured_at=captured_at,
        captured_offset_known=offset_known,
        gps=gps,
        make=_text(exif.get(TAG_MAKE)),
        model=_text(exif.get(TAG_MODEL)),
        phash=phash,
        derivatives=derivatives,
    )


def _absurd(name: str, what: str) -> UnsupportedMedia:
    return UnsupportedMedia(f"「{name}」的 EXIF 信息异常（{what}），无法作为证据")


def _orientation(exif: Image.Exif, name: str) -> int:
    value = exif.get(TAG_ORIENTATION, 1)
    if not isinstance(value, int) or not 1 <= value <= 8:
        raise _absurd(name, f"方向 {value!r}")
    return value


# libheif's transformations as the transposes they are: irot turns anticlockwise, imir 1
# mirrors left to right (about the vertical axis), imir 0 top to bottom.
HEIF_STEPS = {
    ("irot", 90): Image.Transpose.ROTATE_90,
    ("irot", 180): Image.Transpose.ROTATE_180,
    ("irot", 270): Image.Transpose.ROTATE_270,
    ("imir", 1): Image.Transpose.FLIP_LEFT_RIGHT,
    ("imir", 0): Image.Transpose.FLIP_TOP_BOTTOM,
}


def _heif_orientation(image: Image.Image, name: str) -> int:
    """The EXIF orientation equal to what libheif applied when decoding the HEIF image.

    From the image's transformations where pillow-heif shows them, else the EXIF orientation
    pillow-heif took out of the metadata (`original_orientation`: writers keep the two alike).
    """
    try:
        steps = image._heif_file[image.tell()]._c_image.transformations  # type: ignore[attr-defined]
        found = _orientation_of(tuple((step[0], step[1]) for step in steps if step[0] != "clap"))
    except (AttributeError, IndexError, TypeError):
        found = None
    if found is not None:
        return found
    value = image.info.get("original_orientation") or 1
    if not isinstance(value, int) or not 1 <= value <= 8:
        raise _absurd(name, f"方向 {value!r}")
    return value


@cache
def _orientation_of(steps: tuple[tuple[str, int], ...]) -> int | None:
    """The EXIF orientation whose transpose is these steps, composed; None if there is none."""
    probe = Image.frombytes("L", (3, 2), bytes(range(6)))
    turned = probe
    for step in steps:
        if step not in HEIF_STEPS:
            return None
        turned = turned.transpose(HEIF_STEPS[step])
    for orientation in range(1, 9):
        if _upright(probe, orientation).tobytes() == turned.tobytes() and \
                _upright(probe, orientation).size == turned.size:
            return orientation
    return None


def _capture_time(exif: Image.Exif, name: str, tz: ZoneInfo) -> tuple[datetime | None, bool]:
    details = exif.get_ifd(IFD_EXIF)
    raw = _text(details.get(TAG_DATETIME_ORIGINAL))
    if not raw or raw.strip(" 0:") == "":
        return None, False  # absent, or blanked by the camera ("0000:00:00 00:00:00")
    try:
        local = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
    except ValueError:
        raise _absurd(name, f"拍摄时间 {raw!r}") from None
    if not 1970 <= local.year <= 2100:
        raise _absurd(name, f"拍摄时间 {raw!r}")
    offset = _offset(_text(details.get(TAG_OFFSET_ORIGINAL)))
    if offset is None:
        # Phones in China rarely write the offset; local time there is the users' zone.
        return local.replace(tzinfo=tz), False
    return local.replace(tzinfo=offset), True


def _offset(raw: str | None) -> timezone | None:
    if not raw or len(raw) != 6 or raw[0] not in "+-" or raw[3] != ":":
        return None
    try:
        hours, minutes = int(raw[1:3]), int(raw[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    sign = 1 if raw[0] == "+" else -1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _gps(exif: Image.Exif, name: str) -> tuple[float, float] | None:
    gps = exif.get_ifd(IFD_GPS)
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _degrees(gps[2], name) * (-1 if _text(gps.get(1)) == "S" else 1)
    lon = _degrees(gps[4], name) * (-1 if _text(gps.get(3)) == "W" else 1)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _absurd(name, f"GPS 坐标 {lat:.4f}, {lon:.4f}")
    if lat == 0 and lon == 0:
        return None  # "no fix" written as zeros
    return round(lat, 7), round(lon, 7)


def _degrees(value: Any, name: str) -> float:
    try:
        d, m, s = (float(Fraction(str(v))) if not isinstance(v, int | float) else float(v)
                   for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise _absurd(name, "GPS 坐标格式") from None
    if not (0 <= m < 60 and 0 <= s < 60):
        raise _absurd(name, "GPS 坐标分秒")
    return d + m / 60 + s / 3600


def _text(value: Any) -> str | None:
    """An EXIF text as shown and stored: at most 100 characters, without NULs.

    A TIFF ASCII field may hold several strings, each ended by a NUL (TIFF 6.0, section 2),
    and cameras pad with NULs: the strings are kept, joined by a space ("ION230\\0F" is
    "ION230 F", neither cut to "ION230" nor run together), the padding dropped.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    parts = (part.strip() for part in str(value).split("\x00"))
    text = " ".join(part for part in parts if part)
    return text[:100].rstrip() or None


def _derive(image: Image.Image, orientation: int) -> tuple[dict[str, bytes], str]:
    preview_side = VARIANT_SIDES["preview"]
    target = _fit(image.size, preview_side)
    if image.format in ("JPEG", "MPO", "HEIF"):
        # JPEG: decode at 1/2, 1/4 or 1/8 scale when that is enough; HEIF: decode an embedded
        # thumbnail instead when one is at least that large.
        image.draft("RGB", target)
    image.load()
    rgb = _to_rgb(image)
    preview = rgb.resize(_fit(rgb.size, preview_side), Image.Resampling.LANCZOS,
                         reducing_gap=3.0) if max(rgb.size) > preview_side else rgb
    preview = _upright(preview, orientation)
    thumb = preview.resize(_fit(preview.size, VARIANT_SIDES["thumb"]),
                           Image.Resampling.LANCZOS, reducing_gap=2.0)
    return {"preview": _jpeg(preview, 82), "thumb": _jpeg(thumb, 80)}, difference_hash(thumb)


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB") if image.mode != "RGB" else image


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = ORIENTATION_TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)  # no exif= : derivatives carry no metadata
    return out.getvalue()


def difference_hash(image: Image.Image) -> str:
    """64-bit dHash: robust to rescaling and recompression, so a re-sent photo still matches.

    Ten lines of Pillow; the imagehash package would pull numpy and scipy in for this.
    """
    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = small.tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            bits = (bits << 1) | (left > right)
    return f"{bits:016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
