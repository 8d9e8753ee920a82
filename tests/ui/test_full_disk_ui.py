"""A full disk and a COMMIT cut off, at the real stations (#31): the screen tells the truth in
words, the same key pressed again acts once, and the warning comes before the disk is full."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.booth_laptop.store import BoothRedemption
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.files import leftovers
from kiosk.models import Customer, Queue, Slip, Visit
from kiosk.services import reception
from kiosk.services.auth import staff_session
from tests.booth_support import issue, pack_bytes
from tests.disk_support import SmallDisk, mount_tmpfs, unmount
from tests.gate_support import make_ready
from tests.tcp_proxy import LanCable
from ui import booth_window as booth_ui
from ui.booth_window import BoothWindow
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.activation import ActivationStation, Ask
from ui.stations.dashboard import DashboardStation
from ui.stations.reception import ReceptionStation
from ui.widgets import Tone

from .conftest import sign_in
from .test_booth import scan

pytestmark = pytest.mark.ui

RICH = "6200000141"  # 386,800 points


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    disk = mount_tmpfs(tmp_path / "disk", "6m")
    yield disk
    unmount(disk)


def _to_activation(url: str, clock: FixedClock, customer_no: str = RICH) -> int:
    database = open_database(url)
    with database.unit_of_work() as uow:
        customer = uow.session.scalar(
            select(Customer.id).where(Customer.customer_no == customer_no)
        )
    assert customer is not None
    make_ready(database, customer)  # past the redemption gate: this test is about the disk
    reception.check_in(
        database.unit_of_work(),
        customer,
        staff_session(database.unit_of_work(), "R001"),
        route=Queue.ACTIVATION,
        clock=clock,
    )
    database.dispose()
    return customer


def _slips(url: str, customer: int) -> int:
    database = open_database(url)
    try:
        with database.unit_of_work() as uow:
            return int(
                uow.session.scalar(select(func.count()).where(Slip.customer_id == customer)) or 0
            )
    finally:
        database.dispose()


def _desk_with_cart(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> ActivationStation:
    monkeypatch.setattr(Ask, "passphrase", staticmethod(lambda parent, demo: DEMO_PASSPHRASE))
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F5)
    assert station.customer is not None
    station.empty_cart()
    station.cart.set("O401", 1)
    station.cart.set("O501", 1)
    station.refresh_cart()
    return station


def _wait_two_issued_and_printed(qtbot: QtBot, station: ActivationStation) -> None:
    """Two slips issued and printed (saved as PDF: no printer is set up in these tests)."""
    qtbot.waitUntil(
        lambda: (
            station.print_banner.headline.text() == "2 slips saved as PDF: no printer is set up."
        )
    )
    assert station.banner.headline.text().startswith("2 slips issued for")


def test_activation_desk_on_a_full_disk_then_freed(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_template: Path,
    small_disk: SmallDisk,
    clock: FixedClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F9 on a full disk: "nothing was saved", the disk named, the cart kept; the low-space
    banner was up before; F9 once there is room issues the slips once and prints them."""
    spool = small_disk.path / "spool"
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(spool))
    path = shutil.copyfile(demo_template, small_disk.path / "event.sqlite3")
    url = f"sqlite:///{path}"
    customer = _to_activation(url, clock)
    window = make_window(url)
    # The tmpfs has 6 MB: under the 200 MB limit from the start, so the banner says so.
    window.disk_watch.check()
    assert window.disk_banner.isVisible()
    assert "Little disk space left" in window.disk_banner.text()
    assert str(small_disk.path) in window.disk_banner.text()
    station = _desk_with_cart(qtbot, window, monkeypatch)
    station._key()  # the passphrase is asked (and the key read) before the disk fills

    small_disk.fill(0)
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)
    headline = station.banner.headline.text()
    assert station.banner.tone == Tone.ERROR
    assert (
        headline.startswith("Nothing was saved. The disk is full")
        and str(small_disk.path) in headline
    )
    assert "connection" not in headline.lower()
    assert station.cart.lines == {"O401": 1, "O501": 1}  # kept for the next try
    small_disk.empty()
    assert _slips(url, customer) == 0

    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)
    _wait_two_issued_and_printed(qtbot, station)
    assert _slips(url, customer) == 2
    assert sorted(p.name for p in spool.glob("*.pdf")) == ["slip-000001.pdf", "slip-000002.pdf"]

    # The print spool (another disk here) is full: issued, "printing not finished", no PDF
    # under its name; the reprint from the list makes it once there is room.
    spool_disk = mount_tmpfs(small_disk.path.parent / "spool-disk", "1m")
    try:
        station.printer = station.printer.__class__(spool_disk.path)
        spool_disk.fill(0)
        station.cart.set("O801", 1)
        station.refresh_cart()
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)
        qtbot.waitUntil(lambda: station.print_banner.tone == Tone.WARN)
        # The issue stands, said apart from its printing, which is said in words.
        assert station.banner.tone == Tone.OK and "No. 000003" in station.banner.headline.text()
        assert station.print_banner.headline.text() == "The PDF could not be saved"
        detail = station.print_banner.detail.text()
        assert "disk is full" in detail and str(spool_disk.path) in detail
        assert "Printing not finished" in detail
        assert _slips(url, customer) == 3
        assert list(spool_disk.path.glob("*.pdf")) == [] and leftovers(spool_disk.path) == []
        spool_disk.empty()
        station.slip_table.selectRow(0)
        monkeypatch.setattr(Ask, "confirm_reprint", staticmethod(lambda parent, serial, n: True))
        station.reprint_button.click()  # its first copy: nobody needs to approve
        assert station.print_banner.headline.text() == "1 slip saved as PDF: no printer is set up."
        assert [p.name for p in spool_disk.path.glob("*.pdf")] == ["slip-000003.pdf"]
    finally:
        unmount(spool_disk)


