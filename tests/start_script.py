"""The real app (``ui.app.run_app``) driven from inside while it starts, for tests/ui/test_start.py.

``python -m tests.start_script type URL STAFF PIN``: as soon as the event loop runs (before the
app's own start steps), report what the sign-in window offers, type STAFF, Enter, PIN, Enter
into whatever has the keyboard focus, then, once the main window is on screen, report who is
signed in, and close it. One JSON object per report, one line each.

``python -m tests.start_script refuse URL``: a database that cannot be opened; once the
connection dialog is on screen, report which windows are visible, then cancel the dialog.
``... term URL``: the same, then a SIGTERM instead of the cancel (a laptop shutting down).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QPushButton

from ui.app import ensure_application, run_app
from ui.starting import StartingWindow


def _visible() -> list[str]:
    return sorted(type(w).__name__ for w in QApplication.topLevelWidgets() if w.isVisible())


def _report(found: dict[str, object]) -> None:
    print(json.dumps(found, ensure_ascii=False), flush=True)


def type_ahead(staff: str, pin: str) -> None:
    """At the first turn of the event loop: the sign-in window only, nothing opened yet. The
    keys go to the window's focus field (the one a window manager's activation gives them)."""
    starting = next(w for w in QApplication.topLevelWidgets() if isinstance(w, StartingWindow))
    focus = starting.focusWidget()
    button = starting.findChild(QPushButton, "sign_in")
    _report(
        {
            "windows": _visible(),
            "focus": focus.objectName() if focus is not None else None,
            "button_enabled": button.isEnabled() if button is not None else None,
            "sqlalchemy_loaded": "sqlalchemy" in sys.modules,
        }
    )
    for text in (staff, pin):
        target = starting.focusWidget()
        assert target is not None, "nothing takes the keys"
        QTest.keyClicks(target, text)
        QTest.keyClick(target, Qt.Key.Key_Return)

    def opened() -> None:
        from ui.main_window import MainWindow

        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows or not windows[0].isVisible():
            QTimer.singleShot(10, lambda: _or_exit(opened))
            return
        window = windows[0]
        _report(
            {
                "windows": _visible(),
                "staff": window.staff.staff_no if window.staff is not None else None,
                "error": window.signin.error.text() if window.staff is None else "",
            }
        )
        window.close()

    QTimer.singleShot(0, lambda: _or_exit(opened))


def refuse(term: bool) -> None:
    from ui.connection import ConnectionDialog

    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, ConnectionDialog)]
    if not dialogs or not dialogs[0].isVisible():
        QTimer.singleShot(10, lambda: _or_exit(lambda: refuse(term)))
        return
    _report({"windows": _visible(), "error": dialogs[0].error.text()})
    if term:
        os.kill(os.getpid(), signal.SIGTERM)
    else:
        dialogs[0].done(QDialog.DialogCode.Rejected)


def _or_exit(step: Callable[[], None]) -> None:
    """A failed check ends the process (exit 3) instead of leaving the window waiting."""
    try:
        step()
    except BaseException:
        traceback.print_exc()
        os._exit(3)


def main() -> None:
    mode, url = sys.argv[1], sys.argv[2]
    ensure_application()
    if mode == "type":
        step: Callable[[], None] = lambda: type_ahead(sys.argv[3], sys.argv[4])  # noqa: E731
    else:
        step = lambda: refuse(term=mode == "term")  # noqa: E731
    QTimer.singleShot(0, lambda: _or_exit(step))
    code = run_app(url, "en")
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
