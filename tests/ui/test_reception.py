"""The reception station driven like a person would, keyboard first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QInputMethodEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.db import open_database
from kiosk.models import AuditRecord, Customer, Invitation, Staff, TimeSlot, Visit
from ui.approval import SupervisorDialog
from ui.camera import decode_image
from ui.main_window import MainWindow
from ui.stations.reception import ReceptionStation, WalkInDialog
from ui.widgets import Tone

from .conftest import sign_in, supervisor_answers

pytestmark = pytest.mark.ui


@pytest.fixture
def station(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
) -> ReceptionStation:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PRINT_COMMAND", raising=False)
    window = make_window(demo_url)
    sign_in(qtbot, window, "R001", "1234")
    assert window.station_titles() == ["Event overview", "Reception"]
    window.switcher.setCurrentRow(1)
    page = window.current_station()
    assert isinstance(page, ReceptionStation)
    assert window.focusWidget() is page.field
    return page


def _code_and_customer(url: str, customer_no: str) -> tuple[str, str]:
    database = open_database(url)
    with database.unit_of_work() as uow:
        code, name = uow.session.execute(
            select(Invitation.code, Customer.name)
            .join(Customer)
            .where(Customer.customer_no == customer_no)
        ).one()
    database.dispose()
    return code, name


def _visits(url: str) -> int:
    database = open_database(url)
    with database.unit_of_work() as uow:
        count = uow.session.scalar(select(func.count(Visit.id))) or 0
    database.dispose()
    return count


def scan(qtbot: QtBot, station: ReceptionStation, text: str) -> None:
    """A wedge scanner: the whole code in one burst, then Enter."""
    qtbot.keyClicks(station.field, text)
    qtbot.keyClick(station.field, Qt.Key.Key_Return)


def type_slowly(qtbot: QtBot, station: ReceptionStation, text: str) -> None:
    """A person: a key every 110 ms; Chinese arrives from the input method as committed text."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(station.field, char)
        else:
            event = QInputMethodEvent()
            event.setCommitString(char)
            QApplication.sendEvent(station.field, event)
        qtbot.wait(110)


def test_scan_checks_in_at_once(qtbot: QtBot, station: ReceptionStation, demo_url: str) -> None:
    code, name = _code_and_customer(demo_url, "6200000011")
    scan(qtbot, station, code)
    assert station.banner.tone == Tone.OK
    assert name in station.banner.headline.text()
    assert station.sounds.last == Tone.OK
    assert station.field.text() == "" and station.window().focusWidget() is station.field
    assert station.card is not None and station.card.visit is not None
    assert _visits(demo_url) == 1
    # The ticket prints right after the card is shown.
    qtbot.waitUntil(lambda: station.last_print.endswith(f"ticket-{station.card.visit.ticket}.pdf"))
    ticket = station.card.visit.ticket
    assert station.print_banner.tone == Tone.INFO  # no printer set up: saved, not "printed"
    assert station.print_banner.headline.text() == (
        f"Ticket {ticket} saved as PDF: no printer is set up."
    )
    # The same invitation again: an amber warning, no second visit.
    scan(qtbot, station, code)
    assert station.banner.tone == Tone.WARN
    assert "Already checked in" in station.banner.headline.text()
    assert _visits(demo_url) == 1


def test_typing_searches_and_enter_checks_in(
    qtbot: QtBot, station: ReceptionStation, demo_url: str
) -> None:
    _code, name = _code_and_customer(demo_url, "6200000012")
    type_slowly(qtbot, station, name)
    qtbot.waitUntil(lambda: station.model.rowCount() > 0 and station.card is not None)
    assert station.banner.tone is None  # typing is a search, nothing was checked in
    assert station.model.hit(0) is not None and station.model.hit(0).name.startswith(name)
    assert station.card is not None and station.card.hit.name.startswith(name)
    assert _visits(demo_url) == 0
    qtbot.keyClick(station.field, Qt.Key.Key_Return)
    assert station.banner.tone == Tone.OK
    assert _visits(demo_url) == 1


