"""What the processes of a benchmark cost, read from /proc (Linux): CPU time of a process tree
or of every PostgreSQL process, resident memory, and the machine's busy time.

/proc/<pid>/stat counts a process's own CPU (utime, stime) and that of its children it has
already waited for (cutime, cstime); a tree's CPU is the root's four fields plus the own
fields of its live descendants, so a worker that exits between two readings still counts.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Stat:
    pid: int
    comm: str
    ppid: int
    own_ticks: int  # utime + stime
    children_ticks: int  # cutime + cstime (children already reaped)
    rss_bytes: int


def read_stat(pid: int) -> Stat | None:
    """The process's /proc/<pid>/stat, or None when it has gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm is in parentheses and may hold spaces or parentheses: split after the last ')'.
    head, _, rest = raw.rpartition(")")
    fields = rest.split()
    # fields[0] is field 3 (state); utime is field 14, rss field 24 (proc(5), 1-based).
    return Stat(
        pid=pid,
        comm=head.partition("(")[2],
        ppid=int(fields[1]),
        own_ticks=int(fields[11]) + int(fields[12]),
        children_ticks=int(fields[13]) + int(fields[14]),
        rss_bytes=int(fields[21]) * PAGE,
    )


def all_stats() -> list[Stat]:
    stats = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat is not None:
                stats.append(stat)
    return stats


def tree(root: int, stats: list[Stat] | None = None) -> list[Stat]:
    """The root process and its live descendants."""
    stats = stats if stats is not None else all_stats()
    children: dict[int, list[Stat]] = {}
    by_pid = {s.pid: s for s in stats}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    if root not in by_pid:
        return []
    found, todo = [], [by_pid[root]]
    while todo:
        stat = todo.pop()
        found.append(stat)
        todo.extend(children.get(stat.pid, []))
    return found


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU seconds the trees under `roots` have used so far (live and reaped processes)."""
    stats = all_stats()
    ticks = 0
    for root in roots:
        members = tree(root, stats)
        if members:
            ticks += members[0].children_ticks + sum(s.own_ticks for s in members)
    return ticks / TICK


def tree_rss_bytes(roots: list[int]) -> int:
    stats = all_stats()
    return sum(s.rss_bytes for root in roots for s in tree(root, stats))


def postgres_cpu_seconds() -> float:
    """CPU seconds of every PostgreSQL process on this machine (the postmaster with its
    reaped backends, and the live ones): shared with whatever else uses the server."""
    stats = [s for s in all_stats() if s.comm == "postgres"]
    pids = {s.pid for s in stats}
    masters = [s for s in stats if s.ppid not in pids]
    return sum(tree_cpu_seconds([m.pid]) for m in masters)


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, over all cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already inside user
    return (total - idle) / TICK, total / TICK


def wait_until_idle(roots: list[int], below: float = 0.05, longest: float = 60.0) -> float:
    """Wait until the trees under `roots` use less than `below` of a core over half a second
    (their admitted work is done); the seconds waited."""
    start = time.monotonic()
    before = tree_cpu_seconds(roots)
    while time.monotonic() - start < longest:
        time.sleep(0.5)
        now = tree_cpu_seconds(roots)
        if now - before < below * 0.5:
            break
        before = now
    return time.monotonic() - start


@dataclass
class CpuWindow:
    """CPU used between `start()` and `stop()`: the server trees, PostgreSQL, the machine."""

    roots: list[int]
    server: float = 0.0
    postgres: float = 0.0
    machine_busy: float = 0.0
    machine_total: float = 0.0

    def start(self) -> None:
        self.server = -tree_cpu_seconds(self.roots)
        self.postgres = -postgres_cpu_seconds()
        busy, total = machine_busy_seconds()
        self.machine_busy, self.machine_total = -busy, -total

    def stop(self) -> None:
        self.server += tree_cpu_seconds(self.roots)
        self.postgres += postgres_cpu_seconds()
        busy, total = machine_busy_seconds()
        self.machine_busy += busy
        self.machine_total += total
