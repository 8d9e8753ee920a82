"""The installable archives, as IT installs them on a staff laptop (issue #25): each unpacked
into a clean folder and run with no virtual environment on PATH, no PYTHONPATH and an empty
home, the event app through a whole flow (demo event, check-in, a slip issued and verified,
the window to ready) and the booth build installing a pack and scanning that slip; and each
archive holding no test data, no .venv, no database and no bytecode of the sources' tests.

``pytest -m packaged tests/packaged`` (not in the default run, tests/packaged/conftest.py).
The archives in dist/ are reused when dist/BUILD-INFO.json says they were built from the
sources as they are now (freeze/build.py's fingerprint), else both are built first, about
2.5 to 3.5 minutes on two cores.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from types import ModuleType

import pytest

pytestmark = pytest.mark.packaged

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = sys.platform == "win32"
TIMEOUT = 180


def _builder() -> ModuleType:
    path = ROOT / "freeze" / "build.py"
    spec = importlib.util.spec_from_file_location("kiosk_freeze_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def archives() -> dict[str, Path]:
    """Both archives of the current sources: dist/'s when built from them, else built now."""
    build = _builder()
    info_file = build.DIST / "BUILD-INFO.json"
    current = (
        info_file.exists()
        and json.loads(info_file.read_text("utf-8")).get("fingerprint") == build.fingerprint()
    )
    found = {program: build.DIST / build.archive_name(program) for program in build.PROGRAMS}
    if not current or not all(path.exists() for path in found.values()):
        subprocess.run([sys.executable, str(ROOT / "freeze" / "build.py")], cwd=ROOT, check=True)
    assert all(path.exists() for path in found.values()), found
    sums = (build.DIST / "SHA256SUMS").read_text("utf-8")
    for path in found.values():
        assert f"{build.sha256(path)}  {path.name}" in sums.splitlines()
    return found


def _members(archive: Path) -> list[PurePosixPath]:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as opened:
            return [PurePosixPath(name) for name in opened.namelist()]
    with tarfile.open(archive) as opened:
        return [PurePosixPath(name) for name in opened.getnames()]


def _unpack(archive: Path, folder: Path) -> None:
    folder.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(folder)
    else:
        with tarfile.open(archive) as opened:
            opened.extractall(folder, filter="tar")


@pytest.fixture(scope="session")
def installed(
    archives: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each program unpacked into a folder of its own, as /opt/kiosk or C:\\Program Files\\…;
    the path of its executable."""
    opt = tmp_path_factory.mktemp("opt")
    programs = {}
    for program, archive in archives.items():
        _unpack(archive, opt / program)
        executable = opt / program / program / (program + (".exe" if WINDOWS else ""))
        assert executable.is_file(), sorted(p.name for p in (opt / program).iterdir())
        programs[program] = executable
    return programs


@pytest.fixture
def laptop(tmp_path: Path) -> dict[str, str]:
    """A clean environment: an empty home, the system's PATH only, no Python variables."""
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_LANG": "en",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "KIOSK_SPOOL_DIR": str(tmp_path / "printouts"),
    }
    if WINDOWS:
        system_root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        environment.update(
            SystemRoot=system_root,
            PATH=rf"{system_root}\System32;{system_root}",
            USERPROFILE=str(home),
            APPDATA=str(home / "AppData" / "Roaming"),
            LOCALAPPDATA=str(home / "AppData" / "Local"),
            TEMP=str(tmp_path),
            TMP=str(tmp_path),
        )
    else:
        environment["PATH"] = "/usr/bin:/bin"
    return environment


def run(
    executable: Path, *args: str, env: dict[str, str], expect: int = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(executable), *args],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == expect, (args, done.returncode, done.stdout, done.stderr)
    return done


