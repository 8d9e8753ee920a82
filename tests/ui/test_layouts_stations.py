"""The activation desk, the merchant station, the dashboard and every Administration tab,
measured the way a person sees them (issue #24): the real main window on the demo event, in
normal and large print, at 1366×768 and 1920×1080, in Chinese and English, each screen in
the states staff meet (a customer at the desk, the catalog filled and slips issued, a
customer the redemption gate stops; a pack exported and a bundle imported; the dashboard at
10:20 of a simulated day), with ``layout_support.fitted`` finding nothing cut, overlapping,
off screen or scrolling sideways.

One window per print size and language goes through every state (each state is measured at
both screen sizes), so the file runs in about two minutes. ``KIOSK_LAYOUT_SHOTS=folder``
keeps every grab, to be looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QListWidget,
    QScrollArea,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE, create_demo
from kiosk.kyc import governance_gaps
from kiosk.models import Customer, Invitation, MobileBanking, Preselection, Queue
from kiosk.roles import Station
from kiosk.services import reception
from kiosk.services.auth import staff_session
from tests.booth_support import issue, new_booth
from tests.conftest import DEMO_DATE
from tests.points_support import drop_lots
from ui.app import ensure_application
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.activation import ActivationStation, Ask
from ui.stations.admin import AdminStation
from ui.stations.dashboard import DashboardStation
from ui.stations.merchant import MerchantStation
from ui.theme import apply_theme
from ui.widgets import Tone

from .conftest import sign_in
from .layout_support import ROOMS, fitted, keep_grab, open_station, scroll_in_scroll

pytestmark = pytest.mark.ui

MODES = [
    pytest.param(True, "zh_CN", id="large-zh"),
    pytest.param(True, "en", id="large-en"),
    pytest.param(False, "zh_CN", id="normal-zh"),
    pytest.param(False, "en", id="normal-en"),
]


PRINTS = [pytest.param(True, id="large"), pytest.param(False, id="normal")]


def _faults(window: MainWindow, room: QSize) -> list[str]:
    """What ``fitted`` finds on the station shown, at ``room``, and whether the station asks
    for more than the room the window leaves it (named by the station, not only as the
    window's size)."""
    found = fitted(window, room)
    page = window.current_station()
    assert page is not None
    header = window.findChild(QFrame, "header")
    assert header is not None
    left = QSize(room.width() - window.switcher.width(), room.height() - header.height())
    need = page.minimumSizeHint()
    if need.width() > left.width() or need.height() > left.height():
        found.append(
            f"{type(page).__name__} asks for {need.width()}×{need.height()}, the window leaves "
            f"it {left.width()}×{left.height()}"
        )
    return found


def _check(
    window: MainWindow,
    tag: str,
    large: bool,
    language: str,
    opened: Callable[[], None] | None = None,
) -> list[str]:
    """Every fault of the shown state at both screen sizes, each named, the grab kept.

    ``opened`` puts the state on screen again once the window has each size (a tab opened
    as staff open it, on a window that already has its size): what a tab shows right after
    it refreshed can differ from the same tab resized afterwards, which mends a stale
    layout."""
    faults = []
    mode = "large" if large else "normal"
    for name, room in ROOMS.items():
        if opened is not None:
            window.resize(room)
            for _ in range(3):
                QApplication.processEvents()
            opened()
        for fault in _faults(window, room):
            faults.append(f"{tag} {mode} {language} {name}: {fault}")
        keep_grab(window, f"{tag}-{mode}-{language}-{name}")
    return faults


def _arrivals(url: str, clock: FixedClock) -> tuple[list[int], int, str]:
    """Four customers with pre-selected services and plenty of points waiting for
    activation, and after them one the gate stops (expired ID, no mobile banking): their
    ids, the last one's id and number."""
    database = open_database(url)
    try:
        with audit.unaudited(), database.unit_of_work() as uow:  # test setup
            s = uow.session
            ready = list(
                s.scalars(
                    select(Invitation.customer_id)
                    .join(Preselection, Preselection.invitation_id == Invitation.id)
                    .order_by(Invitation.customer_id)
                    .limit(4)
                )
            )
            s.execute(
                update(Customer)
                .where(Customer.id.in_(ready))
                .values(mobile_banking=MobileBanking.OPENED, points_balance=90_000)
            )
            drop_lots(s, Customer.id.in_(ready))
            stopped = next(
                c
                for c in s.scalars(
                    select(Customer)
                    .join(Invitation, Invitation.customer_id == Customer.id)
                    .order_by(Customer.customer_no)
                )
                if c.id not in ready
                and governance_gaps(c, DEMO_DATE).get("id_valid_to") == "expired"
                and c.mobile_banking == MobileBanking.NONE
            )
            stopped_no, stopped_id = stopped.customer_no, stopped.id
            uow.commit()
        staff = staff_session(database.unit_of_work(), "R001")
        for customer_id in [*ready, stopped_id]:
            reception.check_in(
                database.unit_of_work(), customer_id, staff, route=Queue.ACTIVATION, clock=clock
            )
    finally:
        database.dispose()
    return ready, stopped_id, stopped_no


@pytest.mark.parametrize(("large", "language"), MODES)
def test_the_desks_and_administration_fit_both_screens(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    large: bool,
    language: str,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    monkeypatch.delenv("KIOSK_PRINT_COMMAND", raising=False)
    monkeypatch.setattr(Ask, "passphrase", staticmethod(lambda parent, demo: DEMO_PASSPHRASE))
    ready, stopped_id, stopped_no = _arrivals(demo_url, clock)
    settings.large_print = large
    settings.language = language
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    faults: list[str] = []

    # The activation desk: nobody called, the waiting list in sight.
    desk = open_station(window, Station.ACTIVATION)
    assert isinstance(desk, ActivationStation)
    desk.refresh_queue()
    assert desk.queue.rowCount() == len(ready) + 1
    faults += _check(window, "desk-waiting", large, language)
    assert desk.queue.isVisible()  # large print too: the list is not hidden away

    # F5: the first customer, the catalog on their short list, their cart.
    desk.call_next()
    assert desk.customer is not None and desk.customer.customer_id == ready[0]
    assert desk.catalog.isVisible() and desk.cart_table.isVisible()
    faults += _check(window, "desk-called", large, language)

    # The three steps, every service listed, one more in the cart, the slips issued.
    for button in desk.step_buttons.values():
        button.click()
    assert desk.banner.tone == Tone.OK, desk.banner.headline.text()
    desk.toggle_view()
    desk.catalog.setCurrentItem(desk.catalog.topLevelItem(0).child(0))
    desk.add_button.click()
    faults += _check(window, "desk-cart", large, language)
    desk.issue()
    qtbot.waitUntil(lambda: desk.slip_table.rowCount() > 0)
    assert desk.slip_table.isVisible()
    faults += _check(window, "desk-slips", large, language)

    # The language switched while the customer is at the desk: the same desk, rebuilt.
    other = "en" if language == "zh_CN" else "zh_CN"
    window.language.setCurrentIndex(window.language.findData(other))
    desk = window.current_station()  # type: ignore[assignment]
    assert isinstance(desk, ActivationStation)
    qtbot.waitUntil(desk.isVisible)
    assert desk.customer is not None and desk.customer.customer_id == ready[0]
    faults += _check(window, "desk-switched", large, other)
    window.language.setCurrentIndex(window.language.findData(language))
    desk = window.current_station()  # type: ignore[assignment]
    assert isinstance(desk, ActivationStation)
    qtbot.waitUntil(desk.isVisible)

    # Done; a customer the redemption gate stops, opened by their number.
    desk.finish()
    desk.open_code(stopped_no)
    assert desk.customer is not None and desk.customer.customer_id == stopped_id
    assert desk.gate_panel.isVisible() and desk.gate_panel.tone == Tone.WARN
    faults += _check(window, "desk-gate", large, language)
    desk.finish()

    # The merchant station: a pack exported, a booth's bundle imported.
    from ui.stations import merchant

    station = open_station(window, Station.MERCHANT)
    assert isinstance(station, MerchantStation)
    faults += _check(window, "merchant", large, language)
    database = open_database(demo_url)
    try:
        (code,) = issue(database, ["O101"])
    finally:
        database.dispose()
    pack = tmp_path / "M01.pack"
    monkeypatch.setattr(merchant.Files, "save_pack", lambda parent, name: str(pack))
    station.merchant.setCurrentIndex(station.merchant.findData("M01"))
    station.passphrase.setText(DEMO_PASSPHRASE)
    station.export_button.click()
    assert station.banner.tone == Tone.OK and pack.exists()
    faults += _check(window, "merchant-pack", large, language)
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack.read_bytes())
    assert booth.redeem(code, "李四").redeemed
    bundle = tmp_path / "bundle.json"
    booth.export(bundle)
    booth.database.dispose()
    monkeypatch.setattr(merchant.Files, "open_bundle", lambda parent: str(bundle))
    station.import_button.click()
    assert station.banner.detail.isVisible()
    faults += _check(window, "merchant-bundle", large, language)

    # Administration: every tab, reached through its group and its own tab.
    admin = open_station(window, Station.ADMIN)
    assert isinstance(admin, AdminStation)
    for index in range(admin.tabs.count()):

        def reopen(index: int = index) -> None:
            """Away to another tab and back: the tab reads its data as it opens, at the
            window's size (the 'Before slips' banner was cut so, never after a resize)."""
            admin.tabs.setCurrentIndex(1 if index == 0 else 0)
            admin.tabs.setCurrentIndex(index)
            qtbot.waitUntil(admin.tabs.widget(index).isVisible)

        # Opened first on the smaller laptop, then again at each size.
        faults += _check(window, f"admin-{index:02d}", large, language, reopen)
        assert admin.sections.tabText(admin.sections.currentIndex()) == admin.tabs.tabText(index)

    assert faults == [], "\n".join(faults)


def test_a_scroll_area_inside_another_is_found(qtbot: QtBot) -> None:
    """The measure itself: a form scrolling in a scrolling page is found, at any size; a list
    or a text scrolling its own rows in that page is not, nor a page inside a scroll area
    whose vertical bar is off."""
    window = QWidget()
    qtbot.addWidget(window)
    page = QScrollArea(window)
    page.setWidgetResizable(True)
    inside = QWidget()
    column = QVBoxLayout(inside)
    form = QScrollArea()
    form.setWidget(QWidget())
    form.widget().setObjectName("form")
    column.addWidget(form)
    column.addWidget(QListWidget())
    column.addWidget(QTextEdit())
    page.setWidget(inside)
    QVBoxLayout(window).addWidget(page)
    window.resize(600, 400)
    window.show()
    found = scroll_in_scroll(window)
    assert len(found) == 1 and found[0].startswith("the scroll area of form scrolls inside")
    page.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    assert scroll_in_scroll(window) == []


@pytest.mark.parametrize("large", PRINTS)
def test_no_admin_tab_scrolls_inside_its_scrolling_page(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
    large: bool,
) -> None:
    """Every Administration tab has one scrolling region at most, besides the lists, tables
    and texts that scroll their own rows (issue #24): the themes tab's form scrolled in a
    scroll area of its own inside the tab's, two bars side by side in large print and the
    wheel turning the one under the pointer. The quick form of what ``fitted`` finds on
    every tab in test_the_desks_and_administration_fit_both_screens."""
    settings.large_print = large
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    admin = open_station(window, Station.ADMIN)
    assert isinstance(admin, AdminStation)
    faults: list[str] = []
    for index in range(admin.tabs.count()):
        admin.tabs.setCurrentIndex(index)
        qtbot.waitUntil(admin.tabs.widget(index).isVisible)
        for name, room in ROOMS.items():
            window.resize(room)
            QApplication.processEvents()
            faults += [f"{admin.tabs.tabText(index)} {name}: {f}" for f in scroll_in_scroll(window)]
    assert faults == [], "\n".join(faults)


def test_the_dashboard_fits_during_a_simulated_day(
    qtbot: QtBot, settings: Settings, tmp_path: Path
) -> None:
    """The dashboard at 10:20 of a simulated demo day (scripts/screenshots.py does the same),
    in both print sizes and both languages, switched in one window as staff switch them."""
    from kiosk.simulate import Simulation

    database: Database = open_database(f"sqlite:///{tmp_path / 'simulated.sqlite3'}")
    create_demo(database.unit_of_work(), event_date=date(2026, 11, 28))
    simulation = Simulation(database, tmp_path / "booths", seed=3)
    simulation.run_until(datetime(2026, 11, 28, 2, 20, tzinfo=UTC))
    simulation.close()
    try:
        app = ensure_application()
        apply_theme(app, False)
        window = MainWindow(AppContext(database, FixedClock(simulation.clock.now())), settings)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        sign_in(qtbot, window, "S001", "1234")
        faults: list[str] = []
        for large in (False, True):
            if window.large.isChecked() != large:
                window.large.setChecked(large)
            for language in ("zh_CN", "en"):
                window.language.setCurrentIndex(window.language.findData(language))
                board = open_station(window, Station.DASHBOARD)
                assert isinstance(board, DashboardStation)
                qtbot.waitUntil(board.isVisible)
                faults += _check(window, "dashboard", large, language)
        assert faults == [], "\n".join(faults)
    finally:
        window.close()
        apply_theme(ensure_application(), False)
        database.dispose()
