"""The installable archives (issue #25): how big each is, packed and unpacked, and how soon the
installed app is ready after a cold start, against the same app started from the checkout.

The archives are dist/'s when dist/BUILD-INFO.json says they were built from the sources as
they are (freeze/build.py), else they are built first (2.5 to 3.5 minutes). Each is
unpacked into a temporary folder and run with an empty home and the system's PATH only.

Rows, each start a new process (one discarded warm-up run each, then the five starts in turn,
so a passing load weighs on all of them):

- ``archive, PROGRAM, packed`` / ``unpacked`` (MiB): the .tar.gz and the folder it unpacks to.
- ``packaged kiosk, ready`` (ms): launching the installed ``kiosk app`` on the demo event until
  it prints ``KIOSK_READY`` (the sign-in window shown, staff can type; ``KIOSK_EXIT_WHEN_READY``
  as in the startup benchmark), and ``, database open`` until ``KIOSK_OPEN``.
- ``packaged kiosk-booth, ready`` (ms): the installed booth window until ``KIOSK_READY``.
- ``checkout kiosk, …`` / ``checkout kiosk-booth, ready``: the same from the checkout
  (``python -m cli``, ``python -m cli.booth_main``, bytecode kept as the startup benchmark
  keeps it): the floor each packaged figure is held to, and ``packaged / checkout …`` (×) each
  packaged sample over the checkout sample of the same round.
- ``packaged kiosk --version (runtime floor), printed`` (ms): until the installed ``kiosk``
  prints its version: the frozen runtime's own start (bootloader, Python, the module archive)
  and argparse, what no frozen program can start faster than.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from benchmarks import CACHE, ROOT, BenchmarkError, Row, progress
from benchmarks.demo_db import demo_database, sqlite_url

SAMPLES, QUICK_SAMPLES = 10, 3
TIMEOUT_S = 120.0


def _builder():  # type: ignore[no-untyped-def]
    path = ROOT / "freeze" / "build.py"
    spec = importlib.util.spec_from_file_location("kiosk_freeze_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def archives() -> dict[str, Path]:
    """Both archives of the current sources, built first when dist/ has none."""
    build = _builder()
    info = build.DIST / "BUILD-INFO.json"
    found = {program: build.DIST / build.archive_name(program) for program in build.PROGRAMS}
    current = info.exists() and json.loads(info.read_text("utf-8"))["fingerprint"] == (
        build.fingerprint()
    )
    if not current or not all(path.exists() for path in found.values()):
        progress("packaged: building the archives (freeze/build.py), 2.5 to 3.5 minutes")
        started = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "freeze" / "build.py")], cwd=ROOT, check=True)
        progress(f"packaged: built in {time.perf_counter() - started:.0f} s")
    return found


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _environment(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_EXIT_WHEN_READY": "1",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }


def _until(
    command: list[str], env: dict[str, str], wanted: tuple[str, ...], cwd: Path | None = None
) -> list[float]:
    """Milliseconds from launching ``command`` until each line starting with ``wanted``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd or env["HOME"], text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    times: list[float] = []
    assert process.stdout is not None
    for line in process.stdout:
        if len(times) < len(wanted) and line.startswith(wanted[len(times)]):
            times.append((time.perf_counter() - started) * 1000)
    errors = process.stderr.read() if process.stderr else ""
    code = process.wait(timeout=TIMEOUT_S)
    if code != 0 or len(times) < len(wanted):
        raise BenchmarkError(f"{' '.join(command)} exit {code}, saw {len(times)} lines\n{errors}")
    return times


class Start(NamedTuple):
    """One program started cold: its command, environment and folder, and the lines it
    prints on the way (``KIOSK_READY``, ``KIOSK_OPEN``; the version line), each a figure."""

    command: list[str]
    env: dict[str, str]
    cwd: Path
    lines: tuple[tuple[str, str], ...]  # (line prefix, figure name)


def run(quick: bool) -> list[Row]:
    samples = QUICK_SAMPLES if quick else SAMPLES
    found = archives()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="kiosk-packaged-") as scratch:
        opt, home = Path(scratch) / "opt", Path(scratch) / "home"
        home.mkdir()
        programs = {}
        for program, archive in found.items():
            with tarfile.open(archive) as opened:
                opened.extractall(opt / program, filter="tar")
            folder = opt / program / program
            programs[program] = str(folder / program)
            rows.append(Row(f"archive, {program}, packed", "MiB", [archive.stat().st_size / 2**20]))
            rows.append(Row(f"archive, {program}, unpacked", "MiB", [_folder_size(folder) / 2**20]))
        env = _environment(home)
        url = sqlite_url(demo_database(240))
        booth = ["--booth-db", str(Path(scratch) / "booth.sqlite3")]
        # The checkout as the startup benchmark runs it: this interpreter, bytecode kept.
        checkout = {**env, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
        checkout["PYTHONPYCACHEPREFIX"] = str(CACHE / "pycache")
        python = [sys.executable, "-m"]
        app = (("KIOSK_READY", "ready"), ("KIOSK_OPEN", "database open"))
        ready = (("KIOSK_READY", "ready"),)
        starts = {
            "packaged kiosk": Start([programs["kiosk"], "--db", url, "app"], env, home, app),
            "checkout kiosk": Start([*python, "cli", "--db", url, "app"], checkout, ROOT, app),
            "packaged kiosk-booth": Start([programs["kiosk-booth"], *booth], env, home, ready),
            "checkout kiosk-booth": Start(
                [*python, "cli.booth_main", *booth], checkout, ROOT, ready
            ),
            "packaged kiosk --version (runtime floor)": Start(
                [programs["kiosk"], "--version"], env, home, (("kiosk ", "printed"),)
            ),
        }
        figures = {
            (name, figure): Row(f"{name}, {figure}", "ms", [])
            for name, start in starts.items()
            for _prefix, figure in start.lines
        }
        ratios = {
            (program, figure): Row(f"packaged / checkout {program}, {figure}", "×", [])
            for program, figure in (("kiosk", "ready"), ("kiosk", "database open"),
                                    ("kiosk-booth", "ready"))
        }  # fmt: skip

        def once(start: Start) -> list[float]:
            wanted = tuple(prefix for prefix, _figure in start.lines)
            return _until(start.command, start.env, wanted, cwd=start.cwd)

        try:
            for start in starts.values():  # warm-up: the file cache, the checkout's bytecode
                once(start)
            for i in range(samples):
                got = {name: once(start) for name, start in starts.items()}
                for name, start in starts.items():
                    for (_prefix, figure), ms in zip(start.lines, got[name], strict=True):
                        figures[name, figure].samples.append(ms)
                for (program, figure), row in ratios.items():
                    packaged = figures[f"packaged {program}", figure].samples[-1]
                    row.samples.append(
                        packaged / figures[f"checkout {program}", figure].samples[-1]
                    )
                progress(
                    f"packaged: run {i + 1}/{samples}: "
                    + ", ".join(f"{name} {times[0]:.0f} ms" for name, times in got.items())
                )
        except BenchmarkError as error:
            progress(f"packaged: FAILED: {error}")
            for row in (*figures.values(), *ratios.values()):
                row.samples.clear()
        rows += [*figures.values(), *ratios.values()]
    return rows
