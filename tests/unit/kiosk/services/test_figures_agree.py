"""One definition per figure (issue #16, symptom 14): the dashboard, the overview every station
starts from, reception's slot panel, the service desk's own counts, ``kiosk info`` and every
report show the same number for the same thing, and both funnels never rise from one stage to
the next. Checked on the demo event while a morning goes on and after a whole simulated day,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cli.main import main
from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.eventcopy import copy_event
from kiosk.models import Customer, Staff, Visit
from kiosk.services import activation, dashboard, desk, keys, reception, tracking
from kiosk.services.auth import staff_session
from kiosk.services.events import event_overview
from kiosk.services.figure_settings import set_figure_settings
from kiosk.services.figures import FUNNELS, Funnel, Stage, Step
from kiosk.services.slips import CartLine, issue_slips
from kiosk.simulate import SimulationSummary
from tests.gate_support import make_ready
from tests.simulate_support import assert_reports_agree, simulate

MORNING = FixedClock(datetime(2026, 11, 28, 1, 40, tzinfo=UTC))  # 09:40 at the venue


def assert_figures_agree(database: Database, clock: FixedClock, folder: Path) -> None:
    """Every place a figure is shown against the dashboard's, and the funnels nested."""
    folder.mkdir(parents=True, exist_ok=True)
    board = assert_reports_agree(database, clock, folder)  # the reports, as the dashboard
    f, total = board.figures, board.figures.total
    for which, stages in FUNNELS.items():
        counts = [total.stage(stage) for stage in stages]
        assert counts == sorted(counts, reverse=True), (which, counts)
    assert all(n <= total.arrived for _step, n in total.steps())

    overview = event_overview(database.unit_of_work())
    assert overview.counts["invitees"] == total.invited
    assert overview.counts["confirmed"] == total.confirmed
    assert overview.counts["visits"] == total.arrived
    assert overview.counts["slips"] == total.slips
    assert [(s.code, s.invited, s.confirmed) for s in overview.slots] == [
        (s.code, s.invited, s.expected) for s in f.slots
    ]
    assert sum(s.invited for s in overview.slots) == total.invited
    assert {b.code: b.total for b in overview.branches} == {
        b.code: b.invited for b in f.branches if b.invited
    }

    # Reception's slot panel: expected are the confirmed, as on the dashboard.
    expected = reception.slot_expected(database.unit_of_work())
    panel = reception.slot_arrivals(database.unit_of_work(), clock=clock, expected=expected)
    assert [(s.code, s.expected, s.arrived, s.is_current) for s in panel] == [
        (s.code, s.expected, s.arrived, s.is_current) for s in f.slots
    ]

    # The service desk's own counts add up to the event's (each visit governed once here).
    counts = desk.rm_counts(database.unit_of_work())
    assert sum(c.governed for c in counts) == total.governed
    assert sum(c.mobile_banking_opened for c in counts) == total.mobile_banking_opened

    progress = tracking.progress(database.unit_of_work()).total
    assert (progress.invitees, progress.confirmed) == (total.invited, total.confirmed)
    came = next(r for r in f.coverage if r.key == "attendance")
    assert (came.numerator, came.denominator) == (total.confirmed_arrived, total.confirmed)


def _dormant_arrived(database: Database) -> int:
    """Arrived customers flagged dormant, counted row by row."""
    with database.unit_of_work() as uow:
        return len(
            uow.session.scalars(
                select(Visit.id)
                .join(Customer, Customer.id == Visit.customer_id)
                .where(Customer.dormant.is_(True))
            ).all()
        )


def _info(capsys: pytest.CaptureFixture[str], url: str) -> dict[str, int]:
    assert main(["--lang", "en", "--db", url, "info"]) == 0
    found = {}
    for line in capsys.readouterr().out.splitlines():
        label, _sep, value = line.strip().rpartition("  ")
        if value.strip().isdigit():
            found[label.strip()] = int(value)
    return found


