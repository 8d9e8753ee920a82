"""The screen turned to the customer (issue #24, item 3), driven through the real window: it
follows the service desk's customer and their changes, the activation desk's cart (added up
against the customer's points, a shortfall said in words) and slips, masks everything, goes
back to the welcome on a lock, a sign-out or the customer leaving, and re-renders in the
language chosen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QDate, QSize, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QSpinBox, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.customer_view import CartSums, ChosenLine, CustomerView, SlipLine
from kiosk.db import open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.idcard import check_digit
from kiosk.models import (
    Customer,
    Invitation,
    MobileBanking,
    Preselection,
    Queue,
    Slip,
    SlipStatus,
)
from kiosk.services import reception
from kiosk.services.activation import CatalogOffer
from kiosk.services.auth import staff_session
from tests.points_support import drop_lots
from tests.ui.layout_support import fitted, keep_grab
from ui.customer_screen import (
    ACCENT,
    CONFIRM_PAPER,
    CONFIRM_TEXT,
    PAPER,
    SAVED_PAPER,
    SAVED_TEXT,
    SHORT_PAPER,
    SHORT_TEXT,
    TEXT,
    CustomerScreen,
    choose_screen,
)
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.activation import ActivationStation, Ask
from ui.stations.service_desk import ConfirmChanges, ServiceDeskStation
from ui.widgets import Tone

from .conftest import sign_in
from .wedge import type_like_a_person

pytestmark = pytest.mark.ui

NEW_PHONE = "13912345678"
FIRST17 = "44010619900101001"  # born 1990, male: issued at 36, valid 20 years
NEW_ID = FIRST17 + check_digit(FIRST17)


def _texts(screen: CustomerScreen) -> str:
    """Every label's text of the customer screen, as one string to search."""
    return "\n".join(label.text() for label in screen.findChildren(QLabel))


def _shown(screen: CustomerScreen) -> str:
    """The texts of the labels the customer can see now."""
    return "\n".join(label.text() for label in screen.findChildren(QLabel) if label.isVisible())


def _settle() -> None:
    """Labels of the last customer are deleted later: let Qt delete them."""
    for _ in range(3):
        QApplication.sendPostedEvents(None, 0)  # DeferredDelete included
        QApplication.processEvents()


def _assert_welcome(screen: CustomerScreen, event_name: str, *secrets: str) -> None:
    _settle()
    assert screen.pages.currentIndex() == 0
    assert screen.welcome_title.isVisible() and screen.wait_label.text()
    assert screen.event_label.text() == event_name
    texts = _texts(screen)
    for secret in secrets:
        assert secret not in texts, secret


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _assert_large_and_readable(screen: CustomerScreen, shot: str = "") -> None:
    """MIIT 2021: every text the customer reads at 18 pt or more, every colour on its paper
    at 7:1 or more; ``shot`` names the grabs kept at each size (``keep_grab``)."""
    for label in screen.findChildren(QLabel):
        if label.isVisible():
            assert label.font().pointSizeF() >= 18, (label.objectName(), label.text())
    # The single labels' rules apply (not outranked by the rule for all labels).
    names = [label for label in screen.findChildren(QLabel, "cs_name") if label.isVisible()]
    assert names and names[0].font().pointSizeF() == 40
    assert names[0].palette().color(names[0].foregroundRole()).name() == ACCENT
    for text, paper in (
        (TEXT, PAPER),
        (ACCENT, PAPER),
        (CONFIRM_TEXT, CONFIRM_PAPER),
        (SAVED_TEXT, SAVED_PAPER),
        (SHORT_TEXT, SHORT_PAPER),
    ):
        assert _contrast(text, paper) >= 7, (text, paper)
    # Full screen on a second monitor of either size: nothing cut, nothing on top of another.
    for room in (QSize(1366, 768), QSize(1920, 1080)):
        assert fitted(screen, room) == [], room
        if shot:
            keep_grab(screen, f"{shot}-{room.width()}x{room.height()}")