def test_archives_hold_the_app_and_nothing_of_the_checkout(archives: dict[str, Path]) -> None:
    """No tests, no .venv, no database, no __pycache__; the font, the translations, the
    sounds, Qt's translations and platform plugins in both, the migrations in the event app,
    and the event database's driver and migrations left out of the booth."""
    for program, archive in archives.items():
        members = _members(archive)
        assert {m.parts[0] for m in members} == {program}
        names = {m.as_posix() for m in members}
        parts = {part for m in members for part in m.parts}
        assert not parts & {"tests", ".venv", "__pycache__", ".git", "benchmarks", "dist"}
        assert not [m for m in members if m.suffix in (".sqlite3", ".db", ".pyc", ".pack")]
        inside = f"{program}/_internal/"
        for data in (
            "assets/fonts/NotoSansCJKsc-subset.ttf",
            "assets/fonts/BabelStoneHan-fallback.ttf",
            "assets/translations/zh_CN.json",
            "assets/sounds/ok.wav",
        ):
            assert inside + data in names, (program, data)
        qt = inside + ("PySide6/" if WINDOWS else "PySide6/Qt/")
        assert qt + "translations/qtbase_zh_CN.qm" in names
        plugins = {PurePosixPath(n).name for n in names if n.startswith(qt + "plugins/platforms/")}
        wanted = (
            {"qwindows.dll", "qoffscreen.dll"} if WINDOWS else {"libqxcb.so", "libqoffscreen.so"}
        )
        assert wanted <= plugins, (program, plugins)
        assert [n for n in names if n.startswith(qt + "plugins/imageformats/")]
        migrations = [n for n in names if n.startswith(inside + "kiosk/migrations/versions/")]
        drivers = [n for n in names if n.startswith((inside + "psycopg", inside + "alembic"))]
        if program == "kiosk":
            assert len(migrations) == len(list((ROOT / "kiosk/migrations/versions").glob("*.py")))
            assert drivers
        else:
            assert migrations == [] and drivers == []


