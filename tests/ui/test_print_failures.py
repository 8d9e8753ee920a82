"""A printer that fails is never shown as success. With ``KIOSK_PRINTER="command:lp -d SLIPS"``
and no ``lp`` on the laptop, the check-in (or the issue) says it stands in green and, apart
and as large, the printing says in amber and in words what went wrong, with F4 to print
again; a language switch in the middle keeps the failure on screen; once ``lp`` exists, F4
prints exactly what did not come out. Both backends, the real window, real key events."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import AuditRecord, Customer, Slip, Visit
from tests.gate_support import make_ready
from ui.main_window import MainWindow
from ui.stations.activation import ActivationStation, Ask
from ui.stations.reception import ReceptionStation
from ui.widgets import Tone

from .conftest import sign_in
from .test_activation import _catalog_item, _customer_for_activation
from .test_qt_language import _switch_language
from .test_reception import _code_and_customer
from .wedge import scanner_burst

pytestmark = pytest.mark.ui


@pytest.fixture
def no_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Path]:
    """``KIOSK_PRINTER=command:lp -d SLIPS`` on a laptop without ``lp``; calling the result
    installs a stand-in ``lp`` that files each job in a folder (the paper tray)."""
    bin_dir, tray = tmp_path / "bin", tmp_path / "tray"
    bin_dir.mkdir()
    tray.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("KIOSK_PRINTER", "command:lp -d SLIPS")
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))

    def install_lp() -> Path:
        lp = bin_dir / "lp"
        lp.write_text(f'#!/bin/sh\nfor f; do :; done\n/bin/cp "$f" "{tray}/"\n')
        lp.chmod(0o755)
        return tray

    return install_lp


def _press(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> None:
    qtbot.keyClick(window.focusWidget() or window, key)


def _count(url: str, model: type, *where: object) -> int:
    database = open_database(url)
    with database.unit_of_work() as uow:
        n = uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    database.dispose()
    return int(n)


def test_reception_ticket_not_printed_is_amber_with_f4(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    no_lp: Callable[[], Path],
) -> None:
    code, name = _code_and_customer(any_demo_url, "6200000011")
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    page = window.current_station()
    assert isinstance(page, ReceptionStation)

    scanner_burst(qtbot, page.field, code)
    ticket = page.card.visit.ticket if page.card and page.card.visit else ""
    assert ticket
    # The check-in stands, in green; the printing, apart and amber, says why in words.
    assert page.banner.tone == Tone.OK
    assert page.banner.headline.text() == f"Checked in: {name} · ticket {ticket}"
    assert "print" not in page.banner.detail.text().lower()
    qtbot.waitUntil(lambda: page.print_banner.tone == Tone.WARN)
    assert page.print_banner.headline.text() == "Printer not connected"
    assert page.print_banner.detail.text() == (
        "The print command “lp” is not installed on this laptop. "
        f"The check-in stands. Ticket {ticket} is saved: press F4 to print it again."
    )
    assert page.print_banner.retry_button.isVisible()
    assert page.sounds.last == Tone.WARN
    assert page.print_banner.isVisible() and page.banner.isVisible()
    assert "Errno" not in page.print_banner.headline.text() + page.print_banner.detail.text()
    assert _count(any_demo_url, Visit) == 1  # checked in once, whatever the printer did
    assert (Path(page.printer.spool_dir) / f"ticket-{ticket}.pdf").exists()

    # F4 with lp still missing: the same words, nothing else happens.
    _press(qtbot, window, Qt.Key.Key_F4)
    assert page.print_banner.tone == Tone.WARN and _count(any_demo_url, Visit) == 1

    # Chinese in the middle: the window is rebuilt, the failure is still said, in Chinese.
    _switch_language(qtbot, window, "zh_CN")
    page = window.current_station()
    assert isinstance(page, ReceptionStation)
    assert page.print_banner.tone == Tone.WARN
    assert page.print_banner.headline.text() == f"排队小票 {ticket} 未打印。"
    assert page.print_banner.detail.text() == "签到已完成：按 F4 重新打印排队小票。"

    # The printer is plugged in: F4 prints that ticket, once.
    tray = no_lp()
    page.field.setFocus()
    _press(qtbot, window, Qt.Key.Key_F4)
    assert page.print_banner.tone == Tone.OK
    assert page.print_banner.headline.text() == f"排队小票 {ticket} 已打印。"
    assert not page.print_banner.retry_button.isVisible()
    assert [p.name for p in tray.iterdir()] == [f"ticket-{ticket}.pdf"]
    _press(qtbot, window, Qt.Key.Key_F4)  # nothing failed any more: nothing to print
    assert len(list(tray.iterdir())) == 1
    assert _count(any_demo_url, Visit) == 1


def test_activation_slips_not_printed_are_amber_with_f4(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    no_lp: Callable[[], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Ask, "passphrase", staticmethod(lambda parent, demo: DEMO_PASSPHRASE))
    customer_id, preselected = _customer_for_activation(any_demo_url, clock)
    database = open_database(any_demo_url)
    make_ready(database, customer_id)  # past the redemption gate: this test is about printing
    with database.unit_of_work() as uow:
        number = uow.session.scalar(select(Customer.customer_no).where(Customer.id == customer_id))
    database.dispose()
    assert number
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    _press(qtbot, window, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == customer_id
    # One more service for the cart: Enter on its catalog row.
    station.catalog.setCurrentItem(_catalog_item(station, "O501"))
    station.catalog.setFocus()
    qtbot.keyClick(station.catalog, Qt.Key.Key_Return)
    n = len(preselected) + ("O501" not in preselected)
    assert sum(station.cart.lines.values()) == n
    _press(qtbot, window, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: station.print_banner.tone == Tone.WARN)
    # Issued (green) and not printed (amber): two messages, never "issued and printed".
    assert station.banner.tone == Tone.OK
    plural = "slip" if n == 1 else "slips"
    assert station.banner.headline.text().startswith(f"{n} {plural} issued for ")
    assert station.print_banner.headline.text() == "Printer not connected"
    assert station.print_banner.detail.text() == (
        "The print command “lp” is not installed on this laptop. Printing not finished: the "
        "slips are saved, print them again from the list (F4)."
    )
    assert station.print_banner.retry_button.isVisible() and station.sounds.last == Tone.WARN
    assert _count(any_demo_url, Slip) == n
    assert _count(any_demo_url, Slip, Slip.copies_printed == 0) == n
    assert _count(any_demo_url, AuditRecord, AuditRecord.action == "slip_print_failed") == n
    assert [station.slip_table.item(r, 4).text() for r in range(n)] == ["0"] * n

    # Chinese in the middle; the desk is rebuilt. Scanning the customer's number opens them
    # again, and the desk says from the database that their slips never came out.
    _switch_language(qtbot, window, "zh_CN")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    if station.customer is None:
        scanner_burst(qtbot, station.scan, number)
    assert station.customer is not None and station.customer.customer_id == customer_id
    assert station.print_banner.tone == Tone.WARN
    assert f"的 {n} 张兑换券" in station.print_banner.headline.text()
    assert "从未打印" in station.print_banner.headline.text()
    assert station.print_banner.detail.text() == "券已出并已保存：按 F4 立即打印。"

    # lp is there now: F4 prints every slip that never came out, each once, nobody asked.
    tray = no_lp()
    _press(qtbot, window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: station.print_banner.tone == Tone.OK)
    assert station.print_banner.headline.text() == f"已打印 {n} 张兑换券。"
    assert len(list(tray.iterdir())) == n
    assert _count(any_demo_url, Slip, Slip.copies_printed == 1) == n
    assert [station.slip_table.item(r, 4).text() for r in range(n)] == ["1"] * n
    _press(qtbot, window, Qt.Key.Key_F4)  # nothing left unprinted: no second copies
    assert station.print_banner.tone == Tone.INFO
    assert len(list(tray.iterdir())) == n
    assert _count(any_demo_url, Slip, Slip.copies_printed == 1) == n


def test_a_long_print_message_is_never_cut(qtbot: QtBot) -> None:
    """Seen at 1366 px: 排队小票 J001 已保存为 PDF：未设置打印机 on two lines in a banner one
    line high, cut at top and bottom. The banner grows to every wrapped line."""
    from PySide6.QtWidgets import QWidget

    from ui.widgets import PrintBanner, ResultBanner, side_by_side

    host = QWidget()
    qtbot.addWidget(host)
    result, printing = ResultBanner(), PrintBanner("F4")
    host.setLayout(side_by_side(result, printing))
    host.resize(1100, 60)
    host.show()
    result.show_result(Tone.OK, "签到成功：王军 · 排队号 J001", "请到激活兑换等候")
    printing.outcome(Tone.INFO, "排队小票 J001 已保存为 PDF：未设置打印机。" * 2, retry=True)
    qtbot.waitUntil(
        lambda: (
            printing.headline.height()
            >= printing.headline.heightForWidth(printing.headline.width())
        )
    )
    lines = printing.headline.heightForWidth(printing.headline.width())
    assert lines > printing.headline.fontMetrics().height() * 1.5  # wrapped: two lines or more
    assert printing.headline.geometry().bottom() <= printing.contentsRect().bottom()