def _expired_without_mobile(url: str, clock: FixedClock) -> tuple[int, str, str]:
    """Check in a customer whose ID expired: (id, their RM, their full name)."""
    database = open_database(url)
    with database.unit_of_work() as uow:
        customer = next(
            c
            for c in uow.session.scalars(select(Customer).order_by(Customer.id))
            if c.id_valid_to
            and c.id_valid_to < date(2026, 11, 28)
            and c.mobile_banking == MobileBanking.NONE
            and c.rm is not None
            and len(c.name) >= 2
        )
        found = customer.id, customer.rm.staff_no, customer.name  # type: ignore[union-attr]
    staff = staff_session(database.unit_of_work(), "R001")
    reception.check_in(database.unit_of_work(), found[0], staff, clock=clock)
    database.dispose()
    return found


def _type(qtbot: QtBot, widget: QLineEdit, text: str) -> None:
    """Into a field as staff type from the customer's card: a key every 110 ms."""
    widget.setFocus()
    widget.selectAll()
    type_like_a_person(qtbot, widget, text, enter=False)


def test_the_customer_sees_their_masked_changes_at_the_service_desk(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id, rm_no, full_name = _expired_without_mobile(any_demo_url, clock)
    window = make_window(any_demo_url)
    assert window.overview is not None
    event = window.overview.name
    screen = window.open_customer_screen()  # as at the start with a second monitor
    assert screen is window.customer_screen and screen.isVisible()
    _assert_welcome(screen, event)
    assert screen.wait_label.text() == "Please wait a moment"

    sign_in(qtbot, window, rm_no, "1234")
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation)
    _assert_welcome(screen, event)  # nobody called yet
    qtbot.keyClick(station.call_button, Qt.Key.Key_F5)
    assert station.called is not None and station.called.customer_id == customer_id
    masked = station.called.masked_name
    assert masked.startswith(full_name[0]) and "*" in masked
    _settle()
    shown = _shown(screen)
    assert f"Hello, {masked}" in shown
    assert f"Ticket {station.called.ticket}" in shown
    assert "Points to spend: " in shown  # read with the form (kiosk.services.desk)
    assert station.points is not None and f"{station.points:,}" in shown

    # The language switched mid-flow: the same customer, in Chinese, then back.
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    _settle()
    assert f"{masked}，您好" in _shown(screen) and "可用积分" in _shown(screen)
    window.language.setCurrentIndex(window.language.findData("en"))
    _settle()
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation) and station.called is not None
    assert f"Hello, {masked}" in _shown(screen)

    # Typed from the customer's phone and card at a person's pace: the summary follows.
    phone = station.inputs["phone"]
    assert isinstance(phone, QLineEdit)
    _type(qtbot, phone, NEW_PHONE)
    _settle()
    shown = _shown(screen)
    assert "Your details" in shown and "Mobile phone" in shown
    assert "→ 139****5678" in shown
    number = station.inputs["id_number"]
    assert isinstance(number, QLineEdit)
    _type(qtbot, number, NEW_ID)
    _settle()
    assert f"→ {NEW_ID[:6]}********{NEW_ID[-4:]}" in _shown(screen)
    station.inputs["gender"].setCurrentIndex(station.inputs["gender"].findData("M"))  # type: ignore[attr-defined]
    station.inputs["id_valid_from"].setDate(QDate(2026, 11, 20))  # type: ignore[attr-defined]
    station.inputs["id_valid_to"].setDate(QDate(2046, 11, 20))  # type: ignore[attr-defined]
    station.inputs["id_long_term"].setChecked(False)  # type: ignore[attr-defined]
    for field, value in (("occupation_code", "2"), ("tax_residency", "CN")):
        box = station.inputs[field]
        box.setCurrentIndex(box.findData(value))  # type: ignore[attr-defined]
    address = station.inputs["address"]
    assert isinstance(address, QLineEdit)
    if len(address.text()) < 5:
        _type(qtbot, address, "广州市天河区天河路 1 号")
    _settle()
    texts = _texts(screen)
    for secret in (NEW_PHONE, NEW_ID, FIRST17, full_name, "19900101", "天河路 1 号"):
        assert secret not in texts, secret  # never whole, visible or not
    _assert_large_and_readable(screen)

    # Saving asks the customer to confirm: the screen marks the summary for them to check.
    asked: list[str] = []

    def confirm(cls: type, parent: object, rows: list[tuple[str, str, str]]) -> bool:
        _settle()
        asked.append(_shown(screen))
        return True

    monkeypatch.setattr(ConfirmChanges, "ask", classmethod(confirm))
    station.save_button.setFocus()
    station.save_button.click()
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    assert "Please check these changes and tell the staff" in asked[0]
    assert "→ 139****5678" in asked[0]
    _settle()
    shown = _shown(screen)
    assert "✓ Saved: " in shown and "Please check" not in shown
    assert "→ 139****5678" not in shown  # on record now: nothing pending

    # The idle lock: the welcome at once, nothing of the customer; back after the PIN.
    window.lock()
    _assert_welcome(screen, event, masked, "139****5678", station.called.ticket)
    lock = window.lock_page
    assert lock is not None
    qtbot.keyClicks(lock.pin, "1234")
    qtbot.keyClick(lock.pin, Qt.Key.Key_Return)
    _settle()
    assert f"Hello, {masked}" in _shown(screen)

    # Routed on (F9): the customer left the desk, the welcome again.
    qtbot.keyClick(station.call_button, Qt.Key.Key_F9)
    assert station.called is None
    _assert_welcome(screen, event, masked)

    # Signed out with a customer called: the welcome, with nothing of them.
    qtbot.keyClick(station.call_button, Qt.Key.Key_F5)  # nobody waiting: still the welcome
    _assert_welcome(screen, event, masked)
    window.sign_out()
    _assert_welcome(screen, event, masked)
    assert window.customer_screen is screen and screen.isVisible()  # the window keeps it


