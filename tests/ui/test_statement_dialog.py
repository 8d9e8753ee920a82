"""The points statement at reception, driven like a person: find the customer, open the
statement from the card, read the figures, print the 80 mm copy to the spool folder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import Customer, MobileBanking, Queue
from kiosk.points import LotInput, set_lots
from kiosk.services import reception
from kiosk.services.auth import staff_session
from tests.points_support import drop_lots
from ui.main_window import MainWindow
from ui.statement_dialog import StatementDialog
from ui.stations.activation import ActivationStation
from ui.stations.reception import ReceptionStation
from ui.widgets import Tone

from .conftest import sign_in
from .test_reception import type_slowly

pytestmark = pytest.mark.ui


def test_reception_shows_and_prints_the_statement(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spool = tmp_path / "spool"
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(spool))
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    window.switcher.setCurrentRow(1)
    page = window.current_station()
    assert isinstance(page, ReceptionStation)
    assert not page.statement_button.isEnabled()  # nobody on the card yet
    type_slowly(qtbot, page, "6200000030")
    qtbot.waitUntil(lambda: page.card is not None and page.statement_button.isEnabled())
    seen: list[str] = []

    def answer(dialog: StatementDialog) -> None:
        dialog.show()
        qtbot.waitExposed(dialog)
        seen.append(dialog.text.toPlainText())
        qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
        seen.append(dialog.banner.headline.text())
        assert dialog.banner.tone == Tone.INFO  # no printer set up: saved, not "printed"
        dialog.accept()

    monkeypatch.setattr(StatementDialog, "answer", answer)
    qtbot.mouseClick(page.statement_button, Qt.MouseButton.LeftButton)
    text, headline = seen
    assert "Personal points statement" in text and "62******30" in text
    assert "Points you can spend today" in text and "Services that fit your points" in text
    assert headline == "Points statement saved as PDF: no printer is set up."
    printed = list(spool.glob("statement-*.pdf"))
    assert len(printed) == 1


def test_a_merchant_has_no_reception_to_open_it_from(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    window = make_window(demo_url)
    sign_in(qtbot, window, "M001", "1234")
    assert "Reception" not in window.station_titles()


def test_the_activation_desk_reads_the_statement_in_large_print(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The customer called to the activation desk (F5), in Chinese and large print: the
    statement shows their own lots, soonest first, and the dialog fits a 1366×768 laptop."""
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    database = open_database(any_demo_url)
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup: the snapshot's lots
        customer = uow.session.scalar(select(Customer).where(Customer.customer_no == "6200000040"))
        assert customer is not None
        customer.mobile_banking = MobileBanking.OPENED
        drop_lots(uow.session, Customer.id == customer.id)
        set_lots(
            uow.session,
            customer,
            [
                LotInput("1", 2_400, date(2027, 1, 15)),  # within 3 months of 28 November
                LotInput("2", 5_100, date(2027, 9, 30)),  # within 12
                LotInput("3", 9_000, None),
            ],
        )
        customer_id = customer.id
        uow.commit()
    reception.check_in(
        database.unit_of_work(),
        customer_id,
        staff_session(database.unit_of_work(), "R001", clock=clock),
        route=Queue.ACTIVATION,
        clock=clock,
    )
    database.dispose()
    window = make_window(any_demo_url)
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    window.large.setChecked(True)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    station.call_button.setFocus()
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == customer_id
    assert station.statement_button.isEnabled()
    window.resize(1366, 768)
    seen: list[tuple[str, int, int]] = []

    def answer(dialog: StatementDialog) -> None:
        dialog.show()
        qtbot.waitExposed(dialog)
        size = dialog.frameGeometry()
        dialog.grab().save(str(tmp_path / "statement-dialog.png"))
        seen.append((dialog.text.toPlainText(), size.width(), size.height()))
        dialog.accept()

    monkeypatch.setattr(StatementDialog, "answer", answer)
    qtbot.mouseClick(station.statement_button, Qt.MouseButton.LeftButton)
    ((text, width, height),) = seen
    assert "个人积分说明" in text and "今日可用积分" in text
    assert "16,500 积分" in text  # spendable today: every lot
    # The lots soonest first, with their dates: 2,400 within 3 months, 7,500 within 12.
    assert text.index("2027-01-15") < text.index("2027-09-30")
    assert "2,400 积分" in text and "7,500 积分" in text
    assert width <= 1366 and height <= 768
    # Closed is gone: a desk opens one per customer all day, none is kept.
    assert station.findChildren(StatementDialog) == []
    assert station.customer.customer_id == customer_id  # still the customer at the desk
