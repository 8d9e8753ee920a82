"""A station whose network goes silent or is cut in the middle of an action (issue #23).

The station's engine is made as a station's is (``bound``, ``kiosk.netwait``) and reaches the
database through ``tests.tcp_proxy.LanCable``. ``freeze_at`` stops the proxy when the station
sends a given statement: the station has sent part of a transaction and then hears nothing,
neither an answer nor an error (on loopback the proxy's kernel acknowledges the bytes, so the
TCP timers never fire: only the station's own deadline ends the wait). Each test checks the
sentence the station gets, that the action ended within its bound instead of hanging, what
the database holds afterwards (by SQL, from outside the proxy), and that the station works
again once the network is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from kiosk import audit, netwait
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.errors import DatabaseBusy, DatabaseUnavailable, OutcomeUnknown
from kiosk.models import Customer, QueueEntry, Visit
from kiosk.services import reception
from kiosk.services.auth import StaffSession, staff_session
from tests.booth_support import MORNING
from tests.tcp_proxy import LanCable

# Bounds how long a cut-off action takes: in the one group of timing-sensitive tests
# (tests/conftest.py).
pytestmark = [pytest.mark.pg, pytest.mark.xdist_group("timing")]

# An action on a frozen network ends within one round trip's bound, or that plus a new
# connection's timeout when its COMMIT was cut off and the idempotency probe reconnects to
# ask; the margin is for a loaded test machine, far below "hangs" (no TCP timer fires here).
ENDS_WITHIN = netwait.STATION_BOUND + netwait.CONNECT_TIMEOUT + 3.0


@pytest.fixture
def cable(pg_station_demo_url: str) -> Iterator[LanCable]:
    with LanCable(pg_station_demo_url) as lan:
        yield lan


@pytest.fixture
def station(cable: LanCable) -> Iterator[Database]:
    database = open_database(cable.url, bound=netwait.STATION_BOUND)
    yield database
    database.dispose()


@pytest.fixture
def outside(pg_station_demo_url: str) -> Iterator[Database]:
    """The same database, not through the proxy: to see what was saved."""
    database = open_database(pg_station_demo_url)
    yield database
    database.dispose()


def _customer(db: Database, customer_no: str) -> int:
    with db.unit_of_work() as uow:
        found = uow.session.scalar(select(Customer.id).where(Customer.customer_no == customer_no))
    assert found is not None
    return found


def _visits(db: Database, customer: int) -> tuple[int, int]:
    """(visits, queue entries) of ``customer``, and the audit chain still verifies."""
    with db.unit_of_work() as uow:
        visits = uow.session.scalar(
            select(func.count()).select_from(Visit).where(Visit.customer_id == customer)
        )
        queued = uow.session.scalar(
            select(func.count())
            .select_from(QueueEntry)
            .join(Visit, QueueEntry.visit_id == Visit.id)
            .where(Visit.customer_id == customer)
        )
        assert audit.verify(uow.session) is None
    return int(visits or 0), int(queued or 0)


def _check_in(db: Database, customer: int, staff: StaffSession, request_id: str | None = None):  # type: ignore[no-untyped-def]
    return reception.check_in(
        db.unit_of_work(), customer, staff, clock=FixedClock(MORNING), request_id=request_id
    )


def test_a_frozen_network_mid_transaction_ends_the_action_in_words_and_saves_nothing(
    cable: LanCable, station: Database, outside: Database
) -> None:
    staff = staff_session(station.unit_of_work(), "R001", clock=FixedClock(MORNING))
    customer = _customer(station, "6200000042")
    cable.freeze_at(b"INSERT INTO visit")  # the check-in has read, and starts writing
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match=r"cannot be reached .* nothing was saved"):
        _check_in(station, customer, staff)
    assert time.monotonic() - started < ENDS_WITHIN
    assert cable.frozen()  # it was the silence that ended it, not an error from anywhere
    assert _visits(outside, customer) == (0, 0)

    cable.thaw()  # the network is back: the held INSERT arrives, then the closed connection
    assert _check_in(station, customer, staff).created  # the same station, the same action
    assert _visits(outside, customer) == (1, 1)


def test_a_frozen_commit_is_settled_by_its_request_id_once_the_network_is_back(
    cable: LanCable, station: Database, outside: Database
) -> None:
    """The COMMIT itself goes unanswered: the station cannot know whether it landed, says so,
    and doing it again with the same request id acts once, whichever way it went."""
    staff = staff_session(station.unit_of_work(), "R001", clock=FixedClock(MORNING))
    customer = _customer(station, "6200000043")
    cable.freeze_at(b"COMMIT")
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown, match=r"cannot be checked yet .* not be done twice"):
        _check_in(station, customer, staff, request_id="desk-1-0001")
    assert time.monotonic() - started < ENDS_WITHIN

    cable.thaw()  # the held COMMIT reaches the server now: the check-in lands after all
    deadline = time.monotonic() + 10
    while _visits(outside, customer) != (1, 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    again = _check_in(station, customer, staff, request_id="desk-1-0001")
    assert again.replayed  # the answer to the first, which had landed
    assert _visits(outside, customer) == (1, 1)  # once, not twice


def test_a_station_waiting_behind_a_silent_stations_lock_is_told_to_try_again(
    cable: LanCable, station: Database, pg_station_demo_url: str, outside: Database
) -> None:
    """One station goes silent holding its locks (its COMMIT never arrives); another station
    on a good network wants the same row: its server gives up first (lock_timeout) and it
    hears "try again", not a hang; once the first station's network is back both settle."""
    other = open_database(pg_station_demo_url, bound=netwait.STATION_BOUND)
    try:
        staff = staff_session(station.unit_of_work(), "R001", clock=FixedClock(MORNING))
        frozen_customer = _customer(station, "6200000044")
        waiting_customer = _customer(other, "6200000045")
        cable.freeze_at(b"COMMIT")  # held after the change counter's row was locked
        failed: list[BaseException] = []

        def silent_station() -> None:
            try:
                _check_in(station, frozen_customer, staff)
            except DatabaseUnavailable as error:
                failed.append(error)

        worker = threading.Thread(target=silent_station)
        worker.start()
        deadline = time.monotonic() + 10
        while not cable.frozen() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert cable.frozen()
        with pytest.raises(DatabaseBusy, match=r"took too long .* nothing was saved"):
            _check_in(other, waiting_customer, staff)
        worker.join(ENDS_WITHIN)
        assert not worker.is_alive() and failed  # the silent station ended in words too
        cable.thaw()
        assert _check_in(other, waiting_customer, staff).created
        assert _visits(outside, waiting_customer) == (1, 1)
        # The silent station's COMMIT arrived with the thaw: it either landed whole or not.
        assert _visits(outside, frozen_customer) in ((0, 0), (1, 1))
    finally:
        other.dispose()


