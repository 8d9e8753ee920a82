"""The booth as its staff use it at the start of a shift, in English then Chinese: a slip waiting
for Enter never looks like one served (words, sign, border, sound); no redemption without the
name of who served, typed once per shift (a scan into the name field is a scan, not a name);
another merchant's slip says which booth to go to; the booth's dialogs speak the language on
screen. The slips come from the event database on both backends; scanner bursts at 2–8 ms."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.booth_laptop.booth import Booth, StaffNameMissing
from kiosk.booth_laptop.store import BoothRedemption
from kiosk.clock import FixedClock
from kiosk.db import Database
from tests.booth_support import MORNING, issue, new_booth, pack_bytes
from ui import booth_window as booth_ui
from ui.app import ensure_application
from ui.booth_window import BoothWindow
from ui.connection import ConnectionDialog
from ui.language import apply_language
from ui.settings import Settings
from ui.theme import apply_theme
from ui.widgets import Tone

from .test_qt_language import DialogWatcher
from .wedge import scanner_burst, type_like_a_person

pytestmark = pytest.mark.ui


@pytest.fixture
def booth_window(
    qtbot: QtBot, settings: Settings, tmp_path: Path, any_demo_db: Database
) -> Iterator[Callable[[bytes], BoothWindow]]:
    booths: list[Booth] = []

    def make(pack: bytes) -> BoothWindow:
        apply_theme(ensure_application(), False)
        apply_language(settings.language)
        booth = new_booth(tmp_path / "booth.sqlite3", FixedClock(MORNING))
        booth.install(pack)
        booths.append(booth)
        window = BoothWindow(booth, settings)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    for booth in booths:
        booth.database.dispose()


def _redemptions(booth: Booth) -> list[tuple[int, str]]:
    with booth.database.unit_of_work() as uow:
        rows = uow.session.execute(
            select(BoothRedemption.slip_serial, BoothRedemption.staff_name).order_by(
                BoothRedemption.seq
            )
        ).all()
    return [(serial, name) for serial, name in rows]


def _switch_booth_language(qtbot: QtBot, window: BoothWindow, code: str) -> None:
    box = window.language
    target = box.findData(code)
    key = Qt.Key.Key_Down if target > box.currentIndex() else Qt.Key.Key_Up
    while box.currentIndex() != target:
        qtbot.keyClick(box, key)


def test_a_shift_at_the_booth(
    qtbot: QtBot,
    any_demo_db: Database,
    booth_window: Callable[[bytes], BoothWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine, other, second = issue(any_demo_db, ["O101", "O501", "O102"])
    window = booth_window(pack_bytes(any_demo_db))
    panel = window.panel
    assert panel is not None
    booth = window.booth

    # Start of the shift: nobody has typed a name, so the name field has the keys.
    assert panel.staff.text() == "" and window.focusWidget() is panel.staff
    assert panel.idle.text() == "Start of the shift: type your name above, then scan."
    # A slip scanned anyway lands in the name field: it is taken as a scan, never as a name.
    scanner_burst(qtbot, panel.staff, mine)
    assert panel.staff.text() == ""
    assert panel.banner.tone == Tone.INFO, panel.banner.headline.text()
    assert panel.sounds.last == Tone.INFO
    assert panel.banner.headline.text() == "Valid, NOT redeemed yet: press Enter to redeem"
    assert "Type your name first (once per shift)" in panel.banner.detail.text()
    assert "dashed" in panel.banner.styleSheet()  # waiting: more than a colour says so
    assert window.focusWidget() is panel.staff and panel.pending is not None
    assert _redemptions(booth) == []
    # Enter on the scan field with no name: refused in words, the slip still waits.
    qtbot.wait(350)  # longer than a scanner's own CR LF after the code
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    assert panel.banner.headline.text() == "Type your name first"
    assert panel.banner.tone == Tone.WARN and window.focusWidget() is panel.staff
    assert _redemptions(booth) == [] and panel.pending is not None

    # The name, typed like a person; then Enter on the (empty) scan field redeems.
    type_like_a_person(qtbot, panel.staff, "Li Si")
    assert window.focusWidget() is panel.field
    assert panel.idle.text() == "Ready: scan a slip."
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    assert panel.banner.tone == Tone.OK and panel.sounds.last == Tone.OK
    assert panel.banner.headline.text() == "Redeemed: serve the customer"
    assert "solid" in panel.banner.styleSheet() and "dashed" not in panel.banner.styleSheet()
    serial_mine = _redemptions(booth)[0][0]
    assert _redemptions(booth) == [(serial_mine, "Li Si")]

    # Chinese in the middle of the shift: the name holds for the day.
    _switch_booth_language(qtbot, window, "zh_CN")
    panel = window.panel
    assert panel is not None and panel.staff.text() == "Li Si"
    assert panel.idle.text() == "就绪：请扫描兑换券。"
    scanner_burst(qtbot, panel.field, other)
    assert panel.banner.tone == Tone.ERROR
    assert panel.banner.headline.text() == "请到 B1 展位 星光影城"
    assert panel.banner.detail.text().startswith("此券用于其他商户的服务，请勿提供服务。")
    scanner_burst(qtbot, panel.field, second)
    assert panel.banner.headline.text() == "有效，尚未核销：按回车键确认核销"
    assert panel.banner.tone == Tone.INFO and panel.redeem_button.isVisible()
    monkeypatch.setattr(booth_ui, "CONFIRM_GUARD_S", 0.0)
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    assert panel.banner.headline.text() == "核销成功：请为客户提供服务"
    assert [name for _serial, name in _redemptions(booth)] == ["Li Si", "Li Si"]
    scanner_burst(qtbot, panel.field, second)
    assert panel.banner.headline.text().startswith("已于 09:10 由 Li Si 核销")

    # The booth's dialogs, in Chinese: Qt's own file dialogs, OK / Cancel as 确定 / 取消.
    watcher = DialogWatcher()
    seen = [
        watcher.opens(panel.install_button.click),
        watcher.opens(panel.export_button.click),
        watcher.opens(panel.manual_button.click),
        watcher.opens(window.choose_event_database),
        # The gateway's CA file, chosen in the booth's "Booth gateway…" dialog.
        watcher.opens(
            lambda: (
                ConnectionDialog("", parent=window, for_booth=True)
                .findChild(QPushButton, "choose_ca")
                .click()
            )
        ),
    ]
    assert [s.kind for s in seen] == [
        "QFileDialog",
        "QFileDialog",
        "ManualEntryDialog",
        "ConnectionDialog",
        "QFileDialog",
    ]
    for dialog in seen:
        assert dialog.english() == [], (dialog.kind, dialog.english())
    assert any("取消" in t for t in seen[0].texts) and any("打开" in t for t in seen[0].texts)
    assert any("保存" in t for t in seen[1].texts)
    assert {"确定", "取消"} <= set(seen[2].texts)
    assert any(t.startswith("查找范围") for t in seen[0].texts)

    # The next day is a new shift: the name is asked again.
    booth.clock = FixedClock(MORNING + timedelta(days=1))
    window.rebuild()
    panel = window.panel
    assert panel is not None and panel.staff.text() == ""
    assert panel.idle.text() == "开始当班：请先在上方填写您的姓名，再扫码。"
    assert window.focusWidget() is panel.staff


def test_the_booth_service_records_no_redemption_without_a_name(
    any_demo_db: Database, tmp_path: Path
) -> None:
    (code,) = issue(any_demo_db, ["O101"])
    booth = new_booth(tmp_path / "b.sqlite3")
    booth.install(pack_bytes(any_demo_db))
    with pytest.raises(StaffNameMissing, match="Type your name first"):
        booth.redeem(code, "  ")
    assert _redemptions(booth) == []
    assert booth.redeem(code, " 李四 ").redeemed
    assert _redemptions(booth)[0][1] == "李四"
    booth.database.dispose()


def test_large_print_at_the_booth_keeps_the_shift(
    qtbot: QtBot,
    any_demo_db: Database,
    booth_window: Callable[[bytes], BoothWindow],
    settings: Settings,
) -> None:
    """The booth has the event app's large print: switched on mid-shift, the name stays, the
    scan field keeps the keys, and the fonts grow (the booth had no way to switch it)."""
    (code,) = issue(any_demo_db, ["O101"])
    window = booth_window(pack_bytes(any_demo_db))
    assert window.panel is not None
    type_like_a_person(qtbot, window.panel.staff, "Li Si")
    normal = ensure_application().font().pointSize()
    assert window.large.focusPolicy() == Qt.FocusPolicy.NoFocus  # never takes the scan's keys
    qtbot.mouseClick(window.large, Qt.MouseButton.LeftButton)
    assert settings.large_print is True
    panel = window.panel
    assert panel is not None and panel.staff.text() == "Li Si"
    assert window.focusWidget() is panel.field
    assert ensure_application().font().pointSize() >= 18 > normal
    scanner_burst(qtbot, panel.field, code)
    assert panel.banner.headline.text() == "Valid, NOT redeemed yet: press Enter to redeem"
    qtbot.mouseClick(window.large, Qt.MouseButton.LeftButton)
    assert settings.large_print is False and window.panel is not None
    apply_theme(ensure_application(), False)


def test_the_booth_in_large_print_fits_a_1366_laptop(
    qtbot: QtBot,
    any_demo_db: Database,
    booth_window: Callable[[bytes], BoothWindow],
    settings: Settings,
) -> None:
    """In Chinese and large print the merchant's and event's names wrap in the header instead
    of widening the window past the laptop (the language switch and the large-print switch
    were off the screen), and the after-service buttons stay on it."""
    settings.language = "zh_CN"
    window = booth_window(pack_bytes(any_demo_db))
    qtbot.mouseClick(window.large, Qt.MouseButton.LeftButton)
    qtbot.wait(50)  # the style sheet's new sizes reach the widgets
    assert window.minimumSizeHint().width() <= 1366
    window.resize(1366, 768)
    window.show()
    qtbot.waitUntil(lambda: window.width() == 1366)
    panel = window.panel
    assert panel is not None
    for widget in (window.large, window.language, panel.field):
        right = widget.mapTo(window, widget.rect().topRight()).x()
        assert 0 < right <= window.width(), widget.objectName()
    qtbot.mouseClick(window.large, Qt.MouseButton.LeftButton)
    apply_theme(ensure_application(), False)
