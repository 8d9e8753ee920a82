"""The activation desk opens on the customer's short list at their tier's prices (issue #19):
"少即是多" — the bank's review found customers lost before a long catalog. Driven like staff
would: the customer scanned in at scanner speed, F3 for every service and back, a grey service
refused in words, a language switch in the middle, issuing from the short list; after each
step the database says the slip charged what the screen showed, the tier's quota was claimed
and the lots that expire first were spent."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import (
    Customer,
    EventTier,
    Invitation,
    JournalLot,
    MobileBanking,
    Offer,
    OfferTier,
    PointsLot,
    Queue,
    Slip,
    SlipStatus,
    TimeSlot,
)
from kiosk.points import LotInput, lot_balances, set_lots
from kiosk.services import reception
from kiosk.services.auth import staff_session
from kiosk.services.events import current_event
from tests.conftest import DEMO_DATE
from tests.gate_support import make_ready
from tests.points_support import drop_lots, drop_tiers
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.activation import ActivationStation, Ask
from ui.theme import MUTED
from ui.widgets import Tone

from .conftest import sign_in
from .test_one_read import statements
from .wedge import scanner_burst

pytestmark = pytest.mark.ui

CUSTOMER_NO = "6200000001"  # pre-selected O401 (car wash, 1,500) with the invitation
LOTS = [
    LotInput("A", 3_000, date(2027, 1, 31)),  # expires first
    LotInput("B", 10_000, date(2027, 6, 30)),
    LotInput("C", 7_000, None),
]
SHOTS = os.environ.get("KIOSK_SHOTS_DIR", "")  # set to keep the screenshots for a person


def _gold_customer(url: str, clock: FixedClock) -> int:
    """A 金卡 customer (AUM 100,000 yuan; floor 50,000) with 20,000 points in three lots:
    O101 costs them 8,000 (its own price 12,000, 20 places for 金卡), O601's two 金卡 places
    are taken, O501 costs them 1,500. Checked in for activation, the gate open."""
    database = open_database(url)
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup: bands and lots
        s = uow.session
        event = current_event(s)
        drop_tiers(s)  # the demo's own tiers, if any: these tests set theirs
        s.add_all(
            [
                EventTier(event_id=event.id, code="GOLD", name="金卡", aum_floor=50_000),
                EventTier(event_id=event.id, code="DIAMOND", name="钻石", aum_floor=3_000_000),
            ]
        )
        offers = {o.code: o for o in s.scalars(select(Offer))}
        s.add_all(
            [
                OfferTier(
                    offer_id=offers["O101"].id, tier_code="GOLD", points_price=8_000, quota=20
                ),
                OfferTier(offer_id=offers["O101"].id, tier_code="DIAMOND", points_price=6_000),
                OfferTier(offer_id=offers["O601"].id, tier_code="GOLD", quota=2, reserved=2),
                OfferTier(offer_id=offers["O501"].id, tier_code="GOLD", points_price=1_500),
            ]
        )
        customer = s.scalar(select(Customer).where(Customer.customer_no == CUSTOMER_NO))
        assert customer is not None
        drop_lots(s, Customer.id == customer.id)  # the demo's lots: these are the ones
        set_lots(s, customer, LOTS)
        customer.aum = 100_000
        customer_id = customer.id
        s.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(mobile_banking=MobileBanking.OPENED)
        )
        uow.commit()
    make_ready(database, customer_id)
    staff = staff_session(database.unit_of_work(), "R001")
    reception.check_in(
        database.unit_of_work(), customer_id, staff, route=Queue.ACTIVATION, clock=clock
    )
    database.dispose()
    return customer_id


def _rows(station: ActivationStation) -> dict[str, QTreeWidgetItem]:
    """The catalog's rows as shown, by offer code."""
    rows = {}
    for g in range(station.catalog.topLevelItemCount()):
        group = station.catalog.topLevelItem(g)
        for c in range(group.childCount()):
            item = group.child(c)
            code = item.data(0, Qt.ItemDataRole.UserRole)
            if code:
                rows[code] = item
    return rows


