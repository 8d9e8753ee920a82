"""An RM's morning at the service desk (#16): F5, the governance form with 长期 ticked and the
customer confirming in a real dialog, large print and English in the middle, F8 mobile
banking, a transfer to another RM, the next customer a no-show and back in the queue, F9 on to
activation. The real main window with real keys; after every step the event database holds
the queue invariant, the desk shows the customer the database says it has called, and the
step's own change is there."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.models import (
    Customer,
    GovernanceChange,
    MobileBanking,
    Queue,
    QueueEntry,
    QueueStatus,
    Staff,
    Visit,
)
from kiosk.services import reception
from kiosk.services.auth import staff_session
from ui.settings import Settings
from ui.stations.service_desk import ConfirmChanges, ServiceDeskStation
from ui.widgets import Tone

from ..ui.conftest import sign_in
from .conftest import change_layout, holds
from .keys import HUMAN, answering, keys, press

pytestmark = pytest.mark.ui

GOVERNED = "6200000037"  # 杨丽嘉 of RM005: ID expired 2026-09-10, to be renewed as 长期
NEXT = "6200000036"  # 孟辉雨, RM005's too
RM = "RM005"


def _arrive(checks: Database, clock: FixedClock) -> None:
    """Both checked in for the service desk a quarter of an hour ago; 杨丽嘉 has no mobile
    banking yet (test setup)."""
    with audit.unaudited(), checks.unit_of_work() as uow:
        uow.session.execute(
            update(Customer)
            .where(Customer.customer_no == GOVERNED)
            .values(mobile_banking=MobileBanking.NONE)
        )
        uow.commit()
    earlier = FixedClock(clock.now() - timedelta(minutes=15))
    front = staff_session(checks.unit_of_work(), "R001")
    for number in (GOVERNED, NEXT):
        customer = reception.resolve_code(checks.unit_of_work(), number)
        reception.check_in(
            checks.unit_of_work(), customer, front, route=Queue.SERVICE_DESK, clock=earlier
        )


def _ticket(checks: Database, customer_no: str) -> tuple[str, str | None, str | None]:
    """(status, desk, preferred RM) of the customer's newest ticket, and its queue."""
    with checks.unit_of_work() as uow:
        entry = uow.session.scalars(
            select(QueueEntry)
            .join(Visit, Visit.id == QueueEntry.visit_id)
            .join(Customer, Customer.id == Visit.customer_id)
            .where(Customer.customer_no == customer_no)
            .order_by(QueueEntry.id.desc())
        ).first()
        assert entry is not None
        preferred = (
            uow.session.scalar(select(Staff.staff_no).where(Staff.id == entry.preferred_staff_id))
            if entry.preferred_staff_id
            else None
        )
        return f"{entry.queue}:{entry.status}", entry.desk, preferred


def _customer(checks: Database, customer_no: str) -> Customer:
    with checks.unit_of_work() as uow:
        customer = uow.session.scalars(
            select(Customer).where(Customer.customer_no == customer_no)
        ).one()
        uow.session.expunge(customer)
    return customer


def _retype(qtbot: QtBot, field: QLineEdit, text: str) -> None:
    field.setFocus()
    press(qtbot, field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, field, Qt.Key.Key_Backspace)
    keys(qtbot, field, text, HUMAN, enter=False)


def _desk(window) -> ServiceDeskStation:  # type: ignore[no-untyped-def]
    page = window.current_station()
    assert isinstance(page, ServiceDeskStation)
    return page


