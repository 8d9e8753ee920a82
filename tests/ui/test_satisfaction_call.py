"""The service desk's satisfaction call (issue #21), with the real dialog: an RM finds a
redeemed slip by its number, presses a score and a category, types the complaint and saves;
a slip never redeemed cannot be saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import Slip
from kiosk.services.booths import import_bundle
from kiosk.services.feedback import feedback_for_slip
from tests.booth_support import issue, new_booth, pack_bytes, supervisor
from ui.main_window import MainWindow
from ui.stations.satisfaction_call import SatisfactionCallDialog
from ui.stations.service_desk import ServiceDeskStation
from ui.widgets import Tone

from .conftest import sign_in

pytestmark = pytest.mark.ui


def test_an_rm_records_a_call_for_a_redeemed_slip(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    db = open_database(demo_url)
    try:
        redeemed, never = issue(db, ["O101", "O102"])
        booth = new_booth(tmp_path / "booth.sqlite3")
        booth.install(pack_bytes(db))
        booth.redeem(redeemed, "李四")
        import_bundle(db.unit_of_work(), booth.bundle()[0], supervisor(db))
        booth.database.dispose()
        with db.unit_of_work() as uow:
            serials = dict(uow.session.execute(select(Slip.code, Slip.serial)).all())
    finally:
        db.dispose()
    window = make_window(demo_url)
    sign_in(qtbot, window, "RM001", "1234")
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation)
    assert station.call_outcome_button.isEnabled()

    dialog = SatisfactionCallDialog(station)
    qtbot.addWidget(dialog)
    dialog.show()
    # A slip never redeemed: found, said why, not savable.
    qtbot.keyClicks(dialog.slip, f"No. {serials[never]:06d}")
    qtbot.keyClick(dialog.slip, Qt.Key.Key_Return)
    assert "was never redeemed" in dialog.message.text()
    assert not dialog.save_button.isEnabled()

    dialog.slip.clear()
    qtbot.keyClicks(dialog.slip, str(serials[redeemed]))
    dialog.find_button.click()
    assert dialog.message.text() == ""
    assert "基础体检套餐" in dialog.details.text() and "*" in dialog.details.text()
    assert dialog.save_button.isEnabled()
    dialog.score_buttons[2].click()
    dialog.category.setCurrentIndex(dialog.category.findData("quality"))
    dialog.complaint.insertPlainText("比付现金的客户等得久")  # as an input method commits it
    dialog.save_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert station.banner.tone == Tone.OK
    db = open_database(demo_url)
    try:
        (said,) = feedback_for_slip(db.unit_of_work(), serials[redeemed]).feedback
    finally:
        db.dispose()
    assert (said.channel, said.score, said.category, said.complaint) == (
        "call",
        2,
        "quality",
        "比付现金的客户等得久",
    )
