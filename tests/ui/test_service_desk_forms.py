"""The governance form driven by an RM's keyboard (#16 symptoms 3 and 4): 长期 ticked and
typed, an end date cleared, dates as the card prints them, live marks, and the summary the
customer confirms, in Chinese and large print; the database checked after each step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import Customer, GovernanceChange, MobileBanking
from kiosk.services import reception
from kiosk.services.auth import staff_session
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.service_desk import ConfirmChanges, DateField, ServiceDeskStation
from ui.widgets import Tone

from .conftest import sign_in

pytestmark = pytest.mark.ui

CUSTOMER = "6200000037"  # 杨丽嘉: ID valid 2006-09-10 to 2026-09-10, occupation 4


def _check_in(url: str, clock: FixedClock) -> str:
    database = open_database(url)
    with database.unit_of_work() as uow:
        customer = uow.session.scalars(
            select(Customer).where(Customer.customer_no == CUSTOMER)
        ).one()
        assert customer.id_valid_to == date(2026, 9, 10) and customer.occupation_code == "4"
        customer_id, rm_no = customer.id, customer.rm.staff_no  # type: ignore[union-attr]
    staff = staff_session(database.unit_of_work(), "R001")
    reception.check_in(database.unit_of_work(), customer_id, staff, clock=clock)
    database.dispose()
    return rm_no


def _stored(url: str) -> dict[str, object]:
    database = open_database(url)
    with database.unit_of_work() as uow:
        c = uow.session.scalars(select(Customer).where(Customer.customer_no == CUSTOMER)).one()
        changes = {
            g.field: (g.old_value, g.new_value)
            for g in uow.session.scalars(
                select(GovernanceChange).where(GovernanceChange.customer_id == c.id)
            )
        }
        stored = {
            "from": c.id_valid_from,
            "to": c.id_valid_to,
            "long_term": c.id_long_term,
            "id_masked": c.id_masked,
            "occupation": c.occupation_code,
            "mobile_banking": c.mobile_banking,
            "changes": changes,
        }
    database.dispose()
    return stored


def person(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """A person typing: ASCII key by key, Chinese committed by the input method."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
        else:
            event = QInputMethodEvent()
            event.setCommitString(char)
            QApplication.sendEvent(widget, event)
        qtbot.wait(30)


def _retype(qtbot: QtBot, field: QLineEdit, text: str) -> None:
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    person(qtbot, field, text)


@pytest.fixture
def chinese_large(settings: Settings) -> Settings:
    settings.language = "zh_CN"
    return settings


