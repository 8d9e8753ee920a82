"""The activation desk driven like its staff would: call, activate, fill the cart, issue,
print, reprint, void and finish; the printed slips' codes verify and the journal matches."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.demo import DEMO_PASSPHRASE
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
)
from kiosk.points import available_points
from kiosk.services import keys, reception
from kiosk.services.auth import staff_session
from kiosk.slipcode import Verdict
from printing.printer import Printer
from tests.conftest import DEMO_DATE
from tests.points_support import drop_lots
from ui.approval import SupervisorDialog
from ui.main_window import MainWindow
from ui.stations.activation import ActivationStation, Ask
from ui.theme import MUTED
from ui.widgets import Tone

from .conftest import sign_in, supervisor_answers

# These customers hold a balance without lots: no day makes any of it expire.
UNDATED = date(2026, 12, 6)

pytestmark = pytest.mark.ui


def _customer_for_activation(url: str, clock: FixedClock) -> tuple[int, list[str]]:
    """A customer with pre-selected services and mobile banking, waiting for activation."""
    database = open_database(url)
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        s = uow.session
        customer_id = s.scalar(
            select(Invitation.customer_id)
            .join(Preselection, Preselection.invitation_id == Invitation.id)
            .order_by(Invitation.customer_id)
            .limit(1)
        )
        s.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(mobile_banking=MobileBanking.OPENED, points_balance=40_000)
        )
        drop_lots(s, Customer.id == customer_id)
        uow.commit()
    assert customer_id is not None
    staff = staff_session(database.unit_of_work(), "R001")
    reception.check_in(
        database.unit_of_work(), customer_id, staff, route=Queue.ACTIVATION, clock=clock
    )
    from kiosk.services.activation import preselected_cart

    codes = [line.offer_code for line in preselected_cart(database.unit_of_work(), customer_id)]
    database.dispose()
    return customer_id, codes


def _press(qtbot: QtBot, window: MainWindow, key: Qt.Key, mods=Qt.KeyboardModifier.NoModifier):  # type: ignore[no-untyped-def]
    qtbot.keyClick(window.focusWidget() or window, key, mods)


def _decode(pdf: Path, tmp_path: Path) -> list[str]:
    stem = tmp_path / pdf.stem
    subprocess.run(["pdftoppm", "-r", "203", "-png", str(pdf), str(stem)], check=True)
    return [r.text for r in zxingcpp.read_barcodes(Image.open(f"{stem}-1.png"))]


def _catalog_item(station: ActivationStation, code: str) -> QTreeWidgetItem:
    """The service's row; not on the customer's short list, in the whole catalog (F3)."""
    for _view in range(2):
        for g in range(station.catalog.topLevelItemCount()):
            group = station.catalog.topLevelItem(g)
            for c in range(group.childCount()):
                if group.child(c).data(0, Qt.ItemDataRole.UserRole) == code:
                    return group.child(c)
        if not station.catalog_panel.showing_short:
            break
        station.toggle_view()
    raise AssertionError(code)


def test_a_customer_leaves_with_printed_slips_that_verify(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    spool = tmp_path / "spool"
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(spool))
    monkeypatch.delenv("KIOSK_PRINT_COMMAND", raising=False)
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    asked: list[bool] = []
    monkeypatch.setattr(
        Ask, "passphrase", staticmethod(lambda parent, demo: asked.append(demo) or DEMO_PASSPHRASE)
    )
    customer_id, preselected = _customer_for_activation(demo_url, clock)
    window = make_window(demo_url)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)  # activation staff start at their desk
    assert station.queue.rowCount() == 1

    _press(qtbot, window, Qt.Key.Key_F5)
    assert station.called is not None and station.customer is not None
    assert station.customer.customer_id == customer_id
    assert "40,000 points" in station.header.text() and "*" in station.header.text()
    assert list(station.cart.lines) == preselected  # the invitation's choices are in the cart

    # The three activation steps, by their keys, each shown with time and staff.
    for key in (Qt.Key.Key_F6, Qt.Key.Key_F7, Qt.Key.Key_F8):
        _press(qtbot, window, key)
        assert station.banner.tone == Tone.OK, station.banner.headline.text()
    for button in station.step_buttons.values():
        assert button.text().startswith("✓") and "09:00" in button.text()
        assert not button.isEnabled()

    # The desk opened on the customer's short list; F3 shows every service.
    assert station.catalog_panel.showing_short
    _press(qtbot, window, Qt.Key.Key_F3)
    assert not station.catalog_panel.showing_short

    # Too expensive to add: refused in words, and it is grey in the catalog.
    station.empty_cart()
    expensive = max(station.offers.values(), key=lambda o: o.points_price)
    cheap = "O501"
    station.customer = station.customer.__class__(
        **{**station.customer.__dict__, "balance": expensive.points_price - 1}
    )
    station.refresh_catalog()
    item = _catalog_item(station, expensive.code)
    assert item.foreground(0).color().name() == MUTED
    station.add_item(item)
    assert (
        station.banner.tone == Tone.WARN and "Not enough points" in station.banner.headline.text()
    )
    station.reload_customer()  # back to the real balance

    # Enter on a catalog row puts it in the cart; the quantity box changes it.
    station.catalog.setCurrentItem(_catalog_item(station, cheap))
    station.catalog.setFocus()
    qtbot.keyClick(station.catalog, Qt.Key.Key_Return)
    assert station.cart.lines == {cheap: 1}
    station.catalog.setCurrentItem(_catalog_item(station, "O101"))
    station.add_button.click()
    spin = station.cart_table.cellWidget(0, 1)
    spin.setValue(2)  # type: ignore[attr-defined]
    assert station.cart.lines == {cheap: 2, "O101": 1}
    qtbot.waitUntil(lambda: "16,000" in station.cart_total.text())  # 2 x 2,000 + 12,000

    # Issue and print: two slips, PDFs kept, each printed once.
    _press(qtbot, window, Qt.Key.Key_F9)
    assert asked == [True]  # the passphrase is asked once, with the demo hint
    qtbot.waitUntil(lambda: station.slip_table.rowCount() == 2)
    assert station.banner.headline.text().startswith("2 slips issued for ")
    qtbot.waitUntil(
        lambda: (
            station.print_banner.headline.text() == "2 slips saved as PDF: no printer is set up."
        )
    )
    assert station.print_banner.tone == Tone.INFO  # no printer set up: never "printed"
    assert not station.cart
    assert "24,000 points" in station.header.text()
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        issued = uow.session.scalars(select(Slip).order_by(Slip.serial)).all()
        assert [s.copies_printed for s in issued] == [1, 1]
        serials = [s.serial for s in issued]
        codes = [s.code for s in issued]
    for serial, code in zip(serials, codes, strict=True):
        decoded = _decode(spool / f"slip-{serial:06d}.pdf", tmp_path)
        assert decoded == [code]
        check = keys.verify_code(database.unit_of_work(), decoded[0], today=DEMO_DATE)
        assert check.verdict == Verdict.VALID

    # Reprint: the same slip, one more copy, with the supervisor's approval on the spot.
    monkeypatch.setattr(Ask, "confirm_reprint", staticmethod(lambda parent, serial, n: True))
    station.slip_table.selectRow(1)
    seen: list[str] = []
    monkeypatch.setattr(SupervisorDialog, "answer", supervisor_answers(qtbot, "S001", "1234", seen))
    _press(qtbot, window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert seen == [""]
    assert station.print_banner.tone == Tone.INFO
    assert "saved as PDF" in station.print_banner.headline.text()
    assert station.slip_table.item(1, 4).text() == "2"

    # A failing printer: the slip stays issued, nothing is issued twice, it is reprinted later.
    station.printer = Printer(spool, ("false",))
    station.catalog.setCurrentItem(_catalog_item(station, cheap))
    station.add_button.click()
    station.issue_button.click()
    qtbot.waitUntil(lambda: station.slip_table.rowCount() == 3)
    qtbot.waitUntil(lambda: station.print_banner.tone == Tone.WARN)
    assert station.banner.tone == Tone.OK  # the issue stands, said apart from the printing
    serial = int(station.slip_table.item(0, 0).text())
    assert f"No. {serial:06d}" in station.banner.headline.text()  # which slips stand
    assert station.print_banner.headline.text() == "Printing failed"
    assert station.print_banner.detail.text().startswith(
        "The print command “false” stopped with code 1. Printing not finished"
    )
    assert station.slip_table.item(0, 4).text() == "0"
    station.printer = Printer(spool, ("true",))
    station.slip_table.selectRow(0)
    station.reprint_button.click()  # its first copy: nobody asked
    assert seen == [""]
    assert station.slip_table.item(0, 4).text() == "1"

    # Void with a reason: the points come back, the row says so.
    monkeypatch.setattr(Ask, "void_reason", staticmethod(lambda parent, serial: "wrong service"))
    station.slip_table.selectRow(0)
    station.void_button.click()
    assert seen == ["", ""]
    assert station.banner.tone == Tone.OK and "voided" in station.banner.headline.text()
    assert station.slip_table.item(0, 3).text() == "voided"
    assert "24,000 points" in station.header.text()

    # The timeline has every step; F10 finishes the ticket.
    timeline = [station.timeline.item(i).text() for i in range(station.timeline.count())]
    assert any("Prize handed out" in line for line in timeline)
    assert sum("Slips issued" in line for line in timeline) == 2
    _press(qtbot, window, Qt.Key.Key_F10)
    assert station.called is None and station.customer is None
    with database.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(QueueEntry.status).where(QueueEntry.queue == Queue.ACTIVATION)) == (
            QueueStatus.DONE
        )
        customer = s.get(Customer, customer_id)
        assert customer is not None
        # The journal matches the slips: reserves = all slips, releases = the voided one.
        reserved = s.scalar(
            select(func.sum(JournalEntry.points)).where(JournalEntry.kind == JournalKind.RESERVE)
        )
        released = s.scalar(
            select(func.sum(JournalEntry.points)).where(JournalEntry.kind == JournalKind.RELEASE)
        )
        slips = s.scalars(select(Slip)).all()
        assert reserved == sum(slip.points for slip in slips)
        assert released == sum(slip.points for slip in slips if slip.status == "voided")
        assert available_points(s, customer, UNDATED) == 40_000 - 16_000
    database.dispose()


def test_the_cart_put_together_survives_a_relayout(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Services added at the desk stay in the cart when large print is switched on for the
    customer to read it, or the language changes (the window is rebuilt): before, the cart
    went back to the invitation's choices and F9 would have issued without the addition.
    Once the customer is finished, the next one starts from their own choices again."""
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    customer_id, preselected = _customer_for_activation(any_demo_url, clock)
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    _press(qtbot, window, Qt.Key.Key_F5)
    assert station.customer is not None and list(station.cart.lines) == preselected
    station.catalog.setCurrentItem(_catalog_item(station, "O501"))
    station.catalog.setFocus()
    qtbot.keyClick(station.catalog, Qt.Key.Key_Return)
    station.set_quantity(preselected[0], 2)
    wanted = {**dict.fromkeys(preselected, 1), preselected[0]: 2, "O501": 1}
    assert station.cart.lines == wanted
    window.large.setChecked(True)
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    assert station.customer is not None and station.customer.customer_id == customer_id
    assert station.cart.lines == wanted
    assert station.cart_table.rowCount() == len(wanted)
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    station = window.current_station()
    assert isinstance(station, ActivationStation) and station.cart.lines == wanted
    monkeypatch.setattr(Ask, "confirm_leave", staticmethod(lambda parent: True))
    _press(qtbot, window, Qt.Key.Key_F10)
    assert station.customer is None and window.app.activation_cart is None


