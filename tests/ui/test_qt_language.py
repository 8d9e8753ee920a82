"""Qt's own words follow the UI language: every dialog and message box the app opens, walked
in Chinese after a language switch, shows no English standard button (OK, Cancel, Yes, No,
Open, Save…), and the file dialogs are Qt's own, in Chinese too."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QLabel,
    QMessageBox,
)
from pytestqt.qtbot import QtBot

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.errors import KioskError
from kiosk.models import Queue
from kiosk.register_file import Register
from kiosk.roles import Station
from kiosk.services import reception
from kiosk.services.auth import staff_session
from kiosk.services.dashboard import Thresholds
from ui import language
from ui.approval import SupervisorDialog
from ui.counter import CounterDialog
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.activation import Ask
from ui.stations.admin import FileChooser
from ui.stations.admin.merchants_tab import RegisterFiles
from ui.stations.merchant import Files
from ui.stations.reception import ReceptionStation
from ui.stations.satisfaction_call import SatisfactionCallDialog
from ui.stations.service_desk import ConfirmChanges, ServiceDeskStation

from .conftest import sign_in
from .wedge import scanner_burst

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]

# Qt's English texts for standard buttons and its file dialog (after "&" is dropped).
QT_ENGLISH = {
    "ok",
    "cancel",
    "yes",
    "no",
    "yes to all",
    "no to all",
    "open",
    "save",
    "save all",
    "close",
    "apply",
    "reset",
    "discard",
    "don't save",
    "close without saving",
    "abort",
    "retry",
    "ignore",
    "help",
    "restore defaults",
    "choose",
    "look in:",
    "file name:",
    "files of type:",
    "directory:",
    "folder:",
    "back",
    "forward",
    "parent directory",
    "create new folder",
    "list view",
    "detail view",
}


@dataclass
class Seen:
    kind: str
    title: str
    texts: list[str]

    def english(self) -> list[str]:
        found = []
        for text in self.texts:
            plain = re.sub(r"\(&\w\)", "", text).replace("&", "").strip().lower()
            if plain in QT_ENGLISH:
                found.append(text)
        return found


def _texts(dialog: QDialog) -> list[str]:
    texts = [b.text() for b in dialog.findChildren(QAbstractButton) if b.isVisible()]
    texts += [b.toolTip() for b in dialog.findChildren(QAbstractButton) if b.toolTip()]
    if isinstance(dialog, QFileDialog):
        texts += [label.text() for label in dialog.findChildren(QLabel)]
    return [t for t in texts if t]


class DialogWatcher(QObject):
    """Notes each dialog that opens (type, title, the words on its buttons) and closes it
    with Esc, as staff would, so the code that opened it carries on."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Seen] = []
        self.timer = QTimer(self)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.poll)

    def poll(self) -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                self.seen.append(Seen(type(widget).__name__, widget.windowTitle(), _texts(widget)))
                widget.reject()

    def opens(self, trigger: Callable[[], object]) -> Seen:
        """Run ``trigger``; the one dialog it opened, as seen."""
        before = len(self.seen)
        self.timer.start()
        try:
            trigger()
        finally:
            self.timer.stop()
        opened = self.seen[before:]
        assert opened, "the trigger opened no dialog"
        return opened[-1]


def _switch_language(qtbot: QtBot, window: MainWindow, code: str) -> None:
    """The header's language box, with the keyboard: focus it and step to the language."""
    box = window.language
    assert isinstance(box, QComboBox)
    box.setFocus()
    target = box.findData(code)
    key = Qt.Key.Key_Down if target > box.currentIndex() else Qt.Key.Key_Up
    while box.currentIndex() != target:
        qtbot.keyClick(box, key)


def _open(window: MainWindow, station: Station) -> object:
    for row in range(window.switcher.count()):
        if window.switcher.item(row).data(Qt.ItemDataRole.UserRole) == station:
            window.switcher.setCurrentRow(row)
            return window.current_station()
    raise AssertionError(f"{station} is not offered")


