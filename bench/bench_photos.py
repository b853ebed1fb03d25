"""Benchmark evidence-photo ingest: bihuan vs libvips (pyvips) vs naive Pillow, side by side.

Not a test: it prints figures. The issue's targets, for 12 MP (4032×3024) phone-like JPEGs with
EXIF and orientation:

  * per-photo median time of bihuan's ingest <= 1.0× pyvips making the same two derivatives;
  * peak RSS <= 80 MB per upload;
  * 20 concurrent 10 MB uploads raise the server's RSS by <= 200 MB.

pyvips comes with the dev dependencies (`pyvips[binary]`: libvips ships inside the wheel, so
no system package is needed; the libvips version is printed).

Run:

    .venv/bin/python bench/bench_photos.py              # part 1 + part 2 (3–4 minutes here)
    .venv/bin/python bench/bench_photos.py --no-server  # part 1 only
    .venv/bin/python bench/bench_photos.py --profile    # + bihuan's ingest step by step
    .venv/bin/python bench/bench_photos.py --server-only --server-src HEAD  # serve a commit
    .venv/bin/python bench/bench_photos.py --server-only --server-env MALLOC_ARENA_MAX=2
    .venv/bin/python bench/bench_photos.py --smoke      # tiny, for tests/bench (seconds)

--photo-size WxH makes smaller (or larger) pictures and --samples picks some of them (site-a,
site-b, site-c, detail); --smoke is --photo-size 2000x1500 --samples detail --runs 2
--warmup 0 --rounds 1 --uploads 2 --idle-seconds 0.2, whose figures mean nothing.

Part 1, per photo. Phone-like JPEGs are generated into a temp dir (bench/photo_samples.py:
a drawn scene with gradients, shapes, ground texture and sensor grain, not noise; 3–6 MB at
quality 90–92, plus one ~10 MB high-detail file; EXIF with Make/Model, DateTimeOriginal,
OffsetTimeOriginal and GPS; orientation 1 or 6). Each implementation ingests each file in a
fresh subprocess, so its peak RSS after one ingest is attributable: the baseline is the peak
RSS after the imports, the increase is the peak after the first ingest minus that (peak RSS
is /proc/self/status VmHWM, not getrusage's ru_maxrss, which a child inherits from the
forked parent across exec; see bench.lib.memory.peak_mib). Then --warmup more ingests, then
the timed runs (wall clock, perf_counter; CPU is process_time, all threads). The --runs timed
runs per file are split over --rounds fresh subprocesses per implementation, the
implementations taking turns round by round, so that load from other processes on the
machine falls on all of them alike; the load average is printed, and the CPU columns are the
steadier figure on a busy machine. Every implementation hashes the whole file with SHA-256
(bihuan does it while the upload streams, app/api/uploads.py, so it is added to its timing here):

  bihuan          app.imaging.process.process_photo (sniff, structure walk, one JPEG decode in
                  draft mode, EXIF, upright 1600 px preview Q82 + 320 px thumb Q80, dHash)
  pyvips c=1      pyvips.Image.thumbnail(path, 1600) and thumbnail(path, 320) (autorotate is
                  thumbnail's default), jpegsave_buffer(Q=82 / Q=80, metadata stripped);
                  VIPS_CONCURRENCY=1 set before import: single thread, as fair as it gets
  pyvips default  the same with libvips' default concurrency (one thread per core)
  naive Pillow    Image.open, ImageOps.exif_transpose (full-size decode), thumbnail(1600) and
                  save Q82, thumbnail(320) and save Q80

libvips' operation cache is switched off (pyvips.cache_set_max(0)): each upload is a new file,
and the cache would otherwise hand back earlier results for the repeated runs. The outputs are
checked: the same preview and thumb sizes for all, and each thumb's dHash within a few bits
of bihuan's (so all of them rotated the orientation-6 files the same way).

Part 2 (--no-server skips it), the real server: a temp dir with a SQLite database and media
root, `bihuan migrate`, `bihuan demo`, then `bihuan serve --host 127.0.0.1 --port 8766
--workers 1` (DATABASE_URL, MEDIA_ROOT and a random SECRET_KEY in its environment). Log in as
ent_a, sample the server's RSS (from /proc, children included) at idle, send one upload as a
warm-up, sample idle again, then fire --uploads (20) concurrent `POST /api/v1/hazards`, each
with one distinct ~10 MB JPEG (the same pixels, different EXIF capture second, so each has its
own SHA-256), sampling the server's RSS every 20 ms. Reports the peak increase over both
idles, the RSS left after the burst, and each request's latency and status (with the server
log's first traceback when a request fails). --server-src GIT-REF serves `git archive REF`
instead of the working tree (for when someone is mid-edit there); --server-env adds to the
server's environment, for diagnosis. Loopback only; the server is stopped and the temp dir
removed at the end (also on error or Ctrl-C).

The machine this was written on has 2 cores; figures on other machines will differ.
"""

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import ROOT
from bench.lib.load import login
from bench.lib.memory import RssSampler, peak_mib, rss_mib
from bench.lib.output import table
from bench.lib.ports import pick_port
from bench.lib.server import Server, exit_on_signals, run_bihuan, serve_argv
from bench.lib.stats import percentile

