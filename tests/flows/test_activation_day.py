"""A customer at the activation desk (#16): F5, the gate amber until the desk's own F6 makes
mobile banking active, F7 and F8, a service added to the cart with Enter, large print and
Chinese in the middle, F9 with the passphrase typed into the real dialog, a printer that is not
there (``KIOSK_PRINTER="command:lp -d SLIPS"`` without ``lp``), F4 once it is plugged in, a
void approved by a supervisor on the spot, F10. The real main window with real keys; after
every step the event database holds the queue invariant, the desk shows the customer it has
called, and the step's own change (steps, slips, copies, the journal) is there."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.models import (
    AuditRecord,
    Customer,
    Invitation,
    JournalEntry,
    JournalKind,
    MobileBanking,
    Preselection,
    Queue,
    QueueEntry,
    QueueStatus,
    Slip,
    SlipStatus,
    VisitStep,
)
from kiosk.services import reception
from kiosk.services.activation import preselected_cart
from kiosk.services.auth import staff_session
from tests.gate_support import make_ready
from tests.points_support import drop_lots
from ui.approval import SupervisorDialog
from ui.stations.activation import ActivationStation
from ui.widgets import Tone

from ..ui.conftest import sign_in
from .conftest import change_layout, holds
from .keys import HUMAN, answering, keys, press

pytestmark = pytest.mark.ui

ADDED = "O501"  # 电影票两张, added at the desk


@pytest.fixture
def no_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A slip printer set up as ``lp -d SLIPS`` on a laptop where ``lp`` is not installed
    (yet): the folder ``lp`` will be put in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("KIOSK_PRINTER", "command:lp -d SLIPS")
    return bin_dir


def _plug_in(bin_dir: Path, tray: Path) -> None:
    """The printer arrives: an ``lp`` that files each job in ``tray`` (the paper)."""
    tray.mkdir()
    lp = bin_dir / "lp"
    lp.write_text(f'#!/bin/sh\nfor f; do :; done\n/bin/cp "$f" "{tray}/"\n')
    lp.chmod(0o755)


def _waiting_for_activation(checks: Database, clock: FixedClock) -> tuple[int, list[str]]:
    """A customer with services chosen with the invitation, data governed, mobile banking
    opened but never logged into, checked in for activation: (id, the chosen offers)."""
    with checks.unit_of_work() as uow:
        customer_id = uow.session.scalar(
            select(Invitation.customer_id)
            .join(Preselection, Preselection.invitation_id == Invitation.id)
            .order_by(Invitation.customer_id)
            .limit(1)
        )
    assert customer_id is not None
    make_ready(checks, customer_id)
    with audit.unaudited(), checks.unit_of_work() as uow:  # test setup
        uow.session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(mobile_banking=MobileBanking.OPENED, points_balance=40_000)
        )
        drop_lots(uow.session, Customer.id == customer_id)
        uow.commit()
    front = staff_session(checks.unit_of_work(), "R001")
    reception.check_in(
        checks.unit_of_work(), customer_id, front, route=Queue.ACTIVATION, clock=clock
    )
    chosen = [line.offer_code for line in preselected_cart(checks.unit_of_work(), customer_id)]
    assert chosen and ADDED not in chosen
    return customer_id, chosen


def _slips(checks: Database) -> list[tuple[str, str, int]]:
    """(offer, status, copies printed) of every slip, in serial order."""
    with checks.unit_of_work() as uow:
        from kiosk.models import Offer

        rows = uow.session.execute(
            select(Offer.code, Slip.status, Slip.copies_printed)
            .join(Offer, Offer.id == Slip.offer_id)
            .order_by(Slip.serial)
        ).all()
    return [(code, str(status), copies) for code, status, copies in rows]


def _count(checks: Database, model: type, *where: object) -> int:
    with checks.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _catalog_item(page: ActivationStation, code: str) -> QTreeWidgetItem:
    for g in range(page.catalog.topLevelItemCount()):
        group = page.catalog.topLevelItem(g)
        for c in range(group.childCount()):
            if group.child(c).data(0, Qt.ItemDataRole.UserRole) == code:
                return group.child(c)
    raise AssertionError(code)


def test_a_customer_at_the_activation_desk(
    qtbot: QtBot,
    make_window,  # type: ignore[no-untyped-def]
    any_demo_url: str,
    checks: Database,
    clock: FixedClock,
    spool: Path,
    no_lp: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id, chosen = _waiting_for_activation(checks, clock)
    monkeypatch.setattr(SupervisorDialog, "answer", None)  # the real dialog, typed into
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "A001", "1234")
    page = window.current_station()
    assert isinstance(page, ActivationStation)

    def after(step: str) -> None:
        holds(checks, step, window, Queue.ACTIVATION)

    after("sign-in")

    # 1. F5: called to this counter, the invitation's choices in the cart; the gate is amber
    # (mobile banking opened, never logged into).
    press(qtbot, window, Qt.Key.Key_F5)
    after("F5")
    assert page.customer is not None and page.customer.customer_id == customer_id
    assert page.called is not None
    ticket = page.called.ticket
    assert sorted(page.cart.lines) == sorted(chosen)
    assert page.gate_panel.tone == Tone.WARN

    # 2. F6, F7, F8: each step recorded once; F6 makes mobile banking active and opens the gate.
    for key in (Qt.Key.Key_F6, Qt.Key.Key_F7, Qt.Key.Key_F8):
        press(qtbot, window, key)
        assert page.banner.tone == Tone.OK, page.banner.headline.text()
        after(f"step {key.name}")
    with checks.unit_of_work() as uow:
        assert uow.session.get(Customer, customer_id).mobile_banking == MobileBanking.ACTIVE  # type: ignore[union-attr]
        steps = set(uow.session.scalars(select(VisitStep.step)))
    assert {"mobile_banking_login", "charity_paid", "prize_given"} <= steps
    assert page.gate_panel.tone == Tone.OK

    # 3. One more service: the desk opened on the customer's short list; F3 shows every
    # service, then Enter on its catalog row.
    page.catalog.setFocus()
    assert page.catalog_panel.showing_short
    press(qtbot, window, Qt.Key.Key_F3)
    assert not page.catalog_panel.showing_short
    page.catalog.setCurrentItem(_catalog_item(page, ADDED))
    press(qtbot, window, Qt.Key.Key_Return)
    cart = dict(page.cart.lines)
    assert cart.get(ADDED) == 1 and sum(cart.values()) == len(chosen) + 1
    after("cart")
    assert _slips(checks) == []  # a cart is not an issue

    # 4. Large print and Chinese while the customer reads the cart: the desk still has them
    # called, with the same cart.
    page = change_layout(qtbot, window, "zh_CN")
    assert isinstance(page, ActivationStation) and window.settings.large_print
    after("large print and Chinese")
    assert page.called is not None and page.called.ticket == ticket
    assert page.customer is not None and page.customer.customer_id == customer_id
    assert dict(page.cart.lines) == cart
    assert page.gate_panel.tone == Tone.OK
    n = sum(cart.values())

    # 5. F9: the passphrase typed into the real dialog; the slips are issued (green) and, apart,
    # not printed (amber, in words, F4); nothing came out.
    with answering(lambda dialog: keys(qtbot, dialog, "demo-passphrase", HUMAN)):
        press(qtbot, window, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: page.print_banner.tone == Tone.WARN)
    assert page.banner.tone == Tone.OK
    numbers = ", ".join(f"No. {serial:06d}" for serial in range(1, n + 1))
    assert page.banner.headline.text() == f"已为{page.customer.masked_name}出券 {n} 张：{numbers}。"
    assert page.print_banner.headline.text() == "打印机未连接"
    assert "lp" in page.print_banner.detail.text() and "F4" in page.print_banner.detail.text()
    after("F9")
    assert sorted(code for code, _s, _c in _slips(checks)) == sorted(cart)
    assert {(status, copies) for _o, status, copies in _slips(checks)} == {(SlipStatus.ISSUED, 0)}
    assert _count(checks, AuditRecord, AuditRecord.action == "slip_print_failed") == n
    assert not page.cart

    # 6. The printer is plugged in: F4 prints every slip that never came out, once each.
    tray = tmp_path / "tray"
    _plug_in(no_lp, tray)
    press(qtbot, window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: page.print_banner.tone == Tone.OK)
    after("F4")
    assert len(list(tray.iterdir())) == n
    assert {(status, copies) for _o, status, copies in _slips(checks)} == {(SlipStatus.ISSUED, 1)}

    # 7. The customer changes their mind about the first slip: Void…, the reason typed, a
    # supervisor's number and PIN on the spot; the points come back.
    page.slip_table.setFocus()
    page.slip_table.selectRow(0)
    serial = int(page.slip_table.item(0, 0).text())

    def supervisor(dialog: QDialog) -> None:
        assert isinstance(dialog, SupervisorDialog)
        keys(qtbot, dialog, "S001", HUMAN)
        keys(qtbot, dialog, "1234", HUMAN)

    with answering(lambda dialog: keys(qtbot, dialog, "客户改选", HUMAN), supervisor):
        qtbot.mouseClick(page.void_button, Qt.MouseButton.LeftButton)
    assert page.banner.tone == Tone.OK, page.banner.headline.text()
    after("void")
    with checks.unit_of_work() as uow:
        statuses = dict(uow.session.execute(select(Slip.serial, Slip.status)).all())
    assert statuses.pop(serial) == SlipStatus.VOIDED
    assert set(statuses.values()) == {SlipStatus.ISSUED}
    assert page.slip_table.item(0, 3).text() == "已作废"
    with checks.unit_of_work() as uow:
        released = uow.session.scalars(
            select(JournalEntry.points).where(JournalEntry.kind == JournalKind.RELEASE)
        ).all()
        void = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "slip_voided")
        ).one()
    assert len(released) == 1 and void.approved_by is not None

    # 8. F10: done; the desk is free and shows nobody.
    press(qtbot, window, Qt.Key.Key_F10)
    after("F10")
    assert page.called is None and page.customer is None
    with checks.unit_of_work() as uow:
        assert uow.session.scalars(
            select(QueueEntry.status).where(QueueEntry.queue == Queue.ACTIVATION)
        ).all() == [QueueStatus.DONE]
