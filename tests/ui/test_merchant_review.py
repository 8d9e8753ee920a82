"""Administration -> 商户评估: the scorecard with its flags (a ⚠ and a word, not colour
alone), the thresholds saved, a supervisor's decision recorded through the real dialog, and
the register exported with its fingerprint shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import AuditRecord, MerchantReview
from kiosk.register_file import Register
from kiosk.services import merchant_review as review
from kiosk.services.auth import staff_session
from tests.unit.kiosk.services.test_merchant_review import CLOCK, construct_m01, two_events
from ui.main_window import MainWindow
from ui.stations.admin.merchants_tab import FLAGGED, MerchantsPanel
from ui.widgets import Tone

from .test_admin import open_admin

pytestmark = pytest.mark.ui
__all__ = ["two_events"]  # the fixture: event 1's database and the next event's


def _column(panel: MerchantsPanel, row: int, title: str) -> str:
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    return panel.table.item(row, headers.index(title)).text()


def test_the_tab_flags_and_records_a_decision_then_exports_the_register(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    tmp_path: Path,
) -> None:
    database = open_database(any_demo_url)
    construct_m01(database)  # M01: average score 3.5, 4 complaints, 3 days to delivery
    s001 = staff_session(database.unit_of_work(), "S001", clock=CLOCK)
    review.set_thresholds(database.unit_of_work(), s001, score_floor=36, clock=CLOCK)
    database.dispose()

    window = make_window(any_demo_url)
    station = open_admin(qtbot, window)
    panel = station.merchants
    station.tabs.setCurrentWidget(panel)  # opening the tab reads it
    codes = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    m01, m02 = codes.index("M01"), codes.index("M02")
    assert _column(panel, m01, "Review") == "⚠ Review"  # a symbol and a word, not colour alone
    review_column = [panel.table.horizontalHeaderItem(c).text() for c in range(11)].index("Review")
    assert panel.table.item(m01, review_column).foreground().color() == FLAGGED
    assert "below the floor of 3.6" in panel.table.item(m01, review_column).toolTip()
    assert _column(panel, m02, "Review") == "no flag"
    assert (_column(panel, m01, "Issued"), _column(panel, m01, "Complaints")) == ("5", "4")
    assert _column(panel, m01, "Average score") == "3.5 (4)"
    assert panel.score_floor.text() == "3.6"

    # The thresholds, typed and saved: four complaints now flag too.
    qtbot.keyClicks(panel.complaints, "4")
    qtbot.mouseClick(panel.save_thresholds, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK
    assert len(panel.cards[m01].flags) == 2

    # The decision: select M01, open the dialog, choose exit, type the reason, record.
    assert not panel.decide_button.isEnabled()
    panel.table.selectRow(m01)
    assert "4 complaint(s) reach the threshold of 4." in panel.flags.text()
    qtbot.mouseClick(panel.decide_button, Qt.MouseButton.LeftButton)
    dialog = panel.decision_dialog
    assert dialog is not None and dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # no reason, no decision
    dialog.decision.setCurrentIndex(dialog.decision.findData("exit"))
    dialog.reason.insert("多次拒收兑换券")  # as an input method commits it (QTest types ASCII)
    assert ok.isEnabled()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK, panel.banner.detail.text()
    assert _column(panel, m01, "Decision") == "exit"
    database = open_database(any_demo_url)
    with database.unit_of_work() as uow:
        (row,) = uow.session.scalars(select(MerchantReview)).all()
        audited = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "merchant_decided")
        ).one()
    database.dispose()
    assert (row.decision, row.reason) == ("exit", "多次拒收兑换券")
    assert json.loads(row.scorecard)["complaints"]["refused"] == 1
    assert json.loads(audited.details)["merchant"] == "M01"

    # The register: the passphrase, a file, and the fingerprint shown as on the tab.
    target = tmp_path / "register.json"

    class Files:
        @staticmethod
        def save_file(parent: QWidget, name: str) -> Path | None:
            return target

        @staticmethod
        def open_file(parent: QWidget) -> Path | None:
            return None

        @staticmethod
        def confirm_trust(parent: QWidget, register: Register) -> bool:
            return False

    panel.files = Files  # type: ignore[assignment]
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.ERROR  # no passphrase typed: nothing written
    assert not target.exists()
    qtbot.keyClicks(panel.passphrase, DEMO_PASSPHRASE)
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK, panel.banner.detail.text()
    assert panel.passphrase.text() == ""  # typed for one export, never kept
    body = json.loads(target.read_bytes())["body"]
    m01_entry = next(e for e in body["entries"] if e["merchant_code"] == "M01")
    assert (m01_entry["status"], m01_entry["reason"]) == ("exit", "多次拒收兑换券")
    fingerprint = review.fingerprint(body["signer"]["public_key"])
    assert fingerprint in panel.banner.detail.text()
    assert fingerprint in panel.fingerprint.text()


def test_the_tab_imports_a_register_once_the_fingerprint_is_confirmed(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    two_events: tuple[Database, Database],
    tmp_path: Path,
) -> None:
    first, second = two_events
    s001 = staff_session(first.unit_of_work(), "S001", clock=CLOCK)
    review.decide(first.unit_of_work(), "M03", "exit", "多次拒收兑换券", s001, clock=CLOCK)
    exported = review.export_register(first.unit_of_work(), DEMO_PASSPHRASE, s001, clock=CLOCK)
    path = tmp_path / "register.json"
    path.write_bytes(exported.data)
    shown: list[str] = []
    answers = [False, True]

    class Files:
        @staticmethod
        def save_file(parent: QWidget, name: str) -> Path | None:
            return None

        @staticmethod
        def open_file(parent: QWidget) -> Path | None:
            return path

        @staticmethod
        def confirm_trust(parent: QWidget, register: Register) -> bool:
            shown.append(register.fingerprint)
            return answers.pop(0)

    window = make_window(second.url)
    station = open_admin(qtbot, window)
    panel = station.merchants
    station.tabs.setCurrentWidget(panel)
    panel.files = Files  # type: ignore[assignment]
    assert panel.register_summary.text() == "No register from an earlier event imported."
    qtbot.mouseClick(panel.import_button, Qt.MouseButton.LeftButton)  # not confirmed
    assert panel.banner.tone == Tone.WARN
    assert review.register_entries(second.unit_of_work()) == []
    qtbot.mouseClick(panel.import_button, Qt.MouseButton.LeftButton)  # confirmed
    assert shown == [exported.fingerprint, exported.fingerprint]
    assert panel.banner.tone == Tone.OK, panel.banner.detail.text()
    assert "M03" in panel.banner.detail.text()
    assert "M03 安心保险代理" in panel.register_summary.text()
    codes = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    panel.table.selectRow(codes.index("M03"))
    assert "Register from DEMO: exit (多次拒收兑换券)" in panel.flags.text()
