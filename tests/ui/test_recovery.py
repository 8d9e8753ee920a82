"""After the app closes unexpectedly, the next start says so and brings the station back
(issue #30): the crash report is kept on the laptop, the staff member who was signed in types
their PIN, and the same station opens again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow
from ui.recovery import Recovery

ROOT = Path(__file__).resolve().parents[2]


def _run(mode: str, url: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "KIOSK_SPOOL_DIR": str(home / "spool"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.recovery_script", mode, url, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_real_app_after_a_crash_asks_the_pin_and_reopens_the_station(
    demo_url: str, tmp_path: Path
) -> None:
    crashed = _run("crash", demo_url, "RM001", "service_desk", home=tmp_path)
    assert crashed.returncode != 0, crashed.stdout  # it died, as a binding bug would kill it
    before = json.loads(crashed.stdout.splitlines()[-1])
    assert before["station"] == "service_desk" and before["called"]  # F5 called someone
    folder = tmp_path / "data" / "kiosk" / "recovery" / "app"
    assert list(folder.glob("session-*.json")), "the dead run's state file is still there"

    resumed = _run("resume", demo_url, "1234", home=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    seen = json.loads(resumed.stdout.splitlines()[-1])
    assert seen["page"] == "resume_page"
    assert "closed unexpectedly" in seen["text"] and "RM001" in seen["text"]
    logs = list(folder.glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in seen["text"]  # named in the message
    assert "Fatal Python error: Aborted" in logs[0].read_text(encoding="utf-8")
    assert seen["staff"] == "RM001" and seen["station"] == "service_desk"
    assert seen["called"] == before["called"]  # the desk still shows whom it had called
    # That run closed normally: nothing is left for the start after it.
    assert not list(folder.glob("session-*.json")) and not list(folder.glob("faults-*.log"))
    again = _run("resume", demo_url, "1234", home=tmp_path)
    assert json.loads(again.stdout.splitlines()[-1])["page"] != "resume_page"


def _crashed_run(folder: Path, url: str, staff_no: str | None, station: str | None) -> None:
    """What a run that died leaves behind: its state file (under a process number no
    process has) and its fault report."""
    pid = 2**22 + 17  # above Linux's default pid_max: no such process
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "pid": pid,
        "started_at": "2026-11-28T09:00:00+08:00",
        "last_seen": "2026-11-28T10:42:00+08:00",
        "database_url": url,
        "staff_no": staff_no,
        "station": station,
    }
    (folder / f"session-{pid}.json").write_text(json.dumps(state), encoding="utf-8")
    (folder / f"faults-{pid}.log").write_text("Fatal Python error: none_dealloc\n", "utf-8")


@pytest.fixture
def recovery(tmp_path: Path) -> Recovery:
    return Recovery(tmp_path / "recovery")


def _open(make_window: Callable[[str], MainWindow], url: str, recovery: Recovery) -> MainWindow:
    previous = recovery.begin(url)
    assert previous is not None
    window = make_window(url)
    window.recovery = recovery
    window.resume(previous)
    return window


def test_a_wrong_pin_keeps_the_station_covered_and_someone_else_signs_in_as_usual(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    recovery: Recovery,
) -> None:
    _crashed_run(recovery.folder, demo_url, "A001", "activation")
    window = _open(make_window, demo_url, recovery)
    page = window.lock_page
    assert page is not None and window.stack.currentWidget() is page
    assert "10:42" in window.notice and "A001" in page.findChild(object, "lock_text").text()
    qtbot.keyClicks(page.pin, "9999")
    qtbot.keyClick(page.pin, Qt.Key.Key_Return)
    assert window.staff is None and page.error.text()  # why, in words
    assert window.stack.currentWidget() is page
    # Someone else is at the laptop: "Sign out" gives the ordinary sign-in page, which still
    # says the app closed unexpectedly.
    qtbot.mouseClick(page.sign_out_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.signin
    assert "closed unexpectedly" in window.signin.error.text()
    assert window.staff is None


def test_the_station_comes_back_in_large_print_after_the_pin(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    recovery: Recovery,
) -> None:
    _crashed_run(recovery.folder, demo_url, "A001", "activation")
    window = _open(make_window, demo_url, recovery)
    window.large.setChecked(True)  # a re-layout before the PIN: still asked for it
    assert window.lock_page is not None and window.stack.currentWidget() is window.lock_page
    # The title is whole on a 1366x768 laptop in large print: on a real X screen it was cut
    # at the 640-pixel card's edge ("The app closed unexpecte"); it wraps instead.
    window.resize(1366, 768)
    QApplication.processEvents()
    title = window.lock_page.findChild(QLabel, "lock_title")
    assert title is not None and title.text() == "The app closed unexpectedly"
    assert title.wordWrap() and title.height() >= title.heightForWidth(title.width())
    qtbot.keyClicks(window.lock_page.pin, "1234")
    qtbot.keyClick(window.lock_page.pin, Qt.Key.Key_Return)
    station = window.current_station()
    assert window.staff is not None and window.staff.staff_no == "A001"
    assert station is not None and station.station.value == "activation"
    # The state file now says who is where, for the next crash.
    state = json.loads(recovery.state_path.read_text(encoding="utf-8"))
    assert (state["staff_no"], state["station"]) == ("A001", "activation")
    window.close()
    assert not recovery.state_path.exists()


def test_a_clean_run_leaves_nothing_and_another_running_copy_is_not_a_crash(
    tmp_path: Path, demo_url: str
) -> None:
    # Another copy of the app runs on this laptop (a live process with its state file).
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        folder = tmp_path / "app"
        folder.mkdir()
        running = folder / f"session-{other.pid}.json"
        running.write_text(json.dumps({"pid": other.pid, "started_at": "2026-11-28T09:00"}))
        first = Recovery(tmp_path)
        assert first.begin(demo_url) is None  # not a crash
        assert running.exists()  # and its state is left alone
        first.watch_faults()
        first.end()
        assert not first.state_path.exists() and not first.faults_path.exists()
    finally:
        other.kill()
        other.wait()
    # Once that copy is gone without cleaning up, it was a crash after all.
    previous = Recovery(tmp_path).begin(demo_url)
    assert previous is not None and previous.crash_log is None  # it wrote no fault report


def test_the_health_line_keeps_last_seen_current(tmp_path: Path, demo_url: str) -> None:
    """A dashboard left alone for hours then killed: "closed about" is the last health line's
    time, not the sign-in's."""
    recovery = Recovery(tmp_path)
    assert recovery.begin(demo_url) is None
    state = json.loads(recovery.state_path.read_text(encoding="utf-8"))
    old = "2026-11-28T09:00:00+08:00"
    recovery.state_path.write_text(json.dumps({**state, "last_seen": old}), encoding="utf-8")
    recovery._state["last_seen"] = old  # as if signed in hours ago
    recovery.log_health(demo_url)
    seen = json.loads(recovery.state_path.read_text(encoding="utf-8"))["last_seen"]
    assert seen != old
    assert abs((datetime.fromisoformat(seen) - datetime.now().astimezone()).total_seconds()) < 60


