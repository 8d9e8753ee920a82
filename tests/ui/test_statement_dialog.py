"""The points statement at reception, driven like a person: find the customer, open the
statement from the card, read the figures, print the 80 mm copy to the spool folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow
from ui.statement_dialog import StatementDialog
from ui.stations.reception import ReceptionStation
from ui.widgets import Tone

from .conftest import sign_in
from .test_reception import type_slowly

pytestmark = pytest.mark.ui


def test_reception_shows_and_prints_the_statement(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spool = tmp_path / "spool"
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(spool))
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    page = window.current_station()
    assert isinstance(page, ReceptionStation)
    assert not page.statement_button.isEnabled()  # nobody on the card yet
    type_slowly(qtbot, page, "6200000030")
    qtbot.waitUntil(lambda: page.card is not None and page.statement_button.isEnabled())
    seen: list[str] = []

    def answer(dialog: StatementDialog) -> None:
        dialog.show()
        qtbot.waitExposed(dialog)
        seen.append(dialog.text.toPlainText())
        qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
        seen.append(dialog.banner.headline.text())
        assert dialog.banner.tone == Tone.INFO  # no printer set up: saved, not "printed"
        dialog.accept()

    monkeypatch.setattr(StatementDialog, "answer", answer)
    qtbot.mouseClick(page.statement_button, Qt.MouseButton.LeftButton)
    text, headline = seen
    assert "Personal points statement" in text and "62******30" in text
    assert "Points you can spend today" in text and "Services that fit your points" in text
    assert headline == "Points statement saved as PDF: no printer is set up."
    printed = list(spool.glob("statement-*.pdf"))
    assert len(printed) == 1


def test_a_merchant_has_no_reception_to_open_it_from(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    window = make_window(demo_url)
    sign_in(qtbot, window, "M001", "1234")
    assert "Reception" not in window.station_titles()
