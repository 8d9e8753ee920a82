"""After an action a station refreshes once, in one read, and the echo of its own write in the
change counter reloads nothing (``ui.operations``, ``ui.live``).

Counted in SQL statements (SQLAlchemy's ``before_cursor_execute``): on SQLite every
transaction opens with ``BEGIN IMMEDIATE`` (``kiosk.db``), so the transactions after the
action's own commit (the bump of the change counter) are the station's reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import event, select

from kiosk.changes import COUNTER_SQL
from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import Customer, Invitation, Queue
from kiosk.services import reception
from kiosk.services.activation import Step
from kiosk.services.auth import staff_session
from ui.main_window import MainWindow
from ui.stations.activation import ActivationStation
from ui.stations.reception import ReceptionStation
from ui.stations.service_desk import ServiceDeskStation

from .conftest import sign_in

pytestmark = pytest.mark.ui


@contextmanager
def statements(window: MainWindow) -> Iterator[list[str]]:
    """Every SQL statement the window's database runs inside the block."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = window.app.database.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def reads_after_the_commit(seen: list[str]) -> int:
    """Transactions begun after the action's commit (its bump of the change counter)."""
    bumps = [i for i, s in enumerate(seen) if s.startswith("UPDATE change_counter")]
    assert len(bumps) == 1, seen  # the action wrote once
    return sum(s.startswith("BEGIN") for s in seen[bumps[0] + 1 :])


def assert_echo_reloads_nothing(window: MainWindow) -> None:
    """The next poll of the change counter finds this window's own write: no refresh."""
    link = window.link
    assert link is not None
    emitted: list[bool] = []
    link.changed.connect(lambda: emitted.append(True))
    echoes = link.echoes
    with statements(window) as seen:
        link.poll()
    assert link.echoes == echoes + 1 and not emitted
    assert [s for s in seen if not s.startswith("BEGIN")] == [COUNTER_SQL]


def quiet_link(window: MainWindow) -> None:
    """The link polled by hand: it has read the counter once, and the timer is stopped."""
    link = window.link
    assert link is not None
    link.timer.stop()
    link.poll()
    assert link.value is not None


def test_call_next_at_the_service_desk_refreshes_with_one_read(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    clock: FixedClock,
) -> None:
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        customer = uow.session.scalars(
            select(Customer).where(Customer.rm_id.is_not(None)).order_by(Customer.id)
        ).first()
        assert customer is not None and customer.rm is not None
        customer_id, rm_no = customer.id, customer.rm.staff_no
    r001 = staff_session(database.unit_of_work(), "R001")
    reception.check_in(
        database.unit_of_work(), customer_id, r001, route=Queue.SERVICE_DESK, clock=clock
    )
    database.dispose()
    window = make_window(demo_url)
    sign_in(qtbot, window, rm_no, "1234")
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation)
    quiet_link(window)

    with statements(window) as seen:
        qtbot.keyClick(station, Qt.Key.Key_F5)
    assert station.called is not None and station.called.customer_id == customer_id
    assert station.queue.rowCount() == 0 and station.timeline.count() == 2  # shown, fresh
    assert reads_after_the_commit(seen) == 1
    assert_echo_reloads_nothing(window)


def test_a_check_in_at_reception_refreshes_with_one_read(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
) -> None:
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        code = uow.session.scalars(select(Invitation.code).order_by(Invitation.id)).first()
    database.dispose()
    assert code is not None
    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    station = window.current_station()
    assert isinstance(station, ReceptionStation)
    quiet_link(window)

    qtbot.keyClicks(station.field, code)
    with statements(window) as seen:
        qtbot.keyClick(station.field, Qt.Key.Key_Return)
    assert station.card is not None and station.card.visit is not None
    assert reads_after_the_commit(seen) == 1
    assert_echo_reloads_nothing(window)


def test_call_next_and_a_step_at_the_activation_desk_refresh_with_one_read(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    clock: FixedClock,
) -> None:
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        customer_id = uow.session.scalars(select(Customer.id).order_by(Customer.id)).first()
    assert customer_id is not None
    r001 = staff_session(database.unit_of_work(), "R001")
    reception.check_in(
        database.unit_of_work(), customer_id, r001, route=Queue.ACTIVATION, clock=clock
    )
    database.dispose()
    window = make_window(demo_url)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    quiet_link(window)

    with statements(window) as seen:
        qtbot.keyClick(station, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == customer_id
    assert station.queue.rowCount() == 0 and station.timeline.count() == 2
    assert reads_after_the_commit(seen) == 1
    assert_echo_reloads_nothing(window)

    with statements(window) as seen:
        qtbot.keyClick(station, Qt.Key.Key_F7)  # charity scan-pay
    assert station.customer.steps.get(Step.CHARITY_PAID) is not None
    assert reads_after_the_commit(seen) == 1
    assert_echo_reloads_nothing(window)


def test_another_laptops_change_after_an_action_still_refreshes(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    clock: FixedClock,
) -> None:
    """Only the window's own commits are an echo: one from another laptop in between is not."""
    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    station = window.current_station()
    assert isinstance(station, ReceptionStation)
    quiet_link(window)
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        first, second = uow.session.scalars(
            select(Invitation.code).order_by(Invitation.id).limit(2)
        ).all()
    qtbot.keyClicks(station.field, first)
    qtbot.keyClick(station.field, Qt.Key.Key_Return)  # this laptop's check-in
    assert station.card is not None and station.card.visit is not None
    other = reception.resolve_code(database.unit_of_work(), second)
    r001 = staff_session(database.unit_of_work(), "R001")
    reception.check_in(database.unit_of_work(), other, r001, clock=clock)  # another laptop's
    database.dispose()
    link = window.link
    assert link is not None
    emitted: list[bool] = []
    link.changed.connect(lambda: emitted.append(True))
    link.poll()
    assert emitted == [True]
