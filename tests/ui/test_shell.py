"""The app shell driven like a person would: sign-in, lock-out, stations per role, preferences."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QFontDatabase, QRawFont
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from kiosk.clock import FixedClock
from kiosk.roles import Station
from kiosk.services.events import event_overview
from ui import stations
from ui.fonts import cjk_family, font_path
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.base import StationPage
from ui.stations.overview import OverviewStation

from .conftest import sign_in

pytestmark = pytest.mark.ui


def test_right_pin_opens_the_overview(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    window = make_window(demo_url)
    assert window.stack.currentWidget() is window.signin
    assert "Every PIN is 1234" in window.signin.findChild(QLabel, "demo_hint").text()
    sign_in(qtbot, window, "S001", "1234")
    assert window.stack.currentWidget() is window.workspace
    page = window.current_station()
    assert isinstance(page, OverviewStation)  # a supervisor starts at the overview
    overview = event_overview(window.app.uow())
    assert page.findChild(QLabel, "figure_invitees").text() == f"{overview.counts['invitees']:,}"
    assert page.offer_table.rowCount() == len(overview.offers) == 15
    assert page.branch_table.rowCount() == 15
    assert "(S001)" in window.who.text()
    window.sign_out_button.click()
    assert window.stack.currentWidget() is window.signin
    assert window.staff is None


def test_desk_staff_start_at_their_desk_and_switch_by_keyboard(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    from PySide6.QtCore import Qt

    from ui.stations.reception import ReceptionStation

    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    assert isinstance(window.current_station(), ReceptionStation)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(window.current_station(), OverviewStation)
    qtbot.keyClick(
        window.focusWidget() or window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier
    )
    assert isinstance(window.current_station(), ReceptionStation)


def test_wrong_pin_is_refused_and_the_next_try_waits(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str, clock: FixedClock
) -> None:
    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "9999")
    assert window.stack.currentWidget() is window.signin
    assert window.signin.error.text() == "Wrong PIN. 4 attempts left; the next in 1 s."
    assert window.signin.staff_no.text() == "R001"  # kept, only the PIN is cleared
    assert window.signin.pin.text() == ""
    # Straight away, even the right PIN waits; the screen says how long.
    sign_in(qtbot, window, "R001", "1234")
    assert window.stack.currentWidget() is window.signin
    assert window.signin.error.text() == "Too quick after a wrong PIN: wait 1 s and try again."
    clock.advance(seconds=1)
    sign_in(qtbot, window, "R001", "1234")
    assert window.stack.currentWidget() is not window.signin


def test_lockout_after_repeated_failures(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str, clock: FixedClock
) -> None:
    window = make_window(demo_url)
    for wait in (1, 2, 4, 8):
        sign_in(qtbot, window, "A001", "0000")
        assert f"the next in {wait} s" in window.signin.error.text()
        clock.advance(seconds=wait)
    sign_in(qtbot, window, "A001", "0000")
    assert "now locked until 09:05" in window.signin.error.text()
    sign_in(qtbot, window, "A001", "1234")
    assert window.stack.currentWidget() is window.signin
    assert "locked until 09:05" in window.signin.error.text()


class _Fake(StationPage):
    """Stand-ins registered only in this test, to see the switcher filter by role."""


@pytest.fixture
def all_stations() -> Iterator[None]:
    """Every station registered (fakes where none exists yet), then the registry restored."""
    saved = dict(stations._REGISTRY)
    for station in Station:
        if station not in saved:
            stations.register(type(f"Fake{station.name}", (_Fake,), {"station": station}))
    yield
    stations._REGISTRY.clear()
    stations._REGISTRY.update(saved)


@pytest.mark.parametrize(
    ("staff_no", "expected"),
    [
        ("R001", ["Event overview", "Reception"]),
        ("RM001", ["Event overview", "Service desk", "My customers"]),
        ("A001", ["Event overview", "Activation desk"]),
        ("M001", ["Event overview", "Merchant booth"]),
        (
            "S001",
            [
                "Event overview",
                "Reception",
                "Service desk",
                "Activation desk",
                "Merchant booth",
                "Dashboard",
                "Administration",
                "My customers",
            ],
        ),
    ],
)
def test_switcher_shows_only_what_the_role_allows(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    all_stations: None,
    staff_no: str,
    expected: list[str],
) -> None:
    window = make_window(demo_url)
    sign_in(qtbot, window, staff_no, "1234")
    assert window.station_titles() == expected
    window.switcher.setCurrentRow(len(expected) - 1)
    page = window.current_station()
    assert page is not None and page.title() == expected[-1]


def test_language_switch_is_applied_and_remembered(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
) -> None:
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    assert settings.language == "zh_CN"
    # Still signed in, same station, now in Chinese.
    assert window.stack.currentWidget() is window.workspace
    assert window.station_titles() == [
        "活动概览",
        "接待",
        "业务办理",
        "激活兑换",
        "商户核销",
        "看板",
        "管理",
        "我的客户",
    ]
    assert window.sign_out_button.text() == "退出登录"
    assert "尊享积分兑换活动" in window.windowTitle()
    window.language.setCurrentIndex(window.language.findData("en"))
    assert settings.language == "en"
    assert window.station_titles() == [
        "Event overview",
        "Reception",
        "Service desk",
        "Activation desk",
        "Merchant booth",
        "Dashboard",
        "Administration",
        "My customers",
    ]


def test_large_print_scales_the_ui(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str, settings: Settings
) -> None:
    window = make_window(demo_url)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    normal = app.font().pointSize()
    window.large.setChecked(True)
    assert settings.large_print is True
    assert app.font().pointSize() >= 18 > normal
    assert "font-size: 20pt" in app.styleSheet()
    window.large.setChecked(False)
    assert app.font().pointSize() == normal


def test_no_event_offers_the_demo(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], tmp_path: Path
) -> None:
    window = make_window(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert window.stack.currentWidget() is window.no_event
    window.no_event.button.click()
    assert window.stack.currentWidget() is window.signin
    sign_in(qtbot, window, "S001", "1234")
    assert window.stack.currentWidget() is window.workspace


def test_bundled_font_covers_chinese_and_latin() -> None:
    family = cjk_family()
    assert family in QFontDatabase.families()
    raw = QRawFont(font_path(), 12)
    assert raw.isValid()
    for char in "尊享积分兑换单曾解区仇查·AZaz09":
        assert raw.supportsCharacter(ord(char)), char  # the str overload misreports some
    assert QApplication.font().family() == family


def test_background_push_when_a_ledger_is_configured(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kiosk import privacy
    from kiosk.db import open_database
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.services import reception
    from kiosk.services.auth import staff_session
    from sync.ledger import Ledger
    from sync.push import accounts_from_event, pending, sync_lock

    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    database = open_database(demo_url)
    ledger = Ledger.open(ledger_url, create=True)
    ledger.upsert_accounts(
        accounts_from_event(database, privacy.unlock(database.unit_of_work(), DEMO_PASSPHRASE))
    )
    staff = staff_session(database.unit_of_work(), "R001")
    customer = reception.resolve_code(database.unit_of_work(), "6200000040")
    reception.check_in(database.unit_of_work(), customer, staff)
    assert pending(database) == 1
    monkeypatch.setenv("KIOSK_LEDGER", ledger_url)
    window = make_window(demo_url)
    status = window.sync_status
    assert status.isVisible()
    status.push_now()
    qtbot.waitUntil(lambda: status.text() == "Sync: up to date", timeout=10_000)
    assert pending(database) == 0 and ledger.totals()["accepted"] == 1
    qtbot.waitUntil(lambda: not status.running, timeout=10_000)  # the child has exited
    # Another laptop is pushing this event: not a failure, the header says so.
    another = reception.resolve_code(database.unit_of_work(), "6200000041")
    reception.check_in(database.unit_of_work(), another, staff)
    with sync_lock(database):
        status.push_now()
        qtbot.waitUntil(lambda: not status.running, timeout=15_000)
    assert status.text() == "Sync: another push is running" and pending(database) == 1
    status.ledger_url = "postgresql://nobody@127.0.0.1:1/none"
    status.push_now()
    qtbot.waitUntil(lambda: status.text() == "Sync: ledger not reachable", timeout=15_000)
    assert "cannot be reached" in status.toolTip()
    ledger.dispose()
    database.dispose()


def test_the_window_fits_a_screen_smaller_than_its_default_size(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    """With no window manager to maximise it (a kiosk X session, Xvfb), the 1366x800 window
    overhung a 1366x768 screen and its bottom rows were cut off; run_app and run_booth fit it
    to the screen's free area first."""
    from PySide6.QtCore import QRect

    from ui.app import fit_to_screen

    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")  # the reception station, with its slot panel
    assert window.height() > 768
    laptop = QRect(0, 0, 1366, 768)
    fit_to_screen(window, laptop)
    assert window.width() <= 1366 and window.height() <= 768
    assert window.pos().y() == 0