def _grey(item: QTreeWidgetItem) -> bool:
    return item.foreground(0).color().name() == MUTED


def _facts(database: Database, customer_id: int) -> dict[str, object]:
    """What the database holds about the customer's slips, the tier quota and their lots."""
    with database.unit_of_work() as uow:
        s = uow.session
        slips = s.execute(
            select(Offer.code, Slip.points, Slip.tier)
            .join(Offer, Offer.id == Slip.offer_id)
            .where(Slip.customer_id == customer_id, Slip.status != SlipStatus.VOIDED)
            .order_by(Slip.serial)
        ).all()
        reserved = s.scalar(
            select(OfferTier.reserved)
            .join(Offer, Offer.id == OfferTier.offer_id)
            .where(Offer.code == "O101", OfferTier.tier_code == "GOLD")
        )
        taken = s.execute(
            select(PointsLot.ref, JournalLot.points)
            .join(PointsLot, PointsLot.id == JournalLot.lot_id)
            .where(PointsLot.customer_id == customer_id)
            .order_by(JournalLot.id)
        ).all()
        customer = s.get(Customer, customer_id)
        assert customer is not None
        left = {lot.ref: lot.left for lot in lot_balances(s, customer, DEMO_DATE)}
    return {
        "slips": [tuple(row) for row in slips],
        "reserved": reserved,
        "taken": [tuple(row) for row in taken],
        "left": left,
    }


