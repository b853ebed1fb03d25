"""Phone-like 12 MP JPEGs for bench/bench_photos.py (Pillow only, deterministic per seed).

A scene, not noise: a sky and ground in gradients, buildings with window grids, tanks, pipes,
railings and a warning sign with text, drawn at half size and upscaled (soft edges, as through
a phone lens), a mid-frequency texture on the ground (gravel, grass) and sensor grain. Pure
noise would be the worst case for entropy decoding; this lands at 3–6 MB at quality 90–92,
about what a 12 MP phone photo weighs. `detail` raises the texture and grain for a
high-detail file (~10 MB).

The EXIF block is spliced in as the first segment after SOI (APP1, as phones write it; the
JFIF APP0 Pillow writes is dropped), so one encoded picture can be given different EXIF —
a different capture second, say — and so a different SHA-256 without encoding it again.
"""

import io
import random
import struct
from datetime import datetime

from PIL import Image, ImageChops, ImageDraw, ImageFont

PHONE_SIZE = (4032, 3024)
NOISE_TILE = 1024


def scene(size: tuple[int, int] = PHONE_SIZE, seed: int = 1, detail: float = 1.0) -> Image.Image:
    """A deterministic outdoor workplace scene (RGB, `size`)."""
    rng = random.Random(seed)
    width, height = size
    half = (width // 2, height // 2)
    image = _sky_and_ground(half, rng)
    draw = ImageDraw.Draw(image)
    hw, hh = half
    horizon = int(hh * 0.45)
    for _ in range(6):  # buildings with window grids
        bw, bh = rng.randint(hw // 12, hw // 5), rng.randint(hh // 6, hh // 2)
        x0 = rng.randint(0, hw - bw)
        y0 = horizon + rng.randint(0, hh // 10) - bh
        wall = tuple(rng.randint(90, 220) for _ in range(3))
        draw.rectangle((x0, y0, x0 + bw, horizon + hh // 10), fill=wall)
        pane = tuple(max(0, c - rng.randint(40, 80)) for c in wall)
        for wy in range(y0 + 8, horizon, rng.randint(14, 22)):
            for wx in range(x0 + 6, x0 + bw - 10, rng.randint(12, 20)):
                draw.rectangle((wx, wy, wx + 6, wy + 8), fill=pane)
    for _ in range(4):  # tanks
        r = rng.randint(hh // 16, hh // 7)
        cx, cy = rng.randint(r, hw - r), rng.randint(horizon, hh - r)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r),
                     fill=tuple(rng.randint(150, 240) for _ in range(3)), outline=(40, 40, 40),
                     width=3)
    for _ in range(10):  # pipes
        y = rng.randint(horizon, hh)
        draw.line((rng.randint(0, hw // 2), y, rng.randint(hw // 2, hw), y + rng.randint(-40, 40)),
                  fill=tuple(rng.randint(60, 200) for _ in range(3)), width=rng.randint(3, 12))
    rail_y = int(hh * 0.8)  # a railing across the foreground
    draw.line((0, rail_y, hw, rail_y - 30), fill=(230, 200, 30), width=6)
    for x in range(0, hw, 40):
        draw.line((x, rail_y - x * 30 // hw, x, rail_y - x * 30 // hw + 120), fill=(230, 200, 30),
                  width=4)
    sx, sy = rng.randint(0, hw - 320), rng.randint(horizon, hh - 220)  # a warning sign
    draw.rectangle((sx, sy, sx + 300, sy + 200), fill=(250, 250, 245), outline=(200, 20, 20),
                   width=8)
    draw.polygon(((sx + 150, sy + 20), (sx + 90, sy + 110), (sx + 210, sy + 110)),
                 fill=(240, 200, 0), outline=(0, 0, 0))
    font = ImageFont.load_default(size=28)
    draw.text((sx + 20, sy + 130), "DANGER  KEEP OUT", fill=(200, 20, 20), font=font)
    draw.text((sx + 20, sy + 165), f"AREA {seed:03d}  2026", fill=(20, 20, 20), font=font)
    image = image.resize(size, Image.Resampling.BICUBIC)  # soft edges, as through a lens
    image = _texture(image, rng, horizon * 2, 14 * detail)
    return _grain(image, rng, 3.5 * detail)


def _sky_and_ground(size: tuple[int, int], rng: random.Random) -> Image.Image:
    width, height = size
    horizon = int(height * 0.45)
    ramp = Image.linear_gradient("L")

    def band(top: tuple[int, ...], bottom: tuple[int, ...], h: int) -> Image.Image:
        channels = [
            ramp.point(lambda v, a=a, b=b: a + (b - a) * v // 255).resize((width, h))
            for a, b in zip(top, bottom, strict=True)
        ]
        return Image.merge("RGB", channels)

    image = Image.new("RGB", size)
    sky_top = (rng.randint(40, 90), rng.randint(90, 140), rng.randint(170, 230))
    image.paste(band(sky_top, (200, 215, 230), horizon), (0, 0))
    ground = (rng.randint(90, 140), rng.randint(80, 120), rng.randint(60, 90))
    image.paste(band((150, 145, 135), ground, height - horizon), (0, horizon))
    return image


def _noise(size: tuple[int, int], rng: random.Random, sigma: float) -> Image.Image:
    """Gaussian noise (L, centred on 128) tiled from one 1024² patch at random offsets (fast)."""
    tile = Image.effect_noise((NOISE_TILE, NOISE_TILE), sigma)
    out = Image.new("L", size)
    for y in range(0, size[1], NOISE_TILE):
        for x in range(0, size[0], NOISE_TILE):
            ox, oy = rng.randrange(NOISE_TILE), rng.randrange(NOISE_TILE)
            out.paste(ImageChops.offset(tile, ox, oy), (x, y))
    return out


def _texture(image: Image.Image, rng: random.Random, horizon: int, sigma: float) -> Image.Image:
    """Mid-frequency texture on the ground (noise at 1/3 scale, upscaled: gravel, grass)."""
    width, height = image.size
    small = _noise((width // 3, height // 3), rng, sigma)
    coarse = small.resize(image.size, Image.Resampling.BICUBIC)
    mask = Image.new("L", image.size, 0)
    mask.paste(255, (0, horizon, width, height))
    textured = ImageChops.add(image, Image.merge("RGB", (coarse, coarse, coarse)), 1.0, -128)
    return Image.composite(textured, image, mask)


def _grain(image: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    """Sensor grain: luminance noise plus weaker, independent chroma noise."""
    luma = _noise(image.size, rng, sigma)
    chroma = [ImageChops.offset(luma, rng.randrange(997), rng.randrange(991)) for _ in range(3)]
    mixed = [Image.blend(luma, c, 0.35) for c in chroma]
    return ImageChops.add(image, Image.merge("RGB", mixed), 1.0, -128)


def encode(image: Image.Image, quality: int) -> bytes:
    """Baseline JPEG, 4:2:0 (as phones write), without any metadata segment."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, subsampling="4:2:0")
    data = out.getvalue()
    if data[2:4] == b"\xff\xe0":  # drop Pillow's JFIF APP0
        (length,) = struct.unpack(">H", data[4:6])
        data = data[:2] + data[4 + length:]
    return data


def phone_exif(
    *,
    orientation: int,
    taken: datetime,
    offset: str | None = "+08:00",
    gps: tuple[float, float] | None = (31.2304, 121.4737),
    make: str = "HUAWEI",
    model: str = "P60 Pro",
    size: tuple[int, int] = PHONE_SIZE,
) -> Image.Exif:
    """EXIF as a phone writes it (as tests/samples.py phone_jpeg): time, offset, GPS, camera."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    exif[0x0112] = orientation
    exif[0x0131] = "bench 1.0"
    exif[0x0132] = taken.strftime("%Y:%m:%d %H:%M:%S")
    details = exif.get_ifd(0x8769)
    details[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    details[0x9004] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if offset:
        details[0x9011] = offset
    details[0xA002], details[0xA003] = size
    if gps is not None:
        place = exif.get_ifd(0x8825)
        place[0] = b"\x02\x02\x00\x00"
        place[1], place[2] = ("N" if gps[0] >= 0 else "S"), _dms(abs(gps[0]))
        place[3], place[4] = ("E" if gps[1] >= 0 else "W"), _dms(abs(gps[1]))
    return exif


def with_exif(jpeg: bytes, exif: Image.Exif) -> bytes:
    """The JPEG with `exif` as an APP1 segment right after SOI."""
    payload = exif.tobytes()  # starts with b"Exif\\0\\0"
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)
