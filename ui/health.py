"""How this process is doing, measured from inside: memory, descriptors, threads, connections
to the event database and the reference counts of None, True and False.

An eight-hour event day is only survivable if these stay flat. The soak benchmark
(``benchmarks/soak.py``) samples every station with this once a second; the app itself writes
one line every few minutes to ``health.log`` beside its crash reports (``ui.recovery``), so
that after a bad day the trend before a crash is on the laptop too. Linux ``/proc`` only;
elsewhere the figures it cannot read are 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import make_url


def _status(key: str) -> int:
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _descriptors() -> list[str]:
    targets = []
    with contextlib.suppress(OSError):
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                targets.append(os.readlink(f"/proc/self/fd/{fd}"))
    return targets


def _sockets_to(port: int) -> set[str]:
    """Inodes of this process's TCP sockets whose remote end is ``port``."""
    inodes: set[str] = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as rows:
            next(rows, None)
            for row in rows:
                fields = row.split()
                if len(fields) > 9 and int(fields[2].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def database_target(url: str) -> tuple[str | None, int | None]:
    """What a connection to ``url`` looks like from here: the SQLite file, or the port."""
    try:
        parsed = make_url(url)
    except Exception:
        return None, None
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        return (str(Path(path).resolve()) if path and path != ":memory:" else None), None
    return None, parsed.port or 5432


def sample(database_url: str | None = None) -> dict[str, Any]:
    """One reading; ``connections`` counts descriptors on the event database's SQLite file,
    or TCP sockets to its PostgreSQL port."""
    targets = _descriptors()
    connections = 0
    if database_url:
        path, port = database_target(database_url)
        if path is not None:
            connections = sum(1 for target in targets if target == path)
        elif port is not None:
            sockets = _sockets_to(port)
            connections = sum(
                1 for target in targets if target.startswith("socket:[") and target[8:-1] in sockets
            )
    return {
        "t": time.monotonic(),
        "rss_kib": _status("VmRSS"),
        "fds": len(targets),
        "threads": _status("Threads"),
        "connections": connections,
        "none": sys.getrefcount(None),
        "true": sys.getrefcount(True),
        "false": sys.getrefcount(False),
    }


def append_line(path: Path, reading: dict[str, Any], keep_bytes: int = 2_000_000) -> None:
    """Add one reading to a log that never grows past ``keep_bytes`` (the older half goes)."""
    line = json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **reading}) + "\n"
    with contextlib.suppress(OSError):
        if path.exists() and path.stat().st_size > keep_bytes:
            kept = path.read_bytes()[-keep_bytes // 2 :]
            path.write_bytes(kept[kept.find(b"\n") + 1 :])
        with path.open("a", encoding="utf-8") as log:
            log.write(line)
