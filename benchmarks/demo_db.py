"""Demo event databases for benchmarks, generated once and kept in ``benchmarks/.cache/``.

Generating 100,000 invitees takes minutes, so a database is rebuilt only when its file is
missing. It is generated under a temporary name and renamed only when ``kiosk demo`` succeeds:
a half-written file would otherwise be taken for a good one, and the app would open its
"no event" page instead of the sign-in window, which is not what the benchmarks measure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import CACHE, ROOT, BenchmarkError, progress
from kiosk.db import head_revision

EVENT_DATE = "2026-11-28"  # fixed, so the same database is generated on any day


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def demo_database(invitees: int) -> Path:
    """The cached demo event with ``invitees`` invitees; generates it if missing."""
    # The schema revision is in the name: a database from an older schema or generator is not
    # silently reused (delete .cache/ after changing the generator without a migration).
    path = CACHE / f"demo-{invitees}-{head_revision()}.sqlite3"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = CACHE / f"building-demo-{invitees}.sqlite3"
    for leftover in CACHE.glob(f"{partial.name}*"):  # a previous, interrupted attempt
        leftover.unlink()
    options = f"demo --no-gui --yes --invitees {invitees} --date {EVENT_DATE}".split()
    command = [sys.executable, "-m", "cli", "--db", sqlite_url(partial), *options]
    progress(f"building {path.name} ({invitees:,} invitees), once; large events take minutes")
    started = time.perf_counter()
    env = {**os.environ, "KIOSK_DEBUG": "1", "KIOSK_LANG": "en"}  # errors with traceback
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        for leftover in CACHE.glob(f"{partial.name}*"):
            leftover.unlink()
        raise BenchmarkError(
            f"building the {invitees:,}-invitee demo failed (exit "
            f"{result.returncode}): {' '.join(command)}\n{result.stderr}"
        )
    for suffix in ("-wal", "-shm", ""):  # SQLite removes -wal/-shm on a clean close, normally
        if Path(f"{partial}{suffix}").exists():
            Path(f"{partial}{suffix}").replace(f"{path}{suffix}")
    progress(f"built {path.name} in {time.perf_counter() - started:.0f} s")
    return path