TZ = ZoneInfo("Asia/Shanghai")
MAX_PIXELS = 64_000_000  # app.config default MAX_IMAGE_PIXELS
PREVIEW, THUMB = 1600, 320
PREVIEW_Q, THUMB_Q = 82, 80  # as app/imaging/process.py writes them
HASH_CHUNK = 1 << 20
IMPLS = ("bihuan", "pyvips c=1", "pyvips default", "naive Pillow")
REFERENCE = "pyvips c=1"
TARGET_RATIO, TARGET_PEAK_MB, TARGET_SERVER_MB = 1.0, 80.0, 200.0


@dataclass(frozen=True)
class Sample:
    label: str
    seed: int
    detail: float
    quality: int
    orientation: int


SAMPLES = (
    Sample("site-a o1 q92", 1, 1.5, 92, 1),
    Sample("site-b o6 q90", 2, 2.5, 90, 6),
    Sample("site-c o6 q92", 3, 3.0, 92, 6),
    Sample("detail o6 q95", 4, 7.5, 95, 6),  # the ~10 MB high-detail file
)
HIGH_DETAIL = SAMPLES[-1]
SMOKE = {"photo_size": "2000x1500", "samples": "detail", "runs": 2, "warmup": 0, "rounds": 1,
         "uploads": 2, "idle_seconds": 0.2}


# --------------------------------------------------------------------------- worker side


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def make_ingest(impl: str) -> Any:
    """The implementation's ingest: path -> (sha256, preview JPEG bytes, thumb JPEG bytes)."""
    if impl == "bihuan":
        from app.services.media.imaging.process import process_photo

        def ingest(path: Path) -> tuple[str, bytes, bytes]:
            sha = sha256_file(path)
            facts = process_photo(path, name=path.name, max_pixels=MAX_PIXELS, tz=TZ)
            return sha, facts.derivatives["preview"], facts.derivatives["thumb"]

        return ingest
    if impl.startswith("pyvips"):
        import pyvips

        pyvips.cache_set_max(0)
        drop = {"keep": "none"} if pyvips.at_least_libvips(8, 15) else {"strip": True}

        def ingest(path: Path) -> tuple[str, bytes, bytes]:
            sha = sha256_file(path)
            preview = pyvips.Image.thumbnail(str(path), PREVIEW).jpegsave_buffer(
                Q=PREVIEW_Q, **drop)
            thumb = pyvips.Image.thumbnail(str(path), THUMB).jpegsave_buffer(Q=THUMB_Q, **drop)
            return sha, preview, thumb

        return ingest
    if impl == "naive Pillow":
        import io

        from PIL import Image, ImageOps

        def save(image: Any, quality: int) -> bytes:
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality)
            return out.getvalue()

        def ingest(path: Path) -> tuple[str, bytes, bytes]:
            sha = sha256_file(path)
            with Image.open(path) as opened:
                image = ImageOps.exif_transpose(opened)  # decodes at full size
            image.thumbnail((PREVIEW, PREVIEW))
            preview = save(image, PREVIEW_Q)
            image.thumbnail((THUMB, THUMB))
            return sha, preview, save(image, THUMB_Q)

        return ingest
    raise SystemExit(f"unknown implementation {impl!r}")


