"""Benchmark one photo upload at the sizes phones take: 12, 48, 108 and 200 MP.

Not a test: it prints figures. The targets (docs/domain.md): a 12 MP JPEG's upload peaks at
<= 80 MB RSS, and up to 200 MP is accepted with memory bounded (a baseline JPEG is decoded at
1/8 scale, app/services/media/imaging/process.py), so its peak stays near the 12 MP one.

Run:

    .venv/bin/python bench/bench_photo_sizes.py           # 12/48/108/200 MP (~2 minutes here)
    .venv/bin/python bench/bench_photo_sizes.py --runs 5  # more timed runs per size (default 3)
    .venv/bin/python bench/bench_photo_sizes.py --smoke   # tiny, for tests/bench (seconds)

The pictures: bench/photo_samples.py's phone-like scene at 12 MP (a drawn workplace with
texture and sensor grain, quality 90, 4:2:0, baseline, EXIF with orientation 6, time, GPS and
camera as a phone writes it). The larger ones are that scene scaled up by libvips (pyvips,
streaming, so that making a 200 MP file needs no 600 MB of pixels) with fresh full-resolution
grain added, saved the same way: their files weigh what such phone photos do (tens of MB).

Each size is measured in a fresh subprocess: the baseline is its peak RSS after the imports
(VmHWM, bench.lib.memory.peak_mib), then one cold upload — the SHA-256 of the file (done while
the upload streams, app/http/uploads.py) and process_photo with the default limits
(MAX_IMAGE_PIXELS, MAX_JPEG_PIXELS): sniff, structure walk, one reduced decode, EXIF,
derivatives, dHash — whose peak RSS is the figure, then --runs timed uploads (wall clock and
CPU, median). The streaming form reader keeps 64 KiB at a time, so the photo step is the
upload's peak. A file over the default MAX_UPLOAD_BYTES is pointed out: the request would be
refused before the photo is looked at.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import ROOT
from bench.lib.memory import peak_mib
from bench.lib.output import log, table

TZ = ZoneInfo("Asia/Shanghai")
SIZES = {"12 MP": (4032, 3024), "48 MP": (8000, 6000), "108 MP": (12000, 9000),
         "200 MP": (16320, 12240)}
SMOKE_SIZES = {"0.3 MP": (640, 480), "1 MP": (1200, 900)}
BASE = (4032, 3024)  # the drawn scene's size at most; larger ones are scaled up from it
SMALLEST_SCENE = (2000, 1500)  # photo_samples.scene draws nothing smaller; scaled down from it
QUALITY, GRAIN = 90, 3.5
TARGET_PEAK_MB, TARGET_LABEL = 80.0, "12 MP"
HASH_CHUNK = 1 << 20


# --------------------------------------------------------------------------- worker side


def limits() -> tuple[int, int, int]:
    """The default MAX_IMAGE_PIXELS, MAX_JPEG_PIXELS and MAX_UPLOAD_BYTES."""
    from app.core.config import Settings

    fields = Settings.model_fields
    return (fields["max_image_pixels"].default, fields["max_jpeg_pixels"].default,
            fields["max_upload_bytes"].default)


def upload(path: Path) -> tuple[int, int]:
    """One upload's work on the file: its SHA-256, then the photo pipeline. The preview size."""
    from app.services.media.imaging.process import process_photo

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    whole, jpeg, _ = limits()
    facts = process_photo(path, name=path.name, max_pixels=whole, tz=TZ, max_jpeg_pixels=jpeg)
    from PIL import Image

    with Image.open(__import__("io").BytesIO(facts.derivatives["preview"])) as preview:
        return preview.size


def worker(path: Path, runs: int) -> dict[str, Any]:
    import app.services.media.imaging.process  # noqa: F401 (the imports count in the baseline)

    baseline = peak_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    preview = upload(path)
    cold_ms = (time.perf_counter() - wall) * 1000
    cold_cpu_ms = (time.process_time() - cpu) * 1000
    first_peak = peak_mib()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        upload(path)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return {"baseline_mb": baseline, "peak_mb": first_peak, "final_peak_mb": peak_mib(),
            "cold_ms": cold_ms, "cold_cpu_ms": cold_cpu_ms,
            "median_ms": statistics.median(walls or [cold_ms]),
            "cpu_ms": statistics.median(cpus or [cold_cpu_ms]), "preview": preview}


# --------------------------------------------------------------------------- parent side


