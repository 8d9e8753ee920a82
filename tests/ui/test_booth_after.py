"""The booth window after a redemption (issue #21): the service delivered, a complaint typed
on the spot, both in the bundle the event database imports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.db import Database
from kiosk.models import Slip
from kiosk.services.auth import staff_session
from kiosk.services.booths import import_bundle
from kiosk.services.feedback import feedback_for_slip
from tests.booth_support import MORNING, issue, pack_bytes
from tests.ui.test_booth import make_booth, scan  # noqa: F401 (the fixture)
from ui import booth_window as booth_ui
from ui.booth_window import BoothWindow
from ui.widgets import Tone

pytestmark = pytest.mark.ui


def test_delivered_and_a_complaint_travel_in_the_bundle(
    qtbot: QtBot,
    demo_db: Database,
    make_booth: Callable[[bytes | None], BoothWindow],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    first, second = issue(demo_db, ["O101", "O102"])
    window = make_booth(pack_bytes(demo_db))
    panel = window.panel
    assert panel is not None
    panel.auto.setChecked(True)
    panel.staff.setText("李四")
    qtbot.keyClick(panel.staff, Qt.Key.Key_Return)
    scan(qtbot, window, first)
    scan(qtbot, window, second)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2)
    # Nothing chosen: the booth says what to do, records nothing.
    panel.table.clearSelection()
    panel.delivered_button.click()
    assert panel.banner.headline.text() == "Choose a slip"
    with demo_db.unit_of_work() as uow:
        serials = dict(uow.session.execute(select(Slip.code, Slip.serial)).all())
    # The newest is on top: row 0 is the second slip, row 1 the first.
    panel.table.selectRow(1)
    assert panel.chosen_serial() == serials[first]
    panel.delivered_button.click()
    assert panel.banner.tone == Tone.OK
    assert panel.banner.headline.text() == "Service delivered"
    qtbot.waitUntil(lambda: panel.table.item(1, 5).text() == "09:10")
    panel.table.selectRow(0)
    monkeypatch.setattr(
        booth_ui.ComplaintDialog,
        "ask",
        lambda parent, slip: ("conditions", "要先办会员卡才给做"),
    )
    panel.complaint_button.click()
    assert panel.banner.headline.text() == "Complaint recorded"
    assert "extra conditions" in panel.banner.detail.text()
    assert panel.table.item(0, 6).text() == "1"
    assert window.focusWidget() is panel.field  # the keys are back for the next scan

    target = tmp_path / "bundle.json"
    monkeypatch.setattr(booth_ui.FileChooser, "bundle", lambda parent, name: str(target))
    panel.export_button.click()
    assert panel.banner.headline.text() == "Bundle exported"
    s001 = staff_session(demo_db.unit_of_work(), "S001")
    result = import_bundle(demo_db.unit_of_work(), target.read_bytes(), s001)
    assert (result.added, result.deliveries, result.complaints) == (2, 1, 1)
    assert feedback_for_slip(demo_db.unit_of_work(), serials[first]).delivered_at == MORNING
    (said,) = feedback_for_slip(demo_db.unit_of_work(), serials[second]).feedback
    assert (said.channel, said.category, said.complaint, said.booth_staff) == (
        "booth",
        "conditions",
        "要先办会员卡才给做",
        "李四",
    )
    again = import_bundle(demo_db.unit_of_work(), target.read_bytes(), s001)
    assert (again.added, again.deliveries, again.complaints) == (0, 0, 0)


def test_the_complaint_dialog_itself(qtbot: QtBot) -> None:
    dialog = booth_ui.ComplaintDialog("No. 000001")
    qtbot.addWidget(dialog)
    assert dialog.category.count() == 5  # nothing chosen in advance, then the four
    assert dialog.category.currentData() is None and not dialog.ok.isEnabled()
    assert "No. 000001" in dialog.findChild(QLabel).text()  # named in the body
    dialog.category.setCurrentIndex(dialog.category.findData("quality"))
    assert dialog.ok.isEnabled()
    dialog.text.setPlainText("比付费客户差")
    assert str(dialog.category.currentData()) == "quality"
