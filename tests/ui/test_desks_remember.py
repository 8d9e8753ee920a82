"""A desk always shows the customer it has called (#16 symptoms 1 and 11), driven by keys.

The reported case: as S001, F5 at the service desk and at the activation desk, then large
print: both desks showed "尚未叫号" while the database kept both tickets called, and nothing
brought them back. Here the real main window is driven with key events (people at human
speed, the scanner in a 2–8 ms burst) through calls at both desks, large print and a language
switch in the middle, a sign-out, a restart and a second laptop taking the counter over;
after every step each desk must show its called customer and the queue invariant must hold
in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import Customer, MobileBanking, Queue
from kiosk.services import desk, reception
from kiosk.services.auth import staff_session
from tests.queue_support import assert_queues_hold
from ui.counter import CounterDialog
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.activation import ActivationStation, Ask
from ui.stations.service_desk import ServiceDeskStation
from ui.widgets import Tone

from .conftest import laptop_settings, sign_in

pytestmark = pytest.mark.ui

COUNTER = "3 号柜台"


def _arrivals(url: str, clock: FixedClock) -> dict[str, str]:
    """B001, B002 wait for the service desk, J001, J002 for activation; ticket -> customer
    number. Then eleven minutes pass, so a supervisor may call anyone's customer."""
    database = open_database(url)
    with database.unit_of_work() as uow:
        customers = uow.session.execute(
            select(Customer.id, Customer.customer_no).order_by(Customer.id).limit(4)
        ).all()
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup: ready to activate
        uow.session.execute(
            update(Customer)
            .where(Customer.id.in_([c.id for c in customers[2:]]))
            .values(mobile_banking=MobileBanking.OPENED)
        )
        uow.commit()
    staff = staff_session(database.unit_of_work(), "R001")
    tickets = {}
    for (customer_id, number), queue in zip(
        customers, [Queue.SERVICE_DESK] * 2 + [Queue.ACTIVATION] * 2, strict=True
    ):
        result = reception.check_in(
            database.unit_of_work(), customer_id, staff, route=queue, clock=clock
        )
        tickets[result.ticket] = number
        clock.advance(seconds=30)
    database.dispose()
    clock.advance(minutes=11)
    assert sorted(tickets) == ["B001", "B002", "J001", "J002"]
    return tickets


def press(qtbot: QtBot, window: MainWindow, key: Qt.Key, mods=Qt.KeyboardModifier.NoModifier):  # type: ignore[no-untyped-def]
    """A key where the focus is, as a person presses it."""
    qtbot.keyClick(window.focusWidget() or window, key, mods)


