"""Administration → Reports → Merchant statements: one PDF per merchant into the folder
chosen (issue #21, part 4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import Merchant
from tests.figures_support import NOW, build_small_event
from ui.main_window import MainWindow
from ui.stations.admin import AdminStation, FileChooser
from ui.widgets import Tone

from .conftest import sign_in

pytestmark = pytest.mark.ui


@pytest.fixture
def small_url(empty_url: str) -> str:
    database = open_database(empty_url)
    build_small_event(database)
    database.dispose()
    return empty_url


def test_admin_writes_the_merchant_statements(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    small_url: str,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.at = NOW
    database = open_database(small_url)
    with database.unit_of_work() as uow:
        codes = sorted(uow.session.scalars(select(Merchant.code)))
    database.dispose()
    assert codes
    asked: list[str] = []
    folder = tmp_path / "statements"
    folder.mkdir()

    def choose(cls: object, parent: object, title: str) -> Path | None:
        asked.append(title)
        return folder if len(asked) > 1 else None  # the first time: cancelled

    monkeypatch.setattr(FileChooser, "directory", classmethod(choose))
    window = make_window(small_url)
    sign_in(qtbot, window, "S001", "1234")
    window.switcher.setCurrentRow(window.station_titles().index("Administration"))
    station = window.current_station()
    assert isinstance(station, AdminStation)
    station.tabs.setCurrentWidget(station.reports)
    button = station.reports.buttons["merchant_statements"]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert list(folder.iterdir()) == []  # cancelled: nothing written
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert asked == ["Folder for the merchant statements"] * 2
    assert sorted(p.name for p in folder.iterdir()) == [f"statement-{c}.pdf" for c in codes]
    assert station.reports.banner.tone == Tone.OK
    assert station.reports.banner.headline.text() == f"{len(codes)} files written to {folder}"
    with pdfplumber.open(folder / f"statement-{codes[0]}.pdf") as document:
        text = document.pages[0].extract_text()
    assert "Merchant settlement statement" in text and "Bank (signature and stamp)" in text
