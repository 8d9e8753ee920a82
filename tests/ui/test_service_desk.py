"""The service desk driven like an RM would: call, govern, open mobile banking, route on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.idcard import check_digit
from kiosk.models import Customer, GovernanceChange, MobileBanking
from kiosk.services import desk, reception
from kiosk.services.auth import staff_session
from ui.main_window import MainWindow
from ui.stations.service_desk import ConfirmChanges, MaskedLineEdit, ServiceDeskStation
from ui.widgets import Tone

from .conftest import sign_in

pytestmark = pytest.mark.ui


def _expired_without_mobile(url: str, clock: FixedClock) -> tuple[int, str]:
    """Check in a customer whose ID expired and who has no mobile banking; (id, their RM)."""
    database = open_database(url)
    with database.unit_of_work() as uow:
        customer = next(
            c
            for c in uow.session.scalars(select(Customer).order_by(Customer.id))
            if c.id_valid_to
            and c.id_valid_to < date(2026, 11, 28)
            and c.mobile_banking == MobileBanking.NONE
            and c.rm is not None
        )
        customer_id, rm_no = customer.id, customer.rm.staff_no  # type: ignore[union-attr]
    staff = staff_session(database.unit_of_work(), "R001")
    reception.check_in(database.unit_of_work(), customer_id, staff, clock=clock)
    database.dispose()
    return customer_id, rm_no


def _changes(url: str) -> int:
    database = open_database(url)
    with database.unit_of_work() as uow:
        count = uow.session.scalar(select(func.count(GovernanceChange.id))) or 0
    database.dispose()
    return count


def _type_into(qtbot: QtBot, widget: QLineEdit, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def test_an_rm_calls_governs_and_routes_on(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id, rm_no = _expired_without_mobile(demo_url, clock)
    window = make_window(demo_url)
    sign_in(qtbot, window, rm_no, "1234")
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation)  # an RM starts at the service desk
    assert station.queue.rowCount() == 1

    station.call_button.click()
    assert station.called is not None and station.called.customer_id == customer_id
    assert station.called.ticket in station.header.text()
    assert station.statuses["id_valid_to"].text() == "expired"
    assert station.statuses["name"].text().startswith("✓")

    # Masked, always: the full number is sealed; editing starts empty, the mask as a hint.
    id_field = station.inputs["id_number"]
    assert isinstance(id_field, MaskedLineEdit)
    mask = id_field.text()
    assert len(mask) == 18 and mask[6:14] == "*" * 8  # no birth date on the screen
    id_field.setFocus()
    QApplication.processEvents()
    assert id_field.text() == "" and id_field.placeholderText() == mask
    station.save_button.setFocus()
    QApplication.processEvents()
    assert id_field.text() == mask and id_field.value() is None

    # The public display, opened mid-call, shows who is being called and where.
    station.display_button.click()
    display = window.call_display
    assert display is not None and display.isVisible()
    assert station.called.ticket in display.label.text()
    assert "counter 1" in display.label.text()  # this laptop's counter

    # Mobile banking is refused while the ID is expired.
    station.mobile_button.click()
    assert station.banner.tone == Tone.ERROR and "govern it first" in station.banner.headline.text()

    # A bad phone is explained in its own field, and nothing is saved.
    phone = station.inputs["phone"]
    assert isinstance(phone, QLineEdit)
    _type_into(qtbot, phone, "1381234")
    station.save_button.setFocus()
    station.save_button.click()
    error = station.findChild(QLabel, "error_phone")
    assert error is not None and error.isVisible() and "11 digits" in error.text()
    assert _changes(demo_url) == 0

    # The renewed ID: a new number issued today, valid per the age at issue.
    _type_into(qtbot, phone, "13912345678")
    number = station.inputs["id_number"]
    assert isinstance(number, QLineEdit)
    first17 = "44010619900101001"  # born 1990, male: issued at 36, valid 20 years
    _type_into(qtbot, number, first17 + check_digit(first17))
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
        _type_into(qtbot, address, "广州市天河区天河路 1 号")
    station.save_button.setFocus()
    shown: list[list[tuple[str, str, str]]] = []
    monkeypatch.setattr(
        ConfirmChanges, "ask", classmethod(lambda cls, parent, rows: shown.append(rows) or True)
    )
    station.save_button.click()
    visible = {f: e.text() for f, e in station.errors.items() if e.isVisible()}
    assert station.banner.tone == Tone.OK, visible
    summary = {item: (before, after) for item, before, after in shown[0]}
    assert summary["Mobile phone"][1] == "139****5678"  # masked in the summary too
    assert _changes(demo_url) >= 3
    stored = desk.current_form(window.app.uow(), customer_id)
    assert stored.id_valid_to == date(2046, 11, 20), stored
    assert station.statuses["id_valid_to"].text().startswith("✓")

    station.mobile_button.click()
    assert station.banner.tone == Tone.OK
    timeline = [station.timeline.item(i).text() for i in range(station.timeline.count())]
    assert [line.split("  ")[1] for line in timeline] == [
        "Checked in",
        "Called",
        "Details governed",
        "Mobile banking opened",
    ]
    qtbot.keyClick(station.call_button, Qt.Key.Key_F9)
    assert "J001" in station.banner.headline.text()
    assert station.called is None and not station.save_button.isEnabled()

    database = open_database(demo_url)
    counts = {c.staff_no: c for c in desk.rm_counts(database.unit_of_work())}
    database.dispose()
    assert counts[rm_no].governed == 1 and counts[rm_no].mobile_banking_opened == 1
    assert station.my_counts.text() == "Today: 1 governed, 1 mobile banking opened"
    assert display.label.text() == "Please wait to be called"  # routed on: nobody at it
    display.close()


def test_nobody_waiting(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    window = make_window(demo_url)
    sign_in(qtbot, window, "RM001", "1234")
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation)
    qtbot.keyClick(station.call_button, Qt.Key.Key_F5)
    assert station.banner.tone == Tone.WARN
    assert "Nobody is waiting" in station.banner.headline.text()
