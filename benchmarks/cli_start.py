"""Cold start of the ``kiosk`` command: ``kiosk --help`` against argparse alone (issue #23).

An operator scripting the event day runs ``kiosk …`` many times, and ``kiosk --help`` is the
first thing they type; neither should wait for the database layer, the services or Qt to
import. The floor is a bare ``python -c "import argparse"`` in the same run: the interpreter's
own start-up and argparse, which no command can go under. The target is ``kiosk --help`` at
most 2× the floor.

Each sample is a new process (``python -m cli``, what the ``kiosk`` script runs), so it is
cold as the operator's is; the OS file cache and the bytecode are warm (one discarded
warm-up run each). The floor and the command run alternately, so a load that comes and goes
on the machine weighs on both alike, and the ratio is taken sample by sample.

- ``kiosk --help cold`` (ms): the top-level help, listing every command.
- ``kiosk slip --help cold`` (ms): a command's own help, which imports that command's module.
- ``python -c "import argparse" (floor)`` (ms).
- ``kiosk --help, ratio to floor`` (×): each ``kiosk --help`` sample / the floor sample
  taken just before it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks import ROOT, BenchmarkError, Row, progress

SAMPLES, QUICK_SAMPLES = 10, 3
TIMEOUT_S = 60.0
FLOOR = [sys.executable, "-c", "import argparse"]
HELP = [sys.executable, "-m", "cli", "--help"]
COMMAND_HELP = [sys.executable, "-m", "cli", "slip", "--help"]


def _environment() -> dict[str, str]:
    """The help lists the default database URL: the same one every run (no $KIOSK_DB)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KIOSK_DB", None)
    return env


def cold(command: list[str]) -> float:
    """Milliseconds from starting ``command`` in a new process to its exit."""
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        raise BenchmarkError(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")
    return elapsed


def run(quick: bool) -> list[Row]:
    help_row = Row("kiosk --help cold", "ms", [])
    command_row = Row("kiosk slip --help cold", "ms", [])
    floor_row = Row('python -c "import argparse" (floor)', "ms", [])
    ratio_row = Row("kiosk --help, ratio to floor", "×", [])
    rows = [help_row, command_row, floor_row, ratio_row]
    try:
        for command in (FLOOR, HELP, COMMAND_HELP):
            cold(command)  # warm-up: file cache, bytecode
        samples = QUICK_SAMPLES if quick else SAMPLES
        for i in range(samples):
            floor = cold(FLOOR)
            help_ms = cold(HELP)
            command_ms = cold(COMMAND_HELP)
            floor_row.samples.append(floor)
            help_row.samples.append(help_ms)
            command_row.samples.append(command_ms)
            ratio_row.samples.append(help_ms / floor)
            progress(
                f"cli_start: run {i + 1}/{samples}: kiosk --help {help_ms:.0f} ms, "
                f"slip --help {command_ms:.0f} ms, floor {floor:.0f} ms"
            )
    except (BenchmarkError, subprocess.TimeoutExpired) as error:
        progress(f"cli_start: FAILED: {error}")
        for row in rows:
            row.samples.clear()
    return rows
