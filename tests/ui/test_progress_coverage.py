"""Administration -> Progress with contact coverage and the call rule (issue #20): the tab
shows per branch and RM who was contacted and called, and lists the invitees the rule still
misses, names masked, as the service counts them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import delete, select

from kiosk import audit
from kiosk.clock import Clock
from kiosk.db import open_database
from kiosk.models import Customer, Invitation, InvitationContact
from kiosk.services import figure_settings, tracking
from kiosk.services import imports as svc
from kiosk.services.auth import staff_session
from ui.main_window import MainWindow
from ui.widgets import Tone

from .test_admin import open_admin, write

pytestmark = pytest.mark.ui


def test_progress_tab_shows_coverage_and_who_the_call_rule_misses(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
) -> None:
    database = open_database(demo_url)
    with audit.unaudited(), database.unit_of_work() as uow:  # no report has come in yet
        uow.session.execute(delete(InvitationContact))
        uow.commit()
    with database.unit_of_work() as uow:
        invitees = uow.session.execute(
            select(Customer.customer_no, Customer.name, Customer.points_balance)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .order_by(Customer.points_balance.desc())
            .limit(3)
        ).all()
    rows: list[list[object]] = [["客户号", "邀约方式", "邀约日期", "客户答复"]]
    rows.append([invitees[0][0], "电话", "2026-11-20", "确认"])  # the richest: called
    rows.append([invitees[1][0], "短信", "2026-11-20", None])  # the second: an SMS only
    supervisor = staff_session(database.unit_of_work(), "S001")
    svc.import_file(
        database.unit_of_work(), "invitations", write(tmp_path / "r.xlsx", rows), supervisor
    )
    floor = int(invitees[2][2])  # the three richest are due
    figure_settings.set_figure_settings(
        database.unit_of_work(), supervisor, call_points_floor=floor, clock=Clock()
    )
    coverage = tracking.progress(database.unit_of_work()).coverage
    database.dispose()
    assert coverage is not None and coverage.total.called >= 1
    missing = {m.customer_no for m in coverage.missing}
    assert invitees[0][0] not in missing and invitees[1][0] in missing

    station = open_admin(qtbot, make_window(demo_url))
    station.tabs.setCurrentWidget(station.progress_tab)
    table = station.coverage_table
    assert table.rowCount() == len(coverage.branches) + 1 + len(coverage.rms)
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[-2:] == [f"With {floor:,}+ points", "Not called yet"]
    total = len(coverage.branches)
    assert table.item(total, 0).text() == "Total"
    assert table.item(total, 4).text() == str(coverage.total.contacted)
    assert table.item(total, 6).text() == str(coverage.total.called)
    assert table.item(total, table.columnCount() - 1).text() == str(coverage.total.missing)
    uncalled = station.uncalled_table
    assert uncalled.rowCount() == len(coverage.missing)
    shown = {uncalled.item(r, 0).text() for r in range(uncalled.rowCount())}
    assert shown == missing
    names = {uncalled.item(r, 1).text() for r in range(uncalled.rowCount())}
    assert all("*" in name for name in names)
    assert str(invitees[1][1]) not in names  # never the full name
    assert f"{floor:,}" in station.call_rule_label.text()


def test_the_call_rule_is_set_in_the_figures_tab(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
) -> None:
    station = open_admin(qtbot, make_window(demo_url))
    panel = station.figure_settings
    station.tabs.setCurrentWidget(panel)
    assert panel.call_floor.text() == "" and "Call rule: none" in panel.banner.headline.text()
    panel.call_floor.setText("fourteen")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.ERROR and "fourteen" in panel.banner.detail.text()
    panel.call_floor.setText("14,000")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK, panel.banner.detail.text()
    assert "14,000 points or more is called" in panel.banner.headline.text()
    database = open_database(demo_url)
    settings = figure_settings.figure_settings(database.unit_of_work())
    database.dispose()
    assert settings.call_points_floor == 14_000
    station.tabs.setCurrentWidget(station.progress_tab)
    assert "14,000" in station.call_rule_label.text()
    headers = [
        station.coverage_table.horizontalHeaderItem(c).text()
        for c in range(station.coverage_table.columnCount())
    ]
    assert "With 14,000+ points" in headers
