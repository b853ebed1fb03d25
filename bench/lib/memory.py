"""Resident memory from /proc: this process's peak, or a server's process tree sampled in a
thread while a request runs."""

import contextlib
import os
import re
import statistics
import threading
import time
from pathlib import Path
from typing import Self

from bench.lib.proc import tree

PAGE = os.sysconf("SC_PAGE_SIZE")


def status_kib(field: str, pid: int | str = "self") -> int:
    """One kB figure of /proc/PID/status (VmRSS, VmHWM, ...), as the kernel keeps it."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+)", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {field} in /proc/{pid}/status")
    return int(match.group(1))


def peak_mib() -> float:
    """This process's peak RSS (VmHWM) in MiB.

    Not getrusage's ru_maxrss: Linux's exec keeps in it the peak of the address space it
    replaces, which for a subprocess is the forked copy of the parent; VmHWM belongs to the
    address space the exec made.
    """
    return status_kib("VmHWM") / 1024


def rss_mib() -> float:
    """This process's RSS now, in MiB (statm: cheaper than status)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / 2**20


def reset_peak() -> None:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0), to measure one step."""
    Path("/proc/self/clear_refs").write_text("5")


def tree_rss(pid: int) -> tuple[float, int]:
    """RSS in MiB and threads of `pid` and its descendants (uvicorn's workers, say)."""
    total, threads = 0, 0
    for member in tree(pid):
        with contextlib.suppress(OSError, RuntimeError):  # a process that just ended
            total += status_kib("VmRSS", member)
            threads += status_kib("Threads", member)
    return total / 1024, threads


class RssSampler:
    """A process tree's RSS every `interval` seconds in a thread: (time, MiB, threads)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> tuple[float, int]:
        """The tree's RSS (MiB) and thread count now."""
        return tree_rss(self.pid)

    def idle(self, seconds: float = 1.0) -> float:
        """The median RSS over `seconds`, sampled every 50 ms: a steady figure for idle."""
        values = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            values.append(self.rss()[0])
            time.sleep(0.05)
        return statistics.median(values)

    @property
    def peak(self) -> float:
        """The highest RSS sampled, MiB."""
        return max(s[1] for s in self.samples)

    def _run(self) -> None:
        """The sampling thread: until told to stop."""
        while not self._stop.is_set():
            rss, threads = self.rss()
            self.samples.append((time.perf_counter(), rss, threads))
            time.sleep(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
