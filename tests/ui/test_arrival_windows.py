"""Arrival windows and reminders sent in the window (issue #20): the coordinator sets the
throughput, plans, reads the plan per slot, moves a branch (refused in words when a window
would be over the throughput), marks reminders sent for a selection; in Chinese at 1366x768
nothing is cut off; reception, scanned at scanner speed, tells early / in window against the
customer's window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import (
    Branch,
    ContactPurpose,
    Customer,
    Event,
    Invitation,
    InvitationContact,
    TimeSlot,
)
from kiosk.services import arrival
from kiosk.services.auth import staff_session
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.admin import AdminStation
from ui.stations.reception import ReceptionStation
from ui.widgets import Tone

from .conftest import sign_in
from .wedge import scanner_burst

pytestmark = pytest.mark.ui


def _open_admin(qtbot: QtBot, window: MainWindow) -> AdminStation:
    sign_in(qtbot, window, "S001", "1234")
    window.switcher.setCurrentRow(window.station_titles().index("Administration"))
    station = window.current_station()
    assert isinstance(station, AdminStation)
    return station


def _inside(widget: QWidget, window: MainWindow) -> bool:
    """The widget is shown whole inside the window (nothing cut off at its edges)."""
    top_left = widget.mapTo(window, QPoint(0, 0))
    bottom_right = widget.mapTo(window, widget.rect().bottomRight())
    return (
        widget.isVisible()
        and top_left.x() >= 0
        and top_left.y() >= 0
        and bottom_right.x() < window.width()
        and bottom_right.y() < window.height()
        and widget.width() >= widget.minimumSizeHint().width()
    )


def _windows_of(url: str) -> dict[str, set[object]]:
    """Branch code -> the window starts its confirmed customers have, from the database."""
    database = open_database(url)
    with database.unit_of_work() as uow:
        found: dict[str, set[object]] = {}
        for code, starts in uow.session.execute(
            select(Branch.code, Invitation.window_starts_at)
            .join(Customer, Customer.branch_id == Branch.id)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .where(Invitation.status == "confirmed")
        ):
            found.setdefault(code, set()).add(starts)
    database.dispose()
    return found


def test_the_coordinator_plans_moves_and_marks_reminders(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    window = make_window(demo_url)
    station = _open_admin(qtbot, window)
    panel = station.windows
    station.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(panel.isVisible)
    assert panel.throughput.text() == "not set"
    assert panel.table.rowCount() == 5 + 1 + 6 + 1  # every window, and "no window yet"
    assert panel.table.item(5, 1).text() == "no window yet"

    # Too low a throughput: the plan is refused with the numbers, nothing written.
    panel.throughput.setValue(5)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK
    qtbot.mouseClick(panel.plan_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.ERROR
    assert "5 × 5 = 25" in panel.banner.detail.text()
    assert all(starts == {None} for starts in _windows_of(demo_url).values())

    panel.throughput.selectAll()
    qtbot.keyClicks(panel.throughput, "25")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.plan_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK
    assert "given a window" in panel.banner.headline.text()
    assert panel.table.rowCount() == 5 + 6  # nobody without a window
    counts = [panel.table.item(r, 2).text() for r in range(panel.table.rowCount())]
    assert all(text.endswith("of 25") for text in counts)
    planned = _windows_of(demo_url)
    assert all(None not in starts for starts in planned.values())

    # Moving the morning's largest branch into its fullest other window: refused in words.
    plan = panel.plan
    assert plan is not None
    morning = plan.slots[0]
    big = max(morning.branches(), key=lambda b: sum(w.branches.get(b, 0) for w in morning.windows))
    n_big = sum(w.branches.get(big, 0) for w in morning.windows)
    target = max(
        (i for i, w in enumerate(morning.windows) if big not in w.branches),
        key=lambda i: morning.windows[i].total,
    )
    assert morning.windows[target].total + n_big > 25
    panel.table.selectRow(target)  # the row chooses the slot and the window
    assert panel.move_window.currentIndex() == target
    panel.move_branch.setCurrentIndex(panel.move_branch.findData(big))
    qtbot.mouseClick(panel.move_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.ERROR
    assert f"{big} brings {n_big}" in panel.banner.detail.text()
    assert _windows_of(demo_url) == planned

    # A small branch into the emptiest window fits.
    emptiest = min(range(len(morning.windows)), key=lambda i: morning.windows[i].total)
    small = min(
        (b for b in morning.branches() if b not in morning.windows[emptiest].branches),
        key=lambda b: sum(w.branches.get(b, 0) for w in morning.windows),
    )
    n_small = sum(w.branches.get(small, 0) for w in morning.windows)
    if morning.windows[emptiest].total + n_small <= 25:
        panel.table.selectRow(emptiest)
        panel.move_branch.setCurrentIndex(panel.move_branch.findData(small))
        qtbot.mouseClick(panel.move_button, Qt.MouseButton.LeftButton)
        assert panel.banner.tone == Tone.OK, panel.banner.detail.text()
        assert _windows_of(demo_url)[small] == {morning.windows[emptiest].starts_at}

    # Reminders: the window in the list, two rows marked sent, twice is once.
    station.tabs.setCurrentWidget(station.reminders_tab)
    table = station.reminder_table
    qtbot.waitUntil(lambda: table.rowCount() > 2)
    assert table.horizontalHeaderItem(4).text() == "Window"
    assert table.item(0, 4).text().count(":") == 2  # "9:30-10:00"
    assert table.item(0, 5).text() == "not yet"
    assert f"请于 {table.item(0, 4).text()} 到场" in table.item(0, 6).text()
    qtbot.mouseClick(station.mark_reminded_button, Qt.MouseButton.LeftButton)
    assert station.reminders_banner.tone == Tone.INFO  # nothing chosen: nothing recorded
    summaries = []
    for _ in range(2):  # the first two rows, as a click and a Ctrl+click choose them
        table.clearSelection()
        for row in (0, 1):
            table.selectionModel().select(
                table.model().index(row, 0),
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
        qtbot.mouseClick(station.mark_reminded_button, Qt.MouseButton.LeftButton)
        assert station.reminders_banner.tone == Tone.OK
        summaries.append(station.reminders_banner.headline.text())
    assert summaries == [
        "2 reminder(s) recorded.",
        "0 reminder(s) recorded. 2 already recorded today.",
    ]
    assert table.item(0, 5).text() == "2026-11-28" and table.item(1, 5).text() == "2026-11-28"
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        assert (
            uow.session.scalar(
                select(func.count()).where(InvitationContact.purpose == ContactPurpose.REMINDER)
            )
            == 2
        )
    database.dispose()
    rm_rows = station.rm_reminder_table
    total = rm_rows.rowCount() - 1
    assert rm_rows.item(total, 0).text() == "Total" and rm_rows.item(total, 2).text() == "2"

    # Chinese at 1366x768: the plan's controls and the reminders' button all shown whole.
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    station = window.current_station()
    assert isinstance(station, AdminStation)
    window.resize(1366, 768)
    assert window.minimumSizeHint().width() <= 1366 and window.minimumSizeHint().height() <= 768
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1366, 768))
    station.tabs.setCurrentWidget(station.windows)
    qtbot.waitUntil(station.windows.isVisible)
    panel = station.windows
    assert station.tabs.tabText(station.tabs.indexOf(panel)) == "到场时段"
    for widget in (
        panel.plan_button,
        panel.fresh_button,
        panel.save_button,
        panel.throughput,
        panel.move_button,
        panel.move_window,
        panel.move_branch,
        panel.table,
    ):
        assert _inside(widget, window), widget.objectName()
    assert panel.table.item(0, 2).text().endswith("/ 25")
    station.tabs.setCurrentWidget(station.reminders_tab)
    qtbot.waitUntil(station.mark_reminded_button.isVisible)
    assert _inside(station.mark_reminded_button, window)
    assert station.mark_reminded_button.text() == "将所选客户标记为今天已提醒"
    assert station.reminder_table.item(0, 5).text() == "2026-11-28"


def test_reception_tells_early_and_in_window(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    clock: FixedClock,
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PRINT_COMMAND", raising=False)
    database = open_database(demo_url)
    boss = staff_session(database.unit_of_work(), "S001", clock=clock)
    arrival.set_window_settings(database.unit_of_work(), boss, throughput=25, clock=clock)
    arrival.plan_windows(database.unit_of_work(), boss, clock=clock)
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(Event.window_minutes)) == 30
        rows = uow.session.execute(
            select(Invitation.code, Invitation.window_starts_at, TimeSlot.starts_at)
            .join(TimeSlot, TimeSlot.id == Invitation.slot_id)
            .where(Invitation.window_starts_at.is_not(None), TimeSlot.code == "AM")
            .order_by(Invitation.window_starts_at.desc(), Invitation.code)
        ).all()
    database.dispose()
    late_window = rows[0]  # the morning's last window: an hour or more after 9:00
    first_window = next(r for r in rows if r[1] == r[2])  # 9:00-9:30: in it at 9:00
    now = clock.now()
    assert now == first_window[2]  # the clock stands at the slot's start

    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    station = window.current_station()
    assert isinstance(station, ReceptionStation)
    early = int((late_window[1] - now).total_seconds() // 60)
    starts = (late_window[1] + timedelta(hours=8)).strftime("%H:%M")
    ends = (late_window[1] + timedelta(hours=8, minutes=30)).strftime("%H:%M")
    scanner_burst(qtbot, station.field, late_window[0])
    qtbot.waitUntil(lambda: station.banner.tone == Tone.OK)
    # Past an hour in hours and minutes ("2 h", "1 h 30 min"), not "120 min".
    assert early >= 60
    hours, rest = divmod(early, 60)
    said = f"{hours} h {rest} min" if rest else f"{hours} h"
    assert f"{said} before the window {starts}–{ends}" in station.banner.detail.text()
    assert station.card_view.slot.text() == (
        f"Window: {starts}–{ends} (上午场 09:00–11:30) · ◀ {said} early"
    )
    scanner_burst(qtbot, station.field, first_window[0], seed=11)
    qtbot.waitUntil(lambda: "in the window 09:00–09:30" in station.banner.detail.text())
    assert station.card_view.slot.text().endswith("· ✓ in window")


def test_large_print_administration_fits_a_1366_laptop(
    qtbot: QtBot, make_window: Callable[..., MainWindow], demo_url: str, settings: Settings
) -> None:
    """In large print (Chinese) the arrival windows' and the booklet's buttons stay on a
    1366-wide screen, and no tab pushes the window wider than the laptop (Sign out cut off)."""
    settings.language = "zh_CN"
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    window.switcher.setCurrentRow(window.station_titles().index("管理"))
    window.large.setChecked(True)
    station = window.current_station()
    assert isinstance(station, AdminStation)
    assert station.minimumSizeHint().width() + window.switcher.width() <= 1366
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1366, 768))
    station.tabs.setCurrentWidget(station.windows)
    qtbot.waitUntil(station.windows.isVisible)
    panel = station.windows
    for widget in (panel.plan_button, panel.fresh_button, panel.save_button, panel.move_button):
        # The tab scrolls as a whole once the plan keeps three rows in sight: each control
        # is whole on screen when scrolled to, as staff scroll to it.
        area = widget.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is not None:
            area.ensureWidgetVisible(widget)
            QApplication.processEvents()
        assert _inside(widget, window), widget.objectName()
    station.tabs.setCurrentWidget(station.booklet_tab)
    qtbot.waitUntil(station.posters_button.isVisible)
    for widget in (station.booklet_button, station.html_button, station.posters_button):
        assert _inside(widget, window), widget.text()
    for index in range(station.tabs.count()):  # no other tab widens the window either
        station.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        assert window.width() == 1366, station.tabs.tabText(index)