def test_every_dialog_in_chinese_after_a_language_switch(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setattr(SupervisorDialog, "answer", None)  # the real dialog, closed by Esc
    monkeypatch.setattr(CounterDialog, "answer", None)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    database = open_database(demo_url)
    front = staff_session(database.unit_of_work(), "R001")
    waiting = reception.check_in(
        database.unit_of_work(),
        reception.resolve_code(database.unit_of_work(), "6200000012"),
        front,
        route=Queue.SERVICE_DESK,
        clock=FixedClock(clock.now() - timedelta(minutes=15)),  # anyone's customer by now
    )
    assert waiting.created
    database.dispose()
    from ui.app import _install_safety_net

    _install_safety_net()
    watcher = DialogWatcher()
    window = make_window(demo_url)

    def safety_net_message() -> None:
        sys.excepthook(KioskError, KioskError("x"), None)

    # English first: Qt's own words are English, so the check below can tell the difference.
    english = watcher.opens(safety_net_message)
    assert english.kind == "QMessageBox" and "OK" in english.texts

    _switch_language(qtbot, window, "zh_CN")
    assert settings.language == "zh_CN"
    assert any(p.endswith("qtbase_zh_CN.qm") for p in language.qt_catalogs_installed())
    seen: list[Seen] = [watcher.opens(safety_net_message), watcher.opens(window.choose_database)]

    # Reception as R001: F2 opens the walk-in form; a scan checks in; Ctrl+Z asks a supervisor.
    sign_in(qtbot, window, "R001", "1234")
    page = _open(window, Station.RECEPTION)
    assert isinstance(page, ReceptionStation)
    seen.append(watcher.opens(lambda: qtbot.keyClick(page.field, Qt.Key.Key_F2)))
    from tests.ui.test_reception import _code_and_customer

    code, _name = _code_and_customer(demo_url, "6200000011")
    scanner_burst(qtbot, page.field, code)
    assert page.card is not None and page.card.visit is not None
    seen.append(watcher.opens(page.statement_button.click))  # the points statement
    assert seen[-1].kind == "StatementDialog"
    seen.append(
        watcher.opens(
            lambda: qtbot.keyClick(page.field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        )
    )
    assert seen[-1].kind == "SupervisorDialog"
    window.sign_out()

    # The supervisor: every other station's questions and file dialogs.
    sign_in(qtbot, window, "S001", "1234")
    desk = _open(window, Station.SERVICE_DESK)
    assert isinstance(desk, ServiceDeskStation)
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F5)
    assert desk.called is not None
    seen.append(watcher.opens(desk.transfer))
    seen.append(watcher.opens(desk.counter.ask))  # this laptop's counter
    seen.append(watcher.opens(lambda: ConfirmChanges.ask(window, [("职业", "教师", "医生")])))
    seen.append(watcher.opens(lambda: SatisfactionCallDialog.open(desk)))  # after the event
    activation = _open(window, Station.ACTIVATION)
    seen.append(watcher.opens(lambda: Ask.passphrase(activation, True)))  # type: ignore[arg-type]
    seen.append(watcher.opens(lambda: Ask.void_reason(activation, 12)))  # type: ignore[arg-type]
    seen.append(watcher.opens(lambda: Ask.confirm_reprint(activation, 12, 1)))  # type: ignore[arg-type]
    seen.append(watcher.opens(lambda: Ask.confirm_leave(activation)))  # type: ignore[arg-type]
    from kiosk.services.gate import gate_for

    checked_in = reception.resolve_code(window.app.uow(), "6200000011")
    closed = gate_for(window.app.uow(), checked_in, clock=clock)  # mobile banking not active
    assert not closed.open
    seen.append(watcher.opens(lambda: Ask.confirm_override(activation, closed)))  # type: ignore[arg-type]
    assert seen[-1].title == "暂不能出券" and {"请主管授权…", "暂不"} <= set(seen[-1].texts)
    dashboard = _open(window, Station.DASHBOARD)
    seen.append(watcher.opens(dashboard.edit_limits))  # type: ignore[attr-defined]
    admin = _open(window, Station.ADMIN)
    seen.append(watcher.opens(lambda: FileChooser.open_file(admin, "导入")))  # type: ignore[arg-type]
    seen.append(
        watcher.opens(lambda: FileChooser.save_file(admin, "导出", "a.xlsx", "Excel (*.xlsx)"))  # type: ignore[arg-type]
    )
    seen.append(watcher.opens(lambda: FileChooser.directory(admin, "备份")))  # type: ignore[arg-type]
    seen.append(watcher.opens(lambda: RegisterFiles.save_file(admin, "register.json")))  # type: ignore[arg-type]
    seen.append(watcher.opens(lambda: RegisterFiles.open_file(admin)))  # type: ignore[arg-type]
    register = Register("DEMO", "演示", "00000000", "00" * 32, clock.now(), ())
    seen.append(watcher.opens(lambda: RegisterFiles.confirm_trust(admin, register)))  # type: ignore[arg-type]
    merchant = _open(window, Station.MERCHANT)
    seen.append(watcher.opens(lambda: Files.save_pack(merchant, "M01.pack")))  # type: ignore[arg-type]
    seen.append(watcher.opens(lambda: Files.open_bundle(merchant)))  # type: ignore[arg-type]

    def station_fails() -> None:  # a station whose first load is refused says so in a box
        loads = type(dashboard).load
        type(dashboard).load = _refuse  # type: ignore[method-assign]
        try:
            window.pages.pop(Station.DASHBOARD, None)
            _open(window, Station.DASHBOARD)
        finally:
            type(dashboard).load = loads  # type: ignore[method-assign]

    seen.append(watcher.opens(station_fails))

    kinds = [s.kind for s in seen]
    assert kinds.count("QFileDialog") == 7  # Qt's own file dialog, never the desktop's
    assert {"QMessageBox", "ConnectionDialog", "QInputDialog", "LimitsDialog"} <= set(kinds)
    assert {"WalkInDialog", "SupervisorDialog", "ConfirmChanges", "CounterDialog"} <= set(kinds)
    for dialog in seen:
        assert dialog.english() == [], f"{dialog.kind} “{dialog.title}”: {dialog.english()}"
    answers = {t for s in seen for t in s.texts}
    assert {"确定", "取消"} <= answers and any(t.startswith("是") for t in answers)
    boxes = [s for s in seen if s.kind == "QFileDialog"]
    assert all(any("取消" in t for t in s.texts) for s in boxes)

    # And back: English again, for the next person at this laptop.
    _switch_language(qtbot, window, "en")
    assert "OK" in watcher.opens(safety_net_message).texts
    assert language.qt_catalogs_installed() == []


def _refuse(self: object) -> None:
    raise KioskError("拒绝")


# Where the app opens a dialog: a new one must be walked above (and named here).
DIALOG_CALLS = {
    ("ui/app.py", "hook"),
    ("ui/app.py", "_open"),
    ("ui/approval.py", "run"),
    ("ui/booth_window.py", "ask"),
    ("ui/booth_window.py", "pack"),
    ("ui/booth_window.py", "bundle"),
    ("ui/booth_window.py", "choose_event_database"),
    ("ui/booth_window.py", "run_booth"),
    ("ui/connection.py", "_choose_ca"),
    ("ui/main_window.py", "choose_database"),
    ("ui/main_window.py", "_on_station_chosen"),
    ("ui/main_window.py", "_create_demo"),
    ("ui/stations/activation_ask.py", "passphrase"),
    ("ui/stations/activation_ask.py", "void_reason"),
    ("ui/stations/activation_ask.py", "confirm_reprint"),
    ("ui/stations/activation_ask.py", "confirm_leave"),
    ("ui/stations/activation_ask.py", "confirm_override"),
    ("ui/stations/admin/common.py", "open_file"),
    ("ui/stations/admin/common.py", "save_file"),
    ("ui/stations/admin/common.py", "directory"),
    ("ui/stations/dashboard.py", "edit_limits"),
    ("ui/stations/merchant.py", "save_pack"),
    ("ui/stations/merchant.py", "open_bundle"),
    ("ui/stations/walk_in.py", "run"),
    ("ui/counter.py", "run"),
    ("ui/statement_dialog.py", "run"),
    ("ui/stations/kyc_form.py", "ask"),
    ("ui/stations/service_desk.py", "transfer"),
    ("ui/stations/satisfaction_call.py", "open"),
    ("ui/stations/admin/merchants_tab.py", "save_file"),
    ("ui/stations/admin/merchants_tab.py", "open_file"),
    ("ui/stations/admin/merchants_tab.py", "confirm_trust"),
}
OPENERS = re.compile(r"^(QMessageBox|QInputDialog|QFileDialog)\.|\.exec$")


def test_the_walk_knows_every_dialog_the_app_opens() -> None:
    """A dialog added later fails here until the walk above (or the booth's) covers it."""
    found: set[tuple[str, str]] = set()

    class Calls(ast.NodeVisitor):
        def __init__(self, path: str) -> None:
            self.path, self.functions = path, ["<module>"]

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            self.functions.append(node.name)
            self.generic_visit(node)
            self.functions.pop()

        def visit_Call(self, node: ast.Call) -> None:
            name = ast.unparse(node.func)
            if OPENERS.search(name) and name not in ("app.exec", "QApplication.exec"):
                found.add((self.path, self.functions[-1]))
            self.generic_visit(node)

    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "ui" / "stations").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        Calls(str(path.relative_to(ROOT))).visit(tree)
    assert found == DIALOG_CALLS


def test_qt_catalog_ships_with_pyside6_essentials() -> None:
    """qtbase_zh_CN.qm is in the PySide6-Essentials wheel (no other package needed)."""
    import importlib.metadata

    files = importlib.metadata.files("PySide6-Essentials") or []
    assert any(str(f).endswith("translations/qtbase_zh_CN.qm") for f in files)
    assert language.load_qt_catalog("zh_CN") is not None


def test_limits_dialog_has_chinese_buttons(qtbot: QtBot) -> None:
    from ui.stations.dashboard import LimitsDialog

    language.apply_language("zh_CN")
    dialog = LimitsDialog(Thresholds())
    qtbot.addWidget(dialog)
    assert sorted(b.text() for b in dialog.findChildren(QAbstractButton)) == ["取消", "确定"]
    box = QMessageBox(QMessageBox.Icon.Question, "t", "q")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    assert [b.text() for b in box.buttons()] == ["是(&Y)", "否(&N)"]
    box.deleteLater()
