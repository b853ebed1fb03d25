"""CPU seconds used during a phase, split between this process, a server, PostgreSQL and the
rest of the machine, so that a throughput figure can be read against what it cost."""

import os
import time
from collections import Counter
from pathlib import Path
from typing import Self

from bench.lib.proc import descendants, process_table, system_busy


class CpuMeter:
    """CPU seconds used during a phase by this process, the server, PostgreSQL, and the rest.

    "other" is the machine's busy time not accounted to those three: other programs (the name
    of the busiest is kept) and kernel time not charged to a process (loopback softirq).
    """

    def __init__(self, server_pid: int | None, database: str) -> None:
        self.server_pid = server_pid
        self.database = database
        self.groups: dict[str, float] = {}
        self.workers: list[float] = []
        self.busiest_other: tuple[str, float] = ("", 0.0)
        self.wall = 0.0

    def __enter__(self) -> Self:
        self.before = process_table()
        self.busy_before = system_busy()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        after = process_table()
        busy = system_busy() - self.busy_before
        self.wall = time.perf_counter() - self.started

        def used(pid: int) -> float:
            return max(0.0, after[pid][2] - (self.before[pid][2] if pid in self.before else 0.0))

        server = descendants(after, self.server_pid) if self.server_pid else set()
        me = descendants(after, os.getpid()) - server
        postgres = {p for p, (_, comm, _) in after.items()
                    if comm == "postgres" and self._ours(p)} - server
        self.groups = {
            "client": sum(used(p) for p in me),
            "server": sum(used(p) for p in server),
            "postgres": sum(used(p) for p in postgres),
        }
        self.groups["other"] = max(0.0, busy - sum(self.groups.values()))
        by_name: Counter[str] = Counter()
        for pid, (_, comm, _) in after.items():
            if pid not in server | me | postgres:
                by_name[comm] += used(pid)
        self.busiest_other = by_name.most_common(1)[0] if by_name else ("", 0.0)
        # uvicorn's worker processes: the server master's children that did work.
        self.workers = sorted(
            (used(p) for p, (ppid, _, _) in after.items()
             if ppid == self.server_pid and used(p) > 0.01 * self.wall),
            reverse=True,
        )

    def _ours(self, pid: int) -> bool:
        """A PostgreSQL process serving the bench database, or one of the server's own."""
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return True
        if "(" not in title:  # postmaster, walwriter, checkpointer, ...: shared, counted
            return True
        return f" {self.database} " in title  # a client backend: of this database?

    def per_request_ms(self, group: str, requests: int) -> float:
        """Milliseconds of CPU one request cost `group`, less sensitive to other load than req/s."""
        return self.groups[group] * 1000 / requests


def background_load(database: str, seconds: float = 2.0) -> str:
    """What else keeps the machine busy while this script idles (other users' work)."""
    with CpuMeter(None, database) as meter:
        time.sleep(seconds)
    busy = sum(meter.groups.values()) / meter.wall
    name, cpu = meter.busiest_other
    return f"{busy:.2f} cores busy before the run" + (
        f" (busiest: {name} {cpu / meter.wall:.2f})" if cpu / meter.wall > 0.05 else "")
