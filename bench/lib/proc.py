"""Linux's /proc read directly: every process's CPU time and parent, the machine's busy time,
a process's children (no psutil needed)."""

import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")

# pid -> (parent pid, command name, CPU seconds)
ProcessTable = dict[int, tuple[int, str, float]]


def process_table() -> ProcessTable:
    """Parent, name and CPU seconds of every readable process, read in one sweep.

    For PostgreSQL processes the CPU seconds include the reaped children's (cutime, cstime):
    backends that exit during a phase (a connection closed by a pool) are still counted, under
    the postmaster. (A backend alive at the start and gone by the end is then counted in full.)
    """
    table: ProcessTable = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        reaped = (13, 14) if comm == "postgres" else ()
        ticks = sum(int(fields[i]) for i in (11, 12, *reaped))  # utime stime [cutime cstime]
        table[int(entry.name)] = (int(fields[1]), comm, ticks / CLK_TCK)
    return table


def system_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (all CPUs, /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def descendants(table: ProcessTable, root: int) -> set[int]:
    """`root` and every process below it in `table`, to charge a server's workers to it."""
    found = {root}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return found


def children(pid: int) -> list[int]:
    """The live children of `pid`, from its threads' children files (cheap to poll often)."""
    found: list[int] = []
    try:
        tasks = list(os.scandir(f"/proc/{pid}/task"))
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in Path(task.path, "children").read_text().split()]
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants, found through the children files."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children(current)
    return found