def _shot(window: MainWindow, tmp_path: Path, name: str) -> Path:
    QApplication.processEvents()
    path = Path(SHOTS or tmp_path) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(path))
    return path


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_the_desk_opens_on_the_customers_short_list_at_their_price(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    settings: Settings,
    large: bool,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PRINT_COMMAND", raising=False)
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    monkeypatch.setattr(Ask, "passphrase", staticmethod(lambda parent, demo: DEMO_PASSPHRASE))
    customer_id = _gold_customer(any_demo_url, clock)
    database = open_database(any_demo_url)
    settings.large_print = large
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "A001", "1234")
    # The hidden sign-in page (the database's path on one line, pytest's temp path longer
    # than a venue's) would hold the window wider than the laptop: the desk alone counts
    # (its own minimum is checked below), so the window is let down to 1366 px.
    window.setMinimumSize(800, 600)
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1366, 768))
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    qtbot.waitUntil(station.isVisible)

    # No customer: the plain catalog at the offers' own prices, no view key.
    assert not station.catalog_panel.showing_short and not station.view_button.isEnabled()

    def price(points: str) -> str:
        """Large print has no column titles: each price says "points" itself."""
        return f"{points} points" if large else points

    assert _rows(station)["O101"].text(1) == price("12,000")
    assert len(_rows(station)) == 15

    # The customer's number at scanner speed calls them here; the desk opens on their short
    # list: what they chose first, then what their (soon-expiring) points cover.
    scanner_burst(qtbot, station.scan, CUSTOMER_NO)
    assert station.customer is not None and station.customer.customer_id == customer_id
    assert station.customer.balance == 20_000
    assert " · 金卡 · 20,000 points to spend" in station.header.text()  # the tier that prices
    assert station.cart.lines == {"O401": 1}
    panel = station.catalog_panel
    assert panel.showing_short
    rows = _rows(station)
    assert 3 <= len(rows) <= 5 and next(iter(rows)) == "O401"
    assert list(rows) == [o.code for o in panel.mine.short]  # type: ignore[union-attr]
    assert station.catalog.topLevelItem(0).text(0) == "Recommended for you"
    assert panel.title.text() == f"{len(rows)} of 15 services"
    if large:  # no title row: the catalog's tab says it
        assert station.lists is not None and not panel.title.isVisible()
        assert station.lists.tabText(0) == f"Catalog · {len(rows)} of 15 services"
    assert station.view_button.text() == "All services (F3)" and station.view_button.isEnabled()
    o101 = rows["O101"]
    assert o101.text(1) == price("8,000") and not _grey(o101)  # the 金卡 price, not 12,000
    # 20,000 - 1,500 in the cart - 8,000
    assert o101.text(3) == ("After: 10,500 points" if large else "10,500 points left after")
    assert "12,000" in o101.toolTip(1) and "金卡" in o101.toolTip(1)
    assert rows["O401"].text(3) == "In cart ×1"
    assert station.cart_total.text() == "Total 1,500 points · 18,500 left after the slips"
    assert station.catalog.isColumnHidden(4)  # the category makes room for the customer's
    _shot(window, tmp_path, f"desk-short-{'large' if large else 'normal'}")
    assert (window.width(), window.height()) == (1366, 768)
    desk = window.switcher.parentWidget()  # the switcher and the station
    assert desk.minimumSizeHint().width() <= 1366, desk.minimumSizeHint()
    # What is left after (or why not) goes under the service's name: a column of its own
    # squeezed the name to "基…" at 1366 px, in normal print too.
    assert station.catalog.isColumnHidden(3)
    assert o101.text(0) == "基础体检套餐\n" + (
        "After: 10,500 points" if large else "10,500 points left after"
    )

    # F3: every service, grey what they cannot take, with the reason (nothing read again).
    with statements(window) as seen:
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F3)
    assert seen == []
    assert not panel.showing_short
    rows = _rows(station)
    assert len(rows) == 15 and rows["O101"].text(1) == price("8,000")
    assert station.view_button.text() == "Recommended (F3)"
    assert panel.title.text() == "All 15 services"
    o601 = rows["O601"]
    assert _grey(o601) and o601.text(3) == "No places left for 金卡 customers"
    assert _grey(rows["O202"]) and rows["O202"].text(3) == "26,500 points short"
    assert rows["O501"].text(1) == price("1,500") and not _grey(rows["O501"])
    _shot(window, tmp_path, f"desk-all-{'large' if large else 'normal'}")

    # A grey service refuses to go in the cart, in words.
    station.catalog.setCurrentItem(o601)
    station.catalog.setFocus()
    qtbot.keyClick(station.catalog, Qt.Key.Key_Return)
    assert station.cart.lines == {"O401": 1}
    assert station.banner.tone == Tone.WARN
    assert station.banner.headline.text() == (
        "自助午餐一位 cannot be added: No places left for 金卡 customers."
    )

    # A language switch in the middle keeps the view (all services) and the cart.
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    qtbot.waitUntil(station.isVisible)
    panel = station.catalog_panel
    assert not panel.showing_short and station.cart.lines == {"O401": 1}
    rows = _rows(station)
    assert len(rows) == 15
    assert rows["O601"].text(3) == "金卡客户名额已用完"
    assert rows["O202"].text(3) == "积分差 26,500 分"
    assert station.view_button.text() == "推荐 (F3)"
    _shot(window, tmp_path, f"desk-all-zh-{'large' if large else 'normal'}")

    # F3 back: the short list, in Chinese.
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F3)
    assert panel.showing_short
    rows = _rows(station)
    assert station.catalog.topLevelItem(0).text(0) == "为您推荐"
    assert rows["O101"].text(3) == ("兑换后 10,500 分" if large else "兑换后剩余 10,500 分")
    assert station.view_button.text() == "全部服务 (F3)"
    _shot(window, tmp_path, f"desk-short-zh-{'large' if large else 'normal'}")
    assert _facts(database, customer_id)["slips"] == []  # nothing issued yet

    # Enter on the recommendation puts it in the cart at the customer's price.
    station.catalog.setCurrentItem(rows["O101"])
    station.catalog.setFocus()
    qtbot.keyClick(station.catalog, Qt.Key.Key_Return)
    assert station.cart.lines == {"O401": 1, "O101": 1}
    assert station.cart_total.text().startswith("合计 9,500 积分")
    assert _rows(station)["O101"].text(3) == "已在购物车 ×1"

    # F9 from the short list: the slips charge what the screen said, the 金卡 place is
    # claimed, and the lot expiring first is spent first.
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: station.slip_table.rowCount() == 2)
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    facts = _facts(database, customer_id)
    assert facts["slips"] == [("O401", 1_500, "GOLD"), ("O101", 8_000, "GOLD")]
    assert facts["reserved"] == 1
    # O401's 1,500 and 1,500 of O101 from lot A (expires first), the rest of O101 from B.
    assert facts["taken"] == [("A", 1_500), ("A", 1_500), ("B", 6_500)]
    assert facts["left"] == {"A": 0, "B": 3_500, "C": 7_000}
    assert station.customer is not None and station.customer.balance == 10_500

    # What is left now: the screen follows the database.
    rows = _rows(station)
    assert station.catalog_panel.showing_short
    assert all(not _grey(rows[c]) or rows[c].text(3) for c in rows)
    if "O101" in rows:
        assert rows["O101"].text(3).endswith("2,500 分")
    assert not station.cart
    database.dispose()


