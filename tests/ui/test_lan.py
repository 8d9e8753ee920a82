"""Several app windows as stations on one PostgreSQL event database, like laptops on the LAN."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.kyc import governance_gaps
from kiosk.models import Customer, GovernanceChange, Invitation, MobileBanking
from kiosk.privacy import full_values
from kiosk.services import reception
from kiosk.services.auth import staff_session
from tests.tcp_proxy import LanCable
from ui.connection import ConnectionDialog
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.overview import OverviewStation
from ui.stations.reception import ReceptionStation
from ui.stations.service_desk import ConfirmChanges, ServiceDeskStation
from ui.widgets import Tone

from .conftest import sign_in

# Bounds a check-in's time: in the one group of timing-sensitive tests (tests/conftest.py).
pytestmark = [pytest.mark.ui, pytest.mark.pg, pytest.mark.xdist_group("timing")]


def _desk_customer(url: str) -> tuple[int, str, str]:
    """A customer reception sends to the service desk for mobile banking, with details that
    are all valid: (id, invitation code, their RM's staff number)."""
    database = open_database(url)
    with database.unit_of_work() as uow:
        customer = next(
            c
            for c in uow.session.scalars(select(Customer).order_by(Customer.id))
            if not governance_gaps(c, date(2026, 11, 28))
            and c.mobile_banking == MobileBanking.NONE
            and c.rm is not None
        )
        code = uow.session.scalar(
            select(Invitation.code).where(Invitation.customer_id == customer.id)
        )
        found = customer.id, code, customer.rm.staff_no  # type: ignore[union-attr]
    database.dispose()
    assert found[1] is not None
    return found  # type: ignore[return-value]


def test_a_check_in_at_reception_shows_at_the_service_desk_within_two_seconds(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    pg_demo_url: str,
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    _customer_id, code, rm_no = _desk_customer(pg_demo_url)

    desk_window = make_window(pg_demo_url)  # one laptop: the customer's RM at a desk
    sign_in(qtbot, desk_window, rm_no, "1234")
    desk = desk_window.current_station()
    assert isinstance(desk, ServiceDeskStation)
    assert desk.queue.rowCount() == 0
    assert desk.refresh_timer.interval() >= 60_000  # not a timer: the change shows it

    dashboard_window = make_window(pg_demo_url)  # another: the coordinator's overview
    sign_in(qtbot, dashboard_window, "S001", "1234")
    dashboard = dashboard_window.current_station()
    assert isinstance(dashboard, OverviewStation) and dashboard.overview is not None
    arrived_before = dashboard.overview.counts["visits"]

    reception_window = make_window(pg_demo_url)  # and reception at the entrance
    sign_in(qtbot, reception_window, "R001", "1234")
    reception_window.switcher.setCurrentRow(1)
    front = reception_window.current_station()
    assert isinstance(front, ReceptionStation)

    qtbot.keyClicks(front.field, code)
    qtbot.keyClick(front.field, Qt.Key.Key_Return)  # the wedge scanner's suffix
    assert front.banner.tone == Tone.OK
    checked_in = time.monotonic()

    qtbot.waitUntil(lambda: desk.queue.rowCount() == 1, timeout=2_000)
    assert time.monotonic() - checked_in < 2.0
    ticket = desk.queue.item(0, 0).text()
    assert front.card is not None and front.card.visit is not None
    assert ticket == front.card.visit.ticket
    assert "*" in desk.queue.item(0, 1).text()  # masked name
    qtbot.waitUntil(
        lambda: (
            dashboard.overview is not None
            and dashboard.overview.counts["visits"] == arrived_before + 1
        ),
        timeout=2_000,
    )

    # The desk calls the customer; the reception card (still on screen) follows.
    desk.call_button.click()
    assert desk.called is not None and desk.called.ticket == ticket
    qtbot.waitUntil(lambda: not front.undo_button.isEnabled(), timeout=2_000)
    assert desk.queue.rowCount() == 0


def test_the_desk_loses_the_database_mid_form_and_keeps_what_was_typed(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    pg_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id, _code, rm_no = _desk_customer(pg_demo_url)
    database = open_database(pg_demo_url)
    reception.check_in(
        database.unit_of_work(),
        customer_id,
        staff_session(database.unit_of_work(), "R001"),
        clock=clock,
    )
    monkeypatch.setattr(ConfirmChanges, "ask", classmethod(lambda cls, parent, rows: True))

    with LanCable(pg_demo_url) as cable:
        window = make_window(cable.url)
        sign_in(qtbot, window, rm_no, "1234")
        desk = window.current_station()
        assert isinstance(desk, ServiceDeskStation)
        desk.call_button.click()
        assert desk.called is not None and desk.called.customer_id == customer_id
        address = desk.inputs["address"]
        assert isinstance(address, QLineEdit)
        address.setFocus()
        address.selectAll()
        address.insert("广州市天河区体育西路 191 号")  # as an input method commits it

        cable.cut()  # the LAN goes, mid-form
        qtbot.waitUntil(lambda: window.connection_banner.isVisible(), timeout=8_000)
        assert "cannot be reached" in window.connection_banner.text()
        desk.save_button.click()
        assert desk.banner.tone == Tone.ERROR
        assert "cannot be reached" in desk.banner.headline.text()
        assert address.text() == "广州市天河区体育西路 191 号"  # nothing typed is lost

        cable.plug()  # it comes back: the banner goes by itself
        qtbot.waitUntil(lambda: not window.connection_banner.isVisible(), timeout=8_000)
        desk.save_button.click()  # the same action, again
        assert desk.banner.tone == Tone.OK, desk.banner.headline.text()
    with database.unit_of_work() as uow:
        changed = uow.session.scalars(
            select(GovernanceChange.field).where(GovernanceChange.customer_id == customer_id)
        ).all()
        customer_no = uow.session.scalar(
            select(Customer.customer_no).where(Customer.id == customer_id)
        )
    full = {v.customer_no: v for v in full_values(database.unit_of_work(), DEMO_PASSPHRASE)}
    database.dispose()
    # Stored sealed: the full address is what the desk typed before the LAN went.
    assert "address" in changed and full[customer_no].address == "广州市天河区体育西路 191 号"


def test_a_new_laptop_joins_the_event_database_and_remembers_it(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    empty_url: str,
    pg_demo_url: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    window = make_window(empty_url)  # its own empty file: "No event yet"
    assert window.stack.currentWidget() is window.no_event
    typed: list[str] = []

    def exec_dialog(dialog: ConnectionDialog) -> int:
        dialog.url.setText("postgresql://nobody@127.0.0.1:1/nothing")
        assert not dialog.try_connect()  # a wrong address: said in words, text kept
        typed.append(dialog.error.text())
        assert dialog.url.text() == "postgresql://nobody@127.0.0.1:1/nothing"
        dialog.url.setText(pg_demo_url)
        assert dialog.try_connect()
        return int(dialog.result())

    monkeypatch.setattr(ConnectionDialog, "exec", exec_dialog)
    window.no_event.choose_database.click()
    assert "Cannot reach the database server at 127.0.0.1:1" in typed[0]
    assert window.app.database.url == pg_demo_url
    assert window.stack.currentWidget() is window.signin
    assert settings.database_url == pg_demo_url
    again = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    assert again.database_url == pg_demo_url  # on disk: the next start joins it
    sign_in(qtbot, window, "R001", "1234")
    assert window.staff is not None
    with window.app.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Customer)) == 240
    window.close()
    window.app.database.dispose()
