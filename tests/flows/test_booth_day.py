"""A shift at a merchant booth (#16): the pack installed from the booth window, the name typed
once, a valid slip scanned and redeemed with Enter, the same slip again, large print and
Chinese in the middle, another merchant's slip, nonsense, a slip past its redeem-by date, and
the day's bundle taken by the event database. The slips are issued on the event database on
SQLite and on PostgreSQL; the booth keeps its own file. After every step the booth's records
and the event database (queue invariant, slip status) say what the screen said.

The same shift runs offline (bundles on a USB stick) and online through the booth gateway
(issue #29: the gateway's address and CA file typed in "Booth gateway…", no database URL on
the booth): online, the redemption is in the event database at the moment it is served, and
the day's bundle then brings nothing new."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.booth_laptop.booth import Booth
from kiosk.booth_laptop.online import gateway_url
from kiosk.booth_laptop.store import BoothRedemption
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.models import Slip, SlipStatus
from kiosk.services.booths import import_bundle
from tests.booth_support import MORNING, issue, new_booth, pack_bytes, supervisor
from tests.gateway_support import GatewayCable, make_pki
from ui import booth_window as booth_ui
from ui.app import ensure_application
from ui.booth_window import BoothWindow
from ui.connection import ConnectionDialog
from ui.language import apply_language
from ui.settings import Settings
from ui.theme import apply_theme
from ui.widgets import Tone

from .conftest import holds
from .keys import HUMAN, SCANNER, keys, press

pytestmark = pytest.mark.ui


@pytest.fixture
def booth(tmp_path: Path) -> Iterator[Booth]:
    """A new booth laptop: its own database file, no pack yet, the event day's clock."""
    made = new_booth(tmp_path / "booth.sqlite3", FixedClock(MORNING))
    yield made
    made.database.dispose()


def _redeemed(booth: Booth) -> list[tuple[int, str]]:
    with booth.database.unit_of_work() as uow:
        rows = uow.session.execute(
            select(BoothRedemption.slip_serial, BoothRedemption.staff_name).order_by(
                BoothRedemption.seq
            )
        ).all()
    return [(serial, name) for serial, name in rows]


def _serial(checks: Database, code: str) -> int:
    with checks.unit_of_work() as uow:
        serial = uow.session.scalar(select(Slip.serial).where(Slip.code == code))
    assert serial is not None
    return serial


def _event_has(checks: Database, step: str, codes: list[str], redeemed: set[str]) -> None:
    """The queue invariant holds, and the event database has exactly ``redeemed`` redeemed:
    the offline booth tells it nothing until its bundle comes, the online booth at once."""
    holds(checks, step)
    with checks.unit_of_work() as uow:
        statuses = dict(
            uow.session.execute(select(Slip.code, Slip.status).where(Slip.code.in_(codes))).all()
        )
    assert statuses == {
        code: SlipStatus.REDEEMED if code in redeemed else SlipStatus.ISSUED for code in codes
    }, step


@pytest.fixture(params=[False, True], ids=["offline", "gateway"])
def cable(
    request: pytest.FixtureRequest, any_demo_url: str, tmp_path: Path
) -> Iterator[GatewayCable | None]:
    """Offline, or the booth gateway on a staff laptop (a child process, so this test runs no
    Python thread) over the event database, with a test CA."""
    if not request.param:
        yield None
        return
    with GatewayCable(any_demo_url, make_pki(tmp_path / "pki"), MORNING) as made:
        yield made


