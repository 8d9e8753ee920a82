"""Day-in-the-life flows (#16): the real main window and booth window, one per flow, on the
demo event on SQLite and on PostgreSQL, driven by key events at scanner and human speed.

The fixtures of the UI tests (laptop settings, the fixed clock, ``make_window`` and the
guards that fail on an unanswered dialog) are shared from ``tests.ui.conftest``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk.db import Database, open_database
from kiosk.dbroles import Privilege
from kiosk.models import Queue
from kiosk.services import desk
from tests.queue_support import assert_queues_hold
from tests.ui.conftest import (  # noqa: F401 (fixtures, registered by being imported here)
    _collect_qt_garbage_here,
    _no_unanswered_counter_dialog,
    _no_unanswered_supervisor_dialog,
    _qt_in_english_after,
    _station_calls_answered_in_turn,
    clock,
    make_window,
    settings,
)
from ui.main_window import MainWindow
from ui.stations.base import StationPage

from .keys import press

pytestmark = pytest.mark.ui


@pytest.fixture
def pg_demo_url(pg_station_demo_url: str) -> str:
    """On PostgreSQL the flows run as a staff station does on the venue LAN: connected as the
    stations' role, which owns nothing and may not change the money and evidence tables
    (issue #29), so a flow that needs more than a station has fails here."""
    return pg_station_demo_url


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This laptop's print spool: every ticket and slip PDF is kept there."""
    folder = tmp_path / "spool"
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(folder))
    return folder


@pytest.fixture
def checks(any_demo_url: str) -> Iterator[Database]:
    """A connection of its own to the event database, to check it after every step."""
    database = open_database(any_demo_url)
    # On PostgreSQL the window under test has no more than a staff station (issue #29).
    assert database.privilege in (Privilege.SQLITE, Privilege.STATION), database.privilege
    yield database
    database.dispose()


def station(window: MainWindow) -> StationPage:
    page = window.current_station()
    assert page is not None
    return page


def desk_shows_its_call(window: MainWindow, checks: Database, queue: Queue, step: str) -> None:
    """The desk on screen shows exactly the customer the database says it has called."""
    page = station(window)
    called = desk.current_call(checks.unit_of_work(), desk=page.counter.name(), queue=queue)  # type: ignore[attr-defined]
    shown = page.called  # type: ignore[attr-defined]
    assert (shown.entry_id if shown else None) == (called.entry_id if called else None), (
        f"after {step}: the desk shows {shown and shown.ticket}, "
        f"the database {called and called.ticket}"
    )
    if called is not None:
        assert called.ticket in page.header.text(), (step, page.header.text())  # type: ignore[attr-defined]


def holds(
    checks: Database, step: str, window: MainWindow | None = None, queue: Queue | None = None
) -> None:
    """After every step: the queue invariant, and the desk shows what it has called."""
    assert_queues_hold(checks, step)
    if window is not None and queue is not None:
        desk_shows_its_call(window, checks, queue, step)


def change_layout(qtbot: QtBot, window: MainWindow, language: str) -> StationPage:
    """Large print toggled and the language switched with the keyboard, as staff do in the
    middle of a customer; the rebuilt station (the old widgets are gone)."""
    window.large.setFocus()
    press(qtbot, window.large, Qt.Key.Key_Space)
    box = window.language
    box.setFocus()
    target = box.findData(language)
    key = Qt.Key.Key_Down if target > box.currentIndex() else Qt.Key.Key_Up
    while box.currentIndex() != target:
        press(qtbot, box, key)
    page = station(window)
    qtbot.waitUntil(page.isVisible)  # the rebuilt window is shown by a queued call
    QApplication.processEvents()
    return page
