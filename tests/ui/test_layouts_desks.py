"""The staff screens that face customers across the desk fit the laptop: the sign-in page, the
event overview, reception, the service desk, my customers and the idle lock, in normal and
large print (大字模式), at 1366×768 and 1920×1080, in Chinese and English.

Each test drives one real main window on the demo event the way staff use it (a search with
its card, a check-in, a called customer whose data has gaps, the refused save, the
before/after summary the customer confirms, the walk-in form and the satisfaction call with a
sentence under a field, the list of customers to remind, the lock) and
measures every state at both screen sizes with ``layout_support.fitted``: no cut text, no
overlap, nothing off screen, no sideways scrolling, no cramped scrolling. With
``KIOSK_LAYOUT_SHOTS=<folder>`` every measured state is saved there as a PNG to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.idcard import check_digit
from kiosk.models import Customer, MobileBanking, Queue
from kiosk.roles import Station
from kiosk.services import reception
from kiosk.services.auth import staff_session
from kiosk.services.events import branches
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.kyc_form import ConfirmChanges
from ui.stations.my_customers import MyCustomersStation
from ui.stations.overview import OverviewStation
from ui.stations.reception import ReceptionStation
from ui.stations.satisfaction_call import SatisfactionCallDialog
from ui.stations.service_desk import ServiceDeskStation
from ui.stations.walk_in import WalkInDialog

from .conftest import sign_in
from .layout_support import ROOMS, fitted, keep_grab, open_station, problems

pytestmark = pytest.mark.ui


class Measure:
    """Measures one window's states at every screen size and keeps what is wrong."""

    def __init__(self, window: MainWindow, tag: str) -> None:
        self.window = window
        self.tag = tag
        self.found: list[str] = []

    def __call__(self, state: str, rooms: tuple[str, ...] = tuple(ROOMS)) -> None:
        for size in rooms:
            faults = fitted(self.window, ROOMS[size])
            self.found.extend(f"{self.tag} {size} {state}: {fault}" for fault in faults)
            self.save(self.window, f"{self.tag}-{size}-{state}")

    def dialog(self, dialog: QWidget, state: str) -> None:
        """A dialog at the size it opens with, which must fit the smaller laptop."""
        dialog.show()
        for _ in range(3):
            QApplication.processEvents()
        room = ROOMS["1366x768"]
        faults = problems(dialog, QSize(room.width(), room.height()))
        self.found.extend(f"{self.tag} {state}: {fault}" for fault in faults)
        self.save(dialog, f"{self.tag}-{state}")

    def save(self, widget: QWidget, name: str) -> None:
        keep_grab(widget, name)


def _waiting_with_gaps(url: str, clock: FixedClock) -> str:
    """Check in, for the service desk, a customer whose ID expired and who has no mobile
    banking: the desk's form then has gaps to show. Their RM's staff number (who calls
    them: the queue keeps a customer for their own RM for a while)."""
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
    reception.check_in(
        database.unit_of_work(), customer_id, staff, clock=clock, route=Queue.SERVICE_DESK
    )
    database.dispose()
    return rm_no


def _reception_states(qtbot: QtBot, window: MainWindow, measure: Measure) -> ReceptionStation:
    page = open_station(window, Station.RECEPTION)
    assert isinstance(page, ReceptionStation)
    measure("reception-empty", ("1366x768",))
    walk_in = WalkInDialog(branches(page.context.uow()), lambda *_typed: 0, window)
    walk_in.show_errors({"phone": reception.walk_in_problems("", "1381234", "")["phone"]})
    measure.dialog(walk_in, "walk-in")
    walk_in.reject()
    qtbot.keyClicks(page.field, "wj")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and page.card is not None, timeout=5000)
    measure("reception-card")
    page.check_in_selected()
    qtbot.waitUntil(lambda: page.print_banner.isVisible(), timeout=5000)
    assert page.card is not None and page.card.visit is not None
    measure("reception-checked-in")
    return page