def test_a_cable_cut_while_the_station_waits_ends_the_action_at_once(
    cable: LanCable, station: Database, outside: Database
) -> None:
    staff = staff_session(station.unit_of_work(), "R001", clock=FixedClock(MORNING))
    customer = _customer(station, "6200000046")
    cable.freeze_at(b"INSERT INTO visit")
    cutter = threading.Timer(0.5, cable.cut)  # the cable goes while the station waits
    cutter.start()
    with pytest.raises(DatabaseUnavailable, match=r"cannot be reached .* nothing was saved"):
        _check_in(station, customer, staff)
    cutter.join()
    assert _visits(outside, customer) == (0, 0)
    cable.plug()
    assert _check_in(station, customer, staff).created
    assert _visits(outside, customer) == (1, 1)


def test_a_long_operation_is_not_cut_by_a_stations_bound(cable: LanCable) -> None:
    """An import or a migration may take longer than a desk's round trip: inside
    ``patient()`` neither the client's deadline nor the server's timeouts apply."""
    bound = 1.0  # a short bound, so that outlasting it is quick
    database = open_database(cable.url, bound=bound)
    try:
        with pytest.raises(DatabaseBusy, match="took too long"), database.unit_of_work() as uow:
            uow.session.execute(text("SELECT pg_sleep(:s)"), {"s": bound + 0.2})
        with netwait.patient(), database.unit_of_work() as uow:
            uow.session.execute(text("SELECT pg_sleep(:s)"), {"s": bound + 0.2})
            assert uow.session.scalar(text("SHOW statement_timeout")) == "0"
        with database.unit_of_work() as uow:  # the next desk transaction is bounded again
            shown = {
                name: uow.session.scalar(text(f"SHOW {name}"))
                for name in (
                    "statement_timeout",
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                )
            }
        assert shown == {
            "statement_timeout": "800ms",
            "lock_timeout": "600ms",
            "idle_in_transaction_session_timeout": "3333ms",
        }
    finally:
        database.dispose()