def test_drafts_survive_and_are_cleared(tmp_path: Path) -> None:
    recovery = Recovery(tmp_path)
    assert recovery.load_draft("governance-RM001") is None
    recovery.save_draft("governance-RM001", {"occupation": "4", "ticket": "B001"})
    assert Recovery(tmp_path).load_draft("governance-RM001") == {
        "occupation": "4",
        "ticket": "B001",
    }
    recovery.clear_draft("governance-RM001")
    assert recovery.load_draft("governance-RM001") is None


def test_sigterm_closes_like_the_close_button(tmp_path: Path, demo_url: str) -> None:
    """A shutdown or ``kill`` is a normal close: exit 0, no state file left, so the next
    start does not say "closed unexpectedly"."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    folder = tmp_path / "data" / "kiosk" / "recovery" / "app"
    with subprocess.Popen(
        [sys.executable, "-m", "tests.recovery_script", "idle", demo_url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as app:
        try:
            assert app.stdout is not None
            assert app.stdout.readline().strip() == "IDLE"
            assert list(folder.glob("session-*.json"))  # running: its state file is there
            app.terminate()
            _out, err = app.communicate(timeout=60)
            assert app.returncode == 0, err
        finally:
            app.kill()
    assert list(folder.glob("session-*.json")) == []
    assert Recovery(tmp_path / "data" / "kiosk" / "recovery").begin(demo_url) is None
