"""Percentiles, and calls timed taking turns so that each sees the same machine load."""

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile: a value that was observed, never interpolated."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def alternate(calls: Mapping[str, Callable[[], object]], runs: int, warmup: int = 0,
              before_each: Callable[[], None] | None = None) -> dict[str, list[float]]:
    """Milliseconds per call over `runs` rounds after `warmup` untimed ones, the calls taking
    turns within a round; `before_each` runs (untimed) before every call."""
    timings: dict[str, list[float]] = {label: [] for label in calls}
    for round_ in range(warmup + runs):
        for label, call in calls.items():
            if before_each is not None:
                before_each()
            started = time.perf_counter()
            call()
            if round_ >= warmup:
                timings[label].append((time.perf_counter() - started) * 1000)
    return timings


def versus(name: str, timings: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """A case's row: median and p95 of each kind of call (endpoint, raw), in ms."""
    row: dict[str, Any] = {"case": name}
    for kind, values in timings.items():
        row[f"{kind}_p50"] = statistics.median(values)
        row[f"{kind}_p95"] = percentile(values, 95)
    return row


def versus_line(row: Mapping[str, Any]) -> str:
    """A case's row as one progress line."""
    return (f"{row['case']}: endpoint p50 {row['endpoint_p50']:.1f} ms p95 "
            f"{row['endpoint_p95']:.1f}; raw p50 {row['raw_p50']:.1f} p95 {row['raw_p95']:.1f}")


def versus_table(rows: Sequence[Mapping[str, Any]], width: int,
                 extra: Sequence[tuple[str, Callable[[Mapping[str, Any]], str]]] = ()) -> str:
    """Endpoint beside raw SQL, p50 and p95 and their ratios, plus `extra` columns (14 wide)."""
    header = ("case", "endpoint p50", "endpoint p95", "raw p50", "raw p95", "ratio p50",
              "ratio p95", *(name for name, _ in extra))
    lines = [f"{header[0]:<{width}}" + "".join(f"{h:>14}" for h in header[1:])]
    for r in rows:
        cells = (r["endpoint_p50"], r["endpoint_p95"], r["raw_p50"], r["raw_p95"])
        lines.append(f"{r['case']:<{width}}" + "".join(f"{c:>14.1f}" for c in cells)
                     + f"{r['endpoint_p50'] / r['raw_p50']:>13.2f}x"
                     + f"{r['endpoint_p95'] / r['raw_p95']:>13.2f}x"
                     + "".join(f"{cell(r):>14}" for _, cell in extra))
    return "\n".join(lines)