def worker(impl: str, path: Path, runs: int, warmup: int, out_dir: Path) -> dict[str, Any]:
    ingest = make_ingest(impl)
    baseline, baseline_now = peak_mib(), rss_mib()
    sha, preview, thumb = ingest(path)  # the cold ingest whose peak is attributable
    first_peak = peak_mib()
    stem = f"{impl.replace(' ', '_').replace('=', '')}-{path.stem}"
    (out_dir / f"{stem}-preview.jpg").write_bytes(preview)
    (out_dir / f"{stem}-thumb.jpg").write_bytes(thumb)
    for _ in range(warmup):
        ingest(path)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        ingest(path)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return {
        "impl": impl, "sha256": sha, "walls": walls, "cpus": cpus,
        "baseline_mb": baseline, "baseline_now_mb": baseline_now,
        "first_peak_mb": first_peak, "final_peak_mb": peak_mib(),
        "preview": str(out_dir / f"{stem}-preview.jpg"),
        "thumb": str(out_dir / f"{stem}-thumb.jpg"),
        "threads": threading.active_count(),
        "vips_concurrency": (sys.modules["pyvips"].concurrency_get()
                             if "pyvips" in sys.modules else None),
    }


def steps_worker(path: Path, runs: int) -> dict[str, Any]:
    """bihuan's ingest split into its steps (mirrors process_photo/_derive), time and peak RSS."""
    from PIL import Image

    from app.services.media.imaging import process as p
    from app.services.media.imaging.sniff import check_structure, sniff

    def once() -> list[tuple[str, float, float]]:
        marks: list[tuple[str, float, float]] = []
        clock = time.perf_counter()

        def mark(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            marks.append((step, (now - clock) * 1000, peak_mib()))
            clock = time.perf_counter()

        sha256_file(path)
        mark("sha256 (streamed upload)")
        with path.open("rb") as handle:
            kind = sniff(handle.read(32))
        check_structure(path, kind or "jpeg", path.name)
        mark("sniff + structure walk")
        with Image.open(path, formats=p.PILLOW_FORMATS[kind or "jpeg"]) as image:
            image.size  # noqa: B018 (header parsed by open)
            mark("open (header)")
            exif = image.getexif()
            orientation = p._orientation(exif, path.name)
            p._capture_time(exif, path.name, TZ)
            p._gps(exif, path.name)
            mark("EXIF read")
            image.draft("RGB", p._fit(image.size, PREVIEW))
            image.load()
            mark(f"draft decode ({image.size[0]}×{image.size[1]})")
            rgb = p._to_rgb(image)
            preview = rgb.resize(p._fit(rgb.size, PREVIEW), Image.Resampling.LANCZOS,
                                 reducing_gap=3.0)
            mark("LANCZOS resize to preview")
            preview = p._upright(preview, orientation)
            mark("orient (transpose preview)")
            thumb = preview.resize(p._fit(preview.size, THUMB), Image.Resampling.LANCZOS,
                                   reducing_gap=2.0)
            mark("LANCZOS resize to thumb")
            p._jpeg(preview, PREVIEW_Q)
            mark("JPEG encode preview")
            p._jpeg(thumb, THUMB_Q)
            mark("JPEG encode thumb")
            p.difference_hash(thumb)
            mark("dHash")
        return marks

    baseline = peak_mib()
    cold = once()
    timed = [once() for _ in range(runs)]
    steps = [
        {"step": step, "cold_peak_mb": peak,
         "median_ms": statistics.median(run[i][1] for run in timed)}
        for i, (step, _ms, peak) in enumerate(cold)
    ]

    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        p.process_photo(path, name=path.name, max_pixels=MAX_PIXELS, tz=TZ)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(14)
    return {"baseline_mb": baseline, "steps": steps, "cprofile": text.getvalue(),
            "profiled_runs": runs}


# --------------------------------------------------------------------------- parent side


def make_samples(directory: Path, samples: tuple[Sample, ...],
                 size: tuple[int, int]) -> list[tuple[Sample, Path]]:
    """The chosen samples as phone-like JPEGs of `size`, and the high-detail file's pixels
    (without EXIF) for part 2 whether or not it is among them."""
    from bench.photo_samples import encode, phone_exif, scene, with_exif

    taken = datetime.now(TZ).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    made = []
    for sample in dict.fromkeys((*samples, HIGH_DETAIL)):
        pixels = encode(scene(size, seed=sample.seed, detail=sample.detail), sample.quality)
        if sample is HIGH_DETAIL:
            (directory / "high-detail.pixels.jpg").write_bytes(pixels)  # for part 2
        if sample not in samples:
            continue
        exif = phone_exif(orientation=sample.orientation, taken=taken, size=size)
        path = directory / f"{sample.label.split()[0]}.jpg"
        path.write_bytes(with_exif(pixels, exif))
        made.append((sample, path))
    return made


def worker_env(impl: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIPS_CONCURRENCY"}
    if impl == "pyvips c=1":
        env["VIPS_CONCURRENCY"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_worker(args: list[str], impl: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], env=worker_env(impl), cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker {impl} {args} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def p90(values: list[float]) -> float:
    """The 90th percentile (nearest rank, as every bench's percentiles)."""
    return percentile(values, 90)


def check_outputs(results: dict[str, dict[str, Any]]) -> str:
    """Same derivative sizes for all; each thumb's dHash near bihuan's (same orientation)."""
    from PIL import Image

    from app.services.media.imaging.process import difference_hash, hamming

    notes, ref_hash = [], None
    for impl in IMPLS:
        with Image.open(results[impl]["preview"]) as preview, \
                Image.open(results[impl]["thumb"]) as thumb:
            thumb.load()
            dhash = difference_hash(thumb.convert("RGB"))
            ref_hash = ref_hash or dhash
            exif = "EXIF!" if preview.getexif() or thumb.getexif() else "no EXIF"
            notes.append(f"{impl}: {preview.size[0]}×{preview.size[1]} "
                         f"{Path(results[impl]['preview']).stat().st_size // 1024} KiB / "
                         f"{thumb.size[0]}×{thumb.size[1]}, {exif}, "
                         f"dHash Δ{hamming(dhash, ref_hash)}")
    if len({results[i]["sha256"] for i in IMPLS}) != 1:
        notes.append("SHA-256 DIFFERS")
    return "; ".join(notes)


def part_one(samples: list[tuple[Sample, Path]], runs: int, warmup: int, rounds: int,
             out_dir: Path, size: tuple[int, int]) -> dict[str, Any]:
    print(f"\n== Part 1: per-photo ingest, {runs} timed runs per file and implementation, in "
          f"{rounds} fresh subprocesses taking turns, each after 1 cold + {warmup} warm-up "
          "ingests ==")
    print("   pyvips c=1: VIPS_CONCURRENCY=1 set before import (single-threaded libvips); "
          f"pyvips default: libvips' default concurrency ({os.cpu_count()} cores here); "
          "libvips operation cache off.")
    print("   Every implementation includes SHA-256 of the whole file. Times in ms (wall), "
          "CPU = process CPU time (all threads). RSS in MB (MiB):\n"
          "   baseline = peak RSS (VmHWM) after imports; peak = VmHWM after the first (cold) "
          "ingest; +RSS = peak - baseline; peak@end = VmHWM after all runs (worst round).")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print("   NOTE: the machine is busy (load average above the CPU count): wall times "
              "include waiting for a CPU and vary; the CPU columns are the steadier comparison.")
    pooled: dict[str, dict[str, Any]] = {i: {"walls": [], "cpus": [], "peak": 0.0, "inc": 0.0}
                                         for i in IMPLS}
    for sample, path in samples:
        results: dict[str, dict[str, Any]] = {}
        for turn in range(rounds):
            share = runs // rounds + (turn < runs % rounds)
            for impl in IMPLS[turn % len(IMPLS):] + IMPLS[:turn % len(IMPLS)]:
                merge(results, impl, run_worker(
                    ["--worker", impl, "--file", str(path), "--runs", str(share), "--warmup",
                     str(warmup), "--out-dir", str(out_dir)], impl))
        size_mb = path.stat().st_size / 1e6
        print(f"\n-- {path.name}: {sample.label}, {size[0]}×{size[1]}, {size_mb:.1f} MB, "
              f"orientation {sample.orientation}; libvips threads: c=1 -> "
              f"{results['pyvips c=1']['vips_concurrency']}, default -> "
              f"{results['pyvips default']['vips_concurrency']}")
        print(table(*rows_for(results)))
        print("   outputs: " + check_outputs(results))
        for impl, result in results.items():
            pool = pooled[impl]
            pool["walls"] += result["walls"]
            pool["cpus"] += result["cpus"]
            pool["peak"] = max(pool["peak"], result["first_peak_mb"])
            pool["inc"] = max(pool["inc"], result["inc_mb"])
    return pooled


def merge(results: dict[str, dict[str, Any]], impl: str, result: dict[str, Any]) -> None:
    """Add one round's subprocess result: timings pooled, RSS figures the worst round's."""
    result["inc_mb"] = result["first_peak_mb"] - result["baseline_mb"]
    if impl not in results:
        results[impl] = result
        return
    merged = results[impl]
    merged["walls"] += result["walls"]
    merged["cpus"] += result["cpus"]
    for key in ("baseline_mb", "first_peak_mb", "final_peak_mb", "inc_mb"):
        merged[key] = max(merged[key], result[key])


def rows_for(results: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    headers = ["implementation", "median ms", "p90 ms", "×pyvips c=1", "×pyvips dflt",
               "CPU ms", "CPU ×c=1", "baseline MB", "peak RSS MB", "+RSS MB", "peak@end MB"]
    ref = statistics.median(results[REFERENCE]["walls"])
    dflt = statistics.median(results["pyvips default"]["walls"])
    ref_cpu = statistics.median(results[REFERENCE]["cpus"])
    rows = []
    for impl in IMPLS:
        r = results[impl]
        median, cpu = statistics.median(r["walls"]), statistics.median(r["cpus"])
        rows.append([impl, f"{median:.1f}", f"{p90(r['walls']):.1f}", f"{median / ref:.2f}",
                     f"{median / dflt:.2f}", f"{cpu:.1f}", f"{cpu / ref_cpu:.2f}",
                     f"{r['baseline_mb']:.1f}", f"{r['first_peak_mb']:.1f}",
                     f"{r['inc_mb']:.1f}", f"{r['final_peak_mb']:.1f}"])
    return headers, rows


def summary_one(pooled: dict[str, Any], files: int) -> list[str]:
    print(f"\n-- all {files} files pooled (median/p90 over all timed runs; RSS = worst file)")
    ref = statistics.median(pooled[REFERENCE]["walls"])
    dflt = statistics.median(pooled["pyvips default"]["walls"])
    ref_cpu = statistics.median(pooled[REFERENCE]["cpus"])
    rows = []
    for impl in IMPLS:
        pool = pooled[impl]
        median, cpu = statistics.median(pool["walls"]), statistics.median(pool["cpus"])
        rows.append([impl, f"{median:.1f}", f"{p90(pool['walls']):.1f}", f"{median / ref:.2f}",
                     f"{median / dflt:.2f}", f"{cpu:.1f}", f"{cpu / ref_cpu:.2f}",
                     f"{pool['peak']:.1f}", f"{pool['inc']:.1f}"])
    print(table(["implementation", "median ms", "p90 ms", "×pyvips c=1", "×pyvips dflt",
                 "CPU ms", "CPU ×c=1", "peak RSS MB", "+RSS MB"], rows))
    ratio = statistics.median(pooled["bihuan"]["walls"]) / ref
    cpu_ratio = statistics.median(pooled["bihuan"]["cpus"]) / ref_cpu
    verdicts = [
        f"median time {ratio:.2f}× pyvips (c=1) (CPU {cpu_ratio:.2f}×) vs target <= "
        f"{TARGET_RATIO:.1f}×: " + ("MET" if max(ratio, cpu_ratio) <= TARGET_RATIO else "MISSED"),
        f"peak RSS per upload {pooled['bihuan']['peak']:.1f} MB "
        f"(+{pooled['bihuan']['inc']:.1f} over the imports) vs target <= {TARGET_PEAK_MB:.0f} "
        "MB: " + ("MET" if pooled["bihuan"]["peak"] <= TARGET_PEAK_MB else "MISSED"),
    ]
    return verdicts


def part_profile(path: Path, runs: int) -> None:
    result = run_worker(["--steps", "--file", str(path), "--runs", str(runs)], "bihuan")
    print(f"\n== bihuan's ingest step by step: {path.name} (fresh process; median of {runs} "
          "runs; peak = VmHWM after the step in the cold run) ==")
    print(f"   baseline after imports {result['baseline_mb']:.1f} MB")
    rows = [[s["step"], f"{s['median_ms']:.1f}", f"{s['cold_peak_mb']:.1f}"]
            for s in result["steps"]]
    rows.append(["total", f"{sum(s['median_ms'] for s in result['steps']):.1f}", ""])
    print(table(["step", "median ms", "peak RSS MB"], rows))
    print(f"\n   cProfile of process_photo ({result['profiled_runs']} runs), by own time:")
    lines = [ln for ln in result["cprofile"].splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    print("\n".join("   " + ln for ln in lines[start:start + 15]))


# --------------------------------------------------------------------------- part 2: server


async def burst(base: str, token: str, bodies: list[bytes]) -> list[tuple[int, float, str]]:
    import httpx

    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(i: int, body: bytes) -> tuple[int, float, str]:
            start = time.perf_counter()
            response = await client.post(
                "/api/v1/hazards", headers={"Authorization": f"Bearer {token}"},
                data={"title": f"压测隐患 {i}", "description": "照片上传压测",
                      "location": "一号车间", "level": "general"},
                files={"photos": (f"IMG_{i:04d}.jpg", body, "image/jpeg")})
            detail = "" if response.status_code == 201 else response.text[:200]
            return response.status_code, (time.perf_counter() - start) * 1000, detail

        return await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))


def server_source(tmp: Path, source: str) -> Path:
    """The project tree to serve: this checkout, or a git ref exported with `git archive`."""
    if source == "worktree":
        return ROOT
    tree = tmp / "src"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", source],
                             check=True, capture_output=True, timeout=60).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True, timeout=60)
    return tree


def part_two(tmp: Path, pixels: bytes, uploads: int, port: int, extra_env: list[str],
             source: str, size: tuple[int, int], idle_seconds: float) -> list[str]:
    from bench.photo_samples import phone_exif, with_exif

    print(f"\n== Part 2: the server, {uploads} concurrent uploads of one "
          f"~{len(pixels) / 1e6:.0f} MB JPEG each ==")
    server_dir = tmp / "server"
    server_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "VIPS_CONCURRENCY"}
    env.update(DATABASE_URL=f"sqlite:///{server_dir / 'bench.db'}",
               MEDIA_ROOT=str(server_dir / "media"), SECRET_KEY=secrets.token_urlsafe(48))
    env.pop("BIHUAN_ENV", None)
    tree = server_source(tmp, source)
    if tree != ROOT:  # PYTHONPATH wins over the editable install's finder (appended last)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
        print(f"   serving `git archive {source}` of the checkout, not the working tree")
    env.update(item.split("=", 1) for item in extra_env)
    if extra_env:
        print(f"   server environment adds: {' '.join(extra_env)}")
    for step in ("migrate", "demo"):
        run_bihuan(step, env=env, cwd=tree)
    log_path = server_dir / "server.log"
    server = Server("app", serve_argv(port), env, port, log_path, cwd=tree)
    try:
        server.start()
        base = server.base_url
        token = login(port, "ent_a", "demo-pass-2026")
        now = datetime.now(TZ).replace(tzinfo=None, microsecond=0)
        bodies = [with_exif(pixels, phone_exif(orientation=6, taken=now - timedelta(seconds=i),
                                               size=size))
                  for i in range(uploads + 1)]
        sampler = RssSampler(server.pid)
        idle_cold = sampler.idle(idle_seconds)
        warm = asyncio.run(burst(base, token, bodies[-1:]))
        idle_warm = sampler.idle(idle_seconds)
        start = time.perf_counter()
        with sampler:
            results = asyncio.run(burst(base, token, bodies[:uploads]))
            elapsed = time.perf_counter() - start
            time.sleep(0.3)
        after = sampler.idle(2 * idle_seconds)
        peak_rss = sampler.peak
        peak_threads = max(s[2] for s in sampler.samples)
        statuses: dict[int, int] = {}
        for status, _ms, _detail in results:
            statuses[status] = statuses.get(status, 0) + 1
        latencies = sorted(ms for _s, ms, _d in results)
        size_mb = len(bodies[0]) / 1e6
        print(f"   server pid {server.pid}; {uploads} × {size_mb:.1f} MB JPEG "
              f"({size[0]}×{size[1]}, orientation 6); warm-up upload: {warm[0][0]} in "
              f"{warm[0][1]:.0f} ms; "
              f"{len(sampler.samples)} RSS samples (every 20 ms) over {elapsed:.1f} s")
        print(table(["server RSS", "MB"], [
            ["idle after login", f"{idle_cold:.1f}"],
            ["idle after 1 warm-up upload", f"{idle_warm:.1f}"],
            ["peak during burst", f"{peak_rss:.1f}"],
            ["peak increase vs idle after login", f"{peak_rss - idle_cold:.1f}"],
            ["peak increase vs idle after warm-up", f"{peak_rss - idle_warm:.1f}"],
            [f"{2 * idle_seconds:g} s after the burst (kept)", f"{after:.1f}"],
        ]))
        print(f"   statuses {statuses}; latency ms: min {latencies[0]:.0f}, median "
              f"{statistics.median(latencies):.0f}, p90 {p90(latencies):.0f}, max "
              f"{latencies[-1]:.0f}; burst {elapsed:.1f} s = {uploads / elapsed:.1f} uploads/s; "
              f"server threads peak {peak_threads}")
        for status, _ms, detail in [*warm, *results]:
            if status != 201:
                print(f"   {status}: {detail}")
                tail = log_path.read_text(errors="replace").splitlines()
                errors = [i for i, ln in enumerate(tail) if "Traceback" in ln]
                shown = tail[errors[0]:errors[0] + 40] if errors else tail[-20:]
                print("   server log:\n" + "\n".join("   | " + ln for ln in shown))
                break
        trace = sampler.samples
        step = max(1, len(trace) // 12)
        print("   RSS over the burst (s: MB): " + ", ".join(
            f"{t - trace[0][0]:.1f}: {rss:.0f}" for t, rss, _n in trace[::step]))
        increase = peak_rss - idle_cold
        return [f"server RSS increase with {uploads} concurrent {size_mb:.0f} MB uploads "
                f"{increase:.1f} MB "
                f"over idle ({peak_rss - idle_warm:.1f} MB over the warm idle) vs target <= "
                f"{TARGET_SERVER_MB:.0f} MB: "
                + ("MET" if increase <= TARGET_SERVER_MB else "MISSED")
                + ("" if statuses == {201: uploads} else f" (statuses {statuses})")]
    finally:
        server.close()


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per file (10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up ingests after the cold one")
    parser.add_argument("--rounds", type=int, default=2,
                        help="fresh subprocesses per file and implementation, taking turns (2)")
    parser.add_argument("--no-server", action="store_true", help="skip part 2")
    parser.add_argument("--server-only", action="store_true", help="skip part 1")
    parser.add_argument("--profile", action="store_true", help="bihuan's ingest step by step")
    parser.add_argument("--uploads", type=int, default=20, help="concurrent uploads (20)")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--server-src", default="worktree", metavar="worktree|GIT-REF",
                        help="serve the working tree (default) or a commit, e.g. HEAD, when "
                        "the working tree is mid-edit")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra server environment, for diagnosis (e.g. MALLOC_ARENA_MAX=2)")
    parser.add_argument("--photo-size", default="4032x3024", metavar="WxH",
                        help="the pictures' size (default 4032x3024, 12 MP)")
    parser.add_argument("--samples", default=",".join(s.label.split()[0] for s in SAMPLES),
                        help="which pictures (default all: site-a,site-b,site-c,detail)")
    parser.add_argument("--idle-seconds", type=float, default=1.0,
                        help="how long the server's idle RSS is sampled (after the burst: "
                             "twice as long)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, to check the bench runs (figures mean nothing)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--steps", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    if args.worker:
        print(json.dumps(worker(args.worker, args.file, args.runs, args.warmup, args.out_dir)))
        return
    if args.steps:
        print(json.dumps(steps_worker(args.file, args.runs)))
        return

    exit_on_signals()  # SIGTERM stops the server and removes the temp dir too
    import PIL
    import pyvips

    print(f"bench_photos: Python {sys.version.split()[0]}, Pillow {PIL.__version__}, libvips "
          f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} (pyvips "
          f"{pyvips.__version__}), {os.cpu_count()} CPUs, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    width, _, height = args.photo_size.partition("x")
    size = (int(width), int(height))
    by_name = {sample.label.split()[0]: sample for sample in SAMPLES}
    chosen = tuple(by_name[name] for name in args.samples.split(","))
    port = pick_port(args.port) if args.smoke else args.port
    tmp = Path(tempfile.mkdtemp(prefix="bihuan-bench-photos-"))
    verdicts: list[str] = []
    try:
        started = time.perf_counter()
        samples = make_samples(tmp, chosen, size)
        print(f"made {len(samples)} phone-like JPEGs in {tmp} in "
              f"{time.perf_counter() - started:.1f} s: " + ", ".join(
                  f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for _s, p in samples))
        if not args.server_only:
            out_dir = tmp / "out"
            out_dir.mkdir()
            pooled = part_one(samples, args.runs, args.warmup, max(1, args.rounds), out_dir,
                              size)
            verdicts += summary_one(pooled, len(samples))
        if args.profile:
            for sample, path in samples:
                if sample in (SAMPLES[1], HIGH_DETAIL):
                    part_profile(path, args.runs)
        if not args.no_server:
            pixels = (tmp / "high-detail.pixels.jpg").read_bytes()
            verdicts += part_two(tmp, pixels, args.uploads, port, args.server_env,
                                 args.server_src, size, args.idle_seconds)
        print("\n== Targets == (load average now "
              + " ".join(f"{x:.1f}" for x in os.getloadavg()) + ")")
        print("\n".join("   " + v for v in verdicts))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
