"""An idle station covers itself, and only the same PIN (or signing out) uncovers it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.services import audit_trail
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.reception import ReceptionStation

from .conftest import sign_in

pytestmark = pytest.mark.ui


def _actions(url: str, n: int = 3) -> list[tuple[str, str, str]]:
    database = open_database(url)
    rows = audit_trail.recent(database.unit_of_work(), limit=n)
    database.dispose()
    return [(row.action, row.staff_no, row.station) for row in rows]


def _reception(qtbot: QtBot, window: MainWindow) -> ReceptionStation:
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    page = window.current_station()
    assert isinstance(page, ReceptionStation)
    window.idle.tick.setInterval(20)  # the test need not wait for the once-a-second tick
    return page


def test_idle_station_locks_and_the_same_pin_unlocks(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    settings: Settings,
    demo_url: str,
    clock: FixedClock,
) -> None:
    settings.idle_lock_seconds = 1
    window = make_window(demo_url)
    page = _reception(qtbot, window)
    assert page.isVisible() and not window.locked

    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    lock = window.lock_page
    assert lock is not None and lock.isVisible()
    assert not page.isVisible() and not window.workspace.isVisible()  # nothing behind shows
    assert "R001" in lock.findChild(type(lock.error), "lock_text").text()
    assert _actions(demo_url, 1) == [("screen_locked", "R001", "reception")]

    qtbot.keyClick(window, Qt.Key.Key_F5)  # station keys do nothing behind the lock
    assert _actions(demo_url, 1) == [("screen_locked", "R001", "reception")]

    window.language.setCurrentIndex(window.language.findData("zh_CN"))  # rebuilds the window
    assert window.locked and window.lock_page is not None
    assert window.stack.currentWidget() is window.lock_page
    qtbot.waitUntil(window.lock_page.isVisible)  # the new widgets show on the next event loop
    window.language.setCurrentIndex(window.language.findData("en"))
    lock = window.lock_page
    assert lock is not None

    qtbot.keyClicks(lock.pin, "9999")
    qtbot.keyClick(lock.pin, Qt.Key.Key_Return)
    assert window.locked
    assert lock.error.text() == "Wrong PIN. 4 attempts left; the next in 1 s."
    clock.advance(seconds=1)  # the sign-in throttle's wait after a wrong PIN
    qtbot.keyClicks(lock.pin, "1234")
    qtbot.keyClick(lock.pin, Qt.Key.Key_Return)
    assert not window.locked
    station = window.current_station()
    assert isinstance(station, ReceptionStation)
    assert window.stack.currentWidget() is window.workspace
    qtbot.waitUntil(station.isVisible)
    assert _actions(demo_url, 2) == [
        ("screen_unlocked", "R001", "reception"),
        ("sign_in", "R001", "reception"),
    ]
    assert window.idle.armed  # counting again


def test_sign_out_from_the_lock_screen(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], settings: Settings, demo_url: str
) -> None:
    settings.idle_lock_seconds = 1
    window = make_window(demo_url)
    _reception(qtbot, window)
    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    assert window.lock_page is not None
    qtbot.mouseClick(window.lock_page.sign_out_button, Qt.MouseButton.LeftButton)
    assert not window.locked and window.staff is None
    assert window.stack.currentWidget() is window.signin
    assert _actions(demo_url, 1) == [("sign_out", "R001", "app")]


def test_input_anywhere_restarts_the_count_and_zero_never_locks(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], settings: Settings, demo_url: str
) -> None:
    settings.idle_lock_seconds = 3600
    window = make_window(demo_url)
    page = _reception(qtbot, window)
    qtbot.waitUntil(lambda: window.idle.idle_ms() >= 300, timeout=3000)
    qtbot.keyClick(page.field, Qt.Key.Key_A)
    assert window.idle.idle_ms() < 300
    qtbot.waitUntil(lambda: window.idle.idle_ms() >= 300, timeout=3000)
    qtbot.mouseClick(page, Qt.MouseButton.LeftButton)
    assert window.idle.idle_ms() < 300

    settings.idle_lock_seconds = 0  # never: read on every tick
    qtbot.waitUntil(lambda: window.idle.idle_ms() >= 100, timeout=3000)
    window.idle._check()
    assert not window.locked
    settings.idle_lock_seconds = 1
    qtbot.waitUntil(lambda: window.locked, timeout=5000)


def test_the_input_watch_ends_with_the_sign_out_and_the_window(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    """The watch sees every event of the application, so a window that is signed out or closed
    must not leave it behind (every event would pay a Python call for it)."""
    window = make_window(demo_url)
    assert not window.idle.armed  # nobody signed in: nothing to lock
    _reception(qtbot, window)
    assert window.idle.armed
    window.close()
    assert not window.idle.armed and not window.idle.tick.isActive()
