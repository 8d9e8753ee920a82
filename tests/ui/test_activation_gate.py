"""The redemption gate at the activation desk (issue #16, symptom 9), driven by keys in the
real window, in Chinese: the desk says before F9 what the customer lacks and where to send
them; F9 explains again and issues nothing unless a supervisor lets the customer through
(typed on the spot, audited); a customer who does the step at the desk (F6) passes without
anyone. The database is checked after every step, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.kyc import governance_gaps
from kiosk.models import (
    AuditRecord,
    Customer,
    Invitation,
    MobileBanking,
    Queue,
    Slip,
    Staff,
    VisitStep,
)
from kiosk.services import reception
from kiosk.services.auth import staff_session
from tests.conftest import DEMO_DATE
from tests.points_support import drop_lots
from ui.approval import SupervisorDialog
from ui.main_window import MainWindow
from ui.stations.activation import ActivationStation, Ask
from ui.widgets import Tone

from .conftest import sign_in, supervisor_answers

pytestmark = pytest.mark.ui


def _arrive(url: str, clock: FixedClock, wanted: Callable[[Customer], bool]) -> int:
    """The first invited demo customer ``wanted`` accepts, checked in and sent to activation."""
    database = open_database(url)
    try:
        with audit.unaudited(), database.unit_of_work() as uow:  # test setup
            s = uow.session
            customer_id = next(
                c.id
                for c in s.scalars(
                    select(Customer)
                    .join(Invitation, Invitation.customer_id == Customer.id)
                    .order_by(Customer.customer_no)
                )
                if wanted(c)
            )
            s.execute(
                update(Customer).where(Customer.id == customer_id).values(points_balance=30_000)
            )
            drop_lots(s, Customer.id == customer_id)
            uow.commit()
        reception.check_in(
            database.unit_of_work(),
            customer_id,
            staff_session(database.unit_of_work(), "R001"),
            route=Queue.ACTIVATION,
            clock=clock,
        )
    finally:
        database.dispose()
    return customer_id


def _press(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> None:
    qtbot.keyClick(window.focusWidget() or window, key)


def _answer_override(qtbot: QtBot, seen: list[str], key: str) -> None:
    """When the F9 question comes up, note what it says and answer it by key: Esc, Enter
    (the default, "not now"), or Space on "Ask a supervisor…"."""

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "gate_override":
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text() + "\n" + box.informativeText())
        if key == "ask":
            ask = next(b for b in box.buttons() if b.text() == "请主管授权…")
            qtbot.keyClick(ask, Qt.Key.Key_Space)
        else:
            qtbot.keyClick(box, Qt.Key.Key_Escape if key == "esc" else Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)


def _add_to_cart(qtbot: QtBot, station: ActivationStation, code: str) -> None:
    """Select the service in the catalog and press Enter on it, as staff do."""
    if station.catalog_panel.showing_short:  # every service, not the short list (F3)
        qtbot.keyClick(station, Qt.Key.Key_F3)
    station.catalog.setFocus()
    for g in range(station.catalog.topLevelItemCount()):
        group = station.catalog.topLevelItem(g)
        for c in range(group.childCount()):
            if group.child(c).data(0, Qt.ItemDataRole.UserRole) == code:
                station.catalog.setCurrentItem(group.child(c))
    qtbot.keyClick(station.catalog, Qt.Key.Key_Return)
    assert code in station.cart.lines


def _facts(database: Database) -> dict[str, object]:
    with database.unit_of_work() as uow:
        s = uow.session
        ids = dict(s.execute(select(Staff.staff_no, Staff.id)).all())
        return {
            "slips": s.scalar(select(func.count(Slip.id))),
            "overrides": [
                (staff, approver)
                for staff, approver in s.execute(
                    select(AuditRecord.staff_id, AuditRecord.approved_by).where(
                        AuditRecord.action == "gate_overridden"
                    )
                )
            ],
            "override_steps": s.scalar(
                select(func.count(VisitStep.id)).where(VisitStep.step == "gate_overridden")
            ),
            "ids": ids,
        }


def test_the_desk_explains_the_gate_and_a_supervisor_lets_through(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    monkeypatch.setattr(Ask, "passphrase", staticmethod(lambda parent, demo: DEMO_PASSPHRASE))
    gappy = _arrive(
        any_demo_url,
        clock,
        lambda c: (
            governance_gaps(c, DEMO_DATE).get("id_valid_to") == "expired"
            and c.mobile_banking == MobileBanking.NONE
        ),
    )
    opened = _arrive(
        any_demo_url,
        clock,
        lambda c: not governance_gaps(c, DEMO_DATE) and c.mobile_banking == MobileBanking.OPENED,
    )
    third = _arrive(
        any_demo_url,
        clock,
        lambda c: (
            c.id != gappy
            and len(governance_gaps(c, DEMO_DATE)) >= 2
            and c.mobile_banking == MobileBanking.NONE
        ),
    )
    database = open_database(any_demo_url)
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "A001", "1234")
    window.language.setCurrentIndex(window.language.findData("zh_CN"))  # before the day starts
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    qtbot.waitUntil(station.isVisible)  # the rebuilt page is shown by the event loop
    assert not station.gate_panel.isVisible()  # nobody called: nothing to say

    # F5: the gate is on screen before anyone presses F9, in words.
    station.call_button.setFocus()
    _press(qtbot, window, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == gappy
    panel = station.gate_panel
    assert panel.isVisible() and panel.tone == Tone.WARN
    headline, detail = panel.headline.text(), panel.detail.text()
    assert headline == "暂不能出券：资料不完整、未开通手机银行。如需破例出券，按 F9 请主管授权。"
    assert detail.splitlines() == [
        "× 资料不完整（证件有效期已过期）：请引导客户到业务办理台",
        "× 未开通手机银行：请引导客户到业务办理台开通",
    ]

    # A service in the cart by keys; F9: the question, Esc, nothing issued and said why.
    _add_to_cart(qtbot, station, "O501")
    seen: list[str] = []
    _answer_override(qtbot, seen, "esc")
    _press(qtbot, window, Qt.Key.Key_F9)
    assert len(seen) == 1 and "× 资料不完整（证件有效期已过期）：请引导客户到业务办理台" in seen[0]
    assert "主管可当场放行" in seen[0]
    assert station.banner.tone == Tone.WARN
    assert station.banner.headline.text() == "未出券：客户尚未完成全部必需步骤。"
    assert (
        station.banner.detail.text()
        == "缺少什么、客户应去哪里办理，见下方说明。再按 F9 可请主管授权。"
    )
    assert _facts(database)["slips"] == 0 and station.cart.lines  # the cart is kept

    # Enter is "not now" too: an Enter pressed by habit never overrides.
    _answer_override(qtbot, seen, "enter")
    _press(qtbot, window, Qt.Key.Key_F9)
    assert len(seen) == 2 and _facts(database)["slips"] == 0

    # Ask a supervisor: S001 types number and PIN at this desk; the slip is issued.
    approvals: list[str] = []
    monkeypatch.setattr(
        SupervisorDialog, "answer", supervisor_answers(qtbot, "S001", "1234", approvals)
    )
    _answer_override(qtbot, seen, "ask")
    _press(qtbot, window, Qt.Key.Key_F9)
    assert approvals == [""]
    qtbot.waitUntil(lambda: station.slip_table.rowCount() == 1)
    facts = _facts(database)
    ids = facts["ids"]
    assert isinstance(ids, dict)
    assert facts["slips"] == 1 and facts["override_steps"] == 1
    assert facts["overrides"] == [(ids["A001"], ids["S001"])]
    with database.unit_of_work() as uow:
        s001 = uow.session.scalar(select(Staff.name).where(Staff.staff_no == "S001"))
    timeline = [station.timeline.item(i).text() for i in range(station.timeline.count())]
    assert any("主管放行（必需步骤未完成）" in line and f"· {s001}" in line for line in timeline)

    # F10, the next customer: mobile banking opened but not used. F6 here opens the gate.
    monkeypatch.setattr(SupervisorDialog, "answer", None)
    station.finish_button.setFocus()
    _press(qtbot, window, Qt.Key.Key_F10)
    assert station.customer is None and not panel.isVisible()
    _press(qtbot, window, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == opened
    assert panel.tone == Tone.WARN
    assert "手机银行已开通但尚未激活：请在本台协助客户登录（F6）" in panel.detail.text()
    _press(qtbot, window, Qt.Key.Key_F6)
    assert panel.tone == Tone.OK
    assert panel.headline.text() == "✓ 可以出券：资料完整有效、手机银行已激活。"
    station.empty_cart()
    _add_to_cart(qtbot, station, "O501")
    monkeypatch.setattr(
        SupervisorDialog,
        "answer",
        lambda dialog: pytest.fail("no supervisor is needed when the gate is open"),
    )
    before = _facts(database)["slips"]
    _press(qtbot, window, Qt.Key.Key_F9)  # no question: straight to the slips
    qtbot.waitUntil(lambda: station.slip_table.rowCount() == 1)
    after = _facts(database)
    assert before == 1 and after["slips"] == 2 and after["override_steps"] == 1
    assert len(seen) == 3

    # Large print, between two customers: the gate in fewer lines, and the desk still fits
    # 1366x768 with every button on screen.
    station.finish_button.setFocus()
    _press(qtbot, window, Qt.Key.Key_F10)
    window.large.setChecked(True)
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    qtbot.waitUntil(station.isVisible)
    station.call_button.setFocus()
    _press(qtbot, window, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == third
    n = len(station.customer.gate.missing[0].details)
    assert station.gate_panel.detail.text() == (
        f"× 资料不完整（{n} 项）、未开通手机银行：请引导客户到业务办理台"
    )
    window.resize(1366, 768)
    assert window.minimumSizeHint().height() <= 768
    qtbot.waitUntil(lambda: window.height() == 768)
    bottom = station.finish_button.mapTo(window, station.finish_button.rect().bottomLeft())
    assert bottom.y() < 768
    database.dispose()


def test_the_coordinator_sets_the_requirements_in_administration(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], any_demo_url: str
) -> None:
    from kiosk.services import gate
    from ui.stations.admin import AdminStation

    window = make_window(any_demo_url)
    sign_in(qtbot, window, "S001", "1234")
    window.switcher.setCurrentRow(window.station_titles().index("Administration"))
    station = window.current_station()
    assert isinstance(station, AdminStation)
    panel = station.requirements
    station.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(panel.isVisible)
    ticked = {r.value for r, box in panel.boxes.items() if box.isChecked()}
    assert ticked == {"data", "mobile_banking"}  # the bank's default, as stored
    assert panel.banner.headline.text() == (
        "Before slips: Data complete and valid, Mobile banking active."
    )
    # Untick mobile banking, tick the scan-pay, save: by keys.
    qtbot.keyClick(panel.boxes[gate.Requirement.MOBILE_BANKING], Qt.Key.Key_Space)
    qtbot.keyClick(panel.boxes[gate.Requirement.SCAN_PAY], Qt.Key.Key_Space)
    qtbot.keyClick(panel.save_button, Qt.Key.Key_Space)
    assert panel.banner.tone == Tone.OK
    assert panel.banner.headline.text() == (
        "Saved. Before slips: Data complete and valid, Charity scan-pay."
    )
    database = open_database(any_demo_url)
    try:
        assert gate.requirements(database.unit_of_work()) == (
            gate.Requirement.DATA,
            gate.Requirement.SCAN_PAY,
        )
        with database.unit_of_work() as uow:
            s = uow.session
            who = s.scalar(
                select(Staff.staff_no)
                .join(AuditRecord, AuditRecord.staff_id == Staff.id)
                .where(AuditRecord.action == "redeem_requirements_set")
            )
            assert who == "S001" and audit.verify(s) is None
    finally:
        database.dispose()
