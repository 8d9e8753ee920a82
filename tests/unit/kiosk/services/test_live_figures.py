"""The dashboard's incremental figures (``kiosk.services.live_figures``, issue #23) equal a full
recomputation (``figures.event_figures``, what the reports read) after a simulated day and
after every further check-in, slip, void and change between two refreshes, on SQLite and
PostgreSQL; and a refresh recomputes only the customers that changed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE, DEMO_PIN
from kiosk.eventcopy import copy_event
from kiosk.models import Invitation, Slip, SlipStatus, Visit
from kiosk.permissions import Action
from kiosk.services import dashboard, keys, reception, slips
from kiosk.services.approval import approve
from kiosk.services.auth import staff_session
from kiosk.services.figures import EventFigures, event_figures
from kiosk.services.live_figures import LiveFigures
from kiosk.simulate import SimulationSummary
from tests.gate_support import make_ready
from tests.simulate_support import simulate


@pytest.fixture(scope="module")
def simulated_day(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, SimulationSummary, FixedClock]:
    path = tmp_path_factory.mktemp("day") / "event.sqlite3"
    summary, clock = simulate(path, invitees=60, seed=5)
    return path, summary, clock


@pytest.fixture
def day_db(
    simulated_day: tuple[Path, SimulationSummary, FixedClock], any_empty_url: str
) -> Database:
    source, _summary, _clock = simulated_day
    copy_event(f"sqlite:///{source}", any_empty_url)
    database = open_database(any_empty_url)
    yield database  # type: ignore[misc]
    database.dispose()


def _both(database: Database, live: LiveFigures, clock: FixedClock) -> EventFigures:
    """The live figures, checked against a full recomputation read right after."""
    fast = live.figures(database.unit_of_work(), clock=clock)
    full = event_figures(database.unit_of_work(), clock=clock)
    assert fast == full
    return fast


def _not_arrived(database: Database, n: int) -> list[int]:
    with database.unit_of_work() as uow:
        came = select(Visit.customer_id)
        return list(
            uow.session.scalars(
                select(Invitation.customer_id)
                .where(Invitation.customer_id.not_in(came))
                .order_by(Invitation.id)
                .limit(n)
            )
        )


def test_live_figures_equal_a_full_recomputation_as_the_day_goes_on(
    day_db: Database, simulated_day: tuple[Path, SimulationSummary, FixedClock]
) -> None:
    _source, summary, clock = simulated_day
    live = LiveFigures()
    first = _both(day_db, live, clock)
    assert live.recomputed == -1  # the first refresh reads everything
    assert first.total.arrived == summary.arrivals > 0
    assert first.total.slips_redeemed > 0 and first.timelines
    _both(day_db, live, clock)
    assert live.recomputed == 0  # nothing changed: nothing read again

    # Two more check-ins, then a refresh.
    r001 = staff_session(day_db.unit_of_work(), "R001", clock=clock)
    late = _not_arrived(day_db, 3)
    assert len(late) == 3
    for customer_id in late[:2]:
        reception.check_in(day_db.unit_of_work(), customer_id, r001, clock=clock)
    after = _both(day_db, live, clock)
    assert live.recomputed == 2
    assert after.total.arrived == first.total.arrived + 2

    # Slips issued to the third, then one voided (its points given back), refreshed between.
    customer_id = late[2]
    reception.check_in(day_db.unit_of_work(), customer_id, r001, clock=clock)
    make_ready(day_db, customer_id)
    a001 = staff_session(day_db.unit_of_work(), "A001", clock=clock)
    key = keys.unlock(day_db.unit_of_work(), DEMO_PASSPHRASE)
    issued = slips.issue_slips(
        day_db.unit_of_work(), customer_id, [slips.CartLine("O501")], a001, key, clock=clock
    )
    with_slip = _both(day_db, live, clock)
    assert live.recomputed == 1
    assert with_slip.total.slips == after.total.slips + 1
    supervisor = next(no for no in ("S001", "RM001", "RM002") if _is_supervisor(day_db, no, clock))
    approval = approve(
        day_db.unit_of_work(), supervisor, DEMO_PIN, action=Action.VOID_SLIP, clock=clock
    )
    slips.void_slip(
        day_db.unit_of_work(),
        issued[0].serial,
        a001,
        reason="客户改选",
        approval=approval,
        clock=clock,
    )
    voided = _both(day_db, live, clock)
    assert voided.total.slips == after.total.slips
    assert live.recomputed >= 1

    # A slip redeemed and a customer's points changed in one refresh: both customers again.
    with day_db.unit_of_work() as uow:
        slip = uow.session.scalars(
            select(Slip).where(Slip.status == SlipStatus.ISSUED).order_by(Slip.id)
        ).first()
        assert slip is not None
        slip.status = SlipStatus.REDEEMED
        from kiosk import audit

        with audit.unaudited():
            uow.session.execute(
                text("UPDATE customer SET points_balance = points_balance + 7 WHERE id = :c"),
                {"c": late[0]},
            )
            uow.commit()
    both = _both(day_db, live, clock)
    assert both.total.slips_redeemed == voided.total.slips_redeemed + 1
    assert both.total.points_stock == voided.total.points_stock + 7
    assert live.recomputed == 2

    # The dashboard's own refresh, as the station makes it, gives the same.
    board = dashboard.snapshot(day_db.unit_of_work(), clock=clock, live=live)
    assert board.figures == both


def _is_supervisor(database: Database, staff_no: str, clock: FixedClock) -> bool:
    from kiosk.errors import KioskError

    try:
        approve(database.unit_of_work(), staff_no, DEMO_PIN, action=Action.VOID_SLIP, clock=clock)
    except KioskError:
        return False
    return True


@pytest.mark.pg
def test_a_change_committed_after_a_later_one_is_not_missed(
    simulated_day: tuple[Path, SimulationSummary, FixedClock], pg_url: str
) -> None:
    """On PostgreSQL a transaction that wrote first but commits last: its log row has the
    smaller id, yet the refresh in between must not step over it."""
    source, _summary, clock = simulated_day
    copy_event(f"sqlite:///{source}", pg_url)
    database = open_database(pg_url)
    slow = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        live = LiveFigures()
        before = _both(database, live, clock)
        late = _not_arrived(database, 1)
        with database.unit_of_work() as uow:
            invitee = uow.session.scalars(select(Invitation.customer_id)).first()
        with slow.connect() as connection:
            connection.execute(
                text("UPDATE customer SET points_balance = points_balance + 5 WHERE id = :c"),
                {"c": invitee},
            )  # written (and logged), not committed yet
            r001 = staff_session(database.unit_of_work(), "R001", clock=clock)
            reception.check_in(database.unit_of_work(), late[0], r001, clock=clock)
            between = _both(database, live, clock)
            assert between.total.arrived == before.total.arrived + 1
            assert between.total.points_stock == before.total.points_stock
            connection.commit()
        after = _both(database, live, clock)
        assert after.total.points_stock == before.total.points_stock + 5
    finally:
        slow.dispose()
        database.dispose()


def _drop_figure_triggers(database: Database) -> None:
    """Test setup: the schema without migration 0018's triggers, to compare against."""
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            dropped = connection.scalars(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname = 'figure_change'"
                )
            ).all()
            for table in dropped:
                connection.execute(text(f'DROP TRIGGER figure_change ON "{table}"'))
        else:
            dropped = connection.scalars(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND name LIKE 'figure_change_%'"
                )
            ).all()
            for name in dropped:
                connection.execute(text(f'DROP TRIGGER "{name}"'))
    assert len(dropped) >= 10  # one per table (three per table on SQLite)


