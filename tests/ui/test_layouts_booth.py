"""The merchant booth on a laptop's screen (issue #24): at 1366×768 and 1920×1080, in normal
and large print, in Chinese and English, nothing is cut off, overlapped or pushed off the
screen, in the states a booth is in all day: the pack installed and waiting, a valid slip
waiting for Enter, a refused slip, and offline from the gateway. The complaint dialog's
categories are not cut either.

Set ``KIOSK_LAYOUT_SHOTS`` to a folder to keep a grab of each screen (to look at them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk.booth_laptop.online import set_gateway
from kiosk.db import Database
from tests.booth_support import issue, new_booth, pack_bytes
from ui.app import ensure_application
from ui.booth_window import BoothWindow, ComplaintDialog
from ui.language import apply_language
from ui.settings import Settings
from ui.theme import apply_theme
from ui.widgets import Tone

from .layout_support import ROOMS, fitted, keep_grab, problems

pytestmark = pytest.mark.ui

SIZES = list(ROOMS)
MODES = [pytest.param(False, id="normal"), pytest.param(True, id="large")]
LANGUAGES = ["zh_CN", "en"]


@pytest.fixture
def booth_in(
    qtbot: QtBot, demo_db: Database, settings: Settings, tmp_path: Path
) -> Iterator[tuple[BoothWindow, list[str]]]:
    codes = issue(demo_db, ["O101", "O102"])
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(demo_db))
    # A gateway that is not there: the window knocks, finds nobody, says OFFLINE.
    set_gateway(booth, "https://10.255.255.1:8443", "")
    window = BoothWindow(booth, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window, codes
    apply_theme(ensure_application(), False)
    window.close()
    booth.database.dispose()


def _check(window: BoothWindow, size: str, state: str, shot: str) -> list[str]:
    found = fitted(window, ROOMS[size])
    keep_grab(window, f"booth-{shot}-{state}")
    return [f"{state}: {fault}" for fault in found]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("large", MODES)
@pytest.mark.parametrize("size", SIZES)
def test_the_booth_fits_in_every_state(
    qtbot: QtBot,
    settings: Settings,
    booth_in: tuple[BoothWindow, list[str]],
    size: str,
    large: bool,
    language: str,
) -> None:
    window, (first, second) = booth_in
    settings.language = language
    apply_language(language)
    settings.large_print = large
    apply_theme(ensure_application(), large)
    window.rebuild()  # as the language and large-print switches do
    assert window.large.isChecked() is large
    shot = f"{size}-{'large' if large else 'normal'}-{language}"
    panel = window.panel
    assert panel is not None
    found = _check(window, size, "idle, no name yet", shot)
    panel.staff.setText("王店员")
    panel._save_staff()

    panel.handle(first)
    assert panel.banner.tone == Tone.INFO and panel.redeem_button.isVisible()
    found += _check(window, size, "a valid slip waiting for Enter", shot)
    panel.confirm()
    assert panel.banner.tone == Tone.OK
    found += _check(window, size, "served", shot)
    if panel.tabs is not None:  # large print: the day's list has its own tab
        panel.tabs.setCurrentIndex(1)
        assert panel.table.isVisibleTo(window) and panel.table.rowCount() == 1
        found += _check(window, size, "today's list", shot)
    panel.handle(first)
    assert panel.banner.tone == Tone.ERROR and panel.banner.isVisibleTo(window)
    found += _check(window, size, "refused: already redeemed", shot)

    assert window.lan is not None
    window.poll.stop()
    window.lan.went_offline("gone")
    window.show_lan_state()
    panel.handle(second)
    assert window.lan_banner.isVisible() and window.lan_banner.text().startswith(
        ("OFFLINE", "离线")
    )
    found += _check(window, size, "offline, a valid slip", shot)
    QApplication.processEvents()
    assert not found, "\n".join(found)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("large", MODES)
def test_the_complaint_dialog_shows_its_categories_whole(
    qtbot: QtBot, settings: Settings, large: bool, language: str
) -> None:
    apply_theme(ensure_application(), large)
    apply_language(language)
    dialog = ComplaintDialog("000123")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    found = []
    for index in range(dialog.category.count()):
        dialog.category.setCurrentIndex(index)
        QApplication.processEvents()
        found += problems(dialog)
    keep_grab(dialog, f"booth-complaint-{'large' if large else 'normal'}-{language}")
    apply_theme(ensure_application(), False)
    assert not found, "\n".join(dict.fromkeys(found))