def test_arrow_keys_choose_among_namesakes(qtbot: QtBot, station: ReceptionStation) -> None:
    type_slowly(qtbot, station, "王")
    qtbot.waitUntil(lambda: station.model.rowCount() > 2 and station.card is not None)
    first = station.card
    assert first is not None
    qtbot.keyClick(station.field, Qt.Key.Key_Down)
    qtbot.keyClick(station.field, Qt.Key.Key_Down)
    assert station.table.currentIndex().row() == 2
    # The card follows the selection right after the list has painted.
    qtbot.waitUntil(
        lambda: station.card is not None and station.card.hit.customer_id != first.hit.customer_id
    )
    assert station.window().focusWidget() is station.field
    qtbot.keyClick(station.field, Qt.Key.Key_Up)
    assert station.table.currentIndex().row() == 1


@pytest.mark.parametrize(
    ("scanned", "message"),
    [
        ("ZZ99ZZ99", "is not an invitation code of this event"),
        ("62000000", "No invitation or customer number"),
        ("%%$$##!!", "keyboard layout"),
    ],
)
def test_bad_scans_say_why(
    qtbot: QtBot, station: ReceptionStation, scanned: str, message: str
) -> None:
    scan(qtbot, station, scanned)
    assert station.banner.tone == Tone.ERROR
    assert message in station.banner.headline.text()
    assert station.sounds.last == Tone.ERROR
    # Ready for the next scan at once: focus kept, the bad text selected to be typed over.
    assert station.window().focusWidget() is station.field
    assert station.field.selectedText() == scanned


