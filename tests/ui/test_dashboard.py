"""The dashboard station on the small hand-computed event: it shows the figures the event
summary report prints, alerts in colour and words, follows the alert limits, refreshes by
itself; and the administration station writes the reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import QueueEntry
from kiosk.services.dashboard import Thresholds
from kiosk.services.figures import Step
from printing.event_reports import write_event_report
from tests.figures_support import NOW, at, build_small_event
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.admin import AdminStation, FileChooser
from ui.stations.dashboard import DashboardStation, LimitsDialog
from ui.widgets import Tone

from .conftest import sign_in

pytestmark = pytest.mark.ui


@pytest.fixture
def small_url(empty_url: str) -> str:
    database = open_database(empty_url)
    build_small_event(database)
    database.dispose()
    return empty_url


def open_station(qtbot: QtBot, window: MainWindow, title: str) -> object:
    sign_in(qtbot, window, "S001", "1234")
    window.switcher.setCurrentRow(window.station_titles().index(title))
    return window.current_station()


def open_dashboard(qtbot: QtBot, window: MainWindow) -> DashboardStation:
    station = open_station(qtbot, window, "Dashboard")
    assert isinstance(station, DashboardStation)
    return station


def text(station: DashboardStation, name: str) -> str:
    from PySide6.QtWidgets import QLabel

    label = station.findChild(QLabel, name)
    assert label is not None, name
    return label.text()


def rows(path: Path, title: str) -> dict[object, list[object]]:
    sheet = openpyxl.load_workbook(path)[title]
    return {  # table rows only, not the note below the table
        row[0]: list(row[1:])
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if any(v is not None for v in row[1:])
    }


def test_dashboard_shows_the_report_figures(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    small_url: str,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    clock.at = NOW
    window = make_window(small_url)
    station = open_dashboard(qtbot, window)
    assert window.station_titles()[-3:] == ["Dashboard", "Administration", "My customers"]
    xlsx, _pdf = write_event_report(
        "summary", window.app.database.unit_of_work, tmp_path, clock=clock
    )
    funnel = rows(xlsx, "Invitation funnel") | rows(xlsx, "Funnel of the day")
    # The funnel chart draws the report's funnel, stage by stage.
    assert [(bar.label, bar.value) for bar in station.funnel.bars] == [
        (stage, values[0]) for stage, values in funnel.items()
    ]
    # Two funnels; each stage's share of the stage before it, never more than all of it.
    assert [bar.text for bar in station.funnel.bars] == [
        "5", "3 · 60%", "3 · 100%", "5", "2 · 40%", "1 · 50%",
    ]  # fmt: skip
    # The steps at the desks beside it, each of the five arrivals: not a funnel.
    steps = rows(xlsx, "Steps at the desks")
    shown = [text(station, f"step_{step.value}") for step in Step]
    assert shown == [f"{values[0]} · {round(100 * values[1])}%" for values in steps.values()]
    assert shown == ["2 · 40%", "1 · 20%", "1 · 20%", "2 · 40%", "0 · 0%"]
    points = rows(xlsx, "Points")
    assert text(station, "kpi_arrived") == str(funnel["Arrived"][0]) == "5"
    assert "3 of 3 confirmed came (100%); 1 walk-ins" in text(station, "kpi_arrived_detail")
    assert text(station, "kpi_slips") == str(funnel["Customers with slips"][0])
    assert text(station, "kpi_points") == f"{points['Points redeemed at merchants'][0]:,}"
    # The ratio as the bank counts it on the tile; beside it in the points card, each ratio
    # with what it divides by, the invitees' own labelled as not the bank's.
    assert "3.6% as the bank counts; 2 slips redeemed" in text(station, "kpi_points_detail")
    every = points["Points of every customer (spendable on the event day)"][0]
    assert text(station, "points_bank_ratio") == f"3.6% of {every:,}" == "3.6% of 165,000"
    assert text(station, "points_bank_stock_ratio") == "0.1% of 10,000,000"
    assert text(station, "points_invitee_ratio") == "8.2% of 73,000"
    invitees = "Invitees' redemption ratio (redeemed / invitees' points; not the bank's)"
    assert points[invitees][0] == pytest.approx(0.082, abs=0.0005)
    expiring = "Invitees' points expiring before the next event (2026-11-28 to 2027-11-27)"
    assert points[expiring][0] == 12_000
    assert text(station, "points_expiring") == "12,000 points, 1 customers, until 2027-11-27"
    assert points["Dormant customers reactivated"][0] == 1
    assert text(station, "points_reactivated") == "1 of 2 who came"
    station.refresh()  # a quick refresh (no timelines, no stock) keeps the last stock shown
    assert station.board is not None and station.board.figures.points.stock is None
    assert text(station, "points_bank_ratio") == "3.6% of 165,000"
    assert text(station, "points_expiring") == "12,000 points, 1 customers, until 2027-11-27"
    tiers = rows(xlsx, "Points redeemed per tier")
    assert (
        [(b.label, b.value, b.text) for b in station.tiers.bars]
        == [
            (name, values[2], f"{values[2]:,} · {round(100 * values[3])}%")
            for name, values in tiers.items()
            if name != "Total"
        ]
        == [("金卡", 1000, "1,000 · 17%"), ("No tier", 5000, "5,000 · 83%")]
    )
    queues = rows(xlsx, "Queues")
    assert text(station, "kpi_service_desk") == str(queues["Service desk"][0]) == "1"
    assert "longest wait 170 min" in text(station, "kpi_service_desk_detail")
    assert text(station, "kpi_activation") == str(queues["Activation desk"][0]) == "2"
    slots = rows(xlsx, "Attendance by slot")
    assert [(b.label, b.value, b.target) for b in station.slots.bars] == [
        (label, values[4], values[3]) for label, values in slots.items() if label != "Walk-ins"
    ]
    branches = rows(xlsx, "Attendance by branch")
    assert [(b.label, b.value, b.target) for b in station.branches.bars] == [
        (values[0], values[3], values[2]) for code, values in branches.items() if code != "Total"
    ]
    assert [(b.label, b.value, b.target, b.text) for b in station.offers.bars] == [
        ("深度体检", 1, 1, "0 left"),
        ("基础体检", 3, 10, "7 left"),
    ]
    timelines = openpyxl.load_workbook(xlsx)["Visit timelines"]
    found = {(r[0], r[1]): (r[3], r[4]) for r in timelines.iter_rows(min_row=2, values_only=True)}
    median, p90 = found[("Arrival → service desk", "All slots")]
    assert text(station, "timeline_arrival_to_desk_all") == f"{median:.0f} / {p90:.0f}" == "10 / 20"
    assert text(station, "timeline_desk_to_activation_PM") == "–"
    # Alerts in colour and words, the worst first.
    assert station.alerts.tone == Tone.ERROR
    assert station.alerts.headline.text() == "3 alerts"
    detail = station.alerts.detail.text().splitlines()
    assert detail[0].startswith("⊘ Service desk: 1 waiting, the first since 11:40 (170 min")
    assert "深度体检 (康宁体检中心) is fully booked." in detail[2]
    assert text(station, "as_of").startswith("As of 14:30:00")


def test_limits_are_kept_and_change_the_alerts(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    small_url: str,
    clock: FixedClock,
    settings: Settings,
) -> None:
    clock.at = at(1, 0)  # 09:00: only the full offer alerts
    window = make_window(small_url)
    station = open_dashboard(qtbot, window)
    dialog = LimitsDialog(station.thresholds, station)
    qtbot.addWidget(dialog)
    assert (dialog.wait.value(), dialog.crowding.value(), dialog.offer.value()) == (15, 90, 10)
    dialog.wait.setValue(5)
    dialog.crowding.setValue(70)
    dialog.offer.setValue(0)
    station.apply_limits(dialog.thresholds())
    assert settings.dashboard_thresholds() == Thresholds(5, 70, 0)
    # At 09:00 c1 arrived (early), the AM slot has 1 of 4 arrivals... and later ones come in.
    clock.at = NOW
    station.refresh()
    kinds = [(a.kind, a.subject) for a in station.board.alerts]  # type: ignore[union-attr]
    assert kinds == [
        ("queue_wait", "service_desk"),
        ("queue_wait", "activation"),
        ("offer_capacity", "O2"),
        ("slot_crowding", "AM"),
    ]
    assert any("limit 70%" in line for line in station.alerts.detail.text().splitlines())
    # A window opened later reads the same limits.
    window.sign_out()
    again = open_dashboard(qtbot, window)
    assert again.thresholds == Thresholds(5, 70, 0)


def test_refreshes_by_itself_while_on_screen(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], small_url: str, clock: FixedClock
) -> None:
    clock.at = NOW
    window = make_window(small_url)
    station = open_dashboard(qtbot, window)
    # Every 5 s, or ten times a refresh's own time when the machine is slow (a busy CI host).
    assert station.timer.isActive() and station.timer.interval() >= 5000
    station.refresh_ms = 50
    station.refresh()
    assert station.timer.interval() < 5000
    # The live figures read the event on their thread; from then on a refresh reads only
    # what changed, and the change below must show all the same.
    qtbot.waitUntil(lambda: station.live.ready, timeout=10000)
    before = station.refreshes
    assert text(station, "kpi_activation") == "2"
    with (
        audit.unaudited(),
        window.app.database.unit_of_work() as uow,
    ):  # test setup: another desk calls the walk-in
        uow.session.execute(
            update(QueueEntry)
            .where(QueueEntry.queue == "activation", QueueEntry.enqueued_at == at(6, 0))
            .values(status="called", called_at=at(6, 29))
        )
        uow.commit()
    qtbot.waitUntil(lambda: station.refreshes >= before + 2, timeout=3000)
    assert station.live.recomputed >= 0  # the live figures, not a full reading
    assert text(station, "kpi_activation") == "1"
    assert "1 being served" in text(station, "kpi_activation_detail")
    window.switcher.setCurrentRow(0)  # another station: the dashboard stops refreshing
    assert not station.timer.isActive()
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert window.current_station() is station and station.timer.isActive()


def test_no_alerts_is_said_in_green(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str, clock: FixedClock
) -> None:
    station = open_dashboard(qtbot, make_window(demo_url))
    assert station.alerts.tone == Tone.OK
    assert station.alerts.headline.text().startswith("No alerts (limits: waits from 15 min")
    assert station.funnel.bars[0].value == 240 and station.branches.bars


def test_admin_writes_the_reports(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    small_url: str,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.at = NOW
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(FileChooser, "directory", classmethod(lambda cls, parent, title: folder))
    station = open_station(qtbot, make_window(small_url), "Administration")
    assert isinstance(station, AdminStation)
    station.tabs.setCurrentWidget(station.reports)
    qtbot.mouseClick(station.reports.buttons["rm"], Qt.MouseButton.LeftButton)
    assert sorted(p.name for p in folder.iterdir()) == ["report-rm.pdf", "report-rm.xlsx"]
    assert station.reports.banner.tone == Tone.OK
    assert rows(folder / "report-rm.xlsx", "Per RM")["RM001"][2] == 3
    qtbot.mouseClick(station.reports.buttons["all"], Qt.MouseButton.LeftButton)
    assert len(list(folder.iterdir())) == 12  # six reports, the settlement among them
    assert (folder / "report-settlement.xlsx").exists()
    assert station.reports.banner.headline.text() == f"12 files written to {folder}"


def test_admin_sets_the_bank_stock_and_next_event_for_the_dashboard(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    small_url: str,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    clock.at = NOW
    window = make_window(small_url)
    station = open_station(qtbot, window, "Administration")
    assert isinstance(station, AdminStation)
    panel = station.figure_settings
    station.tabs.setCurrentWidget(panel)
    assert panel.stock.text() == "10,000,000" and not panel.next_given.isChecked()
    assert "2027-11-28" in panel.default_hint.text()
    # A typo is refused before anything is written.
    panel.stock.setText("12 million")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.ERROR and "12 million" in panel.banner.detail.text()
    panel.stock.setText("1,500,000,000")
    panel.next_given.setChecked(True)
    panel.next_event.setDate(QDate(2028, 6, 1))
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK, panel.banner.detail.text()
    assert "1,500,000,000 points" in panel.banner.headline.text()
    dashboard_station = open_dashboard(qtbot, window)
    dashboard_station.refresh()
    assert text(dashboard_station, "points_bank_stock_ratio") == "0.0004% of 1,500,000,000"
    assert text(dashboard_station, "points_expiring").endswith("until 2028-05-31")
    xlsx, _pdf = write_event_report(
        "summary", window.app.database.unit_of_work, tmp_path, clock=clock
    )
    points = rows(xlsx, "Points")
    assert points["Bank's whole points stock"][0] == 1_500_000_000
    assert "Invitees' points expiring before the next event (2026-11-28 to 2028-05-31)" in points
    # Emptied: not known again.
    station = open_station(qtbot, window, "Administration")
    assert isinstance(station, AdminStation)
    station.tabs.setCurrentWidget(station.figure_settings)
    station.figure_settings.stock.setText("")
    qtbot.mouseClick(station.figure_settings.save_button, Qt.MouseButton.LeftButton)
    assert "not given" in station.figure_settings.banner.headline.text()
    dashboard_station = open_dashboard(qtbot, window)
    dashboard_station.refresh()
    assert text(dashboard_station, "points_bank_stock_ratio") == "stock not given"


def test_after_a_simulated_day_dashboard_and_reports_agree(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    from tests.simulate_support import assert_reports_agree, keyed, simulate, table

    path = tmp_path / "sim" / "event.sqlite3"
    path.parent.mkdir()
    _summary, end = simulate(path, invitees=40, seed=5)
    clock.at = end.now()
    window = make_window(f"sqlite:///{path}")
    station = open_dashboard(qtbot, window)
    board = assert_reports_agree(window.app.database, clock, tmp_path)
    assert station.board is not None and station.board.figures == board.figures
    summary = tmp_path / "report-summary.xlsx"
    funnel = keyed(summary, "Invitation funnel") | keyed(summary, "Funnel of the day")
    assert [(b.label, b.value) for b in station.funnel.bars] == [
        (stage, values[0]) for stage, values in funnel.items()
    ]
    rm_total = keyed(tmp_path / "report-rm.xlsx", "Per RM")["Total"]
    assert text(station, "kpi_arrived") == str(rm_total[5]) == str(funnel["Arrived"][0])
    steps = keyed(summary, "Steps at the desks")
    assert [text(station, f"step_{step.value}").split(" · ")[0] for step in Step] == [
        f"{values[0]:,}" for values in steps.values()
    ]
    for start in (0, 3):  # each funnel's bars never rise
        values = [b.value for b in station.funnel.bars[start : start + 3]]
        assert values == sorted(values, reverse=True)
    points = keyed(summary, "Points")
    every = points["Points of every customer (spendable on the event day)"][0]
    assert text(station, "points_bank_ratio").endswith(f"of {every:,}")
    assert text(station, "points_invitee_ratio").endswith(
        f"of {points['Points stock of the invitees'][0]:,}"
    )
    merchants = keyed(tmp_path / "report-merchants.xlsx", "Per service")["Total"]
    assert text(station, "kpi_points") == f"{merchants[6]:,}"
    unredeemed = table(tmp_path / "report-unredeemed.xlsx", "Slips")
    slips = board.figures.total.slips
    assert f"{slips} slips" in text(station, "kpi_slips_detail")
    assert len(unredeemed) - 2 == slips - len(
        table(tmp_path / "report-merchants.xlsx", "Redemptions")[1:]
    )
    branches = keyed(summary, "Attendance by branch")
    assert [(b.label, b.value) for b in station.branches.bars] == [
        (values[0], values[3]) for code, values in branches.items() if code != "Total"
    ]
    progress = keyed(tmp_path / "report-progress.xlsx", "Per branch")["Total"]
    assert f"of {progress[5]} confirmed came" in text(station, "kpi_arrived_detail")
    assert text(station, "kpi_service_desk") == text(station, "kpi_activation") == "0"
    # The overview every member of staff sees first shows the same figures.
    window.switcher.setCurrentRow(window.station_titles().index("Event overview"))
    overview = window.current_station()
    shown = {
        name: overview.findChild(QLabel, f"figure_{name}").text()  # type: ignore[union-attr]
        for name in ("invitees", "confirmed", "visits")
    }
    assert shown == {
        "invitees": f"{funnel['Invited'][0]:,}",
        "confirmed": f"{funnel['Confirmed'][0]:,}",
        "visits": f"{funnel['Arrived'][0]:,}",
    }
    assert progress[1] == funnel["Invited"][0]


def test_a_simulated_day_plays_live_in_the_app(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], tmp_path: Path
) -> None:
    """``kiosk demo --simulate --speed N``: a QTimer in the main thread advances the day while
    the dashboard watches; the window title shows the simulated time."""
    from kiosk.demo import create_demo
    from kiosk.simulate import SimClock, Simulation
    from tests.simulate_support import SIM_DATE
    from ui.simulation import SimulationDriver

    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    database = open_database(url)
    create_demo(database.unit_of_work(), event_date=SIM_DATE, invitees=20, seed=2)
    database.dispose()
    window = make_window(url)
    sim_clock = SimClock(NOW)
    simulation = Simulation(window.app.database, tmp_path / "booths", seed=2, clock=sim_clock)
    window.app.clock = sim_clock  # as run_app does: the app reads the simulated time
    station = open_dashboard(qtbot, window)
    driver = SimulationDriver(simulation, 20_000, window)
    driver.TICK_MS = 10
    driver.timer.setInterval(10)
    # Every title the window showed: the day may be over before a look at the title now.
    titles: list[str] = []
    window.windowTitleChanged.connect(titles.append)
    driver.start()
    qtbot.waitUntil(
        lambda: sim_clock.now() > simulation.starts_at + timedelta(hours=2), timeout=20_000
    )
    assert any("simulated" in t and "20000× real time" in t for t in titles), titles[-3:]
    station.refresh()
    assert int(text(station, "kpi_arrived")) > 0
    # A bound on a hang, not a speed: the day's ticks are real work on the database, and on
    # a machine whose two cores are shared (tests in parallel) it has taken over a minute.
    with qtbot.waitSignal(driver.finished, timeout=240_000):
        pass
    assert simulation.done and "simulated day over at" in window.windowTitle()
    station.refresh()
    assert text(station, "kpi_arrived") == str(simulation.summary.arrivals)