def test_the_windows_backups_sign_a_checkpoint_once_the_desk_holds_the_key(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Issue #26: a backup signs a checkpoint of the audit chain when the event passphrase
    is at hand. The window never asks for it for a backup; once the activation desk has
    unlocked the key (to issue slips), each of the window's backups signs one first, and
    the folder keeps it beside the backup files."""
    from kiosk import checkpoint
    from kiosk.models import AuditCheckpoint

    monkeypatch.setattr(Ask, "passphrase", staticmethod(lambda parent, demo: DEMO_PASSPHRASE))
    usb = tmp_path / "usb"
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    window.settings.backup_folder = str(usb)
    database = open_database(any_demo_url)

    def signed() -> list[tuple[str, int]]:
        with database.unit_of_work() as uow:
            rows = uow.session.execute(
                select(AuditCheckpoint.reason, AuditCheckpoint.record_count).order_by(
                    AuditCheckpoint.id
                )
            ).all()
            return [(reason, count) for reason, count in rows]

    try:
        # No key unlocked at this sign-in yet: the backup is taken, nothing is signed.
        assert window.backup_status.backup_now() is not None
        assert signed() == []
        assert not (usb / "kiosk-DEMO-checkpoints.jsonl").exists()

        assert station._key() is not None  # what issuing a slip does first
        assert window.backup_status.backup_now() is not None
        first = signed()
        assert [reason for reason, _count in first] == ["backup"]
        with database.unit_of_work() as uow:
            records = uow.session.scalar(select(func.count(AuditRecord.id)))
        assert first[0][1] == records - 1  # the chain's head then; its own record came after
        kept = checkpoint.read_folder(usb).checkpoints
        assert [(c.reason, c.count) for c in kept] == first
        # The next backup signs the next head.
        qtbot.wait(2)  # backups are named to the millisecond
        assert window.backup_status.backup_now() is not None
        assert [reason for reason, _count in signed()] == ["backup", "backup"]
        assert signed()[1][1] > first[0][1]
    finally:
        database.dispose()
