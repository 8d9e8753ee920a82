"""A reception window whose network goes silent in the middle of a check-in (issue #23).

The window is a station's (its waits bounded, ``kiosk.netwait``) and reaches PostgreSQL
through ``tests.tcp_proxy.LanCable``, frozen when the check-in starts writing. The window
says it is waiting and counts, drops what is typed meanwhile, ends the action in words
within its bound, keeps the scanned code, and checks the customer in once the network is
back; a refresh on a silent network says it waits too, and ends in the connection banner.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk import netwait
from kiosk.db import open_database
from kiosk.models import Customer, Invitation, Visit
from tests.tcp_proxy import LanCable
from ui import operations
from ui.main_window import MainWindow
from ui.stations.reception import ReceptionStation
from ui.widgets import Tone

from .conftest import sign_in

pytestmark = [pytest.mark.ui, pytest.mark.pg]


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


def test_a_check_in_on_a_frozen_network_says_it_waits_and_ends_in_words(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    pg_demo_url: str,
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    code, visits = _code_and_visits(pg_demo_url, "6200000012")
    assert visits == 0
    seen: list[tuple[bool, str]] = []
    real = operations.WaitingNote.show_waited

    def watched(note: operations.WaitingNote, waited: float) -> None:
        real(note, waited)
        assert note.label is not None
        seen.append((note.label.isVisible(), note.label.text()))
        if len(seen) == 1:  # someone types while the station waits
            key = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_X, Qt.KeyboardModifier.NoModifier, "x")
            QApplication.postEvent(front.field, key)

    monkeypatch.setattr(operations.WaitingNote, "show_waited", watched)

    with LanCable(pg_demo_url) as cable:
        window = make_window(cable.url, bound=netwait.STATION_BOUND)
        sign_in(qtbot, window, "R001", "1234")
        window.switcher.setCurrentRow(1)
        front = window.current_station()
        assert isinstance(front, ReceptionStation)

        cable.freeze_at(b"INSERT INTO visit")
        qtbot.keyClicks(front.field, code)
        started = time.monotonic()
        qtbot.keyClick(front.field, Qt.Key.Key_Return)  # the scan: the check-in starts
        ended = time.monotonic() - started

        assert cable.frozen()
        assert ended < netwait.STATION_BOUND + netwait.CONNECT_TIMEOUT + 3.0
        assert front.banner.tone == Tone.ERROR
        assert "cannot be reached" in front.banner.headline.text()
        assert "nothing was saved" in front.banner.headline.text()
        # While it waited, the window said so and counted.
        assert seen and all(visible for visible, _text in seen)
        assert seen[0][1].startswith("Waiting for the event database")
        assert seen[-1][1] != seen[0][1]
        # Afterwards the note is gone, the code is still there, the stray key was dropped.
        assert window.findChild(operations.QLabel, "waitingNote") is None or not (
            window.findChild(operations.QLabel, "waitingNote").isVisible()
        )
        assert front.field.text() == code
        assert not front.busy
        assert _code_and_visits(pg_demo_url, "6200000012")[1] == 0

        cable.thaw()  # the network is back: the same press checks the customer in
        seen.clear()
        qtbot.keyClick(front.field, Qt.Key.Key_Return)
        assert front.banner.tone == Tone.OK, front.banner.headline.text()
        assert not seen  # a quick answer shows no note

        cable.freeze()  # silent again, and another station's change is to be shown
        window.on_database_changed()
        assert seen and seen[0][1].startswith("Waiting for the event database")
        assert "cannot be reached" in window.connection_banner.text()
        cable.thaw()
    assert _code_and_visits(pg_demo_url, "6200000012")[1] == 1