def _service_desk_states(
    qtbot: QtBot, window: MainWindow, measure: Measure, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = open_station(window, Station.SERVICE_DESK)
    assert isinstance(page, ServiceDeskStation)
    measure("desk-waiting", ("1366x768",))
    page.call_button.click()
    assert page.called is not None
    assert any(s.text() and not s.text().startswith("✓") for s in page.statuses.values())
    measure("desk-called")
    # A refused save: a sentence under the phone field.
    phone = page.inputs["phone"]
    assert isinstance(phone, QLineEdit)
    phone.setFocus()
    qtbot.keyClicks(phone, "1381234")
    page.save_button.setFocus()
    page.save()
    assert page.errors["phone"].isVisible()
    measure("desk-refused")
    # What the customer confirms: the before / after summary of a renewed ID.
    first17 = "44010619900101001"  # born 1990, male: issued at 36, valid 20 years
    for field, text in (
        ("phone", "13912345678"),
        ("id_number", first17 + check_digit(first17)),
        ("id_valid_from", "2026.11.20"),
        ("id_valid_to", "2046.11.20"),
    ):
        edit = page.inputs[field]
        assert isinstance(edit, QLineEdit)
        edit.setFocus()
        edit.selectAll()
        qtbot.keyClicks(edit, text)
    for field, value in (("gender", "M"), ("occupation_code", "2"), ("tax_residency", "CN")):
        box = page.inputs[field]
        assert isinstance(box, QComboBox)
        box.setCurrentIndex(box.findData(value))
    long_term = page.inputs["id_long_term"]
    assert isinstance(long_term, QCheckBox)
    long_term.setChecked(False)
    page.save_button.setFocus()
    asked: list[ConfirmChanges] = []

    def ask(cls: type[ConfirmChanges], parent: QWidget, rows: list[tuple[str, str, str]]) -> bool:
        dialog = cls(rows, parent)
        asked.append(dialog)
        measure.dialog(dialog, "desk-confirm")
        dialog.reject()
        return False

    monkeypatch.setattr(ConfirmChanges, "ask", classmethod(ask))
    page.save()
    shown = {f: e.text() for f, e in page.errors.items() if e.isVisible()}
    assert asked, f"the summary was not shown: {shown}"
    measure("desk-not-confirmed", ("1366x768",))
    call = SatisfactionCallDialog(page, page.called.customer_id)
    call.slip.setText("No. 999999")
    call.find()  # no such slip: the sentence says so
    measure.dialog(call, "satisfaction-call")
    call.reject()


def _my_customers(window: MainWindow, measure: Measure, state: str) -> None:
    page = open_station(window, Station.MY_CUSTOMERS)
    assert isinstance(page, MyCustomersStation)
    assert page.table.rowCount() > 0
    page.table.selectRow(0)
    assert page.sms.text().strip()
    measure(state)


def _walk(
    qtbot: QtBot,
    window: MainWindow,
    measure: Measure,
    monkeypatch: pytest.MonkeyPatch,
    rm_no: str,
) -> None:
    """The supervisor's screens, the lock, then the RM's."""
    measure("signin")
    sign_in(qtbot, window, "S001", "1234")
    assert isinstance(window.current_station(), OverviewStation)
    measure("overview")
    _reception_states(qtbot, window, measure)
    _my_customers(window, measure, "my-customers-supervisor")
    window.lock()
    assert window.locked
    measure("idle-lock")
    window.sign_out()
    sign_in(qtbot, window, rm_no, "1234")
    _service_desk_states(qtbot, window, measure, monkeypatch)
    _my_customers(window, measure, "my-customers-rm")


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("large", [True, False], ids=["large", "normal"])
def test_every_desk_screen_fits_both_laptops(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    settings: Settings,
    demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    large: bool,
    language: str,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    rm_no = _waiting_with_gaps(demo_url, clock)
    settings.language = language
    settings.large_print = large
    window = make_window(demo_url)
    measure = Measure(window, f"{'large' if large else 'normal'}-{language}")
    _walk(qtbot, window, measure, monkeypatch, rm_no)
    assert measure.found == [], "\n".join(measure.found)


def test_switching_language_with_a_customer_shown_still_fits(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    settings: Settings,
    demo_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Large print, Chinese, a customer's card at reception; the language box to English:
    the window is rebuilt on the same station and still fits, and so does the header."""
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    settings.language = "zh_CN"
    settings.large_print = True
    window = make_window(demo_url)
    measure = Measure(window, "switch")
    sign_in(qtbot, window, "S001", "1234")
    page = open_station(window, Station.RECEPTION)
    assert isinstance(page, ReceptionStation)
    qtbot.keyClicks(page.field, "wj")
    qtbot.waitUntil(lambda: page.card is not None, timeout=5000)
    measure("zh_CN-card")
    window.language.setCurrentIndex(window.language.findData("en"))
    after = window.current_station()
    assert isinstance(after, ReceptionStation) and window.language.currentData() == "en"
    qtbot.keyClicks(after.field, "wj")
    qtbot.waitUntil(lambda: after.card is not None, timeout=5000)
    measure("en-card")
    assert measure.found == [], "\n".join(measure.found)