def test_a_shift_at_a_merchant_booth(
    qtbot: QtBot,
    any_demo_url: str,
    checks: Database,
    booth: Booth,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cable: GatewayCable | None,
) -> None:
    codes = issue(checks, ["O101", "O102", "O501"])  # O501 is 星光影城's
    mine, later, other = codes
    holds(checks, "slips issued")
    online = cable is not None
    if cable is not None:

        def type_the_gateway(dialog: ConnectionDialog) -> int:
            assert cable is not None
            dialog.url.setText(cable.url)
            dialog.ca.setText(str(cable.pki.ca))
            assert dialog.try_connect(), dialog.error.text()
            return int(QDialog.DialogCode.Accepted)

        monkeypatch.setattr(ConnectionDialog, "exec", type_the_gateway)
    served: set[str] = set()

    def _event_unchanged(checks: Database, step: str, codes: list[str]) -> None:
        _event_has(checks, step, codes, served)

    pack = tmp_path / "M01.pack"
    pack.write_bytes(pack_bytes(checks))
    apply_theme(ensure_application(), False)
    apply_language(settings.language)
    window = BoothWindow(booth, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    # 1. A new booth: the pack file installed from the window (the file dialog is Qt's own;
    # the chosen path is what the test gives it).
    assert window.panel is None and window.no_pack is not None
    monkeypatch.setattr(booth_ui.FileChooser, "pack", lambda parent: str(pack))
    qtbot.mouseClick(window.no_pack.button, Qt.MouseButton.LeftButton)
    panel = window.panel
    assert panel is not None and "康宁体检中心" in window.windowTitle()
    assert booth.info is not None and booth.info.merchant_name == "康宁体检中心"
    assert window.focusWidget() is panel.staff  # the start of the shift: the name first
    _event_unchanged(checks, "install", codes)
    if online:  # "Booth gateway…": the gateway's https address and the event's CA file
        window.findChild(type(panel.redeem_button), "booth_database").click()
        assert window.lan is not None and gateway_url(booth) == cable.url  # type: ignore[union-attr]
        qtbot.waitUntil(lambda: window.lan_banner.text().startswith("Online"), timeout=5_000)
        panel.staff.setFocus()

    # 2. The name, typed once per shift, Enter: the scan field has the keys.
    keys(qtbot, window, "王店员", HUMAN)
    assert window.focusWidget() is panel.field and settings.booth_staff == "王店员"
    _event_unchanged(checks, "name", codes)

    # 3. A valid slip, scanned: waiting for Enter (not yet served), then Enter redeems it.
    keys(qtbot, window, mine, SCANNER)
    assert panel.banner.tone == Tone.INFO
    assert panel.banner.headline.text() == "Valid, NOT redeemed yet: press Enter to redeem"
    assert _redeemed(booth) == []
    qtbot.wait(350)  # a person's Enter, after the scanner's own
    press(qtbot, window, Qt.Key.Key_Return)
    assert panel.banner.tone == Tone.OK
    assert panel.banner.headline.text() == "Redeemed: serve the customer"
    assert _redeemed(booth) == [(_serial(checks, mine), "王店员")]
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1)
    if online:  # recorded through the gateway as it was served
        served.add(mine)
        assert booth.pending() == 0
    _event_unchanged(checks, "redeemed", codes)

    # 4. The same slip again: refused, said when and by whom; nothing recorded twice.
    keys(qtbot, window, mine, SCANNER, seed=5)
    assert panel.banner.tone == Tone.ERROR
    assert panel.banner.headline.text() == "Already redeemed at 09:10 by 王店员"
    assert len(_redeemed(booth)) == 1
    _event_unchanged(checks, "scanned again", codes)

    # 5. Large print and Chinese in the middle of the shift: the name holds, the keys stay in
    # the scan field.
    qtbot.mouseClick(window.large, Qt.MouseButton.LeftButton)
    box = window.language
    target = box.findData("zh_CN")
    key = Qt.Key.Key_Down if target > box.currentIndex() else Qt.Key.Key_Up
    while box.currentIndex() != target:
        qtbot.keyClick(box, key)
    panel = window.panel
    assert panel is not None and settings.large_print
    assert panel.staff.text() == "王店员" and window.focusWidget() is panel.field
    assert panel.table.rowCount() == 1  # today's list is still there
    _event_unchanged(checks, "large print and Chinese", codes)

    # 6. Another merchant's slip: where to go, in words; not redeemed here.
    keys(qtbot, window, other, SCANNER, seed=6)
    assert panel.banner.tone == Tone.ERROR
    assert panel.banner.headline.text() == "请到 B1 展位 星光影城"
    assert len(_redeemed(booth)) == 1
    _event_unchanged(checks, "other merchant", codes)

    # 7. Nonsense: a code from elsewhere, and a web link.
    for text in ("QQ9ZZZZZ", "https://weixin.qq.com/r/abc"):
        keys(qtbot, window, text, SCANNER, seed=7)
        assert panel.banner.tone == Tone.WARN, text
        assert panel.banner.headline.text() == "无法识别：不是兑换券码", text
        assert panel.redeem_button.isHidden() and panel.pending is None
    assert len(_redeemed(booth)) == 1
    _event_unchanged(checks, "nonsense", codes)

    # 8. A slip brought back after its redeem-by date (half a year on): expired, not served.
    booth.clock = FixedClock(MORNING + timedelta(days=200))
    keys(qtbot, window, later, SCANNER, seed=8)
    assert panel.banner.tone == Tone.ERROR
    assert panel.banner.detail.text().startswith("此券的兑换截止日期为 2027-05-27")
    assert panel.pending is None and len(_redeemed(booth)) == 1
    _event_unchanged(checks, "expired", codes)
    booth.clock = FixedClock(MORNING)

    # 9. The day's bundle, exported from the booth, taken by the event database: the one slip
    # served is redeemed there too, the others are still issued.
    bundle = tmp_path / "bundle.json"
    monkeypatch.setattr(booth_ui.FileChooser, "bundle", lambda parent, name: str(bundle))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK
    imported = import_bundle(checks.unit_of_work(), bundle.read_bytes(), supervisor(checks))
    assert (imported.added, imported.duplicates) == ((0, 1) if online else (1, 0))
    holds(checks, "bundle imported")
    with checks.unit_of_work() as uow:
        statuses = dict(uow.session.execute(select(Slip.code, Slip.status)).all())
    assert statuses == {
        mine: SlipStatus.REDEEMED,
        later: SlipStatus.ISSUED,
        other: SlipStatus.ISSUED,
    }
    window.close()