def test_the_demo_event_agrees_everywhere_as_the_morning_goes_on(
    any_demo_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_figures_agree(any_demo_db, MORNING, tmp_path / "before")
    board = dashboard.snapshot(any_demo_db.unit_of_work(), clock=MORNING)
    # The overview's 227 against the funnel's 240 (#16): declined invitations are invited.
    assert board.figures.total.invited == 240
    assert _info(capsys, str(any_demo_db.url))["Invited"] == 240

    # A morning: arrivals, a walk-in, someone governed and given mobile banking, slips.
    r001 = staff_session(any_demo_db.unit_of_work(), "R001", clock=MORNING)
    a001 = staff_session(any_demo_db.unit_of_work(), "A001", clock=MORNING)
    for number in ("6200000003", "6200000001", "6200000002", "6200000012"):
        customer = reception.resolve_code(any_demo_db.unit_of_work(), number)
        reception.check_in(any_demo_db.unit_of_work(), customer, r001, clock=MORNING)
    walk_in = reception.register_walk_in(
        any_demo_db.unit_of_work(),
        name="王来宾",
        phone="13912345678",
        branch_code="B01",
        staff=r001,
        clock=MORNING,
    )
    reception.check_in(any_demo_db.unit_of_work(), walk_in, r001, clock=MORNING)
    gappy = reception.resolve_code(any_demo_db.unit_of_work(), "6200000003")  # no occupation
    with any_demo_db.unit_of_work() as uow:
        rm_no = uow.session.scalar(
            select(Staff.staff_no)
            .join(Customer, Customer.rm_id == Staff.id)
            .where(Customer.id == gappy)
        )
    assert rm_no is not None
    rm = staff_session(any_demo_db.unit_of_work(), rm_no, clock=MORNING)
    called = desk.call_next(any_demo_db.unit_of_work(), rm, desk="D1", clock=MORNING)
    assert called is not None and called.customer_id == gappy  # the RM's own customer first
    form = desk.current_form(any_demo_db.unit_of_work(), gappy)
    desk.save_governance(
        any_demo_db.unit_of_work(),
        gappy,
        replace(form, occupation_code="2"),
        rm,
        visit_id=called.visit_id,
        clock=MORNING,
    )
    desk.open_mobile_banking(
        any_demo_db.unit_of_work(), gappy, rm, visit_id=called.visit_id, clock=MORNING
    )
    ready = reception.resolve_code(any_demo_db.unit_of_work(), "6200000001")
    make_ready(any_demo_db, ready)
    with audit.unaudited(), any_demo_db.unit_of_work() as uow:  # test setup: the snapshot's
        uow.session.execute(update(Customer).where(Customer.id == ready).values(dormant=True))
        uow.commit()
    dormant_before = _dormant_arrived(any_demo_db)
    activation.record_step(
        any_demo_db.unit_of_work(), ready, activation.Step.MOBILE_BANKING_LOGIN, a001,
        clock=MORNING,
    )  # fmt: skip
    key = keys.unlock(any_demo_db.unit_of_work(), DEMO_PASSPHRASE)
    issue_slips(any_demo_db.unit_of_work(), ready, [CartLine("O501")], a001, key, clock=MORNING)
    s001 = staff_session(any_demo_db.unit_of_work(), "S001", clock=MORNING)
    set_figure_settings(
        any_demo_db.unit_of_work(), s001, bank_points_stock=3_000_000_000, clock=MORNING
    )

    assert_figures_agree(any_demo_db, MORNING, tmp_path / "morning")
    f = dashboard.snapshot(any_demo_db.unit_of_work(), clock=MORNING).figures
    total = f.total
    assert (total.arrived, total.walk_ins, total.slips_issued) == (5, 1, 1)
    # The login cleared the dormant flag; the figures still count the customer, once.
    assert total.dormant_reactivated == 1 and total.dormant_arrived == dormant_before
    assert f.points.bank_stock == 3_000_000_000
    assert f.points.stock is not None
    assert f.points.stock.customers_stock >= f.points.invitee_stock  # the demo's lots: no expiry
    assert (total.governed, total.mobile_banking_opened) == (1, 1)
    assert total.confirmed_arrived <= total.confirmed and total.confirmed_arrived <= 4
    info = _info(capsys, str(any_demo_db.url))
    assert (info["Invited"], info["Confirmed"], info["Arrived"]) == (
        total.invited,
        total.confirmed,
        total.arrived,
    )


@pytest.fixture(scope="module")
def simulated_day(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, SimulationSummary, FixedClock]:
    path = tmp_path_factory.mktemp("day") / "event.sqlite3"
    summary, clock = simulate(path, invitees=60, seed=3)  # a day with a gate override
    return path, summary, clock


def test_a_simulated_day_agrees_everywhere(
    simulated_day: tuple[Path, SimulationSummary, FixedClock],
    any_empty_url: str,
    tmp_path: Path,
) -> None:
    """The day's database copied to each backend: the same figures everywhere, true funnels,
    and the steps the simulation counted itself."""
    source, summary, clock = simulated_day
    copy_event(f"sqlite:///{source}", any_empty_url)
    database = open_database(any_empty_url)
    try:
        assert_figures_agree(database, clock, tmp_path)
        total = dashboard.snapshot(database.unit_of_work(), clock=clock).figures.total
        # The issue's contradiction: more logins at the activation desk than accounts opened
        # at the service desk is fine for steps, which are shown apart from the funnels.
        steps = dict(total.steps())
        assert steps[Step.MOBILE_BANKING_ACTIVATED] == summary.logins
        assert steps[Step.MOBILE_BANKING_OPENED] == summary.mobile_banking_opened
        assert steps[Step.GATE_OVERRIDDEN] == summary.overrides > 0
        day = [n for _stage, n in total.funnel(Funnel.DAY)]
        assert day[0] == summary.arrivals and day[0] > day[1] > day[2] > 0
        invitations = dict(total.funnel(Funnel.INVITATIONS))
        assert invitations[Stage.INVITED] == 60 > invitations[Stage.CONFIRMED]
        assert invitations[Stage.CONFIRMED_ARRIVED] < total.arrived  # walk-ins, unconfirmed
    finally:
        database.dispose()