def _customer_for_activation(url: str, clock: FixedClock) -> tuple[int, str]:
    """A customer with pre-selected services, mobile banking and 40,000 points, waiting for
    activation: (id, full name)."""
    database = open_database(url)
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        s = uow.session
        customer_id = s.scalar(
            select(Invitation.customer_id)
            .join(Preselection, Preselection.invitation_id == Invitation.id)
            .order_by(Invitation.customer_id)
            .limit(1)
        )
        s.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(mobile_banking=MobileBanking.OPENED, points_balance=40_000)
        )
        drop_lots(s, Customer.id == customer_id)
        name = s.scalar(select(Customer.name).where(Customer.id == customer_id))
        uow.commit()
    assert customer_id is not None and name
    staff = staff_session(database.unit_of_work(), "R001")
    reception.check_in(
        database.unit_of_work(), customer_id, staff, route=Queue.ACTIVATION, clock=clock
    )
    database.dispose()
    return customer_id, name


def _press(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> None:
    qtbot.keyClick(window.focusWidget() or window, key)


def _sum_shown(screen: CustomerScreen, name: str) -> str | None:
    """The text of the sum's label of that name the customer sees, or None."""
    found = [label for label in screen.findChildren(QLabel, name) if label.isVisible()]
    assert len(found) <= 1, name
    return found[0].text() if found else None


def _assert_sums(screen: CustomerScreen, total: int, balance: int) -> None:
    """The chosen services added up on the screen: their points, the total and what is left,
    or, over their points, the sentence with what is missing instead of a figure left."""
    _settle()
    assert _sum_shown(screen, "cs_sum_balance") == "Your points"
    assert _sum_shown(screen, "cs_sum_balance_figure") == f"{balance:,} points"
    assert _sum_shown(screen, "cs_sum_total") == "Total of these services"
    assert _sum_shown(screen, "cs_sum_total_figure") == f"{total:,} points"
    shown = _shown(screen)
    if total <= balance:
        assert _sum_shown(screen, "cs_sum_left") == "Left after the slips"
        assert _sum_shown(screen, "cs_sum_left_figure") == f"{balance - total:,} points"
        assert "Not enough points" not in shown
    else:
        assert _sum_shown(screen, "cs_sum_left") is None
        assert _sum_shown(screen, "cs_sum_left_figure") is None
        short = [label for label in screen.findChildren(QLabel, "cs_state") if label.isVisible()]
        assert [label.text() for label in short] == [
            f"Not enough points: {total - balance:,} short"
        ]
        assert short[0].property("state") == "short"
        assert short[0].font().bold() and short[0].font().pointSizeF() >= 24


def _catalog_row(station: ActivationStation, code: str) -> QTreeWidgetItem:
    """The service's row in the catalog as the desk shows it now."""
    tree = station.catalog
    for g in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(g)
        for c in range(group.childCount()):
            if group.child(c).data(0, Qt.ItemDataRole.UserRole) == code:
                return group.child(c)
    raise AssertionError(code)


def _two_services(station: ActivationStation) -> tuple[CatalogOffer, CatalogOffer]:
    """Two services of different prices that staff may put in the cart now (three of the
    first), the cheapest first, from the rows the catalog shows."""
    tree = station.catalog
    codes = [
        tree.topLevelItem(g).child(c).data(0, Qt.ItemDataRole.UserRole)
        for g in range(tree.topLevelItemCount())
        for c in range(tree.topLevelItem(g).childCount())
    ]
    customer = station.customer
    assert customer is not None
    can_add = sorted(
        (
            station.offers[code]
            for code in dict.fromkeys(codes)
            if code in station.offers
            and not station.catalog_panel.why_not(code, station.cart, customer.balance)
            and station.offers[code].remaining >= 3
        ),
        key=lambda offer: offer.points_price,
    )
    first = can_add[0]
    second = next(o for o in can_add if o.points_price != first.points_price)
    return first, second


def _quantity(qtbot: QtBot, station: ActivationStation, code: str, n: int) -> None:
    """The cart line's quantity box set to ``n``, as staff turn it."""
    table = station.cart_table
    boxes = [table.cellWidget(r, 1) for r in range(table.rowCount())]
    spin = next(b for b in boxes if isinstance(b, QSpinBox) and b.objectName() == f"qty_{code}")
    spin.setValue(n)
    assert station.cart.lines.get(code) == n
    # The desk rebuilds the cart's table (and tells the screen) once the box's signal is over.
    qtbot.waitUntil(
        lambda: all(table.cellWidget(r, 1) is not spin for r in range(table.rowCount()))
    )


def test_the_customer_sees_each_slip_and_its_points_at_activation(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PRINT_COMMAND", raising=False)
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    monkeypatch.setattr(Ask, "passphrase", staticmethod(lambda parent, demo: DEMO_PASSPHRASE))
    customer_id, full_name = _customer_for_activation(any_demo_url, clock)
    window = make_window(any_demo_url)
    assert window.overview is not None
    event = window.overview.name
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    assert window.customer_screen is None  # one monitor: opened by staff, under the stations
    assert window.customer_screen_button.isVisible()
    window.customer_screen_button.click()
    screen = window.customer_screen
    assert screen is not None and screen.isVisible()
    _assert_welcome(screen, event)

    _press(qtbot, window, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == customer_id
    masked = station.customer.masked_name
    _settle()
    shown = _shown(screen)
    assert f"Hello, {masked}" in shown and "Points to spend: 40,000" in shown
    assert "Chosen for you" in shown  # the invitation's choices, with their points
    for code, quantity in station.cart.lines.items():
        offer = station.offers[code]
        assert f"{offer.name} × {quantity}: {offer.points_price * quantity:,} points" in shown

    _assert_sums(screen, station.cart.total(station.offers), 40_000)  # the invitation's

    for key in (Qt.Key.Key_F6, Qt.Key.Key_F7, Qt.Key.Key_F8):  # the activation steps
        _press(qtbot, window, key)
        assert station.banner.tone == Tone.OK, station.banner.headline.text()
    station.empty_cart()
    _settle()
    shown = _shown(screen)
    assert "Chosen for you" not in shown and "Total of these services" not in shown

    # Two services put in from the catalog, a quantity changed in the cart's own box: the
    # screen adds them up against the customer's points as the desk does.
    first, second = _two_services(station)
    for offer in (first, second):
        station.catalog.setCurrentItem(_catalog_row(station, offer.code))
        station.add_button.click()
    assert station.cart.lines == {first.code: 1, second.code: 1}
    _quantity(qtbot, station, first.code, 3)
    total = first.points_price * 3 + second.points_price
    assert total <= 40_000
    _settle()
    shown = _shown(screen)
    for offer, n in ((first, 3), (second, 1)):
        assert f"{offer.name} × {n}: {offer.points_price * n:,} points" in shown
    _assert_sums(screen, total, 40_000)
    assert f"Total {total:,} points · {40_000 - total:,} left" in station.cart_total.text()
    _assert_large_and_readable(screen, "customer-screen-cart")

    # More than their points: said in words, how many are missing, and no figure left.
    over = 40_000 // second.points_price + 1
    _quantity(qtbot, station, second.code, over)
    total = first.points_price * 3 + second.points_price * over
    _settle()
    _assert_sums(screen, total, 40_000)
    assert not station.issue_button.isEnabled()  # the desk cannot issue it either
    staff = station.context.staff
    assert staff is not None
    texts = _texts(screen)
    assert full_name not in texts and staff.name not in texts and staff.staff_no not in texts
    _assert_large_and_readable(screen, "customer-screen-short")  # the sentence fits too
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    _settle()
    zh = _shown(screen)
    assert f"积分不足：还差 {total - 40_000:,} 分" in zh and "本次合计" in zh, zh
    _assert_large_and_readable(screen, "customer-screen-short-zh")
    window.language.setCurrentIndex(window.language.findData("en"))
    _settle()
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    assert f"Not enough points: {total - 40_000:,} short" in _shown(screen)
    station.empty_cart()
    _settle()
    shown = _shown(screen)
    assert "Chosen for you" not in shown and "Not enough points" not in shown
    cheap = next(o for o in station.offers.values() if o.points_price <= 5_000)
    station.cart.add(cheap.code, 2)
    station.refresh_cart()
    _press(qtbot, window, Qt.Key.Key_F9)  # issue
    qtbot.waitUntil(lambda: station.slip_table.rowCount() == 1)
    _settle()

    database = open_database(any_demo_url)
    with database.unit_of_work() as uow:
        slip = uow.session.scalars(select(Slip).where(Slip.customer_id == customer_id)).one()
        serial, points = slip.serial, slip.points
        assert slip.status == SlipStatus.ISSUED
    database.dispose()
    assert points == cheap.points_price * 2
    shown = _shown(screen)
    assert "Your slips" in shown
    assert f"No. {serial:06d}  {cheap.name} × 2: {points:,} points" in shown
    assert f"1 slip, {points:,} points in all" in shown
    assert f"Points to spend: {40_000 - points:,}" in shown
    assert "Chosen for you" not in shown  # issued: the cart is empty
    assert "Total of these services" not in shown and "Left after the slips" not in shown
    assert full_name not in _texts(screen)
    _assert_large_and_readable(screen)

    # The language switched with the customer at the desk: re-rendered, then back.
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    _settle()
    assert screen is window.customer_screen and screen.isVisible()
    zh = _shown(screen)
    assert f"{masked}，您好" in zh and f"{points:,} 积分" in zh, zh
    window.language.setCurrentIndex(window.language.findData("en"))
    _settle()
    assert f"No. {serial:06d}  {cheap.name} × 2: {points:,} points" in _shown(screen)

    # Another station: the welcome at once; back at the desk: the customer again.
    row = next(
        i
        for i in range(window.switcher.count())
        if window.switcher.item(i).data(Qt.ItemDataRole.UserRole) != station.station
    )
    window.switcher.setCurrentRow(row)
    _assert_welcome(screen, event, masked, cheap.name)
    desk_row = next(
        i
        for i in range(window.switcher.count())
        if window.switcher.item(i).data(Qt.ItemDataRole.UserRole) == station.station
    )
    window.switcher.setCurrentRow(desk_row)
    _settle()
    assert f"Hello, {masked}" in _shown(screen)

    window.sign_out_button.click()
    _assert_welcome(screen, event, masked, cheap.name, f"{serial:06d}")


def test_the_second_monitor_is_the_customers(settings: Settings) -> None:
    """Which monitor: another than the staff's, the one the settings name, or a window."""
    staff, hall, side = (SimpleNamespace(name=n) for n in ("staff", "hall", "side"))
    screens = [staff, hall, side]
    assert settings.customer_screen == "auto" and settings.customer_screen_number == 0
    assert choose_screen(screens, staff, settings) is hall  # type: ignore[arg-type]
    assert choose_screen([staff], staff, settings) is None  # type: ignore[list-item]
    settings.customer_screen_number = 3
    assert choose_screen(screens, staff, settings) is side  # type: ignore[arg-type]
    settings.customer_screen_number = 1  # the staff's own: never over their work
    assert choose_screen(screens, staff, settings) is hall  # type: ignore[arg-type]
    settings.customer_screen = "window"
    assert choose_screen(screens, staff, settings) is None  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        settings.customer_screen = "projector"


def test_off_hides_the_button(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str, settings: Settings
) -> None:
    settings.customer_screen = "off"
    window = make_window(demo_url)
    sign_in(qtbot, window, "A001", "1234")
    assert window.switcher.isVisible() and not window.customer_screen_button.isVisible()
    assert window.customer_screen is None


# The real window on two monitors: Qt's offscreen platform given two screens.
_TWO_MONITORS = """
import json, sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from kiosk.clock import FixedClock
from kiosk.db import open_database
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.language import apply_language
from ui.settings import Settings
from datetime import UTC, datetime

url, ini, number = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = QApplication([])
apply_language("en")
settings = Settings(QSettings(ini, QSettings.Format.IniFormat))
settings.language = "en"
settings.customer_screen_number = number
database = open_database(url)
clock = FixedClock(datetime(2026, 11, 28, 1, tzinfo=UTC))
window = MainWindow(AppContext(database, clock), settings)
window.show()
app.processEvents()
screen = window.customer_screen
print(json.dumps({
    "opened": screen is not None and screen.isVisible(),
    "full": screen is not None and screen.isFullScreen(),
    "screens": [s.name() for s in app.screens()],
    "staff": window.screen().name(),
    "customer": screen.screen().name() if screen is not None else None,
    "geometry": list(screen.geometry().getRect()) if screen is not None else None,
    "welcome": screen.welcome_title.text() if screen is not None else None,
}))
window.close()
database.dispose()
"""


@pytest.mark.parametrize("number", [0, 3])
def test_a_second_monitor_shows_the_customer_screen_full_screen(
    demo_url: str, tmp_path: Path, number: int
) -> None:
    """At start, with more monitors than one: the customer screen fills one that is not the
    staff's (0: the first such; 3: the third, as the settings name it)."""
    import json
    import os
    import subprocess
    import sys

    screens = tmp_path / "screens.json"
    monitor = {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    screens.write_text(
        json.dumps(
            {
                "screens": [
                    {"name": "desk", "x": 0, "y": 0, "width": 1366, "height": 768, **monitor},
                    {"name": "hall", "x": 1366, "y": 0, "width": 1920, "height": 1080, **monitor},
                    {"name": "side", "x": 3286, "y": 0, "width": 1024, "height": 768, **monitor},
                ]
            }
        )
    )
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screens}"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", _TWO_MONITORS, demo_url, str(tmp_path / "s.ini"), str(number)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["opened"] and seen["full"], seen
    assert seen["customer"] != seen["staff"], seen
    if number:
        assert seen["customer"] == seen["screens"][number - 1], seen
    else:
        others = [name for name in seen["screens"] if name != seen["staff"]]
        assert seen["customer"] == others[0], seen
    expected = {
        "desk": [0, 0, 1366, 768],
        "hall": [1366, 0, 1920, 1080],
        "side": [3286, 0, 1024, 768],
    }[seen["customer"]]
    assert seen["geometry"] == expected
    assert seen["welcome"] == "Welcome"


def _long_view(chosen: int, slips: int) -> CustomerView:
    """A customer with ``chosen`` services in the cart and ``slips`` slips issued earlier
    (one long service name among them, which wraps)."""
    names = ["广州地铁集团有限公司 一日票（含机场快线）", "星巴克 中杯拿铁", "屈臣氏 50 元代金券"]
    lines = tuple(ChosenLine(names[i % 3], 1 + i % 2, 5_000 * (1 + i % 2)) for i in range(chosen))
    issued = tuple(SlipLine(500 + i, names[(i + 1) % 3], "M01", 1, 4_000) for i in range(slips))
    total = sum(line.points for line in lines)
    return CustomerView(
        "王*军",
        ticket="J012",
        points=60_000,
        chosen=lines,
        sums=CartSums(total, 60_000),
        slips=issued,
    )


def _content_fits(screen: CustomerScreen) -> bool:
    """The customer's page needs no scrolling: they cannot scroll it."""
    viewport = screen._scroll.viewport()
    return screen.customer.height() <= viewport.height() + 1


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_long_cart_and_many_slips_stay_on_the_screen(
    qtbot: QtBot, settings: Settings, language: str
) -> None:
    """The cart of a customer who already holds many slips, on a 1366×768 or 1920×1080
    monitor: side by side, nothing below the screen's edge. The oldest slips are left out
    first, then the last services of the cart, each said in words; the totals still count
    everything; the newest slip and the sums stay. Fewer lines: everything listed."""
    from kiosk.i18n import set_language

    set_language(language)
    screen = CustomerScreen(settings)
    qtbot.addWidget(screen)
    screen.show()
    view = _long_view(chosen=10, slips=12)
    newest = f"{511:06d}"
    for room in (QSize(1366, 768), QSize(1920, 1080), QSize(1366, 768)):
        screen.show_view(view, "尊享积分兑换日")
        screen.resize(room)
        _settle()
        assert _content_fits(screen), room
        shown = _shown(screen)
        assert newest in shown  # the slip just issued
        assert ("12 张" if language == "zh_CN" else "12 slips, 48,000 points in all") in shown
        hidden_slips = sum(label.isHidden() for label in screen._slip_lines)
        hidden_chosen = sum(label.isHidden() for label in screen._chosen_lines)
        if room.height() == 768:  # this much does not fit the laptop's screen
            assert hidden_slips and hidden_chosen, room
        if hidden_slips:
            more = "较早的兑换券未列出" if language == "zh_CN" else "earlier slips, not listed"
            assert f"{hidden_slips} " in shown and more in shown
            oldest = [label for label in screen._slip_lines if label.isHidden()]
            assert oldest == screen._slip_lines[:hidden_slips]  # the oldest go first
        if hidden_chosen:
            more = "项服务，已计入下方合计" if language == "zh_CN" else "more services"
            assert more in shown
        total = 5_000 * 5 + 10_000 * 5
        assert f"{total:,}" in shown and f"{total - 60_000:,}" in shown  # the whole cart
        assert fitted(screen, room) == [], room
        for label in screen.findChildren(QLabel):
            if label.isVisible():
                assert label.font().pointSizeF() >= 18, label.text()
        keep_grab(screen, f"customer-screen-long-{language}-{room.width()}x{room.height()}")
    # A short cart and a few slips: all of them listed, no "more" line.
    screen.show_view(_long_view(chosen=3, slips=2), "尊享积分兑换日")
    _settle()
    assert _content_fits(screen)
    assert not any(label.isHidden() for label in (*screen._slip_lines, *screen._chosen_lines))
    assert all(
        label is None or label.isHidden() for label in (screen._chosen_more, screen._slips_more)
    )
