"""The app's start (issue #23 item 5): the sign-in window takes typing before the event
database is open, and what was typed signs in once it is; a database that cannot be opened
still ends in the connection dialog alone. The real app in a new process each time, as staff
start it (``tests/start_script.py``, ``python -m cli``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNOPENABLE = "sqlite:////proc/no/such/dir/event.sqlite3"  # its folder cannot be created


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "KIOSK_SPOOL_DIR": str(home / "spool"),
        "KIOSK_LANG": "en",
    }
    env.pop("KIOSK_EXIT_WHEN_READY", None)
    env.pop("KIOSK_DB", None)
    return {**env, **extra}


def _script(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.start_script", *args],
        cwd=ROOT,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_staff_type_before_the_database_opens_and_are_signed_in_once_it_is(
    demo_url: str, tmp_path: Path
) -> None:
    run = _script(tmp_path, "type", demo_url, "R001", "1234")
    assert run.returncode == 0, run.stderr
    before, after = (json.loads(line) for line in run.stdout.splitlines()[-2:])
    # The first turn of the event loop: the sign-in form alone, the staff number field takes
    # the keys, the button waits for the database, which is not even imported yet.
    assert before == {
        "windows": ["StartingWindow"],
        "focus": "staff_no",
        "button_enabled": False,
        "sqlalchemy_loaded": False,
    }
    # Staff number, Enter, PIN, Enter typed then: signed in once the database opened.
    assert after == {"windows": ["MainWindow"], "staff": "R001", "error": ""}


def test_a_wrong_pin_typed_early_is_refused_in_words_once_the_database_opens(
    demo_url: str, tmp_path: Path
) -> None:
    run = _script(tmp_path, "type", demo_url, "R001", "9999")
    assert run.returncode == 0, run.stderr
    after = json.loads(run.stdout.splitlines()[-1])
    assert after["staff"] is None and after["error"]  # refused, and it says why


def test_a_database_that_cannot_be_opened_is_asked_for_in_the_dialog_alone(
    tmp_path: Path,
) -> None:
    run = _script(tmp_path, "refuse", UNOPENABLE)
    assert run.returncode == 1, run.stderr  # cancelled: the app ends, as before
    seen = json.loads(run.stdout.splitlines()[-1])
    assert seen["windows"] == ["ConnectionDialog"]  # the sign-in window is not behind it
    assert "/proc/no/such/dir" in seen["error"]
    assert "kiosk: Cannot create the data folder /proc/no/such/dir" in run.stderr


def test_a_shutdown_while_the_dialog_asks_ends_the_app(tmp_path: Path) -> None:
    """SIGTERM closes the window on screen; at start that is the connection dialog."""
    run = _script(tmp_path, "term", UNOPENABLE)
    assert run.returncode == 1, run.stderr  # as if cancelled, not a hang nor a kill
    assert json.loads(run.stdout.splitlines()[-1])["windows"] == ["ConnectionDialog"]


def _cli(home: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "--lang", "en", "--db", url, "app"],
        cwd=ROOT,
        env=_env(home, KIOSK_EXIT_WHEN_READY="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ready_comes_before_the_database_is_open_and_a_failure_still_exits_1(
    demo_url: str, tmp_path: Path
) -> None:
    """What the startup benchmark reads: ready (typing works), then the database open."""
    started = _cli(tmp_path, demo_url)
    assert started.returncode == 0, started.stderr
    lines = [line.split()[0] for line in started.stdout.splitlines()]
    assert lines == ["KIOSK_READY", "KIOSK_OPEN"]
    failed = _cli(tmp_path, UNOPENABLE)
    assert failed.returncode == 1
    assert "KIOSK_OPEN" not in failed.stdout
    assert "kiosk: Cannot create the data folder /proc/no/such/dir" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_the_start_ends_with_the_fonts_loaded_and_its_heap_frozen() -> None:
    """The last steps of the start (``load_printing_fonts``, ``settle``), in a process of
    their own (a frozen heap stays frozen): the printing fonts are loaded before the first
    slip, and what the start made is out of the collector's sight, so a full collection
    walks nothing of it."""
    probe = (
        "import gc, json\n"
        "import kiosk.db, kiosk.models, ui.app\n"
        "from reportlab.pdfbase import pdfmetrics\n"
        "from printing.fonts import FONT\n"
        "before = len(gc.get_objects())\n"
        "loaded = FONT in pdfmetrics.getRegisteredFontNames()\n"
        "ui.app.load_printing_fonts()\n"
        "ui.app.settle()\n"
        "print(json.dumps({'before': before, 'loaded_before': loaded,\n"
        "    'loaded': FONT in pdfmetrics.getRegisteredFontNames(),\n"
        "    'frozen': gc.get_freeze_count(), 'walked': len(gc.get_objects())}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert not found["loaded_before"] and found["loaded"]
    assert found["frozen"] > found["before"] > 50_000
    assert found["walked"] < 1_000
