"""The real app (``ui.app.run_app``) driven from inside, for the crash-recovery tests.

``python -m tests.recovery_script crash URL STAFF STATION``: start the app, sign in by typing,
open the station, press F5 (call the next customer) there, then die as a binding bug would
(``os.abort``: no Python clean-up runs, the faulthandler writes its report).

``python -m tests.recovery_script resume URL PIN``: start the app again, report as JSON what
the window shows (the resume page and its words), type the PIN and Enter, report the station
and staff the window then shows, and quit normally.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ui.app import ensure_application, run_app
from ui.main_window import MainWindow


def _window() -> MainWindow:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            return widget
    raise AssertionError("no main window")


def crash(staff: str, station: str) -> None:
    window = _window()
    QTest.keyClicks(window.signin.staff_no, staff)
    QTest.keyClick(window.signin.staff_no, Qt.Key.Key_Return)
    QTest.keyClicks(window.signin.pin, "1234")
    QTest.keyClick(window.signin.pin, Qt.Key.Key_Return)
    for row in range(window.switcher.count()):
        if window.switcher.item(row).data(Qt.ItemDataRole.UserRole) == station:
            window.switcher.setCurrentRow(row)
    page = window.current_station()
    assert page is not None and page.station.value == station, page
    QTest.keyClick(page, Qt.Key.Key_F5)
    print(json.dumps({"station": page.station.value}), flush=True)
    os.abort()


def resume(pin: str) -> None:
    window = _window()
    page = window.stack.currentWidget()
    seen: dict[str, object] = {
        "page": page.objectName(),
        "text": window.lock_page.findChild(object, "lock_text").text()  # type: ignore[union-attr]
        if window.lock_page is not None
        else "",
    }
    if window.lock_page is not None:
        QTest.keyClicks(window.lock_page.pin, pin)
        QTest.keyClick(window.lock_page.pin, Qt.Key.Key_Return)
    station = window.current_station()
    seen["staff"] = window.staff.staff_no if window.staff else None
    seen["station"] = station.station.value if station else None
    seen["error"] = (
        window.lock_page.error.text() if window.staff is None and window.lock_page else ""
    )
    print(json.dumps(seen, ensure_ascii=False), flush=True)
    window.close()  # a normal exit: the next start has nothing to recover
    QApplication.quit()


def main() -> None:
    mode, url = sys.argv[1], sys.argv[2]
    ensure_application()
    if mode == "crash":
        QTimer.singleShot(0, lambda: crash(sys.argv[3], sys.argv[4]))
    else:
        QTimer.singleShot(0, lambda: resume(sys.argv[3]))
    code = run_app(url, "en")
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
