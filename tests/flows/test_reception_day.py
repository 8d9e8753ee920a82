"""A morning at reception (#16): a scanned invitation, a search by pinyin initials, a large
print and language switch, namesakes told apart, a walk-in, a second check-in of the same
customer. The real main window, key events at scanner and human speed; after every step the
event database holds the queue invariant and exactly the visits the screen said."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.db import Database
from kiosk.models import Customer, Invitation, QueueEntry, Visit
from ui.stations.reception import ReceptionStation, WalkInDialog
from ui.widgets import Tone

from ..ui.conftest import sign_in
from .conftest import change_layout, holds
from .keys import HUMAN, SCANNER, answering, keys, press

pytestmark = pytest.mark.ui

FIRST = "6200000011"  # 毛娜琪, scanned with her invitation
INITIALS = ("lyy", "6200000153")  # 李永玉, found by pinyin initials
NAMESAKE = "杨丽嘉"  # two customers of that name


def _visits(checks: Database) -> dict[str, int]:
    """Customer number → visits, and the tickets they hold, from the event database."""
    with checks.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Customer.customer_no, func.count(Visit.id))
            .join(Visit, Visit.customer_id == Customer.id)
            .group_by(Customer.customer_no)
        ).all()
    return {no: n for no, n in rows}


def _tickets(checks: Database) -> int:
    with checks.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count(QueueEntry.id))) or 0)


def _code(checks: Database, customer_no: str) -> str:
    with checks.unit_of_work() as uow:
        code = uow.session.scalar(
            select(Invitation.code).join(Customer).where(Customer.customer_no == customer_no)
        )
    assert code
    return code


def _reception(window) -> ReceptionStation:  # type: ignore[no-untyped-def]
    page = window.current_station()
    assert isinstance(page, ReceptionStation)
    assert window.focusWidget() is page.field  # the scan field has the keyboard
    return page


def _selected(page: ReceptionStation) -> str:
    """The customer number of the row visibly selected in the list, checked against the card."""
    rows = page.table.selectionModel().selectedRows()
    assert len(rows) == 1
    hit = page.model.hit(rows[0].row())
    assert hit is not None
    assert page.card is not None and page.card.hit.customer_id == hit.customer_id
    return hit.customer_no


def test_a_morning_at_reception(
    qtbot: QtBot,
    make_window,  # type: ignore[no-untyped-def]
    any_demo_url: str,
    checks: Database,
    spool: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "R001", "1234")
    page = _reception(window)
    holds(checks, "sign-in")
    assert _visits(checks) == {}

    # 1. The invitation's QR, scanned: checked in at once.
    keys(qtbot, window, _code(checks, FIRST), SCANNER)
    assert page.banner.tone == Tone.OK, page.banner.headline.text()
    assert page.banner.headline.text().startswith("Checked in: 毛娜琪 · ticket ")
    holds(checks, "scan")
    assert _visits(checks) == {FIRST: 1} and _tickets(checks) == 1

    # 2. Pinyin initials typed by a person; the card of the one selected, then Enter.
    initials, found = INITIALS
    keys(qtbot, window, initials, HUMAN, enter=False)
    qtbot.waitUntil(lambda: page.card is not None and page.card.hit.customer_no == found)
    assert not page.banner.isVisible()  # the last customer's banner went at the first key
    assert _selected(page) == found
    press(qtbot, window, Qt.Key.Key_Return)
    assert page.banner.headline.text().startswith("Checked in: 李永玉")
    holds(checks, "search")
    assert _visits(checks) == {FIRST: 1, found: 1} and _tickets(checks) == 2

    # 3. The layout changes half-way through the morning: large print, then Chinese.
    keys(qtbot, window, "wj", HUMAN, enter=False)  # a search on screen while it happens
    qtbot.waitUntil(lambda: page.card is not None)
    page = change_layout(qtbot, window, "zh_CN")
    assert isinstance(page, ReceptionStation) and window.settings.large_print
    assert window.focusWidget() is page.field and page.field.text() == ""
    press(qtbot, window, Qt.Key.Key_Return)  # nothing is selected any more: nobody
    holds(checks, "large print and Chinese")
    assert _visits(checks) == {FIRST: 1, found: 1}

    # 4. Namesakes: the name typed, the second row chosen with ↓; the one visibly selected
    # (row and card) is the one checked in, and only they.
    keys(qtbot, window, NAMESAKE, HUMAN, enter=False)
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and page.card is not None)
    first_row = _selected(page)
    press(qtbot, window, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: page.card is not None and page.card.hit.customer_no != first_row)
    chosen = _selected(page)
    assert chosen != first_row
    press(qtbot, window, Qt.Key.Key_Return)
    assert page.banner.tone == Tone.OK
    assert page.banner.headline.text().startswith(f"签到成功：{NAMESAKE}")
    holds(checks, "namesake")
    assert _visits(checks) == {FIRST: 1, found: 1, chosen: 1}
    assert first_row not in _visits(checks)

    # 5. A walk-in: F2, the dialog typed as a person would (the real dialog, Enter moves on
    # from field to field, ↓ chooses the branch).
    monkeypatch.setattr(WalkInDialog, "answer", None)

    def register(dialog: QDialog) -> None:
        assert isinstance(dialog, WalkInDialog)
        keys(qtbot, dialog, "欧阳娜娜", HUMAN)
        keys(qtbot, dialog, "13700001234", HUMAN)
        press(qtbot, dialog, Qt.Key.Key_Down)
        press(qtbot, dialog, Qt.Key.Key_Return)

    with answering(register):
        press(qtbot, window, Qt.Key.Key_F2)
    assert page.banner.tone == Tone.OK, page.banner.headline.text()
    assert page.card is not None and page.card.hit.walk_in
    holds(checks, "walk-in")
    with checks.unit_of_work() as uow:
        walk_in = uow.session.scalars(select(Customer).where(Customer.walk_in.is_(True))).one()
        assert (walk_in.name, walk_in.phone_masked) == ("欧阳娜娜", "137****1234")
        walk_in_no = walk_in.customer_no
    assert _visits(checks) == {FIRST: 1, found: 1, chosen: 1, walk_in_no: 1}
    assert window.focusWidget() is page.field

    # 6. The first customer comes back to the desk and scans again: said, nothing doubled.
    keys(qtbot, window, _code(checks, FIRST), SCANNER, seed=3)
    assert page.banner.tone == Tone.WARN
    assert page.banner.headline.text().startswith("已于 ")
    assert "毛娜琪" in page.banner.headline.text()
    holds(checks, "repeat check-in")
    assert _visits(checks) == {FIRST: 1, found: 1, chosen: 1, walk_in_no: 1}
    assert _tickets(checks) == 4
