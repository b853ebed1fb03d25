"""Photos for the demo story: distinct generated scenes, as a phone takes them (EXIF capture
time with the offset, GPS a little way from the enterprise), staged on disk like an upload."""

import hashlib
import io
import random
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from app.services.media.imaging.staged import StagedFile

SIZE = (640, 480)


def scene(seed: int) -> Image.Image:
    """A picture of its own per seed: a gradient, a few shapes, a grain (so that the
    perceptual hashes of two seeds are far apart and no photo looks like another)."""
    rng = random.Random(seed)  # noqa: S311 (a picture, not a secret)
    width, height = SIZE
    top = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    bottom = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    gradient = Image.linear_gradient("L").resize(SIZE)
    image = ImageOps.colorize(gradient, top, bottom)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(6, 12)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randint(40, 320), y0 + rng.randint(40, 240)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice(("rectangle", "ellipse", "polygon"))
        if shape == "rectangle":
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.polygon([(rng.randrange(width), rng.randrange(height)) for _ in range(4)],
                         fill=colour)
    # A grain of the same seed (so the same seed gives the same bytes), drawn small and
    # enlarged: the texture a sensor adds.
    small = (width // 4, height // 4)
    grain = Image.frombytes("L", small, rng.randbytes(small[0] * small[1])).resize(SIZE)
    return Image.blend(image, grain.convert("RGB"), 0.1)


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def phone_jpeg(seed: int, *, taken: datetime, gps: tuple[float, float]) -> bytes:
    """A JPEG like a phone's: the scene, camera, capture time (local, with its offset), GPS."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "HUAWEI", "P60 Pro"
    details = exif.get_ifd(0x8769)
    details[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    offset = taken.strftime("%z")
    details[0x9011] = f"{offset[:3]}:{offset[3:]}"
    place = exif.get_ifd(0x8825)
    place[1], place[2] = ("N" if gps[0] >= 0 else "S"), _dms(abs(gps[0]))
    place[3], place[4] = ("E" if gps[1] >= 0 else "W"), _dms(abs(gps[1]))
    out = io.BytesIO()
    scene(seed).save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def stage(directory: Path, name: str, data: bytes) -> StagedFile:
    """Write the bytes where an upload would be staged; the file the photo pipeline reads."""
    path = directory / name
    path.write_bytes(data)
    return StagedFile(field_name="photos", filename=name, path=path, size=len(data),
                      sha256=hashlib.sha256(data).hexdigest())
