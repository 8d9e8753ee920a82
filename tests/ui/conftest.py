"""UI fixtures: the real main window on a real demo database, settings in a temp file."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from kiosk.clock import FixedClock
from kiosk.db import open_database
from ui.app import ensure_application
from ui.context import AppContext
from ui.language import apply_language
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.theme import apply_theme

pytestmark = pytest.mark.ui


@pytest.fixture
def demo_url(sqlite_demo_url: str) -> str:
    """SQLite only for the widget tests: they test the screens, and each runs for seconds.
    The services below them run on both backends (tests/unit, tests/integration), and the
    UI tests that are about a backend ask for ``any_demo_url``."""
    return sqlite_demo_url


@pytest.fixture(autouse=True)
def _collect_qt_garbage_here() -> Iterator[None]:
    """Collect each UI test's cyclic garbage on the main thread, right after the test.

    Left for later, the collector may run on a worker thread of another test (the two-desks
    tests use threads) and finalise Qt objects there, which crashes the interpreter.
    """
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _station_calls_answered_in_turn(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A station's call still runs on its worker thread, but the GUI thread waits for its
    answer (``ui.operations.QUICK``): on a busy test machine a call may take longer than the
    window's 0.1 s, and a test reads the result right after the key it pressed. The tests
    of a silent network (test_net_faults_ui.py) put the window's own value back. No call is
    left out after a test."""
    from ui import operations

    monkeypatch.setattr(operations, "QUICK", None)
    yield
    assert operations.settle_all(timeout=30.0), "a station call was still out"


@pytest.fixture(autouse=True)
def _qt_in_english_after() -> Iterator[None]:
    """A test that switched to Chinese leaves Qt's own catalog installed; the next test reads
    English standard buttons again."""
    yield
    apply_language("en")


@pytest.fixture(autouse=True)
def _no_unanswered_supervisor_dialog(monkeypatch: pytest.MonkeyPatch) -> None:
    """A supervisor dialog no test answers would wait for a person forever: fail instead.
    Tests that expect it set ``SupervisorDialog.answer`` themselves."""
    from ui.approval import SupervisorDialog

    def unexpected(dialog: SupervisorDialog) -> None:
        dialog.reject()
        pytest.fail(f"unexpected supervisor dialog: {dialog.action}")

    monkeypatch.setattr(SupervisorDialog, "answer", unexpected)


@pytest.fixture(autouse=True)
def _no_unanswered_counter_dialog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counter dialog waits for a person too: fail instead. Tests that expect it set
    ``CounterDialog.answer`` themselves."""
    from ui.counter import CounterDialog

    def unexpected(dialog: CounterDialog) -> None:
        dialog.reject()
        pytest.fail("unexpected counter dialog: this laptop's counter is not named")

    monkeypatch.setattr(CounterDialog, "answer", unexpected)


def laptop_settings(path: Path, counter: str = "1") -> Settings:
    """One laptop's preferences (English, its counter named), in their own file."""
    s = Settings(QSettings(str(path), QSettings.Format.IniFormat))
    s.language = "en"
    s.counter_name = counter
    return s


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return laptop_settings(tmp_path / "settings.ini")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))


@pytest.fixture
def make_window(
    qtbot: QtBot, settings: Settings, clock: FixedClock
) -> Iterator[Callable[..., MainWindow]]:
    opened = []
    windows: list[MainWindow] = []  # pytest-qt holds widgets weakly; keep them until teardown

    def make(
        url: str, preferences: Settings | None = None, bound: float | None = None
    ) -> MainWindow:
        """A main window on ``url``; ``preferences`` make it another laptop's; ``bound``
        bounds its waits on PostgreSQL as the app does (``kiosk.netwait``)."""
        chosen = preferences or settings
        app = ensure_application()
        apply_language(chosen.language)
        apply_theme(app, chosen.large_print)
        database = open_database(url, bound=bound)
        opened.append(database)
        window = MainWindow(AppContext(database, clock), chosen)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    for database in opened:
        database.dispose()


def sign_in(qtbot: QtBot, window: MainWindow, staff_no: str, pin: str) -> None:
    """Type like a person: staff number, Enter, PIN, Enter."""
    page = window.signin
    page.staff_no.clear()
    qtbot.keyClicks(page.staff_no, staff_no)
    from PySide6.QtCore import Qt

    qtbot.keyClick(page.staff_no, Qt.Key.Key_Return)
    # The offscreen platform never activates windows, so ask the window, not the app.
    assert window.focusWidget() is page.pin
    qtbot.keyClicks(page.pin, pin)
    qtbot.keyClick(page.pin, Qt.Key.Key_Return)


def supervisor_answers(
    qtbot: QtBot, staff_no: str, pin: str, seen: list[str] | None = None
) -> Callable[[Any], None]:
    """An answer for ``SupervisorDialog.answer``, typed like a person: number, Enter, PIN,
    Enter; if the dialog is still open after that (refused), note what it said and press Esc.
    """
    from PySide6.QtCore import Qt

    def answer(dialog: Any) -> None:
        dialog.show()
        qtbot.keyClicks(dialog.staff_no, staff_no)
        qtbot.keyClick(dialog.staff_no, Qt.Key.Key_Return)
        assert dialog.focusWidget() is dialog.pin
        qtbot.keyClicks(dialog.pin, pin)
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        if seen is not None:
            seen.append(dialog.error.text())
        if dialog.isVisible():
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    return answer