def test_a_customer_below_every_tier_sees_the_plain_prices(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tiers defined, but this customer's AUM reaches no floor: the offers' own prices, and
    no tier's quota stops them."""
    customer_id = _gold_customer(any_demo_url, clock)
    database = open_database(any_demo_url)
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        uow.session.execute(update(Customer).where(Customer.id == customer_id).values(aum=10_000))
        uow.commit()
    database.dispose()
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    qtbot.keyClick(station, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == customer_id
    qtbot.keyClick(station, Qt.Key.Key_F3)
    rows = _rows(station)
    assert rows["O101"].text(1) == "12,000" and rows["O101"].toolTip(1) == ""
    assert not _grey(rows["O601"]) and rows["O601"].text(3) == "14,500 points left after"
    # F10 (finished): nobody at the desk, the plain catalog, the view key off.
    monkeypatch.setattr(Ask, "confirm_leave", staticmethod(lambda parent: True))
    qtbot.keyClick(station, Qt.Key.Key_F10)
    assert station.customer is None and not station.view_button.isEnabled()
    assert not station.catalog.isColumnHidden(0) and station.catalog.isColumnHidden(3)


def test_a_themed_sessions_customer_sees_its_services_and_why(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    settings: Settings,
) -> None:
    """The customer's slot has a theme (洗车观影专场: car and cinema): the desk's catalog holds
    its services only and its title names the session, in Chinese, so the staff know why the
    list is short; a language switch keeps it named."""
    from kiosk.services import themes
    from kiosk.services.themes import ThemeSpec

    customer_id = _gold_customer(any_demo_url, clock)
    database = open_database(any_demo_url)
    boss = staff_session(database.unit_of_work(), "S001", clock=clock)
    with database.unit_of_work() as uow:
        slot = uow.session.scalar(
            select(TimeSlot.code)
            .join(Invitation, Invitation.slot_id == TimeSlot.id)
            .where(Invitation.customer_id == customer_id)
        )
    themes.set_theme(
        database.unit_of_work(),
        ThemeSpec("CAR", "洗车观影专场", slot=slot, categories=("car", "movie")),
        boss,
        clock=clock,
    )
    database.dispose()
    settings.language = "zh_CN"
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    scanner_burst(qtbot, station.scan, CUSTOMER_NO)
    assert station.customer is not None and station.customer.customer_id == customer_id
    qtbot.keyClick(station, Qt.Key.Key_F3)  # every service of the session
    panel = station.catalog_panel
    assert {o.category for o in panel.mine.offers} == {"car", "movie"}  # type: ignore[union-attr]
    assert set(_rows(station)) == {o.code for o in panel.mine.offers}  # type: ignore[union-attr]
    assert panel.title.text().startswith("专场「洗车观影专场」· ")
    assert "只提供本专场的服务" in panel.title.toolTip()
    from .test_qt_language import _switch_language

    _switch_language(qtbot, window, "en")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    qtbot.waitUntil(lambda: "洗车观影专场 (themed session)" in station.catalog_panel.title.text())
