"""Cold start: wall time from launching the app to its sign-in window, and its memory then.

A laptop that crashes on event day is restarted in front of a queue, so how soon the app is
usable again matters, and it must not grow with the size of the event. "Cold" means a new
process each time; the OS file cache is warm (one discarded warm-up run per database), which
is the restart case, not the first boot of the morning.

The app supports this itself: with ``KIOSK_EXIT_WHEN_READY=1`` it prints
``KIOSK_READY rss_kib=N`` once the first window is shown and the event loop runs, then quits.
Wall time is taken from just before the process is started to the moment that line is read;
RSS is the app's own figure from /proc/self/status at that moment.

The floor is measured in the same run, alternating with the app so a passing load weighs on
both: a new process that imports PySide6, shows one empty maximized QWidget and reports the
same line once its event loop runs (``FLOOR``). Issue #23: the app at most 2× the floor.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import CACHE, ROOT, BenchmarkError, Row, progress
from benchmarks.demo_db import demo_database, sqlite_url

INVITEES = (240, 100_000)  # the demo event, and a large one
SAMPLES, QUICK_SAMPLES = 10, 3
TIMEOUT_S = 300.0
READY = "KIOSK_READY"
# An empty QApplication window, ready as the app reports it: no app can start faster.
FLOOR = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv[:1])
window = QWidget()
window.showMaximized()
def ready():
    rss = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    print(f"KIOSK_READY rss_kib={rss}", flush=True)
    app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""


def _environment() -> dict[str, str]:
    config = CACHE / "xdg-config"  # empty QSettings: the machine's own preferences don't count
    config.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_EXIT_WHEN_READY": "1",
        "XDG_CONFIG_HOME": str(config),
    }


def cold_start(database: Path | None) -> tuple[float, float]:
    """One fresh app process (the floor's without a database): (milliseconds until ready,
    RSS in MiB when ready)."""
    if database is None:
        command = [sys.executable, "-c", FLOOR]
    else:
        command = [sys.executable, "-m", "cli", "--db", sqlite_url(database), "app"]
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=_environment(), text=True, stdout=subprocess.PIPE, stderr=errors
        )
        timer = threading.Timer(TIMEOUT_S, process.kill)
        timer.start()
        ready_at: float | None = None
        rss_kib = 0
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(READY):
                ready_at = time.perf_counter()
                rss_kib = int(line.split("rss_kib=")[1])
                break
        process.stdout.read()
        code = process.wait()
        timer.cancel()
        if ready_at is None or code != 0:
            errors.seek(0)
            raise BenchmarkError(
                f"the app did not start (exit {code}, "
                f"{time.perf_counter() - started:.1f} s): {' '.join(command)}"
                f"\n{errors.read()}"
            )
    return (ready_at - started) * 1000, rss_kib / 1024


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for invitees in INVITEES:
        label = f"{invitees:,} invitees"
        wall = Row(f"startup wall, {label}", "ms", [])
        rss = Row(f"startup RSS, {label}", "MiB", [])
        floor = Row(f"startup floor, empty QApplication window ({label} run)", "ms", [])
        ratio = Row(f"startup, ratio to floor, {label}", "×", [])
        rows += [wall, rss, floor, ratio]
        try:
            database = demo_database(invitees)
            cold_start(database)  # warm-up: file cache, bytecode
            cold_start(None)
            samples = QUICK_SAMPLES if quick else SAMPLES
            for i in range(samples):
                floor_ms, _mib = cold_start(None)
                ms, mib = cold_start(database)
                wall.samples.append(ms)
                rss.samples.append(mib)
                floor.samples.append(floor_ms)
                ratio.samples.append(ms / floor_ms)
                progress(
                    f"startup, {label}: run {i + 1}/{samples}: {ms:.0f} ms, {mib:.1f} MiB, "
                    f"floor {floor_ms:.0f} ms"
                )
        except BenchmarkError as error:
            progress(f"startup, {label}: FAILED: {error}")
            for row in (wall, rss, floor, ratio):
                row.samples.clear()
    return rows
