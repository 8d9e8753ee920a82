"""Reception across a language switch (a new-user tryout): with a search typed and the
second of several namesakes selected, choosing 简体中文 in the header rebuilt the window and
lost both; the same search, the same selected customer and their card must be there after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow
from ui.stations.reception import ReceptionStation

from .conftest import sign_in

pytestmark = pytest.mark.ui


def _reception(window: MainWindow) -> ReceptionStation:
    page = window.current_station()
    assert isinstance(page, ReceptionStation)
    return page


def _choose_language(qtbot: QtBot, window: MainWindow, code: str) -> None:
    """The header's language box, chosen with the keyboard."""
    combo = window.language
    target = combo.findData(code)
    assert target >= 0
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    for _step in range(abs(target - combo.currentIndex())):
        qtbot.keyClick(combo, key)


@pytest.mark.parametrize("print_size", ["normal", "large"])
def test_a_language_switch_keeps_the_search_and_the_selected_customer(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    print_size: str,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    if print_size == "large":  # as in the tryout: large print on before the customer came
        window.large.setChecked(True)
    station = _reception(window)
    event = QInputMethodEvent()
    event.setCommitString("王")
    QApplication.sendEvent(station.field, event)
    qtbot.waitUntil(lambda: station.model.rowCount() > 2 and station.card is not None)
    qtbot.keyClick(station.field, Qt.Key.Key_Down)
    assert station.table.currentIndex().row() == 1
    chosen = station.model.hit(1)
    assert chosen is not None
    qtbot.waitUntil(
        lambda: station.card is not None and station.card.hit.customer_id == chosen.customer_id
    )
    rows = station.model.rowCount()

    _choose_language(qtbot, window, "zh_CN")
    station = _reception(window)
    assert station.check_in_button.text() == "签到（回车）"  # rebuilt in Chinese
    assert station.field.text() == "王"
    assert station.model.rowCount() == rows
    assert station.table.currentIndex().row() == 1
    assert station.card is not None and station.card.hit.customer_id == chosen.customer_id
    assert station.check_in_button.isEnabled()
    assert window.focusWidget() is station.field
    # And back: still the same.
    _choose_language(qtbot, window, "en")
    station = _reception(window)
    assert station.check_in_button.text() == "Check in (Enter)"
    assert station.field.text() == "王" and station.table.currentIndex().row() == 1
    assert station.card is not None and station.card.hit.customer_id == chosen.customer_id
