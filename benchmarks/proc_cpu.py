"""CPU time of other processes, sampled from ``/proc`` while a benchmark runs (issue #23).

On the 2-core machine that hosts PostgreSQL and the stations alike, the 8-station LAN
throughput is bounded by the CPU all of them spend per action: the stations' Python, the
PostgreSQL backends that serve them, the booth gateway and the LAN proxies. Wall time on a
shared machine moves with whatever else runs; CPU time per action does not, so it is what
before/after comparisons should use, and 1000 ms × cores / (CPU ms per action) is the
throughput the cores allow at all.

``Sampler`` reads ``utime + stime`` of a few processes (``/proc/PID/stat``, all threads,
those that ended too) every ``INTERVAL`` seconds in a thread, with the PostgreSQL backends
of one database found anew each time (``pg_stat_activity``): a station's pool opens
connections while it works. ``used(start, end)`` is what each share spent between two
moments, to a sample's width at either end (they roughly cancel). A backend that ended
inside the window counts up to its last sample. PostgreSQL's shared processes (WAL writer,
checkpointer) also serve other databases on this server and are not counted.

Linux only: elsewhere ``available()`` is false and the benchmark prints no split.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict

INTERVAL = 0.1  # seconds between samples
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    return os.path.exists(f"/proc/{os.getpid()}/stat")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of process ``pid`` (all its threads) so far; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15)


class Sampler:
    """Samples the CPU of named shares of processes until ``stop()``."""

    def __init__(self, admin_url: str, database: str, backends: str) -> None:
        """Samples the backends of ``database`` (as share ``backends``) and the processes
        given to ``watch``."""
        self.admin_url, self.database, self.backends = admin_url, database, backends
        self.fixed: dict[int, str] = {}  # pid -> share
        # (when, {(share, pid): CPU seconds}), oldest first
        self.samples: list[tuple[float, dict[tuple[str, int], float]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def watch(self, share: str, pid: int) -> None:
        with self._lock:
            self.fixed[pid] = share

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            while not self._stop.is_set():
                backends = [
                    pid
                    for (pid,) in admin.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
                    )
                ]
                with self._lock:
                    pids = [*self.fixed.items(), *((pid, self.backends) for pid in backends)]
                sample = {}
                for pid, share in pids:
                    used = cpu_seconds(pid)
                    if used is not None:
                        if pid == os.getpid():  # this thread's own sampling is not its share
                            used -= time.thread_time()
                        sample[(share, pid)] = used
                self.samples.append((time.time(), sample))
                self._stop.wait(INTERVAL)

    def used(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds of each share between ``start`` and ``end`` (epoch seconds)."""
        before: dict[tuple[str, int], float] = {}
        after: dict[tuple[str, int], float] = {}
        for when, sample in list(self.samples):
            if when <= start:
                before.update(sample)
            if when <= end:
                after.update(sample)  # the last sample of each process inside the window
        shares: dict[str, float] = defaultdict(float)
        for key, last in after.items():
            shares[key[0]] += last - before.get(key, 0.0)  # new inside the window: from 0
        return dict(shares)


def cores() -> int:
    """The cores this process may run on (the benchmark's children inherit them)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