def test_walk_in(
    qtbot: QtBot, station: ReceptionStation, demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(dialog: WalkInDialog) -> None:
        dialog.name.setText("欧阳娜娜")
        dialog.phone.setText("13700001234")
        dialog.branch.setCurrentIndex(3)
        dialog.submit()

    monkeypatch.setattr(WalkInDialog, "answer", answer)
    station.walk_in_button.click()
    assert station.banner.tone == Tone.OK
    assert station.card is not None and station.card.hit.walk_in
    assert "(walk-in)" in station.card_view.name.text()
    assert _visits(demo_url) == 1


def _undo_records(url: str) -> list[tuple[int | None, int | None]]:
    database = open_database(url)
    with database.unit_of_work() as uow:
        rows = uow.session.execute(
            select(AuditRecord.staff_id, AuditRecord.approved_by).where(
                AuditRecord.action == "check_in_undone"
            )
        ).all()
        supervisor = uow.session.scalar(select(Staff.id).where(Staff.staff_no == "S001"))
    database.dispose()
    return [(staff, approver if approver != supervisor else -1) for staff, approver in rows]


def test_undo_with_a_supervisors_approval(
    qtbot: QtBot, station: ReceptionStation, demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _name = _code_and_customer(demo_url, "6200000013")
    scan(qtbot, station, code)
    assert station.undo_button.isEnabled()
    seen: list[str] = []
    monkeypatch.setattr(SupervisorDialog, "answer", supervisor_answers(qtbot, "S001", "1234", seen))
    qtbot.keyClick(station.field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert seen == [""]
    assert "undone" in station.banner.headline.text()
    assert _visits(demo_url) == 0
    assert _undo_records(demo_url) == [(station.context.staff.staff_id, -1)]
    assert not station.undo_button.isEnabled()
    # The card stays to be read, but it is no selection: checking in again means finding
    # the customer again, so a stray Enter cannot undo the undo.
    assert not station.check_in_button.isEnabled()
    qtbot.keyClick(station.field, Qt.Key.Key_Return)
    assert _visits(demo_url) == 0


def test_undo_with_a_wrong_pin_changes_nothing(
    qtbot: QtBot, station: ReceptionStation, demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _name = _code_and_customer(demo_url, "6200000013")
    scan(qtbot, station, code)
    headline = station.banner.headline.text()
    seen: list[str] = []
    monkeypatch.setattr(SupervisorDialog, "answer", supervisor_answers(qtbot, "S001", "9999", seen))
    qtbot.keyClick(station.field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert seen == ["Wrong PIN. 4 attempts left; the next in 1 s."]
    assert _visits(demo_url) == 1
    assert _undo_records(demo_url) == []
    assert station.banner.headline.text() == headline
    assert station.undo_button.isEnabled()  # still possible, with a supervisor
    # A reception clerk's own PIN is right but approves nothing.
    seen.clear()
    monkeypatch.setattr(SupervisorDialog, "answer", supervisor_answers(qtbot, "R002", "1234", seen))
    qtbot.keyClick(station.field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert seen == ["R002 is not a supervisor and cannot approve this."]
    assert _visits(demo_url) == 1


def test_slot_panel_warns_when_the_current_slot_is_full(
    qtbot: QtBot, station: ReceptionStation, demo_url: str
) -> None:
    database = open_database(demo_url)
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        uow.session.execute(update(TimeSlot).where(TimeSlot.code == "AM").values(capacity=1))
        codes = uow.session.scalars(
            select(Invitation.code).join(TimeSlot).where(TimeSlot.code == "AM").limit(2)
        ).all()
        uow.commit()
    database.dispose()
    for code in codes:
        scan(qtbot, station, code)
    assert station.slots.warning.isVisible()
    assert "over capacity" in station.slots.warning.text()
    label, _bar = station.slots.rows["AM"]
    assert "2 arrived" in label.text() and label.text().startswith("▶")


def _qr_image(text: str) -> QImage:
    import io

    import qrcode

    buffer = io.BytesIO()
    qrcode.make(text, box_size=6, border=4).save(buffer, format="PNG")
    image = QImage()
    assert image.loadFromData(buffer.getvalue())
    return image


def test_camera_frames_check_in_once(
    qtbot: QtBot, station: ReceptionStation, demo_url: str
) -> None:
    code, name = _code_and_customer(demo_url, "6200000014")
    assert decode_image(_qr_image(code)) == [code]
    frame = _qr_image(code)
    station.camera.process(frame, now=100.0)
    assert station.banner.tone == Tone.OK and name in station.banner.headline.text()
    # The customer holds the invitation up for a while: later frames are not new scans.
    station.camera.process(frame, now=100.5)
    station.camera.process(frame, now=101.0)
    assert station.banner.tone == Tone.OK
    assert _visits(demo_url) == 1
    assert decode_image(QImage(64, 64, QImage.Format.Format_RGB32)) == []


def test_enter_before_the_card_has_loaded(
    qtbot: QtBot, station: ReceptionStation, demo_url: str
) -> None:
    """The card loads just after the list paints; Enter at once still checks in the right one."""
    _code, name = _code_and_customer(demo_url, "6200000015")
    station.field.setText(name)
    station.run_search()
    assert station.card_timer.isActive()  # the card is still pending
    qtbot.keyClick(station.field, Qt.Key.Key_Return)
    assert station.banner.tone == Tone.OK
    assert station.card is not None and station.card.hit.name.startswith(name)
    assert _visits(demo_url) == 1


def test_scan_right_after_a_search_keeps_the_new_card(
    qtbot: QtBot, station: ReceptionStation, demo_url: str
) -> None:
    """A card still pending from the last search must not replace the scanned customer's."""
    code, name = _code_and_customer(demo_url, "6200000016")
    station.field.setText("王")
    station.run_search()
    assert station.card_timer.isActive()
    station.field.clear()
    scan(qtbot, station, code)
    qtbot.wait(50)  # let any pending timer fire
    assert station.card is not None and station.card.visit is not None
    assert station.card.hit.name == name