def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    scale = min(1.0, box[0] / size[0], box[1] / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def make_sample(directory: Path, label: str, size: tuple[int, int]) -> Path:
    """A phone-like JPEG of `size` with a phone's EXIF."""
    from bench.photo_samples import encode, phone_exif, scene, with_exif

    base = fit(size, BASE) if size[0] >= SMALLEST_SCENE[0] else SMALLEST_SCENE
    pixels = encode(scene(base, seed=2, detail=2.5), QUALITY)
    if base != size:
        pixels = scaled_up(pixels, size)
    taken = datetime.now(TZ).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    path = directory / f"{label.replace(' ', '').replace('.', '_')}.jpg"
    path.write_bytes(with_exif(pixels, phone_exif(orientation=6, taken=taken, size=size)))
    return path


def scaled_up(jpeg: bytes, size: tuple[int, int]) -> bytes:
    """The picture scaled to `size` by libvips with fresh grain, baseline 4:2:0, no metadata."""
    import pyvips

    image = pyvips.Image.new_from_buffer(jpeg, "")
    image = image.resize(size[0] / image.width, vscale=size[1] / image.height, kernel="cubic")
    if (image.width, image.height) != size:
        image = image.gravity("centre", *size, extend="copy")
    grain = pyvips.Image.gaussnoise(*size, sigma=GRAIN, mean=0)
    image = (image + grain).cast("uchar")
    drop = {"keep": "none"} if pyvips.at_least_libvips(8, 15) else {"strip": True}
    return image.jpegsave_buffer(Q=QUALITY, subsample_mode="on", interlace=False, **drop)


def run_worker(path: Path, runs: int) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, __file__, "--worker", str(path), "--runs", str(runs)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker {path.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed uploads per size (3)")
    parser.add_argument("--keep", action="store_true", help="keep the sample files")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, to check the bench runs (figures mean nothing)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.runs)))
        return
    sizes = SMOKE_SIZES if args.smoke else SIZES
    runs = 1 if args.smoke else args.runs
    import PIL

    print(f"bench_photo_sizes: Python {sys.version.split()[0]}, Pillow {PIL.__version__}, "
          f"{os.cpu_count()} CPUs, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    whole, jpeg, upload_bytes = limits()
    tmp = Path(tempfile.mkdtemp(prefix="bihuan-bench-photo-sizes-"))
    rows, results, notes = [], {}, []
    try:
        for label, size in sizes.items():
            started = time.perf_counter()
            path = make_sample(tmp, label, size)
            log(f"made {path.name}: {path.stat().st_size / 1e6:.1f} MB in "
                f"{time.perf_counter() - started:.1f} s; measuring")
            result = results[label] = run_worker(path, runs)
            mb = path.stat().st_size / 1e6
            rows.append([label, f"{size[0] * size[1] / 1e6:.1f}", f"{mb:.1f}",
                         f"{result['cold_ms']:.1f}", f"{result['median_ms']:.1f}",
                         f"{result['cpu_ms']:.1f}", f"{result['baseline_mb']:.1f}",
                         f"{result['peak_mb']:.1f}",
                         f"{result['peak_mb'] - result['baseline_mb']:.1f}",
                         f"{size[0]}×{size[1]}", "×".join(map(str, result["preview"]))])
            if path.stat().st_size > upload_bytes:
                notes.append(f"{label}: the file ({mb:.1f} MB) is over the default "
                             f"MAX_UPLOAD_BYTES ({upload_bytes / 2**20:.0f} MiB); such uploads "
                             "need it raised")
            if not args.keep:
                path.unlink()
        print(f"\n== one upload per fresh process (SHA-256 + process_photo; limits "
              f"MAX_IMAGE_PIXELS {whole:,}, MAX_JPEG_PIXELS {jpeg:,}; median of {runs} timed "
              "runs after the cold one; peak = VmHWM after the cold upload) ==")
        print(table(["photo", "MP", "file MB", "cold ms", "median ms", "CPU ms", "baseline MB",
                     "peak RSS MB", "+RSS MB", "pixels", "preview"], rows))
        print()
        for label in sizes:
            print(f"peak RSS per upload at {label}: {results[label]['peak_mb']:.1f} MB")
        if TARGET_LABEL in results:
            peak = results[TARGET_LABEL]["peak_mb"]
            print(f"   target {TARGET_LABEL} <= {TARGET_PEAK_MB:.0f} MB: "
                  + ("MET" if peak <= TARGET_PEAK_MB else "MISSED"))
        for note in notes:
            print(f"note: {note}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