def test_long_term_renewal_typed_as_a_person_would(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    chinese_large: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rm_no = _check_in(any_demo_url, clock)
    before = _stored(any_demo_url)
    window = make_window(any_demo_url)
    sign_in(qtbot, window, rm_no, "1234")
    window.large.setChecked(True)  # large print, switched on before the customer sits down
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation)
    qtbot.waitUntil(station.isVisible)  # the rebuilt window is shown by a queued call
    qtbot.keyClick(station.call_button, Qt.Key.Key_F5)
    assert station.called is not None
    status = station.statuses
    assert status["id_valid_to"].text() == "已过期"
    assert {f for f, label in status.items() if not label.text().startswith("✓")} == {"id_valid_to"}

    long_term = station.inputs["id_long_term"]
    end = station.inputs["id_valid_to"]
    start = station.inputs["id_valid_from"]
    occupation = station.inputs["occupation_code"]
    assert isinstance(long_term, QCheckBox) and isinstance(end, DateField)
    assert isinstance(start, DateField) and isinstance(occupation, QComboBox)
    assert end.text() == "2026-09-10"

    # 长期 ticked: the end date empties and locks; the mark follows at once.
    long_term.setFocus()
    qtbot.keyClick(long_term, Qt.Key.Key_Space)
    assert long_term.isChecked() and end.text() == "" and not end.isEnabled()
    assert status["id_valid_to"].text().startswith("✓")
    # Unticked (a slip of the finger): the date comes back, expired again.
    qtbot.keyClick(long_term, Qt.Key.Key_Space)
    assert end.isEnabled() and end.text() == "2026-09-10"
    assert status["id_valid_to"].text() == "已过期"
    # Clearing the end date clears the value: "missing", and a save is refused in place.
    _retype(qtbot, end, "")
    assert end.text() == "" and status["id_valid_to"].text() == "缺失"
    qtbot.keyClick(end, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert station.banner.tone == Tone.ERROR
    assert station.errors["id_valid_to"].isVisible()
    assert "截止日期" in station.errors["id_valid_to"].text()
    assert _stored(any_demo_url) == before
    # The new card: issued 2026.11.20, 长期, typed as printed on it; no ID number retyped.
    _retype(qtbot, start, "2026.11.20")
    end.setFocus()
    person(qtbot, end, "长期")
    assert long_term.isChecked() and end.text() == "" and not end.isEnabled()
    assert not station.errors["id_valid_to"].isVisible()  # the sentence went with the fix
    assert all(label.text().startswith("✓") for label in status.values())
    # And the occupation, chosen with the keyboard.
    occupation.setFocus()
    qtbot.keyClick(occupation, Qt.Key.Key_Down)
    assert occupation.currentData() == "5"

    shown: list[list[tuple[str, str, str]]] = []
    monkeypatch.setattr(
        ConfirmChanges, "ask", classmethod(lambda cls, parent, rows: shown.append(rows) or True)
    )
    qtbot.keyClick(occupation, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    assert shown == [
        [
            ("职业", "社会生产服务和生活服务人员", "农、林、牧、渔业生产及辅助人员"),
            ("证件有效期", "2006-09-10 至 2026-09-10", "2026-11-20 至 长期"),
        ]
    ]
    after = _stored(any_demo_url)
    assert after["from"] == date(2026, 11, 20) and after["to"] is None
    assert after["long_term"] is True and after["occupation"] == "5"
    assert after["id_masked"] == before["id_masked"]  # the sealed number untouched
    assert after["changes"] == {
        "occupation_code": ("4", "5"),
        "id_valid_from": ("2006-09-10", "2026-11-20"),
        "id_valid_to": ("2026-09-10", None),
        "id_long_term": ("0", "1"),
    }
    # The form reloaded from the database: 长期, locked, every mark ok.
    assert long_term.isChecked() and not end.isEnabled() and start.text() == "2026-11-20"
    assert all(label.text().startswith("✓") for label in status.values())
    # Mobile banking opens now: the ID is no longer expired.
    if before["mobile_banking"] == MobileBanking.NONE:
        qtbot.keyClick(occupation, Qt.Key.Key_F8)
        assert station.banner.tone == Tone.OK
        assert _stored(any_demo_url)["mobile_banking"] == MobileBanking.OPENED


def test_a_date_that_is_no_date_is_said_in_its_field(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rm_no = _check_in(any_demo_url, clock)
    before = _stored(any_demo_url)
    window = make_window(any_demo_url)
    sign_in(qtbot, window, rm_no, "1234")
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation)
    qtbot.keyClick(station.call_button, Qt.Key.Key_F5)
    start = station.inputs["id_valid_from"]
    end = station.inputs["id_valid_to"]
    assert isinstance(start, DateField) and isinstance(end, DateField)
    _retype(qtbot, start, "2026.13.20")
    assert station.statuses["id_valid_from"].text() == "invalid"
    monkeypatch.setattr(
        ConfirmChanges, "ask", classmethod(lambda cls, parent, rows: pytest.fail("asked"))
    )
    qtbot.keyClick(start, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert station.errors["id_valid_from"].text() == (
        "“2026.13.20” is not a date: type it as on the card, e.g. 2016.05.03."
    )
    assert start.text() == "2026.13.20"  # kept as typed, to be corrected
    assert _stored(any_demo_url) == before
    # Put right: a 20-year card, both dates as printed; the period is checked without the
    # sealed number, and a wrong end date is explained.
    _retype(qtbot, start, "2026.11.20")
    _retype(qtbot, end, "2040.11.20")
    assert "5, 10 or 20 years" in station.errors["id_valid_to"].text()
    _retype(qtbot, end, "20461120")
    assert not station.errors["id_valid_to"].isVisible()
    shown: list[list[tuple[str, str, str]]] = []
    monkeypatch.setattr(
        ConfirmChanges, "ask", classmethod(lambda cls, parent, rows: shown.append(rows) or True)
    )
    qtbot.keyClick(end, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert station.banner.tone == Tone.OK
    assert shown == [[("ID validity", "2006-09-10 to 2026-09-10", "2026-11-20 to 2046-11-20")]]
    after = _stored(any_demo_url)
    assert (after["from"], after["to"], after["long_term"]) == (
        date(2026, 11, 20),
        date(2046, 11, 20),
        False,
    )


def test_the_confirmation_dialog_shows_words(qtbot: QtBot) -> None:
    from kiosk.governance import KycForm, summary
    from kiosk.i18n import set_language

    set_language("zh_CN")
    before = KycForm(
        name="杨丽嘉",
        gender="F",
        nationality="CHN",
        occupation_code="4",
        address="广州市天河区****",
        phone="139****0098",
        id_type="resident_id",
        id_number="440113********1495",
        id_valid_from=date(2006, 9, 10),
        id_valid_to=date(2026, 9, 10),
        id_long_term=False,
        tax_residency="CN",
    )
    after = KycForm(
        **{
            **before.__dict__,
            "occupation_code": "1",
            "phone": "13800000098",
            "id_number": None,
            "address": None,
            "id_long_term": True,
        }
    )
    dialog = ConfirmChanges(summary(before, after), None)
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.table
    cells = [
        [table.item(r, c).text() for c in range(3)]  # type: ignore[union-attr]
        for r in range(table.rowCount())
    ]
    assert cells == [
        [
            "职业",
            "社会生产服务和生活服务人员",
            "党的机关、国家机关、群众团体和社会组织、企事业单位负责人",
        ],
        ["手机号", "139****0098", "138****0098"],
        ["证件有效期", "2006-09-10 至 2026-09-10", "2006-09-10 至 长期"],
    ]


def test_what_was_typed_comes_back_after_the_app_closed_unexpectedly(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    any_demo_url: str,
    chinese_large: Settings,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue #30: the governance form's typing survives an unexpected close (a draft on the
    laptop, without the sealed fields), and goes once it is saved."""
    from ui.recovery import Recovery

    recovery = Recovery(tmp_path / "recovery")
    rm_no = _check_in(any_demo_url, clock)
    before = _stored(any_demo_url)
    window = make_window(any_demo_url)
    window.recovery = recovery
    sign_in(qtbot, window, rm_no, "1234")
    station = window.current_station()
    assert isinstance(station, ServiceDeskStation)
    qtbot.keyClick(station.call_button, Qt.Key.Key_F5)
    assert station.called is not None
    ticket = station.called.ticket
    start, end = station.inputs["id_valid_from"], station.inputs["id_valid_to"]
    phone, occupation = station.inputs["phone"], station.inputs["occupation_code"]
    assert isinstance(start, DateField) and isinstance(end, DateField)
    assert isinstance(occupation, QComboBox) and isinstance(phone, QLineEdit)
    _retype(qtbot, start, "2026.11.20")
    _retype(qtbot, end, "2046.11.20")
    occupation.setFocus()
    qtbot.keyClick(occupation, Qt.Key.Key_Down)
    phone.setFocus()
    person(qtbot, phone, "13912345678")
    drafts = recovery.folder / "drafts"
    qtbot.waitUntil(lambda: any(drafts.glob("governance-*.json")), timeout=5_000)
    kept = next(drafts.glob("governance-*.json")).read_text(encoding="utf-8")
    assert "2046.11.20" in kept and "13912345678" not in kept  # no sealed value on disk
    assert _stored(any_demo_url) == before  # nothing saved yet

    # The app dies (the draft is on disk); a new window opens on the same laptop.
    window.recovery = None  # the dead window writes nothing more
    again = make_window(any_demo_url)
    again.recovery = recovery
    sign_in(qtbot, again, rm_no, "1234")
    station = again.current_station()
    assert isinstance(station, ServiceDeskStation)
    assert station.called is not None and station.called.ticket == ticket
    start, end = station.inputs["id_valid_from"], station.inputs["id_valid_to"]
    occupation = station.inputs["occupation_code"]
    assert isinstance(start, DateField) and isinstance(end, DateField)
    assert isinstance(occupation, QComboBox)
    assert start.text() == "2026.11.20" and end.text() == "2046.11.20"
    assert occupation.currentData() == "5"
    assert station.banner.tone == Tone.WARN
    assert ticket in station.banner.headline.text() and "手机" in station.banner.headline.text()
    assert station.statuses["id_valid_to"].text().startswith("✓")  # the marks follow

    monkeypatch.setattr(ConfirmChanges, "ask", classmethod(lambda cls, parent, rows: True))
    qtbot.keyClick(occupation, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert station.banner.tone == Tone.OK, station.banner.headline.text()
    after = _stored(any_demo_url)
    assert after["to"] == date(2046, 11, 20) and after["occupation"] == "5"
    assert not any(drafts.glob("governance-*.json"))  # saved: the draft is gone
