"""A station whose network goes silent in the middle of an action (issue #23).

The check-in runs on a worker thread (``ui.operations``): the window keeps processing its
events meanwhile (a timer on the GUI thread keeps firing, the note's seconds move on), holds
off the keys typed then (an Enter pressed during the wait checks nobody in, and the note says
it was not taken), ends the action in words within its bound, keeps the scanned code, and checks
the customer in once the network is back. The first test is the real thing: a PostgreSQL
window behind ``tests.tcp_proxy.LanCable``, frozen when the check-in starts writing, then
frozen before a scan (its lookup waits the same way). The
second holds the call at a gate instead, on both backends, to show what else waits for it:
the live refresh, the collector, closing the window.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk import netwait
from kiosk.db import open_database
from kiosk.models import Customer, Invitation, Visit
from kiosk.services import reception as reception_service
from tests.tcp_proxy import LanCable
from ui import operations
from ui.main_window import MainWindow
from ui.stations.reception import ReceptionStation
from ui.widgets import Tone

from .conftest import sign_in

pytestmark = [pytest.mark.ui]


@pytest.fixture(autouse=True)
def _the_window_goes_back_to_its_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the app: the GUI thread waits 0.1 s for an answer, then goes on with its events."""
    monkeypatch.setattr(operations, "QUICK", operations.WINDOW_QUICK)


def _code_and_visits(url: str, customer_no: str) -> tuple[str, int]:
    database = open_database(url)
    with database.unit_of_work() as uow:
        code, customer = uow.session.execute(
            select(Invitation.code, Customer.id)
            .join(Customer)
            .where(Customer.customer_no == customer_no)
        ).one()
        visits = uow.session.scalar(
            select(func.count()).select_from(Visit).where(Visit.customer_id == customer)
        )
    database.dispose()
    return code, int(visits or 0)


class Ticks:
    """A timer on the GUI thread: how often it fired shows the window's events are handled."""

    def __init__(self) -> None:
        self.count = 0
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.count += 1

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def ticks() -> Iterator[Ticks]:
    counting = Ticks()
    yield counting
    counting.stop()


def _note(window: MainWindow) -> QLabel | None:
    label = window.findChild(QLabel, "waitingNote")
    return label if label is not None and label.isVisible() else None


def _type_during_the_wait(front: ReceptionStation) -> None:
    """A stray key and an Enter, as a person or a scanner would, into the event queue."""
    for key, text in ((Qt.Key.Key_X, "x"), (Qt.Key.Key_Return, "\r")):
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.postEvent(
                front.field, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text)
            )


