"""The booth window and the event app's merchant station, driven like staff would."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qrcode
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.db import Database
from kiosk.services.auth import staff_session
from kiosk.services.booths import import_bundle
from tests.booth_support import MORNING, issue, new_booth, pack_bytes
from tests.ui.conftest import sign_in, supervisor_answers
from ui import booth_window as booth_ui
from ui.app import ensure_application
from ui.booth_window import BoothWindow
from ui.language import apply_language
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.theme import apply_theme
from ui.widgets import Tone

pytestmark = pytest.mark.ui


@pytest.fixture
def make_booth(
    qtbot: QtBot, settings: Settings, tmp_path: Path
) -> Iterator[Callable[[bytes | None], BoothWindow]]:
    opened = []

    def make(pack: bytes | None) -> BoothWindow:
        apply_theme(ensure_application(), False)
        apply_language(settings.language)
        booth = new_booth(tmp_path / f"booth{len(opened)}.sqlite3")
        opened.append(booth)
        if pack is not None:
            booth.install(pack)
        window = BoothWindow(booth, settings)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    for booth in opened:
        booth.database.dispose()


def scan(qtbot: QtBot, window: BoothWindow, code: str) -> None:
    """A keyboard-wedge scanner: every character at once, then Enter."""
    assert window.panel is not None
    field = window.panel.field
    assert window.focusWidget() is field  # the scan field always has the keys
    qtbot.keyClicks(field, code)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def test_wedge_scan_confirm_then_second_scan_refused(
    qtbot: QtBot,
    demo_db: Database,
    make_booth: Callable[[bytes | None], BoothWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (code,) = issue(demo_db, ["O101"])
    window = make_booth(pack_bytes(demo_db))
    panel = window.panel
    assert panel is not None
    panel.staff.setText("李四")
    qtbot.keyClick(panel.staff, Qt.Key.Key_Return)  # Enter: the scan field has the keys
    scan(qtbot, window, code)
    assert panel.banner.tone == Tone.INFO  # waiting for Enter: not the green of "served"
    assert panel.banner.headline.text() == "Valid, NOT redeemed yet: press Enter to redeem"
    assert "基础体检套餐 × 1" in panel.banner.detail.text()
    assert panel.redeem_button.isVisible() and panel.field.text() == ""
    monkeypatch.setattr(booth_ui, "CONFIRM_GUARD_S", 0.0)
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)  # Enter on the empty field confirms
    assert panel.banner.headline.text() == "Redeemed: serve the customer"
    assert panel.banner.symbol.text() == "✓"  # the sign once, big, beside the words
    assert panel.banner.tone == Tone.OK
    assert panel.sounds.last == Tone.OK and not panel.redeem_button.isVisible()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1)
    assert panel.table.item(0, 4).text() == "李四"
    assert "基础体检套餐: 1" in panel.totals.text()
    scan(qtbot, window, code)
    assert panel.banner.tone == Tone.ERROR and panel.sounds.last == Tone.ERROR
    assert panel.banner.headline.text() == "Already redeemed at 09:10 by 李四"
    assert window.focusWidget() is panel.field


def test_auto_redeem_every_verdict_manual_and_camera(
    qtbot: QtBot,
    demo_db: Database,
    make_booth: Callable[[bytes | None], BoothWindow],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    first, second, other = issue(demo_db, ["O101", "O102", "O501"])
    window = make_booth(pack_bytes(demo_db))
    panel = window.panel
    assert panel is not None
    panel.auto.setChecked(True)
    panel.staff.setText("李四")
    qtbot.keyClick(panel.staff, Qt.Key.Key_Return)  # Enter: the scan field has the keys
    scan(qtbot, window, first)
    assert panel.banner.headline.text() == "Redeemed: serve the customer"
    scan(qtbot, window, other)
    assert (panel.banner.tone, panel.banner.headline.text()) == (
        Tone.ERROR,
        "Go to booth B1: 星光影城",
    )
    scan(qtbot, window, "https://example.com/x")
    assert (panel.banner.tone, panel.banner.headline.text()) == (
        Tone.WARN,
        "Unreadable: not a slip code",
    )
    scan(qtbot, window, first[:-4] + ("BBBB" if not first.endswith("BBBB") else "CCCC"))
    assert panel.banner.headline.text() == "Bad signature: altered or forged"
    # A damaged QR: the code typed by hand (spaces, lower case), or only the slip number.
    monkeypatch.setattr(booth_ui.ManualEntryDialog, "ask", lambda parent: "12")
    panel.manual_button.click()
    assert panel.banner.headline.text() == "A slip number alone cannot be checked"
    typed = " ".join(second[i : i + 8] for i in range(0, len(second), 8)).lower()
    monkeypatch.setattr(booth_ui.ManualEntryDialog, "ask", lambda parent: typed)
    panel.manual_button.click()
    assert panel.banner.headline.text() == "Redeemed: serve the customer"
    # The camera path: a picture of the QR, as the camera's frames deliver it.
    buffer = io.BytesIO()
    qrcode.make(first).save(buffer, format="PNG")
    image = QImage.fromData(buffer.getvalue())
    panel.camera.process(image, now=100.0)
    assert panel.banner.headline.text().startswith("Already redeemed at 09:10")
    # Export the bundle; the event database takes it once.
    target = tmp_path / "bundle.json"
    monkeypatch.setattr(booth_ui.FileChooser, "bundle", lambda parent, name: str(target))
    panel.export_button.click()
    assert panel.banner.headline.text() == "Bundle exported"
    s001 = staff_session(demo_db.unit_of_work(), "S001")
    assert import_bundle(demo_db.unit_of_work(), target.read_bytes(), s001).added == 2
    # F11: full screen and back.
    qtbot.keyClick(panel.field, Qt.Key.Key_F11)
    assert window.isFullScreen()
    qtbot.keyClick(panel.field, Qt.Key.Key_F11)
    assert not window.isFullScreen()


def test_install_from_the_app(
    qtbot: QtBot,
    demo_db: Database,
    make_booth: Callable[[bytes | None], BoothWindow],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    window = make_booth(None)
    assert window.panel is None and window.no_pack is not None
    bad = tmp_path / "bad.pack"
    bad.write_bytes(pack_bytes(demo_db).replace(b"O101", b"O109"))
    monkeypatch.setattr(booth_ui.FileChooser, "pack", lambda parent: str(bad))
    window.no_pack.button.click()
    assert "signature does not match" in window.no_pack.error.text()
    good = tmp_path / "m01.pack"
    good.write_bytes(pack_bytes(demo_db))
    monkeypatch.setattr(booth_ui.FileChooser, "pack", lambda parent: str(good))
    window.no_pack.button.click()
    assert window.panel is not None
    assert "康宁体检中心" in window.windowTitle()


def test_event_app_merchant_station_exports_pack_and_imports_bundle(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    demo_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from ui.stations import merchant

    (code,) = issue(demo_db, ["O101"])
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    for row in range(window.switcher.count()):
        if window.switcher.item(row).text().startswith("Merchant booth"):
            window.switcher.setCurrentRow(row)
    page = window.current_station()
    assert isinstance(page, merchant.MerchantStation)
    page.merchant.setCurrentIndex(page.merchant.findData("M01"))
    pack = tmp_path / "M01.pack"
    monkeypatch.setattr(merchant.Files, "save_pack", lambda parent, name: str(pack))
    page.passphrase.setText("wrong-passphrase")
    page.export_button.click()
    assert page.banner.tone == Tone.ERROR and "passphrase" in page.banner.detail.text()
    page.passphrase.setText("demo-passphrase")
    page.export_button.click()
    assert page.banner.headline.text() == "Pack exported" and pack.exists()
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack.read_bytes())
    assert booth.redeem(code, "李四").redeemed
    bundle = tmp_path / "bundle.json"
    booth.export(bundle)
    booth.database.dispose()
    monkeypatch.setattr(merchant.Files, "open_bundle", lambda parent: str(bundle))
    page.import_button.click()
    assert page.banner.detail.text().startswith("1 new, 0 already known, 0 conflicts")
    page.import_button.click()
    assert page.banner.detail.text().startswith("0 new, 1 already known")
    assert MORNING.year == 2026


def test_merchant_staff_import_a_bundle_with_a_supervisors_approval(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    demo_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from ui.approval import SupervisorDialog
    from ui.stations import merchant

    (code,) = issue(demo_db, ["O101"])
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(demo_db))
    assert booth.redeem(code, "李四").redeemed
    bundle = tmp_path / "bundle.json"
    booth.export(bundle)
    booth.database.dispose()
    window = make_window(demo_url)
    sign_in(qtbot, window, "M001", "1234")
    page = window.current_station()
    assert isinstance(page, merchant.MerchantStation)  # the merchant's home station
    monkeypatch.setattr(merchant.Files, "open_bundle", lambda parent: str(bundle))
    # Cancelled: nothing imported, nothing said.
    monkeypatch.setattr(SupervisorDialog, "answer", lambda dialog: dialog.reject())
    page.import_button.click()
    assert _redemptions(demo_db) == []
    seen: list[str] = []
    monkeypatch.setattr(SupervisorDialog, "answer", supervisor_answers(qtbot, "S001", "1234", seen))
    page.import_button.click()
    assert seen == [""]
    assert page.banner.detail.text().startswith("1 new, 0 already known, 0 conflicts")
    s001 = staff_session(demo_db.unit_of_work(), "S001")
    m001 = staff_session(demo_db.unit_of_work(), "M001")
    assert _redemptions(demo_db) == [(m001.staff_id, s001.staff_id)]


def _redemptions(database: Database) -> list[tuple[int | None, int | None]]:
    """Who imported each bundle, and who approved it."""
    from kiosk.models import AuditRecord

    with database.unit_of_work() as uow:
        return [
            (row.staff_id, row.approved_by)
            for row in uow.session.execute(
                select(AuditRecord.staff_id, AuditRecord.approved_by).where(
                    AuditRecord.action == "bundle_imported"
                )
            )
        ]


def test_the_name_field_keeps_the_keys_when_the_window_loses_activation(
    qtbot: QtBot,
    demo_db: Database,
    make_booth: Callable[[bytes | None], BoothWindow],
    settings: Settings,
) -> None:
    """Typing the name, the window loses activation for a moment (a notification, the input
    method's own window): the name typed so far is kept, and the keys stay in the name field,
    so the rest of the name does not land in the scan field as a wrong scan."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QFocusEvent
    from PySide6.QtWidgets import QApplication

    window = make_booth(pack_bytes(demo_db))
    panel = window.panel
    assert panel is not None and window.focusWidget() is panel.staff
    qtbot.keyClicks(panel.staff, "Li", delay=110)  # a person, not a scanner
    QApplication.sendEvent(
        panel.staff, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.ActiveWindowFocusReason)
    )
    assert settings.booth_staff == "Li"  # kept so far
    assert window.focusWidget() is panel.staff
    QApplication.sendEvent(  # the window is active again
        panel.staff, QFocusEvent(QEvent.Type.FocusIn, Qt.FocusReason.ActiveWindowFocusReason)
    )
    qtbot.keyClicks(panel.staff, " Si", delay=110)
    qtbot.keyClick(panel.staff, Qt.Key.Key_Return)
    assert panel.staff.text() == "Li Si", panel.staff.text()
    assert settings.booth_staff == "Li Si" and window.focusWidget() is panel.field
    assert panel.banner.tone is None  # nothing was taken for a scan