def _modules(executable: Path) -> set[str]:
    """The top-level packages and modules in the program's module archive (PYZ), read with
    PyInstaller's own reader (the build extra)."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(executable)).open_embedded_archive("PYZ.pyz")
    return {name.split(".")[0] for name in archive.toc}


def test_the_booth_build_leaves_the_event_side_out(installed: dict[str, Path]) -> None:
    """What only the event desks, the gateway and the event database use is in the event app
    and not on a booth (freeze/kiosk-booth.spec); the booth test below proves the booth works
    without it."""
    event_side = {"psycopg", "alembic", "reportlab", "openpyxl", "keyring", "gateway", "sync",
                  "printing", "starlette", "uvicorn"}  # fmt: skip
    assert event_side <= _modules(installed["kiosk"])
    booth = _modules(installed["kiosk-booth"])
    assert booth & event_side == set()
    assert {"cli", "kiosk", "ui", "sqlalchemy", "PySide6", "httpx", "zxingcpp"} <= booth
    development = {"pytest", "setuptools", "PyInstaller", "tests", "benchmarks", "fontTools"}
    assert development & (booth | _modules(installed["kiosk"])) == set()


def test_versions(installed: dict[str, Path], laptop: dict[str, str]) -> None:
    from kiosk import __version__

    assert run(installed["kiosk"], "--version", env=laptop).stdout == f"kiosk {__version__}\n"
    booth = run(installed["kiosk-booth"], "--version", env=laptop).stdout
    assert booth == f"kiosk-booth {__version__}\n"


@pytest.fixture
def event(
    installed: dict[str, Path], laptop: dict[str, str], tmp_path: Path
) -> Iterator[dict[str, str]]:
    """The demo event created by the installed ``kiosk`` in a data folder of its own."""
    database = tmp_path / "data" / "event.sqlite3"
    database.parent.mkdir()
    env = {
        **laptop,
        "KIOSK_DB": f"sqlite:///{database.as_posix()}",
        "KIOSK_PIN": "1234",
        "KIOSK_SUPERVISOR_PIN": "1234",
        "KIOSK_PASSPHRASE": "demo-passphrase",
    }
    done = run(installed["kiosk"], "demo", "--no-gui", "--yes", env=env)
    assert "Demo event created" in done.stdout and database.exists()
    yield env


def test_event_app_issues_and_verifies_a_slip_and_opens(
    installed: dict[str, Path], event: dict[str, str], tmp_path: Path
) -> None:
    kiosk = installed["kiosk"]
    done = run(kiosk, "checkin", "6200000040", "--staff", "R001", env=event)
    assert "Checked in" in done.stdout and list((tmp_path / "printouts").glob("*.pdf"))
    slip = tmp_path / "slip.pdf"
    done = run(
        kiosk, "slip", "issue", "--customer", "6200000040", "--offer", "O101", "--out",
        str(slip), "--staff", "A001", "--override-gate", "--supervisor", "S001", env=event,
    )  # fmt: skip
    assert "Slip 1 issued: 康宁体检中心 · 基础体检套餐 × 1" in done.stdout
    assert slip.read_bytes().startswith(b"%PDF")
    code = done.stdout.splitlines()[-1]
    verdict = run(kiosk, "slip", "verify", code, env=event).stdout
    assert verdict.startswith("Valid") and "Slip 1: 康宁体检中心" in verdict
    assert run(kiosk, "slip", "verify", code[:-4] + "BBBB", env=event, expect=1).stdout
    # The window, offscreen: the sign-in window first, then the database open and migrated.
    done = run(kiosk, env={**event, "KIOSK_EXIT_WHEN_READY": "1"})
    lines = [line.split()[0] for line in done.stdout.splitlines()]
    assert lines == ["KIOSK_READY", "KIOSK_OPEN"], done.stdout


def test_booth_build_installs_a_pack_and_scans_a_slip(
    installed: dict[str, Path], event: dict[str, str], tmp_path: Path
) -> None:
    kiosk, booth = installed["kiosk"], installed["kiosk-booth"]
    run(kiosk, "checkin", "6200000040", "--staff", "R001", "--no-ticket", env=event)
    done = run(
        kiosk, "slip", "issue", "--customer", "6200000040", "--offer", "O101", "--out",
        str(tmp_path / "slip.pdf"), "--staff", "A001", "--override-gate", "--supervisor",
        "S001", env=event,
    )  # fmt: skip
    code = done.stdout.splitlines()[-1]
    pack = tmp_path / "M01.pack"
    run(kiosk, "merchant-pack", "export", "--merchant", "M01", "--out", str(pack), "--staff",
        "M001", env=event)  # fmt: skip
    # The booth laptop: its own home, no event database, the pack from a USB stick.
    booth_env = {k: v for k, v in event.items() if not k.startswith("KIOSK_") or k == "KIOSK_LANG"}
    booth_db = ["--booth-db", str(tmp_path / "booth" / "booth.sqlite3")]
    (tmp_path / "booth").mkdir()
    done = run(booth, *booth_db, "install", str(pack), env=booth_env)
    assert "Booth ready for 康宁体检中心 (M01)" in done.stdout
    done = run(booth, *booth_db, "scan", code, "--staff", "李四", env=booth_env)
    assert done.stdout.startswith("✓ Redeemed: serve the customer")
    done = run(booth, *booth_db, "scan", code, "--staff", "王五", env=booth_env, expect=1)
    assert done.stdout.startswith("Already redeemed at ") and "by 李四" in done.stdout
    assert "1 redemptions" in run(booth, *booth_db, "list", env=booth_env).stdout
    bundle = tmp_path / "bundle.json"
    run(booth, *booth_db, "export", str(bundle), env=booth_env)
    done = run(kiosk, "bundle", "import", str(bundle), "--staff", "M001", "--supervisor", "S001",
               env=event)  # fmt: skip
    assert "1 new, 0 already known, 0 conflicts" in done.stdout
    # Its window, offscreen, on the installed pack; the gateway's server is not in it.
    done = run(booth, *booth_db, env={**booth_env, "KIOSK_EXIT_WHEN_READY": "1"})
    assert done.stdout.split()[0] == "KIOSK_READY", done.stdout
    assert "serve" not in run(booth, "--help", env=booth_env).stdout