@pytest.mark.pg
def test_a_check_in_on_a_frozen_network_says_it_waits_and_ends_in_words(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    pg_demo_url: str,
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    ticks: Ticks,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    code, visits = _code_and_visits(pg_demo_url, "6200000012")
    assert visits == 0
    said: list[str] = []
    real = operations.WaitingNote.show_waited

    def watched(note: operations.WaitingNote, waited: float, extra: str = "") -> None:
        real(note, waited, extra)
        assert note.label is not None
        said.append(note.label.text())

    monkeypatch.setattr(operations.WaitingNote, "show_waited", watched)

    with LanCable(pg_demo_url) as cable:
        window = make_window(cable.url, bound=netwait.STATION_BOUND)
        sign_in(qtbot, window, "R001", "1234")
        window.switcher.setCurrentRow(1)
        front = window.current_station()
        assert isinstance(front, ReceptionStation)

        cable.freeze_at(b"INSERT INTO visit")
        qtbot.keyClicks(front.field, code)
        qtbot.keyClick(front.field, Qt.Key.Key_Return)  # the scan: the check-in starts
        # The key press came back: the call is out on its worker, the window handles events.
        assert operations.running(window) and front.busy
        before = ticks.count
        qtbot.waitUntil(lambda: _note(window) is not None, timeout=5000)
        first = said[-1]
        assert first.startswith("Waiting for the event database")
        qtbot.waitUntil(lambda: said[-1].split("\n")[0] != first.split("\n")[0], timeout=5000)
        assert cable.frozen() and operations.running(window)
        assert ticks.count > before  # the GUI thread's own timer fired while it waited

        _type_during_the_wait(front)  # someone types, and presses Enter again
        qtbot.waitUntil(lambda: "not taken" in said[-1], timeout=5000)
        assert front.field.text() == code

        limit = netwait.STATION_BOUND + netwait.CONNECT_TIMEOUT + 5.0
        qtbot.waitUntil(lambda: not operations.running(window), timeout=int(limit * 1000))
        assert cable.frozen()
        assert ticks.count - before >= 3  # fired all along (the old window fired none)
        assert front.banner.tone == Tone.ERROR
        assert "cannot be reached" in front.banner.headline.text()
        assert "nothing was saved" in front.banner.headline.text()
        # The note is gone, the code is still there, the stray key and Enter did nothing.
        assert _note(window) is None
        assert front.field.text() == code
        assert not front.busy
        assert _code_and_visits(pg_demo_url, "6200000012")[1] == 0

        cable.thaw()  # the network is back: the same press checks the customer in
        qtbot.keyClick(front.field, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not operations.running(window), timeout=10_000)
        assert front.banner.tone == Tone.OK, front.banner.headline.text()

        cable.freeze()  # silent again, and another station's change is to be shown
        said.clear()
        window.on_database_changed()  # a read the window makes itself, still on its thread
        assert said and said[0].startswith("Waiting for the event database")
        assert "cannot be reached" in window.connection_banner.text()

        # Still silent: the next scan's lookup waits beside the window too, and ends in words.
        other, _visits = _code_and_visits(pg_demo_url, "6200000013")
        qtbot.keyClicks(front.field, other)
        qtbot.keyClick(front.field, Qt.Key.Key_Return)
        assert operations.running(window)
        before = ticks.count
        qtbot.waitUntil(lambda: not operations.running(window), timeout=int(limit * 1000))
        assert ticks.count - before >= 3
        assert front.banner.tone == Tone.ERROR
        assert "cannot be reached" in front.banner.headline.text()
        assert front.field.text() == other
        cable.thaw()
    assert _code_and_visits(pg_demo_url, "6200000012")[1] == 1
    assert _code_and_visits(pg_demo_url, "6200000013")[1] == 0


def test_while_a_call_is_out_the_window_holds_its_input_reads_and_closing(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    any_demo_url: str,
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    ticks: Ticks,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    code, visits = _code_and_visits(any_demo_url, "6200000012")
    assert visits == 0
    gate = threading.Event()
    calls: list[str] = []
    real_check_in = reception_service.check_in

    def held_check_in(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.current_thread().name)
        assert gate.wait(30), "the test never opened the gate"
        return real_check_in(*args, **kwargs)

    monkeypatch.setattr(reception_service, "check_in", held_check_in)

    window = make_window(any_demo_url)
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    front = window.current_station()
    assert isinstance(front, ReceptionStation)
    refreshed: list[int] = []
    real_refresh = front.refresh_live
    monkeypatch.setattr(front, "refresh_live", lambda: (refreshed.append(1), real_refresh()))

    qtbot.keyClicks(front.field, code)
    qtbot.keyClick(front.field, Qt.Key.Key_Return)
    assert operations.running(window) and front.busy
    assert calls == ["station call"]  # on the worker, not the GUI thread
    assert not gc.isenabled()  # no collection may start on the worker meanwhile
    qtbot.waitUntil(lambda: _note(window) is not None, timeout=5000)
    label = _note(window)
    assert label is not None
    shown = label.text()
    qtbot.waitUntil(lambda: label.text() != shown, timeout=5000)  # the seconds count on

    _type_during_the_wait(front)
    qtbot.waitUntil(lambda: "not taken" in label.text(), timeout=5000)
    assert front.field.text() == code and calls == ["station call"]

    window.on_database_changed()  # another station's change: shown after the call
    assert window.changed_meanwhile and not refreshed
    window.close()  # closing waits for the answer
    assert window.isVisible()
    assert "closes once this is done" in label.text()

    gate.set()
    qtbot.waitUntil(lambda: not operations.running(window), timeout=10_000)
    assert gc.isenabled()
    assert front.banner.tone == Tone.OK, front.banner.headline.text()
    assert calls == ["station call"]  # the Enter typed during the wait checked nobody in
    assert refreshed and not window.changed_meanwhile
    assert not window.isVisible()  # closed once the check-in was shown
    assert _code_and_visits(any_demo_url, "6200000012")[1] == 1
