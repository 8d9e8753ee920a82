"""The installable archives (issue #25): how big each is, packed and unpacked, and how soon the
installed app is ready after a cold start, against the same app started from the checkout.

The archives are dist/'s when dist/BUILD-INFO.json says they were built from the sources as
they are (freeze/build.py), else they are built first (about two minutes and a half). Each is
unpacked into a temporary folder and run with an empty home and the system's PATH only.

Rows, each app start a new process (one discarded warm-up run each, then alternating so a
passing load weighs on all of them):

- ``archive, PROGRAM, packed`` / ``unpacked`` (MiB): the .tar.gz and the folder it unpacks to.
- ``packaged kiosk, ready`` (ms): launching the installed ``kiosk app`` on the demo event until
  it prints ``KIOSK_READY`` (the sign-in window shown, staff can type; ``KIOSK_EXIT_WHEN_READY``
  as in the startup benchmark), and ``, database open`` until ``KIOSK_OPEN``.
- ``packaged kiosk-booth, ready`` (ms): the installed booth window until ``KIOSK_READY``.
- ``packaged kiosk --version (runtime floor)`` (ms): the frozen runtime's own start (the
  bootloader unpacks nothing in a one-folder build; it starts Python and reads the archive
  of modules) and argparse: no frozen program starts faster.
- ``checkout kiosk, ready`` (ms): ``python -m cli app`` from the checkout, as the startup
  benchmark runs it: the floor the packaged app is held to.
- ``packaged / checkout, ready`` (×): each packaged sample / the checkout sample beside it.
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
        progress("packaged: building the archives (freeze/build.py), about 2.5 minutes")
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
            programs[program] = folder / program
            rows.append(Row(f"archive, {program}, packed", "MiB", [archive.stat().st_size / 2**20]))
            rows.append(Row(f"archive, {program}, unpacked", "MiB", [_folder_size(folder) / 2**20]))
        env = _environment(home)
        database = demo_database(240)
        url = sqlite_url(database)
        booth_db = str(Path(scratch) / "booth.sqlite3")
        checkout_env = {**env, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
        checkout_env["PYTHONPYCACHEPREFIX"] = str(CACHE / "pycache")
        measures = {
            "packaged kiosk": ([str(programs["kiosk"]), "--db", url, "app"], env),
            "packaged kiosk-booth": (
                [str(programs["kiosk-booth"]), "--booth-db", booth_db],
                env,
            ),
            "packaged kiosk --version (runtime floor)": (
                [str(programs["kiosk"]), "--version"],
                env,
            ),
            "checkout kiosk": ([sys.executable, "-m", "cli", "--db", url, "app"], checkout_env),
        }
        ready = {name: Row(f"{name}, ready", "ms", []) for name in measures}
        ready["packaged kiosk --version (runtime floor)"] = Row(
            "packaged kiosk --version (runtime floor)", "ms", []
        )
        opened = Row("packaged kiosk, database open", "ms", [])
        ratio = Row("packaged / checkout kiosk, ready", "×", [])

        def once(name: str) -> list[float]:
            command, environment = measures[name]
            if name == "checkout kiosk":  # from the checkout, as the startup benchmark
                return _until(command, environment, ("KIOSK_READY",), cwd=ROOT)
            if name.endswith("(runtime floor)"):
                started = time.perf_counter()
                done = subprocess.run(command, env=environment, capture_output=True, check=False)
                if done.returncode != 0:
                    raise BenchmarkError(f"{command}: exit {done.returncode}")
                return [(time.perf_counter() - started) * 1000]
            wanted = ("KIOSK_READY", "KIOSK_OPEN") if name == "packaged kiosk" else ("KIOSK_READY",)
            return _until(command, environment, wanted)

        try:
            for name in measures:  # warm-up: the file cache
                once(name)
            for i in range(samples):
                got = {name: once(name) for name in measures}
                for name, times in got.items():
                    ready[name].samples.append(times[0])
                opened.samples.append(got["packaged kiosk"][1])
                ratio.samples.append(got["packaged kiosk"][0] / got["checkout kiosk"][0])
                progress(
                    f"packaged: run {i + 1}/{samples}: "
                    + ", ".join(f"{name} {times[0]:.0f} ms" for name, times in got.items())
                )
        except BenchmarkError as error:
            progress(f"packaged: FAILED: {error}")
            for row in (*ready.values(), opened, ratio):
                row.samples.clear()
        rows += [*ready.values(), opened, ratio]
    return rows