def test_an_rms_morning_at_the_service_desk(
    qtbot: QtBot,
    make_window,  # type: ignore[no-untyped-def]
    any_demo_url: str,
    checks: Database,
    settings: Settings,
    clock: FixedClock,
    spool: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _arrive(checks, clock)
    monkeypatch.setattr(ConfirmChanges, "ask", ConfirmChanges.ask)  # the real dialog
    settings.language = "zh_CN"
    window = make_window(any_demo_url)
    sign_in(qtbot, window, RM, "1234")
    page = _desk(window)
    holds(checks, "sign-in", window, Queue.SERVICE_DESK)

    def after(step: str) -> None:
        holds(checks, step, window, Queue.SERVICE_DESK)

    # 1. F5: the RM's own customer, called to this counter.
    press(qtbot, window, Qt.Key.Key_F5)
    after("F5")
    assert page.called is not None
    first = page.called.ticket
    assert _ticket(checks, GOVERNED) == ("service_desk:called", "1", RM)
    assert page.statuses["id_valid_to"].text() == "已过期"

    # 2. The renewed ID: 长期 ticked with the space bar, the issue date typed as printed, the
    # occupation chosen with ↓; Ctrl+S shows the customer the summary, Enter confirms.
    long_term = page.inputs["id_long_term"]
    start = page.inputs["id_valid_from"]
    occupation = page.inputs["occupation_code"]
    assert isinstance(long_term, QCheckBox) and isinstance(start, QLineEdit)
    assert isinstance(occupation, QComboBox)
    long_term.setFocus()
    press(qtbot, long_term, Qt.Key.Key_Space)
    assert long_term.isChecked() and not page.inputs["id_valid_to"].isEnabled()
    _retype(qtbot, start, "2026.11.20")
    occupation.setFocus()
    press(qtbot, occupation, Qt.Key.Key_Down)
    shown: list[list[str]] = []

    def confirm(dialog: QDialog) -> None:
        assert isinstance(dialog, ConfirmChanges)
        table = dialog.table
        shown.extend(
            [table.item(r, c).text() for c in range(3)]  # type: ignore[union-attr]
            for r in range(table.rowCount())
        )
        press(qtbot, dialog, Qt.Key.Key_Return)

    with answering(confirm):
        press(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert page.banner.tone == Tone.OK, page.banner.headline.text()
    assert ["证件有效期", "2006-09-10 至 2026-09-10", "2026-11-20 至 长期"] in shown
    after("governance saved")
    governed = _customer(checks, GOVERNED)
    assert governed.id_long_term and governed.id_valid_to is None
    assert governed.id_valid_from == date(2026, 11, 20) and governed.occupation_code == "5"
    with checks.unit_of_work() as uow:
        fields = set(uow.session.scalars(select(GovernanceChange.field)))
    assert {"id_long_term", "id_valid_from", "id_valid_to", "occupation_code"} <= fields

    # 3. Large print and English in the middle of the customer: still called here.
    page = change_layout(qtbot, window, "en")
    assert isinstance(page, ServiceDeskStation) and window.settings.large_print
    after("large print and English")
    assert page.called is not None and page.called.ticket == first
    assert page.statuses["id_valid_to"].text().startswith("✓")
    long_term = page.inputs["id_long_term"]
    assert isinstance(long_term, QCheckBox) and long_term.isChecked()

    # 4. F8: mobile banking opened (the ID is valid now).
    press(qtbot, window, Qt.Key.Key_F8)
    assert page.banner.tone == Tone.OK, page.banner.headline.text()
    after("F8")
    assert _customer(checks, GOVERNED).mobile_banking == MobileBanking.OPENED

    # 5. Transferred to RM003, typed into the real dialog: waiting for them, not called here.
    with answering(lambda dialog: keys(qtbot, dialog, "RM003", HUMAN)):
        qtbot.mouseClick(page.transfer_button, Qt.MouseButton.LeftButton)
    assert page.banner.headline.text() == f"{first} now waits for RM003."
    after("transfer")
    assert _ticket(checks, GOVERNED) == ("service_desk:waiting", None, "RM003")
    assert page.called is None

    # 6. F5: the RM's next customer, a no-show…
    press(qtbot, window, Qt.Key.Key_F5)
    after("F5 again")
    assert page.called is not None
    second = page.called.ticket
    assert second != first and _ticket(checks, NEXT)[:2] == ("service_desk:called", "1")
    qtbot.mouseClick(page.skip_button, Qt.MouseButton.LeftButton)
    after("no-show")
    assert _ticket(checks, NEXT)[0] == "service_desk:skipped" and page.called is None
    assert second in page.header.text()  # "set aside as a no-show", Back in queue still works

    # 7. …who turns up after all: back in the queue, and F5 calls them again (the
    # transferred customer waits for RM003).
    qtbot.mouseClick(page.requeue_button, Qt.MouseButton.LeftButton)
    after("back in queue")
    assert _ticket(checks, NEXT)[:2] == ("service_desk:waiting", None)
    press(qtbot, window, Qt.Key.Key_F5)
    after("F5 a third time")
    assert page.called is not None and page.called.ticket == second

    # 8. F9: on to activation with a new ticket; the desk is free.
    press(qtbot, window, Qt.Key.Key_F9)
    assert page.banner.tone == Tone.OK and "J001" in page.banner.headline.text()
    after("F9")
    assert _ticket(checks, NEXT)[:2] == ("activation:waiting", None)
    with checks.unit_of_work() as uow:
        statuses = uow.session.scalars(
            select(QueueEntry.status)
            .join(Visit, Visit.id == QueueEntry.visit_id)
            .join(Customer, Customer.id == Visit.customer_id)
            .where(Customer.customer_no == NEXT)
            .order_by(QueueEntry.id)
        ).all()
    assert statuses == [QueueStatus.DONE, QueueStatus.WAITING]
    assert page.called is None and not page.save_button.isEnabled()
    assert page.my_counts.text() == "Today: 1 governed, 1 mobile banking opened"