def test_the_log_costs_a_check_in_no_round_trip(
    day_db: Database, simulated_day: tuple[Path, SimulationSummary, FixedClock]
) -> None:
    """The triggers write the log inside the statements the desks send anyway: a check-in
    (and its slips' and steps' writes alike) sends exactly as many round trips with them as
    without them."""
    from kiosk import roundtrips

    _source, _summary, clock = simulated_day
    warm, first, second = _not_arrived(day_db, 3)
    r001 = staff_session(day_db.unit_of_work(), "R001", clock=clock)
    # A station's first action reads the current event once more (it has none remembered);
    # both counted check-ins come after one, as on a desk that has been working.
    reception.check_in(day_db.unit_of_work(), warm, r001, clock=clock)
    with day_db.unit_of_work() as uow:
        logged = uow.session.scalar(text("SELECT count(*) FROM figure_change"))
    with roundtrips.count(day_db.engine) as logging:
        reception.check_in(day_db.unit_of_work(), first, r001, clock=clock)
    with day_db.unit_of_work() as uow:
        assert uow.session.scalar(text("SELECT count(*) FROM figure_change")) > logged
    _drop_figure_triggers(day_db)
    with roundtrips.count(day_db.engine) as plain:
        reception.check_in(day_db.unit_of_work(), second, r001, clock=clock)
    assert logging.total == plain.total > 0, (str(logging), str(plain))


def test_a_new_set_up_is_read_again_elsewhere_when_asked(
    day_db: Database, simulated_day: tuple[Path, SimulationSummary, FixedClock]
) -> None:
    """``reload=False`` (the station's refresh): a refresh that would have to read the whole
    event gives None instead and says it is not ready, so the dashboard reads in full once
    and reads the event again on its thread; the figures stay right throughout."""
    from kiosk import audit
    from kiosk.models import TimeSlot

    _source, _summary, clock = simulated_day
    live = LiveFigures()
    assert live.figures(day_db.unit_of_work(), clock=clock, reload=False) is None
    assert not live.ready
    _both(day_db, live, clock)
    assert live.ready
    with audit.unaudited(), day_db.unit_of_work() as uow:  # test setup: a slot moved
        slot = uow.session.scalars(select(TimeSlot).order_by(TimeSlot.id)).first()
        assert slot is not None
        slot.ends_at = slot.ends_at + timedelta(minutes=30)
        uow.commit()
    board = dashboard.snapshot(day_db.unit_of_work(), clock=clock, live=live, reload=False)
    assert not live.ready
    assert board.figures == event_figures(day_db.unit_of_work(), clock=clock)
    _both(day_db, live, clock)  # read again (the station's thread), then right again
    assert live.ready and live.recomputed == -1