def type_like_a_person(qtbot: QtBot, field: QWidget, text: str) -> None:
    """A key every 110 ms; Chinese arrives from the input method as committed text."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(field, char)
        else:
            event = QInputMethodEvent()
            event.setCommitString(char)
            QApplication.sendEvent(field, event)
        qtbot.wait(110)


def scan(qtbot: QtBot, field: QLineEdit, code: str) -> None:
    """A wedge scanner: the code in a burst of 4 ms a key, then Enter."""
    qtbot.keyClicks(field, code, delay=4)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def counter_typed(qtbot: QtBot, name: str, seen: list[str] | None = None) -> Callable[..., None]:
    """An answer for ``CounterDialog.answer``: the name typed at human speed, then Enter."""

    def answer(dialog: CounterDialog) -> None:
        dialog.show()
        if seen is not None:
            seen.append(dialog.in_use.text())
        line = dialog.name.lineEdit()
        line.selectAll()
        qtbot.keyClick(line, Qt.Key.Key_Delete)
        type_like_a_person(qtbot, line, name)
        qtbot.keyClick(line, Qt.Key.Key_Return)
        assert not dialog.isVisible(), dialog.error.text()

    return answer


def open_station(qtbot: QtBot, window: MainWindow, title: str) -> QWidget:
    """Ctrl+N for the station's place in the switcher, as staff switch."""
    number = window.station_titles().index(title) + 1
    press(qtbot, window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
    page = window.current_station()
    assert page is not None and page.title() == title
    return page


def service_desk(qtbot: QtBot, window: MainWindow) -> ServiceDeskStation:
    page = open_station(qtbot, window, "Service desk" if _english() else "业务办理")
    assert isinstance(page, ServiceDeskStation)
    return page


def activation_desk(qtbot: QtBot, window: MainWindow) -> ActivationStation:
    page = open_station(qtbot, window, "Activation desk" if _english() else "激活兑换")
    assert isinstance(page, ActivationStation)
    return page


def _english() -> bool:
    from kiosk.i18n import get_language

    return get_language() == "en"


def _queue_tickets(station: ServiceDeskStation | ActivationStation) -> list[str]:
    return [station.queue.item(r, 0).text() for r in range(station.queue.rowCount())]


def expect_service(station: ServiceDeskStation, ticket: str | None) -> None:
    """The desk shows ``ticket`` as called (its form open), or nobody."""
    if ticket is None:
        assert station.called is None, station.header.text()
        assert not station.save_button.isEnabled()
        return
    assert station.called is not None and station.called.ticket == ticket
    assert station.header.text().startswith(ticket), station.header.text()
    assert station.save_button.isEnabled() and station.route_button.isEnabled()
    assert ticket not in _queue_tickets(station)  # called, not waiting


def expect_activation(station: ActivationStation, ticket: str | None) -> None:
    """The desk shows ``ticket`` as called with F10 to finish, or nobody."""
    if ticket is None:
        assert station.called is None and station.customer is None, station.header.text()
        assert not station.finish_button.isEnabled()
        return
    assert station.called is not None and station.called.ticket == ticket
    assert station.customer is not None
    assert station.header.text().startswith(ticket), station.header.text()
    assert station.finish_button.isEnabled() and station.requeue_button.isEnabled()
    assert ticket not in _queue_tickets(station)


def check_both(
    qtbot: QtBot, window: MainWindow, service: str | None, activation: str | None, step: str
) -> None:
    """Both desks of this window's counter, as staff would look (Ctrl+N), and the rule."""
    page = window.current_station()
    if isinstance(page, ActivationStation):  # what is on screen first, before switching
        expect_activation(page, activation)
        expect_service(service_desk(qtbot, window), service)
    else:
        if isinstance(page, ServiceDeskStation):
            expect_service(page, service)
        expect_activation(activation_desk(qtbot, window), activation)
        expect_service(service_desk(qtbot, window), service)
    assert_queues_hold(window.app.database, step)


def test_a_called_customer_never_vanishes(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Ask, "confirm_leave", staticmethod(lambda parent: True))
    tickets = _arrivals(any_demo_url, clock)
    laptop = laptop_settings(tmp_path / "laptop-a.ini", counter="")  # a fresh laptop
    window = make_window(any_demo_url, laptop)
    sign_in(qtbot, window, "S001", "1234")
    assert_queues_hold(window.app.database, "sign-in")

    # F5 at the service desk: the laptop's counter is asked once, typed like a person.
    station = service_desk(qtbot, window)
    assert station.counter.label.text() == "Counter not set"
    unexpected = CounterDialog.answer
    monkeypatch.setattr(CounterDialog, "answer", counter_typed(qtbot, COUNTER))
    press(qtbot, window, Qt.Key.Key_F5)
    assert laptop.counter_name == COUNTER
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    assert station.banner.headline.text() == f"Calling B001 to {COUNTER}"
    expect_service(station, "B001")
    assert_queues_hold(window.app.database, "F5 at the service desk")

    # F5 at the activation desk of the same counter: asked no more.
    monkeypatch.setattr(CounterDialog, "answer", unexpected)
    counter = activation_desk(qtbot, window)
    assert counter.counter.label.text() == f"At {COUNTER}"
    press(qtbot, window, Qt.Key.Key_F5)
    expect_activation(counter, "J001")
    check_both(qtbot, window, "B001", "J001", "F5 at the activation desk")

    # F5 again at either desk calls nobody new: the customer there is named instead.
    station = service_desk(qtbot, window)
    press(qtbot, window, Qt.Key.Key_F5)
    assert station.banner.tone == Tone.WARN
    assert station.banner.headline.text() == (
        f"B001 is still called at {COUNTER}: finish that customer first."
    )
    check_both(qtbot, window, "B001", "J001", "F5 again")

    # Large print rebuilds every widget: both desks still show their customers.
    window.large.setFocus()
    qtbot.keyClick(window.large, Qt.Key.Key_Space)
    assert window.settings.large_print
    check_both(qtbot, window, "B001", "J001", "large print")

    # Chinese, mid-flow: the same customers, in Chinese.
    window.language.setFocus()
    qtbot.keyClick(window.language, Qt.Key.Key_Up)
    assert window.settings.language == "zh_CN"
    check_both(qtbot, window, "B001", "J001", "Chinese")
    assert window.current_station().counter.label.text() == f"本机：{COUNTER}"  # type: ignore[union-attr]
    window.large.setFocus()
    qtbot.keyClick(window.large, Qt.Key.Key_Space)  # normal print, still in Chinese
    check_both(qtbot, window, "B001", "J001", "normal print")
    window.language.setFocus()
    qtbot.keyClick(window.language, Qt.Key.Key_Down)
    assert window.settings.language == "en"

    # Sign out and in: the counter's customers are back at once.
    window.sign_out_button.setFocus()
    qtbot.keyClick(window.sign_out_button, Qt.Key.Key_Space)
    assert window.staff is None
    assert_queues_hold(window.app.database, "sign-out")
    sign_in(qtbot, window, "S001", "1234")
    check_both(qtbot, window, "B001", "J001", "signed in again")

    # Reopening the called customer by number (scanner burst) keeps F10 enabled.
    counter = activation_desk(qtbot, window)
    scan(qtbot, counter.scan, tickets["J001"])
    expect_activation(counter, "J001")
    assert counter.banner.tone == Tone.OK, counter.banner.headline.text()

    # A restart: the window closes, a new one opens on the same laptop and database.
    window.close()
    window = make_window(any_demo_url, laptop)
    sign_in(qtbot, window, "S001", "1234")
    check_both(qtbot, window, "B001", "J001", "restart")

    # Served to the end at both desks: F9 sends B001 to activation, F10 finishes J001.
    station = service_desk(qtbot, window)
    press(qtbot, window, Qt.Key.Key_F9)
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    assert "J003" in station.banner.headline.text()
    counter = activation_desk(qtbot, window)
    press(qtbot, window, Qt.Key.Key_F10)
    assert counter.banner.tone == Tone.OK, counter.banner.headline.text()
    check_both(qtbot, window, None, None, "served")
    assert desk.current_call(window.app.uow(), desk=COUNTER) is None


def test_another_laptop_takes_the_counter_over(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Laptop A at 3 号柜台 has B001 and J001 called; laptop B (its own settings, no counter
    yet) is set to the same counter with "Change…" and shows them; what either does the
    other follows (the live link); a laptop at another counter is never confused."""
    monkeypatch.setattr(Ask, "confirm_leave", staticmethod(lambda parent: True))
    tickets = _arrivals(any_demo_url, clock)
    settings.counter_name = COUNTER
    a = make_window(any_demo_url)
    sign_in(qtbot, a, "S001", "1234")
    a_service = service_desk(qtbot, a)
    press(qtbot, a, Qt.Key.Key_F5)
    a_activation = activation_desk(qtbot, a)
    press(qtbot, a, Qt.Key.Key_F5)
    check_both(qtbot, a, "B001", "J001", "laptop A calls")

    # Laptop B at counter 5 first: nothing of counter 3 shows there.
    b_laptop = laptop_settings(tmp_path / "laptop-b.ini", counter="5")
    b = make_window(any_demo_url, b_laptop)
    sign_in(qtbot, b, "S002", "1234")
    check_both(qtbot, b, None, None, "laptop B at counter 5")
    assert b.current_station().counter.label.text() == "At counter 5"  # type: ignore[union-attr]

    # Taken over: "Change…", the counters in use listed, 3 号柜台 typed.
    b_service = service_desk(qtbot, b)
    seen: list[str] = []
    unexpected = CounterDialog.answer
    monkeypatch.setattr(CounterDialog, "answer", counter_typed(qtbot, COUNTER, seen))
    b_service.counter.button.setFocus()
    qtbot.keyClick(b_service.counter.button, Qt.Key.Key_Space)
    monkeypatch.setattr(CounterDialog, "answer", unexpected)
    assert seen == [f"Called now: {COUNTER} B001, J001"]
    assert b_laptop.counter_name == COUNTER
    check_both(qtbot, b, "B001", "J001", "laptop B takes over")

    # A types in the form; B sends B001 on (F9): A follows, the typing of a finished
    # customer goes with them, and A's activation desk keeps J001.
    a_service = service_desk(qtbot, a)
    address = a_service.inputs["address"]
    assert isinstance(address, QLineEdit)
    address.setFocus()
    b_service = service_desk(qtbot, b)
    press(qtbot, b, Qt.Key.Key_F9)
    assert b_service.banner.tone == Tone.OK, b_service.banner.headline.text()
    qtbot.waitUntil(lambda: a_service.called is None, timeout=5_000)
    check_both(qtbot, a, None, "J001", "B routed B001 on")
    check_both(qtbot, b, None, "J001", "B routed B001 on (B)")

    # A calls B002; while A's RM types in the form, B's F5 at activation changes the
    # database: A's form keeps what was typed (same customer, not reloaded).
    a_service = service_desk(qtbot, a)
    press(qtbot, a, Qt.Key.Key_F5)
    expect_service(a_service, "B002")
    name = a_service.inputs["name"]
    assert isinstance(name, QLineEdit)
    name.setFocus()
    name.selectAll()
    type_like_a_person(qtbot, name, "王小")
    b_activation = activation_desk(qtbot, b)
    press(qtbot, b, Qt.Key.Key_F5)  # J001 is still called at this counter
    assert b_activation.banner.tone == Tone.WARN
    assert b_activation.banner.headline.text() == "Finish J001 first (F10)."
    press(qtbot, b, Qt.Key.Key_F10)  # B finishes J001
    assert b_activation.banner.tone == Tone.OK, b_activation.banner.headline.text()
    press(qtbot, b, Qt.Key.Key_F5)  # and calls the next: J002
    expect_activation(b_activation, "J002")
    a_activation = activation_desk(qtbot, a)
    expect_activation(a_activation, "J002")
    a_service = service_desk(qtbot, a)
    expect_service(a_service, "B002")
    assert name.text() == "王小"  # typed, not lost to the refresh
    check_both(qtbot, b, "B002", "J002", "B calls J002")

    # A stale screen cannot finish what the counter no longer has: A is told and follows.
    assert_queues_hold(a.app.database, "end")
    assert tickets["J002"]


def test_a_customer_scanned_at_the_activation_desk_is_served_there(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    demo_url: str,
    clock: FixedClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The symptom's last part: a customer opened by number must get F10. One who waits for
    activation is called to this counter by the scan; one at another desk, or done, opens for
    reprints only and the banner says where they are."""
    monkeypatch.setattr(Ask, "confirm_leave", staticmethod(lambda parent: True))
    tickets = _arrivals(demo_url, clock)
    settings.counter_name = COUNTER
    window = make_window(demo_url)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    expect_activation(station, None)

    scan(qtbot, station.scan, tickets["J002"])  # out of turn: they stand at the desk
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    assert station.banner.headline.text().startswith(f"Calling J002 to {COUNTER}")
    expect_activation(station, "J002")
    assert _queue_tickets(station) == ["J001"]
    assert_queues_hold(window.app.database, "scan J002")

    scan(qtbot, station.scan, tickets["J001"])  # someone else while J002 is here
    assert station.banner.tone == Tone.WARN
    assert station.banner.headline.text() == "Finish J002 first (F10)."
    expect_activation(station, "J002")

    window.large.setFocus()
    qtbot.keyClick(window.large, Qt.Key.Key_Space)
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    expect_activation(station, "J002")
    scan(qtbot, station.scan, tickets["J002"])  # the reported case: opened by number again
    expect_activation(station, "J002")
    press(qtbot, window, Qt.Key.Key_F10)
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    expect_activation(station, None)
    assert_queues_hold(window.app.database, "J002 done")

    # Done already: opened for reprints only, and said so; F10 just closes it.
    scan(qtbot, station.scan, tickets["J002"])
    assert station.banner.tone == Tone.WARN
    assert station.banner.headline.text().startswith("Opened ") and "reprints" in (
        station.banner.headline.text()
    )
    assert station.banner.detail.text() == "J002 is already done."
    assert station.customer is not None and station.called is None
    assert not station.finish_button.isEnabled()
    press(qtbot, window, Qt.Key.Key_F10)
    expect_activation(station, None)

    # Waiting for the service desk: not served here.
    scan(qtbot, station.scan, tickets["B001"])
    assert station.banner.detail.text() == "B001 waits for the service desk first."
    assert station.called is None
    press(qtbot, window, Qt.Key.Key_F10)
    assert_queues_hold(window.app.database, "scans")


def test_the_public_display_names_the_counter(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    demo_url: str,
    clock: FixedClock,
    settings: Settings,
) -> None:
    """Symptom 11: "请 B002 号 到 RM001 号柜台". The display says this laptop's counter, from
    the database, and stays open across a re-layout."""
    _arrivals(demo_url, clock)
    settings.counter_name = "3"  # a bare number reads "3 号柜台"
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    station = service_desk(qtbot, window)
    station.display_button.setFocus()
    qtbot.keyClick(station.display_button, Qt.Key.Key_Space)
    display = window.call_display
    assert display is not None and display.isVisible()
    assert display.label.text() == "Please wait to be called"
    press(qtbot, window, Qt.Key.Key_F5)
    assert display.label.text() == "Ticket B001\nplease go to counter 3"
    counter = activation_desk(qtbot, window)
    press(qtbot, window, Qt.Key.Key_F5)
    assert display.label.text() == "Ticket J001\nplease go to counter 3"
    assert display.others.text() == "Also called: B001"
    expect_activation(counter, "J001")

    window.language.setFocus()
    qtbot.keyClick(window.language, Qt.Key.Key_Up)  # Chinese: the display follows
    assert window.call_display is display and display.isVisible()
    assert display.label.text() == "请 J001 号\n到 3 号柜台"
    assert display.others.text() == "同时叫号：B001"
    window.large.setFocus()
    qtbot.keyClick(window.large, Qt.Key.Key_Space)
    assert display.isVisible() and display.label.text() == "请 J001 号\n到 3 号柜台"

    # Another laptop at this counter finishes J001: the display follows the database.
    database = open_database(demo_url)
    staff = staff_session(database.unit_of_work(), "A001")
    called = desk.current_call(database.unit_of_work(), desk="3", queue=Queue.ACTIVATION)
    assert called is not None
    from kiosk.services import activation

    activation.finish(database.unit_of_work(), called.entry_id, staff, clock=clock, desk="3")
    database.dispose()
    qtbot.waitUntil(lambda: display.label.text() == "请 B001 号\n到 3 号柜台", timeout=5_000)
    assert display.others.text() == ""
    window.close()
    assert window.call_display is None


def test_no_show_then_back_in_queue_at_the_service_desk(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    demo_url: str,
    clock: FixedClock,
    settings: Settings,
) -> None:
    """No-show is one of the four states: the desk lets the ticket go (nobody is called
    there any more), "Back in queue" still works right after, and F5 calls the next."""
    _arrivals(demo_url, clock)
    settings.counter_name = COUNTER
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    station = service_desk(qtbot, window)
    press(qtbot, window, Qt.Key.Key_F5)
    expect_service(station, "B001")
    station.skip_button.setFocus()
    qtbot.keyClick(station.skip_button, Qt.Key.Key_Space)
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    assert station.header.text() == "B001 set aside as a no-show."
    assert station.called is None and station.requeue_button.isEnabled()
    assert desk.current_call(window.app.uow(), desk=COUNTER) is None
    assert_queues_hold(window.app.database, "no-show")
    station.requeue_button.setFocus()
    qtbot.keyClick(station.requeue_button, Qt.Key.Key_Space)
    assert station.banner.headline.text() == "B001 is back in the queue."
    assert _queue_tickets(station) == ["B002", "B001"]  # behind those waiting now
    expect_service(station, None)
    assert not station.requeue_button.isEnabled()
    assert_queues_hold(window.app.database, "back in queue")
    press(qtbot, window, Qt.Key.Key_F5)
    expect_service(station, "B002")
    window.large.setFocus()
    qtbot.keyClick(window.large, Qt.Key.Key_Space)
    check_both(qtbot, window, "B002", None, "large print")