@pytest.mark.pg
def test_activation_desk_commit_cut_then_f9_again_issues_once(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    pg_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The LAN goes at the moment of COMMIT and stays away: the desk says it cannot tell yet;
    F9 again once the LAN is back answers with the slips of the first try, issued once."""
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    customer = _to_activation(pg_demo_url, clock)
    with LanCable(pg_demo_url) as cable:
        window = make_window(cable.url)
        station = _desk_with_cart(qtbot, window, monkeypatch)
        station._key()
        cable.cut_at_commit(deliver=True, down=True)
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)
        assert station.banner.tone == Tone.ERROR
        assert "will not be done twice" in station.banner.headline.text()
        assert station.cart.lines == {"O401": 1, "O501": 1}
        assert _slips(pg_demo_url, customer) == 2  # it did commit: the answer was lost
        cable.wait_cut()
        cable.plug()
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)
        _wait_two_issued_and_printed(qtbot, station)
        assert _slips(pg_demo_url, customer) == 2
        assert not station.cart
        assert station.slip_table.rowCount() == 2


@pytest.mark.pg
def test_activation_desk_lan_gone_before_f9_says_so_and_issues_after(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    pg_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The LAN is gone when F9 is pressed: the issue is refused in words ("cannot be reached
    … nothing was saved"), and reading the customer afresh, which cannot reach the database
    either, does not break the key press; the cart stays, and F9 once the LAN is back issues."""
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    customer = _to_activation(pg_demo_url, clock)
    with LanCable(pg_demo_url) as cable:
        window = make_window(cable.url)
        station = _desk_with_cart(qtbot, window, monkeypatch)
        station._key()
        cable.cut()
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)
        qtbot.waitUntil(lambda: station.banner.tone == Tone.ERROR)
        assert "cannot be reached" in station.banner.headline.text()
        assert station.cart.lines == {"O401": 1, "O501": 1}
        assert _slips(pg_demo_url, customer) == 0
        cable.plug()
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)
        _wait_two_issued_and_printed(qtbot, station)  # while the LAN is in
        assert _slips(pg_demo_url, customer) == 2


