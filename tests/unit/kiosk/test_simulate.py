"""``kiosk demo --simulate``: a demo day played through the real services leaves a
consistent event behind: every report agrees with the dashboard, the booths' redemptions all
reached the event database, the queues are empty, and the same seed plays the same day."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cli.main import main
from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import QueueEntry, Redemption, Slip, Visit
from kiosk.services.figures import event_figures
from kiosk.simulate import SimulationSummary
from tests.queue_support import assert_queues_hold
from tests.simulate_support import SIM_DATE, assert_reports_agree, simulate


@pytest.fixture(scope="module")
def simulated(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, SimulationSummary, FixedClock]:
    path = tmp_path_factory.mktemp("sim") / "event.sqlite3"
    summary, clock = simulate(path)
    return path, summary, clock


def test_the_day_is_consistent(
    simulated: tuple[Path, SimulationSummary, FixedClock], tmp_path: Path
) -> None:
    source, summary, clock = simulated
    shutil.copyfile(source, tmp_path / "event.sqlite3")
    database = open_database(f"sqlite:///{tmp_path / 'event.sqlite3'}")
    try:
        board = assert_reports_agree(database, clock, tmp_path)
        total = board.figures.total
        assert summary.refused == []
        assert total.arrived == summary.arrivals > 30
        assert total.walk_ins == summary.walk_ins == 5
        assert total.governed == summary.governed > 0
        assert total.mobile_banking_opened == summary.mobile_banking_opened > 0
        assert total.mobile_banking_activated == summary.logins > 0
        assert total.scan_pay == summary.scan_pays > 0
        assert total.slips == summary.slips - summary.voided > 0
        assert total.slips_redeemed == summary.redeemed > 0
        assert all(q.waiting == 0 and q.in_service == 0 for q in board.figures.queues)
        slots = board.figures.slots
        assert sum(s.early for s in slots) > 0 and sum(s.late for s in slots) > 0
        with database.unit_of_work() as uow:
            s = uow.session
            assert s.scalar(select(func.count(Visit.id))) == summary.arrivals
            assert (
                s.scalar(select(func.count(QueueEntry.id)).where(QueueEntry.status != "done")) == 0
            )
            # Every redemption a booth made reached the event database, without conflicts.
            assert s.scalar(select(func.count(Redemption.id))) == summary.redeemed
            assert (
                s.scalar(select(func.count(Redemption.id)).where(Redemption.conflict.is_not(None)))
                == 0
            )
            assert (
                s.scalar(select(func.count(Slip.id)).where(Slip.status == "voided"))
                == summary.voided
            )
            assert audit.verify(s) is None
            last = s.scalar(select(func.max(Visit.checked_in_at)))
        assert_queues_hold(database, "a simulated day")
        # The clock was simulated: the day's records carry the event day's times.
        assert last is not None and last.date() == SIM_DATE and clock.now() >= last
        timelines = {(t.interval.value, t.slot): t for t in board.figures.timelines}
        assert timelines[("arrival_to_activation", "")].count == total.arrived
        assert timelines[("activation_to_redemption", "")].count == total.redeemed
    finally:
        database.dispose()


def test_same_seed_same_day(
    simulated: tuple[Path, SimulationSummary, FixedClock], tmp_path: Path
) -> None:
    source, summary, clock = simulated
    again, clock_again = simulate(tmp_path / "again.sqlite3")
    assert clock_again.now() == clock.now()
    assert again.__dict__ == summary.__dict__
    figures = []
    for path in (source, tmp_path / "again.sqlite3"):
        database = open_database(f"sqlite:///{path}")
        figures.append(event_figures(database.unit_of_work(), clock=clock))
        database.dispose()
    assert figures[0] == figures[1]


def test_cli_demo_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    base = ["--lang", "en", "--db", url, "demo", "--no-gui", "--yes", "--date", "2026-11-28"]
    assert main([*base, "--speed", "10"]) == 1
    assert "--speed and --booth-dir go with --simulate." in capsys.readouterr().err
    booths = tmp_path / "booths"
    code = main([*base, "--invitees", "30", "--simulate", "--booth-dir", str(booths)])
    out = capsys.readouterr().out
    assert code == 0 and "Simulated day over at" in out and "09:00:" in out
    assert sorted(p.name for p in booths.glob("booth-*.sqlite3"))[:2] == [
        "booth-M01.sqlite3",
        "booth-M02.sqlite3",
    ]
    assert main(["--lang", "en", "--db", url, "report", "summary"]) == 0
    assert "## Invitation funnel" in capsys.readouterr().out
