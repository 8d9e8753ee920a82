"""Administration -> 专场 (Themes), driven like a coordinator in Chinese: tick the services and
the rule, save, count the candidates per branch and RM, invite exactly them, once; an
audience of nobody says so; everything on screen at 1366×768; in large print the lists' boxes
are big and their names whole."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QListWidget,
    QStyle,
    QStyleOptionViewItem,
    QTabWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.db import open_database
from kiosk.i18n import _
from kiosk.models import Invitation
from kiosk.services import themes
from tests.unit.kiosk.services.test_themes import generate_customers
from ui.app import ensure_application
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.admin import AdminStation
from ui.stations.admin.themes_tab import ThemesPanel, _checklist, _fill, tick
from ui.theme import apply_theme
from ui.widgets import Tone

from .conftest import sign_in
from .layout_support import ROOMS

pytestmark = pytest.mark.ui


def _invitations(url: str) -> int:
    database = open_database(url)
    try:
        with database.unit_of_work() as uow:
            return uow.session.scalar(select(func.count(Invitation.id))) or 0
    finally:
        database.dispose()


def _open(qtbot: QtBot, window: MainWindow) -> tuple[AdminStation, ThemesPanel]:
    sign_in(qtbot, window, "S001", "1234")
    window.switcher.setCurrentRow(window.station_titles().index(_("Administration")))
    station = window.current_station()
    assert isinstance(station, AdminStation)
    station.tabs.setCurrentWidget(station.themes)
    qtbot.waitUntil(station.themes.isVisible)
    return station, station.themes


def test_the_coordinator_defines_counts_and_invites(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    settings: Settings,
    tmp_path: Path,
) -> None:
    database = open_database(any_demo_url)
    generate_customers(database, 600)
    database.dispose()
    settings.language = "zh_CN"
    window = make_window(any_demo_url)
    station, panel = _open(qtbot, window)
    assert station.tabs.tabText(station.tabs.currentIndex()) == "专场"
    assert panel.picker.currentData() == ""  # a new theme
    assert not panel.count_button.isEnabled() and not panel.invite_button.isEnabled()

    qtbot.keyClicks(panel.code, "car")
    panel.name.setText("洗车观影专场")  # an input method types it
    panel.slot.setCurrentIndex(panel.slot.findData("PM"))
    tick(panel.categories, "car", "movie")
    qtbot.keyClicks(panel.points_min, "1,000")
    panel.affordable.setChecked(True)
    tick(panel.employers, "华南电网", "珠江啤酒")
    panel.save_button.click()
    assert panel.banner.tone == Tone.OK, panel.banner.detail.text()
    assert panel.picker.currentData() == "CAR" and panel.code.isReadOnly()
    assert "下午场已受邀的" in panel.banner.detail.text()  # who it binds, said at once
    assert "只能兑换这些服务" in panel.banner.detail.text()

    panel.count_button.click()
    counted = themes.audience(panel.context.uow(), "CAR")
    assert counted.new > 0
    assert panel.branch_table.rowCount() == len(counted.branches)
    shown = sum(
        int(panel.branch_table.item(r, 2).text().replace(",", ""))
        for r in range(panel.branch_table.rowCount())
    )
    assert shown == counted.candidates
    assert panel.rm_table.rowCount() == len(counted.rms)
    assert panel.invite_button.text() == f"邀约 {counted.new:,} 位客户"
    assert not panel.invite_slot.isEnabled()  # the theme's own slot

    # Everything on screen at 1366×768, the buttons' words whole.
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.height() == 768)
    for button in (panel.invite_button, panel.save_button, panel.count_button):
        corner = button.mapTo(window, button.rect().bottomRight())
        assert corner.y() < 768 and corner.x() < 1366
    for widget in [*panel.findChildren(QAbstractButton), *panel.findChildren(QLabel)]:
        wraps = isinstance(widget, QLabel) and widget.wordWrap()
        if widget.isVisible() and widget.text() and not wraps:
            assert widget.width() >= widget.sizeHint().width() - 1, widget.text()

    before = _invitations(any_demo_url)
    panel.invite_button.click()
    assert panel.banner.tone == Tone.OK, panel.banner.detail.text()
    assert _invitations(any_demo_url) == before + counted.new
    assert not panel.invite_button.isEnabled()  # counted again: nobody left to invite
    assert panel.invite_button.text() == "邀约 0 位客户"

    # A rule that selects nobody says so, and offers no invitation.
    panel.picker.setCurrentIndex(0)
    qtbot.keyClicks(panel.code, "none")
    panel.name.setText("无人专场")
    panel.slot.setCurrentIndex(panel.slot.findData("AM"))
    qtbot.keyClicks(panel.points_min, "99999999")
    panel.save_button.click()
    panel.count_button.click()
    assert panel.banner.tone == Tone.WARN
    assert "NONE" in panel.banner.headline.text()
    assert not panel.invite_button.isEnabled()
    panel.remove_button.click()
    assert panel.banner.tone == Tone.OK and panel.picker.findData("NONE") == -1

    # The themed session's own booklet from the Booklet tab: its services only, its name on
    # the cover; the whole event's booklet still lists every service.
    written: list[Path] = []

    def save_file(parent: object, title: str, name: str, filters: str) -> Path:
        written.append(tmp_path / f"{len(written)}-{name}")
        return written[-1]

    # On this station only: ``chooser`` is the FileChooser class, shared by every test.
    station.chooser = type("Chooser", (), {"save_file": staticmethod(save_file)})  # type: ignore[assignment]
    station.tabs.setCurrentWidget(station.booklet_tab)
    picker = station.booklet_theme
    assert picker.itemText(0) == "整场活动" and picker.findData("CAR") > 0
    picker.setCurrentIndex(picker.findData("CAR"))
    station.booklet_button.click()
    assert station.booklet_banner.tone == Tone.OK, station.booklet_banner.detail.text()
    themed = _pdf_text(written[-1])
    assert "洗车观影专场" in themed and "精致洗车一次" in themed and "电影票两张" in themed
    assert "基础体检套餐" not in themed
    picker.setCurrentIndex(0)
    station.booklet_button.click()
    assert "基础体检套餐" in _pdf_text(written[-1])


def _pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return "".join(done.stdout.split())


def test_save_stays_on_screen_with_the_banner_at_1366(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str, settings: Settings
) -> None:
    """After a save the banner takes its room at the bottom: Save and Remove stay in view at
    1366×768, not scrolled off below the form."""
    settings.language = "zh_CN"
    window = make_window(demo_url)
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1366, 768))
    _station, panel = _open(qtbot, window)
    qtbot.keyClicks(panel.code, "car")
    panel.name.setText("洗车观影专场")
    tick(panel.categories, "car", "movie")
    panel.save_button.click()
    assert panel.banner.tone == Tone.OK and panel.banner.isVisible()
    qtbot.wait(50)
    for button in (panel.save_button, panel.remove_button):
        shown = button.visibleRegion().boundingRect()
        assert shown.size() == button.size(), button.text()  # wholly in view


def _row_faults(box: QListWidget) -> list[str]:
    """What is wrong with a checklist's rows as the style draws them: a box under 36 px or
    outside its row, a name that needs more height than its row gives it (Qt then cuts it,
    "广州地铁集团有限…"), the list scrolling sideways."""
    faults = []
    style = box.style()
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, box) + 1
    if box.horizontalScrollBar().maximum() > 0:
        faults.append(f"{box.objectName()} {box.width()} px wide scrolls sideways")
    for row in range(box.count()):
        index = box.model().index(row, 0)
        option = QStyleOptionViewItem()
        box.initViewItemOption(option)
        option.rect = box.visualRect(index)
        box.itemDelegate().initStyleOption(option, index)
        where = f"{box.objectName()} {box.width()} px wide, {box.item(row).text()!r}"
        tick_box = style.subElementRect(
            QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, box
        )
        if min(tick_box.width(), tick_box.height()) < 36:
            faults.append(f"{where}: box {tick_box.width()}×{tick_box.height()} px")
        if not option.rect.contains(tick_box):
            faults.append(f"{where}: box {tick_box} outside its row {option.rect}")
        words = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, box)
        need = QFontMetrics(option.font).boundingRect(
            QRect(0, 0, words.width() - 2 * margin, 10_000),
            int(Qt.TextFlag.TextWordWrap),
            box.item(row).text(),
        )
        if need.height() > words.height():
            faults.append(f"{where}: needs {need.height()} px high, drawn in {words.height()}")
    return faults


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_large_print_ticks_are_big_and_names_whole(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
    language: str,
) -> None:
    """In large print every row of the six checklists has a box of at least 36 px, as the
    theme gives a check box (the style's own was 14 px in a 60-px row), inside its row;
    beside it the row's name is whole and no list scrolls sideways. Measured where the
    style draws them, on a 1366×768 laptop, each list on its tab."""
    settings.large_print = True
    settings.language = language
    window = make_window(demo_url)
    window.resize(ROOMS["1366x768"])
    _station, panel = _open(qtbot, window)
    tabs = panel.findChild(QTabWidget, "theme_tabs")
    assert tabs is not None
    lists = [panel.categories, panel.merchants, panel.offers]
    lists += [panel.tiers, panel.employers, panel.products]
    faults: list[str] = []
    for box in lists:
        page = next(i for i in range(tabs.count()) if tabs.widget(i).isAncestorOf(box))
        tabs.setCurrentIndex(page)
        qtbot.waitUntil(box.isVisible)
        qtbot.wait(150)  # a list that wraps lays its rows out again 100 ms after a resize
        assert box.count() > 0, box.objectName()
        faults += _row_faults(box)
    assert faults == [], "\n".join(faults)


def test_large_print_names_whole_at_any_width(qtbot: QtBot) -> None:
    """A checklist in large print at every width a column may have: a long Chinese name
    and a long English one wrap whole beside the big box and never scroll sideways (Qt
    wrapped them for the style's small box and added the row's padding after: a name was
    cut at some widths, the list scrolled sideways by a few pixels at others)."""
    app = ensure_application()
    apply_theme(app, True)
    try:
        box = _checklist("employers")
        qtbot.addWidget(box)
        names = ["广汽集团", "广州地铁集团有限公司", "广州白云国际机场股份有限公司"]
        names += ["Guangzhou Metro Group Co., Ltd.", "O1001 肩颈理疗一次"]
        _fill(box, [(name, name) for name in names], ("广汽集团",))
        box.show()
        faults: list[str] = []
        for width in range(260, 521, 3):
            box.resize(width, 900)
            box.doItemsLayout()
            faults += _row_faults(box)
        assert faults == [], "\n".join(faults)
    finally:
        apply_theme(app, False)