def test_reception_with_a_full_spool_says_the_check_in_stands(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    small_disk: SmallDisk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(small_disk.path / "spool"))
    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    station = window.current_station()
    assert isinstance(station, ReceptionStation)
    small_disk.fill(0)
    qtbot.keyClicks(station.field, "6200000001")
    qtbot.keyClick(station.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: station.print_banner.tone == Tone.WARN)
    assert station.banner.tone == Tone.OK and "Checked in" in station.banner.headline.text()
    assert station.print_banner.headline.text() == "The PDF could not be saved"
    assert "disk is full" in station.print_banner.detail.text()
    assert str(small_disk.path) in station.print_banner.detail.text()
    assert list((small_disk.path / "spool").glob("*.pdf")) == []
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Visit)) == 1
    database.dispose()


def test_booth_on_a_full_disk_does_not_serve_then_enter_redeems_once(
    qtbot: QtBot,
    demo_db: Database,
    small_disk: SmallDisk,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kiosk.booth_laptop.booth import Booth
    from kiosk.booth_laptop.store import open_booth_database
    from ui.app import ensure_application
    from ui.theme import apply_theme

    (code,) = issue(demo_db, ["O101"])
    apply_theme(ensure_application(), False)
    booth = Booth(open_booth_database(small_disk.path / "booth.sqlite3"))
    booth.install(pack_bytes(demo_db))
    window = BoothWindow(booth, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel = window.panel
    assert panel is not None
    panel.staff.setText("李四")  # who serves today, typed once
    qtbot.keyClick(panel.staff, Qt.Key.Key_Return)  # Enter: the scan field has the keys
    assert window.disk_banner.isVisible() and str(small_disk.path) in window.disk_banner.text()
    monkeypatch.setattr(booth_ui, "CONFIRM_GUARD_S", 0.0)
    scan(qtbot, window, code)
    assert panel.banner.headline.text() == "Valid, NOT redeemed yet: press Enter to redeem"
    small_disk.fill(0)
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    assert panel.banner.tone == Tone.ERROR
    assert panel.banner.headline.text() == "Not redeemed: do not serve yet"
    assert "disk is full" in panel.banner.detail.text()
    assert "offline" not in panel.banner.detail.text().lower()
    assert panel.redeem_button.isVisible()  # Enter tries again
    small_disk.empty()
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    # The sign once, big, beside the words (issue #24): ✓ and "Redeemed: serve the customer".
    assert panel.banner.symbol.text() == "✓"
    assert panel.banner.headline.text() == "Redeemed: serve the customer"
    with booth.database.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(BoothRedemption)) == 1
    window.close()
    booth.database.dispose()


def test_dashboard_shows_each_stations_free_space(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
    clock: FixedClock,
) -> None:
    from kiosk.services.stations import report_station
    from kiosk.storage import SpaceReport, place_of

    database = open_database(demo_url)
    rm = staff_session(database.unit_of_work(), "RM001")
    report_station(
        database.unit_of_work(),
        rm,
        SpaceReport(120 * 1024 * 1024, place_of(Path("/"))),
        station="service_desk",
        host="desk-3",
        clock=clock,
    )
    database.dispose()
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")  # this laptop reports itself on sign-in
    window.switcher.setCurrentRow(
        next(
            i
            for i in range(window.switcher.count())
            if window.switcher.item(i).data(Qt.ItemDataRole.UserRole) == "dashboard"
        )
    )
    station = window.current_station()
    assert isinstance(station, DashboardStation)
    station.refresh()
    tile = station.tiles["disk"]
    assert tile.value.text() == "120 MB"  # desk-3 has the least
    assert "desk-3 120 MB" in tile.detail.text()
    assert len(station.spaces) == 2
    alerts = station.alerts.headline.text() + station.alerts.detail.text()
    assert "desk-3 (RM001): only 120 MB disk space left" in alerts
