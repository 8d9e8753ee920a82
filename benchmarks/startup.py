"""Cold start: wall time from launching the app to its sign-in window, and its memory then.

A laptop that crashes on event day is restarted in front of a queue, so how soon the app is
usable again matters, and it must not grow with the size of the event. "Cold" means a new
process each time; the OS file cache and the bytecode are warm (one discarded warm-up run per
database), which is the restart case, not the first boot of the morning.

What "ready" means: the sign-in window is shown, the event loop runs and the staff number
field has the focus, so staff can type their staff number and PIN. The event database is not
open yet then: the app shows that window first (``ui.starting``) and imports SQLAlchemy and
the models and opens the database in the event loop right after, while staff type (which
takes them seconds); the sign-in button stays off, one line saying the database is opening,
and an Enter on the PIN signs in as soon as it is open. So a second figure is printed too:
"database open", when the main window with the event's sign-in page has replaced that window
and signing in works.

The app supports this itself: with ``KIOSK_EXIT_WHEN_READY=1`` it prints
``KIOSK_READY rss_kib=N`` when ready as above, ``KIOSK_OPEN rss_kib=N`` when the database is
open and the main window shows, then quits. Wall times are taken from just before the process
is started to the moment each line is read; RSS is the app's own figure from /proc/self/status
when the database is open (the memory that could grow with the event).

The floor is measured in the same run, alternating with the app so a passing load weighs on
both: a new process that imports PySide6, shows one empty maximized QWidget and reports the
same line once its event loop runs (``FLOOR``). Issue #23: the app ready at most 2× the floor.
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
OPEN = "KIOSK_OPEN"
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
    # Bytecode is kept, as an installed app's is (pip compiles it): without it every start
    # compiled the project's modules again, and the warm-up run could not warm anything. Kept
    # under .cache/, not beside the sources; a shell's PYTHONDONTWRITEBYTECODE does not apply.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        **inherited,
        "PYTHONPYCACHEPREFIX": str(CACHE / "pycache"),
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_EXIT_WHEN_READY": "1",
        "XDG_CONFIG_HOME": str(config),
    }


def cold_start(database: Path | None) -> tuple[float, float, float | None]:
    """One fresh app process (the floor's without a database): (milliseconds until ready,
    RSS in MiB at the last line, milliseconds until the database is open; None for the
    floor)."""
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
        open_at: float | None = None
        rss_kib = 0
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(READY):
                ready_at = time.perf_counter()
                rss_kib = int(line.split("rss_kib=")[1])
                if database is None:
                    break
            elif line.startswith(OPEN):
                open_at = time.perf_counter()
                rss_kib = int(line.split("rss_kib=")[1])
                break
        process.stdout.read()
        code = process.wait()
        timer.cancel()
        if ready_at is None or code != 0 or (database is not None and open_at is None):
            errors.seek(0)
            raise BenchmarkError(
                f"the app did not start (exit {code}, "
                f"{time.perf_counter() - started:.1f} s): {' '.join(command)}"
                f"\n{errors.read()}"
            )
    opened = (open_at - started) * 1000 if open_at is not None else None
    return (ready_at - started) * 1000, rss_kib / 1024, opened


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for invitees in INVITEES:
        label = f"{invitees:,} invitees"
        wall = Row(f"startup wall, {label}", "ms", [])
        opened = Row(f"startup, database open, {label}", "ms", [])
        rss = Row(f"startup RSS, {label}", "MiB", [])
        floor = Row(f"startup floor, empty QApplication window ({label} run)", "ms", [])
        ratio = Row(f"startup, ratio to floor, {label}", "×", [])
        rows += [wall, opened, rss, floor, ratio]
        try:
            database = demo_database(invitees)
            cold_start(database)  # warm-up: file cache, bytecode
            cold_start(None)
            samples = QUICK_SAMPLES if quick else SAMPLES
            for i in range(samples):
                floor_ms, _mib, _none = cold_start(None)
                ms, mib, open_ms = cold_start(database)
                assert open_ms is not None  # cold_start raised otherwise
                wall.samples.append(ms)
                opened.samples.append(open_ms)
                rss.samples.append(mib)
                floor.samples.append(floor_ms)
                ratio.samples.append(ms / floor_ms)
                progress(
                    f"startup, {label}: run {i + 1}/{samples}: {ms:.0f} ms, {mib:.1f} MiB, "
                    f"database open {open_ms:.0f} ms, floor {floor_ms:.0f} ms"
                )
        except BenchmarkError as error:
            progress(f"startup, {label}: FAILED: {error}")
            for row in (wall, opened, rss, floor, ratio):
                row.samples.clear()
    return rows