def test_the_coordinators_station_works_patiently_and_the_desks_stay_bounded(
    cable: LanCable,
) -> None:
    """The admin station's exports read the whole event: its units of work are patient
    (``StationContext.patient``), the desks' are not, on the same engine, one after the other."""
    from ui.stations.admin import AdminStation
    from ui.stations.reception import ReceptionStation

    assert AdminStation.patient and not ReceptionStation.patient
    bound = 1.0
    database = open_database(cable.url, bound=bound)
    try:
        with database.unit_of_work(patient=True) as uow:
            uow.session.execute(text("SELECT pg_sleep(:s)"), {"s": bound + 0.2})
        with database.shared_read(patient=True) as uow:
            uow.session.execute(text("SELECT pg_sleep(:s)"), {"s": bound + 0.2})
        assert not netwait.is_patient()  # nothing left patient after the block
        with pytest.raises(DatabaseBusy, match="took too long"), database.unit_of_work() as uow:
            uow.session.execute(text("SELECT pg_sleep(:s)"), {"s": bound + 0.2})
    finally:
        database.dispose()


def test_a_new_connection_on_a_frozen_network_gives_up_in_time(
    cable: LanCable, station: Database, outside: Database
) -> None:
    """The pool is empty (the station just started, or dropped its connections) and the
    network is silent: the connection attempt ends at its timeout, said the same way."""
    staff = staff_session(station.unit_of_work(), "R001", clock=FixedClock(MORNING))
    customer = _customer(station, "6200000047")
    station.engine.dispose()
    cable.freeze()
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match=r"cannot be reached .* nothing was saved"):
        _check_in(station, customer, staff)
    assert time.monotonic() - started < netwait.CONNECT_TIMEOUT + 3.0
    cable.thaw()
    assert _check_in(station, customer, staff).created
    assert _visits(outside, customer) == (1, 1)


def test_a_station_gone_silent_holding_locks_loses_them_and_its_transaction(
    cable: LanCable, outside: Database, pg_station_demo_url: str
) -> None:
    """Frozen just before its COMMIT, the station holds the change counter's row lock, which
    every write needs. The server ends its session after idle_in_transaction_session_timeout
    (3.3 s at a 1 s bound), the lock goes, the other stations write again, and the silent
    station's transaction is gone: the COMMIT that arrives after the thaw finds nothing."""
    bound = 1.0
    silent = open_database(cable.url, bound=bound)
    other = open_database(pg_station_demo_url, bound=netwait.STATION_BOUND)
    try:
        staff = staff_session(silent.unit_of_work(), "R001", clock=FixedClock(MORNING))
        lost_customer = _customer(silent, "6200000048")
        next_customer = _customer(other, "6200000049")
        cable.freeze_at(b"COMMIT")
        with pytest.raises(DatabaseUnavailable):
            _check_in(silent, lost_customer, staff)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with outside.engine.connect() as connection:
                holding = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND state = 'idle in transaction'"
                    )
                )
            if not holding:
                break
            time.sleep(0.2)
        assert not holding  # the server ended the silent session
        assert _check_in(other, next_customer, staff).created  # the lock is free again
        cable.thaw()
        assert _visits(outside, lost_customer) == (0, 0)
        assert _check_in(silent, lost_customer, staff).created  # and the station works again
        assert _visits(outside, lost_customer) == (1, 1)
    finally:
        silent.dispose()
        other.dispose()
