"""Build the installable archives: ``python freeze/build.py`` (``bash scripts/build.sh`` on
Linux sets up .venv first; on Windows docs/install.md and .github/workflows/windows-build.yml
run it from .venv).

For each program, PyInstaller builds the one-folder app from its spec (freeze/kiosk.spec,
freeze/kiosk-booth.spec), then the folder is packed into
``dist/<program>-<version>-<platform>.tar.gz`` (``.zip`` on Windows), its top folder named
after the program. ``dist/SHA256SUMS`` lists every archive's checksum, and
``dist/BUILD-INFO.json`` says what the archives were built from (version, commit, a
fingerprint of every source file that goes into them), so the packaged test
(tests/packaged/) can reuse archives built from the same sources instead of building again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
PROGRAMS = ("kiosk", "kiosk-booth")
# What the archives are built from: a change to any file here makes the last build stale.
SOURCES = ("assets", "cli", "freeze", "gateway", "kiosk", "printing", "sync", "ui")
SOURCE_FILES = ("pyproject.toml", "requirements/lock.txt")


def version() -> str:
    sys.path.insert(0, str(ROOT))
    from kiosk import __version__

    return __version__


def platform_tag() -> str:
    """``linux-x86_64``, ``windows-amd64``: where the archive runs."""
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    return f"{system}-{platform.machine().lower()}"


def archive_name(program: str) -> str:
    suffix = ".zip" if sys.platform == "win32" else ".tar.gz"
    return f"{program}-{version()}-{platform_tag()}{suffix}"


def fingerprint() -> str:
    """A hash of every source file the archives are built from (bytecode caches left out)."""
    digest = hashlib.sha256()
    paths = [ROOT / name for name in SOURCE_FILES]
    for folder in SOURCES:
        paths += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        ]
    for path in sorted(paths):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def build_info() -> dict[str, object]:
    return {
        "version": version(),
        "platform": platform_tag(),
        "commit": commit(),
        "fingerprint": fingerprint(),
        "archives": [archive_name(program) for program in PROGRAMS],
    }


def freeze(program: str) -> Path:
    """PyInstaller's one-folder build of ``program``; the folder."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(WORK / "dist"),
            "--workpath",
            str(WORK / "work"),
            str(ROOT / "freeze" / f"{program}.spec"),
        ],
        cwd=ROOT,
        check=True,
    )
    return WORK / "dist" / program


def pack(folder: Path, target: Path) -> None:
    """``folder`` as ``target`` (.tar.gz or .zip), its top folder named as ``folder``; the
    executable keeps its mode. Written beside and renamed: never a half archive."""
    partial = target.with_name(target.name + ".part")
    if target.name.endswith(".zip"):
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(folder.rglob("*")):
                archive.write(path, path.relative_to(folder.parent).as_posix())
    else:
        with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
            archive.add(folder, arcname=folder.name)
    partial.replace(target)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="freeze/build.py", description=__doc__)
    parser.add_argument(
        "--only", choices=PROGRAMS, action="append", help="build this program only (repeatable)"
    )
    args = parser.parse_args(argv)
    DIST.mkdir(exist_ok=True)
    info = build_info()
    for program in args.only or PROGRAMS:
        started = time.perf_counter()
        folder = freeze(program)
        target = DIST / archive_name(program)
        pack(folder, target)
        seconds = time.perf_counter() - started
        size = target.stat().st_size / 2**20
        print(f"{target.relative_to(ROOT)}: {size:.1f} MiB ({seconds:.0f} s)")
    archives = sorted(DIST.glob(f"*-{version()}-{platform_tag()}.*"))
    archives = [a for a in archives if not a.name.endswith(".part")]
    sums = "".join(f"{sha256(a)}  {a.name}\n" for a in archives)
    (DIST / "SHA256SUMS").write_text(sums, encoding="utf-8", newline="\n")
    if not args.only:
        (DIST / "BUILD-INFO.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(WORK / "dist", ignore_errors=True)
    print(f"dist/SHA256SUMS:\n{sums}", end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
